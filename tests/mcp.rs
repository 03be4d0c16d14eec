//! `gewe mcp` spawned by an MCP client (rmcp's), against the embedded mock: which tools it
//! lists per tier, what a read returns, what is refused without its flag, that a send reaches
//! GeWe once, and that the token shows nowhere.

use gewe::mock::MockServer;
use gewe::Tier;
use rmcp::model::{CallToolRequestParams, CallToolResult, JsonObject, Tool};
use rmcp::service::RunningService;
use rmcp::transport::{ConfigureCommandExt, TokioChildProcess};
use rmcp::{RoleClient, ServiceExt};
use serde_json::{json, Value};
use std::collections::BTreeSet;

/// A token no description, result or error may contain.
const TOKEN: &str = "mcp-secret-token-7f3a";

type Client = RunningService<RoleClient, ()>;

async fn mock() -> MockServer {
    MockServer::start_with_token(TOKEN)
        .await
        .expect("the mock starts")
}

/// `gewe mcp` with these flags, for the mock, connected.
async fn gewe_mcp(mock: &MockServer, flags: &[&str]) -> Client {
    let command = tokio::process::Command::new(env!("CARGO_BIN_EXE_gewe")).configure(|cmd| {
        cmd.arg("mcp")
            .args(flags)
            .env("GEWE_BASE_URL", mock.base_url())
            .env("GEWE_TOKEN", TOKEN)
            .env("GEWE_APP_ID", "wx_mcp_app")
            .env_remove("GEWE_STORE");
    });
    ().serve(TokioChildProcess::new(command).expect("gewe mcp starts"))
        .await
        .expect("the MCP session starts")
}

async fn call(client: &Client, name: &str, arguments: Value) -> CallToolResult {
    let Value::Object(arguments) = arguments else {
        panic!("arguments are an object")
    };
    client
        .call_tool(CallToolRequestParams::new(name.to_string()).with_arguments(arguments))
        .await
        .expect("the tool answers")
}

fn text(result: &CallToolResult) -> String {
    serde_json::to_value(&result.content)
        .unwrap()
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|c| c["text"].as_str())
        .collect::<Vec<_>>()
        .join("\n")
}

fn ids(tier: Tier) -> BTreeSet<String> {
    gewe::operations()
        .iter()
        .filter(|op| op.tier() == tier)
        .map(|op| op.id.to_string())
        .collect()
}

fn names(tools: &[Tool]) -> BTreeSet<String> {
    tools.iter().map(|t| t.name.to_string()).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_default_tools_are_every_read_operation_and_nothing_else() {
    let mock = mock().await;
    let client = gewe_mcp(&mock, &[]).await;
    let peer = client.peer_info().expect("the server introduced itself");
    assert_eq!(
        peer.server_info.as_ref().map(|i| i.name.as_str()),
        Some("gewe")
    );
    // rmcp's client and `gewe mcp` (rmcp 3.11.0) agree on the last version with `initialize`.
    assert_eq!(peer.protocol_version.to_string(), "2025-11-25");
    let tools = client.list_all_tools().await.unwrap();
    assert_eq!(names(&tools), ids(Tier::Read));
    for tool in &tools {
        let hints = tool.annotations.as_ref().expect("annotations");
        assert_eq!(hints.read_only_hint, Some(true), "{}", tool.name);
        assert_eq!(hints.destructive_hint, Some(false), "{}", tool.name);
        let schema = Value::Object(JsonObject::clone(&tool.input_schema));
        assert_eq!(schema["type"], "object", "{}", tool.name);
        assert!(schema["properties"].get("appId").is_none(), "{}", tool.name);
        assert!(!schema["required"]
            .as_array()
            .is_some_and(|r| r.contains(&json!("appId"))));
    }
    let profile = tools
        .iter()
        .find(|t| t.name == "personal_get_profile")
        .unwrap();
    assert!(profile
        .description
        .as_deref()
        .unwrap()
        .contains("获取个人资料"));
    let download = tools
        .iter()
        .find(|t| t.name == "message_download_image")
        .unwrap();
    // GeWe's usage rule for downloads is in the description.
    assert!(
        download
            .description
            .as_deref()
            .unwrap()
            .contains("Usage rule"),
        "{:?}",
        download.description
    );
    client.cancel().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_read_tool_returns_the_documented_data() {
    let mock = mock().await;
    let client = gewe_mcp(&mock, &[]).await;
    let result = call(&client, "personal_get_profile", json!({})).await;
    assert_ne!(result.is_error, Some(true), "{}", text(&result));
    let data: Value = serde_json::from_str(&text(&result)).unwrap();
    // The typed `data`, as the library decodes the documented example.
    let expected = mock
        .client()
        .unwrap()
        .call_json_typed("/personal/getProfile", json!({"appId": "wx_mcp_app"}))
        .await
        .unwrap();
    assert_eq!(data, expected);
    // And the example of GeWe's doc page, field for field; the typed data leaves out a null.
    let page: Value = serde_saphyr::from_str(
        &std::fs::read_to_string(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/openapi/personal/getProfile.yaml"
        ))
        .unwrap(),
    )
    .unwrap();
    let documented = &page["paths"]["/gewe/v2/api/personal/getProfile"]["post"]["responses"]["200"]
        ["content"]["application/json"]["example"]["data"];
    let mut documented = documented.as_object().unwrap().clone();
    documented.retain(|_, v| !v.is_null());
    assert_eq!(data, Value::Object(documented));
    let received = mock.received_for("/personal/getProfile");
    assert_eq!(received[0].body, json!({"appId": "wx_mcp_app"}));
    client.cancel().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn send_write_and_destructive_calls_are_refused_without_their_flag() {
    let mock = mock().await;
    let client = gewe_mcp(&mock, &[]).await;
    for (tool, tier, arguments) in [
        (
            "message_post_text",
            "send",
            json!({"toWxid": "wxid_friend", "content": "hi"}),
        ),
        (
            "group_pin_chat",
            "write",
            json!({"chatroomId": "1@chatroom", "top": true}),
        ),
        (
            "message_revoke_msg",
            "destructive",
            json!({"toWxid": "wxid_friend", "msgId": "1", "newMsgId": "2", "createTime": "3"}),
        ),
        (
            "login_set_callback",
            "admin",
            json!({"callbackUrl": "http://127.0.0.1:9/"}),
        ),
    ] {
        let result = call(&client, tool, arguments).await;
        assert_eq!(result.is_error, Some(true), "{tool}");
        let message = text(&result);
        assert!(
            message.contains(&format!("--allow {tier}")),
            "{tool}: {message}"
        );
    }
    assert!(mock.received().is_empty(), "nothing reached GeWe");
    client.cancel().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_allow_send_a_send_reaches_gewe_exactly_once() {
    let mock = mock().await;
    let client = gewe_mcp(&mock, &["--allow", "send"]).await;
    let tools = client.list_all_tools().await.unwrap();
    let expected: BTreeSet<String> = ids(Tier::Read).union(&ids(Tier::Send)).cloned().collect();
    assert_eq!(names(&tools), expected);
    let result = call(
        &client,
        "message_post_text",
        json!({"toWxid": "wxid_friend", "content": "hello from a model"}),
    )
    .await;
    assert_ne!(result.is_error, Some(true), "{}", text(&result));
    let sends = mock.received_for("/message/postText");
    assert_eq!(sends.len(), 1);
    assert_eq!(
        sends[0].body,
        json!({"appId": "wx_mcp_app", "toWxid": "wxid_friend", "content": "hello from a model"})
    );
    // A write is still refused.
    let result = call(
        &client,
        "group_pin_chat",
        json!({"chatroomId": "1@chatroom", "top": true}),
    )
    .await;
    assert_eq!(result.is_error, Some(true));
    client.cancel().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_token_is_in_no_description_result_or_error() {
    let mock = mock().await;
    let client = gewe_mcp(
        &mock,
        &[
            "--allow",
            "write",
            "--allow",
            "send",
            "--allow",
            "destructive",
            "--allow",
            "admin",
        ],
    )
    .await;
    let tools = client.list_all_tools().await.unwrap();
    assert_eq!(tools.len(), gewe::operations().len());
    let listed = serde_json::to_string(&tools).unwrap();
    assert!(!listed.contains(TOKEN));
    let set_callback = tools
        .iter()
        .find(|t| t.name == "login_set_callback")
        .unwrap();
    let schema = Value::Object(JsonObject::clone(&set_callback.input_schema));
    assert!(schema["properties"].get("token").is_none(), "{schema}");

    let mut answers = Vec::new();
    // setCallback gets the token from the server.
    let result = call(
        &client,
        "login_set_callback",
        json!({"callbackUrl": "http://127.0.0.1:9/callback"}),
    )
    .await;
    assert_ne!(result.is_error, Some(true), "{}", text(&result));
    assert_eq!(
        mock.received_for("/login/setCallback")[0].body["token"],
        TOKEN
    );
    answers.push(result);
    // A caller cannot set a bound field, a bad argument is named, GeWe's errors are passed on.
    answers.push(
        call(
            &client,
            "login_set_callback",
            json!({"callbackUrl": "x", "token": "t"}),
        )
        .await,
    );
    answers.push(call(&client, "login_set_callback", json!({"callbackUrl": 5})).await);
    mock.enqueue(
        "/personal/getProfile",
        gewe::mock::MockReply::failure(500, Some(&format!("X-GEWE-TOKEN={TOKEN} 不可用")), None),
    );
    answers.push(call(&client, "personal_get_profile", json!({})).await);
    answers.push(call(&client, "no_such_tool", json!({})).await);
    for (i, answer) in answers.iter().enumerate() {
        let all = serde_json::to_string(answer).unwrap();
        assert!(!all.contains(TOKEN), "answer {i}: {all}");
        if i > 0 {
            assert_eq!(answer.is_error, Some(true), "answer {i}: {all}");
        }
    }
    assert!(text(&answers[1]).contains("`token` is set by the server"));
    assert!(text(&answers[2]).contains("callbackUrl"));
    client.cancel().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reads_follow_gewe_limits_searches_a_day_and_spaced_downloads() {
    let mock = mock().await;
    let client = gewe_mcp(&mock, &[]).await;
    let cap = gewe::pacing::SEARCHES_PER_DAY as usize;
    for i in 0..cap {
        let result = call(
            &client,
            "contacts_search",
            json!({"contactsInfo": "zhangch"}),
        )
        .await;
        assert_ne!(result.is_error, Some(true), "search {i}: {}", text(&result));
    }
    let result = call(
        &client,
        "contacts_search",
        json!({"contactsInfo": "zhangch"}),
    )
    .await;
    assert_eq!(result.is_error, Some(true));
    assert!(
        text(&result).contains("searches a day"),
        "{}",
        text(&result)
    );
    assert_eq!(mock.received_for("/contacts/search").len(), cap);

    let download = json!({"type": 2, "xml": "<msg><img aeskey=\"k\" /></msg>"});
    let started = std::time::Instant::now();
    for _ in 0..2 {
        let result = call(&client, "message_download_image", download.clone()).await;
        assert_ne!(result.is_error, Some(true), "{}", text(&result));
    }
    assert!(
        started.elapsed() >= *gewe::pacing::DOWNLOAD_GAP.start(),
        "two downloads {:?} apart",
        started.elapsed()
    );
    client.cancel().await.unwrap();
}
