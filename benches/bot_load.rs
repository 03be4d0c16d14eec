//! The bot's durable receiver under load from `wrk`, beside the plain webhook receiver (no
//! store: dedup in memory, a queue) and a bare axum handler that parses the JSON and answers
//! 200, in the same run and in alternating order. Then the store's size per 10,000
//! deliveries. The bench fails on any non-2xx answer or socket error, on a duplicate among the
//! distinct ids, or when a delivery answered 200 is not handled exactly once.
//!
//! Needs `wrk` (Debian: `apt-get install wrk`). Run: `cargo bench --bench bot_load`.
//! Settings (environment): `WRK_DURATION` (default `10s`), `WRK_CONNECTIONS` (64),
//! `WRK_THREADS` (1), `ROUNDS` (3).

#[path = "support/wrk.rs"]
mod wrk;

use gewe::bot::{Bot, Context, FileStore, Settings, Store};
use gewe::events::Event;
use gewe::mock::MockServer;
use gewe::webhook::WebhookServer;
use std::time::Duration;

/// The device of wrk's script.
const APP_ID: &str = "wx_load";

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn main() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .expect("runtime");
    let dir = std::env::temp_dir().join(format!("gewe-bot-load-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("a scratch folder");
    let script = wrk::script("bot-load");
    let rounds: usize = wrk::env("ROUNDS", "3").parse().unwrap_or(3);

    let (mock, durable, plain, bare) = rt.block_on(async {
        let mock = MockServer::start().await.expect("mock");
        let settings = Settings::new(mock.token())
            .base_url(mock.base_url())
            .listen("127.0.0.1:0".parse().expect("addr"))
            .store_path(dir.join("load.redb"))
            .app_id(APP_ID);
        let durable = Bot::new(settings)
            .max_waiting_deliveries(1_000_000)
            .on_event(|_cx: Context, _event: Event| async { Ok(()) })
            .start()
            .await
            .expect("the bot starts");
        let plain = WebhookServer::builder()
            .listen("127.0.0.1:0".parse().expect("addr"))
            .secret_path("load")
            .handler(|_event: Event| async { Ok::<(), String>(()) })
            .start()
            .await
            .expect("webhook started");
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let bare = listener.local_addr().expect("addr");
        let app = axum::Router::new().fallback(|body: axum::body::Bytes| async move {
            match serde_json::from_slice::<serde_json::Value>(&body) {
                Ok(_) => axum::http::StatusCode::OK,
                Err(_) => axum::http::StatusCode::BAD_REQUEST,
            }
        });
        tokio::spawn(async move { axum::serve(listener, app).await });
        (mock, durable, plain, bare)
    });
    let urls = [
        durable.callback_url().to_owned(),
        format!("http://{}{}", plain.local_addr(), plain.callback_path()),
        format!("http://{bare}/"),
    ];
    let names = ["durable", "no store", "bare axum"];
    println!(
        "wrk -t{} -c{} -d{} --latency, {rounds} rounds",
        wrk::env("WRK_THREADS", "1"),
        wrk::env("WRK_CONNECTIONS", "64"),
        wrk::env("WRK_DURATION", "10s"),
    );
    println!("round  receiver    req/s     p50 ms  p99 ms  requests  non-2xx  socket errors");
    let mut rps = vec![Vec::new(); 3];
    let mut p99 = vec![Vec::new(); 3];
    let mut all_ok = true;
    for round in 0..rounds {
        let mut order = [0usize, 1, 2];
        order.rotate_left(round % 3);
        for which in order {
            let prefix = format!("8{}{which}", round + 1);
            let run = wrk::run(&urls[which], &script, &prefix);
            println!(
                "{:>5}  {:<9} {:>9.0} {:>9.2} {:>7.2} {:>9} {:>8} {:>14}",
                round + 1,
                names[which],
                run.requests_per_sec,
                run.p50_ms,
                run.p99_ms,
                run.requests,
                run.non_2xx,
                run.errors
            );
            all_ok &= run.non_2xx == 0 && run.errors == 0 && run.requests > 0;
            rps[which].push(run.requests_per_sec);
            p99[which].push(run.p99_ms);
        }
    }
    let ratios: Vec<f64> = rps[1].iter().zip(&rps[2]).map(|(a, b)| a / b).collect();
    println!(
        "durable: median {:.0} deliveries/s, p99 per round {:?} ms",
        median(rps[0].clone()),
        p99[0].iter().map(|p| format!("{p:.2}")).collect::<Vec<_>>()
    );
    println!(
        "no store / bare axum throughput per round: {:?}; median {:.3}",
        ratios.iter().map(|r| format!("{r:.3}")).collect::<Vec<_>>(),
        median(ratios.clone())
    );
    // Every delivery answered 200 must be handled, once: wait for the handlers to drain.
    let mut stats = durable.stats();
    for _ in 0..3000 {
        if stats.waiting == 0 && stats.handled == stats.accepted {
            break;
        }
        std::thread::sleep(Duration::from_millis(10));
        stats = durable.stats();
    }
    println!(
        "durable: accepted {}, duplicates {}, refused {}, handled {}",
        stats.accepted, stats.duplicates, stats.refused, stats.handled
    );
    let size = |p: &std::path::Path| std::fs::metadata(p).map(|m| m.len()).unwrap_or(0);
    println!(
        "durable store after the load: {} B for {} deliveries",
        size(&dir.join("load.redb")),
        stats.accepted
    );

    // A fresh store, 10,000 deliveries journaled and handled, 64 at a time as under load.
    let path = dir.join("ten-thousand.redb");
    let bytes = rt.block_on(async {
        let store = FileStore::open(&path).expect("store");
        let text = "压测消息 a text of a typical length";
        for batch in 0..(10_000 / 64 + 1) {
            let mut tasks = Vec::new();
            for i in 0..64u64 {
                let n = batch * 64 + i;
                if n >= 10_000 {
                    break;
                }
                let body = format!(
                    r#"{{"TypeName":"AddMsg","Appid":"{APP_ID}","Wxid":"wxid_bot","Data":{{"MsgId":{n},"NewMsgId":{},"MsgType":1,"FromUserName":{{"string":"wxid_friend"}},"ToUserName":{{"string":"wxid_bot"}},"Content":{{"string":"{text} {n}"}},"CreateTime":1705043418}}}}"#,
                    7_100_000_000_000_000_000u64 + n
                );
                let store = store.clone();
                tasks.push(tokio::spawn(async move {
                    let delivery = gewe::bot::store::Delivery::new(
                        Some(APP_ID.into()),
                        Some((7_100_000_000_000_000_000u64 + n).into()),
                        body.into(),
                    );
                    match store.journal(delivery).await.expect("journaled") {
                        gewe::bot::store::Journaled::New(seq) => {
                            store.mark_handled(seq).await.expect("handled")
                        }
                        gewe::bot::store::Journaled::Duplicate => panic!("a distinct id"),
                    }
                }));
            }
            for task in tasks {
                task.await.expect("task");
            }
        }
        drop(store);
        tokio::time::sleep(Duration::from_millis(100)).await;
        size(&path)
    });
    println!(
        "store size for 10,000 deliveries journaled and handled: {bytes} B ({:.1} B each)",
        bytes as f64 / 10_000.0
    );
    assert_eq!(stats.refused, 0, "answers of 503 would inflate the rate");
    assert_eq!(stats.duplicates, 0, "every request had a distinct NewMsgId");
    assert_eq!(
        (
            stats.handled,
            stats.waiting,
            stats.handler_errors,
            stats.handler_panics
        ),
        (stats.accepted, 0, 0, 0),
        "every delivery answered 200 is handled once: {stats:?}"
    );
    assert!(
        all_ok,
        "a round had non-2xx answers or socket errors: see the table"
    );
    rt.block_on(async {
        durable.shutdown().await;
        plain.shutdown().await;
    });
    drop(mock);
    let _ = std::fs::remove_file(&script);
    let _ = std::fs::remove_dir_all(&dir);
}
