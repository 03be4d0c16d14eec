//! The echo bot end to end, offline: the mock pushes a callback to the bot's webhook, the bot
//! answers through the pacing queue, and the mock records the reply. A duplicate delivery of the
//! same event produces no second reply; the bot's own messages and group messages get none.

#[path = "../examples/echo_bot.rs"]
#[allow(dead_code)]
mod echo_bot;

use gewe::mock::MockServer;
use gewe::pacing::PacingConfig;
use std::time::Duration;

async fn replies(mock: &MockServer, n: usize) -> Vec<serde_json::Value> {
    for _ in 0..200 {
        let got: Vec<_> = mock
            .received_for("/message/postText")
            .into_iter()
            .map(|r| r.body)
            .collect();
        if got.len() >= n {
            return got;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    mock.received_for("/message/postText")
        .into_iter()
        .map(|r| r.body)
        .collect()
}

#[tokio::test]
async fn echoes_private_text_once_and_ignores_the_rest() {
    let mock = MockServer::start().await.unwrap();
    let client = mock.client().unwrap();
    let pacing = PacingConfig::default()
        .message_gap(Duration::from_millis(20))
        .user_gap(Duration::from_millis(20));
    let bot = echo_bot::start(
        client,
        Some("wx_echo_app".into()),
        "127.0.0.1:0".parse().unwrap(),
        None,
        pacing,
    )
    .await
    .unwrap();

    // The bot registered its own webhook with /login/setCallback, token filled in.
    let registered = mock.received_for("/login/setCallback");
    assert_eq!(registered.len(), 1);
    assert_eq!(registered[0].body["token"], mock.token());
    assert!(registered[0].violations.is_empty());
    assert_eq!(
        mock.callback_url().unwrap(),
        format!(
            "http://{}{}",
            bot.webhook.local_addr(),
            bot.webhook.callback_path()
        )
    );

    let event = echo_bot::sample_text("wx_echo_app", "wxid_friend", "你好, echo");
    assert_eq!(mock.push_callback(&event).await.unwrap(), 200);
    let got = replies(&mock, 1).await;
    assert_eq!(got.len(), 1, "{got:?}");
    assert_eq!(
        (
            got[0]["toWxid"].as_str(),
            got[0]["content"].as_str(),
            got[0]["appId"].as_str()
        ),
        (Some("wxid_friend"), Some("你好, echo"), Some("wx_echo_app"))
    );

    // The same delivery again (GeWe retries): answered 200, not echoed twice.
    assert_eq!(mock.push_callback(&event).await.unwrap(), 200);
    // The bot's own message coming back, and a group message: no answer.
    let mut own = echo_bot::sample_text("wx_echo_app", "wxid_echo_bot", "mine");
    own["Data"]["NewMsgId"] = serde_json::json!(1u64);
    mock.push_callback(&own).await.unwrap();
    let mut group = echo_bot::sample_text("wx_echo_app", "123@chatroom", "wxid_friend:\nhi all");
    group["Data"]["NewMsgId"] = serde_json::json!(2u64);
    mock.push_callback(&group).await.unwrap();
    // A second, new message is echoed: the loop is still alive and everything before it was seen.
    let mut second = echo_bot::sample_text("wx_echo_app", "wxid_other", "again");
    second["Data"]["NewMsgId"] = serde_json::json!(3u64);
    mock.push_callback(&second).await.unwrap();
    let got = replies(&mock, 2).await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    let got_after = replies(&mock, 3).await;
    assert_eq!(got.len(), 2, "{got:?}");
    assert_eq!(got_after.len(), 2, "no late duplicate: {got_after:?}");
    assert_eq!(got[1]["toWxid"], "wxid_other");
    bot.webhook.shutdown().await;
}

#[test]
fn refuses_a_real_token_without_a_callback_url() {
    // Settings only reads the environment it is given through the process; check the rule itself.
    std::env::set_var("GEWE_TOKEN", "real-token");
    std::env::remove_var("GEWE_CALLBACK_URL");
    let err = echo_bot::Settings::from_env().err().expect("must refuse");
    assert!(err.contains("GEWE_CALLBACK_URL"), "{err}");
    std::env::remove_var("GEWE_TOKEN");
}
