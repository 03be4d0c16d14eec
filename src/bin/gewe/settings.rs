//! The settings every command reads: the environment, then the flags that override it.

use crate::exit::{Code, Failure};
use std::path::PathBuf;

/// Settings shared by every command. Each flag overrides its environment variable.
#[derive(clap::Args, Debug)]
pub struct Flags {
    /// GeWe's API base URL (default: GeWe's cloud).
    #[arg(long, env = "GEWE_BASE_URL", global = true, value_name = "URL")]
    pub base_url: Option<String>,
    /// The device's appId, filled into a request that has none.
    #[arg(long, env = "GEWE_APP_ID", global = true, value_name = "APP_ID")]
    pub app_id: Option<String>,
    /// The bot's store (default gewe-bot.redb, as the bot's); its device's appId is used when
    /// no appId is given, and `gewe login` keeps the device there.
    #[arg(long, env = "GEWE_STORE", global = true, value_name = "FILE")]
    pub store: Option<PathBuf>,
    /// Read the token from this file (its first line) instead of GEWE_TOKEN.
    #[arg(long, global = true, value_name = "FILE")]
    pub token_file: Option<PathBuf>,
}

impl Flags {
    /// The token: from `--token-file`, else `GEWE_TOKEN`. Never a flag value, since those show
    /// in `ps` and in shell history.
    pub fn token(&self) -> Result<Option<String>, Failure> {
        if let Some(file) = &self.token_file {
            let text = std::fs::read_to_string(file).map_err(|e| {
                Failure::new(
                    Code::Failure,
                    format!("cannot read the token file {}: {e}", file.display()),
                )
            })?;
            let token = text.lines().next().unwrap_or("").trim().to_string();
            if token.is_empty() {
                return Err(Failure::new(
                    Code::Failure,
                    format!("the token file {} is empty", file.display()),
                ));
            }
            return Ok(Some(token));
        }
        Ok(std::env::var("GEWE_TOKEN")
            .ok()
            .filter(|t| !t.trim().is_empty()))
    }

    /// A client for GeWe with these settings; a missing token is an error naming where to put it.
    pub fn client(&self) -> Result<gewe::Client, Failure> {
        let token = self.token()?.ok_or_else(|| {
            Failure::new(
                Code::Failure,
                "no token: set GEWE_TOKEN or pass --token-file FILE",
            )
        })?;
        let mut builder = gewe::Client::builder().token(token);
        if let Some(url) = &self.base_url {
            builder = builder.base_url(url.clone());
        }
        Ok(builder.build()?)
    }

    /// The store's file: `--store`, `GEWE_STORE`, else the bot's default in the working directory.
    pub fn store_path(&self) -> PathBuf {
        self.store
            .clone()
            .unwrap_or_else(|| PathBuf::from(gewe::bot::DEFAULT_STORE))
    }

    /// The appId: `--app-id` or `GEWE_APP_ID`, else the device in the store, if the store exists.
    pub async fn app_id(&self) -> Result<Option<String>, Failure> {
        if let Some(id) = self.app_id.as_ref().filter(|id| !id.is_empty()) {
            return Ok(Some(id.clone()));
        }
        let path = self.store_path();
        if !path.exists() {
            return Ok(None);
        }
        use gewe::bot::Store;
        let store = gewe::bot::FileStore::open(&path)
            .map_err(|e| Failure::new(Code::Failure, format!("cannot open the store: {e}")))?;
        let device = store
            .device()
            .await
            .map_err(|e| Failure::new(Code::Failure, format!("cannot read the store: {e}")))?;
        Ok(device.map(|d| d.app_id))
    }
}
