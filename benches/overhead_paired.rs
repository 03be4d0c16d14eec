//! Per-call overhead as a paired measurement: gewe and a hand-written `reqwest` + `serde_json`
//! POST take turns, round after round, against a minimal loopback server that answers a fixed
//! body (so that the server's own work, which both pay, hides as little of the difference as
//! possible). Each round times a batch of each, in alternating order, and gives one ratio;
//! the machine's drift hits both sides of a round alike. Reported: the median ratio and its
//! quartiles, sequential and with 64 calls in flight.
//!
//! Run: `cargo bench --bench overhead_paired` (`ROUNDS`, default 41; `BATCH`, default 200).
//! The divan benchmark `overhead` measures the same calls against the full mock.

use axum::routing::post;
use axum::Router;
#[path = "support/hand.rs"]
mod hand;
use std::sync::Arc;
use std::time::{Duration, Instant};

const OK_BODY: &str = r#"{"ret":200,"msg":"操作成功","data":{"toWxid":"wxid_friend","createTime":1705043418,"msgId":640356095,"newMsgId":7773749793478223190,"type":1}}"#;
const TOKEN: &str = "bench-token";
const IN_FLIGHT: usize = 64;

struct Sides {
    gewe: gewe::Client,
    http: reqwest::Client,
    base: String,
    body: gewe::types::MessagePostTextRequest,
}

impl Sides {
    async fn hand(&self) {
        let data = hand::post_text(&self.http, &self.base, TOKEN, &self.body).await;
        std::hint::black_box(data);
    }

    async fn gewe(&self) {
        let data = self.gewe.message_post_text(&self.body).await.expect("sent");
        std::hint::black_box(data);
    }
}

fn env(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn quartiles(mut ratios: Vec<f64>) -> (f64, f64, f64) {
    ratios.sort_by(f64::total_cmp);
    let at = |q: f64| ratios[((ratios.len() - 1) as f64 * q).round() as usize];
    (at(0.25), at(0.5), at(0.75))
}

fn main() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    let rounds = env("ROUNDS", 41);
    let batch = env("BATCH", 200);
    let sides = rt.block_on(async {
        let app = Router::new().route(
            "/gewe/v2/api/message/postText",
            post(|| async { ([("content-type", "application/json")], OK_BODY) }),
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let addr = listener.local_addr().expect("addr");
        tokio::spawn(async move { axum::serve(listener, app).await });
        let base = format!("http://{addr}/gewe/v2/api");
        let gewe = gewe::Client::builder()
            .token(TOKEN)
            .base_url(&base)
            .build()
            .expect("client");
        let body: gewe::types::MessagePostTextRequest = serde_json::from_value(
            serde_json::json!({"appId": "wx_app", "toWxid": "wxid_friend", "content": "hello", "ats": ""}),
        )
        .expect("body");
        Arc::new(Sides {
            gewe,
            http: reqwest::Client::new(),
            base: base.clone(),
            body,
        })
    });

    let sequential = |use_gewe: bool| -> Duration {
        rt.block_on(async {
            let started = Instant::now();
            for _ in 0..batch {
                if use_gewe {
                    sides.gewe().await
                } else {
                    sides.hand().await
                }
            }
            started.elapsed()
        })
    };
    let in_flight = |use_gewe: bool| -> Duration {
        rt.block_on(async {
            let started = Instant::now();
            let per_task = batch.div_ceil(IN_FLIGHT).max(1) * 4;
            let tasks: Vec<_> = (0..IN_FLIGHT)
                .map(|_| {
                    let sides = Arc::clone(&sides);
                    tokio::spawn(async move {
                        for _ in 0..per_task {
                            if use_gewe {
                                sides.gewe().await
                            } else {
                                sides.hand().await
                            }
                        }
                    })
                })
                .collect();
            for t in tasks {
                t.await.expect("task");
            }
            started.elapsed()
        })
    };

    // Warm up both pools and code paths.
    sequential(true);
    sequential(false);
    in_flight(true);
    in_flight(false);

    let mut report = Vec::new();
    for (name, run) in [
        ("sequential", &sequential as &dyn Fn(bool) -> Duration),
        ("64 in flight", &in_flight),
    ] {
        let mut ratios = Vec::with_capacity(rounds);
        let (mut total_gewe, mut total_hand) = (Duration::ZERO, Duration::ZERO);
        for round in 0..rounds {
            let (g, h) = if round % 2 == 0 {
                let g = run(true);
                (g, run(false))
            } else {
                let h = run(false);
                (run(true), h)
            };
            total_gewe += g;
            total_hand += h;
            ratios.push(g.as_secs_f64() / h.as_secs_f64());
        }
        let (q1, median, q3) = quartiles(ratios);
        report.push(format!(
            "{name:>12}: gewe/hand-written median {median:.3} (quartiles {q1:.3}–{q3:.3}) over \
             {rounds} rounds; totals gewe {:.0} ms, hand-written {:.0} ms",
            total_gewe.as_secs_f64() * 1e3,
            total_hand.as_secs_f64() * 1e3,
        ));
    }
    println!(
        "batch {batch} calls per side per round (64 in flight: 64 tasks × {} calls)",
        batch.div_ceil(IN_FLIGHT).max(1) * 4
    );
    for line in report {
        println!("{line}");
    }
}
