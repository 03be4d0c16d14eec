//! What the bot tests share: deliveries as GeWe sends them, a bot on the mock, and waiting for
//! the mock to see sends.

#![allow(dead_code)]

use gewe::bot::{Bot, Context, RunningBot, Settings, TextMessage};
use gewe::mock::MockServer;
use gewe::pacing::PacingConfig;
use serde_json::{json, Value};
use std::path::PathBuf;
use std::time::Duration;

/// The device the test bots run as.
pub const APP_ID: &str = "wx_test_app";
/// The test bots' own account.
pub const BOT_WXID: &str = "wxid_test_bot";

/// A fresh folder for one test's store.
pub fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("gewe-bot-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("a scratch folder");
    dir
}

/// A private text from `from` to the bot.
pub fn private_text(from: &str, text: &str, new_msg_id: u64) -> Value {
    json!({
        "TypeName": "AddMsg", "Appid": APP_ID, "Wxid": BOT_WXID,
        "Data": {
            "MsgId": 1, "NewMsgId": new_msg_id, "MsgType": 1,
            "FromUserName": {"string": from}, "ToUserName": {"string": BOT_WXID},
            "Content": {"string": text}, "CreateTime": 1705043418,
            "MsgSource": "<msgsource></msgsource>",
        }
    })
}

/// A text in `group` from `member`; `mentions` lists the wxids in `<atuserlist>`.
pub fn group_text(
    group: &str,
    member: &str,
    text: &str,
    mentions: &[&str],
    new_msg_id: u64,
) -> Value {
    json!({
        "TypeName": "AddMsg", "Appid": APP_ID, "Wxid": BOT_WXID,
        "Data": {
            "MsgId": 1, "NewMsgId": new_msg_id, "MsgType": 1,
            "FromUserName": {"string": group}, "ToUserName": {"string": BOT_WXID},
            "Content": {"string": format!("{member}:\n{text}")}, "CreateTime": 1705043418,
            "MsgSource": format!("<msgsource><atuserlist><![CDATA[{}]]></atuserlist></msgsource>", mentions.join(",")),
        }
    })
}

/// Settings for a bot on `mock`, with its store in `dir`, on a free port, as device `APP_ID`.
pub fn settings(mock: &MockServer, dir: &std::path::Path) -> Settings {
    Settings::new(mock.token())
        .base_url(mock.base_url())
        .listen("127.0.0.1:0".parse().expect("an address"))
        .store_path(dir.join("bot.redb"))
        .app_id(APP_ID)
        .region_id("320000")
}

/// A bot on `mock` with no pacing gaps, short login polls, and `handlers` added.
pub async fn start(
    mock: &MockServer,
    dir: &std::path::Path,
    handlers: impl FnOnce(Bot) -> Bot,
) -> RunningBot {
    let bot = Bot::new(settings(mock, dir))
        .pacing(PacingConfig::serial_only())
        .login_poll_interval(Duration::from_millis(20))
        .shutdown_grace(Duration::from_secs(5));
    handlers(bot).start().await.expect("the bot starts")
}

/// Posts `event` to `bot`'s webhook as GeWe does; the answer's status code.
pub async fn deliver(bot: &RunningBot, event: &Value) -> u16 {
    reqwest::Client::new()
        .post(bot.callback_url())
        .json(event)
        .send()
        .await
        .expect("the webhook answers")
        .status()
        .as_u16()
}

/// The bodies of the requests the mock received at `path`, once there are at least `n`, or
/// after 10 s.
pub async fn wait_for(mock: &MockServer, path: &str, n: usize) -> Vec<Value> {
    for _ in 0..1000 {
        let got = mock.received_for(path);
        if got.len() >= n {
            return got.into_iter().map(|r| r.body).collect();
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    mock.received_for(path)
        .into_iter()
        .map(|r| r.body)
        .collect()
}

/// Waits until `check` holds, for at most 10 s; whether it did.
pub async fn eventually(mut check: impl FnMut() -> bool) -> bool {
    for _ in 0..1000 {
        if check() {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    check()
}

/// `bot` answering each private text with the same text.
pub fn echo(bot: Bot) -> Bot {
    bot.on_text(|cx: Context, msg: TextMessage| async move {
        if msg.is_private() {
            cx.reply(msg.body()).await?;
        }
        Ok(())
    })
}
