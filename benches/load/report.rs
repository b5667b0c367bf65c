//! BENCHMARKS.md: the machine, the command, every figure, the targets with PASS/MISS, and notes
//! on what the figures say, all generated from one run.

use std::fmt::Write as _;
use std::time::Duration;

use crate::profile::COMPONENTS;
use crate::servers::{Placement, StoreKind, Target};
use crate::workload::Api;
use crate::{Ceiling, Opts, Results, Scenario, median};

const MIB: f64 = 1024.0;
const RSS_LIMIT_MIB: f64 = 64.0;
const P99_LIMIT_MS: f64 = 5.0;
const STARTUP_LIMIT_MS: f64 = 200.0;

/// The throughput targets, pinned: signing on, x the sign ceiling; signing off, x the bare
/// echo.
fn target(signing: bool, store: StoreKind, api: Api) -> f64 {
    match (signing, store, api) {
        (true, StoreKind::Memory, _) => 0.95,
        (true, StoreKind::Sqlite, _) => 0.9,
        (false, StoreKind::Memory, _) => 0.5,
        (false, StoreKind::Sqlite, Api::InquiryPayment) => 0.35,
        (false, StoreKind::Sqlite, _) => 0.25,
    }
}

fn read(path: &str) -> String {
    std::fs::read_to_string(path).unwrap_or_default()
}

fn cpu_model() -> String {
    read("/proc/cpuinfo")
        .lines()
        .find_map(|l| {
            l.strip_prefix("model name")
                .and_then(|r| r.split_once(':'))
                .map(|(_, v)| v.trim().to_owned())
        })
        .unwrap_or_else(|| "unknown".into())
}

fn cpu_flags() -> String {
    let cpuinfo = read("/proc/cpuinfo");
    let flags: Vec<&str> = cpuinfo
        .lines()
        .find_map(|l| l.strip_prefix("flags").and_then(|r| r.split_once(':')))
        .map(|(_, v)| v.split_whitespace().collect())
        .unwrap_or_default();
    ["avx2", "avx512f", "avx512ifma", "sha_ni", "adx", "bmi2"]
        .into_iter()
        .filter(|f| flags.contains(f))
        .collect::<Vec<_>>()
        .join(" ")
}

fn mem_total() -> String {
    read("/proc/meminfo")
        .lines()
        .find_map(|l| l.strip_prefix("MemTotal:"))
        .and_then(|v| v.split_whitespace().next()?.parse::<f64>().ok())
        .map_or_else(
            || "unknown".into(),
            |kib| format!("{:.1} GiB", kib / MIB / MIB),
        )
}

fn rustc_version() -> String {
    std::process::Command::new(std::env::var("RUSTC").unwrap_or_else(|_| "rustc".into()))
        .arg("--version")
        .output()
        .ok()
        .and_then(|o| String::from_utf8(o.stdout).ok())
        .map_or_else(|| "unknown".into(), |s| s.trim().to_owned())
}

fn verdict(pass: bool) -> &'static str {
    if pass { "PASS" } else { "**MISS**" }
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

fn opt(v: Option<f64>, digits: usize) -> String {
    v.filter(|v| v.is_finite())
        .map_or_else(|| "n/a".into(), |v| format!("{v:.digits$}"))
}

/// The command line that reproduces this run: the knobs set, then the command.
fn command(opts: &Opts) -> String {
    let mut knobs = Vec::new();
    for key in [
        "LOAD_SECONDS",
        "LOAD_WARMUP_SECONDS",
        "LOAD_ROUNDS",
        "LOAD_CONNECTIONS",
        "LOAD_SOAK_SECONDS",
        "LOAD_CEILING_SECONDS",
        "LOAD_DRIVER_THREADS",
        "LOAD_MAX_POOL",
        "LOAD_SEED",
        "LOAD_PLACEMENT",
        "LOAD_PEERS",
        "LOAD_ONLY",
        "LOAD_GATEWAY_ENV",
        "LOAD_NAMESPACE",
    ] {
        if let Ok(v) = std::env::var(key) {
            knobs.push(format!("{key}={v}"));
        }
    }
    let _ = opts;
    knobs.push("cargo bench --bench load".into());
    knobs.join(" ")
}

fn rss_mib(sc: &Scenario) -> f64 {
    sc.hwm_kib.max(sc.open_hwm_kib) as f64 / MIB
}

/// Figures of each round, whole numbers, comma-separated.
fn per_round(figures: &[f64]) -> String {
    figures
        .iter()
        .map(|c| format!("{c:.0}"))
        .collect::<Vec<_>>()
        .join(", ")
}

fn p99(sc: &Scenario) -> Option<f64> {
    sc.open.as_ref().map(|o| o.quantile_ms(0.99))
}

fn p50(sc: &Scenario) -> Option<f64> {
    sc.open.as_ref().map(|o| o.quantile_ms(0.50))
}

fn range(sc: &Scenario) -> String {
    let min = sc.rates.iter().copied().fold(f64::INFINITY, f64::min);
    let max = sc.rates.iter().copied().fold(0.0, f64::max);
    if sc.rates.len() > 1 {
        format!(" ({min:.0}–{max:.0})")
    } else {
        String::new()
    }
}

fn ceiling_of(r: &Results, placement: Placement) -> Option<&Ceiling> {
    r.ceilings.iter().find(|c| c.placement == placement)
}

fn placed(r: &Results, placement: Placement) -> impl Iterator<Item = &Scenario> {
    r.scenarios
        .iter()
        .filter(move |sc| sc.placement == placement)
}

fn echo_of(r: &Results, placement: Placement) -> Option<&Scenario> {
    placed(r, placement).find(|sc| sc.target == Target::Echo("echo"))
}

fn placement_title(placement: Placement, cores: usize) -> String {
    match placement {
        Placement::Unpinned => "Unpinned: driver and server share every core".into(),
        Placement::Pinned => format!(
            "Pinned: the server on CPU {}, the driver on CPU 0",
            placement.server_cpus(cores).unwrap_or_default()
        ),
    }
}

/// The whole report.
pub fn markdown(r: &Results) -> String {
    let o = &r.opts;
    let mut s = String::new();
    let errors: u64 = r.scenarios.iter().map(|s| s.errors.count).sum::<u64>()
        + r.soaks.iter().map(|s| s.errors.count).sum::<u64>();

    let _ = writeln!(s, "# Benchmarks\n");
    let _ = writeln!(
        s,
        "Generated by `{}` on {} (UTC); the whole run took {:.0} s. Do not edit: run the command \
         again. The method: a shared 2-core VM is noisy (up to 1.5–2x over minutes), so \
         closed-loop figures are medians of {} interleaved rounds and every ratio divides two \
         figures of the same run, in the same placement.\n",
        command(o),
        chrono::Utc::now().format("%Y-%m-%d %H:%M"),
        r.wall.as_secs_f64(),
        o.rounds
    );
    if errors > 0 {
        let _ = writeln!(
            s,
            "**{errors} requests failed in this run: the figures below are not valid.**\n"
        );
    }
    if !o.gateway_env.is_empty() {
        let _ = writeln!(
            s,
            "**Diagnostic run: the gateway ran with `{}` (`LOAD_GATEWAY_ENV`), not its defaults.**\n",
            o.gateway_env
                .iter()
                .map(|(k, v)| format!("{k}={v}"))
                .collect::<Vec<_>>()
                .join(" ")
        );
    }
    if o.namespace {
        let _ = writeln!(
            s,
            "**Namespaced run (`LOAD_NAMESPACE=1`): the bench's client was registered at run time \
             in a namespace, so every gateway request took the namespaced path.**\n"
        );
    }
    if o.only.is_some() {
        let _ = writeln!(
            s,
            "**Partial run (`LOAD_ONLY`): only some scenarios were measured.**\n"
        );
    }

    machine(&mut s, r);
    setup(&mut s, r);
    for &placement in &o.placements {
        placement_section(&mut s, r, placement);
    }
    signing_placement(&mut s, r);
    let sqlite_starts = startup(&mut s, r);
    let soak_flat = soaks(&mut s, r);
    profiles(&mut s, r);
    targets(&mut s, r, &sqlite_starts, &soak_flat);
    notes(&mut s, r, &soak_flat);

    let failing: Vec<&Scenario> = r.scenarios.iter().filter(|s| s.errors.count > 0).collect();
    if !failing.is_empty() || r.soaks.iter().any(|k| k.errors.count > 0) {
        let _ = writeln!(s, "## Failed requests\n");
        for sc in failing {
            let _ = writeln!(s, "- {}: {} failed", sc.label(), sc.errors.count);
            for e in &sc.errors.samples {
                let _ = writeln!(s, "  - `{}`", e.replace('`', "'"));
            }
        }
        for k in r.soaks.iter().filter(|k| k.errors.count > 0) {
            let _ = writeln!(s, "- soak {}: {} failed", k.store.name(), k.errors.count);
            for e in &k.errors.samples {
                let _ = writeln!(s, "  - `{}`", e.replace('`', "'"));
            }
        }
        let _ = writeln!(s);
    }
    s
}

fn machine(s: &mut String, r: &Results) {
    let o = &r.opts;
    let _ = writeln!(s, "## Machine\n");
    let _ = writeln!(s, "| | |\n|---|---|");
    let _ = writeln!(s, "| nproc | {} |", o.cores);
    let _ = writeln!(s, "| CPU | {} (flags: {}) |", cpu_model(), cpu_flags());
    let _ = writeln!(s, "| memory | {} |", mem_total());
    let _ = writeln!(
        s,
        "| kernel | {} |",
        read("/proc/sys/kernel/osrelease").trim()
    );
    let _ = writeln!(s, "| rustc | {} |", rustc_version());
    let _ = writeln!(
        s,
        "| load average (1, 5, 15 min) | {} at the start, {} at the end |",
        r.loadavg.0, r.loadavg.1
    );
    let placements: Vec<String> = o
        .placements
        .iter()
        .map(|p| placement_title(*p, o.cores).to_lowercase())
        .collect();
    let _ = writeln!(s, "| placements | {} |\n", placements.join("; "));
}

fn setup(s: &mut String, r: &Results) {
    let o = &r.opts;
    let _ = writeln!(s, "## Set-up\n");
    let _ = writeln!(
        s,
        "- Server: the real `alipay-gateway` binary, built by `cargo bench` with the release \
         settings (`lto = \"thin\"`, `codegen-units = 1`), started as a child process with \
         `--log-json serve --config <temp config>`: listen `127.0.0.1:0`, a fresh store for \
         every start (`sqlite://<temp dir>/gateway.db` or `memory://`), the TEST-ONLY gateway \
         key, one client (the TEST-ONLY merchant key), every other setting its default \
         (notification sender, journal, log level info). Signing off is \
         `GATEWAY_SIGNING__SIGN_RESPONSES=false`; requests are verified either way. Its runtime \
         has one worker per core it may use."
    );
    let _ = writeln!(
        s,
        "- Placements: every scenario runs twice, interleaved within each round: unpinned (the \
         scheduler places the driver and the server on any core) and pinned (`taskset`: the \
         server, and the sign ceiling, on CPU 1; every thread of the driver on CPU 0), so the \
         server's figures are its own and not shared with the load generator."
    );
    let _ = writeln!(
        s,
        "- Baseline: a bare axum JSON echo built into the bench binary and run as a child \
         process of its own, served like the gateway (default multi-thread runtime, hyper \
         HTTP/1.1 with the same builder settings, Nagle off): it parses the JSON body and \
         answers it back. No tracing, no pipeline, no store."
    );
    let _ = writeln!(
        s,
        "- Ceiling: RSA-2048 PKCS#1 v1.5 SHA-256 signs per second with aws-lc-rs (the \
         gateway's `signature::sign`, base64 included) over a typical response, one thread per \
         core the server gets, {:.1} s per round, measured at the start of every round with no \
         server running.",
        o.ceiling_seconds
    );
    let _ = writeln!(
        s,
        "- Peers: WireMock 3.13.2 (the npm package's standalone jar on the machine's Java; one \
         stub mapping answering inquiryPayment's unsigned success body and headers; request \
         journal off) and Prism 5.16.0 (`prism mock` over the gateway's own OpenAPI document, \
         validating each request's headers and body; on the machine's Node.js), installed with \
         npm under `target/load-peers` on first use. They get the same signed inquiryPayment \
         requests and connections; an answer counts when it is HTTP 200 with a body. A peer \
         gets at least 15 s of warm-up (JIT: WireMock on one core is still getting faster \
         after 10 s). Neither verifies a signature nor keeps state."
    );
    let _ = writeln!(
        s,
        "- Driver: a hand-rolled HTTP/1.1 keep-alive client on a tokio runtime in the bench \
         process ({} workers unpinned, one on its core pinned), {} connections to 127.0.0.1. Requests are complete byte strings built \
         and signed with the merchant key before any clock starts ({} signed in {:.1} s). \
         Writes carry unique ids (notifyPushPayment: paymentId and paymentRequestId; \
         sendPaymentResult: referenceTransactionId), each sent once per server; inquiryPayment \
         reads {} payments written by notifyPushPayment before the clock starts, in turn. Every \
         answer is checked: HTTP 200, `result` SUCCESS/S (inquiryPayment: `paymentResult` \
         SUCCESS too), a `signature` header with a value when signing is on and an empty one \
         when it is off; one signed answer per run is verified with the gateway's public key \
         ({} verified here).",
        o.driver_threads,
        o.conns,
        r.presigned.0,
        r.presigned.1.as_secs_f64(),
        o.seed,
        r.scenarios.iter().map(|sc| sc.verified).sum::<usize>()
    );
    let _ = writeln!(
        s,
        "- Throughput: closed loop (each connection sends its next request when the answer \
         arrives), {:.1} s warm-up then {:.1} s measured, a fresh server each time; {} rounds, \
         the scenarios interleaved within a round; median (min–max). A run also stops when its \
         pre-signed requests run out (count bound; at most {} per write API), then its window is \
         shorter.",
        o.warmup, o.seconds, o.rounds, o.max_pool
    );
    let _ = writeln!(
        s,
        "- Latency: open loop at half the median maximum, a fresh server, {:.1} s warm-up then \
         {:.1} s measured; request i is intended at t0 + i/rate (connection c sends requests c, \
         c + {}, ...). Latency runs from the intended send time when the connection was still \
         busy then (no coordinated omission), else from the actual send (the client's own timer \
         wake-up, up to 1 ms late in tokio, is not the server's latency).",
        o.warmup, o.seconds, o.conns
    );
    let _ = writeln!(
        s,
        "- Peak RSS: `VmHWM` of the server process at the end of each run (the highest of the \
         closed and open runs). CPU per request: the server's and the driver's user + system \
         time over a closed-loop run (warm-up included) divided by its answers; median of the \
         rounds. Start-up: spawn to the `listening` log line and to the first `GET /readyz` 200, \
         on a new SQLite file (migrations included), every start of the run.\n"
    );
}

/// The ratio of a scenario's throughput to its reference (the ceiling or the echo).
fn ratio_to(sc: &Scenario, reference: Option<f64>) -> Option<f64> {
    sc.rate()
        .zip(reference)
        .map(|(a, b)| a / b)
        .filter(|x| x.is_finite())
}

fn placement_section(s: &mut String, r: &Results, placement: Placement) {
    let o = &r.opts;
    let pinned = placement == Placement::Pinned;
    let _ = writeln!(s, "## {}\n", placement_title(placement, o.cores));
    let ceiling = ceiling_of(r, placement);
    let ceiling_rate = ceiling.and_then(|c| median(&c.rates));
    let sign_us = ceiling.and_then(|c| median(&c.sign_cpu_us));
    let echo = echo_of(r, placement);
    let baseline = echo.and_then(Scenario::rate);
    let echo_cpu = echo.and_then(|e| median(&e.server_cpu_us));
    let _ = writeln!(s, "| | median | per round |\n|---|---|---|");
    if let Some(c) = ceiling {
        let _ = writeln!(
            s,
            "| sign ceiling, signs/s on {} thread(s) | {} | {} |",
            c.threads,
            opt(ceiling_rate, 0),
            per_round(&c.rates)
        );
        let _ = writeln!(
            s,
            "| one sign, µs of CPU (the signing threads' CPU time / signs) | {} | {} |",
            opt(sign_us, 0),
            per_round(&c.sign_cpu_us)
        );
    }
    let _ = writeln!(
        s,
        "| one request-signature verification, µs of CPU (one thread, on the server's core) | {} | {} |",
        opt(median(&r.verify_cpu_us), 0),
        per_round(&r.verify_cpu_us)
    );
    if let Some(e) = echo {
        let _ = writeln!(
            s,
            "| bare axum echo, req/s | {} | {} |",
            opt(baseline, 0),
            per_round(&e.rates)
        );
        let _ = writeln!(
            s,
            "| echo at half load: p50 / p99 ms; peak RSS MiB; server / driver CPU µs per request | {} / {}; {:.1}; {} / {} | |",
            opt(p50(e), 2),
            opt(p99(e), 2),
            rss_mib(e),
            opt(echo_cpu, 0),
            opt(median(&e.driver_cpu_us), 0),
        );
    }
    let _ = writeln!(s);

    for signing in [true, false] {
        let rows: Vec<&Scenario> = placed(r, placement)
            .filter(|sc| matches!(sc.target, Target::Gateway { signing: g, .. } if g == signing))
            .collect();
        if rows.is_empty() {
            continue;
        }
        let _ = writeln!(
            s,
            "### Gateway, response signing {} ({}){}\n",
            if signing { "on" } else { "off" },
            if signing {
                "ratio to the sign ceiling"
            } else {
                "ratio to the bare echo"
            },
            if pinned {
                ""
            } else {
                "; the throughput targets are for the pinned placement"
            }
        );
        let _ = writeln!(
            s,
            "| API | store | req/s, median (min–max) | ratio | target | | CPU ratio | p50 @ half ms | p99 @ half ms | < {P99_LIMIT_MS} ms | peak RSS MiB | < {RSS_LIMIT_MIB} MiB | server / driver CPU µs/req | errors |"
        );
        let _ = writeln!(
            s,
            "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|"
        );
        for sc in rows {
            let Target::Gateway { store, .. } = sc.target else {
                continue;
            };
            let reference = if signing { ceiling_rate } else { baseline };
            let goal = target(signing, store, sc.api);
            let ratio = ratio_to(sc, reference);
            let p99v = p99(sc);
            let server_cpu = median(&sc.server_cpu_us);
            let cpu_ratio = if signing { sign_us } else { echo_cpu }
                .zip(server_cpu)
                .map(|(a, b)| a / b);
            let (goal_text, goal_verdict) = if pinned {
                (
                    format!(">= {goal}"),
                    ratio.map_or("n/a", |x| verdict(x >= goal)),
                )
            } else {
                (format!("({goal} pinned)"), "")
            };
            let _ = writeln!(
                s,
                "| {} | {} | {}{}{} | {} | {} | {} | {} | {} | {} | {} | {:.1} | {} | {} / {} | {} |",
                sc.api.name(),
                store.name(),
                opt(sc.rate(), 0),
                range(sc),
                if sc.exhausted > 0 {
                    format!(
                        " [{} round(s) count-bound, shortest {:.1} s]",
                        sc.exhausted, sc.shortest_window
                    )
                } else {
                    String::new()
                },
                opt(ratio, 3),
                goal_text,
                goal_verdict,
                opt(cpu_ratio, 3),
                opt(p50(sc), 2),
                opt(p99v, 2),
                p99v.map_or("n/a", |p| verdict(p < P99_LIMIT_MS)),
                rss_mib(sc),
                if store == StoreKind::Sqlite {
                    verdict(rss_mib(sc) < RSS_LIMIT_MIB)
                } else {
                    "(no target)"
                },
                opt(server_cpu, 0),
                opt(median(&sc.driver_cpu_us), 0),
                sc.errors.count
            );
        }
        let _ = writeln!(s);
    }
    let _ = writeln!(
        s,
        "CPU ratio: the same ratio from CPU time instead of wall time, i.e. the throughput ratio \
         the server would reach with its cores to itself: signing on, one sign's CPU / the \
         server's CPU per request; signing off, the echo's server CPU per request / the \
         gateway's. Other work on the machine hardly moves it, unlike req/s.\n"
    );
    peers_table(s, r, placement, baseline);
}

/// The gateway's inquiryPayment beside the peers' stubs of the same call.
fn peers_table(s: &mut String, r: &Results, placement: Placement, baseline: Option<f64>) {
    let rows: Vec<&Scenario> = placed(r, placement)
        .filter(|sc| match sc.target {
            Target::Peer(_) => true,
            Target::Gateway { .. } => sc.api == Api::InquiryPayment,
            Target::Echo(mode) => mode == "echo",
        })
        .collect();
    if !rows.iter().any(|sc| matches!(sc.target, Target::Peer(_))) && r.peers_missing.is_empty() {
        return;
    }
    let _ = writeln!(s, "### inquiryPayment beside other mocks\n");
    let _ = writeln!(
        s,
        "| server | req/s, median (min–max) | x bare echo | p50 @ half ms | p99 @ half ms | peak RSS MiB | server CPU µs/req | verifies the signature | keeps state | errors |\n|---|---|---|---|---|---|---|---|---|---|"
    );
    for sc in rows {
        let (name, verifies, state) = match sc.target {
            Target::Echo(_) => ("bare axum echo".to_owned(), "no", "no"),
            Target::Gateway { store, signing } => (
                format!(
                    "alipay-gateway, {}, response signing {}",
                    store.name(),
                    if signing { "on" } else { "off" }
                ),
                "yes",
                "yes",
            ),
            Target::Peer(peer) => (format!("{} (static stub)", peer.name()), "no", "no"),
        };
        let _ = writeln!(
            s,
            "| {name} | {}{} | {} | {} | {} | {:.1} | {} | {verifies} | {state} | {} |",
            opt(sc.rate(), 0),
            range(sc),
            opt(ratio_to(sc, baseline), 3),
            opt(p50(sc), 2),
            opt(p99(sc), 2),
            rss_mib(sc),
            opt(median(&sc.server_cpu_us), 0),
            sc.errors.count
        );
    }
    for (peer, why) in &r.peers_missing {
        let _ = writeln!(s, "| {} | not run: {why} | | | | | | | | |", peer.name());
    }
    let _ = writeln!(s);
}

fn signing_placement(s: &mut String, r: &Results) {
    let rows: Vec<&Scenario> = r
        .scenarios
        .iter()
        .filter(|sc| matches!(sc.target, Target::Echo(m) if m != "echo"))
        .collect();
    let Some(first) = rows.first() else {
        return;
    };
    let ceiling = ceiling_of(r, first.placement).and_then(|c| median(&c.rates));
    let _ = writeln!(
        s,
        "## Signing inline or on a blocking pool ({})\n",
        first.placement.name()
    );
    let _ = writeln!(
        s,
        "The gateway signs inline on the runtime worker (`api::pipeline::seal`). Trying a \
         blocking pool there needs a change in src/, so the comparison runs on the echo \
         instead: the same bare echo, its answer signed as the gateway signs, inline, in \
         `spawn_blocking` (tokio's default pool, up to 512 threads) and in `spawn_blocking` with \
         the pool bounded to one thread per core.\n"
    );
    let _ = writeln!(
        s,
        "| signing | req/s, median (min–max) | x ceiling | p50 @ half ms | p99 @ half ms | p99.9 @ half ms | peak RSS MiB | server CPU µs/req | errors |\n|---|---|---|---|---|---|---|---|---|"
    );
    for sc in rows {
        let Target::Echo(mode) = sc.target else {
            continue;
        };
        let _ = writeln!(
            s,
            "| {} | {}{} | {} | {} | {} | {} | {:.1} | {} | {} |",
            mode.trim_start_matches("echo-sign-"),
            opt(sc.rate(), 0),
            range(sc),
            opt(ratio_to(sc, ceiling), 3),
            opt(p50(sc), 2),
            opt(p99(sc), 2),
            opt(sc.open.as_ref().map(|o| o.quantile_ms(0.999)), 2),
            rss_mib(sc),
            opt(median(&sc.server_cpu_us), 0),
            sc.errors.count
        );
    }
    let _ = writeln!(s);
}

type Starts = Vec<(Duration, Duration)>;

fn starts_of(r: &Results, of: StoreKind) -> Starts {
    r.scenarios
        .iter()
        .filter(|sc| matches!(sc.target, Target::Gateway { store, .. } if store == of))
        .flat_map(|sc| sc.startups.iter().copied())
        .collect()
}

fn startup_median(v: &[(Duration, Duration)], ready: bool) -> Option<f64> {
    median(
        &v.iter()
            .map(|(l, r)| ms(if ready { *r } else { *l }))
            .collect::<Vec<_>>(),
    )
}

fn startup_max(v: &[(Duration, Duration)]) -> Option<f64> {
    v.iter()
        .map(|(_, r)| ms(*r))
        .fold(None, |m: Option<f64>, x| Some(m.map_or(x, |m| m.max(x))))
}

/// The start-up table; answers SQLite's starts for the targets.
fn startup(s: &mut String, r: &Results) -> Starts {
    let sqlite_starts = starts_of(r, StoreKind::Sqlite);
    let memory_starts = starts_of(r, StoreKind::Memory);
    let _ = writeln!(s, "## Start-up\n");
    let _ = writeln!(
        s,
        "| store | starts | spawn to `listening` log, median ms | spawn to `/readyz` 200, median ms | max ms | < {STARTUP_LIMIT_MS} ms (median) |\n|---|---|---|---|---|---|"
    );
    for (name, starts) in [("sqlite", &sqlite_starts), ("memory", &memory_starts)] {
        if starts.is_empty() {
            continue;
        }
        let med = startup_median(starts, true);
        let _ = writeln!(
            s,
            "| {name} | {} | {} | {} | {} | {} |",
            starts.len(),
            opt(startup_median(starts, false), 1),
            opt(med, 1),
            opt(startup_max(starts), 1),
            if name == "sqlite" {
                med.map_or("n/a", |m| verdict(m < STARTUP_LIMIT_MS))
            } else {
                "(no target)"
            }
        );
    }
    let _ = writeln!(s);
    sqlite_starts
}

/// The RSS runs; answers whether each store's RSS stayed flat.
fn soaks(s: &mut String, r: &Results) -> Vec<(StoreKind, bool)> {
    let mut soak_flat = Vec::new();
    if r.soaks.is_empty() {
        return soak_flat;
    }
    let _ = writeln!(
        s,
        "## RSS over a longer run ({})\n",
        r.opts.placements[0].name()
    );
    let _ = writeln!(
        s,
        "Closed loop, {} connections, signing on, a fresh server, a third each of \
         notifyPushPayment (unique writes), sendPaymentResult (unique writes) and \
         inquiryPayment (reads, each of the payment pushed {} pushes earlier); `VmRSS` sampled \
         every second. Flat: the RSS at the end is \
         within max(2 MiB, 5%) of the RSS a quarter into the run. The reference figure is 60 s \
         (`LOAD_SOAK_SECONDS=60`). The memory store keeps the newest \
         `store.memory_max_entries` (100,000) payments and as many risk reports, so its RSS \
         grows until the cap and then holds.\n",
        r.opts.conns, r.opts.seed
    );
    let _ = writeln!(
        s,
        "| store | measured s | req/s | VmRSS MiB at 1 s / 25% / 50% / 75% / end | growth MiB (25% to end) | flat | VmHWM MiB | < {RSS_LIMIT_MIB} MiB | errors |\n|---|---|---|---|---|---|---|---|---|"
    );
    for soak in &r.soaks {
        let at = |f: f64| -> Option<f64> {
            if soak.rss.is_empty() {
                return None;
            }
            let i = ((soak.rss.len() - 1) as f64 * f).round() as usize;
            Some(soak.rss[i].1 as f64 / MIB)
        };
        let q1 = at(0.25);
        let end = at(1.0);
        let growth = q1.zip(end).map(|(a, b)| b - a);
        let flat = q1.zip(growth).map(|(q1, g)| g <= (q1 * 0.05).max(2.0));
        if let Some(f) = flat {
            soak_flat.push((soak.store, f));
        }
        let hwm = soak.hwm_kib as f64 / MIB;
        let memory = soak.store == StoreKind::Memory;
        let _ = writeln!(
            s,
            "| {} | {:.1}{} | {:.0} | {} / {} / {} / {} / {} | {} | {} | {:.1} | {} | {} |",
            soak.store.name(),
            soak.seconds,
            if soak.exhausted { " (count bound)" } else { "" },
            soak.rate,
            opt(soak.rss.get(1).map(|x| x.1 as f64 / MIB), 1),
            opt(q1, 1),
            opt(at(0.5), 1),
            opt(at(0.75), 1),
            opt(end, 1),
            opt(growth, 1),
            if memory {
                "(grows to the cap)"
            } else {
                flat.map_or("n/a", verdict)
            },
            hwm,
            if memory {
                "(no target)"
            } else {
                verdict(hwm < RSS_LIMIT_MIB)
            },
            soak.errors.count
        );
    }
    let _ = writeln!(s);
    soak_flat
}

/// Where the server's CPU goes, component by component, the echo beside the gateway.
fn profiles(s: &mut String, r: &Results) {
    let _ = writeln!(s, "## Where the server's CPU goes\n");
    if r.profiles.is_empty() {
        let _ = writeln!(
            s,
            "No profile in this run: {}.\n",
            r.profile_skipped.as_deref().unwrap_or("none was asked for")
        );
        return;
    }
    let _ = writeln!(
        s,
        "`perf record -F 999` on the server process during a closed-loop run at full load (after \
         the warm-up, {:.1} s), pinned placement; each sampled function is put into one \
         component by its name and binary (`benches/load/profile.rs`), and a component's share \
         of the samples times the server's CPU per request (measured in the same run) is its \
         µs per request. Inlined code counts where it was inlined.\n",
        r.opts.seconds
    );
    let _ = write!(s, "| component, µs of server CPU per request |");
    for p in &r.profiles {
        let _ = write!(
            s,
            " {} |",
            p.label
                .trim_end_matches(" @pinned")
                .trim_end_matches(" @unpinned")
        );
    }
    let _ = write!(s, "\n|---|");
    for _ in &r.profiles {
        let _ = write!(s, "---|");
    }
    let _ = writeln!(s);
    for (i, (name, covers)) in COMPONENTS.iter().enumerate() {
        if r.profiles.iter().all(|p| p.shares[i] < 0.005) {
            continue;
        }
        let _ = write!(s, "| {name} ({covers}) |");
        for p in &r.profiles {
            let _ = write!(s, " {} ({:.0}%) |", opt(p.us(i), 1), p.shares[i] * 100.0);
        }
        let _ = writeln!(s);
    }
    let _ = write!(s, "| **total server CPU per request** |");
    for p in &r.profiles {
        let _ = write!(s, " **{}** |", opt(p.server_cpu_us, 1));
    }
    let _ = write!(s, "\n| req/s while profiled (samples) |");
    for p in &r.profiles {
        let _ = write!(s, " {:.0} ({}) |", p.rate, p.samples);
    }
    let _ = writeln!(s, "\n");
    let _ = writeln!(s, "The heaviest functions of each:\n");
    for p in &r.profiles {
        let top: Vec<String> = p
            .top
            .iter()
            .take(6)
            .map(|(share, _, symbol)| {
                let mut name: String = symbol.chars().take(70).collect();
                if symbol.chars().count() > 70 {
                    name.push('…');
                }
                format!("`{}` {:.1}%", name.replace('`', "'"), share * 100.0)
            })
            .collect();
        let _ = writeln!(s, "- {}: {}", p.label, top.join(", "));
    }
    let _ = writeln!(s);
}

fn targets(s: &mut String, r: &Results, sqlite_starts: &Starts, soak_flat: &[(StoreKind, bool)]) {
    let o = &r.opts;
    let _ = writeln!(s, "## Targets\n");
    let _ = writeln!(s, "| target | worst figure | |\n|---|---|---|");
    // `pass`: met or missed; `None` when not measured; `Some(Err(why))` when there is no
    // target for the figure.
    let mut line =
        |name: String, worst: Option<(f64, String)>, pass: Option<Result<bool, &str>>| {
            let status = match pass {
                None => "not measured",
                Some(Ok(met)) => verdict(met),
                Some(Err(why)) => why,
            };
            let _ = writeln!(
                s,
                "| {name} | {} | {status} |",
                worst.map_or_else(|| "n/a".into(), |(v, what)| format!("{v:.3} ({what})")),
            );
        };
    let pinned = Placement::Pinned;
    if o.placements.contains(&pinned) {
        let ceiling = ceiling_of(r, pinned).and_then(|c| median(&c.rates));
        let baseline = echo_of(r, pinned).and_then(Scenario::rate);
        let groups: [(bool, StoreKind, &[Api], &str); 5] = [
            (true, StoreKind::Memory, &Api::ALL, "every API"),
            (true, StoreKind::Sqlite, &Api::ALL, "every API"),
            (false, StoreKind::Memory, &Api::ALL, "every API"),
            (
                false,
                StoreKind::Sqlite,
                &[Api::InquiryPayment],
                "inquiryPayment",
            ),
            (
                false,
                StoreKind::Sqlite,
                &[Api::SendPaymentResult, Api::NotifyPushPayment],
                "writes",
            ),
        ];
        for (signing, store, apis, which) in groups {
            let goal = target(signing, store, apis[0]);
            let worst = placed(r, pinned)
                .filter(|sc| {
                    sc.target == Target::Gateway { store, signing } && apis.contains(&sc.api)
                })
                .filter_map(|sc| {
                    ratio_to(sc, if signing { ceiling } else { baseline })
                        .map(|x| (x, sc.api.name().to_owned()))
                })
                .min_by(|a, b| a.0.total_cmp(&b.0));
            line(
                format!(
                    "pinned, signing {}, {}, {which}: >= {goal} x {}",
                    if signing { "on" } else { "off" },
                    store.name(),
                    if signing { "sign ceiling" } else { "bare echo" }
                ),
                worst.clone(),
                worst.map(|(v, _)| Ok(v >= goal)),
            );
        }
    }
    for &placement in &o.placements {
        let worst = placed(r, placement)
            .filter(|sc| matches!(sc.target, Target::Gateway { .. }))
            .filter_map(|sc| p99(sc).filter(|p| p.is_finite()).map(|p| (p, sc.what())))
            .max_by(|a, b| a.0.total_cmp(&b.0));
        line(
            format!(
                "{}, every gateway row: p99 at half of maximum load < {P99_LIMIT_MS} ms (ms; the bare echo's own: {})",
                placement.name(),
                opt(echo_of(r, placement).and_then(p99), 2)
            ),
            worst.clone(),
            worst.map(|(p, _)| Ok(p < P99_LIMIT_MS)),
        );
    }
    let worst_rss = r
        .scenarios
        .iter()
        .filter(|sc| {
            matches!(
                sc.target,
                Target::Gateway {
                    store: StoreKind::Sqlite,
                    ..
                }
            )
        })
        .map(|sc| (rss_mib(sc), sc.label()))
        .chain(
            r.soaks
                .iter()
                .filter(|k| k.store == StoreKind::Sqlite)
                .map(|k| (k.hwm_kib as f64 / MIB, format!("{:.0} s run", k.seconds))),
        )
        .max_by(|a, b| a.0.total_cmp(&b.0));
    line(
        format!("peak RSS < {RSS_LIMIT_MIB} MiB at full load, sqlite (MiB)"),
        worst_rss.clone(),
        worst_rss.map(|(m, _)| Ok(m < RSS_LIMIT_MIB)),
    );
    for (store, flat) in soak_flat {
        if *store == StoreKind::Memory {
            continue;
        }
        line(
            format!("RSS flat over the {:.0} s run, {}", o.soak, store.name()),
            None,
            Some(Ok(*flat)),
        );
    }
    let med = startup_median(sqlite_starts, true);
    line(
        format!("start-up to ready < {STARTUP_LIMIT_MS} ms with SQLite (median ms)"),
        med.map(|m| (m, format!("max {}", opt(startup_max(sqlite_starts), 1)))),
        med.map(|m| Ok(m < STARTUP_LIMIT_MS)),
    );
    let _ = writeln!(s);
}

/// The components where the gateway spends more than the echo, largest first: (name, extra µs).
fn extra_over_echo(r: &Results, label_part: &str) -> Vec<(&'static str, f64)> {
    let echo = r.profiles.iter().find(|p| p.label.starts_with("echo "));
    let gateway = r.profiles.iter().find(|p| p.label.contains(label_part));
    let (Some(echo), Some(gateway)) = (echo, gateway) else {
        return Vec::new();
    };
    let mut extra: Vec<(&'static str, f64)> = COMPONENTS
        .iter()
        .enumerate()
        .filter_map(|(i, (name, _))| {
            let d = gateway.us(i)? - echo.us(i).unwrap_or(0.0);
            (d > 0.5).then_some((*name, d))
        })
        .collect();
    extra.sort_by(|a, b| b.1.total_cmp(&a.1));
    extra
}

fn list_extra(extra: &[(&'static str, f64)]) -> String {
    extra
        .iter()
        .take(6)
        .map(|(name, us)| format!("{name} +{us:.1}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// What the figures say, derived from them: where time goes and why targets are missed.
fn notes(s: &mut String, r: &Results, soak_flat: &[(StoreKind, bool)]) {
    let _ = writeln!(s, "## Notes\n");
    let noisy = r
        .loadavg
        .0
        .split_whitespace()
        .next()
        .and_then(|l| l.parse::<f64>().ok())
        .is_some_and(|l| l > 0.5);
    if noisy {
        let _ = writeln!(
            s,
            "- The machine was busy when the run started (load average {}): other work shares \
             the 2 cores, so every figure is low and noisy. Run again on a quiet machine.",
            r.loadavg.0
        );
    }
    let verify = median(&r.verify_cpu_us);
    let pinned = Placement::Pinned;
    if r.opts.placements.contains(&pinned) {
        let echo_cpu = echo_of(r, pinned).and_then(|e| median(&e.server_cpu_us));
        let baseline = echo_of(r, pinned).and_then(Scenario::rate);
        let ceiling = ceiling_of(r, pinned);
        let sign_us = ceiling.and_then(|c| median(&c.sign_cpu_us));
        // Signing off: the verification alone bounds the ratio.
        if let (Some(e), Some(v), Some(b)) = (echo_cpu, verify, baseline) {
            let missed: Vec<String> = placed(r, pinned)
                .filter_map(|sc| {
                    let Target::Gateway {
                        store,
                        signing: false,
                    } = sc.target
                    else {
                        return None;
                    };
                    let goal = target(false, store, sc.api);
                    let x = ratio_to(sc, Some(b))?;
                    (x < goal).then(|| {
                        format!(
                            "{} {} {x:.3} (target {goal}, {} µs a request)",
                            sc.api.name(),
                            store.name(),
                            opt(median(&sc.server_cpu_us), 0)
                        )
                    })
                })
                .collect();
            if !missed.is_empty() {
                let extra = extra_over_echo(r, "memory sign=off inquiryPayment");
                let _ = writeln!(
                    s,
                    "- Pinned, signing off, below target: {}. The bare echo costs {e:.1} µs of \
                     server CPU a request; the gateway verifies an RSA-2048 signature on every \
                     request, {v:.1} µs alone, so even a gateway that did nothing else would \
                     reach only {:.2} x the echo ({e:.1} / ({e:.1} + {v:.1})): a target of 0.5 \
                     x needs the whole of the gateway's own work, verification included, to \
                     cost no more than the echo's. {}What would close the rest: fewer \
                     allocations per request (the allocator's share), and less per-request \
                     bookkeeping in the journal, metrics and the request span; the \
                     verification stays, it is the protocol. A cache of verified signatures \
                     would only help a benchmark that resends identical signed bytes, not \
                     real traffic, so there is none.",
                    missed.join("; "),
                    e / (e + v),
                    if extra.is_empty() {
                        String::new()
                    } else {
                        format!(
                            "Beyond the echo, the memory-store read spends (µs a request, \
                             profile above): {}. ",
                            list_extra(&extra)
                        )
                    }
                );
            }
        }
        // Signing on: the sign is the ceiling; what else a request costs is the gap.
        if let (Some(k), Some(c)) = (sign_us, ceiling.and_then(|c| median(&c.rates))) {
            for sc in placed(r, pinned) {
                let Target::Gateway {
                    store,
                    signing: true,
                } = sc.target
                else {
                    continue;
                };
                let (Some(server), Some(rate)) = (median(&sc.server_cpu_us), sc.rate()) else {
                    continue;
                };
                let goal = target(true, store, sc.api);
                if rate / c >= goal {
                    continue;
                }
                let _ = writeln!(
                    s,
                    "- Pinned, signing on, {} {}: {rate:.0} req/s = {:.3} x the ceiling ({c:.0}, \
                     target {goal}). One sign is {k:.0} µs of CPU; the server spends \
                     {server:.0} µs a request, so {:.0} µs goes to everything else, of which \
                     the request's verification is {}: with its core to itself it reaches at \
                     most {:.2} x. Reaching {goal} needs everything besides the sign under \
                     {:.0} µs a request{}.",
                    sc.api.name(),
                    store.name(),
                    rate / c,
                    (server - k).max(0.0),
                    opt(verify, 0),
                    (k / server).min(1.0),
                    k * (1.0 - goal) / goal,
                    match verify {
                        Some(v) if v > k * (1.0 - goal) / goal => format!(
                            ", less than the one verification ({v:.0} µs) every request needs: \
                             out of reach while the sign and the verification share a core"
                        ),
                        _ => String::new(),
                    }
                );
            }
        }
    }
    if r.opts.placements.contains(&Placement::Unpinned) {
        let _ = writeln!(
            s,
            "- Unpinned, the driver runs on the same cores as the server: throughput is then \
             about cores / (server CPU + driver CPU per request), while the ceiling is measured \
             with every core signing. The CPU columns show both shares; the pinned tables give \
             the server's own figures."
        );
    }
    let gaps: Vec<f64> = r
        .scenarios
        .iter()
        .filter(|sc| matches!(sc.target, Target::Gateway { .. }))
        .flat_map(|sc| sc.startups.iter().map(|(l, ready)| ms(*ready) - ms(*l)))
        .collect();
    if let Some(gap) = median(&gaps).filter(|g| *g > 20.0) {
        let _ = writeln!(
            s,
            "- Start-up: the first answer comes a median {gap:.0} ms after the `listening` log \
             line. The line is logged once the port is bound, and the work before the accept \
             loop runs after it; connections wait in the backlog meanwhile. `/readyz` is the \
             readiness signal to use, not the log line."
        );
    }
    for (store, flat) in soak_flat {
        if !flat && *store == StoreKind::Memory {
            let _ = writeln!(
                s,
                "- The memory store keeps the newest `store.memory_max_entries` (100,000) \
                 payments and as many risk reports, so with unique writes its RSS grows until \
                 the cap is reached; a run shorter than that shows only the growth."
            );
        } else if !flat {
            let _ = writeln!(
                s,
                "- RSS grew over the SQLite run by more than the flat margin (see the series \
                 above). Bounded parts that fill as a run goes on: SQLite's page cache (2 MiB a \
                 connection at most), the journal ring (its entries share the buffers the \
                 bodies were read into) and the allocator's per-thread arenas; a longer run \
                 tells whether the series levels off."
            );
        }
    }
    if let Some(best) = r
        .scenarios
        .iter()
        .filter(|sc| matches!(sc.target, Target::Echo(m) if m != "echo"))
        .filter(|sc| p99(sc).is_some_and(f64::is_finite))
        .min_by(|a, b| {
            p99(a)
                .unwrap_or(f64::MAX)
                .total_cmp(&p99(b).unwrap_or(f64::MAX))
        })
    {
        let _ = writeln!(
            s,
            "- Signing placement: the lowest p99 at half load was {} ({} ms); compare the rows \
             above. The gateway signs inline.",
            best.what().trim_start_matches("echo-sign-"),
            opt(p99(best), 2)
        );
    }
    let _ = writeln!(
        s,
        "- A regression check is not a timed test: compare these figures by hand with the \
         previous BENCHMARKS.md (git history)."
    );
    let _ = writeln!(s);
}
