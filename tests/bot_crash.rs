//! Crash tests: the bot runs as a child process (this test binary again, running `child_bot`)
//! and is killed with SIGKILL before a reply goes out, while GeWe holds the reply's answer,
//! and just after the reply. After each restart the store opens, the `appId` is kept, every
//! delivery GeWe got a 200 for is handled, no reply goes out twice, and a late duplicate gets
//! no answer. Also SIGTERM: a handler under way finishes within the shutdown grace, and one
//! past it is stopped and handled after the restart.

#[path = "support/bot.rs"]
mod support;

use gewe::bot::{Bot, Context, Settings, TextMessage};
use gewe::mock::{MockReply, MockServer};
use serde_json::{json, Value};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Duration;
use support::*;

/// Set in the child's environment: run as the bot.
const CHILD: &str = "GEWE_BOT_CRASH_CHILD";
/// How long the child's handler waits before it replies, in ms.
const DELAY: &str = "GEWE_BOT_CRASH_DELAY_MS";
/// When set, the child runs as `Bot::run` does, until SIGTERM, with this shutdown grace in ms.
const GRACE: &str = "GEWE_BOT_CRASH_GRACE_MS";

/// The bot of the crash tests: it answers each text with `echo: <text>`, after `DELAY` ms.
/// Run only as a child of the tests below.
#[test]
#[ignore = "the bot process of the crash tests; they run it"]
fn child_bot() {
    if std::env::var_os(CHILD).is_none() {
        return;
    }
    let var = |k: &str| std::env::var(k).unwrap_or_default();
    let delay: u64 = var(DELAY).parse().unwrap_or(0);
    let mut settings = Settings::new(var("GEWE_TOKEN"))
        .base_url(var("GEWE_BASE_URL"))
        .listen("127.0.0.1:0".parse().unwrap())
        .store_path(var("GEWE_STORE"));
    if let Ok(app_id) = std::env::var("GEWE_APP_ID") {
        settings = settings.app_id(app_id);
    }
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let grace: Option<u64> = var(GRACE).parse().ok();
    runtime.block_on(async move {
        let bot = Bot::new(settings)
            .pacing(gewe::pacing::PacingConfig::serial_only())
            .on_text(move |cx: Context, msg: TextMessage| async move {
                tokio::time::sleep(Duration::from_millis(delay)).await;
                cx.reply(format!("echo: {}", msg.body())).await?;
                Ok(())
            });
        if let Some(grace) = grace {
            let bot = bot.shutdown_grace(Duration::from_millis(grace));
            bot.run().await.expect("the bot runs");
            return;
        }
        let bot = bot.start().await.expect("the bot starts");
        println!("child bot running as {}", bot.app_id());
        std::future::pending::<()>().await;
    });
}

/// A child bot process; killed with SIGKILL when dropped.
struct BotProcess(Child);

impl Drop for BotProcess {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

impl BotProcess {
    /// Starts the bot on `mock` with its store at `store`, and waits until it has registered
    /// its callback URL.
    async fn start(mock: &MockServer, store: &Path, app_id: Option<&str>, delay_ms: u64) -> Self {
        Self::start_with(mock, store, app_id, delay_ms, None).await
    }

    /// As [`start`](Self::start); with a `grace`, the child runs until SIGTERM.
    async fn start_with(
        mock: &MockServer,
        store: &Path,
        app_id: Option<&str>,
        delay_ms: u64,
        grace: Option<Duration>,
    ) -> Self {
        let registered = mock.received_for("/login/setCallback").len();
        let mut command = Command::new(std::env::current_exe().unwrap());
        command
            .args([
                "child_bot",
                "--exact",
                "--ignored",
                "--nocapture",
                "--test-threads=1",
            ])
            .env(CHILD, "1")
            .env(DELAY, delay_ms.to_string())
            .env("GEWE_TOKEN", mock.token())
            .env("GEWE_BASE_URL", mock.base_url())
            .env("GEWE_STORE", store)
            .env_remove("GEWE_APP_ID")
            .stdout(Stdio::null());
        if let Some(app_id) = app_id {
            command.env("GEWE_APP_ID", app_id);
        }
        match grace {
            Some(grace) => command.env(GRACE, grace.as_millis().to_string()),
            None => command.env_remove(GRACE),
        };
        let child = BotProcess(command.spawn().expect("the bot process starts"));
        assert!(
            eventually(|| mock.received_for("/login/setCallback").len() > registered).await,
            "the bot process did not register its callback URL"
        );
        child
    }

    /// SIGTERM, then the time until the process exited, which must be within `limit` and
    /// successful.
    async fn terminate(mut self, limit: Duration) -> Duration {
        let sent = std::time::Instant::now();
        let status = Command::new("kill")
            .args(["-TERM", &self.0.id().to_string()])
            .status()
            .expect("kill runs");
        assert!(status.success(), "kill -TERM failed");
        while sent.elapsed() < limit {
            if let Some(exit) = self.0.try_wait().expect("the child's status") {
                assert!(exit.success(), "the bot exited with {exit}");
                return sent.elapsed();
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        panic!("the bot did not exit within {limit:?} of SIGTERM");
    }

    /// SIGKILL, at once.
    fn kill(mut self) {
        self.0.kill().expect("killed");
        self.0.wait().expect("reaped");
    }
}

fn replies(mock: &MockServer) -> Vec<Value> {
    mock.received_for("/message/postText")
        .into_iter()
        .map(|r| r.body)
        .collect()
}

fn contents(sent: &[Value]) -> Vec<String> {
    sent.iter()
        .map(|b| b["content"].as_str().unwrap_or("").to_owned())
        .collect()
}

/// After a restart: every reply went out once (in any order across chats), from the kept
/// device, and a late duplicate of `late` gets no answer.
async fn check_after_restart(mock: &MockServer, expected: &[&str], late: &Value) {
    let sorted = |sent: &[Value]| {
        let mut got = contents(sent);
        got.sort();
        got
    };
    let sent = wait_for(mock, "/message/postText", expected.len()).await;
    assert_eq!(sorted(&sent), expected);
    assert!(sent.iter().all(|b| b["appId"] == APP_ID), "{sent:?}");
    assert_eq!(mock.push_callback(late).await.unwrap(), 200);
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(sorted(&replies(mock)), expected, "a reply went out twice");
}

#[tokio::test]
async fn killed_before_the_reply() {
    let mock = MockServer::start().await.unwrap();
    let store = scratch("crash-before").join("bot.redb");
    // The handler waits 30 s before replying: the kill comes first.
    let bot = BotProcess::start(&mock, &store, Some(APP_ID), 30_000).await;
    let a = private_text("wxid_a", "A", 1001);
    let b = private_text("wxid_b", "B", 1002);
    assert_eq!(mock.push_callback(&a).await.unwrap(), 200);
    assert_eq!(mock.push_callback(&b).await.unwrap(), 200);
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert!(replies(&mock).is_empty());
    bot.kill();

    // Without GEWE_APP_ID: the device comes from the store.
    let _bot = BotProcess::start(&mock, &store, None, 0).await;
    check_after_restart(&mock, &["echo: A", "echo: B"], &a).await;
}

#[tokio::test]
async fn killed_while_the_reply_is_under_way() {
    let mock = MockServer::start().await.unwrap();
    let store = scratch("crash-during").join("bot.redb");
    // GeWe holds the first reply's answer: the bot is killed mid-send.
    mock.enqueue(
        "/message/postText",
        MockReply::ok(Some(
            json!({"toWxid": "wxid_a", "msgId": 1, "newMsgId": 2, "createTime": 3, "type": 1}),
        ))
        .with_delay(Duration::from_secs(60)),
    );
    let bot = BotProcess::start(&mock, &store, Some(APP_ID), 0).await;
    let a = private_text("wxid_a", "A", 2001);
    assert_eq!(mock.push_callback(&a).await.unwrap(), 200);
    assert!(eventually(|| replies(&mock).len() == 1).await);
    bot.kill();

    let _bot = BotProcess::start(&mock, &store, None, 0).await;
    // The same chat's next message: handled after A's handler ran again, which must not have
    // sent A's reply a second time (its outcome is unknown).
    let b = private_text("wxid_a", "B", 2002);
    assert_eq!(mock.push_callback(&b).await.unwrap(), 200);
    check_after_restart(&mock, &["echo: A", "echo: B"], &a).await;
}

#[tokio::test]
async fn killed_after_the_reply() {
    let mock = MockServer::start().await.unwrap();
    let store = scratch("crash-after").join("bot.redb");
    let bot = BotProcess::start(&mock, &store, Some(APP_ID), 0).await;
    let a = private_text("wxid_a", "A", 3001);
    assert_eq!(mock.push_callback(&a).await.unwrap(), 200);
    assert!(eventually(|| replies(&mock).len() == 1).await);
    bot.kill();

    let _bot = BotProcess::start(&mock, &store, None, 0).await;
    let b = private_text("wxid_a", "B", 3002);
    assert_eq!(mock.push_callback(&b).await.unwrap(), 200);
    check_after_restart(&mock, &["echo: A", "echo: B"], &a).await;
}

#[tokio::test]
async fn sigterm_lets_the_handler_under_way_finish() {
    let mock = MockServer::start().await.unwrap();
    let store = scratch("sigterm-finish").join("bot.redb");
    // The handler takes 800 ms; the grace is 10 s.
    let bot = BotProcess::start_with(
        &mock,
        &store,
        Some(APP_ID),
        800,
        Some(Duration::from_secs(10)),
    )
    .await;
    let a = private_text("wxid_a", "A", 4001);
    assert_eq!(mock.push_callback(&a).await.unwrap(), 200);
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(replies(&mock).is_empty(), "the handler is still waiting");
    let took = bot.terminate(Duration::from_secs(8)).await;
    assert_eq!(contents(&replies(&mock)), ["echo: A"]);
    assert!(
        took >= Duration::from_millis(300),
        "exited after {took:?}, before the handler"
    );

    // Handled before the exit: a restart does not run it again.
    let _bot = BotProcess::start(&mock, &store, None, 0).await;
    check_after_restart(&mock, &["echo: A"], &a).await;
}

#[tokio::test]
async fn sigterm_stops_a_handler_past_its_grace_and_the_restart_handles_it() {
    let mock = MockServer::start().await.unwrap();
    let store = scratch("sigterm-grace").join("bot.redb");
    // The handler takes 20 s; the grace is 300 ms.
    let bot = BotProcess::start_with(
        &mock,
        &store,
        Some(APP_ID),
        20_000,
        Some(Duration::from_millis(300)),
    )
    .await;
    let a = private_text("wxid_a", "A", 5001);
    assert_eq!(mock.push_callback(&a).await.unwrap(), 200);
    tokio::time::sleep(Duration::from_millis(300)).await;
    let took = bot.terminate(Duration::from_secs(5)).await;
    assert!(took < Duration::from_secs(5), "{took:?}");
    assert!(
        replies(&mock).is_empty(),
        "the handler was stopped before its reply"
    );

    // Still journaled: the next start handles it, once.
    let _bot = BotProcess::start(&mock, &store, None, 0).await;
    check_after_restart(&mock, &["echo: A"], &a).await;
}
