//! Inputs that the fuzzers (`fuzz/`) found, replayed through the public API with the fuzz
//! targets' checks: each file in `fuzz/regressions/<target>/` is one input, its first byte the
//! target's mode. A new finding is kept by copying its file there.

use gewe::events::Event;
use gewe::mock::{MockReply, MockServer};
use serde_json::Value;
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

#[tokio::test]
async fn envelope_findings_decode_as_the_fuzz_target_requires() {
    let mock = MockServer::start().await.expect("mock");
    let client = mock.client().expect("client");
    let token = mock.token().to_owned();
    let files = inputs("envelope");
    assert!(!files.is_empty(), "fuzz/regressions/envelope is empty");
    for (name, bytes) in files {
        let Some((&mode, body)) = bytes.split_first() else {
            continue;
        };
        let status = STATUSES[usize::from(mode) % STATUSES.len()];
        mock.enqueue(
            "/contacts/fetchContactsList",
            MockReply::raw(status, "application/json", body.to_vec()),
        );
        let request = serde_json::from_value(serde_json::json!({"appId": "wx_app"})).unwrap();
        let result = client.contacts_fetch_contacts_list(&request).await;
        let parsed: Option<Value> = serde_json::from_str(&String::from_utf8_lossy(body)).ok();
        let ret = parsed
            .as_ref()
            .and_then(|v| v.get("ret"))
            .and_then(Value::as_i64);
        match result {
            Ok(_) => assert!(
                status == 200 && ret == Some(200),
                "{name}: success from HTTP {status} with ret {ret:?}"
            ),
            Err(error) => {
                if let Some(api) = error.as_api() {
                    assert_ne!(api.ret, 200, "{name}");
                }
                let shown = format!("{error}\n{error:?}");
                assert!(!shown.contains(&token), "{name}: the token leaked");
            }
        }
    }
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

#[test]
fn callback_findings_classify_without_losing_the_delivery() {
    for (name, bytes) in inputs("callback") {
        let Some((_, rest)) = bytes.split_first() else {
            continue;
        };
        if let Ok(value) = serde_json::from_slice::<Value>(rest) {
            let event = Event::from_value(value.clone());
            assert_eq!(event.raw(), &value, "{name}");
            let _ = (event.sender(), event.chat_id(), event.is_mentioned());
        }
    }
}
