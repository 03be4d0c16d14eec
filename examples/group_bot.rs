//! A group bot: commands (one takes back the bot's last message), answers to @-mentions in
//! groups, and an alert when the device's state changes.
//!
//! `cargo run --example group_bot` runs offline against the embedded mock when `GEWE_TOKEN` is
//! unset; push it a group message through the mock (the command it prints) to try it.

use gewe::bot::{Bot, BotCommands, Context, DeviceState, Filter, StateChange, TextMessage};

gewe::commands! {
    /// What the bot understands.
    enum Command {
        /// Lists the commands.
        Help = "help",
        /// Rolls a die with this many sides.
        Roll(u32) = "roll",
        /// Takes back the bot's last message in this chat.
        Undo = "undo",
    }
}

/// Who hears about the device's state.
const ADMIN: &str = "wxid_admin";

#[tokio::main]
async fn main() -> gewe::Result<()> {
    Bot::from_env_or_mock()?
        .on_command(
            |cx: Context, command: Command, _msg: TextMessage| async move {
                match command {
                    Command::Help => {
                        cx.reply(Command::help()).await?;
                    }
                    Command::Roll(sides) => {
                        let roll = fastrand::u32(1..=sides.max(1));
                        cx.quote(format!("🎲 {roll} (1–{sides})")).await?;
                    }
                    // GeWe sends no callback for the bot's own messages: the store's send
                    // records are where the last one is found, also after a restart.
                    Command::Undo => {
                        if let Some(last) = cx.recent_sends(1).await?.pop() {
                            cx.revoke(&last).await?;
                        }
                    }
                }
                Ok(())
            },
        )
        .on(
            Filter::group().and(Filter::mentioned()),
            |cx: Context, msg: TextMessage| async move {
                cx.reply_at(format!("you said: {}", msg.body())).await?;
                Ok(())
            },
        )
        .on_state_change(|cx: Context, change: StateChange| async move {
            eprintln!(
                "device {} is {} ({})",
                change.app_id, change.to, change.reason
            );
            // Only an online device can send the alert; the log above is the rest's record.
            if change.to == DeviceState::Online {
                cx.send_text(ADMIN, format!("back online after {}", change.reason))
                    .await?;
            }
            Ok(())
        })
        .run()
        .await
}
