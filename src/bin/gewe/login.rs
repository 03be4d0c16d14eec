//! `gewe login`: the QR login at the terminal, each step on a spinner; the device kept in the
//! store for the bot.

use crate::exit::{Code, Failure};
use crate::settings::Flags;
use gewe::login::{CaptchaPrompt, LoginOptions, LoginProgress};
use gewe::types::LoginGetLoginQrCodeRequestType as DeviceType;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::io::BufRead;
use std::time::Duration;

/// Arguments of `gewe login`.
#[derive(clap::Args, Debug)]
pub struct Args {
    /// The device type to log in as: `ipad` or `mac`.
    #[arg(long, env = "GEWE_DEVICE_TYPE", default_value = "ipad", value_parser = ["ipad", "mac"])]
    pub device_type: String,
    /// GeWe's code of the phone's province, e.g. 320000.
    #[arg(long, env = "GEWE_REGION_ID", value_name = "CODE")]
    pub region_id: String,
    /// Seconds between the checks whether the code was scanned (GeWe's rule: 5).
    #[arg(long, value_name = "SECONDS", default_value_t = 5.0)]
    pub poll_interval: f64,
}

pub async fn run(flags: &Flags, args: Args) -> Result<(), Failure> {
    let client = flags.client()?;
    let device_type = if args.device_type == "mac" {
        DeviceType::Mac
    } else {
        DeviceType::Ipad
    };
    let poll = Duration::try_from_secs_f64(args.poll_interval)
        .ok()
        .filter(|d| !d.is_zero())
        .ok_or_else(|| {
            Failure::new(
                Code::InvalidRequest,
                format!(
                    "--poll-interval {} is not a positive number of seconds",
                    args.poll_interval
                ),
            )
        })?;
    let spinner = ProgressBar::new_spinner();
    spinner.set_draw_target(ProgressDrawTarget::stderr());
    spinner.set_style(
        ProgressStyle::with_template("{spinner} {msg}")
            .unwrap_or_else(|_| ProgressStyle::default_spinner()),
    );
    spinner.enable_steady_tick(Duration::from_millis(120));
    spinner.set_message("asking GeWe for a QR code");
    let shown = spinner.clone();
    let mut options = LoginOptions::new(device_type, args.region_id)
        .poll_interval(poll)
        .on_progress(move |progress| show(&shown, &progress))
        .captcha(|prompt: CaptchaPrompt| async move { ask_captcha(prompt).await });
    // A re-login passes the device it had: a new device each time risks a ban.
    let previous = flags.app_id().await?;
    if let Some(app_id) = &previous {
        options = options.app_id(app_id.clone());
    }
    let outcome = client.login(options).await;
    spinner.finish_and_clear();
    let outcome = outcome.map_err(|error| {
        let code = error
            .call_error()
            .map_or(Code::Failure, crate::exit::code_of);
        let device = error
            .app_id()
            .map(|id| format!("\nthe device is {id}: pass it next time (GEWE_APP_ID) to keep it"))
            .unwrap_or_default();
        Failure::new(code, format!("login failed: {error}{device}"))
    })?;
    let store = flags.store_path();
    save_device(&store, &outcome).await?;
    eprintln!(
        "gewe login: logged in as {} ({}) on device {}; kept in {}",
        outcome.wxid,
        outcome.nick_name.as_deref().unwrap_or("no nickname"),
        outcome.app_id,
        store.display()
    );
    crate::output::print_line(&format!("GEWE_APP_ID={}", outcome.app_id))
}

/// Each step on the spinner; the QR code above it.
fn show(spinner: &ProgressBar, progress: &LoginProgress) {
    match progress {
        LoginProgress::QrCode {
            qr_data, app_id, ..
        } => {
            spinner.suspend(|| {
                eprintln!("scan this QR code with WeChat to log in device {app_id}:");
                if let Some(data) = qr_data {
                    if let Ok(code) = qrcode::QrCode::new(data.as_bytes()) {
                        eprintln!(
                            "{}",
                            code.render::<qrcode::render::unicode::Dense1x2>()
                                .quiet_zone(true)
                                .build()
                        );
                    }
                    eprintln!("(the code holds {data})");
                }
            });
            spinner.set_message("waiting for a scan");
        }
        LoginProgress::Scanned { nick_name, .. } => spinner.set_message(format!(
            "scanned by {}: confirm the login on the phone",
            nick_name.as_deref().unwrap_or("someone")
        )),
        LoginProgress::QrExpired { .. } => {
            spinner.set_message("the QR code expired; asking for a new one")
        }
        LoginProgress::LoggedIn { wxid, .. } => spinner.set_message(format!("logged in as {wxid}")),
        _ => {}
    }
}

/// Asks for the captcha on stderr and reads it from stdin; none (an empty line, end of input)
/// gives up.
async fn ask_captcha(prompt: CaptchaPrompt) -> Option<String> {
    eprintln!(
        "{}; enter the code shown on the phone:",
        prompt
            .message
            .as_deref()
            .unwrap_or("GeWe asks for a security code")
    );
    tokio::task::spawn_blocking(|| {
        let mut line = String::new();
        std::io::stdin().lock().read_line(&mut line).ok()?;
        let code = line.trim().to_string();
        (!code.is_empty()).then_some(code)
    })
    .await
    .ok()
    .flatten()
}

async fn save_device(
    store: &std::path::Path,
    outcome: &gewe::login::LoginOutcome,
) -> Result<(), Failure> {
    use gewe::bot::Store;
    let failed = |e: gewe::bot::store::StoreError| {
        Failure::new(
            Code::Failure,
            format!(
                "logged in on device {}, but cannot keep it in the store: {e}",
                outcome.app_id
            ),
        )
    };
    let file = gewe::bot::FileStore::open(store).map_err(failed)?;
    let device = gewe::bot::store::DeviceRecord::new(outcome.app_id.clone())
        .with_account(Some(outcome.wxid.clone()), outcome.nick_name.clone());
    file.save_device(device).await.map_err(failed)
}
