//! The token never shows: every error path is driven with tracing on at TRACE (reqwest and hyper
//! included), and every `Display`, `Debug` and log line is searched for it.

use gewe::mock::{MockReply, MockServer};
use serde_json::json;
use std::io::Write;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

const TOKEN: &str = "c9ffbedb9aeb471db49d92453ea21a17";
const OP: &str = "/contacts/search";

#[derive(Clone, Default)]
struct Log(Arc<Mutex<Vec<u8>>>);

impl Write for Log {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// A server that answers every connection with `response`, then closes.
async fn raw_server(response: String) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        while let Ok((mut sock, _)) = listener.accept().await {
            let mut buf = vec![0u8; 64 * 1024];
            let _ = sock.read(&mut buf).await;
            let _ = sock.write_all(response.as_bytes()).await;
            let _ = sock.shutdown().await;
        }
    });
    format!("http://{addr}/gewe/v2/api")
}

#[tokio::test]
async fn the_token_never_appears_in_errors_or_logs() {
    let log = Log::default();
    let writer = log.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_writer(move || writer.clone())
        .with_ansi(false)
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);

    let mut shown = Vec::new();
    let body = json!({"appId": "wx", "contactsInfo": "a"});

    // Rejected token: GeWe's text repeats it.
    let mock = MockServer::start().await.unwrap();
    let client = gewe::Client::builder()
        .token(TOKEN)
        .base_url(mock.base_url())
        .build()
        .unwrap();
    let mut errors = vec![client.call_json(OP, body.clone()).await.unwrap_err()];
    shown.push(format!("{client:?}"));

    // The token echoed in data, in an HTML error page, in a body that is not JSON, in a decode error.
    let good = MockServer::start_with_token(TOKEN).await.unwrap();
    let client = good.client().unwrap();
    let echoes = [
        MockReply::failure(
            500,
            Some(&format!("bad {TOKEN}")),
            Some(json!({"code": "-1", "msg": TOKEN, TOKEN: [TOKEN]})),
        ),
        MockReply::raw(
            502,
            "text/html",
            format!("<html>proxy saw X-GEWE-TOKEN: {TOKEN}</html>"),
        ),
        MockReply::raw(200, "text/plain", format!("token={TOKEN}")),
        MockReply::json(json!({"ret": 200, "msg": TOKEN, "data": {"sex": TOKEN}})),
    ];
    for reply in echoes {
        good.enqueue(OP, reply);
        errors.push(client.call_json(OP, body.clone()).await.unwrap_err());
    }
    // Timeout, connection closed mid-body, connection refused, refused request, bad config.
    let slow = gewe::Client::builder()
        .token(TOKEN)
        .base_url(good.base_url())
        .timeout(Duration::from_millis(50))
        .build()
        .unwrap();
    good.enqueue(
        OP,
        MockReply::ok(None).with_delay(Duration::from_millis(500)),
    );
    errors.push(slow.call_json(OP, body.clone()).await.unwrap_err());
    let cut = raw_server(format!(
        "HTTP/1.1 200 OK\r\ncontent-length: 999\r\n\r\n{{\"msg\":\"{TOKEN}"
    ))
    .await;
    let client = gewe::Client::builder()
        .token(TOKEN)
        .base_url(cut)
        .build()
        .unwrap();
    errors.push(client.call_json(OP, body.clone()).await.unwrap_err());
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let client = gewe::Client::builder()
        .token(TOKEN)
        .base_url(format!("http://127.0.0.1:{port}/v2/api"))
        .build()
        .unwrap();
    errors.push(client.call_json(OP, body.clone()).await.unwrap_err());
    errors.push(
        client
            .call_json(OP, json!({"appId": TOKEN, "contactsInfo": 1}))
            .await
            .unwrap_err(),
    );
    errors.push(
        gewe::Client::builder()
            .token(format!("{TOKEN}\n"))
            .build()
            .unwrap_err(),
    );

    assert_eq!(errors.len(), 10);
    for e in &errors {
        shown.push(format!("{e}"));
        shown.push(format!("{e:?}"));
        let mut source = std::error::Error::source(e);
        while let Some(s) = source {
            shown.push(format!("{s} {s:?}"));
            source = s.source();
        }
    }
    let logs = String::from_utf8(log.0.lock().unwrap().clone()).unwrap();
    assert!(!logs.is_empty(), "tracing captured nothing");
    for text in shown.iter().chain(std::iter::once(&logs)) {
        assert!(!text.contains(TOKEN), "token leaked in: {text}");
    }
}

/// The log lines `run` writes at WARN and above.
async fn warnings_of<F: std::future::Future<Output = ()>>(run: F) -> Vec<String> {
    let log = Log::default();
    let writer = log.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::WARN)
        .with_writer(move || writer.clone())
        .with_ansi(false)
        .finish();
    let guard = tracing::subscriber::set_default(subscriber);
    run.await;
    drop(guard);
    let text = String::from_utf8(log.0.lock().unwrap().clone()).unwrap();
    text.lines().map(str::to_string).collect()
}

#[tokio::test]
async fn a_token_sent_over_plain_http_off_the_machine_is_warned_once_per_client() {
    let mock = MockServer::start_with_token(TOKEN).await.unwrap();
    let addr = mock
        .base_url()
        .trim_start_matches("http://")
        .split('/')
        .next()
        .unwrap()
        .to_string();
    let port = addr.rsplit(':').next().unwrap().to_string();
    // `gewe.example` stands for a public host; the request still goes to the loopback mock.
    gewe::install_tls_provider();
    let http = reqwest::Client::builder()
        .resolve("gewe.example", addr.parse().unwrap())
        .build()
        .unwrap();
    let body = json!({"appId": "wx", "contactsInfo": "a"});
    let public = || {
        gewe::Client::builder()
            .token(TOKEN)
            .base_url(format!("http://gewe.example:{port}/gewe/v2/api"))
            .http_client(http.clone())
            .build()
            .unwrap()
    };
    let lines = warnings_of(async {
        let client = public();
        for _ in 0..3 {
            client.call_json(OP, body.clone()).await.unwrap();
        }
        client.clone().call_json(OP, body.clone()).await.unwrap();
    })
    .await;
    assert_eq!(lines.len(), 1, "{lines:#?}");
    assert!(
        lines[0].contains("WARN")
            && lines[0].contains("plain HTTP to gewe.example")
            && lines[0].contains("https://"),
        "{}",
        lines[0]
    );
    assert!(!lines[0].contains(TOKEN));
    assert_eq!(mock.received().len(), 4, "every call was sent");

    // A second client warns again; loopback and https never do.
    let lines = warnings_of(async {
        public().call_json(OP, body.clone()).await.unwrap();
        mock.client()
            .unwrap()
            .call_json(OP, body.clone())
            .await
            .unwrap();
    })
    .await;
    assert_eq!(lines.len(), 1, "{lines:#?}");
    let client = gewe::Client::new(TOKEN).unwrap();
    assert_eq!(client.base_url(), "https://api.geweapi.com/gewe/v2/api");
}
