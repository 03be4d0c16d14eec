//! Login as one call: QR code, polling `checkLogin`, progress events.
//!
//! [`Client::login`] runs GeWe's two-step login: it fetches a QR code
//! ([`login_get_login_qr_code`](Client::login_get_login_qr_code)), hands it to the caller as
//! [`LoginProgress::QrCode`], then polls [`login_check_login`](Client::login_check_login) every
//! [`poll_interval`](LoginOptions::poll_interval) (5 s, as GeWe asks) until
//!
//! - the account is logged in (`loginInfo.wxid` is present, which GeWe documents as the sign of
//!   success): the [`LoginOutcome`] carries the wxid, the nickname and the **`appId` to keep**;
//! - the QR code expires (after `expiredTime` seconds when GeWe sends it, else after
//!   [`qr_lifetime`](LoginOptions::qr_lifetime), about 150 s): a new code is fetched **for the
//!   same `appId`**, up to [`max_qr_codes`](LoginOptions::max_qr_codes) codes in all;
//! - the overall [`timeout`](LoginOptions::timeout) passes, or a call fails.
//!
//! # Keep the `appId`
//!
//! The first login of an account creates a device (`appId`). GeWe warns that creating a new
//! device for the same account again risks a ban: on a re-login (new accounts drop once during
//! their first night) pass the previous one with [`LoginOptions::app_id`]. The `appId` is in
//! [`LoginOutcome::app_id`], and in [`LoginError::app_id`] when the login fails after the device
//! was created.
//!
//! # The verification code (`captchCode`)
//!
//! GeWe's docs say only to pass `captchCode` "if the phone asks for a verification code". The
//! phone's prompt is visible to the person, not to the API; GeWe signals it by failing
//! `checkLogin` with a message about a 验证码 (`ret 500`, `data.msg` "本次登录需要输入安全验证码",
//! as reported in Devo919/Gewechat issue #119; see [`needs_captcha`]). On that answer the flow
//! asks the [`captcha`](LoginOptions::captcha) callback for the code, then polls again with it for
//! the same QR code. Without a callback, or when it returns `None`, the login fails with
//! [`LoginError::CaptchaNeeded`].
//!
//! ```no_run
//! # async fn run(client: gewe::Client, saved_app_id: Option<String>) -> Result<(), gewe::login::LoginError> {
//! use gewe::login::{LoginOptions, LoginProgress};
//! use gewe::types::LoginGetLoginQrCodeRequestType;
//!
//! let mut options = LoginOptions::new(LoginGetLoginQrCodeRequestType::Ipad, "320000")
//!     .on_progress(|p| match p {
//!         LoginProgress::QrCode { qr_data, .. } => { /* show qr_data as a QR code */ }
//!         LoginProgress::Scanned { nick_name, .. } => { /* "confirm on the phone, {nick_name}" */ }
//!         _ => {}
//!     })
//!     .captcha(|prompt| async move {
//!         // Ask the person for the code their phone shows.
//!         Some("123456".to_string())
//!     });
//! if let Some(app_id) = saved_app_id {
//!     options = options.app_id(app_id); // a re-login: the same device
//! }
//! let outcome = client.login(options).await?;
//! // Save outcome.app_id with outcome.wxid: later calls and re-logins need it.
//! # Ok(()) }
//! ```

use crate::types::{
    LoginCheckLoginData, LoginCheckLoginDataLoginInfo, LoginCheckLoginDataStatus,
    LoginCheckLoginRequest, LoginGetLoginQrCodeRequest, LoginGetLoginQrCodeRequestType,
};
use crate::{ApiError, Client};
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;
use tokio::time::Instant;

const GET_QR: &str = "/login/getLoginQrCode";

type ProgressFn = dyn Fn(LoginProgress) + Send + Sync;
type CaptchaFuture = Pin<Box<dyn Future<Output = Option<String>> + Send>>;
type CaptchaFn = dyn Fn(CaptchaPrompt) -> CaptchaFuture + Send + Sync;

/// How to log in: the device type, the network, the pacing and the callbacks of
/// [`Client::login`].
#[derive(Clone)]
pub struct LoginOptions {
    device_type: LoginGetLoginQrCodeRequestType,
    region_id: String,
    app_id: Option<String>,
    proxy_ip: Option<String>,
    ttuid: Option<String>,
    aid: Option<String>,
    auto_sliding: Option<bool>,
    poll_interval: Duration,
    qr_lifetime: Duration,
    max_qr_codes: u32,
    timeout: Duration,
    max_captcha_attempts: u32,
    progress: Option<Arc<ProgressFn>>,
    captcha: Option<Arc<CaptchaFn>>,
}

impl fmt::Debug for LoginOptions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LoginOptions")
            .field("device_type", &self.device_type)
            .field("region_id", &self.region_id)
            .field("app_id", &self.app_id)
            // May hold proxy credentials.
            .field("proxy_ip", &self.proxy_ip.as_ref().map(|_| "…"))
            .field("ttuid", &self.ttuid)
            .field("aid", &self.aid)
            .field("auto_sliding", &self.auto_sliding)
            .field("poll_interval", &self.poll_interval)
            .field("qr_lifetime", &self.qr_lifetime)
            .field("max_qr_codes", &self.max_qr_codes)
            .field("timeout", &self.timeout)
            .field("max_captcha_attempts", &self.max_captcha_attempts)
            .field("progress", &self.progress.is_some())
            .field("captcha", &self.captcha.is_some())
            .finish()
    }
}

impl LoginOptions {
    /// A first login of a `device_type` (`Ipad` is GeWe's recommendation, or `Mac`) in the
    /// region `region_id` (GeWe's province code such as `"320000"`, 江苏; choose the caller's own
    /// province, since a login from another province drops at once).
    ///
    /// Defaults: poll every 5 s, a QR code lives 150 s unless GeWe says otherwise, at most 3 QR
    /// codes, 10 minutes overall, 3 verification codes.
    pub fn new(device_type: LoginGetLoginQrCodeRequestType, region_id: impl Into<String>) -> Self {
        LoginOptions {
            device_type,
            region_id: region_id.into(),
            app_id: None,
            proxy_ip: None,
            ttuid: None,
            aid: None,
            auto_sliding: None,
            poll_interval: Duration::from_secs(5),
            qr_lifetime: Duration::from_secs(150),
            max_qr_codes: 3,
            timeout: Duration::from_secs(600),
            max_captcha_attempts: 3,
            progress: None,
            captcha: None,
        }
    }

    /// The device to log in on: **the `appId` of the account's previous login**. Always pass it
    /// on a re-login: without it GeWe creates a new device, and a new device each time risks a
    /// ban. It must belong to the same WeChat account that scans the code, or the login fails.
    /// An empty string is the same as none.
    pub fn app_id(mut self, app_id: impl Into<String>) -> Self {
        let app_id = app_id.into();
        self.app_id = (!app_id.is_empty()).then_some(app_id);
        self
    }

    /// A socks5 proxy for the login (`socks5://user:password@1.2.3.4:8932`), GeWe's "network
    /// method 2"; sent to both `getLoginQrCode` and `checkLogin`.
    pub fn proxy_ip(mut self, proxy_ip: impl Into<String>) -> Self {
        self.proxy_ip = Some(proxy_ip.into());
        self
    }

    /// GeWe's `ttuid` (its proxy-id tool, used with `regionId`/`proxyIp`). GeWe requires
    /// `autoSliding: false` with it; set [`auto_sliding`](Self::auto_sliding) accordingly.
    pub fn ttuid(mut self, ttuid: impl Into<String>) -> Self {
        self.ttuid = Some(ttuid.into());
        self
    }

    /// GeWe's `aid` (its local proxy client, "network method 3").
    pub fn aid(mut self, aid: impl Into<String>) -> Self {
        self.aid = Some(aid.into());
        self
    }

    /// `checkLogin`'s `autoSliding`: for a mac login, `true` lets GeWe pass the new-device slider
    /// itself (about 10 s, ~90 %); an ipad login must send `false`. Not sent unless set.
    pub fn auto_sliding(mut self, auto_sliding: bool) -> Self {
        self.auto_sliding = Some(auto_sliding);
        self
    }

    /// How long to wait between `checkLogin` calls (default 5 s, as GeWe asks).
    pub fn poll_interval(mut self, interval: Duration) -> Self {
        self.poll_interval = interval;
        self
    }

    /// How long a QR code lives when GeWe's answer has no `expiredTime` (default 150 s).
    pub fn qr_lifetime(mut self, lifetime: Duration) -> Self {
        self.qr_lifetime = lifetime;
        self
    }

    /// How many QR codes to fetch in all before giving up with
    /// [`LoginError::QrCodesExhausted`] (default 3; 0 is read as 1).
    pub fn max_qr_codes(mut self, n: u32) -> Self {
        self.max_qr_codes = n.max(1);
        self
    }

    /// The most the whole login may take (default 10 minutes); then it fails with
    /// [`LoginError::TimedOut`].
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// How many verification codes to ask for per login before giving up (default 3).
    pub fn max_captcha_attempts(mut self, n: u32) -> Self {
        self.max_captcha_attempts = n;
        self
    }

    /// Calls `f` with each [`LoginProgress`] as it happens, on the login's own task. Keep it
    /// quick (forward to a channel for slow work): the login waits for it.
    pub fn on_progress(mut self, f: impl Fn(LoginProgress) + Send + Sync + 'static) -> Self {
        self.progress = Some(Arc::new(f));
        self
    }

    /// Sends each [`LoginProgress`] to `tx` (a closed receiver is ignored).
    pub fn progress_channel(self, tx: tokio::sync::mpsc::UnboundedSender<LoginProgress>) -> Self {
        self.on_progress(move |p| {
            let _ = tx.send(p);
        })
    }

    /// Asks `f` for the verification code when GeWe wants one (see the
    /// [module documentation](self)). `None` (or a blank code) gives up the login with
    /// [`LoginError::CaptchaNeeded`]. The overall [`timeout`](Self::timeout) keeps running while
    /// it waits.
    pub fn captcha<F, Fut>(mut self, f: F) -> Self
    where
        F: Fn(CaptchaPrompt) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Option<String>> + Send + 'static,
    {
        self.captcha = Some(Arc::new(move |prompt| Box::pin(f(prompt)) as CaptchaFuture));
        self
    }
}

/// What [`Client::login`] reports as it goes, in this order per QR code: `QrCode`, then maybe
/// `Scanned`, then `QrExpired` (and the next `QrCode`) or `LoggedIn`.
#[non_exhaustive]
#[derive(Clone, Debug, PartialEq)]
pub enum LoginProgress {
    /// A QR code to show: scanning it with WeChat starts the login.
    QrCode {
        /// The text inside the QR code (a `http://weixin.qq.com/x/…` URL): render it with any QR
        /// encoder.
        qr_data: Option<String>,
        /// The QR code as an image, a `data:image/jpg;base64,…` URL.
        qr_img_base64: Option<String>,
        /// The device the login is for.
        app_id: String,
        /// The QR code's id.
        uuid: String,
        /// 1 for the first QR code of this login, 2 for the one after it expired, and so on.
        number: u32,
    },
    /// The code was scanned: the person must confirm the login on the phone.
    Scanned {
        /// The scanning account's nickname.
        nick_name: Option<String>,
        /// Its avatar URL.
        head_img_url: Option<String>,
    },
    /// The QR code expired unscanned or unconfirmed; a new one follows unless
    /// [`max_qr_codes`](LoginOptions::max_qr_codes) were used.
    QrExpired {
        /// The expired code's id.
        uuid: String,
    },
    /// Logged in.
    LoggedIn {
        /// The device, to keep.
        app_id: String,
        /// The account.
        wxid: String,
        /// Its nickname.
        nick_name: Option<String>,
    },
}

/// What the [`captcha`](LoginOptions::captcha) callback is told.
#[non_exhaustive]
#[derive(Clone, Debug, PartialEq)]
pub struct CaptchaPrompt {
    /// The device the login is for.
    pub app_id: String,
    /// The QR code's id.
    pub uuid: String,
    /// 1 for the first code asked for in this login, 2 when GeWe refused the first, …
    pub attempt: u32,
    /// GeWe's words (`data.msg`, else `msg`), e.g. "本次登录需要输入安全验证码".
    pub message: Option<String>,
}

/// A successful login.
#[non_exhaustive]
#[derive(Clone, Debug, PartialEq)]
pub struct LoginOutcome {
    /// The device: **save it** with the wxid, every later call and every re-login needs it.
    pub app_id: String,
    /// The logged-in account.
    pub wxid: String,
    /// Its nickname.
    pub nick_name: Option<String>,
    /// Its avatar URL, when GeWe sent it.
    pub head_img_url: Option<String>,
    /// Everything of `loginInfo` (uin, mobile, alias, …).
    pub login_info: LoginCheckLoginDataLoginInfo,
    /// How many QR codes it took.
    pub qr_codes: u32,
}

/// Why [`Client::login`] failed. [`app_id`](Self::app_id) tells the device to pass next time.
#[non_exhaustive]
#[derive(Debug)]
pub enum LoginError {
    /// A call failed: GeWe answered `ret != 200` ([`ret`](Self::ret), [`as_api`](Self::as_api)),
    /// or the request got no answer.
    Call {
        /// The client's error.
        source: crate::Error,
        /// The device, when known.
        app_id: Option<String>,
    },
    /// The overall [`timeout`](LoginOptions::timeout) passed.
    TimedOut {
        /// The timeout.
        timeout: Duration,
        /// The device, when known.
        app_id: Option<String>,
    },
    /// [`max_qr_codes`](LoginOptions::max_qr_codes) QR codes expired without a login.
    QrCodesExhausted {
        /// How many were fetched.
        qr_codes: u32,
        /// The device.
        app_id: String,
    },
    /// GeWe asked for a verification code and none was given: no
    /// [`captcha`](LoginOptions::captcha) callback, it returned `None`, or GeWe refused
    /// [`max_captcha_attempts`](LoginOptions::max_captcha_attempts) codes.
    CaptchaNeeded {
        /// How many codes were sent.
        attempts: u32,
        /// GeWe's last answer.
        source: crate::Error,
        /// The device.
        app_id: String,
    },
    /// GeWe's answer lacks a field the flow needs (e.g. no `uuid` with the QR code).
    Incomplete {
        /// The operation's path.
        operation: &'static str,
        /// The missing field.
        field: &'static str,
        /// The device, when known.
        app_id: Option<String>,
    },
}

impl LoginError {
    /// The device the login used or created: pass it to [`LoginOptions::app_id`] next time.
    pub fn app_id(&self) -> Option<&str> {
        match self {
            LoginError::Call { app_id, .. }
            | LoginError::TimedOut { app_id, .. }
            | LoginError::Incomplete { app_id, .. } => app_id.as_deref(),
            LoginError::QrCodesExhausted { app_id, .. }
            | LoginError::CaptchaNeeded { app_id, .. } => Some(app_id),
        }
    }

    /// The client's error, when a call failed.
    pub fn call_error(&self) -> Option<&crate::Error> {
        match self {
            LoginError::Call { source, .. } | LoginError::CaptchaNeeded { source, .. } => {
                Some(source)
            }
            _ => None,
        }
    }

    /// GeWe's error, when it answered `ret != 200`.
    pub fn as_api(&self) -> Option<&ApiError> {
        self.call_error().and_then(crate::Error::as_api)
    }

    /// GeWe's `ret`, when it answered with an envelope.
    pub fn ret(&self) -> Option<i64> {
        self.as_api().map(|e| e.ret)
    }
}

impl fmt::Display for LoginError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LoginError::Call { source, .. } => write!(f, "login failed: {source}"),
            LoginError::TimedOut { timeout, .. } => {
                write!(f, "login timed out after {} s", timeout.as_secs_f64())
            }
            LoginError::QrCodesExhausted { qr_codes, .. } => {
                write!(f, "login failed: {qr_codes} QR code(s) expired unconfirmed")
            }
            LoginError::CaptchaNeeded { attempts, .. } => write!(
                f,
                "login failed: GeWe asks for a verification code (captchCode), {attempts} sent"
            ),
            LoginError::Incomplete {
                operation, field, ..
            } => write!(f, "login failed: {operation} answered without `{field}`"),
        }?;
        if let Some(app_id) = self.app_id() {
            write!(f, " (appId {app_id}: pass it on the next login)")?;
        }
        Ok(())
    }
}

impl std::error::Error for LoginError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.call_error().map(|e| e as _)
    }
}

/// Whether `error` is GeWe asking for the login verification code (`captchCode`): an API error
/// whose `data.msg` or `msg` mentions 验证码.
pub fn needs_captcha(error: &crate::Error) -> bool {
    error.as_api().is_some_and(|api| {
        [api.detail.as_deref(), api.msg.as_deref()]
            .into_iter()
            .flatten()
            .any(|text| text.contains("验证码"))
    })
}

/// Not a string GeWe sends for "absent".
fn present(s: Option<String>) -> Option<String> {
    s.filter(|s| !s.is_empty())
}

impl Client {
    /// Logs in an account: QR code, polling, expiry, verification code, as described in
    /// [`gewe::login`](crate::login). Progress goes to the
    /// [`on_progress`](LoginOptions::on_progress) callback as it happens; nothing is printed.
    ///
    /// Needs a tokio runtime with the timer enabled.
    pub async fn login(&self, options: LoginOptions) -> Result<LoginOutcome, LoginError> {
        let mut app_id = options.app_id.clone();
        let flow = Flow {
            client: self,
            options: &options,
        };
        let timeout = options.timeout;
        match tokio::time::timeout(timeout, flow.run(&mut app_id)).await {
            Ok(result) => result,
            Err(_) => Err(LoginError::TimedOut { timeout, app_id }),
        }
    }
}

struct Flow<'a> {
    client: &'a Client,
    options: &'a LoginOptions,
}

/// How one QR code ended.
enum QrEnd {
    LoggedIn(Box<LoginOutcome>),
    Expired,
}

impl Flow<'_> {
    fn emit(&self, progress: LoginProgress) {
        tracing::debug!(?progress, "gewe login progress");
        if let Some(f) = &self.options.progress {
            f(progress);
        }
    }

    /// The whole flow; `app_id` is kept up to date for the caller, which reads it on timeout.
    async fn run(&self, app_id: &mut Option<String>) -> Result<LoginOutcome, LoginError> {
        let o = self.options;
        let mut captcha_attempts = 0;
        for number in 1..=o.max_qr_codes {
            let request = LoginGetLoginQrCodeRequest {
                aid: o.aid.clone(),
                // GeWe's way of saying "create a device" is an empty appId.
                app_id: app_id.clone().unwrap_or_default(),
                proxy_ip: o.proxy_ip.clone(),
                region_id: o.region_id.clone(),
                ttuid: o.ttuid.clone(),
                type_: o.device_type.clone(),
            };
            let qr = self
                .client
                .login_get_login_qr_code(&request)
                .await
                .map_err(|source| LoginError::Call {
                    source,
                    app_id: app_id.clone(),
                })?;
            if let Some(new) = present(qr.app_id) {
                if app_id.as_deref().is_some_and(|old| old != new) {
                    tracing::warn!(
                        "gewe login: getLoginQrCode answered another appId than the one passed"
                    );
                }
                *app_id = Some(new);
            }
            let incomplete = |field| LoginError::Incomplete {
                operation: GET_QR,
                field,
                app_id: app_id.clone(),
            };
            let Some(device) = app_id.clone() else {
                return Err(incomplete("appId"));
            };
            let Some(uuid) = present(qr.uuid) else {
                return Err(incomplete("uuid"));
            };
            let (qr_data, qr_img_base64) = (present(qr.qr_data), present(qr.qr_img_base64));
            if qr_data.is_none() && qr_img_base64.is_none() {
                return Err(incomplete("qrData"));
            }
            self.emit(LoginProgress::QrCode {
                qr_data,
                qr_img_base64,
                app_id: device.clone(),
                uuid: uuid.clone(),
                number,
            });
            match self
                .poll(&device, &uuid, number, &mut captcha_attempts)
                .await?
            {
                QrEnd::LoggedIn(outcome) => return Ok(*outcome),
                QrEnd::Expired => self.emit(LoginProgress::QrExpired { uuid }),
            }
        }
        Err(LoginError::QrCodesExhausted {
            qr_codes: o.max_qr_codes,
            app_id: app_id.clone().unwrap_or_default(),
        })
    }

    /// Polls `checkLogin` for one QR code until it logs in or expires.
    async fn poll(
        &self,
        app_id: &str,
        uuid: &str,
        number: u32,
        captcha_attempts: &mut u32,
    ) -> Result<QrEnd, LoginError> {
        let o = self.options;
        let mut expires_at = Instant::now().checked_add(o.qr_lifetime);
        let mut scanned = false;
        let mut captch_code: Option<String> = None;
        let mut wait = true;
        loop {
            if wait {
                tokio::time::sleep(o.poll_interval).await;
            }
            wait = true;
            let request = LoginCheckLoginRequest {
                app_id: app_id.to_owned(),
                uuid: uuid.to_owned(),
                auto_sliding: o.auto_sliding,
                captch_code: captch_code.clone(),
                proxy_ip: o.proxy_ip.clone(),
            };
            match self.client.login_check_login(&request).await {
                Ok(data) => {
                    if let Some(outcome) = self.logged_in(app_id, number, &data) {
                        self.emit(LoginProgress::LoggedIn {
                            app_id: outcome.app_id.clone(),
                            wxid: outcome.wxid.clone(),
                            nick_name: outcome.nick_name.clone(),
                        });
                        return Ok(QrEnd::LoggedIn(Box::new(outcome)));
                    }
                    if data.status == Some(LoginCheckLoginDataStatus::Scanned) && !scanned {
                        scanned = true;
                        self.emit(LoginProgress::Scanned {
                            nick_name: present(data.nick_name),
                            head_img_url: present(data.head_img_url),
                        });
                    }
                    if let Some(seconds) = data.expired_time {
                        // Seconds left: GeWe's examples count down (230, 225, …).
                        let left = Duration::from_secs(u64::try_from(seconds).unwrap_or(0));
                        expires_at = Instant::now().checked_add(left);
                    }
                    if expires_at.is_some_and(|at| Instant::now() >= at) {
                        return Ok(QrEnd::Expired);
                    }
                }
                Err(source) if needs_captcha(&source) => {
                    let fail = |source, attempts| LoginError::CaptchaNeeded {
                        attempts,
                        source,
                        app_id: app_id.to_owned(),
                    };
                    let Some(ask) = &o.captcha else {
                        return Err(fail(source, *captcha_attempts));
                    };
                    if *captcha_attempts >= o.max_captcha_attempts {
                        return Err(fail(source, *captcha_attempts));
                    }
                    *captcha_attempts += 1;
                    let message = source
                        .as_api()
                        .and_then(|api| api.detail.clone().or_else(|| api.msg.clone()));
                    let code = ask(CaptchaPrompt {
                        app_id: app_id.to_owned(),
                        uuid: uuid.to_owned(),
                        attempt: *captcha_attempts,
                        message,
                    })
                    .await;
                    match code.map(|c| c.trim().to_owned()).filter(|c| !c.is_empty()) {
                        Some(code) => {
                            captch_code = Some(code);
                            // The person is waiting: send the code at once.
                            wait = false;
                        }
                        None => return Err(fail(source, *captcha_attempts - 1)),
                    }
                }
                Err(source) => {
                    return Err(LoginError::Call {
                        source,
                        app_id: Some(app_id.to_owned()),
                    })
                }
            }
        }
    }

    /// The outcome, when `data` says logged in: GeWe documents `loginInfo.wxid` as the sign.
    fn logged_in(
        &self,
        app_id: &str,
        number: u32,
        data: &LoginCheckLoginData,
    ) -> Option<LoginOutcome> {
        let info = data.login_info.clone()?;
        let wxid = present(info.wxid.clone())?;
        Some(LoginOutcome {
            app_id: app_id.to_owned(),
            wxid,
            nick_name: present(info.nick_name.clone()).or_else(|| present(data.nick_name.clone())),
            head_img_url: present(data.head_img_url.clone()),
            login_info: info,
            qr_codes: number,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn api(msg: Option<&str>, detail: Option<&str>) -> crate::Error {
        crate::Error::Api(Box::new(ApiError {
            operation: "/login/checkLogin".into(),
            status: reqwest::StatusCode::OK,
            ret: 500,
            msg: msg.map(str::to_owned),
            code: Some("-1".into()),
            detail: detail.map(str::to_owned),
            data: None,
        }))
    }

    #[test]
    fn captcha_is_recognized_by_gewe_words() {
        assert!(needs_captcha(&api(
            Some("检测登录失败"),
            Some("本次登录需要输入安全验证码")
        )));
        assert!(needs_captcha(&api(Some("请输入验证码"), None)));
        assert!(!needs_captcha(&api(
            Some("检测登录失败"),
            Some("设备不存在")
        )));
    }
}
