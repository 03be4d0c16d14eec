//! The contract, for every operation in `openapi/`, enumerated from the merged spec: the documented
//! request example goes through the client to the mock, which checks it against the spec, and
//! every documented response example comes back as equal typed data or as the API error it shows.
//! The same examples, sent through the short-form calls, send the same bodies.

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

/// The short-form calls, generated from `openapi/` with the client (`build/calls_check.rs`).
#[allow(dead_code)]
mod calls {
    include!(concat!(env!("OUT_DIR"), "/gewe_calls_check.rs"));
}

/// The endpoint paths of `openapi/`, read from the files themselves, not from the generator.
fn endpoint_files() -> std::collections::BTreeSet<String> {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("openapi");
    let mut paths = std::collections::BTreeSet::new();
    for module in std::fs::read_dir(&root).expect("openapi/") {
        let module = module.expect("entry").path();
        let name = module.file_name().unwrap().to_string_lossy().to_string();
        if !module.is_dir() || name == "ours" || name == "overlays" {
            continue;
        }
        for file in std::fs::read_dir(&module).expect("module folder") {
            let file = file.expect("entry").path();
            let text = std::fs::read_to_string(&file).expect("readable");
            let doc: Value = serde_saphyr::from_str(&text).expect("YAML");
            for path in doc["paths"].as_object().expect("paths").keys() {
                paths.insert(path.trim_start_matches(gewe::API_PATH).to_string());
            }
        }
    }
    paths
}

/// The body the mock received last, after `send` ran.
async fn sent_body<F: std::future::Future>(mock: &MockServer, send: F) -> (F::Output, Value) {
    mock.reset();
    let out = send.await;
    let body = mock
        .received()
        .last()
        .map(|r| r.body.clone())
        .unwrap_or(Value::Null);
    (out, body)
}

#[tokio::test]
async fn every_operation_through_its_call_sends_the_struct_methods_body() {
    let spec = spec();
    let mock = MockServer::start().await.expect("mock starts");
    let client = mock.client().expect("client");
    let mut reached = std::collections::BTreeSet::new();
    let mut failures = Vec::new();
    for (path, op) in operations(&spec) {
        for (summary, mut body) in examples(&op["requestBody"]["content"]["application/json"]) {
            let at = format!("{path} example `{summary}`");
            if calls::CLIENT_PATHS.contains(&path.as_str()) {
                let (struct_result, by_struct) =
                    sent_body(&mock, client.call_json(&path, body.clone())).await;
                let (result, by_call) =
                    sent_body(&mock, calls::through_client(&client, &path, body.clone())).await;
                let result = result.expect("a client call");
                if by_call != by_struct
                    || by_call.is_null()
                    || result.is_ok() != struct_result.is_ok()
                {
                    failures.push(format!("{at} from the client: {by_call} vs {by_struct}"));
                }
                reached.insert(path.clone());
            }
            if !calls::DEVICE_PATHS.contains(&path.as_str()) {
                continue;
            }
            // A device's appId is never empty; some examples leave it so.
            if body["appId"] == "" {
                body["appId"] = "wx_contract_device".into();
            }
            let (struct_result, by_struct) =
                sent_body(&mock, client.call_json(&path, body.clone())).await;
            let (result, by_call) =
                sent_body(&mock, calls::through_device(&client, &path, body.clone())).await;
            let result = result.expect("a device call");
            if by_call != by_struct || by_call.is_null() || result.is_ok() != struct_result.is_ok()
            {
                failures.push(format!("{at}: {by_call} vs {by_struct}"));
            }
            reached.insert(path.clone());
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    assert_eq!(
        reached,
        endpoint_files(),
        "every endpoint file of openapi/ is reached through a call"
    );
    assert_eq!(reached.len(), 133);
}
