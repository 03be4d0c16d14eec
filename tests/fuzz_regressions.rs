//! Inputs that the fuzzers (`fuzz/`) found, replayed through the public API: each file in
//! `fuzz/regressions/<target>/` is one input, its first byte the target's mode, and the replay
//! makes the target's main checks (the fuzz targets themselves also replay the folder in CI).
//! A new finding is kept by copying its file there.

#[path = "../fuzz/src/oracle.rs"]
mod oracle;

use gewe::events::Event;
use gewe::mock::{MockReply, MockServer};
use std::path::Path;

/// The inputs of `fuzz/regressions/<target>/`, by name; there is at least one.
fn inputs(target: &str) -> Vec<(String, Vec<u8>)> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fuzz/regressions")
        .join(target);
    let entries = std::fs::read_dir(&dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
    let mut files: Vec<_> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.is_file())
        .filter(|p| {
            !p.file_name()
                .is_some_and(|n| n.to_string_lossy().starts_with('.'))
        })
        .map(|p| {
            let name = p.file_name().unwrap().to_string_lossy().into_owned();
            (name, std::fs::read(&p).expect("read"))
        })
        .collect();
    files.sort();
    assert!(!files.is_empty(), "{} holds no input", dir.display());
    files
}

/// Each finding through an operation with typed `data` (`fetchContactsList`) and through one
/// that documents none (`pinChat`, whose `data` is skipped unread).
#[tokio::test]
async fn envelope_findings_decode_as_the_fuzz_target_requires() {
    let mock = MockServer::start().await.expect("mock");
    let client = mock.client().expect("client");
    let token = mock.token().to_owned();
    let files = inputs("envelope");
    let typed: gewe::types::ContactsFetchContactsListRequest =
        serde_json::from_value(serde_json::json!({"appId": "wx_app"})).unwrap();
    let untyped: gewe::types::GroupPinChatRequest = serde_json::from_value(
        serde_json::json!({"appId": "wx_app", "chatroomId": "34757816141@chatroom", "top": true}),
    )
    .unwrap();
    for (name, bytes) in files {
        let Some((&mode, body)) = bytes.split_first() else {
            continue;
        };
        let status = oracle::status(mode);
        let reply = || MockReply::raw(status, "application/json", body.to_vec());
        eprintln!("{name}");
        mock.enqueue("/contacts/fetchContactsList", reply());
        let result = client.contacts_fetch_contacts_list(&typed).await;
        oracle::check_envelope(status, body, &token, &result);
        mock.enqueue("/group/pinChat", reply());
        let result = client.group_pin_chat(&untyped).await;
        oracle::check_envelope(status, body, &token, &result);
        // `call_json` hands `data` on as sent: what it cannot read is an error, never `null`.
        mock.enqueue("/group/pinChat", reply());
        let request = serde_json::to_value(&untyped).unwrap();
        let result = client.call_json("/group/pinChat", request).await;
        oracle::check_envelope(status, body, &token, &result);
        if let Ok(data) = result {
            // The body may hold invalid UTF-8 where nothing reads it (`msg`).
            let sent: serde_json::Value =
                serde_json::from_str(&String::from_utf8_lossy(body)).expect("JSON");
            assert_eq!(data, sent["data"], "{name}: call_json changed data");
        }
    }
}

/// A success whose skipped `data` holds a number beyond f64's range decodes
/// for an operation that documents no `data`, and is a decode error (not a lost `ret`) for one
/// whose `data` is typed.
#[tokio::test]
async fn an_out_of_range_number_hides_no_ret() {
    let mock = MockServer::start().await.expect("mock");
    let client = mock.client().expect("client");
    let body = br#"{"data":{"list":[{"updateTime":1E448465918}]},"msg":"ok","ret":200}"#;
    let untyped: gewe::types::GroupPinChatRequest = serde_json::from_value(
        serde_json::json!({"appId": "wx_app", "chatroomId": "34757816141@chatroom", "top": true}),
    )
    .unwrap();
    mock.enqueue(
        "/group/pinChat",
        MockReply::raw(200, "application/json", body.to_vec()),
    );
    client
        .group_pin_chat(&untyped)
        .await
        .expect("data is not read");
    let typed: gewe::types::ContactsFetchContactsListRequest =
        serde_json::from_value(serde_json::json!({"appId": "wx_app"})).unwrap();
    let friends = br#"{"data":{"friends":[1E999]},"msg":"ok","ret":200}"#;
    mock.enqueue(
        "/contacts/fetchContactsList",
        MockReply::raw(200, "application/json", friends.to_vec()),
    );
    let err = client
        .contacts_fetch_contacts_list(&typed)
        .await
        .unwrap_err();
    assert!(matches!(err, gewe::Error::Decode(_)), "{err:?}");
}

/// Invalid UTF-8 in `msg` of a success is tolerated: serde_json skips a field it
/// ignores without checking it, so the data decodes; in `data` it is a decode error.
#[tokio::test]
async fn invalid_utf8_is_tolerated_in_an_ignored_field_only() {
    let mock = MockServer::start().await.expect("mock");
    let client = mock.client().expect("client");
    let request: gewe::types::ContactsFetchContactsListRequest =
        serde_json::from_value(serde_json::json!({"appId": "wx_app"})).unwrap();
    let mut ignored = br#"{"ret":200,"msg":"bad "#.to_vec();
    ignored.extend_from_slice(&[0xf6, 0x88]);
    ignored.extend_from_slice(br#"","data":{"friends":["wxid_a"]}}"#);
    mock.enqueue(
        "/contacts/fetchContactsList",
        MockReply::raw(200, "application/json", ignored),
    );
    let data = client
        .contacts_fetch_contacts_list(&request)
        .await
        .expect("msg is not read on success");
    assert_eq!(data.friends.as_deref(), Some(&["wxid_a".to_owned()][..]));

    let mut in_data = br#"{"ret":200,"msg":"ok","data":{"friends":["wxid_"#.to_vec();
    in_data.extend_from_slice(&[0xf6, 0x88]);
    in_data.extend_from_slice(br#""]}}"#);
    mock.enqueue(
        "/contacts/fetchContactsList",
        MockReply::raw(200, "application/json", in_data),
    );
    let err = client
        .contacts_fetch_contacts_list(&request)
        .await
        .unwrap_err();
    assert!(matches!(err, gewe::Error::Decode(_)), "{err:?}");
}

/// Each callback finding through the target's own checks, which the release build of the fuzz
/// target also makes; here in a debug build, with its overflow checks.
#[test]
fn callback_findings_classify_without_losing_the_delivery() {
    for (name, bytes) in inputs("callback") {
        let Some((&mode, rest)) = bytes.split_first() else {
            continue;
        };
        eprintln!("{name}");
        if let Some(delivery) = oracle::callback_delivery(mode, rest) {
            oracle::check_callback(&delivery);
        }
    }
}

/// Webhook findings, over HTTP to a real receiver with the target's path and secret.
#[tokio::test]
async fn webhook_findings_get_a_documented_status() {
    use gewe::webhook::WebhookServer;
    let files = inputs("webhook");
    let running = WebhookServer::builder()
        .listen("127.0.0.1:0".parse().unwrap())
        .path(oracle::WEBHOOK_PATH)
        .secret_path(oracle::WEBHOOK_SECRET)
        .handler(|_event: Event| async { Ok::<(), String>(()) })
        .start()
        .await
        .expect("webhook");
    gewe::install_tls_provider();
    let http = reqwest::Client::new();
    for (name, bytes) in files {
        let Some((&mode, body)) = bytes.split_first() else {
            continue;
        };
        let url = format!(
            "http://{}{}",
            running.local_addr(),
            oracle::webhook_path(mode)
        );
        let request = if oracle::webhook_is_get(mode) {
            http.get(url)
        } else {
            http.post(url).body(body.to_vec())
        };
        let status = request.send().await.expect("answered").status().as_u16();
        assert!(
            oracle::WEBHOOK_STATUSES.contains(&status),
            "{name}: status {status}"
        );
    }
    running.shutdown().await;
}
