//! An echo bot: answers each private text message with the same text.
//!
//! ```text
//! cargo run --example echo_bot
//! ```
//!
//! It logs in (or uses `GEWE_APP_ID`), registers its callback URL with `/login/setCallback`,
//! receives GeWe's callbacks on `GEWE_CALLBACK_LISTEN` (default `127.0.0.1:9919`) and replies
//! through the pacing queue. Its own messages come back as callbacks too; they get no answer.
//!
//! - `GEWE_TOKEN` set: runs against GeWe (or `GEWE_BASE_URL`), and needs `GEWE_CALLBACK_URL`,
//!   the URL GeWe can reach this bot at. A token has one callback URL, so registering an
//!   address GeWe cannot reach would silently break every other bot on the token.
//! - `GEWE_TOKEN` unset: runs against the embedded mock, pushes one sample message through the
//!   whole loop, and keeps serving. Push more with
//!   `curl -X POST <mock>/mock/callbacks -H 'content-type: application/json' -d @event.json`.

use gewe::events::Event;
use gewe::pacing::{Pacer, PacingConfig};
use gewe::webhook::{RunningWebhook, WebhookServer};
use std::net::SocketAddr;
use std::process::ExitCode;

/// What the bot needs to run, from the environment.
pub struct Settings {
    /// `GEWE_TOKEN`; `None` runs against the embedded mock.
    pub token: Option<String>,
    /// `GEWE_APP_ID`: a logged-in device; `None` logs in.
    pub app_id: Option<String>,
    /// `GEWE_BASE_URL`.
    pub base_url: Option<String>,
    /// `GEWE_CALLBACK_LISTEN`.
    pub listen: SocketAddr,
    /// `GEWE_CALLBACK_URL`.
    pub callback_url: Option<String>,
}

impl Settings {
    /// Reads the environment.
    pub fn from_env() -> Result<Settings, String> {
        let var = |k: &str| std::env::var(k).ok().filter(|v| !v.trim().is_empty());
        let listen = var("GEWE_CALLBACK_LISTEN").unwrap_or_else(|| "127.0.0.1:9919".into());
        let listen = listen
            .parse()
            .map_err(|e| format!("GEWE_CALLBACK_LISTEN=`{listen}` is not an address: {e}"))?;
        let settings = Settings {
            token: var("GEWE_TOKEN"),
            app_id: var("GEWE_APP_ID"),
            base_url: var("GEWE_BASE_URL"),
            listen,
            callback_url: var("GEWE_CALLBACK_URL"),
        };
        if settings.token.is_some() && settings.callback_url.is_none() {
            return Err("GEWE_CALLBACK_URL is not set: with GEWE_TOKEN the bot must register a URL GeWe can reach \
                        (a token has one callback URL; a wrong one silently breaks your other bots)"
                .into());
        }
        Ok(settings)
    }
}

/// The bot, running: its webhook and the device it answers for.
pub struct Bot {
    /// The webhook receiving GeWe's callbacks.
    pub webhook: RunningWebhook,
    /// The device.
    pub app_id: String,
}

/// Starts the bot on `client`: logs in unless `app_id` is given, starts the webhook on
/// `listen`, registers `callback_url` (default: the webhook's own address) and echoes.
pub async fn start(
    client: gewe::Client,
    app_id: Option<String>,
    listen: SocketAddr,
    callback_url: Option<String>,
    pacing: PacingConfig,
) -> Result<Bot, Box<dyn std::error::Error>> {
    let app_id = match app_id {
        Some(id) => id,
        None => {
            let options = gewe::login::LoginOptions::new(
                gewe::types::LoginGetLoginQrCodeRequestType::Ipad,
                "320000",
            )
            .on_progress(|p| println!("login: {p:?}"));
            client.login(options).await?.app_id
        }
    };
    let pacer = Pacer::new(pacing);
    let handler_client = client.clone();
    let bot_app_id = app_id.clone();
    let webhook = WebhookServer::builder()
        .listen(listen)
        .handler(move |event: Event| {
            let client = handler_client.clone();
            let pacer = pacer.clone();
            let app_id = bot_app_id.clone();
            async move { echo(&client, &pacer, &app_id, event).await }
        })
        .start()
        .await?;
    let url = callback_url
        .unwrap_or_else(|| format!("http://{}{}", webhook.local_addr(), webhook.callback_path()));
    client.set_callback(url.clone()).await?;
    println!(
        "echo bot for {app_id} listening on {}, callback URL {url}",
        webhook.local_addr()
    );
    Ok(Bot { webhook, app_id })
}

/// Answers a private text message with the same text, through the pacing queue.
async fn echo(
    client: &gewe::Client,
    pacer: &Pacer,
    app_id: &str,
    event: Event,
) -> gewe::Result<()> {
    let Event::Text(msg) = &event else {
        return Ok(());
    };
    if msg.is_from_self() || msg.is_group() {
        return Ok(());
    }
    let Some(to) = msg.sender() else {
        return Ok(());
    };
    let reply = client.device(app_id).message().post_text(to, msg.body());
    pacer.send(app_id, to, reply).await.map(|_| ())
}

#[tokio::main]
async fn main() -> ExitCode {
    match run().await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}

async fn run() -> Result<(), Box<dyn std::error::Error>> {
    let settings = Settings::from_env()?;
    let mut _mock = None;
    let client = match &settings.token {
        Some(token) => {
            let mut builder = gewe::Client::builder().token(token);
            if let Some(url) = &settings.base_url {
                builder = builder.base_url(url);
            }
            builder.build()?
        }
        None => {
            let mock = gewe::mock::MockServer::start().await?;
            println!(
                "GEWE_TOKEN is not set: running against the embedded GeWe mock at {}",
                mock.base_url()
            );
            let client = mock.client()?;
            _mock = Some(mock);
            client
        }
    };
    let bot = start(
        client,
        settings.app_id,
        settings.listen,
        settings.callback_url,
        PacingConfig::default(),
    )
    .await?;
    if let Some(mock) = &_mock {
        let event = sample_text(&bot.app_id, "wxid_friend", "你好, echo");
        mock.push_callback(&event).await?;
        for _ in 0..100 {
            if let Some(reply) = mock.received_for("/message/postText").last() {
                println!(
                    "echoed to {}: {}",
                    reply.body["toWxid"], reply.body["content"]
                );
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
        println!("push more: curl -X POST http://{}{} -H 'content-type: application/json' -d @event.json", mock.addr(), gewe::mock::PUSH_PATH);
    }
    tokio::signal::ctrl_c().await?;
    bot.webhook.shutdown().await;
    Ok(())
}

/// A private text message from `from` to the bot, as GeWe delivers it.
pub fn sample_text(app_id: &str, from: &str, text: &str) -> serde_json::Value {
    serde_json::json!({
        "TypeName": "AddMsg",
        "Appid": app_id,
        "Wxid": "wxid_echo_bot",
        "Data": {
            "MsgId": 1040356095,
            "FromUserName": {"string": from},
            "ToUserName": {"string": "wxid_echo_bot"},
            "MsgType": 1,
            "Content": {"string": text},
            "Status": 3,
            "ImgStatus": 1,
            "ImgBuf": {"iLen": 0},
            "CreateTime": 1705043418,
            "MsgSource": "<msgsource></msgsource>",
            "PushContent": format!("{from} : {text}"),
            "NewMsgId": 7_360_843_532_347_813_421u64,
            "MsgSeq": 640356095
        }
    })
}
