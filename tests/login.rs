//! `Client::login` against the mock, with scripted `checkLogin` sequences and millisecond
//! intervals: the progress events in order, the outcome or error, and the requests GeWe got.

use gewe::login::{CaptchaPrompt, LoginError, LoginOptions, LoginProgress};
use gewe::mock::{MockReply, MockServer};
use gewe::types::LoginGetLoginQrCodeRequestType;
use gewe::Client;
use serde_json::{json, Value};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::sync::mpsc;

const QR: &str = "/login/getLoginQrCode";
const CHECK: &str = "/login/checkLogin";

async fn setup() -> (MockServer, Client) {
    let mock = MockServer::start().await.expect("mock");
    let client = mock.client().expect("client");
    (mock, client)
}

fn qr(app_id: &str, uuid: &str) -> MockReply {
    MockReply::ok(Some(json!({
        "appId": app_id,
        "qrData": format!("http://weixin.qq.com/x/{uuid}"),
        "qrImgBase64": "data:image/jpg;base64,/9j/4AAQ",
        "uuid": uuid,
    })))
}

fn waiting(status: i64, expired_time: Option<i64>) -> MockReply {
    let mut data = json!({"uuid": "u", "status": status, "loginInfo": null});
    if status == 1 {
        data["nickName"] = json!("G");
        data["headImgUrl"] = json!("http://wx.qlogo.cn/mmhead/g");
    }
    if let Some(t) = expired_time {
        data["expiredTime"] = json!(t);
    }
    MockReply::ok(Some(data))
}

fn logged_in() -> MockReply {
    MockReply::ok(Some(json!({
        "uuid": "u", "headImgUrl": "http://wx.qlogo.cn/mmhead/g", "nickName": "G",
        "expiredTime": 200, "status": 2,
        "loginInfo": {"uin": 4077276085u64, "wxid": "wxid_g", "nickName": "G", "mobile": "171", "alias": null}
    })))
}

/// Fast options, with the progress going to a channel.
fn options() -> (LoginOptions, mpsc::UnboundedReceiver<LoginProgress>) {
    let (tx, rx) = mpsc::unbounded_channel();
    let options = LoginOptions::new(LoginGetLoginQrCodeRequestType::Ipad, "320000")
        .poll_interval(Duration::from_millis(5))
        .timeout(Duration::from_secs(10))
        .progress_channel(tx);
    (options, rx)
}

fn drain(rx: &mut mpsc::UnboundedReceiver<LoginProgress>) -> Vec<LoginProgress> {
    let mut out = Vec::new();
    while let Ok(p) = rx.try_recv() {
        out.push(p);
    }
    out
}

/// The progress as short labels, e.g. `QrCode(wx_new,u1,1)`.
fn labels(events: &[LoginProgress]) -> Vec<String> {
    events
        .iter()
        .map(|p| match p {
            LoginProgress::QrCode {
                app_id,
                uuid,
                number,
                qr_data,
                qr_img_base64,
                ..
            } => {
                assert_eq!(
                    qr_data.as_deref(),
                    Some(format!("http://weixin.qq.com/x/{uuid}").as_str())
                );
                assert!(qr_img_base64
                    .as_deref()
                    .is_some_and(|b| b.starts_with("data:image")));
                format!("QrCode({app_id},{uuid},{number})")
            }
            LoginProgress::Scanned { nick_name, .. } => {
                format!("Scanned({})", nick_name.as_deref().unwrap_or("-"))
            }
            LoginProgress::QrExpired { uuid } => format!("QrExpired({uuid})"),
            LoginProgress::LoggedIn { app_id, wxid, .. } => format!("LoggedIn({app_id},{wxid})"),
            other => format!("{other:?}"),
        })
        .collect()
}

fn bodies(mock: &MockServer, path: &str) -> Vec<Value> {
    mock.received_for(path)
        .into_iter()
        .map(|r| {
            assert!(r.violations.is_empty(), "{path}: {:?}", r.violations);
            r.body
        })
        .collect()
}

#[tokio::test]
async fn first_login_succeeds_after_scan_and_confirm() {
    let (mock, client) = setup().await;
    mock.enqueue(QR, qr("wx_new", "u1"));
    mock.enqueue(CHECK, waiting(0, Some(140)));
    mock.enqueue(CHECK, waiting(1, Some(135)));
    mock.enqueue(CHECK, waiting(1, Some(130)));
    mock.enqueue(CHECK, logged_in());
    let (options, mut rx) = options();

    let outcome = client.login(options).await.expect("logged in");

    assert_eq!(outcome.app_id, "wx_new");
    assert_eq!(outcome.wxid, "wxid_g");
    assert_eq!(outcome.nick_name.as_deref(), Some("G"));
    assert_eq!(outcome.login_info.mobile.as_deref(), Some("171"));
    assert_eq!(outcome.qr_codes, 1);
    assert_eq!(
        labels(&drain(&mut rx)),
        [
            "QrCode(wx_new,u1,1)",
            "Scanned(G)",
            "LoggedIn(wx_new,wxid_g)"
        ]
    );
    // A first login: an empty appId creates the device.
    assert_eq!(
        bodies(&mock, QR),
        [json!({"appId": "", "type": "ipad", "regionId": "320000"})]
    );
    let checks = bodies(&mock, CHECK);
    assert_eq!(checks.len(), 4);
    for body in checks {
        assert_eq!(body, json!({"appId": "wx_new", "uuid": "u1"}));
    }
}

#[tokio::test]
async fn an_expired_code_is_refetched_for_the_same_device() {
    let (mock, client) = setup().await;
    mock.enqueue(QR, qr("wx_new", "u1"));
    mock.enqueue(QR, qr("wx_new", "u2"));
    mock.enqueue(CHECK, waiting(0, Some(3)));
    // GeWe's countdown reached zero: the code is dead.
    mock.enqueue(CHECK, waiting(0, Some(0)));
    mock.enqueue(CHECK, waiting(1, Some(150)));
    mock.enqueue(CHECK, logged_in());
    let (options, mut rx) = options();

    let outcome = client.login(options).await.expect("logged in");

    assert_eq!((outcome.app_id.as_str(), outcome.qr_codes), ("wx_new", 2));
    assert_eq!(
        labels(&drain(&mut rx)),
        [
            "QrCode(wx_new,u1,1)",
            "QrExpired(u1)",
            "QrCode(wx_new,u2,2)",
            "Scanned(G)",
            "LoggedIn(wx_new,wxid_g)"
        ]
    );
    // The second code is for the device the first call created, not a new one.
    let appids: Vec<Value> = bodies(&mock, QR)
        .iter()
        .map(|b| b["appId"].clone())
        .collect();
    assert_eq!(appids, [json!(""), json!("wx_new")]);
    let uuids: Vec<Value> = bodies(&mock, CHECK)
        .iter()
        .map(|b| b["uuid"].clone())
        .collect();
    assert_eq!(uuids, ["u1", "u1", "u2", "u2"]);
}

#[tokio::test]
async fn a_relogin_passes_the_previous_app_id_and_the_network_options() {
    let (mock, client) = setup().await;
    mock.enqueue(QR, qr("wx_prev", "u1"));
    mock.enqueue(CHECK, logged_in());
    let (options, mut rx) = options();
    let options = options
        .app_id("wx_prev")
        .proxy_ip("socks5://u:p@1.2.3.4:1080")
        .auto_sliding(false);

    let outcome = client.login(options).await.expect("logged in");

    assert_eq!(outcome.app_id, "wx_prev");
    assert_eq!(
        labels(&drain(&mut rx)),
        ["QrCode(wx_prev,u1,1)", "LoggedIn(wx_prev,wxid_g)"]
    );
    assert_eq!(
        bodies(&mock, QR),
        [
            json!({"appId": "wx_prev", "type": "ipad", "regionId": "320000",
                "proxyIp": "socks5://u:p@1.2.3.4:1080"})
        ]
    );
    assert_eq!(
        bodies(&mock, CHECK),
        [
            json!({"appId": "wx_prev", "uuid": "u1", "autoSliding": false,
                "proxyIp": "socks5://u:p@1.2.3.4:1080"})
        ]
    );
}

#[tokio::test]
async fn codes_expire_by_lifetime_until_the_bound() {
    let (mock, client) = setup().await;
    mock.enqueue(QR, qr("wx_new", "u1"));
    mock.enqueue(QR, qr("wx_new", "u2"));
    // No expiredTime: the configured lifetime decides.
    mock.respond(CHECK, waiting(0, None));
    let (options, mut rx) = options();
    let options = options
        .qr_lifetime(Duration::from_millis(30))
        .max_qr_codes(2);

    let err = client.login(options).await.expect_err("no login");

    assert!(
        matches!(err, LoginError::QrCodesExhausted { qr_codes: 2, .. }),
        "{err:?}"
    );
    assert_eq!(err.app_id(), Some("wx_new"));
    assert_eq!(
        labels(&drain(&mut rx)),
        [
            "QrCode(wx_new,u1,1)",
            "QrExpired(u1)",
            "QrCode(wx_new,u2,2)",
            "QrExpired(u2)"
        ]
    );
    assert_eq!(mock.received_for(QR).len(), 2);
}

#[tokio::test]
async fn the_overall_timeout_ends_the_login() {
    let (mock, client) = setup().await;
    mock.enqueue(QR, qr("wx_new", "u1"));
    mock.respond(CHECK, waiting(0, Some(150)));
    let (options, mut rx) = options();
    let options = options
        .poll_interval(Duration::from_millis(10))
        .timeout(Duration::from_millis(150));

    let started = Instant::now();
    let err = client.login(options).await.expect_err("timed out");
    let elapsed = started.elapsed();

    assert!(matches!(err, LoginError::TimedOut { .. }), "{err:?}");
    assert_eq!(err.app_id(), Some("wx_new"), "the device is kept");
    assert!(
        elapsed >= Duration::from_millis(150) && elapsed < Duration::from_secs(2),
        "{elapsed:?}"
    );
    assert_eq!(labels(&drain(&mut rx)), ["QrCode(wx_new,u1,1)"]);
    assert!(mock.received_for(CHECK).len() >= 3);
    assert!(
        err.to_string().contains("pass it on the next login"),
        "{err}"
    );
}

#[tokio::test]
async fn a_check_failure_surfaces_with_ret_and_msg() {
    let (mock, client) = setup().await;
    mock.enqueue(QR, qr("wx_new", "u1"));
    mock.enqueue(CHECK, waiting(0, Some(140)));
    mock.enqueue(
        CHECK,
        MockReply::failure(
            500,
            Some("检测登录失败"),
            Some(json!({"code": "-1", "msg": "[wx_new]设备不存在"})),
        ),
    );
    let (options, mut rx) = options();

    let err = client.login(options).await.expect_err("failed");

    assert_eq!(err.ret(), Some(500));
    let api = err.as_api().expect("an API error");
    assert_eq!(api.msg.as_deref(), Some("检测登录失败"));
    assert_eq!(api.detail.as_deref(), Some("[wx_new]设备不存在"));
    assert_eq!(api.operation, CHECK);
    assert_eq!(err.app_id(), Some("wx_new"));
    assert!(matches!(err, LoginError::Call { .. }));
    assert_eq!(labels(&drain(&mut rx)), ["QrCode(wx_new,u1,1)"]);
    assert_eq!(
        mock.received_for(CHECK).len(),
        2,
        "no polling after a failure"
    );
}

#[tokio::test]
async fn a_qr_code_failure_surfaces_with_ret_and_msg() {
    let (mock, client) = setup().await;
    mock.enqueue(
        QR,
        MockReply::failure(
            500,
            Some("获取二维码失败"),
            Some(json!({"code": "-1", "msg": "[wx_gone]设备不存在"})),
        ),
    );
    let (options, mut rx) = options();

    let err = client
        .login(options.app_id("wx_gone"))
        .await
        .expect_err("failed");

    assert_eq!(err.ret(), Some(500));
    assert_eq!(
        err.as_api().and_then(|a| a.msg.as_deref()),
        Some("获取二维码失败")
    );
    assert_eq!(err.app_id(), Some("wx_gone"));
    assert!(drain(&mut rx).is_empty());
    assert!(mock.received_for(CHECK).is_empty());
}

fn captcha_needed() -> MockReply {
    MockReply::failure(
        500,
        Some("检测登录失败"),
        Some(json!({"code": "-1", "msg": "本次登录需要输入安全验证码"})),
    )
}

#[tokio::test]
async fn the_verification_code_is_asked_for_and_sent() {
    let (mock, client) = setup().await;
    mock.enqueue(QR, qr("wx_new", "u1"));
    mock.enqueue(CHECK, waiting(1, Some(140)));
    mock.enqueue(CHECK, captcha_needed());
    mock.enqueue(CHECK, logged_in());
    let prompts: Arc<Mutex<Vec<CaptchaPrompt>>> = Arc::default();
    let seen = Arc::clone(&prompts);
    let (options, mut rx) = options();
    let options = options.captcha(move |prompt| {
        let seen = Arc::clone(&seen);
        async move {
            seen.lock().expect("lock").push(prompt);
            Some(" 123456 ".to_owned())
        }
    });

    let outcome = client.login(options).await.expect("logged in");

    assert_eq!(outcome.wxid, "wxid_g");
    let prompts = prompts.lock().expect("lock").clone();
    assert_eq!(prompts.len(), 1);
    assert_eq!(
        (
            prompts[0].app_id.as_str(),
            prompts[0].uuid.as_str(),
            prompts[0].attempt
        ),
        ("wx_new", "u1", 1)
    );
    assert_eq!(
        prompts[0].message.as_deref(),
        Some("本次登录需要输入安全验证码")
    );
    let checks = bodies(&mock, CHECK);
    assert_eq!(checks.len(), 3);
    assert_eq!(checks[0].get("captchCode"), None);
    assert_eq!(checks[1].get("captchCode"), None);
    assert_eq!(checks[2]["captchCode"], "123456");
    assert_eq!(
        labels(&drain(&mut rx)),
        [
            "QrCode(wx_new,u1,1)",
            "Scanned(G)",
            "LoggedIn(wx_new,wxid_g)"
        ]
    );
}

#[tokio::test]
async fn a_needed_code_without_a_callback_fails_clearly() {
    let (mock, client) = setup().await;
    mock.enqueue(QR, qr("wx_new", "u1"));
    mock.enqueue(CHECK, captcha_needed());
    let (options, _rx) = options();

    let err = client.login(options).await.expect_err("no code");

    assert!(
        matches!(err, LoginError::CaptchaNeeded { attempts: 0, .. }),
        "{err:?}"
    );
    assert_eq!(err.ret(), Some(500));
    assert_eq!(err.app_id(), Some("wx_new"));
}

#[tokio::test]
async fn refused_codes_are_bounded() {
    let (mock, client) = setup().await;
    mock.enqueue(QR, qr("wx_new", "u1"));
    mock.respond(CHECK, captcha_needed());
    let (options, _rx) = options();
    let options = options
        .max_captcha_attempts(2)
        .captcha(|_| async { Some("000000".to_owned()) });

    let err = client.login(options).await.expect_err("refused");

    assert!(
        matches!(err, LoginError::CaptchaNeeded { attempts: 2, .. }),
        "{err:?}"
    );
    assert_eq!(mock.received_for(CHECK).len(), 3);
}

#[test]
fn the_login_future_is_send() {
    fn check<T: Send>(_: &T) {}
    let client = Client::new("t").expect("client");
    let (options, _rx) = options();
    let fut = async move { client.login(options).await };
    check(&fut);
}
