//! The kind table: every kind of [`Event`], once. The enum, [`Event::kind`], [`Event::KINDS`],
//! [`Event::raw`], [`Event::as_message`], [`Event::as_app`], [`Event::as_system`], and the
//! classifier's code → kind lookups all derive from the one table at the end of this file.
//!
//! A kind decided by a code (`MsgType`, appmsg `type`, sysmsg `type`) names the code's pattern
//! (`= AppType::Quote`); a kind with no pattern is chosen by a rule in `classify.rs`.

use super::codes::{AppType, MsgType, SysType};
use super::TestMessage;
use super::{AppMessage, ContactChange, ContactDeletion, Message, OfflineNotice, SystemMessage};
use serde_json::Value;

/// `matches!(value, pattern)`, or `false` for a kind without a pattern.
macro_rules! code_matches {
    ($value:expr) => {
        false
    };
    ($value:expr, $pattern:pat) => {
        matches!($value, $pattern)
    };
}

/// Expands the kind table; see the module docs.
macro_rules! event_kinds {
    (
        messages { $( $(#[$mmeta:meta])* $msg:ident $(= $mpat:pat)?, )* }
        apps { $( $(#[$ameta:meta])* $app:ident $(= $apat:pat)?, )* }
        systems { $( $(#[$smeta:meta])* $sys:ident $(= $spat:pat)?, )* }
        others { $( $(#[$ometa:meta])* $other:ident($payload:ty), )* }
    ) => {
        /// One callback delivery from GeWe, classified. See the [module docs](super) for the
        /// rules.
        ///
        /// Every variant keeps the whole delivery: [`Event::raw`]. Message variants hold a
        /// [`Message`] (or an [`AppMessage`] / [`SystemMessage`], which deref to one), whose
        /// helpers answer who sent it, in which chat, whether the bot was @-mentioned, and
        /// whether the bot sent it itself; [`Event::message`] reaches it from any message
        /// variant, [`Event::as_app`] and [`Event::as_system`] the app and system messages.
        #[non_exhaustive]
        #[derive(Debug, Clone, PartialEq)]
        pub enum Event {
            $( $(#[$mmeta])* $msg(Message), )*
            $( $(#[$ameta])* $app(AppMessage), )*
            $( $(#[$smeta])* $sys(SystemMessage), )*
            $( $(#[$ometa])* $other($payload), )*
        }

        impl Event {
            /// The name of every kind, as [`Event::kind`] gives it, in declaration order.
            pub const KINDS: &'static [&'static str] = &[
                $(stringify!($msg),)* $(stringify!($app),)* $(stringify!($sys),)*
                $(stringify!($other),)*
            ];

            /// The variant's name (`"Text"`, `"Revoke"`, `"Unknown"`, …), for logs and
            /// metrics.
            pub fn kind(&self) -> &'static str {
                match self {
                    $( Event::$msg(_) => stringify!($msg), )*
                    $( Event::$app(_) => stringify!($app), )*
                    $( Event::$sys(_) => stringify!($sys), )*
                    $( Event::$other(_) => stringify!($other), )*
                }
            }

            /// The raw JSON of the delivery, as received.
            pub fn raw(&self) -> &Value {
                match self {
                    $( Event::$msg(m) => m.raw(), )*
                    $( Event::$app(a) => a.raw(), )*
                    $( Event::$sys(s) => s.raw(), )*
                    $( Event::$other(o) => Delivered::raw(o), )*
                }
            }

            /// The message, for every `AddMsg` variant (an [`AppMessage`] or
            /// [`SystemMessage`] gives the [`Message`] it wraps); `None` for contact changes,
            /// notices and [`Event::Unknown`].
            pub fn as_message(&self) -> Option<&Message> {
                match self {
                    $( Event::$msg(m) => Some(m), )*
                    $( Event::$app(a) => Some(a.message()), )*
                    $( Event::$sys(s) => Some(s.message()), )*
                    _ => None,
                }
            }

            /// The app message (`MsgType` 49), for every app-message variant.
            pub fn as_app(&self) -> Option<&AppMessage> {
                match self {
                    $( Event::$app(a) => Some(a), )*
                    _ => None,
                }
            }

            /// The system message (`MsgType` 10000 or 10002), for every system variant.
            pub fn as_system(&self) -> Option<&SystemMessage> {
                match self {
                    $( Event::$sys(s) => Some(s), )*
                    _ => None,
                }
            }
        }

        /// The plain-message kinds, before the message is moved in.
        #[derive(Clone, Copy, Debug, PartialEq, Eq)]
        pub(super) enum MessageKind { $( $msg, )* }

        impl MessageKind {
            /// The kind a `MsgType` names by itself.
            pub(super) fn of(code: &MsgType) -> Option<Self> {
                $( if code_matches!(code $(, $mpat)?) { return Some(MessageKind::$msg); } )*
                None
            }

            pub(super) fn wrap(self, m: Message) -> Event {
                match self { $( MessageKind::$msg => Event::$msg(m), )* }
            }
        }

        /// The app-message kinds, before the message is moved in.
        #[derive(Clone, Copy, Debug, PartialEq, Eq)]
        pub(super) enum AppKind { $( $app, )* }

        impl AppKind {
            /// The kind an appmsg `type` names by itself.
            pub(super) fn of(code: &AppType) -> Option<Self> {
                $( if code_matches!(code $(, $apat)?) { return Some(AppKind::$app); } )*
                None
            }

            pub(super) fn wrap(self, a: AppMessage) -> Event {
                match self { $( AppKind::$app => Event::$app(a), )* }
            }
        }

        /// The system-message kinds, before the message is moved in.
        #[derive(Clone, Copy, Debug, PartialEq, Eq)]
        pub(super) enum SystemKind { $( $sys, )* }

        impl SystemKind {
            /// The kind a sysmsg `type` names by itself.
            pub(super) fn of(code: &SysType) -> Option<Self> {
                $( if code_matches!(code $(, $spat)?) { return Some(SystemKind::$sys); } )*
                None
            }

            pub(super) fn wrap(self, s: SystemMessage) -> Event {
                match self { $( SystemKind::$sys => Event::$sys(s), )* }
            }
        }
    };
}

/// What every non-message payload gives: the delivery as received.
trait Delivered {
    fn raw(&self) -> &Value;
}

impl Delivered for Value {
    fn raw(&self) -> &Value {
        self
    }
}

macro_rules! delivered {
    ($($t:ty),*) => {
        $(impl Delivered for $t {
            fn raw(&self) -> &Value {
                <$t>::raw(self)
            }
        })*
    };
}

delivered!(ContactChange, ContactDeletion, OfflineNotice, TestMessage);

event_kinds! {
    messages {
        /// A text message (`MsgType` 1).
        Text = MsgType::Text,
        /// An image (`MsgType` 3); `Content` holds its CDN XML, `ImgBuf` a thumbnail.
        Image = MsgType::Image,
        /// A voice message (`MsgType` 34).
        Voice = MsgType::Voice,
        /// A video (`MsgType` 43).
        Video = MsgType::Video,
        /// An emoji / sticker (`MsgType` 47); its XML has the `md5` to send it again.
        Emoji = MsgType::Emoji,
        /// A contact card, 名片 (`MsgType` 42); its XML has what is needed to add the contact.
        Card = MsgType::Card,
        /// A location (`MsgType` 48).
        Location = MsgType::Location,
        /// A friend request (`MsgType` 37, from `fmessage`); its XML has the `v3`/`v4` tickets.
        FriendRequest = MsgType::FriendRequest,
        /// A status-sync message (`MsgType` 51), the WeChat client syncing its state.
        StatusSync = MsgType::StatusSync,
    }
    apps {
        /// A link, e.g. an official-account article (app message type 5).
        Link = AppType::Link,
        /// An invitation to join a group (app message type 5 with the invitation title or link).
        GroupInvite,
        /// A file, fully sent: it can be downloaded or forwarded (app message type 6).
        File = AppType::File,
        /// A file being sent: a notice only, it cannot be downloaded or forwarded yet (type 74).
        FileUploading = AppType::FileUploading,
        /// A mini program (app message type 33 or 36).
        MiniProgram = AppType::MiniProgram | AppType::MiniProgramAlt,
        /// A quote: a reply that cites an earlier message (app message type 57).
        Quote = AppType::Quote,
        /// A money transfer (app message type 2000).
        Transfer = AppType::Transfer,
        /// A red packet, 红包 (app message type 2001).
        RedPacket = AppType::RedPacket,
        /// A Channels (视频号) post (app message type 51).
        FinderFeed = AppType::FinderFeed,
        /// A chat history (app message type 19, or a forwarded one: type 40 holding 19).
        ChatHistory = AppType::ChatHistory,
        /// An app message of another type; [`AppMessage::app_type`] says which.
        OtherApp,
    }
    systems {
        /// A message was revoked (`sysmsg` `revokemsg`).
        Revoke = SysType::Revoke,
        /// A pat, 拍一拍 (`sysmsg` `pat`).
        Pat = SysType::Pat,
        /// A member joined or was invited into a group.
        MemberJoined = SysType::MemberInvited,
        /// A member was removed from a group.
        MemberRemoved,
        /// The bot itself was removed from a group.
        RemovedFromGroup,
        /// A group was dismissed by its owner.
        GroupDismissed,
        /// A group was renamed.
        GroupRenamed,
        /// A group got a new owner.
        GroupOwnerChanged,
        /// A group announcement was posted (`sysmsg` `mmchatroombarannouncememt`).
        GroupAnnouncement = SysType::Announcement,
        /// A message was made a group to-do, 群待办 (`sysmsg` `roomtoolstips`).
        GroupTodo = SysType::Todo,
        /// Another system message (`MsgType` 10000 or 10002).
        OtherSystem,
    }
    others {
        /// A contact or a group changed, or a friend request was accepted (`ModContacts`).
        ContactChanged(ContactChange),
        /// A friend was deleted, or the bot left a group (`DelContacts`).
        ContactDeleted(ContactDeletion),
        /// The account went offline (`Offline`).
        Offline(OfflineNotice),
        /// The message GeWe sends to check a new callback URL: answer 200 and skip it.
        TestMessage(TestMessage),
        /// A kind this version does not classify; the raw JSON is kept whole.
        Unknown(Value),
    }
}
