//! A bot split over processes on a real `redis-server`: ingress replicas and workers in this
//! process, each with its own connections, sharing one deployment. Two replicas receiving one
//! delivery handle it once; three workers share 5,000 deliveries of 50 conversations with none
//! lost, none handled twice, every conversation in order, and the device's sends one at a time
//! with their gaps (from the mock's record of request times); Redis killed with `SIGKILL`
//! under load: the webhook answers 503 while it is down, and every delivery answered 200 is
//! handled after the restart.

#[path = "support/redis.rs"]
mod redis;
#[path = "support/bot.rs"]
mod support;

use gewe::bot::{Bot, Context, Role, RunningBot, Settings, TextMessage};
use gewe::mock::{MockReply, MockServer};
use gewe::pacing::PacingConfig;
use redis::RedisServer;
use serde_json::json;
use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use support::*;

/// Short, so that partitions move within a test.
const LEASE: Duration = Duration::from_millis(3000);
const HANDLER_TIMEOUT: Duration = Duration::from_millis(2000);
/// Under load a handler's reply waits its turn behind up to 50 others, one device's sends being
/// one at a time: a handler may take seconds.
const LOAD_LEASE: Duration = Duration::from_secs(30);
const LOAD_HANDLER_TIMEOUT: Duration = Duration::from_secs(20);

/// What the handlers saw: (chat, message body), in the order they ran.
type Log = Arc<Mutex<Vec<(String, String)>>>;

fn settings(server: &RedisServer, mock: &MockServer, deployment: &str, role: Role) -> Settings {
    let lease = if deployment == "load" {
        LOAD_LEASE
    } else {
        LEASE
    };
    Settings::new(mock.token())
        .base_url(mock.base_url())
        .listen("127.0.0.1:0".parse().unwrap())
        .app_id(APP_ID)
        .region_id("320000")
        .redis_store(server.url(), deployment)
        .partitions(16)
        .lease(lease)
        .claim_after(lease)
        .role(role)
}

async fn ingress(server: &RedisServer, mock: &MockServer, deployment: &str) -> RunningBot {
    Bot::new(settings(server, mock, deployment, Role::Ingress))
        .start()
        .await
        .expect("the ingress starts")
}

/// A worker that logs each text, and replies to those that end in `!`.
async fn worker(
    server: &RedisServer,
    mock: &MockServer,
    deployment: &str,
    log: &Log,
    pacing: PacingConfig,
) -> RunningBot {
    let log = Arc::clone(log);
    let timeout = if deployment == "load" {
        LOAD_HANDLER_TIMEOUT
    } else {
        HANDLER_TIMEOUT
    };
    Bot::new(settings(server, mock, deployment, Role::Worker))
        .pacing(pacing)
        .handler_timeout(timeout)
        .on_text(move |cx: Context, msg: TextMessage| {
            let log = Arc::clone(&log);
            async move {
                let chat = cx.chat_id().unwrap_or_default().to_owned();
                log.lock().unwrap().push((chat, msg.body().to_owned()));
                if msg.body().ends_with('!') {
                    cx.reply(format!("re {}", msg.body())).await?;
                }
                Ok(())
            }
        })
        .start()
        .await
        .expect("the worker starts")
}

async fn post(url: &str, body: &serde_json::Value) -> u16 {
    reqwest::Client::new()
        .post(url)
        .json(body)
        .send()
        .await
        .map(|r| r.status().as_u16())
        .unwrap_or(0)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_replicas_given_one_delivery_handle_it_once() {
    let Some(server) = RedisServer::start("deploy-replicas") else {
        return;
    };
    let mock = MockServer::start().await.unwrap();
    let log = Log::default();
    let one = ingress(&server, &mock, "replicas").await;
    let two = ingress(&server, &mock, "replicas").await;
    // Both replicas serve the same secret path, kept in Redis.
    assert_eq!(
        one.callback_url().rsplit('/').next(),
        two.callback_url().rsplit('/').next()
    );
    let _worker = worker(
        &server,
        &mock,
        "replicas",
        &log,
        PacingConfig::serial_only(),
    )
    .await;
    let hello = private_text("wxid_friend", "hello!", 4_242_424_242);
    let url = |bot: &RunningBot| format!("http://{}{}", bot.local_addr().unwrap(), path_of(bot));
    let (url_one, url_two) = (url(&one), url(&two));
    let (a, b) = tokio::join!(post(&url_one, &hello), post(&url_two, &hello));
    assert_eq!((a, b), (200, 200));
    let sent = wait_for(&mock, "/message/postText", 1).await;
    assert_eq!(sent[0]["content"], "re hello!");
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(log.lock().unwrap().len(), 1, "{:?}", log.lock().unwrap());
    assert_eq!(mock.received_for("/message/postText").len(), 1);
    assert_eq!(one.stats().duplicates + two.stats().duplicates, 1);
}

/// The path of a bot's callback URL.
fn path_of(bot: &RunningBot) -> String {
    let url = bot.callback_url();
    let rest = url.split_once("://").unwrap().1;
    rest[rest.find('/').unwrap()..].to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_workers_share_5000_deliveries_of_50_conversations_in_order_once_each() {
    let Some(server) = RedisServer::start("deploy-load") else {
        return;
    };
    let mock = Arc::new(MockServer::start().await.unwrap());
    // Each reply is answered after 1 ms; its arrival time is kept.
    const ANSWER: Duration = Duration::from_millis(1);
    let arrivals: Arc<Mutex<Vec<Instant>>> = Arc::default();
    {
        let arrivals = Arc::clone(&arrivals);
        mock.respond_with("/message/postText", move |body| {
            arrivals.lock().unwrap().push(Instant::now());
            MockReply::ok(Some(json!({
                "toWxid": body["toWxid"], "msgId": 1, "newMsgId": 2, "createTime": 3, "type": 1
            })))
            .with_delay(ANSWER)
        });
    }
    let gap = Duration::from_millis(4);
    let pacing = PacingConfig::serial_only()
        .message_gap(gap)
        .user_gap(gap)
        .group_gap(gap..=gap);
    let log = Log::default();
    let _ingress = ingress(&server, &mock, "load").await;
    let mut workers = Vec::new();
    for _ in 0..3 {
        workers.push(worker(&server, &mock, "load", &log, pacing.clone()).await);
    }
    const CHATS: u64 = 50;
    const EACH: u64 = 100;
    let started = Instant::now();
    let mut pushers = Vec::new();
    for chat in 0..CHATS {
        let mock = Arc::clone(&mock);
        pushers.push(tokio::spawn(async move {
            for i in 0..EACH {
                // Every tenth message asks for a reply.
                let body = if i % 10 == 9 {
                    format!("{i}!")
                } else {
                    i.to_string()
                };
                let event = private_text(&format!("wxid_{chat}"), &body, chat * 1_000_000 + i + 1);
                let status = mock.push_callback(&event).await.unwrap();
                assert_eq!(status, 200, "chat {chat} message {i}");
            }
        }));
    }
    for pusher in pushers {
        pusher.await.unwrap();
    }
    let total = usize::try_from(CHATS * EACH).unwrap();
    let deadline = Instant::now() + Duration::from_secs(120);
    while log.lock().unwrap().len() < total && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let handled_in = started.elapsed();
    let log: Vec<(String, String)> = log.lock().unwrap().clone();
    assert_eq!(log.len(), total, "lost deliveries");
    let distinct: BTreeSet<&(String, String)> = log.iter().collect();
    assert_eq!(distinct.len(), total, "a delivery was handled twice");
    let mut per_chat: BTreeMap<&str, Vec<u64>> = BTreeMap::new();
    for (chat, body) in &log {
        per_chat
            .entry(chat)
            .or_default()
            .push(body.trim_end_matches('!').parse().unwrap());
    }
    assert_eq!(per_chat.len(), 50);
    for (chat, order) in &per_chat {
        assert_eq!(*order, (0..EACH).collect::<Vec<_>>(), "{chat} out of order");
    }
    // The workers shared the partitions.
    let busy = workers.iter().filter(|w| w.stats().handled > 0).count();
    assert!(
        busy >= 2,
        "{:?}",
        workers.iter().map(|w| w.stats()).collect::<Vec<_>>()
    );
    // 500 replies, one at a time for the device, each after the previous one's answer and the
    // gap: consecutive arrivals at least answer + gap apart (1 ms for clock rounding).
    let replies = wait_for(&mock, "/message/postText", 500).await;
    assert_eq!(
        replies.len(),
        500,
        "{:?}",
        workers.iter().map(|w| w.stats()).collect::<Vec<_>>()
    );
    let mut at = arrivals.lock().unwrap().clone();
    at.sort();
    let tightest = at.windows(2).map(|w| w[1] - w[0]).min().unwrap();
    assert!(
        tightest + Duration::from_millis(1) >= ANSWER + gap,
        "two sends of one appId {tightest:?} apart: they overlapped or skipped the gap"
    );
    println!(
        "5,000 deliveries over 3 workers handled in {handled_in:?}; tightest reply gap {tightest:?}; handled per worker {:?}",
        workers.iter().map(|w| w.stats().handled).collect::<Vec<_>>()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis_killed_under_load_every_delivery_answered_200_is_handled_after_the_restart() {
    let Some(mut server) = RedisServer::start("deploy-kill") else {
        return;
    };
    let mock = Arc::new(MockServer::start().await.unwrap());
    let log = Log::default();
    let _ingress = ingress(&server, &mock, "kill").await;
    let _a = worker(&server, &mock, "kill", &log, PacingConfig::serial_only()).await;
    let _b = worker(&server, &mock, "kill", &log, PacingConfig::serial_only()).await;
    let running = Arc::new(std::sync::atomic::AtomicBool::new(true));
    let accepted: Arc<Mutex<BTreeSet<String>>> = Arc::default();
    let refused = Arc::new(std::sync::atomic::AtomicU64::new(0));
    let mut pushers = Vec::new();
    for chat in 0..10u64 {
        let (mock, running, accepted, refused) = (
            Arc::clone(&mock),
            Arc::clone(&running),
            Arc::clone(&accepted),
            Arc::clone(&refused),
        );
        pushers.push(tokio::spawn(async move {
            let mut i = 0u64;
            while running.load(std::sync::atomic::Ordering::Relaxed) {
                i += 1;
                let body = format!("{chat}-{i}");
                let event = private_text(&format!("wxid_{chat}"), &body, chat * 1_000_000 + i);
                match mock.push_callback(&event).await {
                    Ok(200) => {
                        accepted.lock().unwrap().insert(body);
                    }
                    Ok(503) => {
                        refused.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                        tokio::time::sleep(Duration::from_millis(20)).await;
                    }
                    other => panic!("the webhook answered {other:?}"),
                }
            }
        }));
    }
    tokio::time::sleep(Duration::from_millis(700)).await;
    server.kill();
    let before_kill = accepted.lock().unwrap().len();
    tokio::time::sleep(Duration::from_millis(700)).await;
    server.restart();
    tokio::time::sleep(Duration::from_millis(1500)).await;
    running.store(false, std::sync::atomic::Ordering::Relaxed);
    for pusher in pushers {
        pusher.await.unwrap();
    }
    assert!(
        refused.load(std::sync::atomic::Ordering::Relaxed) > 0,
        "the webhook never answered 503 while Redis was down"
    );
    let accepted = accepted.lock().unwrap().clone();
    assert!(
        accepted.len() > before_kill,
        "no delivery was taken after the restart"
    );
    let deadline = Instant::now() + Duration::from_secs(60);
    let handled = || -> BTreeSet<String> {
        let seen = log.lock().unwrap();
        seen.iter().map(|(_, body)| body.clone()).collect()
    };
    while !accepted.is_subset(&handled()) && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let missing: Vec<_> = accepted.difference(&handled()).cloned().collect();
    assert!(
        missing.is_empty(),
        "answered 200 but never handled: {missing:?}"
    );
    println!(
        "Redis killed under load: {} deliveries answered 200 ({before_kill} before the kill), {} answered 503, all handled",
        accepted.len(),
        refused.load(std::sync::atomic::Ordering::Relaxed)
    );
}

/// How many partitions of `deployment` each worker holds, by the leases in Redis.
fn holders(server: &RedisServer, deployment: &str) -> BTreeMap<String, usize> {
    let mut held = BTreeMap::new();
    for partition in 0..16 {
        let key = format!("gewe:{{{deployment}}}:lease:partition:{partition}");
        if let Some(value) = server.command(&["GET", &key]).strip_prefix("$ ") {
            let holder = value.split_once(':').map_or(value, |(_, h)| h).to_owned();
            *held.entry(holder).or_default() += 1;
        }
    }
    held
}

async fn until(mut check: impl FnMut() -> bool, limit: Duration) -> Option<Duration> {
    let start = Instant::now();
    while start.elapsed() < limit {
        if check() {
            return Some(start.elapsed());
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    None
}

/// A worker joining takes half of the partitions from the one running (which sheds them once
/// their deliveries under way are done); a worker shutting down releases its leases, and the
/// other takes them at once, well before the leases would expire.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn partitions_move_to_a_joining_worker_and_back_from_one_that_stops() {
    let Some(server) = RedisServer::start("deploy-move") else {
        return;
    };
    let mock = MockServer::start().await.unwrap();
    let log = Log::default();
    let _ingress = ingress(&server, &mock, "move").await;
    let _a = worker(&server, &mock, "move", &log, PacingConfig::serial_only()).await;
    let all_one =
        |held: &BTreeMap<String, usize>| held.len() == 1 && held.values().sum::<usize>() == 16;
    assert!(
        until(
            || all_one(&holders(&server, "move")),
            Duration::from_secs(10)
        )
        .await
        .is_some(),
        "{:?}",
        holders(&server, "move")
    );
    let b = worker(&server, &mock, "move", &log, PacingConfig::serial_only()).await;
    let halves = |held: &BTreeMap<String, usize>| held.len() == 2 && held.values().all(|n| *n == 8);
    let joined = until(
        || halves(&holders(&server, "move")),
        Duration::from_secs(15),
    )
    .await;
    assert!(joined.is_some(), "{:?}", holders(&server, "move"));
    // Deliveries keep flowing to both.
    for i in 0..40u64 {
        let event = private_text(&format!("wxid_{i}"), "hi", 77_000 + i);
        assert_eq!(mock.push_callback(&event).await.unwrap(), 200);
    }
    assert!(
        until(|| log.lock().unwrap().len() == 40, Duration::from_secs(10))
            .await
            .is_some()
    );
    let stopping = Instant::now();
    assert!(b.shutdown().await);
    let back = until(
        || all_one(&holders(&server, "move")),
        Duration::from_secs(10),
    )
    .await;
    let back = back.map(|_| stopping.elapsed());
    assert!(
        back.is_some_and(|t| t < LEASE),
        "the partitions came back after {back:?}, not before the lease ({LEASE:?}) would expire"
    );
    println!("a joining worker had its half after {joined:?}; a stopping worker's partitions moved in {back:?}");
}
