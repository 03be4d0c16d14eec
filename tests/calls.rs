//! The short form, against the mock on loopback: what a call sends, what it refuses without
//! sending, what a send answers and how its message is revoked.

use gewe::mock::{MockReply, MockServer};
use gewe::prelude::*;
use gewe::types::{LoginGetLoginQrCodeRequestType, MessagePostLinkArgs};
use serde_json::{json, Value};

/// The short-form calls, generated from `openapi/` with the client (`build/calls_check.rs`).
#[allow(dead_code)]
mod generated {
    include!(concat!(env!("OUT_DIR"), "/gewe_calls_check.rs"));
}

async fn setup() -> (MockServer, Client) {
    let mock = MockServer::start().await.expect("mock starts");
    let client = mock.client().expect("client");
    (mock, client)
}

fn last_body(mock: &MockServer, path: &str) -> Value {
    let received = mock.received_for(path);
    let last = received.last().expect("a request was sent");
    assert!(last.violations.is_empty(), "{:?}", last.violations);
    last.body.clone()
}

#[tokio::test]
async fn a_text_to_a_friend_is_one_statement() {
    let (mock, client) = setup().await;
    let device = client.device("wx_app");
    device
        .message()
        .post_text("wxid_friend", "hi")
        .await
        .unwrap();
    assert_eq!(
        last_body(&mock, "/message/postText"),
        json!({"appId": "wx_app", "toWxid": "wxid_friend", "content": "hi"})
    );
    // @所有人: one statement with a setter.
    device
        .message()
        .post_text("123456@chatroom", "@所有人 开会了")
        .ats("notify@all")
        .await
        .unwrap();
    assert_eq!(
        last_body(&mock, "/message/postText"),
        json!({"appId": "wx_app", "toWxid": "123456@chatroom", "content": "@所有人 开会了", "ats": "notify@all"})
    );
}

#[tokio::test]
async fn an_empty_app_id_is_refused_and_nothing_is_sent() {
    let (mock, client) = setup().await;
    for app_id in ["", "  "] {
        let err = client
            .device(app_id)
            .message()
            .post_text("wxid_friend", "hi")
            .await
            .unwrap_err();
        let gewe::Error::InvalidRequest(e) = &err else {
            panic!("expected InvalidRequest, got {err:?}")
        };
        assert_eq!(e.operation, "/message/postText");
        assert!(e.reason.contains("appId is empty"), "{err}");
        assert!(!err.may_have_reached_server());
    }
    assert!(mock.received().is_empty(), "nothing was sent");
}

#[tokio::test]
async fn a_sent_message_is_revoked_from_what_the_send_answered() {
    let (mock, client) = setup().await;
    // Ids above 2^53, which f64 would round, and a createTime GeWe types as an integer.
    mock.respond_with("/message/postText", |body| {
        MockReply::ok(Some(
            json!({"toWxid": body["toWxid"], "msgId": 769533801u64,
            "newMsgId": 18446744073709551557u64, "createTime": 1703841160, "type": 1}),
        ))
    });
    let device = client.device("wx_app");
    let sent = device
        .message()
        .post_text("wxid_friend", "oops")
        .await
        .unwrap();
    sent.revoke(&device).await.unwrap();
    assert_eq!(
        last_body(&mock, "/message/revokeMsg"),
        json!({"appId": "wx_app", "toWxid": "wxid_friend", "msgId": "769533801",
               "newMsgId": "18446744073709551557", "createTime": "1703841160"})
    );
    // What revoking takes is small enough to keep, and revokes the same way.
    let kept = sent.sent_message().expect("every id is there");
    assert_eq!(kept.new_msg_id.as_u64(), Some(18446744073709551557));
    let stored: SentMessage = serde_json::from_str(&serde_json::to_string(&kept).unwrap()).unwrap();
    assert_eq!(
        stored.revoke(&device).request(),
        sent.revoke(&device).request()
    );
}

#[tokio::test]
async fn a_send_whose_answer_lacks_an_id_is_not_revoked() {
    let (mock, client) = setup().await;
    mock.respond(
        "/message/postImage",
        MockReply::ok(Some(
            json!({"toWxid": "wxid_friend", "msgId": 1, "createTime": 2}),
        )),
    );
    let device = client.device("wx_app");
    let sent = device
        .message()
        .post_image("wxid_friend", "https://example.com/a.png")
        .await
        .unwrap();
    assert!(sent.sent_message().is_none());
    let err = sent.revoke(&device).await.unwrap_err();
    assert!(err.to_string().contains("no `newMsgId`"), "{err}");
    assert!(mock.received_for("/message/revokeMsg").is_empty());
}

#[tokio::test]
async fn many_required_fields_are_named() {
    let (mock, client) = setup().await;
    client
        .device("wx_app")
        .message()
        .post_link(MessagePostLinkArgs {
            to_wxid: "wxid_friend",
            title: "标题",
            desc: "描述",
            link_url: "https://example.com",
            thumb_url: "https://example.com/t.png",
        })
        .await
        .unwrap();
    assert_eq!(
        last_body(&mock, "/message/postLink"),
        json!({"appId": "wx_app", "toWxid": "wxid_friend", "title": "标题", "desc": "描述",
               "linkUrl": "https://example.com", "thumbUrl": "https://example.com/t.png"})
    );
}

#[tokio::test]
async fn operations_that_need_no_device_are_on_the_client() {
    let (mock, client) = setup().await;
    // A first login: the appId goes out empty, and GeWe creates the device.
    client
        .login_calls()
        .get_login_qr_code(LoginGetLoginQrCodeRequestType::Ipad, "320000")
        .proxy_ip("socks5://127.0.0.1:1080")
        .await
        .unwrap();
    assert_eq!(
        last_body(&mock, "/login/getLoginQrCode"),
        json!({"appId": "", "type": "ipad", "regionId": "320000", "proxyIp": "socks5://127.0.0.1:1080"})
    );
    // A re-login: the same device.
    client
        .device("wx_app")
        .login()
        .get_login_qr_code(LoginGetLoginQrCodeRequestType::Mac, "320000")
        .await
        .unwrap();
    assert_eq!(last_body(&mock, "/login/getLoginQrCode")["appId"], "wx_app");
    client
        .login_calls()
        .set_callback("tok", "http://127.0.0.1:9/cb")
        .await
        .unwrap();
    assert_eq!(
        last_body(&mock, "/login/setCallback"),
        json!({"token": "tok", "callbackUrl": "http://127.0.0.1:9/cb"})
    );
}

#[tokio::test]
async fn a_call_is_static_and_can_be_paced() {
    let (mock, client) = setup().await;
    let device = client.device("wx_app");
    let pacer = gewe::pacing::Pacer::new(gewe::pacing::PacingConfig::default());
    let call = device.message().post_text("wxid_a", "queued");
    let handle = tokio::spawn(pacer.send(device.app_id(), "wxid_a", call));
    handle.await.unwrap().unwrap();
    assert_eq!(last_body(&mock, "/message/postText")["content"], "queued");
}

#[test]
fn handles_and_calls_cross_threads() {
    fn send_sync_static<T: Send + Sync + Clone + 'static>() {}
    send_sync_static::<Device>();
    send_sync_static::<gewe::calls::MessageCalls>();
    send_sync_static::<gewe::Call<gewe::types::MessagePostTextRequest>>();
}

#[test]
fn only_requests_of_one_required_app_id_have_a_default() {
    let expected: Vec<&str> = gewe::operations()
        .iter()
        .filter(|op| {
            op.request_schema().is_some_and(|s| {
                let required = &s.schema.object.as_ref().expect("an object").required;
                required.len() == 1 && required.contains("appId")
            })
        })
        .map(|op| op.path)
        .collect();
    let defaults = generated::default_requests();
    assert_eq!(
        defaults.iter().map(|(p, _)| *p).collect::<Vec<_>>(),
        expected
    );
    assert!(defaults.len() > 10, "{}", defaults.len());
    for (path, value) in defaults {
        assert_eq!(value["appId"], json!(""), "{path}");
    }
}

#[test]
fn a_refused_call_gives_no_request_to_send_another_way() {
    let client = Client::new("token").expect("client");
    let refused = client
        .device("")
        .message()
        .post_text("wxid_friend", "hi")
        .into_request()
        .unwrap_err();
    assert!(refused.to_string().contains("appId is empty"), "{refused}");
    assert!(!refused.may_have_reached_server());
    let request = client
        .device("wx_app")
        .message()
        .post_text("wxid_friend", "hi")
        .into_request()
        .expect("a call of a device gives its request");
    assert_eq!(
        (
            request.app_id.as_str(),
            request.to_wxid.as_str(),
            request.content.as_str()
        ),
        ("wx_app", "wxid_friend", "hi")
    );
}
