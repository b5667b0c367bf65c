//! Peers: other mock servers answering the same inquiryPayment call, so the report shows the
//! gateway beside the tools a team would otherwise reach for. Both come from the npm registry,
//! installed on first use under `target/load-peers` (`LOAD_PEERS=0` leaves them out):
//!
//! - WireMock 3.13 (`wiremock`, the standalone jar; needs `java`): one stub mapping that answers
//!   the gateway's own unsigned inquiryPayment success body and headers, request journal and
//!   request logging off, as a load test would run it.
//! - Prism 5.16 (`@stoplight/prism-cli`; needs `node`): `prism mock` over the gateway's own
//!   OpenAPI document, so it validates each request (headers and body schema) and answers a body
//!   generated from the response schema.
//!
//! Neither verifies a signature or keeps state: they are the floor a stateless stub sets.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::servers::{Peer, Server};
use crate::workload::Api;

const WIREMOCK: &str = "wiremock@3.13.2";
const PRISM: &str = "@stoplight/prism-cli@5.16.0";

/// The peers that can run here, or why each cannot.
pub struct Available {
    /// The peers found or installed.
    pub ready: Vec<Peer>,
    /// Each peer left out, and why.
    pub missing: Vec<(Peer, String)>,
}

/// `target/` of this build (the bench runs as `target/release/deps/load-<hash>`).
fn target_dir() -> PathBuf {
    std::env::current_exe()
        .ok()
        .and_then(|exe| Some(exe.parent()?.parent()?.parent()?.to_path_buf()))
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target"))
}

fn prefix() -> PathBuf {
    target_dir().join("load-peers")
}

fn wiremock_jar(prefix: &Path) -> Option<PathBuf> {
    let dir = prefix.join("node_modules/wiremock/build");
    std::fs::read_dir(dir)
        .ok()?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .find(|p| p.extension().is_some_and(|x| x == "jar"))
}

fn prism_cli(prefix: &Path) -> PathBuf {
    prefix.join("node_modules/@stoplight/prism-cli/dist/index.js")
}

fn runs(program: &str, arg: &str) -> bool {
    Command::new(program)
        .arg(arg)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// Finds the peers, installing the npm packages that are missing (once per `target/`).
pub fn prepare() -> Available {
    let mut available = Available {
        ready: Vec::new(),
        missing: Vec::new(),
    };
    if std::env::var("LOAD_PEERS").is_ok_and(|v| v == "0") {
        for peer in Peer::ALL {
            available
                .missing
                .push((peer, "left out (LOAD_PEERS=0)".into()));
        }
        return available;
    }
    let prefix = prefix();
    let wanted: Vec<&str> = [
        (wiremock_jar(&prefix).is_none(), WIREMOCK),
        (!prism_cli(&prefix).exists(), PRISM),
    ]
    .into_iter()
    .filter_map(|(missing, package)| missing.then_some(package))
    .collect();
    let mut install_error = None;
    if !wanted.is_empty() {
        if runs("npm", "--version") {
            println!("installing peers with npm: {}", wanted.join(" "));
            let _ = std::fs::create_dir_all(&prefix);
            let out = Command::new("npm")
                .args(["install", "--no-audit", "--no-fund", "--loglevel=error"])
                .arg("--prefix")
                .arg(&prefix)
                .args(&wanted)
                .stdin(Stdio::null())
                .output();
            match out {
                Ok(o) if o.status.success() => {}
                Ok(o) => {
                    let text = String::from_utf8_lossy(&o.stderr);
                    install_error = Some(format!(
                        "npm install failed: {}",
                        text.lines().last().unwrap_or("").trim()
                    ));
                }
                Err(e) => install_error = Some(format!("npm install failed: {e}")),
            }
        } else {
            install_error = Some("npm is not installed".into());
        }
    }
    let why_not = |what: &str| install_error.clone().unwrap_or_else(|| what.to_owned());
    if !runs("java", "-version") {
        available
            .missing
            .push((Peer::WireMock, "java is not installed".into()));
    } else if wiremock_jar(&prefix).is_none() {
        available
            .missing
            .push((Peer::WireMock, why_not("the wiremock jar is missing")));
    } else {
        available.ready.push(Peer::WireMock);
    }
    if !runs("node", "--version") {
        available
            .missing
            .push((Peer::Prism, "node is not installed".into()));
    } else if !prism_cli(&prefix).exists() {
        available
            .missing
            .push((Peer::Prism, why_not("prism-cli is missing")));
    } else {
        available.ready.push(Peer::Prism);
    }
    available
}

/// The gateway's unsigned inquiryPayment success answer, which the WireMock stub returns.
pub const INQUIRY_ANSWER: &str = r#"{"result":{"resultCode":"SUCCESS","resultMessage":"success","resultStatus":"S"},"paymentResult":{"resultCode":"SUCCESS","resultMessage":"Success","resultStatus":"S"},"paymentId":"LOAD-PAY-000000001","paymentTime":"2026-11-22T10:00:00+08:00"}"#;

fn wiremock_mapping() -> String {
    serde_json::json!({
        "request": { "method": "POST", "urlPath": Api::InquiryPayment.path() },
        "response": {
            "status": 200,
            "body": INQUIRY_ANSWER,
            "headers": {
                "content-type": "application/json",
                // Jetty would send the fixed body chunked otherwise.
                "content-length": INQUIRY_ANSWER.len().to_string(),
                "client-id": crate::servers::CLIENT_ID,
                "response-time": "",
                "signature": "algorithm=RSA256,keyVersion=1,signature="
            }
        }
    })
    .to_string()
}

fn free_port() -> Result<u16, String> {
    let listener = TcpListener::bind("127.0.0.1:0").map_err(|e| e.to_string())?;
    Ok(listener.local_addr().map_err(|e| e.to_string())?.port())
}

/// One POST of a signed inquiryPayment answered HTTP 200.
fn answers(addr: SocketAddr, request: &[u8]) -> bool {
    let Ok(mut s) = TcpStream::connect_timeout(&addr, Duration::from_millis(200)) else {
        return false;
    };
    let _ = s.set_read_timeout(Some(Duration::from_secs(5)));
    if s.write_all(request).is_err() {
        return false;
    }
    let mut head = [0u8; 12];
    s.read_exact(&mut head).is_ok() && &head == b"HTTP/1.1 200"
}

/// Starts `peer` on a free port of 127.0.0.1 (on `server_cpus`) and waits until it answers
/// a signed inquiryPayment with 200.
pub fn start(peer: Peer, server_cpus: Option<&str>) -> Result<Server, String> {
    let prefix = prefix();
    let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
    let port = free_port()?;
    let (program, args): (&str, Vec<String>) = match peer {
        Peer::WireMock => {
            let mappings = dir.path().join("mappings");
            std::fs::create_dir_all(&mappings).map_err(|e| e.to_string())?;
            std::fs::write(mappings.join("inquiry.json"), wiremock_mapping())
                .map_err(|e| e.to_string())?;
            let jar = wiremock_jar(&prefix).ok_or("the wiremock jar is missing")?;
            (
                "java",
                vec![
                    "-jar".into(),
                    jar.display().to_string(),
                    "--bind-address".into(),
                    "127.0.0.1".into(),
                    "--port".into(),
                    port.to_string(),
                    "--root-dir".into(),
                    dir.path().display().to_string(),
                    "--no-request-journal".into(),
                    "--disable-banner".into(),
                ],
            )
        }
        Peer::Prism => {
            let spec = dir.path().join("openapi.json");
            let document =
                alipay_gateway::api::openapi::document("/aps/api/v1/payments/notifyPayment");
            std::fs::write(
                &spec,
                serde_json::to_vec(&document).map_err(|e| e.to_string())?,
            )
            .map_err(|e| e.to_string())?;
            (
                "node",
                vec![
                    prism_cli(&prefix).display().to_string(),
                    "mock".into(),
                    "--host".into(),
                    "127.0.0.1".into(),
                    "--port".into(),
                    port.to_string(),
                    "--errors".into(),
                    "false".into(),
                    spec.display().to_string(),
                ],
            )
        }
    };
    let mut command = match server_cpus {
        Some(cpus) => {
            let mut c = Command::new("taskset");
            c.arg("-c").arg(cpus).arg(program);
            c
        }
        None => Command::new(program),
    };
    let spawned = Instant::now();
    let mut child = command
        .args(&args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("cannot start {}: {e}", peer.name()))?;
    // Drain both pipes so a chatty peer never blocks on them.
    for pipe in [
        child
            .stdout
            .take()
            .map(|p| Box::new(p) as Box<dyn Read + Send>),
        child
            .stderr
            .take()
            .map(|p| Box::new(p) as Box<dyn Read + Send>),
    ]
    .into_iter()
    .flatten()
    {
        std::thread::spawn(move || BufReader::new(pipe).lines().for_each(drop));
    }
    let addr: SocketAddr = ([127, 0, 0, 1], port).into();
    let probe = crate::workload::probe(Api::InquiryPayment);
    let deadline = spawned + Duration::from_secs(60);
    loop {
        if answers(addr, &probe) {
            break;
        }
        if let Ok(Some(status)) = child.try_wait() {
            return Err(format!("{} exited at start-up: {status}", peer.name()));
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            return Err(format!("{} did not answer within 60 s", peer.name()));
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    Ok(Server::from_child(child, addr, spawned.elapsed(), dir))
}
