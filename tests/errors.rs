//! Every failure shape GeWe documents, and the transport failures around it, become the right
//! [`gewe::Error`], with the token masked everywhere it could show.

mod support;

use gewe::mock::{MockReply, MockServer};
use gewe::{Client, Error};
use serde_json::json;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

const OP: &str = "/contacts/search";

async fn setup() -> (MockServer, Client) {
    let mock = MockServer::start().await.expect("mock");
    let client = mock.client().expect("client");
    (mock, client)
}

fn search() -> gewe::types::ContactsSearchRequest {
    serde_json::from_value(json!({"appId": "wx_app", "contactsInfo": "zhangch"})).expect("request")
}

#[test]
fn error_is_send_sync_static() {
    fn check<T: Send + Sync + 'static + std::error::Error>() {}
    check::<Error>();
}

#[tokio::test]
async fn failure_with_code_and_msg() {
    let (mock, client) = setup().await;
    mock.enqueue(OP, MockReply::json(json!({"ret": 500, "msg": "搜索联系人失败", "data": {"code": "-4", "msg": "用户不存在"}})));
    let err = client.contacts_search(&search()).await.unwrap_err();
    let api = err.as_api().expect("api error");
    assert_eq!(
        (
            api.ret,
            api.msg.as_deref(),
            api.code.as_deref(),
            api.detail.as_deref()
        ),
        (500, Some("搜索联系人失败"), Some("-4"), Some("用户不存在"))
    );
    assert_eq!(api.operation, OP);
    assert_eq!(
        err.to_string(),
        "/contacts/search: GeWe returned ret 500: 搜索联系人失败 (code -4: 用户不存在)"
    );
    assert!(!err.is_token_rejected());
}

#[tokio::test]
async fn failure_without_data() {
    let (mock, client) = setup().await;
    mock.enqueue(
        OP,
        MockReply::json(json!({"ret": 500, "msg": "imgUrls不可为空"})),
    );
    let err = client.contacts_search(&search()).await.unwrap_err();
    let api = err.as_api().expect("api error");
    assert_eq!(
        (api.ret, api.msg.as_deref(), api.code.as_deref(), &api.data),
        (500, Some("imgUrls不可为空"), None, &None)
    );
}

/// `data` with a number beyond f64's range: `Value` cannot hold it, but GeWe's `ret` and `msg`
/// and WeChat's `code` and `msg` are still read, and the error is GeWe's, not an HTTP status.
#[tokio::test]
async fn failure_whose_data_holds_an_out_of_range_number() {
    let (mock, client) = setup().await;
    let body =
        r#"{"ret":500,"msg":"搜索联系人失败","data":{"code":"-4","x":1E999,"msg":"用户不存在"}}"#;
    mock.enqueue(OP, MockReply::raw(200, "application/json", body));
    let err = client.contacts_search(&search()).await.unwrap_err();
    assert!(matches!(err, Error::Api(_)), "{err:?}");
    let api = err.as_api().expect("api error");
    assert_eq!(
        (
            api.ret,
            api.msg.as_deref(),
            api.code.as_deref(),
            api.detail.as_deref(),
            &api.data
        ),
        (
            500,
            Some("搜索联系人失败"),
            Some("-4"),
            Some("用户不存在"),
            &None
        )
    );
    // The same out-of-range number outside `data` hides nothing either.
    let body = r#"{"updateTime":1E448465918,"ret":500,"msg":"搜索联系人失败"}"#;
    mock.enqueue(OP, MockReply::raw(200, "application/json", body));
    let err = client.contacts_search(&search()).await.unwrap_err();
    let api = err.as_api().expect("api error");
    assert_eq!((api.ret, api.msg.as_deref()), (500, Some("搜索联系人失败")));
}

#[tokio::test]
async fn failure_with_null_nested_msg() {
    let (mock, client) = setup().await;
    mock.enqueue(
        OP,
        MockReply::json(
            json!({"ret": 500, "msg": "发布视频失败", "data": {"code": "-4013", "msg": null}}),
        ),
    );
    let err = client.contacts_search(&search()).await.unwrap_err();
    let api = err.as_api().expect("api error");
    assert_eq!(
        (api.code.as_deref(), api.detail.as_deref()),
        (Some("-4013"), None)
    );
    assert_eq!(
        err.to_string(),
        "/contacts/search: GeWe returned ret 500: 发布视频失败 (code -4013)"
    );
}

#[tokio::test]
async fn failure_with_null_msg() {
    let (mock, client) = setup().await;
    mock.enqueue(OP, MockReply::json(json!({"ret": 500, "msg": null})));
    let err = client.contacts_search(&search()).await.unwrap_err();
    let api = err.as_api().expect("api error");
    assert_eq!((api.ret, &api.msg), (500, &None));
    assert!(err.to_string().contains("ret 500 with no msg"));
}

#[tokio::test]
async fn failure_data_that_does_not_fit_the_success_type() {
    let (mock, client) = setup().await;
    let path = "/contacts/fetchContactsList";
    mock.enqueue(path, MockReply::json(json!({"ret": 500, "msg": "获取联系人列表失败", "data": {"code": "-1", "msg": "微信已离线"}})));
    let body = serde_json::from_value(json!({"appId": "wx_app"})).expect("request");
    let err = client
        .contacts_fetch_contacts_list(&body)
        .await
        .unwrap_err();
    let api = err.as_api().expect("api error");
    assert_eq!(
        (api.code.as_deref(), api.detail.as_deref()),
        (Some("-1"), Some("微信已离线"))
    );
    assert_eq!(api.data, Some(json!({"code": "-1", "msg": "微信已离线"})));
}

#[tokio::test]
async fn failure_at_http_500() {
    let (mock, client) = setup().await;
    mock.enqueue(
        OP,
        MockReply::json(
            json!({"ret": 500, "msg": "发布cdn视频失败", "data": {"code": "-4013", "msg": null}}),
        )
        .with_status(500),
    );
    let err = client.contacts_search(&search()).await.unwrap_err();
    let api = err
        .as_api()
        .expect("an envelope at HTTP 500 is still the API error");
    assert_eq!((api.status.as_u16(), api.ret), (500, 500));
    assert!(err.to_string().ends_with("[HTTP 500]"), "{err}");
}

#[tokio::test]
async fn rejected_token_is_told_apart_and_masked() {
    let mock = MockServer::start().await.expect("mock");
    let secret = "c9ffbedb9aeb471db49d92453ea21a17";
    let client = Client::builder()
        .token(secret)
        .base_url(mock.base_url())
        .build()
        .expect("client");
    let err = client.contacts_search(&search()).await.unwrap_err();
    assert!(err.is_token_rejected(), "{err}");
    let shown = format!("{err} {err:?} {client:?}");
    assert!(!shown.contains(secret), "token leaked: {shown}");
    assert!(
        err.to_string().contains("X-GEWE-TOKEN=*** 不可用或已过期"),
        "{err}"
    );
    assert!(err
        .to_string()
        .contains("check X-GEWE-TOKEN in the GeWe console"));
    // The mock did receive it: masking is on display, not on the wire.
    assert_eq!(mock.received()[0].token.as_deref(), Some(secret));
}

#[tokio::test]
async fn html_502_is_a_status_error_with_a_snippet() {
    let (mock, client) = setup().await;
    mock.enqueue(
        OP,
        MockReply::raw(
            502,
            "text/html",
            "<html><body>502 Bad Gateway</body></html>",
        ),
    );
    let err = client.contacts_search(&search()).await.unwrap_err();
    match &err {
        Error::Status(e) => {
            assert_eq!(e.status.as_u16(), 502);
            assert!(e.snippet.contains("502 Bad Gateway"));
            assert!(e.envelope.is_none());
        }
        other => panic!("expected a status error, got {other:?}"),
    }
    assert!(err.as_api().is_none());
}

#[tokio::test]
async fn html_500_is_a_status_error() {
    let (mock, client) = setup().await;
    mock.enqueue(
        OP,
        MockReply::raw(500, "text/html", "<h1>Internal Server Error</h1>"),
    );
    let err = client.contacts_search(&search()).await.unwrap_err();
    assert!(
        matches!(&err, Error::Status(e) if e.status.as_u16() == 500 && e.snippet.contains("Internal Server Error")),
        "{err:?}"
    );
}

#[tokio::test]
async fn non_json_body_is_a_decode_error() {
    let (mock, client) = setup().await;
    mock.enqueue(OP, MockReply::raw(200, "text/plain", "hello"));
    let err = client.contacts_search(&search()).await.unwrap_err();
    assert!(
        matches!(&err, Error::Decode(e) if e.snippet == "hello"),
        "{err:?}"
    );
    let source = std::error::Error::source(&err).expect("the serde error chains through source()");
    assert!(
        !err.to_string().contains(&source.to_string()),
        "the cause is not repeated in the text: {err}"
    );
    assert!(err.may_have_reached_server(), "GeWe answered");
}

#[tokio::test]
async fn truncated_json_is_a_decode_error() {
    let (mock, client) = setup().await;
    mock.enqueue(
        OP,
        MockReply::raw(
            200,
            "application/json",
            r#"{"ret":200,"msg":"操作成功","data":{"v3":"#,
        ),
    );
    let err = client.contacts_search(&search()).await.unwrap_err();
    assert!(
        matches!(&err, Error::Decode(e) if e.snippet.starts_with("{\"ret\":200")),
        "{err:?}"
    );
}

#[tokio::test]
async fn data_of_the_wrong_type_is_a_decode_error() {
    let (mock, client) = setup().await;
    mock.enqueue(
        OP,
        MockReply::json(json!({"ret": 200, "msg": "操作成功", "data": {"sex": "not a number"}})),
    );
    let err = client.contacts_search(&search()).await.unwrap_err();
    match &err {
        Error::Decode(e) => assert!(e.reason.contains("does not fit"), "{e}"),
        other => panic!("expected decode error, got {other:?}"),
    }
}

#[tokio::test]
async fn slow_server_times_out() {
    let mock = MockServer::start().await.expect("mock");
    let client = Client::builder()
        .token(mock.token())
        .base_url(mock.base_url())
        .timeout(Duration::from_millis(200))
        .build()
        .expect("client");
    mock.enqueue(OP, MockReply::ok(None).with_delay(Duration::from_secs(3)));
    let started = std::time::Instant::now();
    let err = client.contacts_search(&search()).await.unwrap_err();
    assert!(err.is_timeout(), "{err:?}");
    assert!(started.elapsed() < Duration::from_secs(2));
    assert_eq!(err.to_string(), "/contacts/search: request timed out");
}

/// A raw TCP server on loopback that answers every connection with `response` and closes.
async fn raw_server(response: &'static [u8]) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move {
        while let Ok((mut sock, _)) = listener.accept().await {
            let mut buf = vec![0u8; 64 * 1024];
            let _ = sock.read(&mut buf).await;
            let _ = sock.write_all(response).await;
            let _ = sock.shutdown().await;
        }
    });
    format!("http://{addr}/gewe/v2/api")
}

#[tokio::test]
async fn connection_closed_mid_body_is_a_transport_error() {
    let base = raw_server(b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 1000\r\n\r\n{\"ret\":200,\"msg\":").await;
    let client = Client::builder()
        .token("t0ken-for-test")
        .base_url(base)
        .build()
        .expect("client");
    let err = client.contacts_search(&search()).await.unwrap_err();
    assert!(matches!(err, Error::Transport(_)), "{err:?}");
    assert!(err.may_have_reached_server());
}

#[tokio::test]
async fn connection_refused_is_a_connect_error() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let client = Client::builder()
        .token("t")
        .base_url(format!("http://127.0.0.1:{port}/gewe/v2/api"))
        .build()
        .unwrap();
    let err = client.contacts_search(&search()).await.unwrap_err();
    assert!(
        matches!(&err, Error::Transport(_)) && !err.may_have_reached_server(),
        "{err:?}"
    );
}

#[tokio::test]
async fn oversized_body_is_refused_while_streaming() {
    let (mock, _) = setup().await;
    let client = Client::builder()
        .token(mock.token())
        .base_url(mock.base_url())
        .max_response_bytes(1024)
        .build()
        .unwrap();
    let big = format!(r#"{{"ret":200,"msg":"{}"}}"#, "x".repeat(4096));
    mock.enqueue(OP, MockReply::raw(200, "application/json", big));
    let err = client.contacts_search(&search()).await.unwrap_err();
    assert!(
        matches!(&err, Error::ResponseTooLarge(e) if e.limit == 1024),
        "{err:?}"
    );
    assert_eq!(err.operation(), Some(OP));
    assert!(err.may_have_reached_server(), "the request was sent");
}

#[tokio::test]
async fn unknown_field_is_refused_by_name_and_nothing_is_sent() {
    let (mock, client) = setup().await;
    let err = client
        .call_json(
            OP,
            json!({"appId": "wx", "contactsInfo": "a", "contactInfo": "typo"}),
        )
        .await
        .unwrap_err();
    assert!(matches!(err, Error::InvalidRequest(_)), "{err:?}");
    assert!(
        err.to_string().contains("unknown field `contactInfo`"),
        "{err}"
    );
    let err = client
        .call_json(OP, json!({"appId": 7, "contactsInfo": "a"}))
        .await
        .unwrap_err();
    assert!(err.to_string().contains("appId"), "{err}");
    let err = client.call_json("/no/such", json!({})).await.unwrap_err();
    assert!(err.to_string().contains("no such operation"), "{err}");
    assert!(!err.may_have_reached_server());
    assert!(mock.received().is_empty(), "nothing may be sent");
}

#[test]
fn bad_configuration_is_a_config_error() {
    let bad = [
        Client::builder().token("t").base_url("not a url").build(),
        Client::builder().token("t").base_url("ftp://x/y").build(),
        Client::builder().token("line\nbreak").build(),
        Client::builder().token("").build(),
        Client::builder().build(),
    ];
    for result in bad {
        let err = result.unwrap_err();
        assert!(matches!(err, Error::Config(_)), "{err:?}");
        assert!(!err.to_string().contains("line\nbreak"));
    }
}

#[test]
fn client_debug_never_shows_the_token() {
    let client = Client::new("super-secret-token-value").unwrap();
    let shown = format!("{client:?}");
    assert!(
        !shown.contains("super-secret-token-value") && shown.contains("<redacted>"),
        "{shown}"
    );
    assert_eq!(client.base_url(), gewe::DEFAULT_BASE_URL);
    fn cheap<T: Clone + Send + Sync>() {}
    cheap::<Client>();
}
