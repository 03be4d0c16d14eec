//! `gewe listen`: each callback delivery as one JSON line on stdout, for `gewe listen | jq`.

use crate::exit::{Code, Failure};
use crate::settings::Flags;
use gewe::events::Event;
use serde_json::{json, Value};
use std::io::Write;
use std::net::SocketAddr;

/// Arguments of `gewe listen`.
#[derive(clap::Args, Debug)]
pub struct Args {
    /// The address to listen on.
    #[arg(long, value_name = "ADDR", default_value = "127.0.0.1:9919")]
    pub listen: SocketAddr,
    /// The callback URL GeWe reaches this listener at; its path is the path listened on. Setting
    /// it needs --replace-callback.
    #[arg(long, value_name = "URL")]
    pub url: Option<String>,
    /// Set the token's callback URL to --url, replacing the one every other bot on the token uses.
    #[arg(long, requires = "url")]
    pub replace_callback: bool,
}

pub async fn run(flags: &Flags, args: Args) -> Result<(), Failure> {
    let path = match &args.url {
        Some(url) if !args.replace_callback => {
            return Err(Failure::new(
                Code::InvalidRequest,
                format!(
                    "not setting the callback URL to {url}: GeWe keeps one callback URL per token, \
                     shared by every bot and device on it, so this would take their callbacks away. \
                     Pass --replace-callback to replace it anyway, or point the callback URL at this \
                     listener in GeWe's console and run gewe listen without --url"
                ),
            ))
        }
        Some(url) => url_path(url).ok_or_else(|| {
            Failure::new(
                Code::InvalidRequest,
                format!("--url {url} is not an http:// or https:// URL"),
            )
        })?,
        None => "/".to_string(),
    };
    // Without --url nothing is called, so no token is needed.
    let client = match &args.url {
        Some(_) => Some(flags.client()?),
        None => None,
    };
    let running = gewe::webhook::WebhookServer::builder()
        .listen(args.listen)
        .path(path)
        .handler(|event: Event| async move {
            print_event(&event);
            Ok::<(), std::convert::Infallible>(())
        })
        .start()
        .await
        .map_err(|e| {
            Failure::new(
                Code::Failure,
                format!("cannot listen on {}: {e}", args.listen),
            )
        })?;
    // Listening first: GeWe sends a test delivery as the URL is set.
    if let (Some(client), Some(url)) = (client, &args.url) {
        let token = flags.token()?.unwrap_or_default();
        client
            .call_json(
                "/login/setCallback",
                json!({"token": token, "callbackUrl": url}),
            )
            .await?;
        eprintln!("gewe listen: the token's callback URL is now {url}");
    }
    eprintln!(
        "gewe listen: on {}{}; Ctrl-C stops",
        running.local_addr(),
        running.callback_path()
    );
    running.run_until(crate::stop::signal()).await;
    Ok(())
}

/// The path of an `http(s)://host[:port]/path` URL; `/` when it has none.
fn url_path(url: &str) -> Option<String> {
    let rest = url
        .strip_prefix("http://")
        .or_else(|| url.strip_prefix("https://"))?;
    let path = rest.find('/').map_or("/", |i| &rest[i..]);
    let path = path.split(['?', '#']).next().unwrap_or("/");
    Some(if path.is_empty() { "/" } else { path }.to_string())
}

/// One line: the classified kind, the device, sender and chat, the text, the delivery whole.
fn print_event(event: &Event) {
    let message = event.as_message();
    let line = json!({
        "kind": event.kind(),
        "appId": event.app_id(),
        "sender": event.sender(),
        "chat": event.chat_id(),
        "group": event.is_group(),
        "fromSelf": event.is_from_self(),
        "newMsgId": event.new_msg_id().map(|id| id.to_string()),
        "text": message.map(|m| m.body()),
        "delivery": event.raw(),
    });
    let mut out = std::io::stdout().lock();
    // A closed stdout (`gewe listen | head -1`) leaves nothing to print to; the listener goes on
    // answering GeWe until it is stopped.
    let _ = writeln!(out, "{}", Value::to_string(&line)).and_then(|()| out.flush());
}
