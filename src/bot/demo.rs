//! The offline demonstration of a bot against the embedded mock: one sample message through
//! the whole loop.

use crate::mock::MockServer;
use serde_json::json;
use std::time::Duration;

/// Pushes a private text from `wxid_friend` to the bot, as GeWe delivers it, and prints the
/// bot's answer when the mock receives one.
pub(crate) async fn push_sample(mock: &MockServer, app_id: &str) {
    let text = "你好, gewe";
    let event = json!({
        "TypeName": "AddMsg",
        "Appid": app_id,
        "Wxid": "wxid_gewe_mock_bot",
        "Data": {
            "MsgId": 1040356095,
            "FromUserName": {"string": "wxid_friend"},
            "ToUserName": {"string": "wxid_gewe_mock_bot"},
            "MsgType": 1,
            "Content": {"string": text},
            "Status": 3,
            "CreateTime": 1705043418,
            "MsgSource": "<msgsource></msgsource>",
            "PushContent": format!("wxid_friend : {text}"),
            "NewMsgId": fastrand::u64(1..u64::MAX),
        }
    });
    println!("gewe bot: the mock delivers a sample message from wxid_friend: {text}");
    if let Err(error) = mock.push_callback(&event).await {
        println!("gewe bot: the mock could not deliver it: {error}");
        return;
    }
    for _ in 0..100 {
        let sent = mock.received_for("/message/postText");
        if let Some(reply) = sent.last() {
            println!(
                "gewe bot: the bot answered {} with {}",
                reply.body["toWxid"], reply.body["content"]
            );
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    println!(
        "gewe bot: deliver more with: curl -X POST http://{}{} -H 'content-type: application/json' -d @event.json",
        mock.addr(),
        crate::mock::PUSH_PATH
    );
}
