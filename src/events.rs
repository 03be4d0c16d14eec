//! Typed callback events: what GeWe POSTs to the callback URL.
//!
//! [`Event::from_value`] classifies one delivery. The JSON shapes are generated from
//! `openapi/ours/callbacks/` ([`CallbackAddMsg`](crate::types::CallbackAddMsg),
//! [`CallbackModContacts`](crate::types::CallbackModContacts), …). Every kind is declared once,
//! in the kind table (`src/events/kinds.rs`); the kind is decided in this order:
//!
//! 0. The delivery is read in any shape it arrives in: GeWe's envelope `{TypeName, Appid,
//!    Wxid, Data}`, the same in snake case (`type_name`, `appid`, `data`, as the self-hosted
//!    gewechat sent it), `MsgSource` and `PushContent` plain or wrapped as `{"string": …}`,
//!    ids as numbers or digit strings, and two flat formats (below).
//! 1. `TypeName`: `AddMsg` is a message (below), `ModContacts` is [`Event::ContactChanged`],
//!    `DelContacts` is [`Event::ContactDeleted`], `Offline` is [`Event::Offline`]. A delivery
//!    without `TypeName` but with a top-level `testMsg` is [`Event::TestMessage`].
//! 2. For `AddMsg`, `Data.MsgType` ([`MsgType`]): 1 text, 3 image, 34 voice, 37 friend
//!    request, 42 contact card, 43 video, 47 emoji, 48 location, 51 status sync; 49 and
//!    10000/10002 go on.
//! 3. `MsgType` 49 (app message): the `<type>` of the `<appmsg>` in `Content.string`
//!    ([`AppType`]) — 5 link (or a group invitation, when the title is 邀请你加入群聊 or the URL
//!    is WeChat's `addchatroombyinvite`), 6 file, 74 file being sent, 33/36 mini program, 57
//!    quote, 2000 transfer, 2001 red packet, 51 Channels (视频号) post, 19 chat history; 40 (a
//!    saved item forwarded on) is what its `<realinnertype>` holds, so 40 holding 19 is a chat
//!    history; any other type is [`Event::OtherApp`].
//! 4. `MsgType` 10002 (XML system message): the `type` attribute of `<sysmsg>` ([`SysType`]) —
//!    `revokemsg`, `pat`, `mmchatroombarannouncememt` (sic), `roomtoolstips`,
//!    `delchatroommember` (a member was invited in, on mac devices), and `sysmsgtemplate`, told
//!    apart by its template: a `kickoutname` link or 移出 is a removal, 解散 a dismissal, 加入 a
//!    join.
//! 5. `MsgType` 10000 (plain-text system message), by its text: 修改群名为 (renamed),
//!    新群主 (owner changed), 你被…移出 (the bot was removed), 移出 (a member was removed),
//!    解散, 加入. These words are those of a Chinese-language phone; other languages give
//!    [`Event::OtherSystem`].
//!
//! The two flat formats are read into GeWe's shape first, then classified as above:
//!
//! - The flat "v2" format a third-party client reports (`{appid, wxid, msgType, msgId,
//!   newMsgId, createTime, content, pushContent, msgSource, fromUser, fromGroup, toUser,
//!   isSelf}`): `msgType` names the `MsgType` (`TEXT` is 1, `IMAGE` 3, …; the app-message names
//!   `LINK`, `FILE`, `QUOTE`, `CHAT_RECORD`, … are 49 and the XML says which; the group-notice
//!   names are 10002 for XML content, 10000 for text; `Offline` is [`Event::Offline`]). A group
//!   message (`fromGroup`) gets GeWe's `wxid:\n` prefix back, so [`Message::sender`],
//!   [`Message::chat_id`] and [`Message::is_mentioned`] answer as for GeWe's own shape;
//!   `createTime` in milliseconds becomes seconds.
//! - The mac format of the docs' group-invitation example (`{wcId, account, messageType,
//!   data: {fromUser, fromGroup, toUser, content, newMsgId, msgId, timestamp, …}}`) has no type
//!   table: a delivery whose sender is the group itself is a plain-text group notice (10000), so
//!   the example, “"阿登"邀请"…"加入了群聊”, is [`Event::MemberJoined`]. `wcId` is the bot's
//!   account; it has no `Appid`.
//!
//! Anything else — another `TypeName` or `MsgType`, a payload that is not an object, one whose
//! fields do not have the documented JSON types, another flat `msgType` name, or a mac delivery
//! that is not a group notice — is [`Event::Unknown`], holding the JSON whole. Classification
//! never fails and never panics, and every variant keeps the whole delivery ([`Event::raw`]).
//!
//! ```
//! use gewe::events::Event;
//! let event = Event::from_value(serde_json::json!({
//!     "TypeName": "AddMsg", "Appid": "wx_app", "Wxid": "wxid_bot",
//!     "Data": {
//!         "MsgId": 1040356095, "NewMsgId": 7773749793478223190_u64, "MsgType": 1,
//!         "FromUserName": {"string": "34757816141@chatroom"},
//!         "ToUserName": {"string": "wxid_bot"},
//!         "Content": {"string": "wxid_alice:\nhello @bot"},
//!         "MsgSource": "<msgsource><atuserlist><![CDATA[,wxid_bot]]></atuserlist></msgsource>"
//!     }
//! }));
//! let Event::Text(msg) = &event else { panic!("a text message") };
//! assert!(msg.is_group());
//! assert_eq!(msg.chat_id(), Some("34757816141@chatroom"));
//! assert_eq!(msg.sender(), Some("wxid_alice"));
//! assert_eq!(msg.body(), "hello @bot");
//! assert!(msg.is_mentioned());
//! assert!(!msg.is_from_self());
//! assert_eq!(event.new_msg_id().unwrap().as_u64(), Some(7773749793478223190));
//! ```

mod classify;
mod codes;
mod contacts;
pub(crate) mod delivery;
mod kinds;
mod message;
mod notice;
mod xml;

pub use codes::{AppType, MsgType, SysType};
pub use contacts::{ContactChange, ContactDeletion, OfflineNotice, TestMessage};
pub use kinds::Event;
pub use message::{AppMessage, Message, SystemMessage};

use crate::Id;
use serde_json::Value;

impl Event {
    /// Classifies a delivery. Never fails: what no kind matches is [`Event::Unknown`].
    pub fn from_value(value: Value) -> Event {
        classify::classify(value)
    }

    /// The message of a message variant; the same as [`Event::as_message`].
    pub fn message(&self) -> Option<&Message> {
        self.as_message()
    }

    /// The envelope's `TypeName` (`AddMsg`, `ModContacts`, `DelContacts`, `Offline`), in
    /// either spelling; `None` for the flat formats, which have none.
    pub fn type_name(&self) -> Option<&str> {
        delivery::type_name(self.raw())
    }

    /// The device (`Appid`) the delivery is for.
    pub fn app_id(&self) -> Option<&str> {
        delivery::app_id(self.raw())
    }

    /// The envelope's `Wxid`: the bot's own account.
    pub fn bot_wxid(&self) -> Option<&str> {
        delivery::bot_wxid(self.raw())
    }

    /// `Data.NewMsgId`, the message's unique id, exact; read where the delivery's shape keeps
    /// it, as the webhook's dedup window reads it.
    pub fn new_msg_id(&self) -> Option<Id> {
        delivery::new_msg_id(self.raw())
    }

    /// `Data.MsgId`, exact.
    pub fn msg_id(&self) -> Option<Id> {
        delivery::msg_id(self.raw())
    }

    /// [`Message::sender`] of a message variant.
    pub fn sender(&self) -> Option<&str> {
        self.as_message().and_then(Message::sender)
    }

    /// [`Message::chat_id`] of a message variant.
    pub fn chat_id(&self) -> Option<&str> {
        self.as_message().and_then(Message::chat_id)
    }

    /// [`Message::is_group`] of a message variant; `false` for the others.
    pub fn is_group(&self) -> bool {
        self.as_message().is_some_and(Message::is_group)
    }

    /// [`Message::is_mentioned`] of a message variant; `false` for the others.
    pub fn is_mentioned(&self) -> bool {
        self.as_message().is_some_and(Message::is_mentioned)
    }

    /// [`Message::is_from_self`] of a message variant; `false` for the others.
    pub fn is_from_self(&self) -> bool {
        self.as_message().is_some_and(Message::is_from_self)
    }
}
