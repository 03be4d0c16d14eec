//! The send turn of a deployment against a real `redis-server` (tests/support/redis.rs), with
//! the mock as GeWe: sends of one `appId` made by two workers never overlap, keep GeWe's gaps
//! and the cap at small real values, as the mock's record of request times shows; and a send
//! waiting its turn when Redis dies fails, naming Redis, and never goes out.

#[path = "support/bot.rs"]
mod bot_support;
#[path = "support/redis.rs"]
mod redis;

use bot_support::{private_text, scratch, settings, APP_ID};
use gewe::bot::{Bot, Context, RedisStore, TextMessage};
use gewe::mock::{MockReply, MockServer};
use gewe::pacing::{is_group, PacingConfig};
use redis::RedisServer;
use serde_json::json;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const MS: Duration = Duration::from_millis(1);

/// How long the mock takes to answer a send: a send is under way at least this long.
const BUSY: Duration = Duration::from_millis(10);
const MESSAGE_GAP: Duration = Duration::from_millis(30);
const USER_GAP: Duration = Duration::from_millis(60);
const GROUP_GAP_MIN: Duration = Duration::from_millis(80);
/// Small enough that the gaps alone would put `CAP + 2` arrivals (about 300 ms) well inside
/// what the cap asks (640 ms, [`violations`]).
const CAP: usize = 2;
const WINDOW: Duration = Duration::from_millis(600);
/// Redis's clock and the test's tick apart by under this much.
const TICK: Duration = Duration::from_millis(1);

fn pacing() -> PacingConfig {
    PacingConfig::serial_only()
        .message_gap(MESSAGE_GAP)
        .user_gap(USER_GAP)
        .group_gap(GROUP_GAP_MIN..=Duration::from_millis(120))
        .per_minute(Some(CAP as u32))
        .window(WINDOW)
}

/// When each send reached the mock, and to whom, in arrival order.
type Arrivals = Arc<Mutex<Vec<(Instant, String)>>>;

/// Makes the mock record each `postText`'s arrival and take [`BUSY`] to answer it.
fn record_sends(mock: &MockServer) -> Arrivals {
    let arrivals: Arrivals = Arc::default();
    let log = Arc::clone(&arrivals);
    mock.respond_with("/message/postText", move |body| {
        let to = body["toWxid"].as_str().unwrap_or_default().to_owned();
        log.lock().unwrap().push((Instant::now(), to.clone()));
        MockReply::ok(Some(json!({
            "toWxid": to, "msgId": 1, "newMsgId": 1, "createTime": 0, "type": 1
        })))
        .with_delay(BUSY)
    });
    arrivals
}

/// What breaks the pacing in `arrivals`: two sends overlapping, a gap shorter than GeWe's, or
/// more than [`CAP`] starts in a [`WINDOW`].
///
/// Only bounds that hold whatever the client's latency are checked, since the mock sees a
/// request some time after its turn was given, and a loaded machine makes that time anything.
/// A send ends at least [`BUSY`] after its arrival, and the next turn is given at least the gap
/// after that end, before the next arrival: so arrivals are at least `BUSY` + the gap apart.
/// A turn is given at least [`WINDOW`] after the turn `CAP` sends before it, which came at
/// least `BUSY` + [`MESSAGE_GAP`] after the arrival of the send before that one: so arrivals
/// `CAP + 1` sends apart are at least `WINDOW` + `BUSY` + `MESSAGE_GAP` apart.
fn violations(arrivals: &[(Instant, String)]) -> Vec<String> {
    let mut found = Vec::new();
    for (i, pair) in arrivals.windows(2).enumerate() {
        let ((before, from), (at, to)) = (&pair[0], &pair[1]);
        let idle = at.saturating_duration_since(*before + BUSY);
        if *at < *before + BUSY {
            found.push(format!(
                "sends {i} and {} overlap: {:?} apart",
                i + 1,
                at.duration_since(*before)
            ));
            continue;
        }
        let wanted = if from == to {
            MESSAGE_GAP
        } else if is_group(to) {
            GROUP_GAP_MIN
        } else {
            USER_GAP
        };
        if idle + TICK < wanted {
            found.push(format!(
                "send {} to {to} after {from}: gap {idle:?} < {wanted:?}",
                i + 1
            ));
        }
    }
    let least = WINDOW + BUSY + MESSAGE_GAP;
    for (i, starts) in arrivals.windows(CAP + 2).enumerate() {
        let span = starts[CAP + 1].0.duration_since(starts[0].0);
        if span + TICK < least {
            found.push(format!(
                "sends {}..={} start within {:?} of send {i}'s arrival, < {least:?}",
                i + 1,
                i + CAP + 1,
                span
            ));
        }
    }
    found
}

/// One worker's sends: `n` texts, to `to` in turn, each through the deployment's send turn when
/// `store` is given, else straight out.
async fn worker(
    store: Option<RedisStore>,
    device: gewe::Device,
    to: [&'static str; 2],
    n: usize,
) -> Vec<u64> {
    let mut tokens = Vec::new();
    for i in 0..n {
        let to = to[i % 2];
        let turn = match &store {
            Some(store) => Some(store.send_turn(APP_ID, to, &pacing()).await.unwrap()),
            None => None,
        };
        device.message().post_text(to, "hi").await.unwrap();
        if let Some(turn) = turn {
            tokens.push(turn.token());
            assert!(
                turn.finish().await.unwrap(),
                "the turn was still this send's"
            );
        }
    }
    tokens
}

/// Two workers of one deployment send to alternating users and groups at once: every send of
/// the `appId` goes through one turn. The same sends made straight out, as without the turn,
/// are caught overlapping by the same checks.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_workers_sends_never_overlap_and_keep_the_gaps_and_the_cap() {
    let Some(server) = RedisServer::start("pace-workers") else {
        return;
    };
    let mock = MockServer::start().await.unwrap();
    let arrivals = record_sends(&mock);
    let device = mock.client().unwrap().device(APP_ID);
    let one = RedisStore::connect(server.url(), "pace").await.unwrap();
    let two = RedisStore::connect(server.url(), "pace").await.unwrap();
    let (a, b) = tokio::join!(
        tokio::spawn(worker(
            Some(one),
            device.clone(),
            ["wxid_a", "1@chatroom"],
            8
        )),
        tokio::spawn(worker(
            Some(two),
            device.clone(),
            ["wxid_b", "2@chatroom"],
            8
        )),
    );
    let mut tokens: Vec<u64> = a.unwrap().into_iter().chain(b.unwrap()).collect();
    tokens.sort_unstable();
    assert_eq!(tokens, (1..=16).collect::<Vec<_>>(), "one token per turn");
    let paced = arrivals.lock().unwrap().clone();
    assert_eq!(paced.len(), 16);
    let broken = violations(&paced);
    assert!(broken.is_empty(), "{broken:#?}");

    // The checks catch what the turn prevents: the same two workers, straight out, overlap.
    arrivals.lock().unwrap().clear();
    let (a, b) = tokio::join!(
        worker(None, device.clone(), ["wxid_a", "1@chatroom"], 4),
        worker(None, device.clone(), ["wxid_b", "2@chatroom"], 4),
    );
    assert!(a.is_empty() && b.is_empty());
    let unpaced = arrivals.lock().unwrap().clone();
    assert!(
        violations(&unpaced).iter().any(|v| v.contains("overlap")),
        "{unpaced:?}"
    );
}

/// Two bots of one deployment answer texts posted to their own webhooks at once: the replies
/// of both, made by their handlers through `Context::reply`, go through the deployment's turn
/// with the bots' pacing, so they never overlap and keep the gaps and the cap.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_bots_replies_go_through_one_turn() {
    let Some(server) = RedisServer::start("pace-bots") else {
        return;
    };
    let mock = MockServer::start().await.unwrap();
    let arrivals = record_sends(&mock);
    let mut bots = Vec::new();
    for name in ["pace-bot-one", "pace-bot-two"] {
        let store = RedisStore::connect(server.url(), "bots").await.unwrap();
        let bot = Bot::new(settings(&mock, &scratch(name)))
            .store(store)
            .pacing(pacing())
            .login_poll_interval(Duration::from_millis(20))
            .shutdown_grace(Duration::from_secs(5))
            .on_text(|cx: Context, msg: TextMessage| async move {
                cx.reply(msg.body()).await?;
                Ok(())
            })
            .start()
            .await
            .unwrap();
        bots.push(bot);
    }
    gewe::install_tls_provider();
    let http = reqwest::Client::new();
    let mut posts = Vec::new();
    for (b, bot) in bots.iter().enumerate() {
        // Each bot's chats: a user and a group, so that replies switch recipients.
        for (i, from) in ["wxid_u", "3@chatroom", "wxid_v", "4@chatroom"]
            .iter()
            .enumerate()
        {
            let from = format!("{from}{b}");
            let event = if is_group(&from) {
                bot_support::group_text(&from, "wxid_member", "hi", &[], (b * 10 + i) as u64 + 1)
            } else {
                private_text(&from, "hi", (b * 10 + i) as u64 + 1)
            };
            posts.push(http.post(bot.callback_url()).json(&event).send());
        }
    }
    for post in futures_util::future::join_all(posts).await {
        assert_eq!(post.unwrap().status(), 200);
    }
    let _ = bot_support::wait_for(&mock, "/message/postText", 8).await;
    let paced = arrivals.lock().unwrap().clone();
    assert_eq!(paced.len(), 8, "{paced:?}");
    let broken = violations(&paced);
    assert!(broken.is_empty(), "{broken:#?}");
    for bot in bots {
        assert!(bot.shutdown().await);
    }
}

/// A holder that died mid-send leaves the turn held: the next send waits for it to expire, and
/// no longer. Its late finish cannot end the next holder's turn.
#[tokio::test]
async fn a_dead_holders_turn_expires_and_cannot_end_the_next_ones() {
    let Some(server) = RedisServer::start("pace-expiry") else {
        return;
    };
    let store = RedisStore::connect(server.url(), "expiry").await.unwrap();
    let dead = store
        .send_turn(APP_ID, "wxid_a", &PacingConfig::serial_only())
        .await
        .unwrap();
    // Shorten what a send's timeout would be, as if the holder had died long ago.
    assert_eq!(
        server.command(&["PEXPIRE", "gewe:{expiry}:send_turn:wx_test_app", "200"]),
        ":1"
    );
    let began = Instant::now();
    let next = store
        .send_turn(APP_ID, "wxid_a", &PacingConfig::serial_only())
        .await
        .unwrap();
    let waited = began.elapsed();
    assert!(
        waited >= 150 * MS && waited < Duration::from_secs(2),
        "{waited:?}"
    );
    assert!(next.token() > dead.token());
    assert!(
        !dead.finish().await.unwrap(),
        "the dead holder's turn is gone"
    );
    assert!(next.finish().await.unwrap(), "and the next one's was kept");
}

/// A long send renews its turn back to its full lifetime; a turn that expired meanwhile is
/// not renewed, since another send may hold it now.
#[tokio::test]
async fn a_turn_is_renewed_only_while_it_is_still_held() {
    let Some(server) = RedisServer::start("pace-renew") else {
        return;
    };
    let store = RedisStore::connect(server.url(), "renew").await.unwrap();
    let key = "gewe:{renew}:send_turn:wx_test_app";
    let turn = store
        .send_turn(APP_ID, "wxid_a", &PacingConfig::serial_only())
        .await
        .unwrap();
    assert_eq!(server.command(&["PEXPIRE", key, "300"]), ":1");
    assert!(turn.renew().await.unwrap());
    let ttl: u128 = server.command(&["PTTL", key])[1..].parse().unwrap();
    assert!(
        ttl > gewe::bot::DEFAULT_SEND_TURN_TTL.as_millis() - 2_000,
        "{ttl}"
    );
    // Expired, and taken by another worker.
    assert_eq!(server.command(&["DEL", key]), ":1");
    let next = store
        .send_turn(APP_ID, "wxid_a", &PacingConfig::serial_only())
        .await
        .unwrap();
    assert!(!turn.renew().await.unwrap());
    assert!(!turn.finish().await.unwrap());
    assert!(next.finish().await.unwrap());
}

/// A send waiting for the turn (held by another worker) when Redis dies fails with an error
/// naming Redis, within Redis's response timeout, and nothing goes out.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_send_waiting_its_turn_when_redis_dies_fails_naming_redis_and_never_goes_out() {
    let Some(mut server) = RedisServer::start("pace-down") else {
        return;
    };
    let mock = MockServer::start().await.unwrap();
    let arrivals = record_sends(&mock);
    let dir = scratch("pace-down");
    let store = RedisStore::connect(server.url(), "down").await.unwrap();
    let errors: Arc<Mutex<Vec<String>>> = Arc::default();
    let seen = Arc::clone(&errors);
    let bot = Bot::new(settings(&mock, &dir))
        .store(store.clone())
        .pacing(PacingConfig::serial_only())
        .login_poll_interval(Duration::from_millis(20))
        .shutdown_grace(Duration::from_millis(200))
        .on_text(move |cx: Context, msg: TextMessage| {
            let seen = Arc::clone(&seen);
            async move {
                if let Err(error) = cx.reply(msg.body()).await {
                    seen.lock().unwrap().push(error.to_string());
                }
                Ok(())
            }
        })
        .start()
        .await
        .unwrap();
    // Another worker holds the turn, mid-send.
    let other = RedisStore::connect(server.url(), "down").await.unwrap();
    let held = other
        .send_turn(APP_ID, "wxid_x", &PacingConfig::serial_only())
        .await
        .unwrap();
    let hello = private_text("wxid_friend", "waits its turn", 1);
    assert_eq!(mock.push_callback(&hello).await.unwrap(), 200);
    tokio::time::sleep(300 * MS).await;
    assert!(errors.lock().unwrap().is_empty(), "still waiting");
    let killed = Instant::now();
    server.kill();
    let failed = bot_support::eventually(|| !errors.lock().unwrap().is_empty()).await;
    assert!(failed, "the send gave up");
    assert!(
        killed.elapsed() < Duration::from_secs(10),
        "{:?}",
        killed.elapsed()
    );
    let error = errors.lock().unwrap()[0].clone();
    assert!(
        error.contains("send turn in Redis") && error.contains("redis://127.0.0.1"),
        "{error}"
    );
    tokio::time::sleep(100 * MS).await;
    assert!(arrivals.lock().unwrap().is_empty(), "nothing went out");
    drop(held);
    drop(bot);
}
