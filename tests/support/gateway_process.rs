//! The real binary as a child process, started from a config file as a user starts it: its
//! JSON log read from stdout until the line that names its address, and kept for assertions.
//! Dropping it kills it (kill -9).

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex, mpsc};
use std::time::{Duration, Instant};

use serde_json::Value;

/// A running gateway; dropping it kills it.
pub struct Gateway {
    pub child: Child,
    /// `http://ADDRESS`.
    pub base: String,
    logs: Arc<Mutex<Vec<String>>>,
}

impl Gateway {
    /// Starts `alipay-gateway serve --config CONFIG` with no `GATEWAY_*` variable of the test's
    /// environment, and waits (at most 30 s) until it listens.
    pub fn start(config: &Path) -> Gateway {
        let mut command = Command::new(env!("CARGO_BIN_EXE_alipay-gateway"));
        command
            .args(["--log-json", "serve", "--config"])
            .arg(config);
        for (name, _) in std::env::vars_os() {
            if name.to_string_lossy().starts_with("GATEWAY_") {
                command.env_remove(name);
            }
        }
        let mut child = command
            .env("GATEWAY_LOG", "info")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("the gateway binary starts");
        let logs = Arc::new(Mutex::new(Vec::new()));
        let (tx, rx) = mpsc::channel();
        let (pipe, kept) = (child.stdout.take().unwrap(), Arc::clone(&logs));
        std::thread::spawn(move || {
            for line in BufReader::new(pipe).lines().map_while(Result::ok) {
                kept.lock().unwrap().push(line.clone());
                let _ = tx.send(line);
            }
        });
        let deadline = Instant::now() + Duration::from_secs(30);
        let address = loop {
            let line = rx
                .recv_timeout(deadline.saturating_duration_since(Instant::now()))
                .unwrap_or_else(|e| {
                    let _ = child.kill();
                    panic!(
                        "the gateway did not start ({e}):\n{}",
                        logs.lock().unwrap().join("\n")
                    )
                });
            if let Ok(v) = serde_json::from_str::<Value>(&line)
                && v["message"] == "alipay-gateway listening"
            {
                break v["address"].as_str().unwrap().to_owned();
            }
        };
        Gateway {
            child,
            base: format!("http://{address}"),
            logs,
        }
    }

    /// Kills it (kill -9) and waits for it.
    #[allow(dead_code)] // Not every test binary stops a gateway before its end.
    pub fn stop(mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// Its log so far, one JSON line each.
    pub fn logs(&self) -> String {
        self.logs.lock().unwrap().join("\n")
    }
}

impl Drop for Gateway {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
