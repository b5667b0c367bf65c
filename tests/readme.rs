//! The README's walk-throughs, run as a new user runs them, so they cannot drift from the
//! product. Every `sh` block marked `<!-- readme-test -->` runs, in order, in one bash with
//! `set -euo pipefail`, from the repository root, against the gateway started as the README's
//! first command starts it (the dev config; here on a free port and a throw-away SQLite file).
//! Under each command, a `# {...}`, `# [...]` or `# => ...` line is an answer that must come
//! back, in order (`...` stands for anything); curl runs with `--fail-with-body`, so an admin
//! call answering 4xx fails the walk-through. The Docker block's config file, made as that block
//! makes it, must pass `check-config`.

use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_alipay-gateway");

/// How long the whole walk-through may take; it sleeps nowhere but in its polling loops.
const WALK_THROUGH: Duration = Duration::from_secs(120);

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn readme() -> String {
    std::fs::read_to_string(repo().join("README.md")).expect("README.md")
}

/// The `sh` blocks that follow a line reading `marker`, in order.
fn blocks(readme: &str, marker: &str) -> Vec<String> {
    let mut found = Vec::new();
    let mut lines = readme.lines();
    while let Some(line) = lines.next() {
        if line.trim() != marker {
            continue;
        }
        let fence = lines.by_ref().find(|l| !l.trim().is_empty());
        assert_eq!(
            fence.map(str::trim),
            Some("```sh"),
            "{marker} must stand right above a ```sh block"
        );
        let body: Vec<&str> = lines.by_ref().take_while(|l| l.trim() != "```").collect();
        found.push(body.join("\n"));
    }
    found
}

/// The answers a block promises: its `# {`, `# [` and `# => ` lines.
fn expectations(block: &str) -> Vec<String> {
    block
        .lines()
        .filter_map(|line| {
            let comment = line.trim_start().strip_prefix("# ")?;
            if let Some(text) = comment.strip_prefix("=> ") {
                Some(text.to_owned())
            } else if comment.starts_with('{') || comment.starts_with('[') {
                Some(comment.to_owned())
            } else {
                None
            }
        })
        .collect()
}

/// Where `pattern` (with `...` as a wildcard) ends in `output` after `from`, if it is there.
fn find_from(output: &str, pattern: &str, from: usize) -> Option<usize> {
    let mut at = from;
    for piece in pattern.split("...").filter(|p| !p.is_empty()) {
        at += output.get(at..)?.find(piece)? + piece.len();
    }
    Some(at)
}

/// A gateway process started from the dev config; dropping it kills it.
struct Gateway {
    child: Child,
    address: String,
}

impl Gateway {
    fn start(store_dir: &Path) -> Gateway {
        let mut command = Command::new(BIN);
        command
            .current_dir(repo())
            .args(["--log-json", "serve", "--config", "config/dev.toml"]);
        for (name, _) in std::env::vars_os() {
            if name.to_string_lossy().starts_with("GATEWAY_") {
                command.env_remove(name);
            }
        }
        let child = command
            .env("GATEWAY_SERVER__LISTEN", "127.0.0.1:0")
            .env(
                "GATEWAY_STORE__URL",
                format!("sqlite://{}/gateway.db", store_dir.display()),
            )
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("the gateway binary starts");
        // Owned by the guard from here, so a failed start still kills and reaps it.
        let mut gateway = Gateway {
            child,
            address: String::new(),
        };
        let (sent, lines) = mpsc::channel();
        let stdout = gateway.child.stdout.take().expect("stdout");
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                let _ = sent.send(line);
            }
        });
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let line = lines
                .recv_timeout(deadline.saturating_duration_since(Instant::now()))
                .expect("the gateway says it is listening");
            let Ok(v) = serde_json::from_str::<serde_json::Value>(&line) else {
                continue;
            };
            if v["message"] == "alipay-gateway listening" {
                v["address"]
                    .as_str()
                    .expect("an address")
                    .clone_into(&mut gateway.address);
                return gateway;
            }
        }
    }
}

impl Drop for Gateway {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Runs `script` in bash from the repository root; stdout and stderr, or a panic past `limit`.
fn run_bash(script: &str, limit: Duration) -> (bool, String, String) {
    let mut child = Command::new("bash")
        .arg("-c")
        .arg(script)
        .current_dir(repo())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("bash runs");
    let read = |pipe: Box<dyn Read + Send>| {
        std::thread::spawn(move || {
            let mut text = String::new();
            let _ = BufReader::new(pipe).read_to_string(&mut text);
            text
        })
    };
    let stdout = read(Box::new(child.stdout.take().expect("stdout")));
    let stderr = read(Box::new(child.stderr.take().expect("stderr")));
    let deadline = Instant::now() + limit;
    let status = loop {
        if let Some(status) = child.try_wait().expect("bash is waited for") {
            break status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!(
                "the walk-through did not finish within {limit:?}:\n{}\n{}",
                stdout.join().unwrap_or_default(),
                stderr.join().unwrap_or_default()
            );
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    (
        status.success(),
        stdout.join().unwrap_or_default(),
        stderr.join().unwrap_or_default(),
    )
}

#[test]
fn the_quick_start_runs_the_gateway_from_the_dev_config() {
    let readme = readme();
    let first_screen: String = readme.lines().take(20).collect::<Vec<_>>().join("\n");
    assert!(
        first_screen.contains("cargo run -- serve --config config/dev.toml")
            && first_screen.contains("cargo test"),
        "the README's first screen gives the run and test commands this test follows"
    );
}

#[test]
fn every_curl_walk_through_of_the_readme_answers_what_it_says() {
    // Arrange
    let readme = readme();
    let walk_through = blocks(&readme, "<!-- readme-test -->");
    assert!(
        walk_through.len() >= 4,
        "the marked blocks: {walk_through:#?}"
    );
    let store = tempfile::tempdir().unwrap();
    let gateway = Gateway::start(store.path());
    let mut script = String::from(
        "set -euo pipefail\ncurl() { command curl --fail-with-body --max-time 30 \"$@\"; }\n",
    );
    for (i, block) in walk_through.iter().enumerate() {
        let block = block
            .replace("./target/debug/alipay-gateway", BIN)
            .replace("127.0.0.1:8080", &gateway.address);
        script.push_str(&format!("echo; echo '::block {i}::'\n{block}\n"));
    }

    // Act
    let (ok, stdout, stderr) = run_bash(&script, WALK_THROUGH);

    // Assert
    assert!(
        ok,
        "a README walk-through failed:\n--- output\n{stdout}\n--- errors\n{stderr}"
    );
    for (i, block) in walk_through.iter().enumerate() {
        let start = stdout
            .find(&format!("::block {i}::"))
            .expect("every block ran");
        let end = stdout[start..]
            .find(&format!("::block {}::", i + 1))
            .map_or(stdout.len(), |n| start + n);
        let output = &stdout[start..end];
        let mut at = 0;
        for expected in expectations(block) {
            at = find_from(output, &expected, at).unwrap_or_else(|| {
                panic!(
                    "README block {i} promises\n  {expected}\nbut answered (after what came before):\n{}\n--- the block\n{block}",
                    &output[at..]
                )
            });
        }
    }
}

#[test]
fn the_docker_walk_through_makes_a_config_file_that_passes_check_config() {
    // Arrange: the block as it runs, with the image's keygen made by the binary itself.
    let readme = readme();
    let docker = blocks(&readme, "<!-- readme-test: docker -->");
    assert_eq!(docker.len(), 1, "one Docker walk-through");
    let dir = tempfile::tempdir().unwrap();
    let mut commands = Vec::new();
    let mut continued = false;
    for line in docker[0].lines() {
        // `docker` needs the image and `sudo chown` the container's uid: neither is what is tested.
        let skip = continued || line.starts_with("docker ") || line.starts_with("sudo ");
        continued = skip && line.ends_with('\\');
        if !skip {
            commands.push(line);
        }
    }
    let script = format!(
        "set -euo pipefail\ncd {dir}\n{bin} keygen --out keys/gateway >/dev/null\n{bin} keygen --out keys/merchant >/dev/null\n{body}\n",
        dir = dir.path().display(),
        bin = BIN,
        body = commands.join("\n")
    );
    let (ok, stdout, stderr) = run_bash(&script, Duration::from_secs(30));
    assert!(ok, "{stdout}\n{stderr}");

    // Act: what `docker run -e ...` gives the container, pointed at the files made here.
    let out = Command::new(BIN)
        .arg("check-config")
        .env("GATEWAY_CONFIG", dir.path().join("gateway/gateway.toml"))
        .env(
            "GATEWAY_SIGNING__PRIVATE_KEY",
            format!("file:{}/keys/gateway/private.pem", dir.path().display()),
        )
        .env("GATEWAY_ADMIN__TOKEN", "change-me")
        .output()
        .expect("check-config runs");

    // Assert
    let (stdout, stderr) = (
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr),
    );
    assert!(out.status.success(), "{stdout}\n{stderr}");
    assert!(stdout.contains("configuration ok"), "{stdout}");
    assert!(
        stdout.contains("client MY_MERCHANT: key version(s) 1"),
        "{stdout}"
    );
}
