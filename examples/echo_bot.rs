//! An echo bot: answers each private text with the same text.
//!
//! `cargo run --example echo_bot` runs offline against the embedded mock when `GEWE_TOKEN` is
//! unset; with it set, it needs `GEWE_CALLBACK_URL` (see `gewe::bot::Settings::from_env`).

use gewe::prelude::*;

#[tokio::main]
async fn main() -> gewe::Result<()> {
    Bot::from_env_or_mock()? // the embedded mock when GEWE_TOKEN is unset; it says so
        .on_text(|cx: Context, msg: TextMessage| async move {
            if msg.is_private() {
                cx.reply(msg.body()).await?;
            }
            Ok(())
        })
        .run()
        .await
}
