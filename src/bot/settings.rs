//! [`Settings`]: what a bot needs to run, from the environment or set in code.

use super::error::BotError;
use crate::types::LoginGetLoginQrCodeRequestType;
use std::fmt;
use std::net::SocketAddr;
use std::path::PathBuf;

/// The store's file when `GEWE_STORE` is not set, in the working directory.
pub const DEFAULT_STORE: &str = "gewe-bot.redb";

/// Where the bot listens when `GEWE_CALLBACK_LISTEN` is not set.
pub const DEFAULT_LISTEN: SocketAddr = crate::webhook::DEFAULT_LISTEN;

/// What a bot needs to run. [`Settings::from_env`] reads them from the environment; the
/// setters set them in code (tests, a bot with its own configuration).
#[derive(Clone)]
pub struct Settings {
    /// `None` runs against the embedded mock.
    pub(crate) token: Option<String>,
    pub(crate) base_url: Option<String>,
    pub(crate) app_id: Option<String>,
    pub(crate) listen: SocketAddr,
    pub(crate) callback_url: Option<String>,
    pub(crate) device_type: LoginGetLoginQrCodeRequestType,
    pub(crate) region_id: Option<String>,
    pub(crate) store: Option<PathBuf>,
    /// `GEWE_STORE=redis://…`: the Redis store's URL, in place of the file.
    pub(crate) redis_url: Option<String>,
    /// `GEWE_DEPLOYMENT`: the name of the Redis store's keys.
    pub(crate) deployment: Option<String>,
    /// `GEWE_DEDUP_DAYS`: how long the Redis store keeps a handled delivery's dedup key.
    pub(crate) dedup_days: Option<u32>,
    /// `GEWE_PARTITIONS`, `GEWE_LEASE_SECS`, `GEWE_CLAIM_AFTER_SECS`: the Redis workers'.
    pub(crate) partitions: Option<u32>,
    pub(crate) lease: Option<std::time::Duration>,
    pub(crate) claim_after: Option<std::time::Duration>,
    /// `GEWE_SEND_TURN_SECS`: the device's send turn's lifetime.
    pub(crate) send_turn_ttl: Option<std::time::Duration>,
    /// `GEWE_ROLE`: what this process does.
    pub(crate) role: Role,
}

/// What one process of a bot does. With a file store a bot is one process ([`Role::Both`]);
/// with a Redis store its webhook and its handlers may run apart, each in as many processes as
/// wanted (`GEWE_ROLE`).
#[non_exhaustive]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Role {
    /// The webhook and the handlers (`GEWE_ROLE=both`, the default).
    #[default]
    Both,
    /// The webhook only (`GEWE_ROLE=ingress`): it journals each delivery into Redis and
    /// answers GeWe; run any number behind a load balancer. It neither logs in nor handles:
    /// the device must be in the store, or given by `GEWE_APP_ID`.
    Ingress,
    /// The handlers only (`GEWE_ROLE=worker`): one of the deployment's workers, which share
    /// the partitions of the conversations. It listens on no address and needs no
    /// `GEWE_CALLBACK_URL`.
    Worker,
}

impl Role {
    /// Whether the process serves the webhook.
    pub(crate) fn serves_webhook(self) -> bool {
        self != Role::Worker
    }

    /// Whether the process runs handlers.
    pub(crate) fn handles(self) -> bool {
        self != Role::Ingress
    }
}

impl fmt::Debug for Settings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Settings")
            .field("token", &self.token.as_ref().map(|_| "…"))
            .field("base_url", &self.base_url)
            .field("app_id", &self.app_id)
            .field("listen", &self.listen)
            .field("callback_url", &self.callback_url)
            .field("device_type", &self.device_type)
            .field("region_id", &self.region_id)
            .field("store", &self.store)
            .field(
                "redis_url",
                &self.redis_url.as_deref().map(redact_store_url),
            )
            .field("deployment", &self.deployment)
            .field("dedup_days", &self.dedup_days)
            .field("partitions", &self.partitions)
            .field("lease", &self.lease)
            .field("claim_after", &self.claim_after)
            .field("send_turn_ttl", &self.send_turn_ttl)
            .field("role", &self.role)
            .finish()
    }
}

fn var(name: &str) -> Option<String> {
    std::env::var(name)
        .ok()
        .map(|v| v.trim().to_owned())
        .filter(|v| !v.is_empty())
}

impl Settings {
    /// Settings for GeWe with `token`; everything else at its default: GeWe's cloud, no device
    /// yet, listening on [`DEFAULT_LISTEN`], the callback URL the webhook's own address (only
    /// a GeWe on the same machine reaches it: set [`callback_url`](Self::callback_url)), an
    /// ipad login, no region, the store [`DEFAULT_STORE`].
    pub fn new(token: impl Into<String>) -> Self {
        Settings {
            token: Some(token.into()),
            base_url: None,
            app_id: None,
            listen: DEFAULT_LISTEN,
            callback_url: None,
            device_type: LoginGetLoginQrCodeRequestType::Ipad,
            region_id: None,
            store: None,
            redis_url: None,
            deployment: None,
            dedup_days: None,
            partitions: None,
            lease: None,
            claim_after: None,
            send_turn_ttl: None,
            role: Role::Both,
        }
    }

    /// Reads the environment:
    ///
    /// | variable | what | default |
    /// |---|---|---|
    /// | `GEWE_TOKEN` | GeWe's token | required |
    /// | `GEWE_CALLBACK_URL` | the URL GeWe reaches this bot at; the secret path is appended | required, except for a worker (`GEWE_ROLE=worker`) |
    /// | `GEWE_APP_ID` | the device, on a first start with an existing device | the store's |
    /// | `GEWE_BASE_URL` | GeWe's API, e.g. `http://HOST:2531/v2/api` for a self-hosted gewechat | GeWe's cloud |
    /// | `GEWE_CALLBACK_LISTEN` | the address to listen on | `127.0.0.1:9919` |
    /// | `GEWE_DEVICE_TYPE` | `ipad` or `mac`, for a login | `ipad` |
    /// | `GEWE_REGION_ID` | GeWe's code of the phone's province, for a login (`320000`) | none: a login needs it |
    /// | `GEWE_STORE` | the store's file, or a Redis URL `redis://[:PASSWORD@]HOST[:PORT][/DB]` (feature `redis`) | `gewe-bot.redb` |
    /// | `GEWE_DEPLOYMENT` | with a Redis store: the deployment's name (letters, digits, `-`, `_`, `.`), which prefixes its keys, so that bots sharing one Redis keep apart; the processes of one bot share it | required with a Redis store |
    /// | `GEWE_DEDUP_DAYS` | with a Redis store: the days a handled delivery's dedup key is kept | 7 |
    /// | `GEWE_ROLE` | with a Redis store: `both`, `ingress` (the webhook only) or `worker` (the handlers only); see [`Role`] | `both` |
    /// | `GEWE_PARTITIONS` | with a Redis store: how many partitions the conversations are spread over, fixed by the deployment's first process | 16 |
    /// | `GEWE_LEASE_SECS` | with a Redis store: a worker's lease on a partition | 60 |
    /// | `GEWE_CLAIM_AFTER_SECS` | with a Redis store: how long a delivery read by a worker stays its own before another may claim it | 60 |
    /// | `GEWE_SEND_TURN_SECS` | with a Redis store: how long the device's send turn is held without renewal; a worker dying mid-send holds up the device's sends for at most this | 10 |
    ///
    /// # Errors
    /// [`BotError::MissingVariable`] naming `GEWE_TOKEN`, or `GEWE_CALLBACK_URL` (except for a
    /// worker), when unset:
    /// a deployment missing one must not look healthy while sending nothing; naming
    /// `GEWE_DEPLOYMENT` when `GEWE_STORE` is a Redis URL without it;
    /// [`BotError::InvalidSetting`] naming a variable whose value cannot be used.
    pub fn from_env() -> crate::Result<Self> {
        let token = var("GEWE_TOKEN").ok_or(BotError::MissingVariable {
            name: "GEWE_TOKEN",
            hint: "set it to the token of the GeWe console (the examples run offline against \
                   the embedded mock with Bot::from_env_or_mock)",
        })?;
        let mut settings = Self::from_env_without_token()?;
        settings.token = Some(token);
        if settings.callback_url.is_none() && settings.role.serves_webhook() {
            return Err(BotError::MissingVariable {
                name: "GEWE_CALLBACK_URL",
                hint: "set it to the URL GeWe can reach this bot at; a token has one callback \
                       URL, so a wrong one silently breaks every bot on the token",
            }
            .into());
        }
        Ok(settings)
    }

    /// The environment's settings, except `GEWE_TOKEN`, which is left unset (the mock).
    #[cfg_attr(not(feature = "mock"), allow(dead_code))]
    pub(crate) fn from_env_without_token() -> crate::Result<Self> {
        let mut settings = Settings::new("");
        settings.token = None;
        settings.base_url = var("GEWE_BASE_URL");
        settings.app_id = var("GEWE_APP_ID");
        if let Some(listen) = var("GEWE_CALLBACK_LISTEN") {
            settings.listen =
                listen
                    .parse()
                    .map_err(|e: std::net::AddrParseError| BotError::InvalidSetting {
                        name: "GEWE_CALLBACK_LISTEN",
                        value: listen.clone(),
                        reason: format!("not an address such as 0.0.0.0:9919 ({e})"),
                    })?;
        }
        if let Some(url) = var("GEWE_CALLBACK_URL") {
            settings = settings.checked_callback_url("GEWE_CALLBACK_URL", url)?;
        }
        if let Some(device) = var("GEWE_DEVICE_TYPE") {
            settings.device_type = match device.to_ascii_lowercase().as_str() {
                "ipad" => LoginGetLoginQrCodeRequestType::Ipad,
                "mac" => LoginGetLoginQrCodeRequestType::Mac,
                _ => {
                    return Err(BotError::InvalidSetting {
                        name: "GEWE_DEVICE_TYPE",
                        value: device,
                        reason: "it must be ipad or mac".into(),
                    }
                    .into())
                }
            };
        }
        settings.region_id = var("GEWE_REGION_ID");
        if let Some(store) = var("GEWE_STORE") {
            if store.contains("://") {
                settings.redis_url = Some(checked_redis_url(store)?);
                settings.deployment =
                    Some(var("GEWE_DEPLOYMENT").ok_or(BotError::MissingVariable {
                        name: "GEWE_DEPLOYMENT",
                        hint: "a Redis store needs the deployment's name, which prefixes its \
                               keys: the processes of one bot share it, and bots sharing one \
                               Redis must have different ones",
                    })?);
            } else {
                settings.store = Some(PathBuf::from(store));
            }
        }
        if let Some(role) = var("GEWE_ROLE") {
            settings.role = match role.as_str() {
                "both" => Role::Both,
                "ingress" => Role::Ingress,
                "worker" => Role::Worker,
                _ => {
                    return Err(BotError::InvalidSetting {
                        name: "GEWE_ROLE",
                        value: role,
                        reason: "it must be both, ingress or worker".into(),
                    }
                    .into())
                }
            };
        }
        if let Some(n) = var("GEWE_PARTITIONS") {
            match n.parse::<u32>() {
                Ok(p) if (1..=1024).contains(&p) => settings.partitions = Some(p),
                _ => {
                    return Err(BotError::InvalidSetting {
                        name: "GEWE_PARTITIONS",
                        value: n,
                        reason: "it must be a whole number from 1 to 1024".into(),
                    }
                    .into())
                }
            }
        }
        settings.lease = seconds("GEWE_LEASE_SECS")?;
        settings.claim_after = seconds("GEWE_CLAIM_AFTER_SECS")?;
        settings.send_turn_ttl = seconds("GEWE_SEND_TURN_SECS")?;
        if let Some(days) = var("GEWE_DEDUP_DAYS") {
            match days.parse::<u32>() {
                Ok(n) if n > 0 => settings.dedup_days = Some(n),
                _ => {
                    return Err(BotError::InvalidSetting {
                        name: "GEWE_DEDUP_DAYS",
                        value: days,
                        reason: "it must be a whole number of days above 0".into(),
                    }
                    .into())
                }
            }
        }
        Ok(settings)
    }

    fn checked_callback_url(mut self, name: &'static str, url: String) -> crate::Result<Self> {
        if callback_path(&url).is_none() {
            return Err(BotError::InvalidSetting {
                name,
                value: url,
                reason: "it must be an http:// or https:// URL without a query".into(),
            }
            .into());
        }
        self.callback_url = Some(url.trim_end_matches('/').to_owned());
        Ok(self)
    }

    /// GeWe's base URL (default GeWe's cloud).
    pub fn base_url(mut self, url: impl Into<String>) -> Self {
        self.base_url = Some(url.into());
        self
    }

    /// The device to run as, when the store has none yet.
    pub fn app_id(mut self, app_id: impl Into<String>) -> Self {
        self.app_id = Some(app_id.into());
        self
    }

    /// The address to listen on; port 0 picks a free one.
    pub fn listen(mut self, addr: SocketAddr) -> Self {
        self.listen = addr;
        self
    }

    /// The URL GeWe reaches the bot at; the bot appends its secret path.
    ///
    /// # Errors
    /// [`BotError::InvalidSetting`] when it is not an `http://` or `https://` URL without a
    /// query.
    pub fn callback_url(self, url: impl Into<String>) -> crate::Result<Self> {
        self.checked_callback_url("callback_url", url.into())
    }

    /// The device type for a login (default ipad, GeWe's recommendation).
    pub fn device_type(mut self, device_type: LoginGetLoginQrCodeRequestType) -> Self {
        self.device_type = device_type;
        self
    }

    /// GeWe's region code of the phone's province, for a login (`"320000"`).
    pub fn region_id(mut self, region_id: impl Into<String>) -> Self {
        self.region_id = Some(region_id.into());
        self
    }

    /// What this process does (default [`Role::Both`]); the other roles need a Redis store.
    pub fn role(mut self, role: Role) -> Self {
        self.role = role;
        self
    }

    /// The store's file (default [`DEFAULT_STORE`] in the working directory).
    pub fn store_path(mut self, path: impl Into<PathBuf>) -> Self {
        self.store = Some(path.into());
        self
    }

    /// Keeps the store in Redis at `url` (`redis://[:PASSWORD@]HOST[:PORT][/DB]`), under the
    /// keys of `deployment`, in place of the file: see [`RedisStore`](super::RedisStore).
    #[cfg(feature = "redis")]
    pub fn redis_store(mut self, url: impl Into<String>, deployment: impl Into<String>) -> Self {
        self.redis_url = Some(url.into());
        self.deployment = Some(deployment.into());
        self
    }

    /// With a Redis store: how many partitions the conversations are spread over (default
    /// [`DEFAULT_PARTITIONS`](super::DEFAULT_PARTITIONS)); see
    /// [`RedisStoreBuilder::partitions`](super::RedisStoreBuilder::partitions).
    #[cfg(feature = "redis")]
    pub fn partitions(mut self, partitions: u32) -> Self {
        self.partitions = Some(partitions);
        self
    }

    /// With a Redis store: a worker's lease on a partition (default
    /// [`DEFAULT_LEASE`](super::DEFAULT_LEASE)); see
    /// [`RedisStoreBuilder::lease`](super::RedisStoreBuilder::lease).
    #[cfg(feature = "redis")]
    pub fn lease(mut self, lease: std::time::Duration) -> Self {
        self.lease = Some(lease);
        self
    }

    /// With a Redis store: how long a delivery read by a worker stays its own before another
    /// may claim it (default [`DEFAULT_CLAIM_AFTER`](super::DEFAULT_CLAIM_AFTER)); see
    /// [`RedisStoreBuilder::claim_after`](super::RedisStoreBuilder::claim_after).
    #[cfg(feature = "redis")]
    pub fn claim_after(mut self, idle: std::time::Duration) -> Self {
        self.claim_after = Some(idle);
        self
    }

    /// With a Redis store: how long the device's send turn is held without renewal (default
    /// [`DEFAULT_SEND_TURN_TTL`](super::DEFAULT_SEND_TURN_TTL)); see
    /// [`RedisStoreBuilder::send_turn_ttl`](super::RedisStoreBuilder::send_turn_ttl).
    #[cfg(feature = "redis")]
    pub fn send_turn_ttl(mut self, ttl: std::time::Duration) -> Self {
        self.send_turn_ttl = Some(ttl);
        self
    }

    /// With a Redis store: how many days a handled delivery's dedup key is kept (default
    /// [`DEFAULT_DEDUP_DAYS`](super::DEFAULT_DEDUP_DAYS)).
    #[cfg(feature = "redis")]
    pub fn dedup_days(mut self, days: u32) -> Self {
        self.dedup_days = Some(days);
        self
    }
}

/// A duration in seconds (`1.5` is allowed) from the variable `name`, when set.
fn seconds(name: &'static str) -> crate::Result<Option<std::time::Duration>> {
    let Some(value) = var(name) else {
        return Ok(None);
    };
    match value.parse::<f64>() {
        Ok(s) if s.is_finite() && (0.01..=86_400.0).contains(&s) => {
            Ok(Some(std::time::Duration::from_secs_f64(s)))
        }
        _ => Err(BotError::InvalidSetting {
            name,
            value,
            reason: "it must be a number of seconds from 0.01 to 86400".into(),
        }
        .into()),
    }
}

/// `GEWE_STORE`'s URL, when this build can use it.
fn checked_redis_url(url: String) -> crate::Result<String> {
    let shown = redact_store_url(&url);
    if !url.starts_with("redis://") {
        return Err(BotError::InvalidSetting {
            name: "GEWE_STORE",
            value: shown,
            reason: "give a file path, or a Redis URL redis://[:PASSWORD@]HOST[:PORT][/DB]".into(),
        }
        .into());
    }
    if cfg!(feature = "redis") {
        Ok(url)
    } else {
        Err(BotError::InvalidSetting {
            name: "GEWE_STORE",
            value: shown,
            reason: "this build has no Redis store: enable gewe's `redis` feature, or give a \
                     file path"
                .into(),
        }
        .into())
    }
}

/// A store URL without its password, for messages.
pub(crate) fn redact_store_url(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_owned();
    };
    let authority_end = rest.find('/').unwrap_or(rest.len());
    match rest[..authority_end].rfind('@') {
        Some(at) => format!("{scheme}://{}", &rest[at + 1..]),
        None => url.to_owned(),
    }
}

/// The path part of an `http(s)://host[:port]/path` URL (`/` when it has none); `None` when it
/// is not such a URL.
pub(crate) fn callback_path(url: &str) -> Option<String> {
    let rest = url
        .strip_prefix("http://")
        .or_else(|| url.strip_prefix("https://"))?;
    if rest.contains(['?', '#']) {
        return None;
    }
    let (host, path) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
    if host.is_empty() {
        return None;
    }
    let path = path.trim_end_matches('/');
    Some(if path.is_empty() {
        "/".to_owned()
    } else {
        path.to_owned()
    })
}

#[cfg(test)]
mod tests {
    use super::{callback_path, redact_store_url};

    #[test]
    fn store_urls_lose_their_password() {
        assert_eq!(
            redact_store_url("redis://:pw@host:6379/0"),
            "redis://host:6379/0"
        );
        assert_eq!(redact_store_url("redis://user:pw@host/"), "redis://host/");
        assert_eq!(redact_store_url("redis://host:6379"), "redis://host:6379");
        assert_eq!(redact_store_url("redis://host/a@b"), "redis://host/a@b");
    }

    #[test]
    fn callback_paths() {
        assert_eq!(
            callback_path("https://bot.example.com").as_deref(),
            Some("/")
        );
        assert_eq!(callback_path("http://1.2.3.4:9919/").as_deref(), Some("/"));
        assert_eq!(
            callback_path("https://example.com/gewe/cb/").as_deref(),
            Some("/gewe/cb")
        );
        assert_eq!(callback_path("ftp://example.com/x"), None);
        assert_eq!(callback_path("https:///x"), None);
        assert_eq!(callback_path("https://example.com/?a=1"), None);
    }
}
