//! The real binary as a child process, started from a config file as a user starts it: its
//! JSON log read from stdout until the line that names its address, and kept for assertions.
//! Dropping it kills it (kill -9).

use std::io::{BufRead, BufReader, Read};
use std::path::Path;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::{Arc, Mutex, mpsc};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use serde_json::Value;

use super::PATIENCE;
use super::admin::Admin;
use super::caller::Caller;

/// How long a gateway may take to start listening, or to exit after SIGTERM, before the test
/// gives up on it.
const START_UP: Duration = Duration::from_secs(30);

/// How long a test's HTTP call may wait for an answer: a gateway that never answers fails the
/// test rather than hanging it.
const CALL_TIMEOUT: Duration = Duration::from_secs(15);

/// `alipay-gateway --log-json serve --config <config>` at `GATEWAY_LOG=info`, with no stray
/// `GATEWAY_*` settings from the test's environment: the config file alone decides.
pub fn command(config: &Path) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_alipay-gateway"));
    command
        .args(["--log-json", "serve", "--config"])
        .arg(config);
    for (name, _) in std::env::vars_os() {
        if name.to_string_lossy().starts_with("GATEWAY_") {
            command.env_remove(name);
        }
    }
    command.env("GATEWAY_LOG", "info").stdin(Stdio::null());
    command
}

/// Reads a pipe to its end on a thread, so the process never blocks on a full pipe.
pub fn drain(pipe: impl Read + Send + 'static) -> JoinHandle<String> {
    std::thread::spawn(move || {
        let mut text = String::new();
        let _ = BufReader::new(pipe).read_to_string(&mut text);
        text
    })
}

/// A running gateway process; dropping it kills it.
pub struct Gateway {
    child: Child,
    /// `http://ADDRESS`.
    pub base: String,
    http: reqwest::Client,
    stdout: Arc<Mutex<Vec<String>>>,
    readers: Option<(JoinHandle<()>, JoinHandle<String>)>,
}

impl Gateway {
    /// Starts the binary with `config` and waits for its "alipay-gateway listening" line.
    pub fn start(config: &Path) -> Gateway {
        Self::start_with(config, &[])
    }

    /// [`Gateway::start`] with extra environment settings (`GATEWAY_LOG=trace`, say).
    pub fn start_with(config: &Path, env: &[(&str, &str)]) -> Gateway {
        let mut command = command(config);
        command.envs(env.iter().copied());
        let mut child = command
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("the gateway binary starts");
        let stderr = drain(child.stderr.take().unwrap());
        let stdout = Arc::new(Mutex::new(Vec::new()));
        let (line_sent, lines) = mpsc::channel();
        let (pipe, kept) = (child.stdout.take().unwrap(), Arc::clone(&stdout));
        let stdout_reader = std::thread::spawn(move || {
            for line in BufReader::new(pipe).lines().map_while(Result::ok) {
                kept.lock().unwrap().push(line.clone());
                let _ = line_sent.send(line);
            }
        });
        let deadline = Instant::now() + START_UP;
        let address = loop {
            let wait = deadline.saturating_duration_since(Instant::now());
            match lines.recv_timeout(wait) {
                Ok(line) => {
                    let Ok(v) = serde_json::from_str::<Value>(&line) else {
                        continue;
                    };
                    if v["message"] == "alipay-gateway listening" {
                        break v["address"]
                            .as_str()
                            .expect("the listening line has an address")
                            .to_owned();
                    }
                }
                Err(e) => {
                    let _ = child.kill();
                    let status = child.wait();
                    let stdout = stdout.lock().unwrap().join("\n");
                    panic!(
                        "the gateway did not start ({e}, {status:?}):\n{stdout}\n{}",
                        stderr.join().unwrap_or_default()
                    );
                }
            }
        };
        let http = reqwest::Client::builder()
            .timeout(CALL_TIMEOUT)
            .build()
            .expect("HTTP client");
        Gateway {
            child,
            base: format!("http://{address}"),
            http,
            stdout,
            readers: Some((stdout_reader, stderr)),
        }
    }

    /// A merchant calling this gateway.
    pub fn caller(&self) -> Caller {
        Caller {
            base: self.base.clone(),
            http: self.http.clone(),
        }
    }

    /// The admin API of this gateway.
    pub fn admin(&self) -> Admin {
        Admin {
            base: self.base.clone(),
            http: self.http.clone(),
        }
    }

    /// Its log so far, one JSON line each.
    pub fn logs(&self) -> String {
        self.stdout.lock().unwrap().join("\n")
    }

    /// Kills the process and answers everything it wrote, stdout then stderr.
    pub fn logs_to_the_end(mut self) -> String {
        self.kill_9();
        let (stdout_reader, stderr) = self.readers.take().expect("the readers run");
        let _ = stdout_reader.join();
        let stderr = stderr.join().unwrap_or_default();
        format!("{}\n{stderr}", self.logs())
    }

    /// The first JSON log line with this message.
    pub fn log_line(&self, message: &str) -> Option<Value> {
        self.stdout
            .lock()
            .unwrap()
            .iter()
            .filter_map(|line| serde_json::from_str::<Value>(line).ok())
            .find(|v| v["message"] == message)
    }

    /// Waits until the log holds `count` lines with this message.
    pub async fn wait_for_log(&self, message: &str, count: usize) {
        let deadline = Instant::now() + PATIENCE;
        loop {
            let seen = self
                .stdout
                .lock()
                .unwrap()
                .iter()
                .filter_map(|line| serde_json::from_str::<Value>(line).ok())
                .filter(|v| v["message"] == message)
                .count();
            if seen >= count {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "{seen} log lines {message:?}, not {count}, within {PATIENCE:?}:\n{}",
                self.logs()
            );
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }

    /// SIGKILL: no shutdown, no flush, nothing the process can do about it.
    pub fn kill_9(&mut self) {
        self.child.kill().expect("SIGKILL the gateway");
        self.child.wait().expect("reap the gateway");
    }

    /// Kills it (kill -9) and waits for it, where a test is done with it before its end.
    pub fn stop(self) {
        drop(self);
    }

    /// SIGTERM, then waits for the process to exit; how long it took and how it ended.
    pub fn terminate(&mut self) -> (Duration, ExitStatus) {
        let started = Instant::now();
        let sent = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .expect("kill(1) runs");
        assert!(sent.success(), "SIGTERM the gateway: {sent}");
        loop {
            if let Some(status) = self.child.try_wait().expect("the gateway's status") {
                return (started.elapsed(), status);
            }
            assert!(
                started.elapsed() < START_UP,
                "the gateway still runs {START_UP:?} after SIGTERM"
            );
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    /// The CPU time the process has used so far (user + system, from `/proc`).
    pub fn cpu_time(&self) -> Duration {
        let stat = std::fs::read_to_string(format!("/proc/{}/stat", self.child.id()))
            .expect("/proc/<pid>/stat of the gateway");
        // After "pid (comm) ": state is field 3, utime 14, stime 15.
        let fields: Vec<&str> = stat
            .rsplit_once(')')
            .unwrap()
            .1
            .split_whitespace()
            .collect();
        let ticks: u64 = fields[11].parse::<u64>().unwrap() + fields[12].parse::<u64>().unwrap();
        let per_second = Command::new("getconf")
            .arg("CLK_TCK")
            .output()
            .ok()
            .and_then(|o| String::from_utf8(o.stdout).ok())
            .and_then(|t| t.trim().parse::<u64>().ok())
            .unwrap_or(100);
        Duration::from_millis(ticks * 1000 / per_second)
    }
}

/// Starts two gateways side by side (each start waits for its listening line), as a
/// deployment boots its replicas: they race on the migrations too.
pub fn both(
    first: impl FnOnce() -> Gateway + Send,
    second: impl FnOnce() -> Gateway + Send,
) -> (Gateway, Gateway) {
    std::thread::scope(|s| {
        let a = s.spawn(first);
        let b = s.spawn(second);
        (a.join().unwrap(), b.join().unwrap())
    })
}

impl Drop for Gateway {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
