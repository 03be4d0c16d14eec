//! Properties over generated input: ids round-trip exactly and are equal by value whatever their
//! form, and every failure envelope becomes the API error with its `ret`, `msg` and nested
//! `code`/`msg` intact.

use gewe::mock::{MockReply, MockServer};
use gewe::Id;
use proptest::prelude::*;
use serde_json::{json, Value};
use std::hash::BuildHasher;

fn hash_of(id: &Id, state: &std::collections::hash_map::RandomState) -> u64 {
    state.hash_one(id)
}

/// Any id GeWe may send, as the JSON text of its number: any `i64` or `u64`.
fn id_number() -> impl Strategy<Value = String> {
    prop_oneof![
        any::<i64>().prop_map(|v| v.to_string()),
        any::<u64>().prop_map(|v| v.to_string()),
    ]
}

proptest! {
    #[test]
    fn u64_ids_round_trip(v in any::<u64>()) {
        let id: Id = serde_json::from_str(&v.to_string()).unwrap();
        prop_assert_eq!(id.as_u64(), Some(v));
        prop_assert_eq!(serde_json::to_string(&id).unwrap(), v.to_string());
    }

    #[test]
    fn i64_ids_round_trip(v in any::<i64>()) {
        let id: Id = serde_json::from_str(&v.to_string()).unwrap();
        prop_assert_eq!(id.as_i64(), Some(v));
        prop_assert_eq!(serde_json::to_string(&id).unwrap(), v.to_string());
    }

    #[test]
    fn string_ids_round_trip(v in any::<u64>()) {
        let text = format!("\"{v}\"");
        let id: Id = serde_json::from_str(&text).unwrap();
        prop_assert!(id.is_string());
        prop_assert_eq!(serde_json::to_string(&id).unwrap(), text);
    }

    #[test]
    fn the_string_and_number_forms_of_one_value_are_one_id(digits in id_number()) {
        let number: Id = serde_json::from_str(&digits).unwrap();
        let quoted = format!("\"{digits}\"");
        let text: Id = serde_json::from_str(&quoted).unwrap();
        prop_assert!(!number.is_string());
        prop_assert!(text.is_string());
        prop_assert_eq!(number, text);
        prop_assert_eq!(number.cmp(&text), std::cmp::Ordering::Equal);
        let state = std::collections::hash_map::RandomState::new();
        prop_assert_eq!(hash_of(&number, &state), hash_of(&text, &state));
        let parsed: Id = digits.parse().unwrap();
        prop_assert_eq!(parsed, text);
        // Each goes back in its own form.
        prop_assert_eq!(serde_json::to_string(&number).unwrap(), digits.clone());
        prop_assert_eq!(serde_json::to_string(&text).unwrap(), quoted);
        let set: std::collections::HashSet<Id> = [number, text, parsed].into_iter().collect();
        prop_assert_eq!(set.len(), 1);
    }

    #[test]
    fn ids_order_by_value(a in id_number(), b in id_number()) {
        let x: Id = serde_json::from_str(&a).unwrap();
        let y: Id = serde_json::from_str(&format!("\"{b}\"")).unwrap();
        let value = |s: &str| s.parse::<i128>().unwrap();
        prop_assert_eq!(x.cmp(&y), value(&a).cmp(&value(&b)));
        prop_assert_eq!(x == y, a == b);
    }

    #[test]
    fn ids_inside_a_typed_response_keep_their_digits(v in any::<u64>()) {
        let data: gewe::types::MessagePostTextData = serde_json::from_value(json!({"newMsgId": v, "msgId": v})).unwrap();
        prop_assert_eq!(serde_json::to_value(&data).unwrap()["newMsgId"].as_u64(), Some(v));
    }
}

/// `ret`, `msg`, and `data`'s `code` and `msg`.
type Failure = (i64, Option<String>, Option<(String, Option<String>)>);

fn envelope() -> impl Strategy<Value = Failure> {
    (
        any::<i64>().prop_filter("a failure", |r| *r != 200),
        proptest::option::of("\\PC{0,30}"),
        proptest::option::of(("-?[0-9]{1,5}", proptest::option::of("\\PC{0,30}"))),
    )
}

#[test]
fn every_failure_envelope_becomes_the_api_error() {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let mock = rt.block_on(MockServer::start()).unwrap();
    let client = mock.client().unwrap();
    let body = json!({"appId": "wx", "contactsInfo": "a"});
    let mut runner = proptest::test_runner::TestRunner::new(ProptestConfig {
        cases: 128,
        ..ProptestConfig::default()
    });
    runner
        .run(&envelope(), |(ret, msg, data)| {
            let mut env = json!({"ret": ret, "msg": msg});
            if let Some((code, detail)) = &data {
                env["data"] = json!({"code": code, "msg": detail});
            }
            mock.enqueue("/contacts/search", MockReply::json(env));
            let err = rt
                .block_on(client.call_json("/contacts/search", body.clone()))
                .unwrap_err();
            let api = err.as_api().expect("an API error");
            prop_assert_eq!(api.ret, ret);
            prop_assert_eq!(&api.msg, &msg);
            prop_assert_eq!(api.code.as_deref(), data.as_ref().map(|(c, _)| c.as_str()));
            prop_assert_eq!(
                api.detail.as_deref(),
                data.as_ref().and_then(|(_, d)| d.as_deref())
            );
            let raw: Option<Value> = data.as_ref().map(|(c, d)| json!({"code": c, "msg": d}));
            prop_assert_eq!(&api.data, &raw);
            Ok(())
        })
        .unwrap();
}
