//! `examples/echo_bot.rs` as a user runs it with `GEWE_TOKEN` unset: against the embedded mock,
//! which it says it uses, logging in a mock device, and answering the mock's sample message.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// The example's binary, which `cargo test` builds beside the test binaries.
fn example() -> std::path::PathBuf {
    let exe = std::env::current_exe().expect("the test binary");
    let dir = exe
        .parent()
        .and_then(|deps| deps.parent())
        .expect("target/debug");
    dir.join("examples")
        .join(format!("echo_bot{}", std::env::consts::EXE_SUFFIX))
}

#[test]
fn the_echo_example_runs_offline_and_answers() {
    let store = std::env::temp_dir().join(format!("gewe-echo-example-{}.redb", std::process::id()));
    let _ = std::fs::remove_file(&store);
    let mut child = Command::new(example())
        .env_remove("GEWE_TOKEN")
        .env_remove("GEWE_APP_ID")
        .env("GEWE_CALLBACK_LISTEN", "127.0.0.1:0")
        .env("GEWE_STORE", &store)
        .stdout(Stdio::piped())
        .spawn()
        .expect("the example starts (cargo test builds it)");
    let stdout = child.stdout.take().expect("stdout");
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            let _ = tx.send(line);
        }
    });
    let deadline = Instant::now() + Duration::from_secs(30);
    let mut lines = Vec::new();
    while Instant::now() < deadline {
        let Ok(line) = rx.recv_timeout(Duration::from_millis(100)) else {
            continue;
        };
        let done = line.contains("the bot answered");
        lines.push(line);
        if done {
            break;
        }
    }
    let _ = child.kill();
    let _ = child.wait();
    let _ = std::fs::remove_file(&store);
    let text = lines.join("\n");
    assert!(
        text.contains("GEWE_TOKEN is not set: running against the embedded GeWe mock"),
        "{text}"
    );
    assert!(text.contains("logging in creates a new device"), "{text}");
    assert!(text.contains("logged in as wxid_gewe_mock_bot"), "{text}");
    assert!(
        text.contains(r#"the bot answered "wxid_friend" with "你好, gewe""#),
        "{text}"
    );
}
