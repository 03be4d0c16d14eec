//! The webhook receiver under sustained load from a second process: `wrk` on loopback, each
//! request a text message with a distinct `NewMsgId`, so that dedup has to check and record
//! every one. Dedup on and dedup off are measured side by side in one run, in alternating
//! rounds, and the ratio is reported; so is the dedup window's memory at its bound.
//!
//! Needs `wrk` (Debian: `apt-get install wrk`). Run: `cargo bench --bench webhook_load`.
//! Settings (environment): `WRK_DURATION` (default `10s`), `WRK_CONNECTIONS` (64),
//! `WRK_THREADS` (1), `ROUNDS` (3).

#[path = "support/wrk.rs"]
mod wrk;

use gewe::events::Event;
use gewe::webhook::{DedupWindow, WebhookServer, DEFAULT_DEDUP_CAPACITY, DEFAULT_DEDUP_MAX_AGE};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

fn rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmRSS:"))
                .and_then(|l| l.split_whitespace().nth(1)?.parse().ok())
        })
        .unwrap_or(0)
}

fn main() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .expect("runtime");
    let script = wrk::script("webhook-load");
    let rounds: usize = wrk::env("ROUNDS", "3").parse().unwrap_or(3);

    let handled = Arc::new(AtomicU64::new(0));
    let start = |dedup: bool| {
        let count = Arc::clone(&handled);
        let mut builder = WebhookServer::builder()
            .listen("127.0.0.1:0".parse().expect("addr"))
            .secret_path("load")
            .handler(move |_event: Event| {
                let count = Arc::clone(&count);
                async move {
                    count.fetch_add(1, Ordering::Relaxed);
                    Ok::<(), String>(())
                }
            });
        if !dedup {
            builder = builder.no_dedup();
        }
        rt.block_on(builder.start()).expect("webhook started")
    };
    let with_dedup = start(true);
    let without = start(false);
    let url = |w: &gewe::webhook::RunningWebhook| {
        format!("http://{}{}", w.local_addr(), w.callback_path())
    };
    let rss_before = rss_kib();

    println!(
        "wrk -t{} -c{} -d{} --latency, {} rounds, dedup window {} keys",
        wrk::env("WRK_THREADS", "1"),
        wrk::env("WRK_CONNECTIONS", "64"),
        wrk::env("WRK_DURATION", "10s"),
        rounds,
        DEFAULT_DEDUP_CAPACITY
    );
    println!("round  dedup   req/s     p50 ms  p99 ms  requests  non-2xx  socket errors");
    let mut ratios = Vec::new();
    let mut p99s = Vec::new();
    let mut all_ok = true;
    for round in 0..rounds {
        // Alternate which goes first, so that a drift in the machine's load hits both.
        let order = if round % 2 == 0 {
            [true, false]
        } else {
            [false, true]
        };
        let mut rps = [0.0f64; 2];
        for dedup in order {
            let server = if dedup { &with_dedup } else { &without };
            let prefix = format!("7{}{}", round + 1, u8::from(dedup));
            let run = wrk::run(&url(server), &script, &prefix);
            println!(
                "{:>5}  {:<5} {:>9.0} {:>9.2} {:>7.2} {:>9} {:>8} {:>14}",
                round + 1,
                if dedup { "on" } else { "off" },
                run.requests_per_sec,
                run.p50_ms,
                run.p99_ms,
                run.requests,
                run.non_2xx,
                run.errors
            );
            rps[usize::from(!dedup)] = run.requests_per_sec;
            all_ok &= run.non_2xx == 0 && run.errors == 0 && run.requests > 0;
            if dedup {
                p99s.push(run.p99_ms);
            }
        }
        ratios.push(rps[0] / rps[1]);
    }
    let rss_after = rss_kib();
    let stats = with_dedup.stats();
    let mut sorted = ratios.clone();
    sorted.sort_by(f64::total_cmp);
    println!(
        "dedup on / off throughput per round: {:?}; median {:.3}",
        ratios.iter().map(|r| format!("{r:.3}")).collect::<Vec<_>>(),
        sorted[sorted.len() / 2]
    );
    println!(
        "dedup on: p99 per round {:?} ms; requests {}, queued {}, duplicates {}, queue full {}",
        p99s.iter().map(|p| format!("{p:.2}")).collect::<Vec<_>>(),
        stats.requests,
        stats.queued,
        stats.duplicates,
        stats.queue_full
    );
    // The window at its bound, alone: the same type and capacity the receiver keeps.
    let mut window = DedupWindow::new(DEFAULT_DEDUP_CAPACITY, DEFAULT_DEDUP_MAX_AGE);
    for i in 0..(2 * DEFAULT_DEDUP_CAPACITY as u64) {
        let id: gewe::Id = (7_000_000_000_000_000_000u64 + i).into();
        window.check_and_insert(Some("wx_load"), &id);
    }
    println!(
        "dedup window at its bound: {} keys, {} B of heap ({:.1} B/key); process RSS {} KiB \
         before the load, {} KiB after",
        window.len(),
        window.heap_bytes(),
        window.heap_bytes() as f64 / window.len() as f64,
        rss_before,
        rss_after
    );
    assert_eq!(
        stats.duplicates, 0,
        "distinct ids were taken for duplicates"
    );
    assert_eq!(stats.queue_full, 0, "answers of 503 would inflate the rate");
    assert_eq!(
        stats.queued, stats.requests,
        "every request was a new event"
    );
    assert!(
        all_ok,
        "a round had non-2xx answers or socket errors: see the table"
    );
    let _ = std::fs::remove_file(&script);
    rt.block_on(async {
        with_dedup.shutdown().await;
        without.shutdown().await;
    });
}
