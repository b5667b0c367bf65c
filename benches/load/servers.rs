//! The servers under test, each a child process of its own: the real `alipay-gateway` binary
//! (release build, `serve --config <temp config>`), or this bench binary re-executed as the
//! bare axum echo. A process of its own gives the server its own runtime (as in production),
//! a peak RSS of its own (`VmHWM`) and a start-up to measure.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// The test keys and client the gateway is configured with.
pub const CLIENT_ID: &str = "LOAD_BENCH_MERCHANT";

/// Where the test-only keys are.
pub fn keys_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/keys")
}

/// The gateway's payment-state store.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StoreKind {
    /// `sqlite://<temp dir>/gateway.db`, fresh for every server.
    Sqlite,
    /// `memory://`.
    Memory,
}

impl StoreKind {
    /// The name used in tables.
    pub fn name(self) -> &'static str {
        match self {
            StoreKind::Sqlite => "sqlite",
            StoreKind::Memory => "memory",
        }
    }
}

/// A peer mock server driven with the same requests: another tool's static stub of the same
/// call (see `peers.rs`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Peer {
    /// WireMock standalone (a JVM), a stub mapping answering inquiryPayment's success body.
    WireMock,
    /// Stoplight Prism (Node.js), mocking from the gateway's own OpenAPI document.
    Prism,
}

impl Peer {
    /// Both, in table order.
    pub const ALL: [Peer; 2] = [Peer::WireMock, Peer::Prism];

    /// The name used in tables.
    pub fn name(self) -> &'static str {
        match self {
            Peer::WireMock => "WireMock",
            Peer::Prism => "Prism",
        }
    }
}

/// Where the server runs relative to the driver.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Placement {
    /// Driver and server share every core (the scheduler places them).
    Unpinned,
    /// The driver on CPU 0, the server (and the sign ceiling) on the other CPUs.
    Pinned,
}

impl Placement {
    /// The name used in labels and tables.
    pub fn name(self) -> &'static str {
        match self {
            Placement::Unpinned => "unpinned",
            Placement::Pinned => "pinned",
        }
    }

    /// The `taskset -c` list of the server's CPUs; `None`: every core.
    pub fn server_cpus(self, cores: usize) -> Option<String> {
        match self {
            Placement::Unpinned => None,
            Placement::Pinned if cores <= 2 => Some("1".into()),
            Placement::Pinned => Some(format!("1-{}", cores - 1)),
        }
    }

    /// The `taskset -c` list of the driver's CPUs.
    pub fn driver_cpus(self, cores: usize) -> String {
        match self {
            Placement::Unpinned => format!("0-{}", cores.max(1) - 1),
            Placement::Pinned => "0".into(),
        }
    }

    /// How many cores the server may use.
    pub fn server_cores(self, cores: usize) -> usize {
        match self {
            Placement::Unpinned => cores,
            Placement::Pinned => (cores - 1).max(1),
        }
    }
}

/// What to start.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Target {
    /// The bench binary as the bare axum JSON echo (`mode`: see `echo.rs`).
    Echo(&'static str),
    /// The gateway binary.
    Gateway {
        /// Its store.
        store: StoreKind,
        /// `signing.sign_responses`.
        signing: bool,
    },
    /// Another tool serving the same call.
    Peer(Peer),
}

/// A running server.
pub struct Server {
    child: Child,
    /// Where it listens.
    pub addr: SocketAddr,
    /// Spawn to the `listening` log line.
    pub to_listening: Duration,
    /// Spawn to the first `GET /readyz` answered 200.
    pub to_ready: Duration,
    _dir: tempfile::TempDir,
}

/// The admin token of a namespaced run's gateway.
const ADMIN_TOKEN: &str = "LOAD-BENCH-admin-token";
/// The namespace of a namespaced run.
const NAMESPACE: &str = "load-bench";

/// The gateway's config. In a namespaced run its client is not in it: it is registered at run
/// time, in a namespace ([`register_in_namespace`]).
fn gateway_config(dir: &Path, store: StoreKind, namespace: bool) -> std::io::Result<PathBuf> {
    let keys = keys_dir();
    let keys = keys.display();
    let url = match store {
        StoreKind::Sqlite => format!("sqlite://{}/gateway.db", dir.display()),
        StoreKind::Memory => "memory://".to_owned(),
    };
    let client = if namespace {
        format!("[admin]\ntoken = \"{ADMIN_TOKEN}\"\n")
    } else {
        format!(
            "[[clients]]\nclient_id = \"{CLIENT_ID}\"\n\
             public_keys = {{ \"1\" = \"file:{keys}/TEST-ONLY-merchant-public.pem\" }}\n"
        )
    };
    let path = dir.join("gateway.toml");
    std::fs::write(
        &path,
        format!(
            r#"# Written by benches/load: the gateway as configured by default, on a fresh store.
[server]
listen = "127.0.0.1:0"
[store]
url = "{url}"
[signing]
private_key = "file:{keys}/TEST-ONLY-gateway-private.pem"
key_version = "1"
{client}"#
        ),
    )?;
    Ok(path)
}

/// One admin call over a fresh connection: the status and the body.
fn admin_call(
    addr: SocketAddr,
    path: &str,
    headers: &str,
    body: &str,
) -> Result<(u16, String), String> {
    let mut s =
        TcpStream::connect_timeout(&addr, Duration::from_secs(2)).map_err(|e| e.to_string())?;
    let _ = s.set_read_timeout(Some(Duration::from_secs(10)));
    let request = format!(
        "POST {path} HTTP/1.1\r\nhost: 127.0.0.1\r\nconnection: close\r\n\
         content-type: application/json\r\n{headers}content-length: {}\r\n\r\n{body}",
        body.len()
    );
    s.write_all(request.as_bytes()).map_err(|e| e.to_string())?;
    let mut answer = String::new();
    s.read_to_string(&mut answer).map_err(|e| e.to_string())?;
    let status = answer.get(9..12).and_then(|c| c.parse().ok()).unwrap_or(0);
    let body = answer
        .split_once("\r\n\r\n")
        .map_or("", |(_, b)| b)
        .to_owned();
    Ok((status, body))
}

/// Creates the namespace of a namespaced run and registers the bench's client in it, as a CI
/// job does.
fn register_in_namespace(addr: SocketAddr) -> Result<(), String> {
    let bearer = format!("authorization: Bearer {ADMIN_TOKEN}\r\n");
    let created = format!(r#"{{"name":"{NAMESPACE}"}}"#);
    let (status, body) = admin_call(addr, "/admin/namespaces", &bearer, &created)?;
    if status != 201 {
        return Err(format!("creating the namespace answered {status}: {body}"));
    }
    let key = std::fs::read_to_string(keys_dir().join("TEST-ONLY-merchant-public.pem"))
        .map_err(|e| e.to_string())?;
    let client = serde_json::json!({ "clientId": CLIENT_ID, "publicKeys": { "1": key } });
    let headers = format!("{bearer}gateway-namespace: {NAMESPACE}\r\n");
    let (status, body) = admin_call(addr, "/admin/clients", &headers, &client.to_string())?;
    if status != 201 {
        return Err(format!("registering the client answered {status}: {body}"));
    }
    Ok(())
}

impl Server {
    /// Starts `target` and waits until `/readyz` answers 200. `extra_env` goes to the gateway
    /// only, after the bench's own settings.
    pub fn start(
        target: Target,
        server_cpus: Option<&str>,
        extra_env: &[(String, String)],
        namespace: bool,
    ) -> Result<Server, String> {
        if let Target::Peer(peer) = target {
            return crate::peers::start(peer, server_cpus);
        }
        let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
        let (program, args, envs): (PathBuf, Vec<String>, Vec<(&str, String)>) = match target {
            Target::Gateway { store, signing } => {
                let config =
                    gateway_config(dir.path(), store, namespace).map_err(|e| e.to_string())?;
                (
                    PathBuf::from(env!("CARGO_BIN_EXE_alipay-gateway")),
                    vec![
                        "--log-json".into(),
                        "serve".into(),
                        "--config".into(),
                        config.display().to_string(),
                    ],
                    vec![(
                        "GATEWAY_SIGNING__SIGN_RESPONSES",
                        if signing { "true" } else { "false" }.into(),
                    )],
                )
            }
            Target::Peer(_) => unreachable!("peers start in peers.rs"),
            Target::Echo(mode) => (
                std::env::current_exe().map_err(|e| e.to_string())?,
                Vec::new(),
                vec![
                    ("LOAD_BENCH_ROLE", mode.to_owned()),
                    (
                        "LOAD_BENCH_KEY",
                        keys_dir()
                            .join("TEST-ONLY-gateway-private.pem")
                            .display()
                            .to_string(),
                    ),
                ],
            ),
        };
        let mut command = match server_cpus {
            Some(cpus) => {
                let mut c = Command::new("taskset");
                c.arg("-c").arg(cpus).arg(&program);
                c
            }
            None => Command::new(&program),
        };
        command
            .args(&args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit());
        // Only what is set here: a GATEWAY_* variable in the caller's shell must not change
        // what is measured.
        for (key, _) in std::env::vars() {
            if key.starts_with("GATEWAY_") {
                command.env_remove(key);
            }
        }
        for (key, value) in envs {
            command.env(key, value);
        }
        if matches!(target, Target::Gateway { .. }) {
            for (key, value) in extra_env {
                command.env(key, value);
            }
        }
        let spawned = Instant::now();
        let mut child = command
            .spawn()
            .map_err(|e| format!("cannot start {}: {e}", program.display()))?;
        let stdout = child.stdout.take().ok_or("no stdout")?;
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            let mut lines = BufReader::new(stdout).lines();
            for line in lines.by_ref() {
                let Ok(line) = line else { break };
                let Ok(v) = serde_json::from_str::<serde_json::Value>(&line) else {
                    continue;
                };
                let listening = v["message"]
                    .as_str()
                    .is_some_and(|m| m.ends_with(" listening"));
                if let (true, Some(address)) = (listening, v["address"].as_str()) {
                    let _ = tx.send((Instant::now(), address.to_owned()));
                    break;
                }
            }
            // Keep draining the log so the server never blocks on a full pipe.
            lines.for_each(drop);
        });
        let (listening_at, address) = match rx.recv_timeout(Duration::from_secs(30)) {
            Ok(v) => v,
            Err(_) => {
                let _ = child.kill();
                let _ = child.wait();
                return Err(format!("{target:?} did not log its address within 30 s"));
            }
        };
        let addr: SocketAddr = address
            .parse()
            .map_err(|e| format!("bad address {address:?}: {e}"))?;
        let deadline = Instant::now() + Duration::from_secs(30);
        let ready_at = loop {
            if readyz(addr) {
                break Instant::now();
            }
            if Instant::now() > deadline {
                let _ = child.kill();
                let _ = child.wait();
                return Err(format!("{target:?}: /readyz not 200 within 30 s"));
            }
            std::thread::sleep(Duration::from_micros(500));
        };
        if namespace && matches!(target, Target::Gateway { .. }) {
            register_in_namespace(addr).inspect_err(|_| {
                let _ = child.kill();
            })?;
        }
        Ok(Server {
            child,
            addr,
            to_listening: listening_at - spawned,
            to_ready: ready_at - spawned,
            _dir: dir,
        })
    }

    /// A server started elsewhere (a peer), owning its process and its files.
    pub fn from_child(
        child: Child,
        addr: SocketAddr,
        to_ready: Duration,
        dir: tempfile::TempDir,
    ) -> Self {
        Server {
            child,
            addr,
            to_listening: to_ready,
            to_ready,
            _dir: dir,
        }
    }

    /// The process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// A field of `/proc/<pid>/status` in KiB (`VmHWM`, `VmRSS`).
    pub fn status_kib(&self, field: &str) -> Option<u64> {
        status_kib(self.pid(), field)
    }

    /// CPU time (user + system) the process used so far.
    pub fn cpu(&self) -> Option<Duration> {
        cpu_time(&format!("/proc/{}/stat", self.pid()))
    }

    /// Stops it (SIGKILL: nothing of it is kept) and waits for it.
    pub fn stop(mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `GET /readyz` answered 200.
pub fn readyz(addr: SocketAddr) -> bool {
    let Ok(mut s) = TcpStream::connect_timeout(&addr, Duration::from_millis(200)) else {
        return false;
    };
    let _ = s.set_read_timeout(Some(Duration::from_secs(2)));
    if s.write_all(b"GET /readyz HTTP/1.1\r\nhost: 127.0.0.1\r\nconnection: close\r\n\r\n")
        .is_err()
    {
        return false;
    }
    let mut head = [0u8; 12];
    s.read_exact(&mut head).is_ok() && &head == b"HTTP/1.1 200"
}

/// A field of `/proc/<pid>/status` in KiB.
pub fn status_kib(pid: u32, field: &str) -> Option<u64> {
    let text = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    text.lines().find_map(|line| {
        let rest = line.strip_prefix(field)?.strip_prefix(':')?;
        rest.split_whitespace().next()?.parse().ok()
    })
}

/// The clock ticks per second of `/proc/*/stat` times.
pub fn clock_ticks() -> f64 {
    Command::new("getconf")
        .arg("CLK_TCK")
        .output()
        .ok()
        .and_then(|o| String::from_utf8(o.stdout).ok())
        .and_then(|s| s.trim().parse().ok())
        .unwrap_or(100.0)
}

static TICKS: std::sync::LazyLock<f64> = std::sync::LazyLock::new(clock_ticks);

/// User + system CPU time from a `/proc/.../stat` file.
pub fn cpu_time(stat: &str) -> Option<Duration> {
    let text = std::fs::read_to_string(stat).ok()?;
    // The command name may hold spaces; the fields after it are plain.
    let fields: Vec<&str> = text.rsplit_once(')')?.1.split_whitespace().collect();
    let utime: f64 = fields.get(11)?.parse().ok()?;
    let stime: f64 = fields.get(12)?.parse().ok()?;
    Some(Duration::from_secs_f64((utime + stime) / *TICKS))
}
