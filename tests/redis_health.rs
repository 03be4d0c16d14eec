//! The device's health shared by two bots of one deployment against a real `redis-server`
//! (tests/support/redis.rs), with the mock as GeWe: the `Offline` callback reaching one makes
//! the other refuse sends too, recovery runs once for both, and both are online after.

#[path = "support/bot.rs"]
mod bot_support;
#[path = "support/redis.rs"]
mod redis;

use bot_support::{eventually, private_text, scratch, settings, APP_ID, BOT_WXID};
use gewe::bot::{Bot, Context, DeviceState, RedisStore, RunningBot, TextMessage};
use gewe::mock::{MockReply, MockServer};
use gewe::pacing::PacingConfig;
use redis::RedisServer;
use serde_json::{json, Value};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// The errors a bot's handler got from its sends.
type Errors = Arc<Mutex<Vec<String>>>;

/// Which bot handled which probe: (bot, chat). The workers of a deployment share its
/// conversations by partition, so a delivery is handled by whichever bot holds its chat's.
static PROBES: Mutex<Vec<(String, String)>> = Mutex::new(Vec::new());

/// A chat whose deliveries bot `one` handles, and one that bot `two` handles, found by
/// probing (the probes are answered): the partitions are spread once both bots run.
async fn chats_of(server: &RedisServer, one: &RunningBot, names: (&str, &str)) -> (String, String) {
    // Once the partitions are split evenly they stay put: probe then.
    let settled = || {
        let mut held = std::collections::BTreeMap::<String, usize>::new();
        for partition in 0..16 {
            let key = format!("gewe:{{health}}:lease:partition:{partition}");
            if let Some(value) = server.command(&["GET", &key]).strip_prefix("$ ") {
                *held
                    .entry(value.split_once(':').map_or(value, |(_, h)| h).to_owned())
                    .or_default() += 1;
            }
        }
        held.len() == 2 && held.values().all(|n| *n == 8)
    };
    for _ in 0..3 {
        if eventually(settled).await {
            break;
        }
    }
    assert!(settled(), "the two bots never split the partitions");
    for round in 0..20u64 {
        let chats: Vec<String> = (0..24).map(|i| format!("wxid_probe_{round}_{i}")).collect();
        for (i, chat) in chats.iter().enumerate() {
            let probe = private_text(chat, "probe", 900_000 + round * 100 + i as u64);
            assert_eq!(deliver(one, &probe).await, 200);
        }
        let handled = |name: &str| {
            PROBES
                .lock()
                .unwrap()
                .iter()
                .find(|(bot, chat)| bot == name && chats.contains(chat))
                .map(|(_, chat)| chat.clone())
        };
        let all = || {
            let probes = PROBES.lock().unwrap();
            chats
                .iter()
                .all(|c| probes.iter().any(|(_, chat)| chat == c))
        };
        assert!(eventually(all).await, "the probes were not handled");
        if let (Some(a), Some(b)) = (handled(names.0), handled(names.1)) {
            return (a, b);
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    panic!("the two bots never shared the partitions");
}

/// A bot of the deployment `health` that answers each private text, and keeps the errors
/// of its answers in `errors`.
async fn bot(mock: &MockServer, server: &RedisServer, name: &str, errors: Errors) -> RunningBot {
    let store = RedisStore::connect(server.url(), "health").await.unwrap();
    let bot_name = name.to_owned();
    Bot::new(settings(mock, &scratch(name)))
        .store(store)
        .pacing(PacingConfig::serial_only())
        .login_poll_interval(Duration::from_millis(20))
        .shutdown_grace(Duration::from_secs(2))
        .on_text(move |cx: Context, msg: TextMessage| {
            let errors = Arc::clone(&errors);
            let name = bot_name.clone();
            async move {
                if msg.body() == "probe" {
                    let chat = cx.chat_id().unwrap_or_default().to_owned();
                    PROBES.lock().unwrap().push((name, chat));
                    return Ok(());
                }
                if let Err(error) = cx.reply(msg.body()).await {
                    errors.lock().unwrap().push(error.to_string());
                }
                Ok(())
            }
        })
        .start()
        .await
        .unwrap()
}

/// POSTs `event` to `bot`'s own webhook, as a load balancer would send it there; its status.
async fn deliver(bot: &RunningBot, event: &Value) -> u16 {
    gewe::install_tls_provider();
    reqwest::Client::new()
        .post(bot.callback_url())
        .json(event)
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn offline_seen_by_one_bot_is_refused_by_both_and_recovered_once() {
    let Some(server) = RedisServer::start("health-shared") else {
        return;
    };
    let mock = MockServer::start().await.unwrap();
    let (one_errors, two_errors): (Errors, Errors) = Default::default();
    let one = bot(&mock, &server, "health-one", Arc::clone(&one_errors)).await;
    let two = bot(&mock, &server, "health-two", Arc::clone(&two_errors)).await;
    let (_, chat_of_two) = chats_of(&server, &one, ("health-one", "health-two")).await;
    // A slow reconnection: long enough for the other bot to see the device offline.
    mock.respond(
        "/login/reconnection",
        MockReply::ok(None).with_delay(Duration::from_millis(1500)),
    );

    let offline = json!({"TypeName": "Offline", "Appid": APP_ID, "Wxid": BOT_WXID});
    assert_eq!(deliver(&one, &offline).await, 200);
    assert!(
        eventually(|| two.state() != DeviceState::Online).await,
        "the other bot learns it"
    );
    // The other bot refuses a send at once, and nothing goes out.
    let hello = private_text(&chat_of_two, "while offline", 101);
    assert_eq!(deliver(&two, &hello).await, 200);
    assert!(eventually(|| !two_errors.lock().unwrap().is_empty()).await);
    let refused = two_errors.lock().unwrap()[0].clone();
    assert!(
        refused.contains(&format!("device {APP_ID} is")) && refused.contains("refused"),
        "{refused}"
    );
    assert!(mock.received_for("/message/postText").is_empty());

    // Recovery ran once, and both bots are online after.
    assert!(
        eventually(|| one.state() == DeviceState::Online && two.state() == DeviceState::Online)
            .await,
        "{:?} {:?}",
        one.state(),
        two.state()
    );
    tokio::time::sleep(Duration::from_millis(800)).await;
    assert_eq!(mock.received_for("/login/reconnection").len(), 1);
    assert_eq!(
        (one.state(), two.state()),
        (DeviceState::Online, DeviceState::Online)
    );
    // And sends go out again from either.
    let again = private_text(&chat_of_two, "back", 102);
    assert_eq!(deliver(&two, &again).await, 200);
    let sent = bot_support::wait_for(&mock, "/message/postText", 1).await;
    assert_eq!(sent[0]["content"], "back");
    assert!(one_errors.lock().unwrap().is_empty());
    assert!(one.shutdown().await);
    assert!(two.shutdown().await);
}

/// Both bots' sends are answered 微信已离线 at once, so both see the device go offline by
/// themselves and both want to recover: the lease lets one run `reconnection`, and the other
/// follows it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_bots_seeing_the_device_offline_at_once_recover_it_once() {
    let Some(server) = RedisServer::start("health-send") else {
        return;
    };
    let mock = MockServer::start().await.unwrap();
    let (one_errors, two_errors): (Errors, Errors) = Default::default();
    let one = bot(&mock, &server, "health-send-one", Arc::clone(&one_errors)).await;
    let two = bot(&mock, &server, "health-send-two", Arc::clone(&two_errors)).await;
    let (chat_of_one, chat_of_two) =
        chats_of(&server, &one, ("health-send-one", "health-send-two")).await;
    // GeWe's offline error for the next two sends, while checkOnline would still say online.
    for _ in 0..2 {
        mock.enqueue(
            "/message/postText",
            MockReply::failure(500, Some("微信已离线"), Some(json!({"msg": "微信已离线"}))),
        );
    }
    mock.respond(
        "/login/reconnection",
        MockReply::ok(None).with_delay(Duration::from_millis(500)),
    );
    let (to_one, to_two) = (
        private_text(&chat_of_one, "one", 201),
        private_text(&chat_of_two, "two", 202),
    );
    let (a, b) = tokio::join!(deliver(&one, &to_one), deliver(&two, &to_two));
    assert_eq!((a, b), (200, 200));
    assert!(
        eventually(
            || !one_errors.lock().unwrap().is_empty() && !two_errors.lock().unwrap().is_empty()
        )
        .await
    );
    // Both sends reached GeWe: each bot saw the offline error itself.
    assert_eq!(mock.received_for("/message/postText").len(), 2);
    assert!(
        eventually(|| one.state() == DeviceState::Online && two.state() == DeviceState::Online)
            .await,
        "{:?} {:?}",
        one.state(),
        two.state()
    );
    tokio::time::sleep(Duration::from_millis(800)).await;
    assert_eq!(mock.received_for("/login/reconnection").len(), 1);
    assert!(one.shutdown().await);
    assert!(two.shutdown().await);
}

/// The bot recovering the device dies mid-`reconnection`: the other one, following it, takes
/// the recovery lease once it expires and recovers the device itself.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_recovery_left_by_a_dead_bot_is_taken_over_once_its_lease_expires() {
    let Some(server) = RedisServer::start("health-takeover") else {
        return;
    };
    let mock = MockServer::start().await.unwrap();
    let one = bot(&mock, &server, "health-takeover-one", Arc::default()).await;
    let two = bot(&mock, &server, "health-takeover-two", Arc::default()).await;
    // The first reconnection hangs, as if its process died mid-way; the next answers at once.
    mock.enqueue(
        "/login/reconnection",
        MockReply::ok(None).with_delay(Duration::from_secs(60)),
    );
    let offline = json!({"TypeName": "Offline", "Appid": APP_ID, "Wxid": BOT_WXID});
    assert_eq!(deliver(&one, &offline).await, 200);
    assert!(eventually(|| mock.received_for("/login/reconnection").len() == 1).await);
    assert!(
        eventually(|| two.state() == DeviceState::Recovering).await,
        "{:?}",
        two.state()
    );
    // Killed: its tasks stop at once, its recovery lease is left to expire.
    drop(one);
    let dead = std::time::Instant::now();
    let mut back = false;
    for _ in 0..200 {
        if two.state() == DeviceState::Online {
            back = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(back, "{:?} after {:?}", two.state(), dead.elapsed());
    assert_eq!(mock.received_for("/login/reconnection").len(), 2);
    assert!(two.shutdown().await);
}

/// Two bots of one deployment check the device every 200 ms: the period's lease lets one of
/// them call `checkOnline` each period, not both.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_periodic_check_runs_once_per_period_for_the_deployment() {
    let Some(server) = RedisServer::start("health-check") else {
        return;
    };
    let mock = MockServer::start().await.unwrap();
    let every = Duration::from_millis(200);
    let mut bots = Vec::new();
    for name in ["health-check-one", "health-check-two"] {
        let store = RedisStore::connect(server.url(), "check").await.unwrap();
        let bot = Bot::new(settings(&mock, &scratch(name)))
            .store(store)
            .pacing(PacingConfig::serial_only())
            .check_online_every(every)
            .login_poll_interval(Duration::from_millis(20))
            .start()
            .await
            .unwrap();
        bots.push(bot);
    }
    let before = mock.received_for("/login/checkOnline").len();
    let span = Duration::from_secs(2);
    tokio::time::sleep(span).await;
    let checks = mock.received_for("/login/checkOnline").len() - before;
    println!("{checks} checks in {span:?}");
    // Each bot alone would check 10 times in 2 s, 20 in all; one per period is 10, and a
    // lease a little shorter than the period lets a few more through.
    assert!((5..=13).contains(&checks), "{checks} checks in {span:?}");
    for bot in bots {
        assert!(bot.shutdown().await);
    }
}
