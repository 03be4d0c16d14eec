//! The account the mock plays: online or offline, and how it comes back (a `reconnection`,
//! or a re-login someone confirms on the phone).

use super::MockReply;
use serde_json::{json, Value};
use std::collections::VecDeque;

/// GeWe's answer to a call made while the account is offline, as GeWe sends it.
pub(super) fn offline_reply() -> MockReply {
    MockReply::failure(
        500,
        Some("操作失败"),
        Some(json!({"code": "-1", "msg": "微信已离线"})),
    )
}

/// The account's state.
pub(super) struct Account {
    pub(super) online: bool,
    pub(super) reconnection_works: bool,
    /// Logins that will be confirmed, in order: (wxid, nickname).
    pub(super) logins: VecDeque<(String, String)>,
    /// How many devices the mock has created.
    pub(super) devices: u32,
}

impl Default for Account {
    fn default() -> Self {
        Account {
            online: true,
            reconnection_works: true,
            logins: VecDeque::new(),
            devices: 0,
        }
    }
}

impl Account {
    /// The account's own answer to `path`, when it has one: the login flow while a login is
    /// expected; while offline, `checkOnline`, `reconnection`, and GeWe's offline error for
    /// every call outside `/login/`.
    pub(super) fn answer(&mut self, path: &str, body: &Value) -> Option<MockReply> {
        match path {
            // Online, the scripted answer or the documented example answers as before.
            "/login/checkOnline" if !self.online => Some(MockReply::ok(Some(json!(false)))),
            "/login/reconnection" if !self.online => {
                if self.reconnection_works {
                    self.online = true;
                    Some(MockReply::ok(None))
                } else {
                    Some(MockReply::failure(
                        500,
                        Some("重连失败"),
                        Some(json!({"code": "-1", "msg": "请重新登录"})),
                    ))
                }
            }
            "/login/getLoginQrCode" if !self.logins.is_empty() => {
                let app_id = match body.get("appId").and_then(Value::as_str) {
                    Some(id) if !id.is_empty() => id.to_owned(),
                    _ => {
                        self.devices += 1;
                        format!("wx_mock_device_{}", self.devices)
                    }
                };
                Some(MockReply::ok(Some(json!({
                    "appId": app_id,
                    "uuid": "mock-uuid",
                    "qrData": "http://weixin.qq.com/x/mock-login",
                    "qrImgBase64": "data:image/jpg;base64,",
                }))))
            }
            "/login/checkLogin" => {
                let (wxid, nick_name) = self.logins.pop_front()?;
                self.online = true;
                Some(MockReply::ok(Some(json!({
                    "uuid": "mock-uuid",
                    "nickName": nick_name,
                    "status": 2,
                    "loginInfo": {"wxid": wxid, "nickName": nick_name, "uin": 1},
                }))))
            }
            _ if !self.online && !path.starts_with("/login/") => Some(offline_reply()),
            _ => None,
        }
    }
}
