//! Synthetic results for checking the report without a run: one full run that takes every
//! branch (both placements, peers, profiles, RSS runs, failures, every note) and one short,
//! quiet, partial run that takes the others.

use std::time::Duration;

use crate::driver::{Errors, Open};
use crate::profile::Profile;
use crate::servers::{Peer, Placement, StoreKind, Target};
use crate::workload::Api;
use crate::{Ceiling, Opts, Results, Scenario, Soak};

/// Both runs.
pub fn runs() -> [Results; 2] {
    [full(), quiet()]
}

fn opts(placements: Vec<Placement>) -> Opts {
    Opts {
        seconds: 5.0,
        warmup: 1.0,
        rounds: 3,
        conns: 64,
        soak: 60.0,
        ceiling_seconds: 2.0,
        driver_threads: 2,
        max_pool: 150_000,
        seed: 1000,
        placements,
        only: None,
        cores: 2,
        report: None,
        gateway_env: Vec::new(),
        namespace: false,
    }
}

/// 100 sorted latencies whose p50, p99 and p99.9 are `p50`, `p99` and 1.5 x `p99` ms.
fn open(rate: f64, p50: f64, p99: f64) -> Open {
    let (p50, p99) = (p50 * 1000.0, p99 * 1000.0);
    let latencies_us = (0..100)
        .map(|i| match i {
            0..=49 => p50 * f64::from(i + 1) / 50.0,
            50..=98 => p50 + (p99 - p50) * f64::from(i - 49) / 49.0,
            _ => p99 * 1.5,
        } as u32)
        .collect();
    Open {
        offered: rate / 2.0,
        achieved: rate / 2.0,
        errors: Errors::default(),
        unsent: 0,
        latencies_us,
    }
}

/// A scenario from its per-round figures: req/s, server and driver CPU µs a request; its
/// latency at half load, p50 and p99 ms; and its peak RSS, MiB.
fn scenario(
    (target, api, placement): (Target, Api, Placement),
    rates: [f64; 3],
    cpu: (f64, f64),
    (p50, p99): (f64, f64),
    rss_mib: u64,
) -> Scenario {
    let mut sc = Scenario::new(target, api, placement);
    sc.rates = rates.to_vec();
    sc.server_cpu_us = rates
        .iter()
        .map(|r| cpu.0 * 90_000.0 / (r + 80_000.0))
        .collect();
    sc.driver_cpu_us = vec![cpu.1; 3];
    sc.open = Some(open(rates[1], p50, p99));
    sc.hwm_kib = rss_mib * 1024 - 300;
    sc.open_hwm_kib = rss_mib * 1024 + 100;
    sc.startups = vec![
        (Duration::from_millis(31), Duration::from_millis(60)),
        (Duration::from_millis(37), Duration::from_millis(72)),
    ];
    sc.verified = usize::from(matches!(target, Target::Gateway { signing: true, .. }));
    sc.shortest_window = 5.0;
    sc
}

/// The gateway's twelve rows of one placement, `scale` x the reference run's figures.
fn gateway(placement: Placement, scale: f64) -> Vec<Scenario> {
    let mut rows = Vec::new();
    for (signing, store, rate, cpu, rss) in [
        (true, StoreKind::Sqlite, 3100.0, 318.0, 44),
        (true, StoreKind::Memory, 3600.0, 280.0, 40),
        (false, StoreKind::Sqlite, 16000.0, 64.0, 47),
        (false, StoreKind::Memory, 25000.0, 41.0, 90),
    ] {
        for (i, api) in Api::ALL.into_iter().enumerate() {
            let rate = rate * scale * (1.0 - 0.05 * i as f64);
            let p99 = if signing { 2.0 } else { 3.0 + 9.0 * i as f64 };
            let mut sc = scenario(
                (Target::Gateway { store, signing }, api, placement),
                [rate * 0.95, rate, rate * 1.03],
                (cpu, 20.0),
                (0.7, p99),
                rss + 4 * i as u64,
            );
            if !signing && api != Api::InquiryPayment {
                sc.exhausted = 3 - i;
                sc.shortest_window = 3.9 + i as f64 * 0.4;
            }
            rows.push(sc);
        }
    }
    rows
}

fn ceiling(placement: Placement, threads: usize, rates: [f64; 3]) -> Ceiling {
    Ceiling {
        placement,
        threads,
        rates: rates.to_vec(),
        sign_cpu_us: vec![246.0, 221.0, 213.0],
    }
}

fn profile(label: &str, rate: f64, cpu: f64, sign: f64) -> Profile {
    let rows = [
        ("[kernel.kallsyms]", "_raw_spin_unlock_irqrestore", 500.0),
        ("load", "aws_lc_0_47_0_bn_sqrx8x_internal", sign),
        ("load", "_mi_page_malloc_zero", 80.0),
        ("libc.so.6", "__memmove_avx512_unaligned_erms", 60.0),
        ("load", "hyper::proto::h1::role::parse_headers", 70.0),
        (
            "load",
            "<F as axum::handler::Handler<(M,T1,T2,T3,T4),S>>::call::{{closure}}",
            40.0,
        ),
        ("load", "serde_json::de::from_slice", 30.0),
        (
            "alipay-gateway",
            "alipay_gateway::journal::Journal::record",
            20.0,
        ),
        (
            "alipay-gateway",
            "sqlite3VdbeExec",
            if sign > 0.0 { 50.0 } else { 0.0 },
        ),
        ("libc.so.6", "__strncmp_evex", 10.0),
        ("load", "0x00007f3a", 40.0),
    ];
    let rows = rows
        .into_iter()
        .filter(|r| r.2 > 0.0)
        .map(|(dso, symbol, n)| (dso.to_owned(), symbol.to_owned(), n))
        .collect();
    Profile::new(label.to_owned(), rate, Some(cpu), rows)
}

fn soak(store: StoreKind, rss_mib: [f64; 5], errors: u64) -> Soak {
    let rss = (0..=60u32)
        .map(|t| {
            let i = (t as usize * 4 / 60).min(4);
            (f64::from(t), (rss_mib[i] * 1024.0) as u64)
        })
        .collect();
    Soak {
        store,
        seconds: 60.0,
        rate: 5016.0,
        rss,
        hwm_kib: (rss_mib[4] * 1024.0) as u64 + 200,
        errors: Errors {
            count: errors,
            samples: (0..errors.min(2))
                .map(|i| format!("HTTP 500 `UNKNOWN_EXCEPTION` on request {i}"))
                .collect(),
        },
        exhausted: errors > 0,
    }
}

/// A full run on a busy machine: both placements, peers (one missing), the signing placement,
/// profiles, both RSS runs, failed requests, and every knob the report mentions.
fn full() -> Results {
    let mut opts = opts(vec![Placement::Unpinned, Placement::Pinned]);
    opts.only = Some(vec!["gateway".into()]);
    opts.namespace = true;
    opts.gateway_env = vec![("GATEWAY_NOTIFY__ENABLED".into(), "false".into())];
    let mut scenarios = Vec::new();
    for (placement, scale) in [(Placement::Unpinned, 1.8), (Placement::Pinned, 1.0)] {
        scenarios.push(scenario(
            (Target::Echo("echo"), Api::NotifyPushPayment, placement),
            [89867.0, 85023.0, 100_506.0],
            (11.0, 8.0),
            (0.3, 1.67),
            7,
        ));
        scenarios.extend(gateway(placement, scale));
        scenarios.push(scenario(
            (Target::Peer(Peer::WireMock), Api::InquiryPayment, placement),
            [11527.0, 11061.0, 11578.0],
            (121.0, 15.0),
            (0.35, 5.22),
            273,
        ));
    }
    for (mode, rate, p99) in [
        ("echo-sign-inline", 7779.0, 1.98),
        ("echo-sign-blocking", 6776.0, 2.08),
        ("echo-sign-blocking-bounded", 6555.0, 1.95),
    ] {
        scenarios.push(scenario(
            (
                Target::Echo(mode),
                Api::NotifyPushPayment,
                Placement::Unpinned,
            ),
            [rate, rate * 0.96, rate * 1.01],
            (242.0, 9.0),
            (0.52, p99),
            8,
        ));
    }
    scenarios[3].errors = Errors {
        count: 3,
        samples: vec!["connection reset by peer".into(), "HTTP 503 `busy`".into()],
    };
    Results {
        opts,
        ceilings: vec![
            ceiling(Placement::Unpinned, 2, [8221.0, 4481.0, 4602.0]),
            ceiling(Placement::Pinned, 1, [4032.0, 4509.0, 4671.0]),
        ],
        verify_cpu_us: vec![14.0, 12.6, 12.0],
        scenarios,
        peers_missing: vec![(Peer::Prism, "npm not found".into())],
        profiles: vec![
            profile("echo @pinned", 89547.0, 10.7, 0.0),
            profile(
                "gateway memory sign=off inquiryPayment @pinned",
                25900.0,
                38.2,
                400.0,
            ),
            profile(
                "gateway memory sign=on inquiryPayment @pinned",
                3447.0,
                291.2,
                4000.0,
            ),
        ],
        profile_skipped: None,
        soaks: vec![
            soak(StoreKind::Sqlite, [42.7, 45.1, 47.0, 48.7, 51.1], 2),
            soak(StoreKind::Memory, [37.0, 69.9, 107.3, 151.4, 166.9], 0),
        ],
        presigned: (450_000, Duration::from_secs_f64(69.5)),
        wall: Duration::from_secs(1289),
        loadavg: ("1.69 1.20 1.89".into(), "2.81 3.42 3.32".into()),
    }
}

/// A short run on a quiet machine, unpinned only, that meets its targets: no peers, no
/// profile, no RSS run, no failure.
fn quiet() -> Results {
    let mut scenarios = vec![scenario(
        (
            Target::Echo("echo"),
            Api::NotifyPushPayment,
            Placement::Unpinned,
        ),
        [20000.0, 21000.0, 22000.0],
        (11.0, 8.0),
        (0.3, 1.2),
        7,
    )];
    scenarios.extend(gateway(Placement::Unpinned, 1.0).into_iter().map(|mut sc| {
        sc.open = Some(open(1000.0, 0.5, 1.5));
        sc.startups = vec![(Duration::from_millis(31), Duration::from_millis(35))];
        sc
    }));
    let mut opts = opts(vec![Placement::Unpinned]);
    opts.soak = 0.0;
    Results {
        opts,
        ceilings: vec![ceiling(Placement::Unpinned, 2, [4400.0, 4500.0, 4600.0])],
        verify_cpu_us: vec![13.0],
        scenarios,
        peers_missing: Vec::new(),
        profiles: Vec::new(),
        profile_skipped: Some("perf is not installed".into()),
        soaks: Vec::new(),
        presigned: (9000, Duration::from_secs_f64(1.5)),
        wall: Duration::from_secs(95),
        loadavg: ("0.10 0.20 0.30".into(), "0.90 0.80 0.70".into()),
    }
}
