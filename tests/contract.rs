//! The contract, for every operation in `openapi/`, enumerated from the merged spec: the documented
//! request example goes through the client to the mock, which checks it against the spec, and
//! every documented response example comes back as equal typed data or as the API error it shows.

mod support;

use gewe::mock::{MockReply, MockServer};
use serde_json::Value;
use support::{examples, json_eq, operations, spec};

#[tokio::test]
async fn every_example_of_every_operation() {
    let spec = spec();
    let mock = MockServer::start().await.expect("mock starts");
    let client = mock.client().expect("client");
    let mut failures = Vec::new();
    let mut checked = 0;
    let ops = operations(&spec);
    assert_eq!(ops.len(), gewe::operations().len());
    for (path, op) in &ops {
        let content = &op["requestBody"]["content"]["application/json"];
        let requests = examples(content);
        assert!(!requests.is_empty(), "{path}: no request example");
        let (_, request) = &requests[0];
        // Every request example is accepted by the mock's schema check.
        for (summary, body) in &requests {
            mock.reset();
            if let Err(e) = client.call_json(path, body.clone()).await {
                if e.ret() != Some(200) && !matches!(e, gewe::Error::Api(_)) {
                    failures.push(format!("{path} request example `{summary}`: {e}"));
                }
            }
            let got = mock.received();
            match got.last() {
                Some(r) if r.violations.is_empty() => {}
                Some(r) => failures.push(format!(
                    "{path} request example `{summary}` breaks the spec: {:?}",
                    r.violations
                )),
                None => failures.push(format!("{path} request example `{summary}` was not sent")),
            }
        }
        for (status, response) in op["responses"].as_object().expect("responses") {
            let status: u16 = status.parse().expect("numeric status");
            for (summary, example) in examples(&response["content"]["application/json"]) {
                checked += 1;
                mock.reset();
                mock.enqueue(path, MockReply::json(example.clone()).with_status(status));
                let result = client.call_json_typed(path, request.clone()).await;
                if let Err(f) = check(path, &summary, &example, result, &mock) {
                    failures.push(f);
                }
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {checked} examples failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
    assert!(
        checked >= ops.len(),
        "only {checked} response examples for {} operations",
        ops.len()
    );
    eprintln!(
        "contract: {} operations, {checked} response examples",
        ops.len()
    );
}

fn check(
    path: &str,
    summary: &str,
    example: &Value,
    result: gewe::Result<Value>,
    mock: &MockServer,
) -> Result<(), String> {
    let at = format!("{path} example `{summary}`");
    let received = mock.received();
    let r = received.last().ok_or(format!("{at}: nothing received"))?;
    if r.path != path || r.method != "POST" {
        return Err(format!("{at}: received {} {}", r.method, r.path));
    }
    if r.token.as_deref() != Some(mock.token()) {
        return Err(format!("{at}: token header was {:?}", r.token));
    }
    if !r
        .content_type
        .as_deref()
        .unwrap_or("")
        .starts_with("application/json")
    {
        return Err(format!("{at}: content type {:?}", r.content_type));
    }
    let ret = example["ret"].as_i64().unwrap_or(200);
    match (ret, result) {
        (200, Ok(data)) => {
            let expected = example.get("data").cloned().unwrap_or(Value::Null);
            let empty = data.is_null()
                || data
                    .as_object()
                    .is_some_and(|m| m.values().all(Value::is_null));
            if expected.is_null() && empty {
                return Ok(());
            }
            json_eq(&expected, &data).map_err(|e| format!("{at}: {e}"))
        }
        (200, Err(e)) => Err(format!("{at}: expected data, got error: {e}")),
        (_, Ok(data)) => Err(format!("{at}: expected ret {ret}, got data {data}")),
        (_, Err(e)) => {
            let api = e
                .as_api()
                .ok_or(format!("{at}: expected an API error, got: {e}"))?;
            let msg = example["msg"].as_str().map(str::to_string);
            let code = example["data"]["code"].as_str().map(str::to_string);
            let detail = example["data"]["msg"].as_str().map(str::to_string);
            if api.ret != ret || api.msg != msg || api.code != code || api.detail != detail {
                return Err(format!(
                    "{at}: expected ret {ret} {msg:?} {code:?} {detail:?}, got {api:?}"
                ));
            }
            Ok(())
        }
    }
}
