//! The independent check: Stoplight Prism (`prism mock`, pinned in package-lock.json) serves one
//! merge of the unmodified exports in `openapi/`, and must accept every request the client sends.
//! Prism answers 422 to a request that breaks the spec. Prism rounds integers above 2^53, so no
//! id is compared through it.

mod support;

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};
use support::{examples, operations, spec};

/// The short-form calls, generated from `openapi/` with the client (`build/calls_check.rs`).
#[allow(dead_code)]
mod calls {
    include!(concat!(env!("OUT_DIR"), "/gewe_calls_check.rs"));
}

struct Prism(Child);

impl Drop for Prism {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// `node_modules/.bin/prism`, installed with `npm ci` when it is not there yet.
fn prism_bin() -> PathBuf {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let bin = root.join("node_modules/.bin/prism");
    if !bin.exists() {
        let status = Command::new("npm")
            .args(["ci", "--no-audit", "--no-fund"])
            .current_dir(root)
            .status()
            .expect("Prism needs Node.js and npm on PATH (apt-get install nodejs npm)");
        assert!(status.success(), "npm ci failed");
    }
    bin
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .expect("bind")
        .local_addr()
        .expect("addr")
        .port()
}

#[tokio::test]
async fn prism_accepts_every_request_the_client_sends() {
    let dir = std::env::temp_dir().join(format!("gewe-prism-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let file = dir.join("openapi.raw.json");
    std::fs::write(&file, gewe::OPENAPI_SPEC_RAW).expect("write spec");
    let port = free_port();
    let child = Command::new(prism_bin())
        .args(["mock", "--host", "127.0.0.1", "--port", &port.to_string()])
        .arg(&file)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start prism");
    let _prism = Prism(child);
    let deadline = Instant::now() + Duration::from_secs(60);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(Instant::now() < deadline, "Prism did not start within 60 s");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }

    let base = format!("http://127.0.0.1:{port}/gewe/v2/api");
    let client = gewe::Client::builder()
        .token("prism-token")
        .base_url(base)
        .build()
        .expect("client");
    let spec = spec();
    let mut rejected = Vec::new();
    let mut sent = 0;
    for (path, op) in operations(&spec) {
        for (summary, body) in examples(&op["requestBody"]["content"]["application/json"]) {
            // The struct method, then the short-form call (on a device whose appId is never
            // empty, and on the client when the operation is there).
            let mut device_body = body.clone();
            if device_body["appId"] == "" {
                device_body["appId"] = "wx_prism_device".into();
            }
            let results = [
                (
                    "struct",
                    Some(client.call_json(&path, body.clone()).await.map(drop)),
                ),
                (
                    "device call",
                    calls::through_device(&client, &path, device_body).await,
                ),
                (
                    "client call",
                    calls::through_client(&client, &path, body).await,
                ),
            ];
            for (how, result) in results {
                let Some(result) = result else { continue };
                sent += 1;
                match result {
                    Err(gewe::Error::Status(e)) if e.status.as_u16() == 422 => {
                        rejected.push(format!("{path} `{summary}` ({how}): {}", e.snippet));
                    }
                    Err(gewe::Error::Transport(e)) => panic!("{path}: Prism did not answer: {e}"),
                    Err(gewe::Error::InvalidRequest(e)) => {
                        panic!("{path}: the client refused its own example ({how}): {e}")
                    }
                    // Prism's answer is its own; only acceptance of the request is checked here.
                    _ => {}
                }
            }
        }
    }
    assert!(
        rejected.is_empty(),
        "Prism rejected {} of {sent} requests:\n{}",
        rejected.len(),
        rejected.join("\n")
    );
    assert!(
        sent >= 2 * gewe::operations().len(),
        "sent {sent} requests for {} operations",
        gewe::operations().len()
    );
    eprintln!("prism: accepted all {sent} requests");
}
