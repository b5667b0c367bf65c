//! The load driver: a minimal HTTP/1.1 keep-alive client over tokio `TcpStream` that writes
//! pre-built request bytes and reads each response whole (Content-Length), a closed loop
//! (every connection sends its next request as soon as the answer arrives) and an open loop
//! (a fixed rate, latency measured from the intended send time). Every loop is bounded in time
//! and in count; every response is checked (HTTP 200, the expected result, signed or not).

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// How long the loops wait, past their end, for answers still in flight.
const GRACE: Duration = Duration::from_secs(5);
/// At most this many failed responses are kept as samples to print.
const SAMPLES: usize = 5;

/// What a correct answer looks like.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Check {
    /// A gateway API answer: 200, `result` SUCCESS/S; for inquiryPayment also a
    /// `paymentResult` SUCCESS; `signature` header with a value when signing is on, with an
    /// empty value when it is off.
    Gateway {
        /// inquiryPayment: the payment must read as SUCCESS.
        inquiry: bool,
        /// Response signing on.
        signed: bool,
    },
    /// The echo baseline: 200 and a body; signed when the echo signs.
    Echo {
        /// The echo signs its answers.
        signed: bool,
    },
    /// A peer's stub: 200 and a body.
    Stub,
}

/// One kind of request: pre-built, pre-signed bytes, used once each, or cycled (reads).
#[derive(Clone)]
pub struct Lane {
    /// Complete HTTP/1.1 requests.
    pub requests: Arc<Vec<Box<[u8]>>>,
    /// Reuse the requests round-robin (reads, the echo) instead of each once (writes).
    pub cycle: bool,
    /// The first request used (a soak skips the writes its seeding already made).
    pub offset: usize,
    /// What the answers must look like.
    pub check: Check,
}

/// The requests of a run: request `i` comes from lane `i % lanes`, so a mixed run interleaves
/// the lanes evenly.
#[derive(Clone)]
pub struct Feed {
    /// The lanes, in turn.
    pub lanes: Vec<Lane>,
}

impl Feed {
    /// A feed with a single lane.
    pub fn one(requests: Arc<Vec<Box<[u8]>>>, cycle: bool, check: Check) -> Self {
        Self {
            lanes: vec![Lane {
                requests,
                cycle,
                offset: 0,
                check,
            }],
        }
    }

    /// Request `i`, or `None` when a use-once lane is exhausted (the count bound).
    pub fn get(&self, i: usize) -> Option<(&[u8], Check)> {
        let lane = &self.lanes[i % self.lanes.len()];
        let mut j = i / self.lanes.len() + lane.offset;
        if lane.cycle {
            if lane.requests.is_empty() {
                return None;
            }
            j %= lane.requests.len();
        }
        lane.requests.get(j).map(|r| (&r[..], lane.check))
    }
}

/// A keep-alive HTTP/1.1 connection.
pub struct Conn {
    stream: TcpStream,
    buf: Vec<u8>,
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

fn content_length(head: &[u8]) -> Option<usize> {
    head.split(|&b| b == b'\n').find_map(|line| {
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        let colon = line.iter().position(|&b| b == b':')?;
        if !line[..colon].eq_ignore_ascii_case(b"content-length") {
            return None;
        }
        std::str::from_utf8(&line[colon + 1..])
            .ok()?
            .trim()
            .parse()
            .ok()
    })
}

impl Conn {
    /// Connects with Nagle off, as the server does.
    pub async fn connect(addr: SocketAddr) -> std::io::Result<Self> {
        let stream = TcpStream::connect(addr).await?;
        stream.set_nodelay(true)?;
        Ok(Self {
            stream,
            buf: Vec::with_capacity(4096),
        })
    }

    /// Sends one request and reads its response whole; answers (end of headers, total length)
    /// within [`Conn::response`].
    pub async fn call(&mut self, request: &[u8]) -> std::io::Result<(usize, usize)> {
        self.stream.write_all(request).await?;
        self.buf.clear();
        let mut head_end = None;
        loop {
            if self.buf.capacity() - self.buf.len() < 1024 {
                self.buf.reserve(4096);
            }
            let n = self.stream.read_buf(&mut self.buf).await?;
            if n == 0 {
                return Err(std::io::Error::new(
                    std::io::ErrorKind::UnexpectedEof,
                    "the server closed the connection",
                ));
            }
            if head_end.is_none() {
                head_end = find(&self.buf, b"\r\n\r\n").map(|at| at + 4);
            }
            if let Some(end) = head_end {
                let length = content_length(&self.buf[..end]).ok_or_else(|| {
                    std::io::Error::other("response without Content-Length (unsupported)")
                })?;
                if self.buf.len() >= end + length {
                    return Ok((end, end + length));
                }
            }
        }
    }

    /// The bytes of the last response.
    pub fn response(&self) -> &[u8] {
        &self.buf
    }
}

const SIGNATURE_PREFIX: &[u8] = b"\r\nsignature: algorithm=RSA256,keyVersion=1,signature=";

/// Why a response is not the expected one, or `None` when it is.
pub fn verdict(response: &[u8], head_end: usize, total: usize, check: Check) -> Option<String> {
    let head = &response[..head_end];
    let body = &response[head_end..total];
    let fail = |why: &str| {
        let status = head.split(|&b| b == b'\r').next().unwrap_or_default();
        Some(format!(
            "{why}: {} {}",
            String::from_utf8_lossy(status),
            String::from_utf8_lossy(&body[..body.len().min(300)])
        ))
    };
    if !head.starts_with(b"HTTP/1.1 200 ") {
        return fail("not HTTP 200");
    }
    let signed = match check {
        Check::Gateway { inquiry, signed } => {
            if !body.starts_with(br#"{"result":{"resultCode":"SUCCESS","#)
                || find(body, br#""resultStatus":"S"}"#).is_none()
            {
                return fail("result is not SUCCESS/S");
            }
            if inquiry && find(body, br#""paymentResult":{"resultCode":"SUCCESS","#).is_none() {
                return fail("paymentResult is not SUCCESS");
            }
            Some(signed)
        }
        Check::Echo { signed } => {
            if body.is_empty() {
                return fail("empty body");
            }
            signed.then_some(true)
        }
        Check::Stub => {
            if body.is_empty() {
                return fail("empty body");
            }
            None
        }
    };
    if let Some(signed) = signed {
        let Some(at) = find(head, SIGNATURE_PREFIX) else {
            return fail("no signature header");
        };
        let value_starts = head.get(at + SIGNATURE_PREFIX.len()).copied();
        let has_value = value_starts.is_some_and(|b| b != b'\r');
        if has_value != signed {
            return fail(if signed {
                "signature header without a value (signing is on)"
            } else {
                "signature header with a value (signing is off)"
            });
        }
    }
    None
}

/// Errors and their first few descriptions.
#[derive(Debug, Default, Clone)]
pub struct Errors {
    /// Failed requests: IO errors and unexpected answers.
    pub count: u64,
    /// The first few, described.
    pub samples: Vec<String>,
}

impl Errors {
    fn add(&mut self, what: String) {
        self.count += 1;
        if self.samples.len() < SAMPLES {
            self.samples.push(what);
        }
    }

    fn merge(&mut self, other: Errors) {
        self.count += other.count;
        for s in other.samples {
            if self.samples.len() < SAMPLES {
                self.samples.push(s);
            }
        }
    }
}

/// What a closed-loop run measured.
#[derive(Debug, Clone)]
pub struct Closed {
    /// Correct answers within the measured window.
    pub ok: u64,
    /// Correct answers, warm-up included.
    pub total: u64,
    /// Failed requests, warm-up included.
    pub errors: Errors,
    /// The measured window in seconds (shorter than asked when the requests ran out).
    pub window: f64,
    /// ok / window.
    pub rate: f64,
    /// The run stopped on its count bound (no request left) before its time bound.
    pub exhausted: bool,
    /// The first correct response, for a signature check after the clock stops.
    pub sample: Option<Vec<u8>>,
}

async fn connect_all(addr: SocketAddr, conns: usize) -> Result<Vec<Conn>, String> {
    let mut out = Vec::with_capacity(conns);
    for _ in 0..conns {
        out.push(
            Conn::connect(addr)
                .await
                .map_err(|e| format!("cannot connect to {addr}: {e}"))?,
        );
    }
    Ok(out)
}

/// Sends the feed's requests over `conns` connections, each its next as soon as the answer
/// came, for `warmup` then `measure`; answers counted only in the measured window.
pub async fn closed(
    addr: SocketAddr,
    feed: Arc<Feed>,
    conns: usize,
    warmup: Duration,
    measure: Duration,
) -> Result<Closed, String> {
    let connections = connect_all(addr, conns).await?;
    let next = Arc::new(AtomicUsize::new(0));
    let exhausted = Arc::new(AtomicBool::new(false));
    let t0 = Instant::now();
    let measure_from = t0 + warmup;
    let end = measure_from + measure;
    let mut tasks = Vec::with_capacity(conns);
    for mut conn in connections {
        let (feed, next, exhausted) = (feed.clone(), next.clone(), exhausted.clone());
        tasks.push(tokio::spawn(async move {
            let mut sample = None;
            let mut ok = 0u64;
            let mut total_ok = 0u64;
            let mut last = measure_from;
            let mut errors = Errors::default();
            loop {
                if Instant::now() >= end {
                    break;
                }
                let i = next.fetch_add(1, Ordering::Relaxed);
                let Some((request, check)) = feed.get(i) else {
                    exhausted.store(true, Ordering::Relaxed);
                    break;
                };
                match conn.call(request).await {
                    Ok((head, total)) => {
                        let done = Instant::now();
                        match verdict(conn.response(), head, total, check) {
                            None => {
                                total_ok += 1;
                                if done >= measure_from && done <= end {
                                    ok += 1;
                                    last = last.max(done);
                                }
                                if sample.is_none() {
                                    sample = Some(conn.response()[..total].to_vec());
                                }
                            }
                            Some(why) => errors.add(why),
                        }
                    }
                    Err(e) => {
                        errors.add(format!("request failed: {e}"));
                        match Conn::connect(addr).await {
                            Ok(c) => conn = c,
                            Err(_) => tokio::time::sleep(Duration::from_millis(10)).await,
                        }
                    }
                }
            }
            (ok, total_ok, last, errors, sample)
        }));
    }
    let mut ok = 0;
    let mut last = measure_from;
    let mut errors = Errors::default();
    let mut sample = None;
    let mut total = 0;
    for task in tasks {
        let (o, t, l, e, s) = tokio::time::timeout(
            (end + GRACE).saturating_duration_since(Instant::now()),
            task,
        )
        .await
        .map_err(|_| "closed loop: answers still missing after the grace period".to_owned())?
        .map_err(|e| format!("closed loop task failed: {e}"))?;
        ok += o;
        total += t;
        last = last.max(l);
        errors.merge(e);
        sample = sample.or(s);
    }
    let exhausted = exhausted.load(Ordering::Relaxed);
    let window_end = if exhausted { last.min(end) } else { end };
    let window = window_end
        .saturating_duration_since(measure_from)
        .as_secs_f64();
    Ok(Closed {
        ok,
        total,
        errors,
        window,
        rate: if window > 0.0 {
            ok as f64 / window
        } else {
            0.0
        },
        exhausted,
        sample,
    })
}

/// What an open-loop run measured.
#[derive(Debug, Clone)]
pub struct Open {
    /// The rate asked for.
    pub offered: f64,
    /// Correct answers per second in the measured window.
    pub achieved: f64,
    /// Failed requests, warm-up included.
    pub errors: Errors,
    /// Requests never sent: the connection fell more than the grace period behind, or the
    /// requests ran out.
    pub unsent: u64,
    /// Latencies of the measured window, microseconds, sorted.
    pub latencies_us: Vec<u32>,
}

impl Open {
    /// The `q` quantile (0..=1) in milliseconds.
    pub fn quantile_ms(&self, q: f64) -> f64 {
        quantile_ms(&self.latencies_us, q)
    }
}

/// The `q` quantile of sorted microsecond latencies, in milliseconds.
pub fn quantile_ms(sorted_us: &[u32], q: f64) -> f64 {
    if sorted_us.is_empty() {
        return f64::NAN;
    }
    let at = ((sorted_us.len() as f64 * q).ceil() as usize).clamp(1, sorted_us.len()) - 1;
    f64::from(sorted_us[at]) / 1000.0
}

/// Sends at `rate` requests per second over `conns` connections (connection `c` sends requests
/// `c, c + conns, ...`, request `i` intended at `t0 + i / rate`, as wrk2 does). Latency is
/// measured from the intended send time whenever the connection was still busy with its
/// previous request at that time (no coordinated omission), else from the actual send (the
/// client's own timer wake-up, up to 1 ms late in tokio, is not the server's latency).
pub async fn open(
    addr: SocketAddr,
    feed: Arc<Feed>,
    conns: usize,
    rate: f64,
    warmup: Duration,
    measure: Duration,
) -> Result<Open, String> {
    let connections = connect_all(addr, conns).await?;
    let t0 = Instant::now();
    let measure_from = t0 + warmup;
    let end = measure_from + measure;
    let mut tasks = Vec::with_capacity(conns);
    for (c, mut conn) in connections.into_iter().enumerate() {
        let feed = feed.clone();
        tasks.push(tokio::spawn(async move {
            let mut latencies = Vec::new();
            let mut ok = 0u64;
            let mut unsent = 0u64;
            let mut errors = Errors::default();
            let mut previous_done = t0;
            for k in 0usize.. {
                let i = k * conns + c;
                let intended = t0 + Duration::from_secs_f64(i as f64 / rate);
                if intended >= end {
                    break;
                }
                let Some((request, check)) = feed.get(i) else {
                    unsent += 1;
                    break;
                };
                if Instant::now() > end + GRACE {
                    // Hopelessly behind: count what is left and stop.
                    unsent += ((end - intended).as_secs_f64() * rate / conns as f64) as u64 + 1;
                    break;
                }
                if intended > Instant::now() {
                    tokio::time::sleep_until(intended.into()).await;
                }
                let busy = previous_done > intended;
                let sent = Instant::now();
                let from = if busy { intended } else { sent };
                match conn.call(request).await {
                    Ok((head, total)) => {
                        let done = Instant::now();
                        previous_done = done;
                        match verdict(conn.response(), head, total, check) {
                            None => {
                                if intended >= measure_from {
                                    ok += 1;
                                    let us = (done - from).as_micros();
                                    latencies.push(u32::try_from(us).unwrap_or(u32::MAX));
                                }
                            }
                            Some(why) => errors.add(why),
                        }
                    }
                    Err(e) => {
                        previous_done = Instant::now();
                        errors.add(format!("request failed: {e}"));
                        match Conn::connect(addr).await {
                            Ok(fresh) => conn = fresh,
                            Err(_) => tokio::time::sleep(Duration::from_millis(10)).await,
                        }
                    }
                }
            }
            (latencies, ok, unsent, errors)
        }));
    }
    let mut latencies = Vec::new();
    let mut ok = 0;
    let mut unsent = 0;
    let mut errors = Errors::default();
    for task in tasks {
        let (l, o, u, e) = tokio::time::timeout(
            (end + GRACE * 2).saturating_duration_since(Instant::now()),
            task,
        )
        .await
        .map_err(|_| "open loop: answers still missing after the grace period".to_owned())?
        .map_err(|e| format!("open loop task failed: {e}"))?;
        latencies.extend(l);
        ok += o;
        unsent += u;
        errors.merge(e);
    }
    latencies.sort_unstable();
    Ok(Open {
        offered: rate,
        achieved: ok as f64 / measure.as_secs_f64(),
        errors,
        unsent,
        latencies_us: latencies,
    })
}

/// Sends requests `0..count` of `feed` over a few connections and fails on any wrong answer
/// (seeding before the clock starts).
pub async fn send_all(addr: SocketAddr, feed: Arc<Feed>, count: usize) -> Result<(), String> {
    let conns = 8.min(count.max(1));
    let next = Arc::new(AtomicUsize::new(0));
    let mut tasks = Vec::new();
    for mut conn in connect_all(addr, conns).await? {
        let (feed, next) = (feed.clone(), next.clone());
        tasks.push(tokio::spawn(async move {
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i >= count {
                    return Ok(());
                }
                let (request, check) = feed
                    .get(i)
                    .ok_or_else(|| format!("seed request {i} missing"))?;
                let (head, total) = conn
                    .call(request)
                    .await
                    .map_err(|e| format!("seed request {i}: {e}"))?;
                if let Some(why) = verdict(conn.response(), head, total, check) {
                    return Err(format!("seed request {i}: {why}"));
                }
            }
        }));
    }
    for task in tasks {
        tokio::time::timeout(Duration::from_secs(120), task)
            .await
            .map_err(|_| "seeding timed out".to_owned())?
            .map_err(|e| format!("seeding task failed: {e}"))??;
    }
    Ok(())
}
