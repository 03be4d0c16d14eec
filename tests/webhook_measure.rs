//! Figures for the webhook: answer latency under a burst of 1,000 deliveries from many
//! concurrent connections, and the dedup window's memory at its bound. Prints them:
//!
//! ```text
//! cargo test --release --test webhook_measure -- --nocapture --test-threads 1
//! ```

use gewe::events::Event;
use gewe::webhook::{DedupWindow, WebhookServer, DEFAULT_DEDUP_CAPACITY};
use serde_json::json;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

const EVENTS: u64 = 1_000;
const CONNECTIONS: u64 = 50;

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn answer_latency_under_a_burst() {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let handled = Arc::new(AtomicU64::new(0));
    let count = Arc::clone(&handled);
    let running = WebhookServer::builder()
        .listen("127.0.0.1:0".parse().expect("addr"))
        .secret_path("measure")
        .queue_capacity(2 * EVENTS as usize)
        .handler(move |_event: Event| {
            let count = Arc::clone(&count);
            async move {
                count.fetch_add(1, Ordering::Relaxed);
                Ok::<(), String>(())
            }
        })
        .start()
        .await
        .expect("started");
    let url = format!("http://{}{}", running.local_addr(), running.callback_path());

    let started = Instant::now();
    let mut workers = Vec::new();
    for w in 0..CONNECTIONS {
        let url = url.clone();
        workers.push(tokio::spawn(async move {
            // One client per worker: its own keep-alive connection, as GeWe's senders would be.
            let http = reqwest::Client::builder().build().expect("client");
            let mut latencies = Vec::new();
            for i in (w..EVENTS).step_by(CONNECTIONS as usize) {
                let body = json!({
                    "TypeName": "AddMsg", "Appid": "wx_measure", "Wxid": "wxid_me",
                    "Data": {"MsgType": 1, "Content": {"string": format!("m{i}")},
                             "NewMsgId": 7_000_000_000_000_000_000u64 + i}
                })
                .to_string();
                let t = Instant::now();
                let status = http
                    .post(&url)
                    .header("content-type", "application/json")
                    .body(body)
                    .send()
                    .await
                    .expect("answered")
                    .status();
                latencies.push(t.elapsed());
                assert_eq!(status.as_u16(), 200);
            }
            latencies
        }));
    }
    let mut all = Vec::new();
    // Without each connection's first request, which also pays for the TCP connect.
    let mut warm = Vec::new();
    for w in workers {
        let latencies = w.await.expect("worker");
        warm.extend(latencies.iter().skip(1).copied());
        all.extend(latencies);
    }
    warm.sort();
    let wall = started.elapsed();
    all.sort();
    let (p50, p99, max) = (
        percentile(&all, 50.0),
        percentile(&all, 99.0),
        all[all.len() - 1],
    );
    running.shutdown().await;

    println!(
        "webhook burst: {} deliveries over {CONNECTIONS} connections in {:.1} ms: \
         p50 {:.3} ms, p99 {:.3} ms, max {:.3} ms; without each connection's first \
         request (TCP connect): p50 {:.3} ms, p99 {:.3} ms ({} profile)",
        all.len(),
        wall.as_secs_f64() * 1e3,
        p50.as_secs_f64() * 1e3,
        p99.as_secs_f64() * 1e3,
        max.as_secs_f64() * 1e3,
        percentile(&warm, 50.0).as_secs_f64() * 1e3,
        percentile(&warm, 99.0).as_secs_f64() * 1e3,
        if cfg!(debug_assertions) {
            "debug"
        } else {
            "release"
        },
    );
    assert_eq!(all.len() as u64, EVENTS);
    assert_eq!(
        handled.load(Ordering::Relaxed),
        EVENTS,
        "every event handed on"
    );
    assert!(p99 < Duration::from_secs(3), "p99 {p99:?}");
}

#[test]
fn dedup_window_memory_at_its_bound() {
    for capacity in [10_000, DEFAULT_DEDUP_CAPACITY, 100_000, 1_000_000] {
        let mut window = DedupWindow::new(capacity, Duration::from_secs(24 * 3600));
        // Past the bound, so eviction has run and the containers are at their steady size.
        let total = capacity as u64 + capacity as u64 / 2;
        for i in 0..total {
            let app = if i % 2 == 0 {
                "wx_device_one"
            } else {
                "wx_device_two"
            };
            assert!(window.check_and_insert(Some(app), &i.into()));
        }
        assert_eq!(window.len(), capacity);
        let bytes = window.heap_bytes();
        println!(
            "dedup window: {capacity} keys at the bound hold {bytes} heap bytes \
             ({:.1} MiB, {:.1} bytes per key)",
            bytes as f64 / (1024.0 * 1024.0),
            bytes as f64 / capacity as f64
        );
        assert!(bytes / capacity < 128, "{bytes} bytes for {capacity}");
    }
}
