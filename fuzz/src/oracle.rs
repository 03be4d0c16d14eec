//! What the fuzz targets decide from their input and check of the result, written once: the
//! targets (`fuzz_targets/`) and their replay through the public API
//! (`tests/fuzz_regressions.rs`) both include this file, so a regression is judged the same way
//! in both. It depends on `gewe` and `serde_json` alone.
#![allow(dead_code)]

use gewe::events::{Event, MsgType};
use serde_json::value::RawValue;
use serde_json::{json, Value};
use std::collections::BTreeMap;

/// The envelope target's HTTP statuses, chosen by its first byte.
const STATUSES: [u16; 8] = [200, 200, 200, 200, 500, 502, 404, 429];

/// The HTTP status the envelope target's `mode` byte chooses.
pub fn status(mode: u8) -> u16 {
    STATUSES[usize::from(mode) % STATUSES.len()]
}

/// The body's `ret`: a JSON object's member read alone (of a repeated key, the last), invalid
/// UTF-8 replaced, as a number or a string of digits. It reads `ret` as the decoder does, so a
/// field the decoder skips (an out-of-range number, invalid UTF-8) cannot change it.
pub fn body_ret(body: &[u8]) -> Option<i64> {
    let members: BTreeMap<String, Box<RawValue>> =
        serde_json::from_str(&String::from_utf8_lossy(body)).ok()?;
    match serde_json::from_str::<Value>(members.get("ret")?.get()).ok()? {
        Value::Number(n) => n.as_i64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

/// The envelope checks on one decoded answer: success only from HTTP 200 with `ret` 200; a `ret`
/// other than 200 always reaches the error, unchanged; the token never shows in any error's
/// `Display`, `Debug` or `source()` chain.
pub fn check_envelope<T>(status: u16, body: &[u8], token: &str, result: &gewe::Result<T>) {
    let ret = body_ret(body);
    match result {
        Ok(_) => {
            assert_eq!(status, 200, "success from HTTP {status}");
            assert_eq!(ret, Some(200), "success without ret 200");
        }
        Err(error) => {
            if let Some(r) = ret.filter(|&r| r != 200) {
                assert_eq!(error.ret(), Some(r), "ret {r} lost: {error:?}");
            }
            if let gewe::Error::Api(api) = error {
                assert_ne!(api.ret, 200, "an API error with ret 200");
                assert_eq!(Some(api.ret), ret, "ret changed");
            }
            let mut shown = format!("{error}\n{error:?}");
            let mut source = std::error::Error::source(error);
            while let Some(s) = source {
                shown.push_str(&format!("\n{s}\n{s:?}"));
                source = s.source();
            }
            assert!(!shown.contains(token), "the token leaked: {shown}");
        }
    }
}

/// Codes the kind table does not name (and 49 again, the app messages being the most varied).
const UNNAMED_MSG_TYPES: [i64; 4] = [0, -1, 9999, 49];

/// The callback target's delivery: even modes parse `rest` as a whole delivery (`None` when it
/// is not JSON); odd modes put it, as text, into the `Content` (and `MsgSource`) of a message
/// whose `MsgType` the mode picks, in a group when bit 5 is set.
pub fn callback_delivery(mode: u8, rest: &[u8]) -> Option<Value> {
    if mode & 1 == 0 {
        return serde_json::from_slice(rest).ok();
    }
    let content = String::from_utf8_lossy(rest);
    let known = MsgType::KNOWN.len();
    let msg_type = match usize::from(mode >> 1) % (known + UNNAMED_MSG_TYPES.len()) {
        k if k < known => MsgType::KNOWN[k].code(),
        k => UNNAMED_MSG_TYPES[k - known],
    };
    let from = if mode & 0x20 != 0 {
        "34757816141@chatroom"
    } else {
        "wxid_friend"
    };
    Some(json!({
        "TypeName": "AddMsg", "Appid": "wx_app", "Wxid": "wxid_bot",
        "Data": {
            "MsgId": 1, "NewMsgId": 7773749793478223190u64, "MsgType": msg_type,
            "FromUserName": {"string": from}, "ToUserName": {"string": "wxid_bot"},
            "Content": {"string": content}, "PushContent": "在群聊中@了你",
            "MsgSource": content, "CreateTime": 1705043418
        }
    }))
}

/// Classifies `delivery`, checks that the event keeps it whole, and runs every helper.
pub fn check_callback(delivery: &Value) -> Event {
    let event = Event::from_value(delivery.clone());
    assert_eq!(event.raw(), delivery, "the delivery was not kept whole");
    let _ = (event.kind(), event.type_name(), event.app_id());
    let _ = (event.bot_wxid(), event.new_msg_id(), event.msg_id());
    let _ = (event.sender(), event.chat_id(), event.is_group());
    let _ = (event.is_mentioned(), event.is_from_self());
    if let Some(m) = event.as_message() {
        let _ = (m.msg_type(), m.create_time(), m.from_user(), m.to_user());
        let _ = (
            m.content(),
            m.push_content(),
            m.msg_source(),
            m.is_private(),
        );
        let _ = (m.split_content(), m.body(), m.at_list(), m.mentions_all());
        let _ = (
            m.xml_text("msg/appmsg/title"),
            m.xml_attr("msg/emoji", "md5"),
        );
        let _ = (m.xml_text("sysmsg/revokemsg/newmsgid"), m.xml_text(""));
    }
    if let Some(a) = event.as_app() {
        let _ = (
            a.app_type(),
            a.inner_type(),
            a.title(),
            a.description(),
            a.url(),
        );
        let _ = (a.appmsg_text("refermsg/content"), a.quoted_new_msg_id());
        let _ = a.quoted_sender();
    }
    if let Some(s) = event.as_system() {
        let _ = (s.sys_type(), s.text(), s.members(), s.revoked_msg_id());
        let _ = (s.revoked_new_msg_id(), s.patter(), s.patted());
    }
    match &event {
        Event::ContactChanged(c) => {
            let _ = (c.user_name(), c.is_group());
        }
        Event::ContactDeleted(c) => {
            let _ = (c.user_name(), c.is_group());
        }
        Event::Offline(n) => {
            let _ = n.wxid();
        }
        _ => {}
    }
    event
}

/// The statuses the webhook may answer.
pub const WEBHOOK_STATUSES: [u16; 7] = [200, 400, 403, 404, 405, 413, 503];

/// The webhook target's receiver: path `/cb`, secret `s3cret`.
pub const WEBHOOK_PATH: &str = "/cb";
/// The webhook target's secret path segment.
pub const WEBHOOK_SECRET: &str = "s3cret";

/// The request path the webhook target's `mode` picks: the callback path, with a trailing `/`,
/// or a wrong secret.
pub fn webhook_path(mode: u8) -> &'static str {
    match (mode >> 2) & 0x03 {
        0 | 1 => "/cb/s3cret",
        2 => "/cb/s3cret/",
        _ => "/cb/wrong",
    }
}

/// Whether the webhook target's `mode` sends a `GET` (else a `POST`).
pub fn webhook_is_get(mode: u8) -> bool {
    mode & 0x03 == 0x03
}

/// Whether the webhook target's `mode` declares a `Content-Length`.
pub fn webhook_declares_length(mode: u8) -> bool {
    mode & 0x10 != 0
}

/// Whether the webhook target's `mode` sets an allowlist (of the docs' example `Appid`).
pub fn webhook_allowlist(mode: u8) -> Option<Vec<String>> {
    (mode & 0x20 != 0).then(|| vec!["wx_example_app_id".to_owned()])
}
