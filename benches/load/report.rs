//! BENCHMARKS.md from one run. The words are `BENCHMARKS.md.template`; this file computes what
//! fills it: the figures, the tables, PASS/MISS against the targets, and which of the template's
//! notes the figures call for.

mod sample;

use std::fmt::{Display, Write as _};
use std::time::Duration;

use crate::profile::COMPONENTS;
use crate::servers::{Placement, StoreKind, Target};
use crate::workload::Api;
use crate::{Ceiling, Results, Scenario, Soak, median};

const MIB: f64 = 1024.0;
const RSS_LIMIT_MIB: f64 = 64.0;
const P99_LIMIT_MS: f64 = 5.0;
const STARTUP_LIMIT_MS: f64 = 200.0;

/// BENCHMARKS.md's words, in parts (its opening comment says how they are filled).
const TEMPLATE: &str = include_str!("BENCHMARKS.md.template");

/// The template's parts, (name, text), in order.
fn parts() -> impl Iterator<Item = (&'static str, &'static str)> {
    TEMPLATE.split("<!-- part: ").skip(1).map(|part| {
        part.split_once(" -->\n")
            .unwrap_or_else(|| panic!("BENCHMARKS.md.template: `<!-- part: {part}` ends its line"))
    })
}

/// The template's part `name` with every `{{placeholder}}` replaced by its value; a placeholder
/// alone on its line takes the line end with it. Panics when the part, a placeholder's value or
/// a value's placeholder is missing: the template and this file disagree, which
/// `cargo test --bench load` catches.
fn fill(name: &str, values: &[(&str, &dyn Display)]) -> String {
    let text = parts()
        .find(|(part, _)| *part == name)
        .unwrap_or_else(|| panic!("BENCHMARKS.md.template has no part `{name}`"))
        .1;
    let mut out = String::with_capacity(text.len());
    let mut used = vec![false; values.len()];
    let mut at = 0;
    while let Some(open) = text[at..].find("{{").map(|i| at + i) {
        let close = text[open..]
            .find("}}")
            .map(|i| open + i)
            .unwrap_or_else(|| panic!("BENCHMARKS.md.template, part `{name}`: `{{{{` left open"));
        let key = &text[open + 2..close];
        let Some(i) = values.iter().position(|(k, _)| *k == key) else {
            panic!("BENCHMARKS.md.template, part `{name}`: no value for {{{{{key}}}}}");
        };
        used[i] = true;
        out.push_str(&text[at..open]);
        let _ = write!(out, "{}", values[i].1);
        at = close + 2;
        let alone = (open == 0 || text[..open].ends_with('\n')) && text[at..].starts_with('\n');
        at += usize::from(alone);
    }
    out.push_str(&text[at..]);
    if let Some(((key, _), _)) = values.iter().zip(&used).find(|(_, used)| !**used) {
        panic!("BENCHMARKS.md.template, part `{name}`: no {{{{{key}}}}} for its value");
    }
    out
}

/// A part that goes inside a sentence: filled, without its line end.
fn phrase(name: &str, values: &[(&str, &dyn Display)]) -> String {
    let mut text = fill(name, values);
    if text.ends_with('\n') {
        text.pop();
    }
    text
}

/// Renders the report from synthetic results and checks it against the template: every
/// placeholder of every part rendered gets a value (else `fill` panics), and every part of the
/// template is rendered by one of the runs (else the check cannot vouch for it).
pub fn check() {
    let pages: Vec<String> = sample::runs().iter().map(markdown).collect();
    for (name, text) in parts() {
        // The part's longest stretch of its own words shows whether it was rendered.
        let words = text
            .split("{{")
            .map(|piece| {
                piece
                    .split_once("}}")
                    .map_or(piece, |(_, words)| words)
                    .trim()
            })
            .max_by_key(|words| words.len())
            .unwrap_or_default();
        assert!(
            pages.iter().any(|page| page.contains(words)),
            "BENCHMARKS.md.template: no synthetic run renders the part `{name}`"
        );
    }
    println!(
        "BENCHMARKS.md.template: its {} parts render, every placeholder filled, from {} synthetic runs",
        parts().count(),
        pages.len()
    );
}

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
fn command() -> String {
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
    let errors: u64 = r.scenarios.iter().map(|s| s.errors.count).sum::<u64>()
        + r.soaks.iter().map(|s| s.errors.count).sum::<u64>();
    let mut banners = String::new();
    if errors > 0 {
        banners += &fill("banner-failed", &[("count", &errors)]);
    }
    if !o.gateway_env.is_empty() {
        let settings: Vec<String> = o
            .gateway_env
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect();
        banners += &fill("banner-diagnostic", &[("settings", &settings.join(" "))]);
    }
    if o.namespace {
        banners += &fill("banner-namespaced", &[]);
    }
    if o.only.is_some() {
        banners += &fill("banner-partial", &[]);
    }
    let placements: Vec<String> = o
        .placements
        .iter()
        .map(|p| placement_title(*p, o.cores).to_lowercase())
        .collect();
    let sections: String = o
        .placements
        .iter()
        .map(|&placement| placement_section(r, placement))
        .collect();
    let sqlite_starts = starts_of(r, StoreKind::Sqlite);
    let soak_flat: Vec<(StoreKind, bool)> = r
        .soaks
        .iter()
        .filter_map(|soak| growth(soak).map(|(_, flat)| (soak.store, flat)))
        .collect();
    fill(
        "page",
        &[
            ("command", &command()),
            ("date", &chrono::Utc::now().format("%Y-%m-%d %H:%M")),
            ("wall", &format!("{:.0}", r.wall.as_secs_f64())),
            ("rounds", &o.rounds),
            ("banners", &banners),
            ("nproc", &o.cores),
            ("cpu", &cpu_model()),
            ("cpu_flags", &cpu_flags()),
            ("memory", &mem_total()),
            ("kernel", &read("/proc/sys/kernel/osrelease").trim()),
            ("rustc", &rustc_version()),
            ("load_start", &r.loadavg.0),
            ("load_end", &r.loadavg.1),
            ("placements", &placements.join("; ")),
            ("ceiling_seconds", &format!("{:.1}", o.ceiling_seconds)),
            ("driver_threads", &o.driver_threads),
            ("connections", &o.conns),
            ("presigned", &r.presigned.0),
            (
                "presign_seconds",
                &format!("{:.1}", r.presigned.1.as_secs_f64()),
            ),
            ("seed", &o.seed),
            (
                "verified",
                &r.scenarios.iter().map(|sc| sc.verified).sum::<usize>(),
            ),
            ("warmup", &format!("{:.1}", o.warmup)),
            ("seconds", &format!("{:.1}", o.seconds)),
            ("max_pool", &o.max_pool),
            ("placement_sections", &sections),
            ("signing_placement", &signing_placement(r)),
            ("startup", &startup(r, &sqlite_starts)),
            ("soak", &soaks(r)),
            ("profile", &profiles(r)),
            ("targets", &targets(r, &sqlite_starts, &soak_flat)),
            ("notes", &notes(r, &soak_flat)),
            ("failed", &failed(r)),
        ],
    )
}

/// The ratio of a scenario's throughput to its reference (the ceiling or the echo).
fn ratio_to(sc: &Scenario, reference: Option<f64>) -> Option<f64> {
    sc.rate()
        .zip(reference)
        .map(|(a, b)| a / b)
        .filter(|x| x.is_finite())
}

/// One placement: the references (ceiling, verification, echo), the gateway's tables and the
/// peers'.
fn placement_section(r: &Results, placement: Placement) -> String {
    let o = &r.opts;
    let pinned = placement == Placement::Pinned;
    let ceiling = ceiling_of(r, placement);
    let ceiling_rate = ceiling.and_then(|c| median(&c.rates));
    let sign_us = ceiling.and_then(|c| median(&c.sign_cpu_us));
    let echo = echo_of(r, placement);
    let baseline = echo.and_then(Scenario::rate);
    let echo_cpu = echo.and_then(|e| median(&e.server_cpu_us));
    let mut figures = String::from("| | median | per round |\n|---|---|---|\n");
    if let Some(c) = ceiling {
        let _ = writeln!(
            figures,
            "| sign ceiling, signs/s on {} thread(s) | {} | {} |",
            c.threads,
            opt(ceiling_rate, 0),
            per_round(&c.rates)
        );
        let _ = writeln!(
            figures,
            "| one sign, µs of CPU (the signing threads' CPU time / signs) | {} | {} |",
            opt(sign_us, 0),
            per_round(&c.sign_cpu_us)
        );
    }
    let _ = writeln!(
        figures,
        "| one request-signature verification, µs of CPU (one thread, on the server's core) | {} | {} |",
        opt(median(&r.verify_cpu_us), 0),
        per_round(&r.verify_cpu_us)
    );
    if let Some(e) = echo {
        let _ = writeln!(
            figures,
            "| bare axum echo, req/s | {} | {} |",
            opt(baseline, 0),
            per_round(&e.rates)
        );
        let _ = writeln!(
            figures,
            "| echo at half load: p50 / p99 ms; peak RSS MiB; server / driver CPU µs per request | {} / {}; {:.1}; {} / {} | |",
            opt(p50(e), 2),
            opt(p99(e), 2),
            rss_mib(e),
            opt(echo_cpu, 0),
            opt(median(&e.driver_cpu_us), 0),
        );
    }

    let mut gateway = String::new();
    for signing in [true, false] {
        let rows: Vec<&Scenario> = placed(r, placement)
            .filter(|sc| matches!(sc.target, Target::Gateway { signing: g, .. } if g == signing))
            .collect();
        if rows.is_empty() {
            continue;
        }
        let mut table = format!(
            "| API | store | req/s, median (min–max) | ratio | target | | CPU ratio | p50 @ half ms | p99 @ half ms | < {P99_LIMIT_MS} ms | peak RSS MiB | < {RSS_LIMIT_MIB} MiB | server / driver CPU µs/req | errors |\n\
             |---|---|---|---|---|---|---|---|---|---|---|---|---|---|\n"
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
                table,
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
        gateway += &fill(
            "gateway",
            &[
                ("signing", &if signing { "on" } else { "off" }),
                (
                    "reference",
                    &if signing { "sign ceiling" } else { "bare echo" },
                ),
                (
                    "targets_where",
                    &if pinned {
                        ""
                    } else {
                        "; the throughput targets are for the pinned placement"
                    },
                ),
                ("table", &table),
            ],
        );
    }
    fill(
        "placement",
        &[
            ("title", &placement_title(placement, o.cores)),
            ("figures", &figures),
            ("gateway", &gateway),
            ("peers", &peers_table(r, placement, baseline)),
        ],
    )
}

/// The gateway's inquiryPayment beside the peers' stubs of the same call; nothing when no peer
/// was asked for.
fn peers_table(r: &Results, placement: Placement, baseline: Option<f64>) -> String {
    let rows: Vec<&Scenario> = placed(r, placement)
        .filter(|sc| match sc.target {
            Target::Peer(_) => true,
            Target::Gateway { .. } => sc.api == Api::InquiryPayment,
            Target::Echo(mode) => mode == "echo",
        })
        .collect();
    if !rows.iter().any(|sc| matches!(sc.target, Target::Peer(_))) && r.peers_missing.is_empty() {
        return String::new();
    }
    let mut table = String::from(
        "| server | req/s, median (min–max) | x bare echo | p50 @ half ms | p99 @ half ms | peak RSS MiB | server CPU µs/req | verifies the signature | keeps state | errors |\n|---|---|---|---|---|---|---|---|---|---|\n",
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
            table,
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
        let _ = writeln!(
            table,
            "| {} | not run: {why} | | | | | | | | |",
            peer.name()
        );
    }
    fill("peers", &[("table", &table)])
}

/// The echo signing inline and on a blocking pool; nothing when not measured.
fn signing_placement(r: &Results) -> String {
    let rows: Vec<&Scenario> = r
        .scenarios
        .iter()
        .filter(|sc| matches!(sc.target, Target::Echo(m) if m != "echo"))
        .collect();
    let Some(first) = rows.first() else {
        return String::new();
    };
    let ceiling = ceiling_of(r, first.placement).and_then(|c| median(&c.rates));
    let mut table = String::from(
        "| signing | req/s, median (min–max) | x ceiling | p50 @ half ms | p99 @ half ms | p99.9 @ half ms | peak RSS MiB | server CPU µs/req | errors |\n|---|---|---|---|---|---|---|---|---|\n",
    );
    for sc in &rows {
        let Target::Echo(mode) = sc.target else {
            continue;
        };
        let _ = writeln!(
            table,
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
    fill(
        "signing-placement",
        &[("placement", &first.placement.name()), ("table", &table)],
    )
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

/// The start-up table.
fn startup(r: &Results, sqlite_starts: &Starts) -> String {
    let memory_starts = starts_of(r, StoreKind::Memory);
    let mut table = format!(
        "| store | starts | spawn to `listening` log, median ms | spawn to `/readyz` 200, median ms | max ms | < {STARTUP_LIMIT_MS} ms (median) |\n|---|---|---|---|---|---|\n"
    );
    for (name, starts) in [("sqlite", sqlite_starts), ("memory", &memory_starts)] {
        if starts.is_empty() {
            continue;
        }
        let med = startup_median(starts, true);
        let _ = writeln!(
            table,
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
    table
}

/// A soak's `VmRSS` a fraction `f` into the run, MiB.
fn rss_at(soak: &Soak, f: f64) -> Option<f64> {
    if soak.rss.is_empty() {
        return None;
    }
    let i = ((soak.rss.len() - 1) as f64 * f).round() as usize;
    Some(soak.rss[i].1 as f64 / MIB)
}

/// A soak's growth from a quarter into the run to its end, MiB, and whether it stayed within
/// the flat margin, max(2 MiB, 5%).
fn growth(soak: &Soak) -> Option<(f64, bool)> {
    let q1 = rss_at(soak, 0.25)?;
    let growth = rss_at(soak, 1.0)? - q1;
    Some((growth, growth <= (q1 * 0.05).max(2.0)))
}

/// The RSS runs; nothing when there were none.
fn soaks(r: &Results) -> String {
    if r.soaks.is_empty() {
        return String::new();
    }
    let mut table = format!(
        "| store | measured s | req/s | VmRSS MiB at 1 s / 25% / 50% / 75% / end | growth MiB (25% to end) | flat | VmHWM MiB | < {RSS_LIMIT_MIB} MiB | errors |\n|---|---|---|---|---|---|---|---|---|\n"
    );
    for soak in &r.soaks {
        let growth = growth(soak);
        let hwm = soak.hwm_kib as f64 / MIB;
        let memory = soak.store == StoreKind::Memory;
        let _ = writeln!(
            table,
            "| {} | {:.1}{} | {:.0} | {} / {} / {} / {} / {} | {} | {} | {:.1} | {} | {} |",
            soak.store.name(),
            soak.seconds,
            if soak.exhausted { " (count bound)" } else { "" },
            soak.rate,
            opt(soak.rss.get(1).map(|x| x.1 as f64 / MIB), 1),
            opt(rss_at(soak, 0.25), 1),
            opt(rss_at(soak, 0.5), 1),
            opt(rss_at(soak, 0.75), 1),
            opt(rss_at(soak, 1.0), 1),
            opt(growth.map(|g| g.0), 1),
            if memory {
                "(grows to the cap)"
            } else {
                growth.map_or("n/a", |g| verdict(g.1))
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
    fill(
        "soak",
        &[
            ("placement", &r.opts.placements[0].name()),
            ("connections", &r.opts.conns),
            ("seed", &r.opts.seed),
            ("table", &table),
        ],
    )
}

/// Where the server's CPU goes, component by component, the echo beside the gateway.
fn profiles(r: &Results) -> String {
    if r.profiles.is_empty() {
        let why = r.profile_skipped.as_deref().unwrap_or("none was asked for");
        return fill("no-profile", &[("why", &why)]);
    }
    let mut table = String::from("| component, µs of server CPU per request |");
    for p in &r.profiles {
        let _ = write!(
            table,
            " {} |",
            p.label
                .trim_end_matches(" @pinned")
                .trim_end_matches(" @unpinned")
        );
    }
    table += "\n|---|";
    for _ in &r.profiles {
        table += "---|";
    }
    table += "\n";
    for (i, (name, covers)) in COMPONENTS.iter().enumerate() {
        if r.profiles.iter().all(|p| p.shares[i] < 0.005) {
            continue;
        }
        let _ = write!(table, "| {name} ({covers}) |");
        for p in &r.profiles {
            let _ = write!(
                table,
                " {} ({:.0}%) |",
                opt(p.us(i), 1),
                p.shares[i] * 100.0
            );
        }
        table += "\n";
    }
    table += "| **total server CPU per request** |";
    for p in &r.profiles {
        let _ = write!(table, " **{}** |", opt(p.server_cpu_us, 1));
    }
    table += "\n| req/s while profiled (samples) |";
    for p in &r.profiles {
        let _ = write!(table, " {:.0} ({}) |", p.rate, p.samples);
    }
    table += "\n";
    let mut heaviest = String::new();
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
        let _ = writeln!(heaviest, "- {}: {}", p.label, top.join(", "));
    }
    fill(
        "profile",
        &[
            ("seconds", &format!("{:.1}", r.opts.seconds)),
            ("table", &table),
            ("heaviest", &heaviest),
        ],
    )
}

/// The targets table: each target's worst figure and PASS/MISS.
fn targets(r: &Results, sqlite_starts: &Starts, soak_flat: &[(StoreKind, bool)]) -> String {
    let o = &r.opts;
    let mut table = String::from("| target | worst figure | |\n|---|---|---|\n");
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
                table,
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
    table
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

/// What the figures say, derived from them: where time goes and why targets are missed. The
/// notes' words are the template's; these are the figures that call for each.
fn notes(r: &Results, soak_flat: &[(StoreKind, bool)]) -> String {
    let mut notes = String::new();
    let noisy = r
        .loadavg
        .0
        .split_whitespace()
        .next()
        .and_then(|l| l.parse::<f64>().ok())
        .is_some_and(|l| l > 0.5);
    if noisy {
        notes += &fill("note-busy", &[("load", &r.loadavg.0)]);
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
                let beyond_echo = if extra.is_empty() {
                    String::new()
                } else {
                    let components = list_extra(&extra);
                    phrase("beyond-echo", &[("components", &components)]) + " "
                };
                notes += &fill(
                    "note-signing-off",
                    &[
                        ("missed", &missed.join("; ")),
                        ("echo", &format!("{e:.1}")),
                        ("verify", &format!("{v:.1}")),
                        ("bound", &format!("{:.2}", e / (e + v))),
                        ("beyond_echo", &beyond_echo),
                    ],
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
                // What may go to everything besides the sign for the ratio to reach its goal.
                let budget = k * (1.0 - goal) / goal;
                let out_of_reach = match verify {
                    Some(v) if v > budget => {
                        phrase("out-of-reach", &[("verify", &format!("{v:.0}"))])
                    }
                    _ => String::new(),
                };
                notes += &fill(
                    "note-signing-on",
                    &[
                        ("api", &sc.api.name()),
                        ("store", &store.name()),
                        ("rate", &format!("{rate:.0}")),
                        ("ratio", &format!("{:.3}", rate / c)),
                        ("ceiling", &format!("{c:.0}")),
                        ("goal", &goal),
                        ("sign", &format!("{k:.0}")),
                        ("server", &format!("{server:.0}")),
                        ("rest", &format!("{:.0}", (server - k).max(0.0))),
                        ("verify", &opt(verify, 0)),
                        ("reach", &format!("{:.2}", (k / server).min(1.0))),
                        ("budget", &format!("{budget:.0}")),
                        ("out_of_reach", &out_of_reach),
                    ],
                );
            }
        }
    }
    if r.opts.placements.contains(&Placement::Unpinned) {
        notes += &fill("note-unpinned", &[]);
    }
    let gaps: Vec<f64> = r
        .scenarios
        .iter()
        .filter(|sc| matches!(sc.target, Target::Gateway { .. }))
        .flat_map(|sc| sc.startups.iter().map(|(l, ready)| ms(*ready) - ms(*l)))
        .collect();
    if let Some(gap) = median(&gaps).filter(|g| *g > 20.0) {
        notes += &fill("note-startup", &[("gap", &format!("{gap:.0}"))]);
    }
    for (store, flat) in soak_flat {
        if !flat && *store == StoreKind::Memory {
            notes += &fill("note-memory-growth", &[]);
        } else if !flat {
            notes += &fill("note-sqlite-growth", &[]);
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
        notes += &fill(
            "note-signing-placement",
            &[
                ("mode", &best.what().trim_start_matches("echo-sign-")),
                ("p99", &opt(p99(best), 2)),
            ],
        );
    }
    notes
}

/// The failed requests, with the first few of each scenario described; nothing when none failed.
fn failed(r: &Results) -> String {
    let mut list = String::new();
    for sc in r.scenarios.iter().filter(|s| s.errors.count > 0) {
        let _ = writeln!(list, "- {}: {} failed", sc.label(), sc.errors.count);
        for e in &sc.errors.samples {
            let _ = writeln!(list, "  - `{}`", e.replace('`', "'"));
        }
    }
    for k in r.soaks.iter().filter(|k| k.errors.count > 0) {
        let _ = writeln!(list, "- soak {}: {} failed", k.store.name(), k.errors.count);
        for e in &k.errors.samples {
            let _ = writeln!(list, "  - `{}`", e.replace('`', "'"));
        }
    }
    if list.is_empty() {
        return list;
    }
    fill("failed", &[("list", &list)])
}
