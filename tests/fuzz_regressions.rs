//! Inputs that the fuzzers (`fuzz/`) found, replayed through the public API: each file in
//! `fuzz/regressions/<target>/` is one input, its first byte the target's mode, and the replay
//! makes the target's main checks (the fuzz targets themselves also replay the folder in CI).
//! A new finding is kept by copying its file there.

use gewe::events::{Event, MsgType};
use gewe::mock::{MockReply, MockServer};
use serde_json::value::RawValue;
use serde_json::Value;
use std::collections::BTreeMap;
use std::path::Path;

/// The fuzz target's status table (`fuzz/fuzz_targets/envelope.rs`).
const STATUSES: [u16; 8] = [200, 200, 200, 200, 500, 502, 404, 429];

fn inputs(target: &str) -> Vec<(String, Vec<u8>)> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fuzz/regressions")
        .join(target);
    let Ok(entries) = std::fs::read_dir(&dir) else {
        return Vec::new();
    };
    let mut files: Vec<_> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.is_file())
        .map(|p| {
            let name = p.file_name().unwrap().to_string_lossy().into_owned();
            (name, std::fs::read(&p).expect("read"))
        })
        .collect();
    files.sort();
    files
}

/// The body's `ret` as the decoder reads it (`fuzz/fuzz_targets/envelope.rs`): a JSON object's
/// member read alone (of a repeated key, the last), invalid UTF-8 replaced, so that a field the
/// decoder skips cannot change it.
fn body_ret(body: &[u8]) -> Option<i64> {
    let members: BTreeMap<String, Box<RawValue>> =
        serde_json::from_str(&String::from_utf8_lossy(body)).ok()?;
    match serde_json::from_str::<Value>(members.get("ret")?.get()).ok()? {
        Value::Number(n) => n.as_i64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

/// The target's checks on one decoded answer.
fn check_envelope<T>(name: &str, status: u16, body: &[u8], token: &str, result: gewe::Result<T>) {
    let ret = body_ret(body);
    match result {
        Ok(_) => assert!(
            status == 200 && ret == Some(200),
            "{name}: success from HTTP {status} with ret {ret:?}"
        ),
        Err(error) => {
            if let Some(r) = ret.filter(|&r| r != 200) {
                assert_eq!(error.ret(), Some(r), "{name}: ret {r} lost: {error:?}");
            }
            if let gewe::Error::Api(api) = &error {
                assert_ne!(api.ret, 200, "{name}");
                assert_eq!(Some(api.ret), ret, "{name}: ret changed");
            }
            let mut shown = format!("{error}\n{error:?}");
            let mut source = std::error::Error::source(&error);
            while let Some(s) = source {
                shown.push_str(&format!("\n{s}\n{s:?}"));
                source = s.source();
            }
            assert!(!shown.contains(token), "{name}: the token leaked");
        }
    }
}

/// Each finding through an operation with typed `data` (`fetchContactsList`) and through one
/// that documents none (`pinChat`, whose `data` is skipped unread).
#[tokio::test]
async fn envelope_findings_decode_as_the_fuzz_target_requires() {
    let mock = MockServer::start().await.expect("mock");
    let client = mock.client().expect("client");
    let token = mock.token().to_owned();
    let files = inputs("envelope");
    assert!(!files.is_empty(), "fuzz/regressions/envelope is empty");
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
        let status = STATUSES[usize::from(mode) % STATUSES.len()];
        let reply = || MockReply::raw(status, "application/json", body.to_vec());
        mock.enqueue("/contacts/fetchContactsList", reply());
        let result = client.contacts_fetch_contacts_list(&typed).await;
        check_envelope(
            &format!("{name} (typed data)"),
            status,
            body,
            &token,
            result,
        );
        mock.enqueue("/group/pinChat", reply());
        let result = client.group_pin_chat(&untyped).await;
        check_envelope(&format!("{name} (no data)"), status, body, &token, result);
    }
}

/// The second finding: a success whose skipped `data` holds a number beyond f64's range decodes
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

/// The first finding: invalid UTF-8 in `msg` of a success. serde_json skips a field it
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

/// The callback target's message template (`fuzz/fuzz_targets/callback.rs`), for odd modes.
fn message_with_content(mode: u8, content: &str) -> Value {
    const UNNAMED_MSG_TYPES: [i64; 4] = [0, -1, 9999, 49];
    let known = MsgType::KNOWN.len();
    let msg_type = match usize::from(mode >> 1) % (known + UNNAMED_MSG_TYPES.len()) {
        k if k < known => MsgType::KNOWN[k].code(),
        k => UNNAMED_MSG_TYPES[k - known],
    };
    let from = if mode & 0x20 != 0 {
        "34757816141@chatroom"
    } else {
        "wxid_friend"
    };
    serde_json::json!({
        "TypeName": "AddMsg", "Appid": "wx_app", "Wxid": "wxid_bot",
        "Data": {
            "MsgId": 1, "NewMsgId": 7773749793478223190u64, "MsgType": msg_type,
            "FromUserName": {"string": from}, "ToUserName": {"string": "wxid_bot"},
            "Content": {"string": content}, "PushContent": "在群聊中@了你",
            "MsgSource": content, "CreateTime": 1705043418
        }
    })
}

#[test]
fn callback_findings_classify_without_losing_the_delivery() {
    for (name, bytes) in inputs("callback") {
        let Some((&mode, rest)) = bytes.split_first() else {
            continue;
        };
        let delivery = if mode % 2 == 0 {
            match serde_json::from_slice::<Value>(rest) {
                Ok(value) => value,
                Err(_) => continue,
            }
        } else {
            message_with_content(mode, &String::from_utf8_lossy(rest))
        };
        let event = Event::from_value(delivery.clone());
        assert_eq!(event.raw(), &delivery, "{name}");
        let _ = (event.sender(), event.chat_id(), event.is_mentioned());
        if let Some(m) = event.message() {
            let _ = (m.body(), m.at_list(), m.xml_text("msg/appmsg/title"));
        }
        if let Some(a) = event.as_app() {
            let _ = (a.appmsg_text("refermsg/content"), a.quoted_new_msg_id());
        }
        if let Some(s) = event.as_system() {
            let _ = (s.members(), s.revoked_msg_id(), s.patter());
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
        .path("/cb")
        .secret_path("s3cret")
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
        let path = match (mode >> 2) & 0x03 {
            0 | 1 => "/cb/s3cret",
            2 => "/cb/s3cret/",
            _ => "/cb/wrong",
        };
        let url = format!("http://{}{path}", running.local_addr());
        let request = if mode & 0x03 == 0x03 {
            http.get(url)
        } else {
            http.post(url).body(body.to_vec())
        };
        let status = request.send().await.expect("answered").status().as_u16();
        assert!(
            [200, 400, 403, 404, 405, 413, 503].contains(&status),
            "{name}: status {status}"
        );
    }
    running.shutdown().await;
}
