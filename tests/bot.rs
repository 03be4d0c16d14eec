//! The bot end to end against the mock: echo, commands, mentions, the bot's own messages,
//! going offline and coming back, a conflicting `GEWE_APP_ID`, the order within each chat,
//! the send queue's bound, and the order of a chat's marks in the store.

#[path = "support/bot.rs"]
mod support;

use gewe::bot::store::{
    Delivery, DeviceRecord, JournalEntry, Journaled, Pruned, SendKey, SendOutcome, SendRecord,
    SendSlot, StoreFuture,
};
use gewe::bot::{Bot, BotError, Context, DeviceState, Filter, Settings, StateChange, TextMessage};
use gewe::mock::{MockReply, MockServer};
use serde_json::json;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use support::*;

#[tokio::test]
async fn echoes_once_and_ignores_its_own_messages() {
    let mock = MockServer::start().await.unwrap();
    let dir = scratch("echo");
    let bot = start(&mock, &dir, echo).await;

    // Registered: the webhook's address and its secret path, for this token.
    let registered = mock.received_for("/login/setCallback");
    assert_eq!(registered.len(), 1);
    assert_eq!(registered[0].body["callbackUrl"], bot.callback_url());
    assert_eq!(mock.callback_url().as_deref(), Some(bot.callback_url()));
    let secret = bot.callback_url().rsplit('/').next().unwrap();
    assert_eq!(secret.len(), 32, "{}", bot.callback_url());

    let hello = private_text("wxid_friend", "你好, echo", 7_360_843_532_347_813_421);
    assert_eq!(mock.push_callback(&hello).await.unwrap(), 200);
    let sent = wait_for(&mock, "/message/postText", 1).await;
    assert_eq!(
        sent[0],
        json!({"appId": APP_ID, "toWxid": "wxid_friend", "content": "你好, echo"})
    );

    // GeWe delivers it again: 200, and no second answer.
    assert_eq!(mock.push_callback(&hello).await.unwrap(), 200);
    // The bot's own message, back as a callback: no answer.
    let mut own = private_text(BOT_WXID, "mine", 2);
    own["Data"]["ToUserName"] = json!({"string": "wxid_friend"});
    assert_eq!(mock.push_callback(&own).await.unwrap(), 200);
    // Another device's delivery is refused.
    let mut stranger = private_text("wxid_friend", "x", 3);
    stranger["Appid"] = json!("wx_other");
    assert_eq!(mock.push_callback(&stranger).await.unwrap(), 403);
    assert!(
        eventually(|| bot.stats().unrouted == 1).await,
        "{:?}",
        bot.stats()
    );
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert_eq!(mock.received_for("/message/postText").len(), 1);
    let stats = bot.stats();
    assert_eq!(
        (stats.accepted, stats.duplicates, stats.handled),
        (2, 1, 1),
        "{stats:?}"
    );
    assert!(bot.shutdown().await);
}

gewe::commands! {
    /// The test commands.
    enum Command {
        /// Rolls a die.
        Roll(u32) = "roll",
        /// Says hello.
        Hello = "hello",
    }
}

#[tokio::test]
async fn a_command_with_arguments_is_parsed() {
    let mock = MockServer::start().await.unwrap();
    let dir = scratch("command");
    let bot = start(&mock, &dir, |bot| {
        bot.on_command(|cx: Context, cmd: Command, _msg: TextMessage| async move {
            let text = match cmd {
                Command::Roll(sides) => format!("rolling a d{sides}"),
                Command::Hello => "hello".to_owned(),
            };
            cx.reply(text).await?;
            Ok(())
        })
        .on_text(|cx: Context, msg: TextMessage| async move {
            cx.reply(format!("not a command: {}", msg.body())).await?;
            Ok(())
        })
    })
    .await;
    for (i, text) in ["/roll 20", "/roll twenty", "/hello"]
        .into_iter()
        .enumerate()
    {
        let event = private_text("wxid_friend", text, 100 + i as u64);
        assert_eq!(mock.push_callback(&event).await.unwrap(), 200);
    }
    let sent = wait_for(&mock, "/message/postText", 3).await;
    let texts: Vec<_> = sent
        .iter()
        .map(|b| b["content"].as_str().unwrap())
        .collect();
    assert_eq!(
        texts,
        ["rolling a d20", "not a command: /roll twenty", "hello"]
    );
    bot.shutdown().await;
}

#[tokio::test]
async fn a_mention_in_a_group_is_answered_with_reply_at() {
    let mock = MockServer::start().await.unwrap();
    mock.respond(
        "/group/getChatroomMemberDetail",
        MockReply::ok(Some(
            json!([{"userName": "wxid_alice", "nickName": "爱丽丝"}]),
        )),
    );
    let dir = scratch("mention");
    let bot = start(&mock, &dir, |bot| {
        bot.on(
            Filter::group().and(Filter::mentioned()),
            |cx: Context, _msg: TextMessage| async move {
                cx.reply_at("在呢").await?;
                Ok(())
            },
        )
    })
    .await;
    let room = "34757816141@chatroom";
    // Not mentioned: no route takes it.
    let quiet = group_text(room, "wxid_alice", "hi all", &[], 11);
    mock.push_callback(&quiet).await.unwrap();
    let mention = group_text(room, "wxid_alice", "@bot hi", &[BOT_WXID], 12);
    assert_eq!(mock.push_callback(&mention).await.unwrap(), 200);
    let sent = wait_for(&mock, "/message/postText", 1).await;
    assert_eq!(
        sent[0],
        json!({"appId": APP_ID, "toWxid": room, "content": "@爱丽丝 在呢", "ats": "wxid_alice"})
    );
    let lookup = mock.received_for("/group/getChatroomMemberDetail");
    assert_eq!(lookup[0].body["memberWxids"], json!(["wxid_alice"]));
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert_eq!(mock.received_for("/message/postText").len(), 1);
    bot.shutdown().await;
}

#[tokio::test]
async fn offline_then_back_by_reconnection_then_by_relogin_on_the_same_device() {
    let mock = MockServer::start().await.unwrap();
    let dir = scratch("offline");
    let changes: Arc<Mutex<Vec<(DeviceState, DeviceState)>>> = Arc::default();
    let seen = Arc::clone(&changes);
    let bot = start(&mock, &dir, move |bot| {
        echo(bot).on_state_change(move |_cx: Context, change: StateChange| {
            let seen = Arc::clone(&seen);
            async move {
                seen.lock().unwrap().push((change.from, change.to));
                Ok(())
            }
        })
    })
    .await;

    // checkOnline still says online, but the send is answered 微信已离线.
    mock.enqueue(
        "/message/postText",
        MockReply::failure(
            500,
            Some("操作失败"),
            Some(json!({"code": "-1", "msg": "微信已离线"})),
        ),
    );
    mock.push_callback(&private_text("wxid_friend", "one", 21))
        .await
        .unwrap();
    assert!(eventually(|| mock.received_for("/login/reconnection").len() == 1).await);
    assert!(eventually(|| bot.state() == DeviceState::Online).await);
    use DeviceState::*;
    assert!(
        eventually(|| changes.lock().unwrap().len() == 3).await,
        "{:?}",
        changes.lock().unwrap()
    );
    assert_eq!(
        *changes.lock().unwrap(),
        [
            (Online, Offline),
            (Offline, Recovering),
            (Recovering, Online)
        ]
    );

    // Offline again, and reconnection does not help: a re-login with the same appId does.
    mock.go_offline();
    mock.reconnection_works(false);
    mock.accept_login(BOT_WXID, "测试机器人");
    let before = mock.received_for("/message/postText").len();
    mock.push_callback(&private_text("wxid_friend", "two", 22))
        .await
        .unwrap();
    assert!(eventually(|| mock.received_for("/login/checkLogin").len() == 1).await);
    assert!(eventually(|| bot.state() == DeviceState::Online).await);
    let qr = mock.received_for("/login/getLoginQrCode");
    assert_eq!(qr.len(), 1);
    assert_eq!(qr[0].body["appId"], APP_ID, "a re-login keeps the device");
    assert!(mock.is_online());
    // The send made while offline went out once, answered with the offline error, and was
    // not repeated after the recovery.
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(mock.received_for("/message/postText").len(), before + 1);
    assert_eq!(
        changes.lock().unwrap()[3..],
        [
            (Online, Offline),
            (Offline, Recovering),
            (Recovering, Online)
        ]
    );
    bot.shutdown().await;

    // The device and the account are kept for the next start.
    let store = gewe::bot::FileStore::open(dir.join("bot.redb")).unwrap();
    let device = gewe::bot::Store::device(&store).await.unwrap().unwrap();
    assert_eq!(
        (device.app_id.as_str(), device.wxid.as_deref()),
        (APP_ID, Some(BOT_WXID))
    );
}

#[tokio::test]
async fn sends_while_offline_fail_at_once() {
    let mock = MockServer::start().await.unwrap();
    mock.reconnection_works(false);
    let dir = scratch("refused");
    let errors: Arc<Mutex<Vec<String>>> = Arc::default();
    let seen = Arc::clone(&errors);
    let bot = start(&mock, &dir, move |bot| {
        bot.max_relogins(0)
            .on_text(move |cx: Context, msg: TextMessage| {
                let seen = Arc::clone(&seen);
                async move {
                    if let Err(e) = cx.reply(msg.body()).await {
                        let offline = matches!(e.as_bot(), Some(BotError::Offline { .. }));
                        seen.lock().unwrap().push(format!("{offline} {e}"));
                    }
                    Ok(())
                }
            })
    })
    .await;
    mock.go_offline();
    let offline = json!({"TypeName": "Offline", "Appid": APP_ID, "Wxid": BOT_WXID});
    assert_eq!(mock.push_callback(&offline).await.unwrap(), 200);
    assert!(
        eventually(|| bot.state() == DeviceState::LoggedOut).await,
        "{:?}",
        bot.state()
    );
    mock.push_callback(&private_text("wxid_friend", "hi", 31))
        .await
        .unwrap();
    assert!(eventually(|| !errors.lock().unwrap().is_empty()).await);
    let error = errors.lock().unwrap()[0].clone();
    assert!(
        error.starts_with("true device wx_test_app is logged out"),
        "{error}"
    );
    assert!(mock.received_for("/message/postText").is_empty());
    bot.shutdown().await;
}

#[tokio::test]
async fn a_conflicting_app_id_refuses_to_start() {
    let mock = MockServer::start().await.unwrap();
    let dir = scratch("conflict");
    start(&mock, &dir, |bot| bot).await.shutdown().await;
    let settings = settings(&mock, &dir).app_id("wx_another_device");
    let error = Bot::new(settings).start().await.expect_err("refused");
    let text = error.to_string();
    assert!(
        matches!(error.as_bot(), Some(BotError::AppIdConflict { .. })),
        "{error:?}"
    );
    assert!(
        text.contains("wx_another_device") && text.contains(APP_ID),
        "{text}"
    );
    assert_eq!(mock.received_for("/login/setCallback").len(), 1);
}

#[tokio::test]
async fn order_is_kept_within_each_chat() {
    let mock = MockServer::start().await.unwrap();
    let dir = scratch("order");
    let seen: Arc<Mutex<HashMap<String, Vec<u64>>>> = Arc::default();
    let record = Arc::clone(&seen);
    let bot = start(&mock, &dir, move |bot| {
        bot.on_text(move |_cx: Context, msg: TextMessage| {
            let record = Arc::clone(&record);
            async move {
                // Uneven handler times, so that an unordered dispatcher would show it.
                tokio::time::sleep(Duration::from_millis(fastrand::u64(0..15))).await;
                let n: u64 = msg.body().parse()?;
                let chat = msg.chat_id().unwrap().to_owned();
                record.lock().unwrap().entry(chat).or_default().push(n);
                Ok(())
            }
        })
    })
    .await;
    let url = mock.callback_url().unwrap();
    let http = reqwest::Client::new();
    // Each chat's events are delivered in order, chats interleaved and concurrent.
    let mut chats = Vec::new();
    for c in 0..20u64 {
        let (http, url) = (http.clone(), url.clone());
        chats.push(tokio::spawn(async move {
            for n in 0..25u64 {
                let event =
                    private_text(&format!("wxid_chat_{c}"), &n.to_string(), c * 1000 + n + 1);
                let status = http.post(&url).json(&event).send().await.unwrap().status();
                assert_eq!(status, 200);
            }
        }));
    }
    for chat in chats {
        chat.await.unwrap();
    }
    assert!(
        eventually(|| bot.stats().handled == 500).await,
        "{:?}",
        bot.stats()
    );
    {
        let seen = seen.lock().unwrap();
        assert_eq!(seen.len(), 20);
        for (chat, order) in seen.iter() {
            assert_eq!(*order, (0..25).collect::<Vec<_>>(), "{chat}");
        }
    }
    bot.shutdown().await;
}

#[tokio::test]
async fn a_full_send_queue_refuses_at_once() {
    let mock = MockServer::start().await.unwrap();
    // Each send takes 2 s at GeWe: longer than the five deliveries take to arrive, even on a
    // busy machine, so the first send still holds its place when the fifth handler asks.
    mock.respond(
        "/message/postText",
        MockReply::ok(Some(
            json!({"toWxid": "x", "msgId": 1, "newMsgId": 2, "createTime": 3, "type": 1}),
        ))
        .with_delay(Duration::from_secs(2)),
    );
    let dir = scratch("queue");
    let outcomes: Arc<Mutex<Vec<bool>>> = Arc::default();
    let seen = Arc::clone(&outcomes);
    let bot = start(&mock, &dir, move |bot| {
        bot.send_queue_capacity(2)
            .on_text(move |cx: Context, msg: TextMessage| {
                let seen = Arc::clone(&seen);
                async move {
                    let result = cx.reply(msg.body()).await;
                    let full = matches!(
                        result.as_ref().err().and_then(|e| e.as_bot()),
                        Some(BotError::QueueFull { capacity: 2, .. })
                    );
                    seen.lock().unwrap().push(full);
                    Ok(())
                }
            })
    })
    .await;
    for c in 0..5u64 {
        let event = private_text(&format!("wxid_q{c}"), "hi", 500 + c);
        mock.push_callback(&event).await.unwrap();
    }
    assert!(eventually(|| outcomes.lock().unwrap().len() == 5).await);
    let full = outcomes.lock().unwrap().iter().filter(|f| **f).count();
    assert_eq!(full, 3, "{:?}", outcomes.lock().unwrap());
    assert_eq!(mock.received_for("/message/postText").len(), 2);
    bot.shutdown().await;
}

#[tokio::test]
async fn a_mounted_bot_answers_inside_another_router() {
    let mock = MockServer::start().await.unwrap();
    let dir = scratch("mount");
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let settings = settings(&mock, &dir)
        .callback_url(format!("http://{addr}/gewe/callback"))
        .unwrap();
    let (router, bot) = echo(Bot::new(settings).pacing(gewe::pacing::PacingConfig::serial_only()))
        .mount()
        .await
        .unwrap();
    let app = axum::Router::new()
        .route("/health", axum::routing::get(|| async { "ok" }))
        .fallback(|| async { (axum::http::StatusCode::NOT_FOUND, "not here") })
        .merge(router);
    tokio::spawn(async move { axum::serve(listener, app).await });
    assert!(bot
        .callback_url()
        .starts_with(&format!("http://{addr}/gewe/callback/")));
    assert_eq!(
        mock.push_callback(&private_text("wxid_friend", "mounted", 41))
            .await
            .unwrap(),
        200
    );
    let sent = wait_for(&mock, "/message/postText", 1).await;
    assert_eq!(sent[0]["content"], "mounted");
    bot.shutdown().await;
}

#[tokio::test]
async fn from_env_names_the_missing_token() {
    // The only test that reads the environment; it sets nothing.
    if std::env::var_os("GEWE_TOKEN").is_some() {
        return;
    }
    let error = Bot::from_env().expect_err("GEWE_TOKEN is unset");
    assert!(
        error.to_string().starts_with("GEWE_TOKEN is not set"),
        "{error}"
    );
}

/// A store at `dir` as a crash leaves it: `event` journaled and not handled, and its handler's
/// first send recorded as `operation` to `to_wxid`, answered with GeWe's ids `{msgId: 1,
/// newMsgId: 2, createTime: 3}`.
async fn crashed_after_a_send(dir: &std::path::Path, event: &serde_json::Value, to_wxid: &str) {
    use gewe::bot::store::{Delivery, Journaled, SendKey, SendOutcome, SendRecord, Store};
    let store = gewe::bot::FileStore::open(dir.join("bot.redb")).unwrap();
    let new_msg_id = event["Data"]["NewMsgId"].as_u64().unwrap();
    let delivery = Delivery::new(
        Some(APP_ID.into()),
        Some(new_msg_id.into()),
        serde_json::to_vec(event).unwrap().into(),
    );
    let Journaled::New(seq) = store.journal(delivery).await.unwrap() else {
        panic!("a new delivery");
    };
    let key = SendKey {
        delivery: seq,
        index: 0,
    };
    store
        .begin_send(key, SendRecord::begin("/message/postText", to_wxid))
        .await
        .unwrap();
    let data = json!({"toWxid": to_wxid, "msgId": 1, "newMsgId": 2, "createTime": 3, "type": 1});
    store
        .finish_send(key, SendOutcome::Sent(data))
        .await
        .unwrap();
}

#[tokio::test]
async fn a_rerun_whose_sends_come_in_another_order_gets_an_error_not_another_sends_result() {
    let mock = MockServer::start().await.unwrap();
    let dir = scratch("mismatch");
    // The first run's first send went to another chat than the re-run's first send.
    let hello = private_text("wxid_friend", "hello", 61);
    crashed_after_a_send(&dir, &hello, "wxid_someone_else").await;
    let results: Arc<Mutex<Vec<gewe::Result<gewe::bot::Receipt>>>> = Arc::default();
    let seen = Arc::clone(&results);
    let bot = start(&mock, &dir, move |bot| {
        bot.on_text(move |cx: Context, msg: TextMessage| {
            let seen = Arc::clone(&seen);
            async move {
                let result = cx.reply(msg.body()).await;
                seen.lock().unwrap().push(result);
                Ok(())
            }
        })
    })
    .await;
    assert!(eventually(|| results.lock().unwrap().len() == 1).await);
    let error = match results.lock().unwrap().pop().unwrap() {
        Ok(sent) => panic!("the re-run got another send's result: {sent:?}"),
        Err(error) => error,
    };
    assert!(
        matches!(error.as_bot(), Some(BotError::SendMismatch { .. })),
        "{error:?}"
    );
    let text = error.to_string();
    assert!(
        text.contains("wxid_friend")
            && text.contains("wxid_someone_else")
            && text.contains("/message/postText"),
        "{text}"
    );
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert!(mock.received_for("/message/postText").is_empty());
    bot.shutdown().await;
}

#[tokio::test]
async fn a_rerun_gets_its_recorded_send_even_while_offline() {
    let mock = MockServer::start().await.unwrap();
    mock.reconnection_works(false);
    let dir = scratch("rerun-offline");
    let hello = private_text("wxid_friend", "hello", 71);
    crashed_after_a_send(&dir, &hello, "wxid_friend").await;
    let results: Arc<Mutex<Vec<gewe::Result<gewe::bot::Receipt>>>> = Arc::default();
    let seen = Arc::clone(&results);
    let bot = start(&mock, &dir, move |bot| {
        bot.max_relogins(0)
            .on_text(move |cx: Context, msg: TextMessage| {
                let seen = Arc::clone(&seen);
                async move {
                    // The re-run replies only once the device is down.
                    for _ in 0..1000 {
                        if cx.state() != DeviceState::Online {
                            break;
                        }
                        tokio::time::sleep(Duration::from_millis(10)).await;
                    }
                    let result = cx.reply(msg.body()).await;
                    seen.lock().unwrap().push(result);
                    Ok(())
                }
            })
    })
    .await;
    mock.go_offline();
    let offline = json!({"TypeName": "Offline", "Appid": APP_ID, "Wxid": BOT_WXID});
    assert_eq!(mock.push_callback(&offline).await.unwrap(), 200);
    assert!(eventually(|| results.lock().unwrap().len() == 1).await);
    // The send went out before the crash: the re-run gets its outcome, not `Offline`.
    let sent = results
        .lock()
        .unwrap()
        .pop()
        .unwrap()
        .expect("the recorded send");
    assert_eq!(
        (sent.to_wxid.as_str(), sent.new_msg_id),
        ("wxid_friend", Some(2u64.into()))
    );
    assert!(mock.received_for("/message/postText").is_empty());
    bot.shutdown().await;
}

#[tokio::test]
async fn a_zero_check_online_interval_is_refused_at_start() {
    let mock = MockServer::start().await.unwrap();
    let dir = scratch("zero-interval");
    let error = Bot::new(settings(&mock, &dir))
        .check_online_every(Duration::ZERO)
        .start()
        .await
        .expect_err("a zero interval is refused");
    assert!(
        matches!(
            error.as_bot(),
            Some(BotError::InvalidSetting {
                name: "check_online_every",
                ..
            })
        ),
        "{error:?}"
    );
    assert!(error.to_string().contains("check_online_every"), "{error}");
    // Refused before anything started: no callback URL was registered.
    assert!(mock.received_for("/login/setCallback").is_empty());
}

/// Opening the file store blocks: creating the file, its fsync, and the repair of a file left
/// by a crash, which reads all of it. The bot opens it off the runtime's threads, so that other
/// tasks go on meanwhile. The test's runtime has one thread, which a blocking open would stall.
#[tokio::test(flavor = "current_thread")]
async fn the_store_opens_without_stalling_the_runtime() {
    use gewe::bot::store::{SendKey, SendOutcome, Store};
    use std::time::Instant;
    let mock = MockServer::start().await.unwrap();
    let dir = scratch("open-off-runtime");
    let live = dir.join("live.redb");
    {
        // A store of some megabytes, so that opening it takes long enough to measure.
        let store = gewe::bot::FileStore::open(&live).unwrap();
        let big = json!({"filler": "x".repeat(3000)});
        let mut pending = Vec::new();
        for delivery in 0..4_000u64 {
            let key = SendKey { delivery, index: 0 };
            pending.push(store.finish_send(key, SendOutcome::Sent(big.clone())));
            if pending.len() == 500 {
                for step in pending.drain(..) {
                    step.await.unwrap();
                }
            }
        }
        for step in pending {
            step.await.unwrap();
        }
        // Copies taken while the store is open are what a crash leaves: opening one repairs it.
        std::fs::copy(&live, dir.join("probe.redb")).unwrap();
        std::fs::copy(&live, dir.join("bot.redb")).unwrap();
    }
    let probe = dir.join("probe.redb");
    let began = Instant::now();
    let opened = tokio::task::spawn_blocking(move || gewe::bot::FileStore::open(probe))
        .await
        .unwrap();
    let open_time = began.elapsed();
    drop(opened.unwrap());
    if open_time < Duration::from_millis(40) {
        eprintln!("the store opened in {open_time:?}: too fast to tell a stall from noise");
        return;
    }
    // Ticks every millisecond while the bot starts; the longest gap is how long the runtime's
    // one thread was held. Starting does some work on it (tens of ms here); an open on it adds
    // the whole open time.
    let ticking = Arc::new(std::sync::atomic::AtomicBool::new(true));
    let spawned = Instant::now();
    let ticker = tokio::spawn({
        let ticking = Arc::clone(&ticking);
        async move {
            // From the spawn: the task first runs when the test's task yields.
            let (mut last, mut longest) = (spawned, Duration::ZERO);
            while ticking.load(std::sync::atomic::Ordering::Relaxed) {
                tokio::time::sleep(Duration::from_millis(1)).await;
                longest = longest.max(last.elapsed());
                last = Instant::now();
            }
            longest
        }
    });
    let bot = start(&mock, &dir, |bot| bot).await;
    ticking.store(false, std::sync::atomic::Ordering::Relaxed);
    let longest = ticker.await.unwrap();
    assert!(
        longest < open_time / 2,
        "the runtime stalled {longest:?} while the bot started; opening the store takes \
         {open_time:?}"
    );
    bot.shutdown().await;
}

#[tokio::test]
async fn a_failing_or_panicking_handler_is_counted_and_its_chat_goes_on() {
    let mock = MockServer::start().await.unwrap();
    let dir = scratch("failing");
    let bot = start(&mock, &dir, |bot| {
        bot.on_text(|cx: Context, msg: TextMessage| async move {
            match msg.body() {
                "fail" => Err("the handler's error".into()),
                "panic" => panic!("the handler's panic"),
                text => {
                    cx.reply(text).await?;
                    Ok(())
                }
            }
        })
    })
    .await;
    // One chat: an error, a panic, then an event that must still be handled.
    for (i, text) in ["fail", "panic", "after"].into_iter().enumerate() {
        let event = private_text("wxid_friend", text, 400 + i as u64);
        assert_eq!(mock.push_callback(&event).await.unwrap(), 200);
    }
    let sent = wait_for(&mock, "/message/postText", 1).await;
    assert_eq!(sent.len(), 1, "{sent:?}");
    assert_eq!(sent[0]["content"], "after");
    assert!(
        eventually(|| {
            let s = bot.stats();
            (s.handled, s.handler_errors, s.handler_panics, s.waiting) == (1, 1, 1, 0)
        })
        .await,
        "{:?}",
        bot.stats()
    );
    assert!(bot.shutdown().await);
}

#[tokio::test]
async fn filters_route_private_senders_and_patterns() {
    let mock = MockServer::start().await.unwrap();
    let dir = scratch("filters");
    let reply = |prefix: &'static str| {
        move |cx: Context, msg: TextMessage| async move {
            cx.reply(format!("{prefix}: {}", msg.body())).await?;
            Ok(())
        }
    };
    let bot = start(&mock, &dir, move |bot| {
        // The first route that takes an event handles it.
        bot.on(Filter::regex(r"^\d+$").unwrap(), reply("number"))
            .on(Filter::from(["wxid_boss"]), reply("boss"))
            .on(Filter::private(), reply("private"))
    })
    .await;
    let group = "34757816141@chatroom";
    let events = [
        private_text("wxid_friend", "42", 501),
        private_text("wxid_friend", "hello", 502),
        // In a group the sender is the member who wrote, not the group.
        group_text(group, "wxid_boss", "hi all", &[], 503),
        group_text(group, "wxid_stranger", "hi too", &[], 504),
        private_text("wxid_boss", "hey", 505),
    ];
    for event in &events {
        assert_eq!(mock.push_callback(event).await.unwrap(), 200);
    }
    let sent = wait_for(&mock, "/message/postText", 4).await;
    assert!(
        eventually(|| bot.stats().unrouted == 1).await,
        "{:?}",
        bot.stats()
    );
    tokio::time::sleep(Duration::from_millis(100)).await;
    let mut got: Vec<(String, String)> = mock
        .received_for("/message/postText")
        .iter()
        .map(|r| {
            (
                r.body["toWxid"].as_str().unwrap().to_owned(),
                r.body["content"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    got.sort();
    let mut want: Vec<(String, String)> = [
        (group, "boss: hi all"),
        ("wxid_boss", "boss: hey"),
        ("wxid_friend", "number: 42"),
        ("wxid_friend", "private: hello"),
    ]
    .iter()
    .map(|(a, b)| (a.to_string(), b.to_string()))
    .collect();
    want.sort();
    assert_eq!(got, want, "{sent:?}");
    assert!(
        eventually(|| {
            let s = bot.stats();
            (s.handled, s.unrouted, s.waiting) == (4, 1, 0)
        })
        .await,
        "{:?}",
        bot.stats()
    );
    assert!(Filter::regex("(unclosed").is_err());
    bot.shutdown().await;
}

/// Records every state change with its reason.
type Changes = Arc<Mutex<Vec<(DeviceState, DeviceState, String)>>>;

fn record_changes(bot: Bot, changes: &Changes) -> Bot {
    let seen = Arc::clone(changes);
    bot.on_state_change(move |_cx: Context, change: StateChange| {
        let seen = Arc::clone(&seen);
        async move {
            seen.lock()
                .unwrap()
                .push((change.from, change.to, change.reason));
            Ok(())
        }
    })
}

#[tokio::test]
async fn a_code_minus_one_without_the_offline_words_is_not_offline() {
    let mock = MockServer::start().await.unwrap();
    let dir = scratch("code-minus-one");
    let changes: Changes = Arc::default();
    let errors: Arc<Mutex<Vec<String>>> = Arc::default();
    let (seen, failed) = (Arc::clone(&changes), Arc::clone(&errors));
    let bot = start(&mock, &dir, move |bot| {
        record_changes(bot, &seen).on_text(move |cx: Context, msg: TextMessage| {
            let failed = Arc::clone(&failed);
            async move {
                if let Err(e) = cx.reply(msg.body()).await {
                    failed.lock().unwrap().push(e.to_string());
                }
                Ok(())
            }
        })
    })
    .await;
    // GeWe's failure with data.code -1, for something other than being offline.
    mock.enqueue(
        "/message/postText",
        MockReply::failure(
            500,
            Some("操作失败"),
            Some(json!({"code": "-1", "msg": "对方不是你的好友"})),
        ),
    );
    mock.push_callback(&private_text("wxid_friend", "one", 601))
        .await
        .unwrap();
    assert!(eventually(|| errors.lock().unwrap().len() == 1).await);
    assert_eq!(bot.state(), DeviceState::Online);
    // The next send goes out: the device was never taken offline.
    mock.push_callback(&private_text("wxid_friend", "two", 602))
        .await
        .unwrap();
    let sent = wait_for(&mock, "/message/postText", 2).await;
    assert_eq!(sent.len(), 2);
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert_eq!(bot.state(), DeviceState::Online);
    assert!(mock.received_for("/login/reconnection").is_empty());
    assert!(
        changes.lock().unwrap().is_empty(),
        "{:?}",
        changes.lock().unwrap()
    );
    assert_eq!(errors.lock().unwrap().len(), 1);
    bot.shutdown().await;
}

#[tokio::test]
async fn a_periodic_check_online_saying_offline_starts_recovery() {
    let mock = MockServer::start().await.unwrap();
    let dir = scratch("check-online");
    let changes: Changes = Arc::default();
    let seen = Arc::clone(&changes);
    let bot = start(&mock, &dir, move |bot| {
        record_changes(bot, &seen).check_online_every(Duration::from_millis(100))
    })
    .await;
    let checks = mock.received_for("/login/checkOnline").len();
    // No callback and no send: only the periodic checkOnline can see it.
    mock.go_offline();
    assert!(
        eventually(|| changes.lock().unwrap().len() == 3).await,
        "{:?}",
        changes.lock().unwrap()
    );
    use DeviceState::*;
    let got: Vec<_> = changes
        .lock()
        .unwrap()
        .iter()
        .map(|(from, to, _)| (*from, *to))
        .collect();
    assert_eq!(
        got,
        [
            (Online, Offline),
            (Offline, Recovering),
            (Recovering, Online)
        ]
    );
    assert_eq!(changes.lock().unwrap()[0].2, "checkOnline says offline");
    assert!(mock.received_for("/login/checkOnline").len() > checks);
    assert_eq!(mock.received_for("/login/reconnection").len(), 1);
    assert!(mock.received_for("/message/postText").is_empty());
    bot.shutdown().await;
}

/// A store whose first mark takes 2 s to finish; it records the order in which marks are
/// asked for, and which were asked for while the first was under way.
struct SlowFirstMark {
    inner: gewe::bot::FileStore,
    asked: Arc<Mutex<Vec<u64>>>,
    first_done: Arc<std::sync::atomic::AtomicBool>,
    asked_while_first_under_way: Arc<Mutex<Vec<u64>>>,
}

impl gewe::bot::store::Store for SlowFirstMark {
    fn location(&self) -> String {
        self.inner.location()
    }
    fn device(&self) -> StoreFuture<'_, Option<DeviceRecord>> {
        self.inner.device()
    }
    fn save_device(&self, device: DeviceRecord) -> StoreFuture<'_, ()> {
        self.inner.save_device(device)
    }
    fn secret_path(&self, candidate: String) -> StoreFuture<'_, String> {
        self.inner.secret_path(candidate)
    }
    fn journal(&self, delivery: Delivery) -> StoreFuture<'_, Journaled> {
        self.inner.journal(delivery)
    }
    fn mark_handled(&self, seq: u64) -> StoreFuture<'_, ()> {
        let first = {
            let mut asked = self.asked.lock().unwrap();
            asked.push(seq);
            asked.len() == 1
        };
        if !first && !self.first_done.load(std::sync::atomic::Ordering::SeqCst) {
            self.asked_while_first_under_way.lock().unwrap().push(seq);
        }
        // Asked for now, in call order, as the trait requires.
        let mark = self.inner.mark_handled(seq);
        let first_done = Arc::clone(&self.first_done);
        Box::pin(async move {
            if first {
                tokio::time::sleep(Duration::from_secs(2)).await;
            }
            let result = mark.await;
            if first {
                first_done.store(true, std::sync::atomic::Ordering::SeqCst);
            }
            result
        })
    }
    fn unhandled(&self) -> StoreFuture<'_, Vec<JournalEntry>> {
        self.inner.unhandled()
    }
    fn begin_send(&self, key: SendKey, send: SendRecord) -> StoreFuture<'_, SendSlot> {
        self.inner.begin_send(key, send)
    }
    fn finish_send(&self, key: SendKey, outcome: SendOutcome) -> StoreFuture<'_, ()> {
        self.inner.finish_send(key, outcome)
    }
    fn sent(&self, key: SendKey) -> StoreFuture<'_, Option<SendRecord>> {
        self.inner.sent(key)
    }
    fn sends_to(&self, to_wxid: &str, limit: usize) -> StoreFuture<'_, Vec<(SendKey, SendRecord)>> {
        self.inner.sends_to(to_wxid, limit)
    }
    fn prune(&self, before: std::time::SystemTime) -> StoreFuture<'_, Pruned> {
        self.inner.prune(before)
    }
}

#[tokio::test]
async fn a_chats_marks_are_asked_for_in_its_order_without_waiting_for_each_commit() {
    let mock = MockServer::start().await.unwrap();
    let dir = scratch("mark-order");
    let asked: Arc<Mutex<Vec<u64>>> = Arc::default();
    let while_first: Arc<Mutex<Vec<u64>>> = Arc::default();
    let store = SlowFirstMark {
        inner: gewe::bot::FileStore::open(dir.join("bot.redb")).unwrap(),
        asked: Arc::clone(&asked),
        first_done: Arc::default(),
        asked_while_first_under_way: Arc::clone(&while_first),
    };
    let bot = start(&mock, &dir, move |bot| {
        bot.store(store)
            .on_text(|_cx: Context, _msg: TextMessage| async { Ok(()) })
    })
    .await;
    let url = bot.callback_url().to_owned();
    let http = reqwest::Client::new();
    for n in 1..=3u64 {
        let event = private_text("wxid_one_chat", &n.to_string(), 9_000 + n);
        let status = http.post(&url).json(&event).send().await.unwrap().status();
        assert_eq!(status, 200);
    }
    assert!(eventually(|| asked.lock().unwrap().len() == 3).await);
    // In the chat's order, so the store commits them in that order (a crash can never leave an
    // earlier delivery to run again after a later one)...
    assert_eq!(*asked.lock().unwrap(), [1, 2, 3]);
    // ...and without waiting for the slow first commit: one busy chat is not held to one commit
    // per event.
    assert_eq!(*while_first.lock().unwrap(), [2, 3]);
    assert!(
        eventually(|| bot.stats().waiting == 0).await,
        "{:?}",
        bot.stats()
    );
    bot.shutdown().await;
}

#[tokio::test]
async fn the_last_reply_is_found_in_the_store_and_revoked_after_a_restart() {
    let mock = MockServer::start().await.unwrap();
    let dir = scratch("undo");
    let replies: Arc<Mutex<Vec<gewe::bot::Receipt>>> = Arc::default();
    let handlers = |replies: Arc<Mutex<Vec<gewe::bot::Receipt>>>| {
        move |bot: Bot| {
            bot.on_text(move |cx: Context, msg: TextMessage| {
                let replies = Arc::clone(&replies);
                async move {
                    if msg.body() == "/undo" {
                        if let Some(last) = cx.recent_sends(1).await?.pop() {
                            cx.revoke(&last).await?;
                        }
                    } else {
                        let receipt = cx.reply(format!("echo {}", msg.body())).await?;
                        replies.lock().unwrap().push(receipt);
                    }
                    Ok(())
                }
            })
        }
    };
    let bot = start(&mock, &dir, handlers(Arc::clone(&replies))).await;
    for (n, text) in ["one", "two"].into_iter().enumerate() {
        let event = private_text("wxid_undo", text, 500 + n as u64);
        assert_eq!(deliver(&bot, &event).await, 200);
        assert_eq!(
            wait_for(&mock, "/message/postText", n + 1).await.len(),
            n + 1
        );
    }
    // A reply to another chat must not be taken for this chat's last.
    let other = private_text("wxid_other", "three", 510);
    assert_eq!(deliver(&bot, &other).await, 200);
    assert_eq!(wait_for(&mock, "/message/postText", 3).await.len(), 3);
    assert!(eventually(|| replies.lock().unwrap().len() == 3).await);
    assert!(bot.shutdown().await);

    // After a restart, only the store knows what the bot sent.
    let bot = start(&mock, &dir, handlers(Arc::default())).await;
    let undo = private_text("wxid_undo", "/undo", 520);
    assert_eq!(deliver(&bot, &undo).await, 200);
    let revoked = wait_for(&mock, "/message/revokeMsg", 1).await;
    assert_eq!(revoked.len(), 1);
    let second = replies.lock().unwrap()[1].clone();
    assert_eq!(second.to_wxid, "wxid_undo");
    let ids = second
        .sent_message()
        .expect("the mock's answer has every id");
    assert_eq!(revoked[0]["toWxid"], "wxid_undo");
    assert_eq!(revoked[0]["msgId"], ids.msg_id.to_string());
    assert_eq!(revoked[0]["newMsgId"], ids.new_msg_id.to_string());
    assert_eq!(revoked[0]["createTime"], ids.create_time.to_string());
    bot.shutdown().await;
}

#[tokio::test]
async fn a_login_stops_at_its_qr_code_cap_and_keeps_the_device_it_created() {
    let mock = MockServer::start().await.unwrap();
    let dir = scratch("qr-cap");
    // No `GEWE_APP_ID` and a new store: the bot logs in on a new device. Nobody scans: each
    // code expires at once (`expiredTime` 0).
    for _ in 0..2 {
        mock.enqueue(
            "/login/checkLogin",
            MockReply::ok(Some(json!({"uuid": "u", "status": 0, "expiredTime": 0}))),
        );
    }
    let no_device = || {
        Settings::new(mock.token())
            .base_url(mock.base_url())
            .listen("127.0.0.1:0".parse().unwrap())
            .store_path(dir.join("bot.redb"))
            .region_id("320000")
    };
    let error = Bot::new(no_device())
        .max_qr_codes(2)
        .login_poll_interval(Duration::from_millis(10))
        .start()
        .await
        .expect_err("nobody scanned");
    assert!(
        matches!(
            error.as_bot(),
            Some(BotError::Login(gewe::login::LoginError::QrCodesExhausted {
                qr_codes: 2,
                ..
            }))
        ),
        "{error:?}"
    );
    let codes = mock.received_for("/login/getLoginQrCode");
    assert_eq!(codes.len(), 2, "two QR codes, then it stops");
    assert_eq!(
        codes[0].body["appId"], "",
        "the first asks GeWe for a new device"
    );
    // The second code is for the device the first one created (the docs' example `appId`).
    let created = codes[1].body["appId"].as_str().unwrap().to_owned();
    assert_eq!(created, "wx_example_app_id");

    // The next start reuses the device GeWe created, instead of creating another.
    let bot = Bot::new(no_device()).start().await.expect("starts");
    assert_eq!(bot.app_id(), created);
    assert_eq!(mock.received_for("/login/getLoginQrCode").len(), 2);
    bot.shutdown().await;
}

#[tokio::test]
async fn the_bots_own_text_is_quoted_from_the_store_after_a_restart() {
    #[derive(Default)]
    struct Seen {
        replies: Vec<gewe::bot::Receipt>,
        refused: Vec<String>,
    }
    let mock = MockServer::start().await.unwrap();
    let dir = scratch("quote-sent");
    let seen: Arc<Mutex<Seen>> = Arc::default();
    let handlers = |seen: Arc<Mutex<Seen>>| {
        move |bot: Bot| {
            bot.on_text(move |cx: Context, msg: TextMessage| {
                let seen = Arc::clone(&seen);
                async move {
                    match msg.body() {
                        "/quote" => {
                            if let Some(last) = cx.recent_sends(1).await?.pop() {
                                cx.quote_sent(&last, "这条 <说的是>").await?;
                            }
                        }
                        "/image" => {
                            let image = cx.reply_image("http://127.0.0.1:9/a.png").await?;
                            let error = cx.quote_sent(&image, "x").await.unwrap_err();
                            assert!(matches!(error.as_bot(), Some(BotError::NotQuotable { .. })));
                            seen.lock().unwrap().refused.push(error.to_string());
                        }
                        text => {
                            let receipt = cx.reply(format!("echo {text} & more")).await?;
                            seen.lock().unwrap().replies.push(receipt);
                        }
                    }
                    Ok(())
                }
            })
        }
    };
    let bot = start(&mock, &dir, handlers(Arc::clone(&seen))).await;
    let hello = private_text("wxid_quoter", "hello", 600);
    assert_eq!(deliver(&bot, &hello).await, 200);
    assert!(eventually(|| seen.lock().unwrap().replies.len() == 1).await);
    assert!(bot.shutdown().await);
    let reply = seen.lock().unwrap().replies[0].clone();
    assert_eq!(reply.text.as_deref(), Some("echo hello & more"));
    let cited = reply.new_msg_id.expect("the mock answers a newMsgId");

    // After a restart, only the store knows the text of the bot's message.
    let bot = start(&mock, &dir, handlers(Arc::clone(&seen))).await;
    for (text, id) in [("/quote", 601), ("/image", 602)] {
        let event = private_text("wxid_quoter", text, id);
        assert_eq!(deliver(&bot, &event).await, 200);
    }
    let quotes = wait_for(&mock, "/message/postAppMsg", 1).await;
    assert_eq!(quotes.len(), 1);
    assert_eq!(quotes[0]["toWxid"], "wxid_quoter");
    let appmsg = quotes[0]["appmsg"].as_str().unwrap();
    for part in [
        "<title>这条 &lt;说的是&gt;</title>".to_owned(),
        "<type>57</type><refermsg><type>1</type>".to_owned(),
        format!("<svrid>{cited}</svrid>"),
        "<fromusr>wxid_quoter</fromusr>".to_owned(),
        format!("<chatusr>{BOT_WXID}</chatusr>"),
        "<content>echo hello &amp; more</content>".to_owned(),
    ] {
        assert!(appmsg.contains(&part), "{appmsg} lacks {part}");
    }
    assert!(eventually(|| seen.lock().unwrap().refused.len() == 1).await);
    let refused = seen.lock().unwrap().refused[0].clone();
    assert_eq!(
        refused,
        "cannot quote the message sent to wxid_quoter: no text was recorded with it \
         (not a text send, or recorded before texts were kept)"
    );
    bot.shutdown().await;
}
