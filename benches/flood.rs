//! Flood benchmark: `cargo bench --bench flood`. What an attacker can make the gateway hold.
//!
//! Each flood starts the real `alipay-gateway` binary (release build, a child process, a fresh
//! `memory://` store unless said otherwise), measures its resident memory idle after a warm-up
//! (the baseline, in the same run), floods it, and reports its peak RSS (`VmHWM`) with the
//! ratio to idle, whether every flood request got the answer it should, and how a legitimate
//! caller (a signed sendPaymentResult on a new connection, every 200 ms) fared meanwhile:
//!
//! - **unique writes**: signed notifyPushPayment calls with unique ids, past the memory store's
//!   cap (`store.memory_max_entries`), against the same count with no eviction, and on SQLite;
//! - **unknown client ids**: a made-up 64-character `Client-Id` on every request;
//! - **huge headers**: heads just under `server.max_header_bytes`, and far past it;
//! - **slow clients**: connections that dribble their headers, or their body, a byte at a time;
//! - **many connections**: more idle connections than `server.max_connections`.
//!
//! Knobs (environment): `FLOOD_WRITES` (40000), `FLOOD_UNKNOWN` (200000), `FLOOD_HEADERS`
//! (20000), `FLOOD_SLOW` (1000), `FLOOD_DRIBBLE_MS` (20), `FLOOD_CONNECTIONS` (4000),
//! `FLOOD_HOLD_SECONDS` (14, longer than the default `server.read_timeout_ms`), `FLOOD_ONLY` (comma-separated substrings of the
//! flood names). Traffic goes to 127.0.0.1 only; every loop is bounded in count and time. The
//! figures are in docs/reliability.md.

// The load benchmark's server harness, driver and request builder, shared rather than copied;
// this benchmark uses a part of each.
#[expect(
    dead_code,
    reason = "shared with the load benchmark, which uses the rest"
)]
#[path = "load/driver.rs"]
mod driver;
#[expect(
    dead_code,
    reason = "shared with the load benchmark, which uses the rest"
)]
#[path = "load/peers.rs"]
mod peers;
#[expect(
    dead_code,
    reason = "shared with the load benchmark, which uses the rest"
)]
#[path = "load/servers.rs"]
mod servers;
#[expect(
    dead_code,
    reason = "shared with the load benchmark, which uses the rest"
)]
#[path = "load/workload.rs"]
mod workload;

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use alipay_gateway::signature::SigningKey;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use driver::{Check, Conn};
use servers::{Server, StoreKind, Target};
use workload::Api;

/// Connections the request floods use at once.
const FLOOD_CONNS: usize = 16;
/// The memory store's cap in the capped unique-writes flood: an eighth of the writes.
const CAP_DIVISOR: usize = 8;
/// The legitimate caller's pause between calls.
const LEGIT_EVERY: Duration = Duration::from_millis(200);
/// How long one legitimate call may take before it counts as failed.
const LEGIT_TIMEOUT: Duration = Duration::from_secs(30);

/// The knobs.
struct Opts {
    writes: usize,
    unknown: usize,
    headers: usize,
    slow: usize,
    connections: usize,
    hold: Duration,
    dribble: Duration,
    only: Option<Vec<String>>,
}

fn env_usize(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

impl Opts {
    fn from_env() -> Self {
        Self {
            writes: env_usize("FLOOD_WRITES", 40_000).max(CAP_DIVISOR),
            unknown: env_usize("FLOOD_UNKNOWN", 200_000),
            headers: env_usize("FLOOD_HEADERS", 20_000),
            slow: env_usize("FLOOD_SLOW", 1000),
            connections: env_usize("FLOOD_CONNECTIONS", 4000),
            hold: Duration::from_secs(env_usize("FLOOD_HOLD_SECONDS", 14) as u64),
            dribble: Duration::from_millis(env_usize("FLOOD_DRIBBLE_MS", 20).max(1) as u64),
            only: std::env::var("FLOOD_ONLY")
                .ok()
                .map(|v| v.split(',').map(str::to_owned).collect()),
        }
    }

    fn wants(&self, name: &str) -> bool {
        self.only
            .as_ref()
            .is_none_or(|only| only.iter().any(|o| name.contains(o.as_str())))
    }
}

/// What one flood measured.
struct Outcome {
    name: String,
    /// What was sent, in words.
    load: String,
    idle_kib: u64,
    peak_kib: u64,
    /// VmRSS at the end of the flood.
    end_kib: u64,
    /// Flood answers that were not what they should be, with a sample.
    wrong: usize,
    sample: Option<String>,
    /// What the flood's answers were, in words.
    answers: String,
    legit: Legit,
}

/// The legitimate caller's record during a flood.
#[derive(Default)]
struct Legit {
    latencies_ms: Vec<f64>,
    failed: usize,
}

impl Legit {
    fn summary(&self) -> String {
        let mut sorted = self.latencies_ms.clone();
        sorted.sort_by(f64::total_cmp);
        let at = |q: f64| sorted[((sorted.len() - 1) as f64 * q).round() as usize];
        if sorted.is_empty() {
            return format!("0 answered, {} failed", self.failed);
        }
        format!(
            "{} answered (p50 {:.1} ms, max {:.0} ms), {} failed",
            sorted.len(),
            at(0.5),
            at(1.0),
            self.failed
        )
    }
}

/// A fresh gateway for one flood, warmed up, with its idle RSS.
struct Subject {
    server: Server,
    idle_kib: u64,
    legit_request: Arc<[u8]>,
}

impl Subject {
    fn start(store: StoreKind, env: &[(&str, String)], key: &SigningKey) -> Result<Self, String> {
        let env: Vec<(String, String)> = env
            .iter()
            .map(|(k, v)| ((*k).to_owned(), v.clone()))
            .collect();
        let server = Server::start(
            Target::Gateway {
                store,
                signing: true,
            },
            None,
            &env,
            false,
        )?;
        // The legitimate caller repeats one report: answered SUCCESS whether or not it is new.
        let legit_request: Arc<[u8]> =
            workload::build(key, Api::SendPaymentResult, 999_999_999).into();
        let runtime = runtime();
        runtime.block_on(async {
            for _ in 0..200 {
                legit_call(server.addr, &legit_request).await?;
            }
            Ok::<_, String>(())
        })?;
        std::thread::sleep(Duration::from_millis(300));
        let idle_kib = server.status_kib("VmRSS").ok_or("no VmRSS")?;
        Ok(Self {
            server,
            idle_kib,
            legit_request,
        })
    }

    /// Runs `flood` while the legitimate caller calls, and measures.
    fn measure<F>(self, name: &str, flood: F) -> Result<Outcome, String>
    where
        F: std::future::Future<Output = Result<FloodReport, String>>,
    {
        let runtime = runtime();
        let addr = self.server.addr;
        let request = self.legit_request.clone();
        let (report, legit) = runtime.block_on(async move {
            let stop = Arc::new(AtomicBool::new(false));
            let caller = tokio::spawn(legit_caller(addr, request, stop.clone()));
            let report = flood.await;
            stop.store(true, Ordering::Relaxed);
            let legit = caller.await.map_err(|e| e.to_string())?;
            Ok::<_, String>((report, legit))
        })?;
        let report = report?;
        let peak_kib = self.server.status_kib("VmHWM").ok_or("no VmHWM")?;
        let end_kib = self.server.status_kib("VmRSS").ok_or("no VmRSS")?;
        self.server.stop();
        Ok(Outcome {
            name: name.to_owned(),
            load: report.load,
            idle_kib: self.idle_kib,
            peak_kib,
            end_kib,
            wrong: report.wrong,
            sample: report.sample,
            answers: report.answers,
            legit,
        })
    }
}

/// What a flood sent and got.
struct FloodReport {
    load: String,
    answers: String,
    wrong: usize,
    sample: Option<String>,
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("a tokio runtime")
}

/// One signed sendPaymentResult on a new connection, answered SUCCESS and signed.
async fn legit_call(addr: SocketAddr, request: &[u8]) -> Result<Duration, String> {
    let started = Instant::now();
    let call = async {
        let mut conn = Conn::connect(addr).await.map_err(|e| e.to_string())?;
        let (head, total) = conn.call(request).await.map_err(|e| e.to_string())?;
        let check = Check::Gateway {
            inquiry: false,
            signed: true,
        };
        match driver::verdict(conn.response(), head, total, check) {
            None => Ok(started.elapsed()),
            Some(why) => Err(why),
        }
    };
    tokio::time::timeout(LEGIT_TIMEOUT, call)
        .await
        .map_err(|_| format!("no answer within {LEGIT_TIMEOUT:?}"))?
}

async fn legit_caller(addr: SocketAddr, request: Arc<[u8]>, stop: Arc<AtomicBool>) -> Legit {
    let mut legit = Legit::default();
    while !stop.load(Ordering::Relaxed) {
        match legit_call(addr, &request).await {
            Ok(took) => legit.latencies_ms.push(took.as_secs_f64() * 1e3),
            Err(_) => legit.failed += 1,
        }
        tokio::time::sleep(LEGIT_EVERY).await;
    }
    legit
}

/// Counts answers by what they were and remembers the first wrong one.
#[derive(Default)]
struct Tally {
    counts: std::sync::Mutex<std::collections::BTreeMap<String, usize>>,
    wrong: AtomicUsize,
    sample: std::sync::Mutex<Option<String>>,
}

impl Tally {
    fn count(&self, kind: &str) {
        *self
            .counts
            .lock()
            .expect("tally")
            .entry(kind.to_owned())
            .or_default() += 1;
    }

    fn wrong(&self, why: String) {
        self.wrong.fetch_add(1, Ordering::Relaxed);
        self.sample.lock().expect("tally").get_or_insert(why);
    }

    fn report(self, load: String) -> FloodReport {
        let counts = self.counts.into_inner().expect("tally");
        let answers = counts
            .iter()
            .map(|(k, v)| format!("{v} {k}"))
            .collect::<Vec<_>>()
            .join(", ");
        FloodReport {
            load,
            answers,
            wrong: self.wrong.into_inner(),
            sample: self.sample.into_inner().expect("tally"),
        }
    }
}

/// `result.resultCode` of an answer body, or the status line when there is no body.
fn result_code(response: &[u8], head_end: usize) -> String {
    let body = String::from_utf8_lossy(&response[head_end..]);
    let code = serde_json::from_str::<serde_json::Value>(&body)
        .ok()
        .and_then(|v| v["result"]["resultCode"].as_str().map(str::to_owned));
    code.unwrap_or_else(|| {
        let head = String::from_utf8_lossy(&response[..head_end]);
        format!("HTTP {}", head.split(' ').nth(1).unwrap_or("?"))
    })
}

/// Sends `requests` over [`FLOOD_CONNS`] keep-alive connections; each answer must carry the
/// result code `expect`. A connection the server closes is replaced.
async fn flood_requests(
    addr: SocketAddr,
    requests: Arc<Vec<Box<[u8]>>>,
    expect: &'static str,
) -> Tally {
    let tally = Arc::new(Tally::default());
    let next = Arc::new(AtomicUsize::new(0));
    let mut tasks = Vec::new();
    for _ in 0..FLOOD_CONNS {
        let (requests, next, tally) = (requests.clone(), next.clone(), tally.clone());
        tasks.push(tokio::spawn(async move {
            let mut conn: Option<Conn> = None;
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                let Some(request) = requests.get(i) else {
                    break;
                };
                if conn.is_none() {
                    conn = Conn::connect(addr).await.ok();
                }
                let Some(c) = conn.as_mut() else {
                    tally.wrong("cannot connect".into());
                    continue;
                };
                match c.call(request).await {
                    Ok((head, _)) => {
                        let code = result_code(c.response(), head);
                        if code != expect {
                            tally.wrong(format!("expected {expect}, got {code}"));
                        }
                        tally.count(&code);
                    }
                    Err(e) => {
                        tally.wrong(format!("no answer: {e}"));
                        conn = None;
                    }
                }
            }
        }));
    }
    for task in tasks {
        let _ = task.await;
    }
    Arc::into_inner(tally).expect("every flood task ended")
}

/// A request with a made-up `Client-Id` and signature, padded with an `x-pad` header.
fn stranger_request(i: usize, pad: usize) -> Box<[u8]> {
    let body = r#"{"referenceTransactionId":"FLOOD","paymentStatus":"SUCCESS"}"#;
    format!(
        "POST {path} HTTP/1.1\r\nhost: 127.0.0.1\r\ncontent-type: application/json; charset=UTF-8\r\nclient-id: FLOOD-STRANGER-{i:048}\r\nrequest-time: 1700000000000\r\nsignature: algorithm=RSA256,keyVersion=1,signature=bm90IGEgc2lnbmF0dXJl\r\nx-pad: {pad}\r\ncontent-length: {len}\r\n\r\n{body}",
        path = Api::SendPaymentResult.path(),
        pad = "p".repeat(pad),
        len = body.len(),
    )
    .into_bytes()
    .into_boxed_slice()
}

/// Unique signed writes; the memory store holds `cap` of them.
fn unique_writes(
    opts: &Opts,
    key: &SigningKey,
    pool: &Arc<Vec<Box<[u8]>>>,
    store: StoreKind,
    cap: usize,
) -> Result<Outcome, String> {
    let name = match store {
        StoreKind::Memory if cap < opts.writes => {
            format!("unique writes, memory:// capped at {cap}")
        }
        StoreKind::Memory => format!("unique writes, memory:// holding all {cap}"),
        StoreKind::Sqlite => "unique writes, sqlite://".to_owned(),
    };
    let subject = Subject::start(
        store,
        &[("GATEWAY_STORE__MEMORY_MAX_ENTRIES", cap.to_string())],
        key,
    )?;
    let addr = subject.server.addr;
    let pool = pool.clone();
    let writes = opts.writes;
    subject.measure(&name, async move {
        let tally = flood_requests(addr, pool, "SUCCESS").await;
        Ok(tally.report(format!(
            "{writes} signed notifyPushPayment, each a new payment"
        )))
    })
}

fn unknown_clients(opts: &Opts, key: &SigningKey) -> Result<Outcome, String> {
    let subject = Subject::start(StoreKind::Memory, &[], key)?;
    let addr = subject.server.addr;
    let requests: Arc<Vec<_>> =
        Arc::new((0..opts.unknown).map(|i| stranger_request(i, 0)).collect());
    let count = opts.unknown;
    subject.measure("unknown client ids", async move {
        let tally = flood_requests(addr, requests, "INVALID_CLIENT").await;
        Ok(tally.report(format!(
            "{count} requests, each from another made-up 64-character Client-Id"
        )))
    })
}

fn huge_headers(opts: &Opts, key: &SigningKey) -> Result<Outcome, String> {
    let subject = Subject::start(StoreKind::Memory, &[], key)?;
    let addr = subject.server.addr;
    // Just under the 16 KiB head limit: read, answered, journaled.
    let under: Arc<Vec<_>> = Arc::new(
        (0..opts.headers)
            .map(|i| stranger_request(i, 15_800))
            .collect(),
    );
    let over_count = opts.headers / 4;
    let count = opts.headers;
    subject.measure("huge headers", async move {
        let tally = flood_requests(addr, under, "INVALID_CLIENT").await;
        // Far past it (256 KiB, four times what a connection buffers): HTTP 431, each on a
        // connection of its own, which hyper then closes.
        let over = Arc::new(stranger_request(0, 256 * 1024));
        let next = Arc::new(AtomicUsize::new(0));
        let tally = Arc::new(tally);
        let mut tasks = Vec::new();
        for _ in 0..FLOOD_CONNS {
            let (over, next, tally) = (over.clone(), next.clone(), tally.clone());
            tasks.push(tokio::spawn(async move {
                while next.fetch_add(1, Ordering::Relaxed) < over_count {
                    match oversized_call(addr, &over).await {
                        Ok(code) if code == "HTTP 431" || code == "PARAM_ILLEGAL" => {
                            tally.count(&code)
                        }
                        Ok(code) => tally.wrong(format!("expected HTTP 431, got {code}")),
                        Err(e) => tally.wrong(format!("no answer: {e}")),
                    }
                }
            }));
        }
        for task in tasks {
            let _ = task.await;
        }
        let tally = Arc::into_inner(tally).expect("every flood task ended");
        Ok(tally.report(format!(
            "{count} heads of 16 KiB less a little, then {over_count} of 256 KiB"
        )))
    })
}

/// Writes a request whose head is too large to read and reads what comes back until the
/// server closes the connection.
async fn oversized_call(addr: SocketAddr, request: &[u8]) -> Result<String, String> {
    let mut stream = TcpStream::connect(addr).await.map_err(|e| e.to_string())?;
    // The server may answer and close before it read everything; that is the point.
    let _ = stream.write_all(request).await;
    let mut answer = Vec::new();
    let read = tokio::time::timeout(Duration::from_secs(10), stream.read_to_end(&mut answer)).await;
    if answer.is_empty() {
        return Err(format!("closed without an answer ({read:?})"));
    }
    let head_end = answer
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .map_or(answer.len(), |at| at + 4);
    Ok(result_code(&answer, head_end))
}

/// How one slow connection ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum SlowEnd {
    /// The server answered (a body that did not arrive in time: PARAM_ILLEGAL).
    Answered,
    /// The server closed it (headers that did not arrive in time).
    Closed,
    /// Still open when the flood ended.
    Open,
}

/// Dribbles one byte every `every`: of its headers (`body` false) or, after whole headers
/// announcing 200 KB, of its body, until the server answers or closes, or `hold` passes.
async fn slow_client(
    addr: SocketAddr,
    body: bool,
    every: Duration,
    hold: Duration,
) -> (SlowEnd, Option<Duration>) {
    let started = Instant::now();
    let Ok(mut stream) = TcpStream::connect(addr).await else {
        return (SlowEnd::Closed, None);
    };
    let head = if body {
        format!(
            "POST {} HTTP/1.1\r\nhost: 127.0.0.1\r\ncontent-type: application/json; charset=UTF-8\r\nclient-id: {}\r\nrequest-time: 1700000000000\r\nsignature: algorithm=RSA256,keyVersion=1,signature=c2xvdw==\r\ncontent-length: 200000\r\n\r\n{{",
            Api::SendPaymentResult.path(),
            servers::CLIENT_ID
        )
    } else {
        format!(
            "POST {} HTTP/1.1\r\nhost: 127.0.0.1\r\nx-slow: ",
            Api::SendPaymentResult.path()
        )
    };
    if stream.write_all(head.as_bytes()).await.is_err() {
        return (SlowEnd::Closed, Some(started.elapsed()));
    }
    let mut buf = [0u8; 4096];
    while started.elapsed() < hold {
        tokio::select! {
            read = stream.read(&mut buf) => {
                return match read {
                    Ok(n) if n > 0 => (SlowEnd::Answered, Some(started.elapsed())),
                    _ => (SlowEnd::Closed, Some(started.elapsed())),
                };
            }
            () = tokio::time::sleep(every) => {
                if stream.write_all(b"a").await.is_err() {
                    return (SlowEnd::Closed, Some(started.elapsed()));
                }
            }
        }
    }
    (SlowEnd::Open, None)
}

fn slow_clients(opts: &Opts, key: &SigningKey) -> Result<Outcome, String> {
    let subject = Subject::start(StoreKind::Memory, &[], key)?;
    let addr = subject.server.addr;
    let (count, hold, every) = (opts.slow, opts.hold, opts.dribble);
    subject.measure("slow clients", async move {
        let tasks: Vec<_> = (0..count)
            .map(|i| tokio::spawn(slow_client(addr, i % 2 == 1, every, hold)))
            .collect();
        let tally = Tally::default();
        let mut ended_after = Vec::new();
        for (i, task) in tasks.into_iter().enumerate() {
            let (end, after) = task.await.map_err(|e| e.to_string())?;
            let what = if i % 2 == 1 { "body" } else { "headers" };
            tally.count(&format!("{what} {end:?}"));
            if end == SlowEnd::Open {
                tally.wrong(format!("a slow {what} was still open after {hold:?}"));
            }
            ended_after.extend(after);
        }
        let latest = ended_after.iter().max().copied().unwrap_or_default();
        Ok(tally.report(format!(
            "{count} connections dribbling a byte every {} ms, half their headers, half their body; the last ended by the server after {:.1} s",
            every.as_millis(),
            latest.as_secs_f64()
        )))
    })
}

fn many_connections(opts: &Opts, key: &SigningKey) -> Result<Outcome, String> {
    let subject = Subject::start(StoreKind::Memory, &[], key)?;
    let addr = subject.server.addr;
    let (count, hold) = (opts.connections, opts.hold);
    subject.measure("many connections", async move {
        let connects: Vec<_> = (0..count)
            .map(|_| {
                tokio::spawn(async move {
                    tokio::time::timeout(Duration::from_secs(5), TcpStream::connect(addr))
                        .await
                        .ok()
                        .and_then(Result::ok)
                })
            })
            .collect();
        let mut open = Vec::new();
        for c in connects {
            open.extend(c.await.map_err(|e| e.to_string())?);
        }
        let connected = open.len();
        tokio::time::sleep(hold).await;
        // Which of them the server closed while they sat idle.
        let mut closed = 0;
        for mut stream in open {
            let mut byte = [0u8; 1];
            let read = tokio::time::timeout(Duration::from_millis(1), stream.read(&mut byte)).await;
            if matches!(read, Ok(Ok(0)) | Ok(Err(_))) {
                closed += 1;
            }
        }
        let tally = Tally::default();
        tally.count(&format!("closed by the server while idle: {closed}"));
        Ok(tally.report(format!(
            "{count} idle connections opened at once ({connected} connected), held {} s",
            hold.as_secs()
        )))
    })
}

fn print(outcomes: &[Outcome]) {
    println!(
        "\n| flood | sent | idle RSS | peak RSS (VmHWM) | peak / idle | RSS at the end | answers | legitimate caller meanwhile |"
    );
    println!("|---|---|---|---|---|---|---|---|");
    for o in outcomes {
        let mib = |kib: u64| format!("{:.1} MiB", kib as f64 / 1024.0);
        let wrong = if o.wrong == 0 {
            String::new()
        } else {
            format!(
                " **{} wrong** (e.g. {})",
                o.wrong,
                o.sample.as_deref().unwrap_or("?")
            )
        };
        println!(
            "| {} | {} | {} | {} | {:.2} | {} | {}{} | {} |",
            o.name,
            o.load,
            mib(o.idle_kib),
            mib(o.peak_kib),
            o.peak_kib as f64 / o.idle_kib.max(1) as f64,
            mib(o.end_kib),
            o.answers,
            wrong,
            o.legit.summary()
        );
    }
}

fn run(opts: &Opts) -> Result<Vec<Outcome>, String> {
    let key_path = servers::keys_dir().join("TEST-ONLY-merchant-private.pem");
    let key_text = std::fs::read_to_string(&key_path).map_err(|e| format!("{key_path:?}: {e}"))?;
    let key = SigningKey::from_text(&key_text).map_err(|e| e.to_string())?;
    let mut outcomes = Vec::new();
    if opts.wants("unique writes") {
        eprintln!("signing {} unique notifyPushPayment requests", opts.writes);
        let mut pools = workload::Pools::new(2)?;
        let pool = pools.ensure(Api::NotifyPushPayment, opts.writes);
        let cap = opts.writes / CAP_DIVISOR;
        for (store, cap) in [
            (StoreKind::Memory, cap),
            (StoreKind::Memory, opts.writes),
            (StoreKind::Sqlite, cap),
        ] {
            eprintln!("flood: unique writes on {} (cap {cap})", store.name());
            outcomes.push(unique_writes(opts, &key, &pool, store, cap)?);
        }
    }
    type Flood = fn(&Opts, &SigningKey) -> Result<Outcome, String>;
    let floods: [(&str, Flood); 4] = [
        ("unknown client ids", unknown_clients),
        ("huge headers", huge_headers),
        ("slow clients", slow_clients),
        ("many connections", many_connections),
    ];
    for (name, flood) in floods {
        if opts.wants(name) {
            eprintln!("flood: {name}");
            outcomes.push(flood(opts, &key)?);
        }
    }
    Ok(outcomes)
}

fn main() {
    let opts = Opts::from_env();
    match run(&opts) {
        Ok(outcomes) => {
            print(&outcomes);
            let wrong: usize = outcomes.iter().map(|o| o.wrong + o.legit.failed).sum();
            if wrong > 0 {
                eprintln!("flood benchmark: {wrong} wrong answers or failed legitimate calls");
                std::process::exit(1);
            }
        }
        Err(e) => {
            eprintln!("flood benchmark failed: {e}");
            std::process::exit(1);
        }
    }
}
