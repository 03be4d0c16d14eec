//! GeWe's callback deliveries, classified into `gewe::events::Event`.
//!
//! Input: one byte of mode, then bytes. Even modes parse the bytes as a whole delivery; odd modes
//! put them, as text, into the `Content` of a message delivery (the XML reader's input), with a
//! `MsgType` from the mode: the kind table's codes (`MsgType::KNOWN`), then codes it does not
//! name. Checks beyond "no panic": the event keeps the delivery whole
//! (`raw()` equals the input), and every helper runs.
#![no_main]

use gewe::events::{Event, MsgType};
use libfuzzer_sys::fuzz_target;
use serde_json::{json, Value};

/// Codes the table does not name (and 49 again, the app messages being the most varied).
const UNNAMED_MSG_TYPES: [i64; 4] = [0, -1, 9999, 49];

/// The `MsgType` of odd mode `mode`.
fn msg_type(mode: u8) -> i64 {
    let known = MsgType::KNOWN.len();
    match usize::from(mode >> 1) % (known + UNNAMED_MSG_TYPES.len()) {
        k if k < known => MsgType::KNOWN[k].code(),
        k => UNNAMED_MSG_TYPES[k - known],
    }
}

fuzz_target!(|data: &[u8]| {
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    let delivery = if mode % 2 == 0 {
        match serde_json::from_slice::<Value>(rest) {
            Ok(v) => v,
            Err(_) => return,
        }
    } else {
        let content = String::from_utf8_lossy(rest);
        let msg_type = msg_type(mode);
        let from = if mode & 0x20 != 0 {
            "34757816141@chatroom"
        } else {
            "wxid_friend"
        };
        json!({
            "TypeName": "AddMsg",
            "Appid": "wx_app",
            "Wxid": "wxid_bot",
            "Data": {
                "MsgId": 1, "NewMsgId": 7773749793478223190u64, "MsgType": msg_type,
                "FromUserName": {"string": from}, "ToUserName": {"string": "wxid_bot"},
                "Content": {"string": content}, "PushContent": "在群聊中@了你",
                "MsgSource": content, "CreateTime": 1705043418
            }
        })
    };
    let event = Event::from_value(delivery.clone());
    assert_eq!(event.raw(), &delivery, "the delivery was not kept whole");
    touch(&event);
});

fn touch(event: &Event) {
    let _ = (
        event.kind(),
        event.type_name(),
        event.app_id(),
        event.bot_wxid(),
    );
    let _ = (
        event.new_msg_id(),
        event.msg_id(),
        event.sender(),
        event.chat_id(),
    );
    let _ = (event.is_group(), event.is_mentioned(), event.is_from_self());
    if let Some(m) = event.message() {
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
    match event {
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
}
