//! Where a server's CPU goes: `perf record` samples the server process (its own flat profile,
//! no call graphs, 999 Hz) during a closed-loop run at full load, and every sampled function is
//! put into one component by its name and its binary (aws-lc, the kernel, glibc's allocator,
//! hyper, tokio, tracing, ...). A component's share of the samples times the server's CPU per
//! request gives its microseconds per request, so the echo and the gateway can be compared
//! component by component. Inlined code counts where it was inlined, so the split is by the
//! function the CPU was in, which is close to, not exactly, what each crate costs.

use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::thread::JoinHandle;
use std::time::Duration;

/// The components, in table order: (name, what it covers).
pub const COMPONENTS: [(&str, &str); 16] = [
    (
        "RSA and SHA-256 (aws-lc)",
        "verifying the request's signature; signing the answer when on",
    ),
    (
        "kernel",
        "TCP send and receive, waking the peer, epoll, other system calls",
    ),
    (
        "allocator (mimalloc; glibc)",
        "malloc, free, realloc and their bookkeeping",
    ),
    ("memory copies (libc)", "memcpy, memmove, memcmp, memset"),
    (
        "HTTP (hyper, httparse, http)",
        "parsing and writing HTTP/1.1",
    ),
    (
        "runtime (tokio, mio)",
        "scheduling tasks, timers, IO readiness",
    ),
    (
        "routing and middleware (axum, tower)",
        "the router and the layers' glue",
    ),
    ("JSON (serde_json)", "parsing bodies, writing answers"),
    (
        "logging (tracing)",
        "the request span and its fields, log lines",
    ),
    ("metrics", "the Prometheus counters and histograms"),
    ("SQLite and sqlx", "the SQL store's statements and its pool"),
    ("journal", "the request journal's entries"),
    (
        "the gateway's own code",
        "admission, field rules, the memory store, scenario, seal",
    ),
    (
        "formatting, hashing, encoding",
        "core::fmt, hash maps, base64, percent-decoding",
    ),
    ("other libc", "the rest of glibc"),
    ("other", "anything unattributed"),
];

/// The component a sampled function belongs to.
fn component(dso: &str, symbol: &str) -> usize {
    let has = |needles: &[&str]| needles.iter().any(|n| symbol.contains(n));
    let libc = dso.starts_with("libc") || dso.starts_with("ld-linux");
    if dso.contains("kernel") || dso == "[vdso]" {
        1
    } else if symbol.starts_with("aws_lc") || symbol.starts_with("bn_") || has(&["aws_lc_rs"]) {
        0
    } else if symbol.starts_with("mi_")
        || symbol.starts_with("_mi_")
        || libc
            && has(&[
                "malloc",
                "free",
                "realloc",
                "_int_",
                "calloc",
                "unlink_chunk",
                "tcache",
                "arena",
            ])
    {
        2
    } else if libc && has(&["memcpy", "memmove", "memcmp", "memset", "memchr", "strlen"]) {
        3
    } else if libc {
        14
    } else if has(&["sqlite3", "sqlx"]) {
        10
    } else if has(&["journal::"]) {
        11
    } else if has(&["serde_json"]) {
        7
    } else if has(&["tracing", "nu_ansi_term", "sharded_slab"]) {
        8
    } else if has(&["metrics"]) {
        9
    } else if has(&["hyper", "httparse", "http::", "http_body"]) {
        4
    } else if has(&["tokio", "mio::"]) {
        5
    } else if has(&["axum", "tower"]) {
        6
    } else if has(&["alipay_gateway"]) {
        12
    } else if has(&[
        "core::fmt",
        "alloc::fmt",
        "hashbrown",
        "base64",
        "percent_encoding",
    ]) {
        13
    } else {
        15
    }
}

/// Whether profiles can be taken here: `perf` is installed and may sample a child process.
pub fn available() -> Result<(), String> {
    let ok = Command::new("perf")
        .args(["record", "-q", "-o", "/dev/null", "--", "true"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    ok.then_some(()).ok_or_else(|| {
        "perf is not installed or may not sample here (Debian: linux-perf; \
         kernel.perf_event_paranoid)"
            .to_owned()
    })
}

/// A `perf record` of a process that starts after the warm-up and runs for the measured window.
pub struct Recording {
    handle: JoinHandle<Result<(), String>>,
    file: PathBuf,
    _dir: tempfile::TempDir,
}

impl Recording {
    /// Samples process `pid` from `after` on, for `seconds`.
    pub fn start(pid: u32, after: Duration, seconds: Duration) -> Result<Self, String> {
        let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
        let file = dir.path().join("perf.data");
        let out = file.clone();
        let handle = std::thread::spawn(move || {
            std::thread::sleep(after);
            let status = Command::new("perf")
                .args(["record", "-q", "-F", "999", "-p", &pid.to_string(), "-o"])
                .arg(&out)
                .args(["--", "sleep", &format!("{:.3}", seconds.as_secs_f64())])
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status()
                .map_err(|e| format!("perf record: {e}"))?;
            status
                .success()
                .then_some(())
                .ok_or_else(|| format!("perf record failed: {status}"))
        });
        Ok(Self {
            handle,
            file,
            _dir: dir,
        })
    }

    /// Waits for the recording and reads it: (dso, symbol, samples) per sampled function.
    pub fn finish(self) -> Result<Vec<(String, String, f64)>, String> {
        self.handle
            .join()
            .map_err(|_| "the perf thread panicked".to_owned())??;
        let out = Command::new("perf")
            .args([
                "report",
                "--stdio",
                "-q",
                "-g",
                "none",
                "--no-children",
                "--percent-limit",
                "0",
                "--sort",
                "dso,sym",
                "-F",
                "sample,dso,sym",
                "-i",
            ])
            .arg(&self.file)
            .stderr(Stdio::null())
            .output()
            .map_err(|e| format!("perf report: {e}"))?;
        let text = String::from_utf8_lossy(&out.stdout);
        let rows: Vec<(String, String, f64)> = text.lines().filter_map(parse_line).collect();
        if rows.is_empty() {
            return Err("perf recorded no samples".into());
        }
        Ok(rows)
    }
}

/// `   1234  alipay-gateway  [.] symbol` into (dso, symbol, samples).
fn parse_line(line: &str) -> Option<(String, String, f64)> {
    let mut words = line.split_whitespace();
    let samples: f64 = words.next()?.parse().ok()?;
    let dso = words.next()?.to_owned();
    let kind = words.next()?;
    if !(kind.starts_with('[') && kind.ends_with(']')) {
        return None;
    }
    let symbol = words.collect::<Vec<_>>().join(" ");
    Some((dso, symbol, samples))
}

/// One profiled scenario.
pub struct Profile {
    /// The scenario's label.
    pub label: String,
    /// Its throughput while profiled (perf's own sampling costs a little).
    pub rate: f64,
    /// Samples taken.
    pub samples: u64,
    /// Each component's share of the samples, in [`COMPONENTS`] order.
    pub shares: [f64; COMPONENTS.len()],
    /// The heaviest functions: (share, dso, symbol).
    pub top: Vec<(f64, String, String)>,
    /// The server's CPU per answered request while profiled, microseconds.
    pub server_cpu_us: Option<f64>,
}

impl Profile {
    /// The profile of `label` from its samples.
    pub fn new(
        label: String,
        rate: f64,
        server_cpu_us: Option<f64>,
        rows: Vec<(String, String, f64)>,
    ) -> Self {
        let total: f64 = rows.iter().map(|r| r.2).sum();
        let mut shares = [0.0; COMPONENTS.len()];
        for (dso, symbol, n) in &rows {
            shares[component(dso, symbol)] += n / total.max(1.0);
        }
        let mut top: Vec<(f64, String, String)> = rows
            .iter()
            .map(|(dso, symbol, n)| (n / total.max(1.0), dso.clone(), symbol.clone()))
            .collect();
        top.sort_by(|a, b| b.0.total_cmp(&a.0));
        top.truncate(8);
        Self {
            label,
            rate,
            samples: total as u64,
            shares,
            top,
            server_cpu_us,
        }
    }

    /// A component's microseconds of server CPU per request.
    pub fn us(&self, component: usize) -> Option<f64> {
        self.server_cpu_us.map(|cpu| cpu * self.shares[component])
    }
}
