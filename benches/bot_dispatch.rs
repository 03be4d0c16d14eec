//! The dispatcher's concurrency across chats: 1,000 deliveries over 100 chats, each handled by
//! a handler that sleeps 1 s. Ten events per chat run one after another, the chats side by
//! side, so the whole takes about 10 s (not 1,000 s). Each chat's events come from one sender
//! that waits for each 200, so the delivery order within a chat is known; the bench fails if a
//! chat's events were handled out of that order, twice, or not at all.
//!
//! Run: `cargo bench --bench bot_dispatch`. `CHATS` (100) and `PER_CHAT` (10) change the load.

use gewe::bot::{Bot, Context, Settings, TextMessage};
use gewe::mock::MockServer;
use serde_json::json;
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

fn main() {
    let chats: u64 = std::env::var("CHATS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(100);
    let per_chat: u64 = std::env::var("PER_CHAT")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(10);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    let dir = std::env::temp_dir().join(format!("gewe-bot-dispatch-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("a scratch folder");
    rt.block_on(async {
        let mock = MockServer::start().await.expect("mock");
        let handled = Arc::new(AtomicU64::new(0));
        let count = Arc::clone(&handled);
        // Per chat, the event numbers in the order the handler finished them.
        let seen: Arc<Mutex<HashMap<String, Vec<u64>>>> = Arc::default();
        let record = Arc::clone(&seen);
        let settings = Settings::new(mock.token())
            .base_url(mock.base_url())
            .listen("127.0.0.1:0".parse().expect("addr"))
            .store_path(dir.join("dispatch.redb"))
            .app_id("wx_dispatch");
        let bot = Bot::new(settings)
            .on_text(move |_cx: Context, msg: TextMessage| {
                let count = Arc::clone(&count);
                let record = Arc::clone(&record);
                async move {
                    tokio::time::sleep(Duration::from_secs(1)).await;
                    let n: u64 = msg.body().parse().expect("the event's number");
                    record
                        .lock()
                        .expect("lock")
                        .entry(msg.chat_id().unwrap_or_default().to_owned())
                        .or_default()
                        .push(n);
                    count.fetch_add(1, Ordering::Relaxed);
                    Ok(())
                }
            })
            .start()
            .await
            .expect("the bot starts");
        gewe::install_tls_provider();
        let http = reqwest::Client::new();
        let url = bot.callback_url().to_owned();
        let started = Instant::now();
        // Round-robin over the chats, as a busy account receives them; 16 senders in flight.
        // Sender k owns the chats k, k + 16, ... and sends each chat's events in order, each
        // after the previous one's 200, so the delivery order within a chat is n's order.
        let total = chats * per_chat;
        let mut senders = Vec::new();
        for k in 0..16u64 {
            let (http, url) = (http.clone(), url.clone());
            senders.push(tokio::spawn(async move {
                for round in 0..per_chat {
                    for chat in (k..chats).step_by(16) {
                        let n = round * chats + chat;
                        let event = json!({
                            "TypeName": "AddMsg", "Appid": "wx_dispatch", "Wxid": "wxid_bot",
                            "Data": {"MsgId": n, "NewMsgId": 7_200_000_000_000u64 + n, "MsgType": 1,
                                     "FromUserName": {"string": format!("wxid_chat_{chat}")},
                                     "ToUserName": {"string": "wxid_bot"},
                                     "Content": {"string": n.to_string()}, "CreateTime": 1705043418}
                        });
                        let status = http
                            .post(&url)
                            .json(&event)
                            .send()
                            .await
                            .expect("sent")
                            .status();
                        assert_eq!(status, 200);
                    }
                }
            }));
        }
        for sender in senders {
            sender.await.expect("sender");
        }
        let delivered = started.elapsed();
        while handled.load(Ordering::Relaxed) < total {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        let elapsed = started.elapsed();
        println!(
            "{total} deliveries over {chats} chats, handler sleeps 1 s: all delivered (200) in \
             {:.2} s, all handled in {:.2} s (serial would take {total} s; {per_chat} per chat \
             take {per_chat} s)",
            delivered.as_secs_f64(),
            elapsed.as_secs_f64()
        );
        let stats = bot.stats();
        assert_eq!(
            (stats.handled, stats.handler_errors),
            (total, 0),
            "{stats:?}"
        );
        let seen = std::mem::take(&mut *seen.lock().expect("lock"));
        assert_eq!(seen.len() as u64, chats, "every chat was handled");
        for (chat, order) in seen.iter() {
            let c: u64 = chat
                .trim_start_matches("wxid_chat_")
                .parse()
                .expect("a chat");
            let expected: Vec<u64> = (0..per_chat).map(|r| r * chats + c).collect();
            assert_eq!(order, &expected, "{chat}: handled out of delivery order");
        }
        println!(
            "order within each of the {chats} chats: as delivered, each event once ({} checked)",
            seen.values().map(Vec::len).sum::<usize>()
        );
        bot.shutdown().await;
    });
    let _ = std::fs::remove_dir_all(&dir);
}
