//! Join a group by the link inside its QR code (扫码进群).
//!
//! ```text
//! cargo run --example join_room -- <qrUrl>
//! ```
//!
//! Reads `GEWE_TOKEN`, `GEWE_APP_ID` and an optional `GEWE_BASE_URL`. With `GEWE_TOKEN` unset it
//! starts the embedded GeWe mock and runs against that, so it works offline.

use std::process::ExitCode;

#[tokio::main]
async fn main() -> ExitCode {
    let Some(qr_url) = std::env::args().nth(1) else {
        eprintln!("usage: cargo run --example join_room -- <qrUrl>");
        return ExitCode::from(2);
    };
    match run(qr_url).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            if let Some(api) = e
                .downcast_ref::<gewe::Error>()
                .and_then(gewe::Error::as_api)
            {
                eprintln!("ret: {}", api.ret);
                eprintln!("msg: {}", api.msg.as_deref().unwrap_or("null"));
            }
            ExitCode::FAILURE
        }
    }
}

async fn run(qr_url: String) -> Result<(), Box<dyn std::error::Error>> {
    // Keeps the embedded mock alive for the whole run when there is no real token.
    let mut _mock = None;
    let (client, app_id) = match std::env::var("GEWE_TOKEN") {
        Ok(token) => {
            let app_id = std::env::var("GEWE_APP_ID")
                .map_err(|_| "GEWE_APP_ID is not set: use the appId of a logged-in device")?;
            let mut builder = gewe::Client::builder().token(token);
            if let Ok(base_url) = std::env::var("GEWE_BASE_URL") {
                builder = builder.base_url(base_url);
            }
            (builder.build()?, app_id)
        }
        Err(_) => {
            let mock = gewe::mock::MockServer::start().await?;
            println!(
                "GEWE_TOKEN is not set: running against the embedded GeWe mock at {}",
                mock.base_url()
            );
            let client = mock.client()?;
            _mock = Some(mock);
            (
                client,
                std::env::var("GEWE_APP_ID").unwrap_or_else(|_| "wx_mock_app_id".into()),
            )
        }
    };
    let device = client.device(app_id);
    let room = device.group().join_room_using_qr_code(qr_url).await?;
    println!("chatroomId: {}", room.chatroom_id.unwrap_or_default());
    println!("chatroomName: {}", room.chatroom_name.unwrap_or_default());
    Ok(())
}
