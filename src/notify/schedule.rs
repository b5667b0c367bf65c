//! The retry policy as data: the page's intervals (0s, 2m, 10m, 10m, 1h, 2h, 6h, 15h), compressed
//! by `notify.time_scale`, and pure functions for when each attempt is due.

use std::time::Duration;

/// The intervals the payment result notification page gives: before the 1st attempt, between
/// the 1st and 2nd, and so on.
pub const PAGE_INTERVALS: [&str; 8] = ["0s", "2m", "10m", "10m", "1h", "2h", "6h", "15h"];

/// When the attempts of one notification are due.
#[derive(Debug, Clone, PartialEq)]
pub struct Schedule {
    intervals: Vec<Duration>,
    time_scale: f64,
}

impl Schedule {
    /// A schedule of `intervals` (one per attempt), run `time_scale` times faster than real time.
    pub fn new(intervals: Vec<Duration>, time_scale: f64) -> Self {
        Self {
            intervals,
            time_scale,
        }
    }

    /// How many attempts a notification gets.
    pub fn attempts(&self) -> u32 {
        u32::try_from(self.intervals.len()).unwrap_or(u32::MAX)
    }

    /// The interval before attempt `number` (1-based), in schedule time.
    pub fn interval(&self, number: u32) -> Option<Duration> {
        let index = usize::try_from(number.checked_sub(1)?).ok()?;
        self.intervals.get(index).copied()
    }

    /// Attempt `number`'s offset from the final state, in schedule time: 0s, 2m, 12m, 22m, ...
    pub fn offset(&self, number: u32) -> Duration {
        (1..=number).filter_map(|n| self.interval(n)).sum()
    }

    /// A schedule-time duration in real milliseconds at this time scale.
    pub fn scaled_ms(&self, d: Duration) -> i64 {
        (d.as_secs_f64() * 1000.0 / self.time_scale).round() as i64
    }

    /// When the first attempt is due, for a payment that reached its final state at `now_ms`.
    pub fn first_due(&self, now_ms: i64) -> i64 {
        now_ms.saturating_add(self.interval(1).map_or(0, |d| self.scaled_ms(d)))
    }

    /// When the attempt after attempt `number` is due, anchored on when `number` was due (not
    /// when it ran), so the offsets stay exact; `None` when `number` was the last.
    pub fn next_due(&self, due_ms: i64, number: u32) -> Option<i64> {
        self.interval(number + 1)
            .map(|d| due_ms.saturating_add(self.scaled_ms(d)))
    }
}

/// A schedule interval that is no duration.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{text:?} is not a duration like 2m or 1h: {problem}")]
pub struct IntervalError {
    /// The text as given.
    pub text: String,
    /// Why it is no duration.
    pub problem: humantime::DurationError,
}

/// Parses an interval such as `0s`, `2m`, `1h`, `250ms`.
pub fn parse_interval(text: &str) -> Result<Duration, IntervalError> {
    if text.trim() == "0" {
        return Ok(Duration::ZERO);
    }
    humantime::parse_duration(text.trim()).map_err(|problem| IntervalError {
        text: text.to_owned(),
        problem,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn page(scale: f64) -> Schedule {
        Schedule::new(
            PAGE_INTERVALS
                .iter()
                .map(|t| parse_interval(t).unwrap())
                .collect(),
            scale,
        )
    }

    #[test]
    fn the_page_schedule_is_eight_attempts_within_about_a_day() {
        let s = page(1.0);
        assert_eq!(s.attempts(), 8);
        let minutes: Vec<u64> = (1..=8).map(|n| s.offset(n).as_secs() / 60).collect();
        assert_eq!(minutes, [0, 2, 12, 22, 82, 202, 562, 1462]);
    }

    #[test]
    fn next_due_is_anchored_on_the_previous_due_time_and_scaled() {
        let s = page(3600.0);
        // 2 minutes of schedule at an hour per second is 33 ms.
        assert_eq!(s.next_due(1_000, 1), Some(1_033));
        // 15 hours is 15 s.
        assert_eq!(s.next_due(0, 7), Some(15_000));
        assert_eq!(s.next_due(0, 8), None);
        assert_eq!(s.first_due(500), 500);
    }

    #[test]
    fn intervals_read_like_the_page() {
        assert_eq!(parse_interval("2m"), Ok(Duration::from_secs(120)));
        assert_eq!(parse_interval("0s"), Ok(Duration::ZERO));
        assert_eq!(parse_interval("250ms"), Ok(Duration::from_millis(250)));
        assert!(parse_interval("soon").is_err());
    }
}
