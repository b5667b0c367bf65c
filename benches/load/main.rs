//! Load benchmark of the gateway: one command, `cargo bench --bench load`, measures in one run,
//! once with the driver and the server sharing every core (unpinned) and once with the server on
//! a core of its own and the driver on another (pinned),
//!
//! 1. the ceiling: RSA-2048 PKCS#1 v1.5 SHA-256 signs per second with aws-lc-rs (the gateway's
//!    own `signature::sign`) on as many threads as the server has cores;
//! 2. the baseline: a bare axum JSON echo built into this binary, served the way the gateway
//!    serves, in a child process of its own;
//! 3. the real `alipay-gateway` binary (release build, a child process started with
//!    `serve --config <temp config>`), driven with pre-signed requests for sendPaymentResult,
//!    notifyPushPayment and inquiryPayment, on SQLite and the memory store, response signing on
//!    and off (`GATEWAY_SIGNING__SIGN_RESPONSES=false`);
//! 4. peers: WireMock and Prism serving the same inquiryPayment call (`peers.rs`), when their
//!    npm packages can be installed;
//! 5. throughput (closed loop), p50/p99 latency at half the measured maximum (open loop), peak
//!    RSS (`VmHWM`), RSS over a longer run, start-up time to ready, and inline against
//!    blocking-pool signing (on the echo, which needs no change in src/);
//! 6. where the server's CPU goes: a `perf` profile of the echo and of the gateway per
//!    request, by component (`profile.rs`), when `perf` is installed;
//!
//! and regenerates BENCHMARKS.md (its words: `BENCHMARKS.md.template`). Knobs (environment): see
//! [`Opts`]. Traffic goes to 127.0.0.1 only; every loop is bounded in time and count; every
//! answer is checked. `cargo test --bench load` measures nothing: it renders the report from
//! synthetic results and checks that the template and `report.rs` agree.

mod driver;
mod echo;
mod peers;
mod profile;
mod report;
mod servers;
mod workload;

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use alipay_gateway::signature::{self, Message, SignatureHeader, SigningKey, VerifyingKey};

use driver::{Check, Errors, Feed, Lane, Open};
use servers::{Peer, Placement, Server, StoreKind, Target};
use workload::{Api, Pools};

/// The knobs, from the environment.
#[derive(Debug, Clone)]
pub struct Opts {
    /// `LOAD_SECONDS` (3): measured seconds of each closed-loop and open-loop run.
    pub seconds: f64,
    /// `LOAD_WARMUP_SECONDS` (1): warm-up before each run, on the same connections.
    pub warmup: f64,
    /// `LOAD_ROUNDS` (3): closed-loop rounds per scenario, interleaved; medians reported.
    pub rounds: usize,
    /// `LOAD_CONNECTIONS` (64): keep-alive connections of the driver.
    pub conns: usize,
    /// `LOAD_SOAK_SECONDS` (10): the RSS run's length (BENCHMARKS.md's reference run uses 60).
    pub soak: f64,
    /// `LOAD_CEILING_SECONDS` (2): each round's sign-ceiling measurement.
    pub ceiling_seconds: f64,
    /// `LOAD_DRIVER_THREADS` (2): the driver's runtime workers.
    pub driver_threads: usize,
    /// `LOAD_MAX_POOL` (150000): most pre-signed requests per write API (the count bound).
    pub max_pool: usize,
    /// `LOAD_SEED` (1000): payments written before inquiryPayment runs, then read in turn.
    pub seed: usize,
    /// `LOAD_PLACEMENT` (`both`; `pinned`, `unpinned`): unpinned, driver and server share
    /// every core; pinned, the driver on CPU 0, the server (and the ceiling) on the others.
    /// Pinned needs two cores.
    pub placements: Vec<Placement>,
    /// `LOAD_ONLY`: comma-separated substrings; only matching scenarios run (a partial run).
    pub only: Option<Vec<String>>,
    /// The machine's cores (read before the driver pins itself).
    pub cores: usize,
    /// `LOAD_REPORT` (BENCHMARKS.md in the crate; `-` to skip writing).
    pub report: Option<PathBuf>,
    /// `LOAD_GATEWAY_ENV`: space-separated `GATEWAY_X=v` settings for the gateway, for
    /// diagnosis (e.g. `GATEWAY_NOTIFY__ENABLED=false`); the report says so. The bench waits for
    /// the `listening` log line, so `GATEWAY_LOG` must keep `info`.
    pub gateway_env: Vec<(String, String)>,
    /// `LOAD_NAMESPACE` (`0`; `1`): the bench's client is registered at run time in a namespace
    /// instead of in the config file, so every gateway request takes the namespaced path.
    pub namespace: bool,
}

fn env_f64(name: &str, default: f64) -> f64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .filter(|v: &f64| v.is_finite() && *v >= 0.0)
        .unwrap_or(default)
}

fn env_usize(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

impl Opts {
    fn from_env() -> Self {
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        let placements = match std::env::var("LOAD_PLACEMENT").as_deref() {
            _ if cores < 2 => vec![Placement::Unpinned],
            Ok("pinned") => vec![Placement::Pinned],
            Ok("unpinned") => vec![Placement::Unpinned],
            _ => vec![Placement::Unpinned, Placement::Pinned],
        };
        let report = match std::env::var("LOAD_REPORT") {
            Ok(v) if v == "-" => None,
            Ok(v) if !v.is_empty() => Some(PathBuf::from(v)),
            _ => Some(PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("BENCHMARKS.md")),
        };
        Self {
            seconds: env_f64("LOAD_SECONDS", 3.0).max(0.2),
            warmup: env_f64("LOAD_WARMUP_SECONDS", 1.0),
            rounds: env_usize("LOAD_ROUNDS", 3).max(1),
            conns: env_usize("LOAD_CONNECTIONS", 64).max(1),
            soak: env_f64("LOAD_SOAK_SECONDS", 10.0),
            ceiling_seconds: env_f64("LOAD_CEILING_SECONDS", 2.0).max(0.2),
            driver_threads: env_usize("LOAD_DRIVER_THREADS", 2).max(1),
            max_pool: env_usize("LOAD_MAX_POOL", 150_000).max(1000),
            seed: env_usize("LOAD_SEED", 1000).max(1),
            placements,
            only: std::env::var("LOAD_ONLY")
                .ok()
                .filter(|v| !v.is_empty())
                .map(|v| v.split(',').map(|s| s.trim().to_owned()).collect()),
            report,
            cores,
            namespace: std::env::var("LOAD_NAMESPACE").is_ok_and(|v| v == "1"),
            gateway_env: std::env::var("LOAD_GATEWAY_ENV")
                .unwrap_or_default()
                .split_whitespace()
                .filter_map(|kv| kv.split_once('='))
                .map(|(k, v)| (k.to_owned(), v.to_owned()))
                .collect(),
        }
    }

    fn warmup(&self) -> Duration {
        Duration::from_secs_f64(self.warmup)
    }

    fn measure(&self) -> Duration {
        Duration::from_secs_f64(self.seconds)
    }

    /// Warm-up before a scenario's runs: a JVM or Node.js peer gets at least 15 s to compile its
    /// hot paths.
    fn warmup_for(&self, target: Target) -> Duration {
        match target {
            Target::Peer(_) => Duration::from_secs_f64(self.warmup.max(15.0)),
            _ => self.warmup(),
        }
    }
}

/// One thing measured: a server and, for the gateway, an API, in one placement.
pub struct Scenario {
    /// What runs.
    pub target: Target,
    /// Where it runs relative to the driver.
    pub placement: Placement,
    /// The API driven (the echo answers any path: it gets notifyPushPayment's requests).
    pub api: Api,
    /// Closed-loop throughput per round.
    pub rates: Vec<f64>,
    /// Rounds that ended on their count bound (ran out of pre-signed requests) early.
    pub exhausted: usize,
    /// The shortest measured window, seconds.
    pub shortest_window: f64,
    /// Every failed request of every run.
    pub errors: Errors,
    /// Peak RSS over the closed-loop runs, KiB.
    pub hwm_kib: u64,
    /// Peak RSS of the open-loop run, KiB.
    pub open_hwm_kib: u64,
    /// Spawn to listening, spawn to ready, per start.
    pub startups: Vec<(Duration, Duration)>,
    /// Server CPU per answered request, microseconds, per round.
    pub server_cpu_us: Vec<f64>,
    /// Driver CPU per answered request, microseconds, per round.
    pub driver_cpu_us: Vec<f64>,
    /// The open-loop run at half the maximum.
    pub open: Option<Open>,
    /// Response signatures verified with the gateway's public key.
    pub verified: usize,
}

impl Scenario {
    fn new(target: Target, api: Api, placement: Placement) -> Self {
        Self {
            target,
            placement,
            api,
            rates: Vec::new(),
            exhausted: 0,
            shortest_window: f64::INFINITY,
            errors: Errors::default(),
            hwm_kib: 0,
            open_hwm_kib: 0,
            startups: Vec::new(),
            server_cpu_us: Vec::new(),
            driver_cpu_us: Vec::new(),
            open: None,
            verified: 0,
        }
    }

    /// `gateway sqlite sign=on notifyPushPayment @pinned`, `echo @unpinned`, ...
    pub fn label(&self) -> String {
        format!("{} @{}", self.what(), self.placement.name())
    }

    /// The label without the placement.
    pub fn what(&self) -> String {
        match self.target {
            Target::Echo(mode) => mode.to_owned(),
            Target::Gateway { store, signing } => format!(
                "gateway {} sign={} {}",
                store.name(),
                if signing { "on" } else { "off" },
                self.api.name()
            ),
            Target::Peer(peer) => format!("{} {}", peer.name(), self.api.name()),
        }
    }

    /// Whether the server signs its answers.
    pub fn signs(&self) -> bool {
        match self.target {
            Target::Echo(mode) => mode != "echo",
            Target::Gateway { signing, .. } => signing,
            Target::Peer(_) => false,
        }
    }

    /// The median closed-loop throughput.
    pub fn rate(&self) -> Option<f64> {
        median(&self.rates)
    }
}

/// The median of a list (the mean of the middle two for an even count).
pub fn median(values: &[f64]) -> Option<f64> {
    if values.is_empty() {
        return None;
    }
    let mut v = values.to_vec();
    v.sort_by(f64::total_cmp);
    let n = v.len();
    Some(if n % 2 == 1 {
        v[n / 2]
    } else {
        f64::midpoint(v[n / 2 - 1], v[n / 2])
    })
}

/// The RSS run of one store.
pub struct Soak {
    /// The store.
    pub store: StoreKind,
    /// Seconds measured.
    pub seconds: f64,
    /// Closed-loop throughput of the mixed load.
    pub rate: f64,
    /// (seconds since start, VmRSS KiB), once a second.
    pub rss: Vec<(f64, u64)>,
    /// VmHWM at the end, KiB.
    pub hwm_kib: u64,
    /// Failed requests.
    pub errors: Errors,
    /// Whether the run stopped on its count bound.
    pub exhausted: bool,
}

/// The sign ceiling of one placement: the server's cores signing and nothing else.
pub struct Ceiling {
    /// The placement whose server cores signed.
    pub placement: Placement,
    /// Threads signing (one per server core).
    pub threads: usize,
    /// Signs/s per round.
    pub rates: Vec<f64>,
    /// CPU time of one sign per round, microseconds.
    pub sign_cpu_us: Vec<f64>,
}

/// The whole run's results.
pub struct Results {
    /// The knobs.
    pub opts: Opts,
    /// The sign ceiling of each placement.
    pub ceilings: Vec<Ceiling>,
    /// CPU time of one signature verification per round, microseconds.
    pub verify_cpu_us: Vec<f64>,
    /// Every scenario.
    pub scenarios: Vec<Scenario>,
    /// Peers that could not run, and why.
    pub peers_missing: Vec<(Peer, String)>,
    /// Where the server's CPU went, per profiled scenario.
    pub profiles: Vec<profile::Profile>,
    /// Why no profile was taken, when none was.
    pub profile_skipped: Option<String>,
    /// The RSS runs.
    pub soaks: Vec<Soak>,
    /// Requests pre-signed, and the time it took.
    pub presigned: (usize, Duration),
    /// The whole run's wall time.
    pub wall: Duration,
    /// /proc/loadavg at the start and at the end.
    pub loadavg: (String, String),
}

fn loadavg() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|s| s.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_default()
}

/// Pins every thread of this process to `cpus` (`taskset -a -p`).
fn pin_process(cpus: &str) -> Result<(), String> {
    let pid = std::process::id().to_string();
    let ok = std::process::Command::new("taskset")
        .args(["-a", "-p", "-c", cpus, &pid])
        .stdout(std::process::Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    ok.then_some(())
        .ok_or_else(|| format!("taskset -a -p -c {cpus} {pid} failed"))
}

/// Pins the calling thread to `cpus` (`taskset -p`; the thread id from /proc/thread-self).
fn pin_this_thread(cpus: &str) -> Result<(), String> {
    let link = std::fs::read_link("/proc/thread-self").map_err(|e| e.to_string())?;
    let tid = link
        .file_name()
        .and_then(|n| n.to_str())
        .ok_or("no thread id")?
        .to_owned();
    let status = std::process::Command::new("taskset")
        .args(["-p", "-c", cpus, &tid])
        .stdout(std::process::Stdio::null())
        .status()
        .map_err(|e| format!("taskset: {e}"))?;
    status
        .success()
        .then_some(())
        .ok_or_else(|| format!("taskset -p -c {cpus} {tid} failed"))
}

fn gateway_key() -> SigningKey {
    let path = servers::keys_dir().join("TEST-ONLY-gateway-private.pem");
    SigningKey::from_text(&std::fs::read_to_string(path).expect("the gateway test key"))
        .expect("a usable key")
}

/// RSA-2048 signs per second on `threads` threads, with the gateway's own `sign` (SHA-256 of
/// the content, PKCS#1 v1.5, base64) over a typical response; and the CPU time of one sign
/// (each thread's own CPU time / its signs: unlike the rate, other work on the machine does not
/// inflate it).
fn ceiling(threads: usize, seconds: f64, cpus: Option<&str>) -> (f64, Option<f64>) {
    let key = gateway_key();
    let body =
        br#"{"result":{"resultCode":"SUCCESS","resultMessage":"success","resultStatus":"S"}}"#;
    let message = Message::post(
        Api::NotifyPushPayment.path(),
        servers::CLIENT_ID,
        "2026-11-22T10:00:00.000+00:00",
        body,
    );
    let started = Instant::now();
    let deadline = started + Duration::from_secs_f64(seconds);
    let per_thread: Vec<(u64, Option<Duration>)> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..threads)
            .map(|_| {
                let (key, message) = (&key, &message);
                s.spawn(move || {
                    if let Some(cpus) = cpus {
                        let _ = pin_this_thread(cpus);
                    }
                    let cpu = servers::cpu_time("/proc/thread-self/stat");
                    let mut n = 0u64;
                    while Instant::now() < deadline {
                        std::hint::black_box(signature::sign(key, std::hint::black_box(message)))
                            .expect("sign");
                        n += 1;
                    }
                    let cpu = cpu
                        .zip(servers::cpu_time("/proc/thread-self/stat"))
                        .map(|(a, b)| b.saturating_sub(a));
                    (n, cpu)
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().unwrap_or((0, None)))
            .collect()
    });
    let signs: u64 = per_thread.iter().map(|t| t.0).sum();
    let cpu: Option<Duration> = per_thread.iter().map(|t| t.1).sum();
    let rate = signs as f64 / started.elapsed().as_secs_f64();
    let cpu_us = cpu
        .filter(|_| signs > 0)
        .map(|c| c.as_secs_f64() * 1e6 / signs as f64);
    (rate, cpu_us)
}

/// CPU microseconds of one verification of a request signature, as the gateway verifies each
/// request (the gateway's `signature::verify`, header decoding included), on one thread for
/// `seconds`.
fn verify_cost(seconds: f64, cpus: Option<&str>) -> Option<f64> {
    let body = br#"{"paymentRequestId":"pr-1","paymentId":"p-1"}"#;
    let path = Api::InquiryPayment.path();
    let time = "2026-11-22T10:00:00.000+00:00";
    let message = Message::post(path, servers::CLIENT_ID, time, body);
    let signing = gateway_key();
    let signed = signature::sign(&signing, &message).ok()?;
    let key = signing.verifying_key().ok()?;
    std::thread::scope(|s| {
        s.spawn(|| {
            if let Some(cpus) = cpus {
                let _ = pin_this_thread(cpus);
            }
            let deadline = Instant::now() + Duration::from_secs_f64(seconds);
            let cpu = servers::cpu_time("/proc/thread-self/stat")?;
            let mut n = 0u64;
            while Instant::now() < deadline {
                signature::verify(&key, "1", std::hint::black_box(&message), &signed).ok()?;
                n += 1;
            }
            let spent = servers::cpu_time("/proc/thread-self/stat")?.saturating_sub(cpu);
            (n > 0).then(|| spent.as_secs_f64() * 1e6 / n as f64)
        })
        .join()
        .ok()
        .flatten()
    })
}

/// Checks a response's signature with the gateway's public key, as a client would.
fn verify_response(raw: &[u8], path: &str, key: &VerifyingKey) -> Result<(), String> {
    let text = String::from_utf8_lossy(raw);
    let (head, body) = text.split_once("\r\n\r\n").ok_or("no header end")?;
    let header = |name: &str| {
        head.lines().find_map(|l| {
            let (n, v) = l.split_once(':')?;
            n.trim()
                .eq_ignore_ascii_case(name)
                .then(|| v.trim().to_owned())
        })
    };
    let client = header("client-id").ok_or("no client-id")?;
    let time = header("response-time").ok_or("no response-time")?;
    let value = header("signature").ok_or("no signature")?;
    let parsed = SignatureHeader::parse(&value).map_err(|e| e.to_string())?;
    let message = Message::post(path, &client, &time, body.as_bytes());
    signature::verify(key, "1", &message, &parsed.signature).map_err(|e| e.to_string())
}

struct Bench {
    opts: Opts,
    /// The driver's runtime per placement: as many workers as the driver has cores
    /// (`LOAD_DRIVER_THREADS` unpinned, one pinned: two workers time-sliced on one core would
    /// add their own milliseconds to every latency).
    runtimes: Vec<(Placement, tokio::runtime::Runtime)>,
    pools: Pools,
    verifying: VerifyingKey,
    ceiling: f64,
    /// Where the driver is pinned now.
    driver: Option<Placement>,
}

impl Bench {
    /// The feed of a scenario with room for `count` requests, and the seeding feed (inquiry).
    fn feeds(&mut self, sc: &Scenario, count: usize) -> (Arc<Feed>, Option<Arc<Feed>>) {
        let count = count.min(self.opts.max_pool);
        let signed = sc.signs();
        match (sc.target, sc.api) {
            (Target::Peer(_), _) => {
                let pool = self.pools.ensure(Api::InquiryPayment, self.opts.seed);
                (Arc::new(Feed::one(pool, true, Check::Stub)), None)
            }
            (Target::Echo(_), _) => {
                let pool = self.pools.ensure(Api::NotifyPushPayment, 1000);
                (
                    Arc::new(Feed::one(pool, true, Check::Echo { signed })),
                    None,
                )
            }
            (Target::Gateway { .. }, Api::InquiryPayment) => {
                let seed = self.opts.seed;
                let reads = self.pools.ensure(Api::InquiryPayment, seed);
                let writes = self.pools.ensure(Api::NotifyPushPayment, seed);
                (
                    Arc::new(Feed::one(
                        reads,
                        true,
                        Check::Gateway {
                            inquiry: true,
                            signed,
                        },
                    )),
                    Some(Arc::new(Feed::one(
                        writes,
                        false,
                        Check::Gateway {
                            inquiry: false,
                            signed,
                        },
                    ))),
                )
            }
            (Target::Gateway { .. }, api) => {
                let pool = self.pools.ensure(api, count);
                (
                    Arc::new(Feed::one(
                        pool,
                        false,
                        Check::Gateway {
                            inquiry: false,
                            signed,
                        },
                    )),
                    None,
                )
            }
        }
    }

    /// The runtime of the placement the driver is in now.
    fn rt(&self) -> &tokio::runtime::Runtime {
        let placement = self.driver.unwrap_or(Placement::Unpinned);
        self.runtimes
            .iter()
            .find(|(p, _)| *p == placement)
            .map_or(&self.runtimes[0].1, |(_, rt)| rt)
    }

    /// Pins the driver for `placement` (every thread of this process), when it moves.
    fn place_driver(&mut self, placement: Placement) -> Result<(), String> {
        if self.driver != Some(placement) {
            pin_process(&placement.driver_cpus(self.opts.cores))?;
            self.driver = Some(placement);
        }
        Ok(())
    }

    fn start(&mut self, sc: &mut Scenario, seed: Option<&Arc<Feed>>) -> Result<Server, String> {
        self.place_driver(sc.placement)?;
        let cpus = sc.placement.server_cpus(self.opts.cores);
        let server = Server::start(
            sc.target,
            cpus.as_deref(),
            &self.opts.gateway_env,
            self.opts.namespace,
        )?;
        sc.startups.push((server.to_listening, server.to_ready));
        if let Some(seed) = seed {
            self.rt()
                .block_on(driver::send_all(server.addr, seed.clone(), self.opts.seed))?;
        }
        Ok(server)
    }

    fn check_sample(&self, sc: &mut Scenario, sample: Option<&Vec<u8>>) {
        if !sc.signs() {
            return;
        }
        let path = match sc.target {
            Target::Echo(_) => Api::NotifyPushPayment.path(),
            Target::Gateway { .. } | Target::Peer(_) => sc.api.path(),
        };
        match sample.map(|raw| verify_response(raw, path, &self.verifying)) {
            Some(Ok(())) => sc.verified += 1,
            Some(Err(e)) => {
                sc.errors.count += 1;
                sc.errors
                    .samples
                    .push(format!("response signature does not verify: {e}"));
            }
            None => {}
        }
    }

    /// A first guess of a scenario's throughput, to size its pre-signed requests.
    fn guess(&self, sc: &Scenario) -> f64 {
        sc.rates
            .iter()
            .copied()
            .fold(None, |m: Option<f64>, r| Some(m.map_or(r, |m| m.max(r))))
            .unwrap_or(if sc.signs() {
                self.ceiling
            } else {
                self.ceiling * 5.0
            })
    }

    fn closed_round(&mut self, sc: &mut Scenario) -> Result<(), String> {
        let warmup = self.opts.warmup_for(sc.target);
        let seconds = warmup.as_secs_f64() + self.opts.seconds;
        let need = (self.guess(sc) * 1.3 * seconds) as usize + self.opts.conns;
        let (feed, seed) = self.feeds(sc, need);
        let server = self.start(sc, seed.as_ref())?;
        let server_cpu = server.cpu();
        let driver_cpu = servers::cpu_time("/proc/self/stat");
        let run = self.rt().block_on(driver::closed(
            server.addr,
            feed,
            self.opts.conns,
            warmup,
            self.opts.measure(),
        ))?;
        if let (Some(before), Some(after), true) = (server_cpu, server.cpu(), run.total > 0) {
            sc.server_cpu_us
                .push((after - before).as_secs_f64() * 1e6 / run.total as f64);
        }
        if let (Some(before), Some(after), true) = (
            driver_cpu,
            servers::cpu_time("/proc/self/stat"),
            run.total > 0,
        ) {
            sc.driver_cpu_us
                .push((after - before).as_secs_f64() * 1e6 / run.total as f64);
        }
        sc.hwm_kib = sc.hwm_kib.max(server.status_kib("VmHWM").unwrap_or(0));
        server.stop();
        self.check_sample(sc, run.sample.as_ref());
        sc.shortest_window = sc.shortest_window.min(run.window);
        sc.exhausted += usize::from(run.exhausted);
        let errors = run.errors.count;
        let samples = run.errors.samples.clone();
        sc.errors.count += errors;
        sc.errors.samples.extend(samples);
        sc.errors.samples.truncate(5);
        if run.window > 0.0 && run.ok > 0 {
            sc.rates.push(run.rate);
        }
        println!(
            "  {:<54} {:>9.0} req/s  ({} in {:.2} s){}  errors {errors}",
            sc.label(),
            run.rate,
            run.ok,
            run.window,
            if run.exhausted { " (count bound)" } else { "" },
        );
        if let Some(first) = run.errors.samples.first() {
            println!("    first failure: {first}");
        }
        Ok(())
    }

    fn open_run(&mut self, sc: &mut Scenario) -> Result<(), String> {
        let Some(max) = sc.rate().filter(|r| *r > 0.0) else {
            println!("  {:<54} skipped: no throughput to halve", sc.label());
            return Ok(());
        };
        let rate = (max / 2.0).max(1.0);
        let warmup = self.opts.warmup_for(sc.target);
        let need =
            (rate * 1.1 * (warmup.as_secs_f64() + self.opts.seconds)) as usize + self.opts.conns;
        let (feed, seed) = self.feeds(sc, need);
        let server = self.start(sc, seed.as_ref())?;
        let run = self.rt().block_on(driver::open(
            server.addr,
            feed,
            self.opts.conns,
            rate,
            warmup,
            self.opts.measure(),
        ))?;
        sc.open_hwm_kib = server.status_kib("VmHWM").unwrap_or(0);
        server.stop();
        sc.errors.count += run.errors.count;
        sc.errors.samples.extend(run.errors.samples.iter().cloned());
        sc.errors.samples.truncate(5);
        println!(
            "  {:<54} @ {:>7.0}/s  achieved {:>7.0}/s  p50 {:.2} ms  p99 {:.2} ms  unsent {}  errors {}",
            sc.label(),
            rate,
            run.achieved,
            run.quantile_ms(0.50),
            run.quantile_ms(0.99),
            run.unsent,
            run.errors.count
        );
        sc.open = Some(run);
        Ok(())
    }

    /// A closed-loop run at full load with `perf` sampling the server after the warm-up: where
    /// its CPU goes, per request.
    fn profile(&mut self, sc: &mut Scenario) -> Result<profile::Profile, String> {
        let warmup = self.opts.warmup_for(sc.target);
        let seconds = warmup.as_secs_f64() + self.opts.seconds;
        let need = (self.guess(sc) * 1.3 * seconds) as usize + self.opts.conns;
        let (feed, seed) = self.feeds(sc, need);
        let server = self.start(sc, seed.as_ref())?;
        let recording = profile::Recording::start(server.pid(), warmup, self.opts.measure())?;
        let cpu_before = server.cpu();
        let run = self.rt().block_on(driver::closed(
            server.addr,
            feed,
            self.opts.conns,
            warmup,
            self.opts.measure(),
        ))?;
        let cpu_us = cpu_before
            .zip(server.cpu())
            .filter(|_| run.total > 0)
            .map(|(a, b)| (b - a).as_secs_f64() * 1e6 / run.total as f64);
        let samples = recording.finish();
        server.stop();
        let samples = samples?;
        if run.errors.count > 0 {
            sc.errors.count += run.errors.count;
            sc.errors.samples.extend(run.errors.samples.iter().cloned());
            sc.errors.samples.truncate(5);
        }
        let profile = profile::Profile::new(sc.label(), run.rate, cpu_us, samples);
        println!(
            "  profiled {:<45} {:>9.0} req/s  {} samples",
            sc.label(),
            run.rate,
            profile.samples
        );
        Ok(profile)
    }

    fn soak(&mut self, store: StoreKind, rate_hint: f64) -> Result<Soak, String> {
        let seconds = self.opts.warmup + self.opts.soak;
        let per_lane = ((rate_hint * 1.3 * seconds) / 3.0) as usize + self.opts.conns;
        let seed = self.opts.seed;
        let cap = self.opts.max_pool;
        let pushes = self
            .pools
            .ensure(Api::NotifyPushPayment, (per_lane + seed).min(cap));
        let sends = self.pools.ensure(Api::SendPaymentResult, per_lane.min(cap));
        // Read n is of the payment push n - seed wrote: always written, and never among the
        // oldest a capped memory store drops.
        let reads = self
            .pools
            .ensure(Api::InquiryPayment, (per_lane + seed).min(cap));
        let check = |inquiry| Check::Gateway {
            inquiry,
            signed: true,
        };
        let feed = Arc::new(Feed {
            lanes: vec![
                Lane {
                    requests: pushes.clone(),
                    cycle: false,
                    offset: seed,
                    check: check(false),
                },
                Lane {
                    requests: sends,
                    cycle: false,
                    offset: 0,
                    check: check(false),
                },
                Lane {
                    requests: reads,
                    cycle: true,
                    offset: 0,
                    check: check(true),
                },
            ],
        });
        let seeding = Arc::new(Feed::one(pushes, false, check(false)));
        let mut sc = Scenario::new(
            Target::Gateway {
                store,
                signing: true,
            },
            Api::NotifyPushPayment,
            self.opts.placements[0],
        );
        let server = self.start(&mut sc, Some(&seeding))?;
        let pid = server.pid();
        let stop = Arc::new(AtomicBool::new(false));
        let sampler = {
            let stop = stop.clone();
            std::thread::spawn(move || {
                let started = Instant::now();
                let mut rss = Vec::new();
                while !stop.load(Ordering::Relaxed) {
                    if let Some(kib) = servers::status_kib(pid, "VmRSS") {
                        rss.push((started.elapsed().as_secs_f64(), kib));
                    }
                    let next = Duration::from_secs(rss.len() as u64);
                    while !stop.load(Ordering::Relaxed) && started.elapsed() < next {
                        std::thread::sleep(Duration::from_millis(20));
                    }
                }
                rss
            })
        };
        let run = self.rt().block_on(driver::closed(
            server.addr,
            feed,
            self.opts.conns,
            self.opts.warmup(),
            Duration::from_secs_f64(self.opts.soak),
        ));
        stop.store(true, Ordering::Relaxed);
        let rss = sampler.join().unwrap_or_default();
        let hwm_kib = server.status_kib("VmHWM").unwrap_or(0);
        server.stop();
        let run = run?;
        println!(
            "  soak {:<7} {:.0} s  {:>7.0} req/s  VmHWM {:.1} MiB  errors {}",
            store.name(),
            run.window,
            run.rate,
            hwm_kib as f64 / 1024.0,
            run.errors.count
        );
        Ok(Soak {
            store,
            seconds: run.window,
            rate: run.rate,
            rss,
            hwm_kib,
            errors: run.errors,
            exhausted: run.exhausted,
        })
    }
}

fn scenarios(opts: &Opts, peers: &[Peer]) -> Vec<Scenario> {
    let mut all = Vec::new();
    for &placement in &opts.placements {
        all.push(Scenario::new(
            Target::Echo("echo"),
            Api::NotifyPushPayment,
            placement,
        ));
        // Signing inline or on a blocking pool is a question of the server's cores, asked once.
        if placement == opts.placements[0] {
            for mode in [
                "echo-sign-inline",
                "echo-sign-blocking",
                "echo-sign-blocking-bounded",
            ] {
                all.push(Scenario::new(
                    Target::Echo(mode),
                    Api::NotifyPushPayment,
                    placement,
                ));
            }
        }
        for signing in [true, false] {
            for store in [StoreKind::Sqlite, StoreKind::Memory] {
                for api in Api::ALL {
                    all.push(Scenario::new(
                        Target::Gateway { store, signing },
                        api,
                        placement,
                    ));
                }
            }
        }
        for &peer in peers {
            all.push(Scenario::new(
                Target::Peer(peer),
                Api::InquiryPayment,
                placement,
            ));
        }
    }
    if let Some(only) = &opts.only {
        all.retain(|sc| {
            let label = sc.label();
            only.iter().any(|o| label.contains(o.as_str()))
        });
    }
    all
}

/// The scenarios profiled, in the pinned placement when it ran: the echo, and the gateway's
/// unsigned read and write and a signed read.
fn profiled(placement: Placement) -> Vec<Scenario> {
    let gateway =
        |store, signing, api| Scenario::new(Target::Gateway { store, signing }, api, placement);
    vec![
        Scenario::new(Target::Echo("echo"), Api::NotifyPushPayment, placement),
        gateway(StoreKind::Memory, false, Api::InquiryPayment),
        gateway(StoreKind::Sqlite, false, Api::InquiryPayment),
        gateway(StoreKind::Sqlite, false, Api::NotifyPushPayment),
        gateway(StoreKind::Memory, true, Api::InquiryPayment),
    ]
}

fn run(opts: Opts) -> Result<Results, String> {
    let started = Instant::now();
    let load_start = loadavg();
    let runtimes = opts
        .placements
        .iter()
        .map(|&placement| {
            let workers = match placement {
                Placement::Unpinned => opts.driver_threads,
                Placement::Pinned => 1,
            };
            tokio::runtime::Builder::new_multi_thread()
                .worker_threads(workers)
                .enable_all()
                .build()
                .map(|rt| (placement, rt))
                .map_err(|e| e.to_string())
        })
        .collect::<Result<Vec<_>, String>>()?;
    let presign_threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    let peers = peers::prepare();
    for (peer, why) in &peers.missing {
        println!("peer {} not run: {why}", peer.name());
    }
    let mut bench = Bench {
        pools: Pools::new(presign_threads)?,
        verifying: gateway_key().verifying_key().map_err(|e| e.to_string())?,
        opts: opts.clone(),
        runtimes,
        ceiling: 0.0,
        driver: None,
    };
    let mut scenarios = scenarios(&opts, &peers.ready);
    if scenarios.is_empty() {
        return Err("LOAD_ONLY matches no scenario".into());
    }
    println!(
        "load benchmark: {} scenarios ({}), {} rounds of {:.1} s (+{:.1} s warm-up), {} connections, soak {:.0} s",
        scenarios.len(),
        opts.placements
            .iter()
            .map(|p| p.name())
            .collect::<Vec<_>>()
            .join(" and "),
        opts.rounds,
        opts.seconds,
        opts.warmup,
        opts.conns,
        opts.soak
    );
    let mut ceilings: Vec<Ceiling> = opts
        .placements
        .iter()
        .map(|&placement| Ceiling {
            placement,
            threads: placement.server_cores(opts.cores),
            rates: Vec::new(),
            sign_cpu_us: Vec::new(),
        })
        .collect();
    let mut verify_cpu_us = Vec::new();
    let cores = opts.cores;
    for round in 0..opts.rounds {
        for ceiling_of in &mut ceilings {
            let placement = ceiling_of.placement;
            // The ceiling runs with nothing else: the driver is idle between scenarios.
            let cpus = placement.server_cpus(cores);
            let (c, cpu_us) = ceiling(ceiling_of.threads, opts.ceiling_seconds, cpus.as_deref());
            ceiling_of.rates.push(c);
            ceiling_of.sign_cpu_us.extend(cpu_us);
            if placement == *opts.placements.last().unwrap_or(&placement) {
                verify_cpu_us.extend(verify_cost(0.5, cpus.as_deref()));
            }
            println!(
                "round {}/{}, {}: sign ceiling {c:.0} signs/s on {} thread(s), {} µs of CPU a sign",
                round + 1,
                opts.rounds,
                placement.name(),
                ceiling_of.threads,
                cpu_us.map_or("?".into(), |u| format!("{u:.0}"))
            );
        }
        for sc in &mut scenarios {
            bench.ceiling = ceilings
                .iter()
                .find(|c| c.placement == sc.placement)
                .and_then(|c| median(&c.rates))
                .unwrap_or(0.0);
            bench.closed_round(sc)?;
        }
    }
    println!("open loop at half the median maximum:");
    for sc in &mut scenarios {
        bench.open_run(sc)?;
    }
    let mut profiles = Vec::new();
    let profile_skipped = match profile::available() {
        Err(why) => Some(why),
        Ok(()) => {
            let placement = *opts.placements.last().unwrap_or(&Placement::Unpinned);
            println!("where the server's CPU goes ({}):", placement.name());
            let mut skipped = None;
            let wanted = profiled(placement).into_iter().filter(|sc| {
                opts.only.as_ref().is_none_or(|only| {
                    let label = sc.label();
                    only.iter().any(|o| label.contains(o.as_str()))
                })
            });
            for mut sc in wanted {
                // Size the requests from the same scenario's measured throughput.
                if let Some(measured) = scenarios
                    .iter()
                    .find(|m| m.label() == sc.label())
                    .and_then(Scenario::rate)
                {
                    sc.rates.push(measured);
                }
                match bench.profile(&mut sc) {
                    Ok(p) => profiles.push(p),
                    Err(e) => {
                        println!("  profile of {} failed: {e}", sc.label());
                        skipped = Some(e);
                        break;
                    }
                }
            }
            skipped
        }
    };
    let mut soaks = Vec::new();
    if opts.soak > 0.0 {
        println!(
            "RSS over a {:.0} s run (mixed load, signing on):",
            opts.soak
        );
        for store in [StoreKind::Sqlite, StoreKind::Memory] {
            if let Some(only) = &opts.only
                && !only.iter().any(|o| store.name().contains(o.as_str()))
            {
                continue;
            }
            let placement = opts.placements[0];
            let hint = scenarios
                .iter()
                .filter(|s| {
                    s.placement == placement
                        && s.target
                            == Target::Gateway {
                                store,
                                signing: true,
                            }
                })
                .filter_map(Scenario::rate)
                .fold(
                    ceilings
                        .iter()
                        .find(|c| c.placement == placement)
                        .and_then(|c| median(&c.rates))
                        .unwrap_or(0.0),
                    f64::max,
                );
            soaks.push(bench.soak(store, hint)?);
        }
    }
    Ok(Results {
        presigned: (bench.pools.signed, bench.pools.signing_time),
        opts,
        ceilings,
        verify_cpu_us,
        scenarios,
        peers_missing: peers.missing,
        profiles,
        profile_skipped,
        soaks,
        wall: started.elapsed(),
        loadavg: (load_start, loadavg()),
    })
}

fn main() {
    if let Ok(role) = std::env::var("LOAD_BENCH_ROLE") {
        echo::run(&role);
        return;
    }
    // `cargo bench` passes `--bench`; `cargo test --bench load` does not, and checks the report
    // against its template instead of measuring for half an hour.
    if !std::env::args().any(|a| a == "--bench") {
        report::check();
        return;
    }
    let opts = Opts::from_env();
    let results = match run(opts) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("load benchmark failed: {e}");
            std::process::exit(1);
        }
    };
    let markdown = report::markdown(&results);
    println!("\n{markdown}");
    if let Some(path) = &results.opts.report {
        match std::fs::write(path, &markdown) {
            Ok(()) => println!("written to {}", path.display()),
            Err(e) => eprintln!("cannot write {}: {e}", path.display()),
        }
    }
    let errors: u64 = results
        .scenarios
        .iter()
        .map(|s| s.errors.count)
        .sum::<u64>()
        + results.soaks.iter().map(|s| s.errors.count).sum::<u64>();
    if errors > 0 {
        eprintln!("load benchmark: {errors} failed requests; the figures are not valid");
        std::process::exit(1);
    }
}
