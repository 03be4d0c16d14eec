//! The `gewe` command, run as the built binary against the embedded mock: `ops`, `call` with
//! each of its exit codes, `completions`, and `gewe mock` driven with plain HTTP, as a bot in
//! another language would.

use assert_cmd::Command;
use gewe::mock::{MockReply, MockServer};
use serde_json::{json, Value};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::time::Duration;

const JOIN: &str = "/group/joinRoomUsingQRCode";
const QR_URL: &str = "https://weixin.qq.com/g/AwYAAL";

/// The exit codes the README lists.
const INVALID_REQUEST: i32 = 3;
const NOT_SENT: i32 = 4;
const GEWE_ERROR: i32 = 5;
const TOKEN_REJECTED: i32 = 6;
const UNREADABLE: i32 = 7;
const OUTCOME_UNKNOWN: i32 = 8;

/// A mock on a runtime of its own, so the test's thread can wait for the command.
struct Mock {
    server: MockServer,
    _runtime: tokio::runtime::Runtime,
}

fn mock() -> Mock {
    let runtime = tokio::runtime::Runtime::new().expect("a runtime");
    let server = runtime
        .block_on(MockServer::start())
        .expect("the mock starts");
    Mock {
        server,
        _runtime: runtime,
    }
}

/// `gewe` with none of the caller's GeWe settings.
fn gewe() -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_gewe"));
    for name in ["GEWE_TOKEN", "GEWE_BASE_URL", "GEWE_APP_ID", "GEWE_STORE"] {
        cmd.env_remove(name);
    }
    cmd.timeout(Duration::from_secs(60));
    // An empty working directory: no bot's store (gewe-bot.redb) of the caller's is found.
    let cwd = std::env::temp_dir().join(format!("gewe-cli-cwd-{}", std::process::id()));
    std::fs::create_dir_all(&cwd).unwrap();
    cmd.current_dir(cwd);
    cmd
}

/// `gewe` set up for the mock, with a device.
fn gewe_for(mock: &Mock) -> Command {
    let mut cmd = gewe();
    cmd.env("GEWE_BASE_URL", mock.server.base_url())
        .env("GEWE_TOKEN", mock.server.token())
        .env("GEWE_APP_ID", "wx_cli_app");
    cmd
}

fn stderr(output: &std::process::Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// The `data` of the success example in the operation's export.
fn documented_data(module: &str, file: &str, path: &str) -> Value {
    let text = std::fs::read_to_string(format!(
        "{}/openapi/{module}/{file}.yaml",
        env!("CARGO_MANIFEST_DIR")
    ))
    .expect("the export");
    let doc: Value = serde_saphyr::from_str(&text).expect("YAML");
    doc["paths"][format!("/gewe/v2/api{path}")]["post"]["responses"]["200"]["content"]
        ["application/json"]["example"]["data"]
        .clone()
}

#[test]
fn ops_lists_every_operation_with_its_method_and_tier() {
    let out = gewe().arg("ops").assert().success().get_output().clone();
    let text = String::from_utf8(out.stdout).unwrap();
    assert_eq!(text.lines().count(), gewe::operations().len());
    let line = text
        .lines()
        .find(|l| l.starts_with("/login/setCallback "))
        .expect("setCallback is listed");
    let words: Vec<&str> = line.split_whitespace().collect();
    assert_eq!(
        words[..3],
        ["/login/setCallback", "POST", "admin"],
        "{line}"
    );
    assert!(line.ends_with("设置回调地址"), "{line}");

    let out = gewe().args(["ops", "message"]).assert().success();
    let text = String::from_utf8(out.get_output().stdout.clone()).unwrap();
    assert!(text.lines().all(|l| l.starts_with("/message/")), "{text}");
    assert!(text
        .lines()
        .any(|l| l.starts_with("/message/postText ") && l.contains(" send ")));
    assert!(text
        .lines()
        .any(|l| l.starts_with("/message/revokeMsg ") && l.contains(" destructive ")));

    let out = gewe()
        .args(["ops", "nosuchmodule"])
        .assert()
        .code(INVALID_REQUEST);
    let err = stderr(out.get_output());
    assert!(
        err.contains("no module `nosuchmodule`") && err.contains("group"),
        "{err}"
    );
}

#[test]
fn call_prints_the_documented_data_and_fills_in_the_app_id() {
    let mock = mock();
    let out = gewe_for(&mock)
        .args(["call", JOIN, &json!({"qrUrl": QR_URL}).to_string()])
        .assert()
        .success();
    let stdout = String::from_utf8(out.get_output().stdout.clone()).unwrap();
    // Not a terminal: one line.
    assert_eq!(stdout.lines().count(), 1, "{stdout}");
    let data: Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(data, documented_data("group", "joinRoomUsingQRCode", JOIN));
    assert_eq!(data["chatroomId"], "34559815390@chatroom");
    let received = mock.server.received_for(JOIN);
    assert_eq!(received.len(), 1);
    assert_eq!(
        received[0].body,
        json!({"appId": "wx_cli_app", "qrUrl": QR_URL})
    );
    assert!(received[0].violations.is_empty());
}

#[test]
fn call_reads_the_body_from_a_file_and_from_stdin() {
    let mock = mock();
    let dir = std::env::temp_dir().join(format!("gewe-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("body.json");
    std::fs::write(
        &file,
        json!({"appId": "wx_from_file", "qrUrl": QR_URL}).to_string(),
    )
    .unwrap();
    gewe_for(&mock)
        .args(["call", JOIN, &format!("@{}", file.display())])
        .assert()
        .success();
    gewe_for(&mock)
        .args(["call", JOIN, "-"])
        .write_stdin(json!({"qrUrl": QR_URL}).to_string())
        .assert()
        .success();
    let bodies: Vec<Value> = mock
        .server
        .received_for(JOIN)
        .into_iter()
        .map(|r| r.body)
        .collect();
    // A body's own appId wins over GEWE_APP_ID.
    assert_eq!(bodies[0]["appId"], "wx_from_file");
    assert_eq!(bodies[1]["appId"], "wx_cli_app");
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn an_unknown_or_mistyped_field_is_named_and_nothing_is_sent() {
    let mock = mock();
    let out = gewe_for(&mock)
        .args([
            "call",
            JOIN,
            &json!({"qrUrl": QR_URL, "qrColour": "red"}).to_string(),
        ])
        .assert()
        .code(INVALID_REQUEST);
    let err = stderr(out.get_output());
    assert!(err.contains("qrColour"), "{err}");
    assert!(err.contains("nothing was sent"), "{err}");

    let out = gewe_for(&mock)
        .args(["call", JOIN, r#"{"qrUrl": 5}"#])
        .assert()
        .code(INVALID_REQUEST);
    let err = stderr(out.get_output());
    assert!(err.contains("qrUrl"), "{err}");

    for (body, says) in [("{not json", "not JSON"), ("[1]", "must be a JSON object")] {
        let out = gewe_for(&mock)
            .args(["call", JOIN, body])
            .assert()
            .code(INVALID_REQUEST);
        let err = stderr(out.get_output());
        assert!(err.contains(says), "{body}: {err}");
    }
    let out = gewe_for(&mock)
        .args(["call", "/group/noSuchThing"])
        .assert()
        .code(INVALID_REQUEST);
    assert!(stderr(out.get_output()).contains("gewe ops"));
    assert!(
        mock.server.received().is_empty(),
        "nothing reached the mock"
    );
}

#[test]
fn a_gewe_error_exits_with_its_code_and_says_ret_on_stderr() {
    let mock = mock();
    mock.server
        .enqueue(JOIN, MockReply::failure(500, Some("群已满"), None));
    let out = gewe_for(&mock)
        .args(["call", JOIN, &json!({"qrUrl": QR_URL}).to_string()])
        .assert()
        .code(GEWE_ERROR);
    let output = out.get_output();
    assert!(output.stdout.is_empty());
    let err = stderr(output);
    assert!(err.contains("ret 500") && err.contains("群已满"), "{err}");
}

#[test]
fn a_rejected_token_has_its_own_code_and_is_not_repeated() {
    let mock = mock();
    let out = gewe_for(&mock)
        .env("GEWE_TOKEN", "a-wrong-secret-token")
        .args(["call", JOIN, &json!({"qrUrl": QR_URL}).to_string()])
        .assert()
        .code(TOKEN_REJECTED);
    let err = stderr(out.get_output());
    assert!(err.contains("X-GEWE-TOKEN"), "{err}");
    assert!(
        !err.contains("a-wrong-secret-token"),
        "the token is masked: {err}"
    );
}

#[test]
fn the_token_comes_from_a_file_or_the_environment_and_its_absence_is_explained() {
    let mock = mock();
    let out = gewe()
        .env("GEWE_BASE_URL", mock.server.base_url())
        .args([
            "call",
            JOIN,
            &json!({"appId": "a", "qrUrl": QR_URL}).to_string(),
        ])
        .assert()
        .code(1);
    assert!(stderr(out.get_output()).contains("GEWE_TOKEN"));

    let dir = std::env::temp_dir().join(format!("gewe-cli-token-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("token");
    std::fs::write(&file, format!("{}\n", mock.server.token())).unwrap();
    gewe()
        .env("GEWE_BASE_URL", mock.server.base_url())
        .arg("--token-file")
        .arg(&file)
        .args([
            "call",
            JOIN,
            &json!({"appId": "a", "qrUrl": QR_URL}).to_string(),
        ])
        .assert()
        .success();
    std::fs::remove_dir_all(&dir).ok();
    // There is no flag that takes the token itself.
    gewe().args(["--token", "x", "ops"]).assert().code(2);
}

#[test]
fn no_connection_means_nothing_was_sent() {
    // A port that was free a moment ago: the connection is refused.
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    gewe()
        .env(
            "GEWE_BASE_URL",
            format!("http://127.0.0.1:{port}/gewe/v2/api"),
        )
        .env("GEWE_TOKEN", "t")
        .args([
            "call",
            JOIN,
            &json!({"appId": "a", "qrUrl": QR_URL}).to_string(),
        ])
        .assert()
        .code(NOT_SENT);
}

#[test]
fn a_connection_closed_without_an_answer_leaves_the_outcome_unknown() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    // Reads the request, then hangs up without a word; the client may retry, so every
    // connection is treated the same.
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            let mut reader = BufReader::new(stream);
            let mut line = String::new();
            while reader.read_line(&mut line).is_ok_and(|n| n > 2) {
                line.clear();
            }
        }
    });
    let out = gewe()
        .env("GEWE_BASE_URL", format!("http://{addr}/gewe/v2/api"))
        .env("GEWE_TOKEN", "t")
        .args([
            "call",
            JOIN,
            &json!({"appId": "a", "qrUrl": QR_URL}).to_string(),
        ])
        .assert()
        .code(OUTCOME_UNKNOWN);
    assert!(stderr(out.get_output()).contains("may have been carried out"));
}

#[test]
fn an_answer_that_is_not_json_is_unreadable() {
    let mock = mock();
    mock.server.enqueue(
        JOIN,
        MockReply::raw(200, "application/json", "<html>gateway</html>"),
    );
    gewe_for(&mock)
        .args(["call", JOIN, &json!({"qrUrl": QR_URL}).to_string()])
        .assert()
        .code(UNREADABLE);
}

#[test]
fn completions_are_printed_for_each_shell() {
    for shell in ["bash", "zsh", "fish"] {
        let out = gewe().args(["completions", shell]).assert().success();
        let text = String::from_utf8_lossy(&out.get_output().stdout).into_owned();
        assert!(text.contains("gewe") && text.contains("call"), "{shell}");
    }
}

/// `gewe mock` as a child process; killed on drop.
struct MockProcess {
    child: std::process::Child,
    base_url: String,
    token: String,
}

impl Drop for MockProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn gewe_mock() -> MockProcess {
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_gewe"))
        .args(["mock", "--listen", "127.0.0.1:0"])
        .env_remove("GEWE_TOKEN")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("gewe mock starts");
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let mut next = |name: &str| {
        let line = lines.next().expect("a line").expect("text");
        line.strip_prefix(&format!("{name}="))
            .unwrap_or_else(|| panic!("expected {name}=…, got {line}"))
            .to_string()
    };
    let base_url = next("GEWE_BASE_URL");
    let token = next("GEWE_TOKEN");
    MockProcess {
        child,
        base_url,
        token,
    }
}

/// One HTTP/1.1 POST over a plain socket: the status and the body.
fn post(url: &str, headers: &[(&str, &str)], body: &str) -> (u16, String) {
    let rest = url.strip_prefix("http://").expect("an http URL");
    let (host, path) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
    let mut stream = TcpStream::connect(host).expect("connects");
    let mut request = format!(
        "POST {path} HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n",
        body.len()
    );
    for (name, value) in headers {
        request.push_str(&format!("{name}: {value}\r\n"));
    }
    request.push_str("\r\n");
    request.push_str(body);
    stream.write_all(request.as_bytes()).unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).unwrap();
    let status = response[9..12].parse().expect("a status");
    let body = response
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.to_string())
        .unwrap_or_default();
    (status, body)
}

#[test]
fn gewe_mock_serves_plain_http_and_pushes_callbacks() {
    let mock = gewe_mock();
    assert_eq!(mock.token, gewe::mock::DEFAULT_TOKEN);
    let token = [("X-GEWE-TOKEN", mock.token.as_str())];

    // A call answers the documented example.
    let (status, body) = post(
        &format!("{}{JOIN}", mock.base_url),
        &token,
        &json!({"appId": "wx_py", "qrUrl": QR_URL}).to_string(),
    );
    assert_eq!(status, 200, "{body}");
    let answer: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(answer["ret"], 200);
    assert_eq!(
        answer["data"],
        documented_data("group", "joinRoomUsingQRCode", JOIN)
    );

    // A body that does not fit the spec is refused, naming the field.
    let (status, body) = post(
        &format!("{}{JOIN}", mock.base_url),
        &token,
        &json!({"appId": "wx_py", "qrUrl": 1}).to_string(),
    );
    assert_eq!(status, 422, "{body}");
    assert!(body.contains("qrUrl"), "{body}");

    // A wrong token gets GeWe's own answer.
    let (status, body) = post(
        &format!("{}{JOIN}", mock.base_url),
        &[("X-GEWE-TOKEN", "wrong")],
        &json!({"appId": "wx_py", "qrUrl": QR_URL}).to_string(),
    );
    assert_eq!(status, 200);
    assert_eq!(serde_json::from_str::<Value>(&body).unwrap()["ret"], 500);

    // The bot registers its callback URL; an event pushed to the mock arrives there.
    let bot = TcpListener::bind("127.0.0.1:0").unwrap();
    let callback = format!("http://{}/callback", bot.local_addr().unwrap());
    let (status, body) = post(
        &format!("{}/login/setCallback", mock.base_url),
        &token,
        &json!({"token": mock.token, "callbackUrl": callback}).to_string(),
    );
    assert_eq!(status, 200, "{body}");
    let received = std::thread::spawn(move || {
        let (stream, _) = bot.accept().unwrap();
        let mut reader = BufReader::new(stream);
        let mut head = String::new();
        let mut length = 0;
        loop {
            let mut line = String::new();
            reader.read_line(&mut line).unwrap();
            if let Some(v) = line.to_ascii_lowercase().strip_prefix("content-length:") {
                length = v.trim().parse().unwrap();
            }
            if line == "\r\n" {
                break;
            }
            head.push_str(&line);
        }
        let mut body = vec![0; length];
        reader.read_exact(&mut body).unwrap();
        reader
            .get_mut()
            .write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
            .unwrap();
        (head, String::from_utf8(body).unwrap())
    });
    let event = json!({"TypeName": "AddMsg", "Appid": "wx_py", "Data": {"MsgType": 1}});
    let push = format!(
        "{}{}",
        mock.base_url
            .split_once("/gewe/")
            .map_or(mock.base_url.as_str(), |(root, _)| root),
        gewe::mock::PUSH_PATH
    );
    let (status, body) = post(&push, &[], &event.to_string());
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        serde_json::from_str::<Value>(&body).unwrap()["delivered"],
        200
    );
    let (head, delivered) = received.join().unwrap();
    assert!(head.starts_with("POST /callback "), "{head}");
    assert_eq!(serde_json::from_str::<Value>(&delivered).unwrap(), event);
}

#[test]
fn set_callback_takes_the_token_from_the_settings_and_a_missing_app_id_is_explained() {
    let mock = mock();
    gewe_for(&mock)
        .args([
            "call",
            "/login/setCallback",
            r#"{"callbackUrl": "http://127.0.0.1:9/cb"}"#,
        ])
        .assert()
        .success();
    let received = mock.server.received_for("/login/setCallback");
    assert_eq!(received[0].body["token"], mock.server.token());
    assert_eq!(
        mock.server.callback_url().as_deref(),
        Some("http://127.0.0.1:9/cb")
    );

    let out = gewe_for(&mock)
        .env_remove("GEWE_APP_ID")
        .args(["call", "/personal/getProfile"])
        .assert()
        .code(INVALID_REQUEST);
    let err = stderr(out.get_output());
    assert!(
        err.contains("appId") && err.contains("GEWE_APP_ID"),
        "{err}"
    );
}

#[test]
fn the_app_id_comes_from_the_store_when_the_environment_has_none() {
    use gewe::bot::Store;
    let mock = mock();
    let dir = std::env::temp_dir().join(format!("gewe-cli-store-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("bot.redb");
    {
        let store = gewe::bot::FileStore::open(&path).unwrap();
        mock._runtime
            .block_on(store.save_device(gewe::bot::store::DeviceRecord::new("wx_stored")))
            .unwrap();
    }
    gewe_for(&mock)
        .env_remove("GEWE_APP_ID")
        .env("GEWE_STORE", &path)
        .args(["call", "/personal/getProfile"])
        .assert()
        .success();
    assert_eq!(
        mock.server.received_for("/personal/getProfile")[0].body["appId"],
        "wx_stored"
    );
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn the_readme_counts_the_tiers_as_the_operations_have_them() {
    let readme =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md")).unwrap();
    let section = readme
        .split("### Tiers")
        .nth(1)
        .expect("a Tiers section")
        .split("\n## ")
        .next()
        .unwrap();
    let mut listed = Vec::new();
    for line in section.lines() {
        let cells: Vec<&str> = line.trim_matches('|').split('|').map(str::trim).collect();
        if let (Some(tier), Some(Ok(count))) = (
            cells.first().and_then(|c| c.parse::<gewe::Tier>().ok()),
            cells.get(1).map(|c| c.parse::<usize>()),
        ) {
            listed.push((tier, count));
        }
    }
    let counted: Vec<(gewe::Tier, usize)> = gewe::Tier::ALL
        .iter()
        .map(|&t| {
            (
                t,
                gewe::operations()
                    .iter()
                    .filter(|op| op.tier() == t)
                    .count(),
            )
        })
        .collect();
    assert_eq!(listed, counted);
}

#[test]
fn the_readme_lists_every_exit_code_the_tests_check() {
    let readme =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md")).unwrap();
    for (code, says) in [
        (INVALID_REQUEST, "an invalid request"),
        (NOT_SENT, "could not be sent"),
        (GEWE_ERROR, "`ret != 200`"),
        (TOKEN_REJECTED, "rejected the token"),
        (UNREADABLE, "cannot be read"),
        (OUTCOME_UNKNOWN, "the outcome is unknown"),
    ] {
        let row = format!("| {code} | ");
        let line = readme
            .lines()
            .find(|l| l.starts_with(&row))
            .unwrap_or_else(|| panic!("no README row for exit code {code}"));
        assert!(line.contains(says), "{line}");
    }
}

/// A port that was free a moment ago.
fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

#[test]
fn listen_refuses_to_replace_the_callback_url_without_the_flag() {
    let mock = mock();
    let out = gewe_for(&mock)
        .args([
            "listen",
            "--listen",
            "127.0.0.1:0",
            "--url",
            "http://127.0.0.1:9/cb",
        ])
        .assert()
        .code(INVALID_REQUEST);
    let err = stderr(out.get_output());
    assert!(
        err.contains("--replace-callback") && err.contains("one callback URL per token"),
        "{err}"
    );
    assert!(mock.server.received().is_empty(), "nothing was sent");
}

#[test]
fn listen_prints_a_pushed_event_as_one_json_line() {
    let mock = mock();
    let port = free_port();
    let url = format!("http://127.0.0.1:{port}/gewe-callback");
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_gewe"))
        .args([
            "listen",
            "--listen",
            &format!("127.0.0.1:{port}"),
            "--url",
            &url,
            "--replace-callback",
        ])
        .env("GEWE_BASE_URL", mock.server.base_url())
        .env("GEWE_TOKEN", mock.server.token())
        .env_remove("GEWE_APP_ID")
        .env_remove("GEWE_STORE")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("gewe listen starts");
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    while mock.server.callback_url().is_none() {
        assert!(
            std::time::Instant::now() < deadline,
            "gewe listen never set the callback URL"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    assert_eq!(mock.server.callback_url().as_deref(), Some(url.as_str()));
    assert_eq!(
        mock.server.received_for("/login/setCallback")[0].body,
        json!({"token": mock.server.token(), "callbackUrl": url})
    );
    let event = json!({
        "TypeName": "AddMsg", "Appid": "wx_listen", "Wxid": "wxid_bot",
        "Data": {
            "MsgId": 1, "NewMsgId": 7773749793478223190_u64, "MsgType": 1,
            "FromUserName": {"string": "34757816141@chatroom"},
            "ToUserName": {"string": "wxid_bot"},
            "Content": {"string": "wxid_alice:\nhello"}
        }
    });
    let status = mock
        ._runtime
        .block_on(mock.server.push_callback(&event))
        .expect("delivered");
    assert_eq!(status, 200);
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let line = lines.next().expect("a line").expect("text");
    let _ = child.kill();
    let _ = child.wait();
    let printed: Value = serde_json::from_str(&line).expect("one JSON line");
    assert_eq!(printed["kind"], "Text");
    assert_eq!(printed["sender"], "wxid_alice");
    assert_eq!(printed["chat"], "34757816141@chatroom");
    assert_eq!(printed["group"], true);
    assert_eq!(printed["text"], "hello");
    assert_eq!(printed["newMsgId"], "7773749793478223190");
    assert_eq!(printed["delivery"], event);
}

#[test]
fn login_shows_each_step_and_keeps_the_device_in_the_store() {
    let mock = mock();
    mock.server.enqueue(
        "/login/getLoginQrCode",
        MockReply::ok(Some(json!({
            "appId": "wx_new_device", "qrData": "http://weixin.qq.com/x/u1",
            "qrImgBase64": "data:image/jpg;base64,/9j/4AAQ", "uuid": "u1"
        }))),
    );
    for status in [0, 1] {
        mock.server.enqueue(
            "/login/checkLogin",
            MockReply::ok(Some(
                json!({"uuid": "u1", "status": status, "nickName": "G", "loginInfo": null}),
            )),
        );
    }
    mock.server.enqueue(
        "/login/checkLogin",
        MockReply::ok(Some(json!({
            "uuid": "u1", "nickName": "G", "status": 2, "expiredTime": 200,
            "loginInfo": {"uin": 4077276085u64, "wxid": "wxid_g", "nickName": "G", "mobile": "171", "alias": null}
        }))),
    );
    let dir = std::env::temp_dir().join(format!("gewe-cli-login-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let store = dir.join("bot.redb");
    let out = gewe_for(&mock)
        .env_remove("GEWE_APP_ID")
        .env("GEWE_STORE", &store)
        .args(["login", "--region-id", "320000", "--poll-interval", "0.01"])
        .assert()
        .success();
    let output = out.get_output();
    assert_eq!(
        String::from_utf8_lossy(&output.stdout).trim(),
        "GEWE_APP_ID=wx_new_device"
    );
    let err = stderr(output);
    assert!(
        err.contains("scan this QR code") && err.contains("http://weixin.qq.com/x/u1"),
        "{err}"
    );
    assert!(err.contains("logged in as wxid_g"), "{err}");
    // A first login sends no appId; GeWe creates the device.
    assert_eq!(
        mock.server.received_for("/login/getLoginQrCode")[0].body["appId"],
        ""
    );
    assert_eq!(mock.server.received_for("/login/checkLogin").len(), 3);
    // A bot started afterwards finds the device.
    use gewe::bot::Store;
    let file = gewe::bot::FileStore::open(&store).unwrap();
    let device = mock
        ._runtime
        .block_on(file.device())
        .unwrap()
        .expect("a device");
    assert_eq!(device.app_id, "wx_new_device");
    assert_eq!(device.wxid.as_deref(), Some("wxid_g"));
    drop(file);
    std::fs::remove_dir_all(&dir).ok();
}
