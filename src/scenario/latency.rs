//! Latencies: fixed, uniform, or log-normal (a long tail, as real services have), drawn from a
//! seeded source so a run repeats.

use std::time::Duration;

use rand::Rng;
use rand_distr::{Distribution, LogNormal};
use serde::{Deserialize, Serialize};

/// How long to wait before answering.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum Latency {
    /// Always this many milliseconds.
    FixedMs(u64),
    /// Uniformly between the two bounds, in milliseconds.
    UniformMs([u64; 2]),
    /// Log-normal with this median (ms) and shape `sigma`.
    LogNormal {
        /// The median, in milliseconds.
        median_ms: u64,
        /// The spread of the logarithm; 0.5 gives a moderate tail.
        sigma: f64,
    },
}

/// The longest latency a scenario may ask for: past the real service's 5 s and 8 s timeouts,
/// with room.
pub const MAX_MS: u64 = 120_000;

/// A latency out of bounds; the text names the form and its bounds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum LatencyError {
    /// `fixed_ms` past [`MAX_MS`].
    #[error("fixed_ms: at most {MAX_MS}")]
    Fixed,
    /// `uniform_ms` reversed or past [`MAX_MS`].
    #[error("uniform_ms: [low, high] with low <= high <= {MAX_MS}")]
    Uniform,
    /// `log_normal` with a median or sigma out of bounds.
    #[error("log_normal: median_ms 1..{MAX_MS}, sigma 0..3")]
    LogNormal,
}

impl Latency {
    /// Checks the bounds.
    pub fn check(&self) -> Result<(), LatencyError> {
        match self {
            Latency::FixedMs(ms) if *ms > MAX_MS => Err(LatencyError::Fixed),
            Latency::UniformMs([lo, hi]) if lo > hi || *hi > MAX_MS => Err(LatencyError::Uniform),
            Latency::LogNormal { median_ms, sigma }
                if *median_ms == 0 || *median_ms > MAX_MS || !(0.0..=3.0).contains(sigma) =>
            {
                Err(LatencyError::LogNormal)
            }
            _ => Ok(()),
        }
    }

    /// Draws one latency.
    pub fn sample<R: Rng>(&self, rng: &mut R) -> Duration {
        let ms = match self {
            Latency::FixedMs(ms) => *ms,
            Latency::UniformMs([lo, hi]) => rng.random_range(*lo..=*hi),
            Latency::LogNormal { median_ms, sigma } => {
                let mu = (*median_ms as f64).ln();
                LogNormal::new(mu, *sigma)
                    .map(|d| d.sample(rng).round() as u64)
                    .unwrap_or(*median_ms)
                    .min(MAX_MS)
            }
        };
        Duration::from_millis(ms)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;
    use rand::rngs::StdRng;

    #[test]
    fn the_same_seed_draws_the_same_latencies() {
        let l = Latency::LogNormal {
            median_ms: 200,
            sigma: 0.5,
        };
        let draw = |seed| {
            let mut rng = StdRng::seed_from_u64(seed);
            (0..5).map(|_| l.sample(&mut rng)).collect::<Vec<_>>()
        };
        assert_eq!(draw(7), draw(7));
        assert_ne!(draw(7), draw(8));
    }

    #[test]
    fn uniform_latencies_stay_in_bounds_and_log_normal_centres_on_its_median() {
        let mut rng = StdRng::seed_from_u64(1);
        let u = Latency::UniformMs([100, 200]);
        assert!(
            (0..200)
                .map(|_| u.sample(&mut rng))
                .all(|d| (100..=200).contains(&(d.as_millis() as u64)))
        );
        let l = Latency::LogNormal {
            median_ms: 200,
            sigma: 0.5,
        };
        let mut draws: Vec<_> = (0..2001).map(|_| l.sample(&mut rng).as_millis()).collect();
        draws.sort_unstable();
        assert!((170..=230).contains(&draws[1000]), "median {}", draws[1000]);
    }
}
