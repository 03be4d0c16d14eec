//! The codes that name what a message is, as GeWe writes them: `Data.MsgType`, the `<type>` of
//! an app message's `<appmsg>`, and the `type` attribute of a system message's `<sysmsg>`. Each
//! table below is the one place its codes are written; every code GeWe may send that the table
//! does not name is kept as `Other`.

/// Declares a code enum from one table: the variants, `from_code`, `code` and `KNOWN` all
/// derive from it, so that a code is written once.
macro_rules! code_table {
    (
        $(#[$meta:meta])*
        pub enum $name:ident ($code:ty, $owned:ty, $borrow:ident) {
            $( $(#[$vmeta:meta])* $variant:ident = $value:expr, )+
        }
    ) => {
        $(#[$meta])*
        #[non_exhaustive]
        #[derive(Debug, Clone, PartialEq, Eq, Hash)]
        pub enum $name {
            $( $(#[$vmeta])* $variant, )+
            /// A code this version does not name, as GeWe sent it.
            Other($owned),
        }

        impl $name {
            /// Every code the table names, in the table's order.
            pub const KNOWN: &'static [$name] = &[$($name::$variant),+];

            /// The value for `code`; [`Other`](Self::Other) when the table does not name it.
            pub fn from_code(code: $code) -> Self {
                match code {
                    $( $value => $name::$variant, )+
                    other => $name::Other(other.into()),
                }
            }

            /// The code as GeWe writes it.
            pub fn code(&self) -> $code {
                match self {
                    $( $name::$variant => $value, )+
                    $name::Other(other) => $borrow(other),
                }
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                write!(f, "{}", self.code())
            }
        }
    };
}

fn copied(v: &i64) -> i64 {
    *v
}

fn as_str(v: &str) -> &str {
    v
}

code_table! {
    /// `Data.MsgType`: what kind of message an `AddMsg` delivery holds.
    ///
    /// ```
    /// use gewe::events::MsgType;
    /// assert_eq!(MsgType::from_code(49), MsgType::App);
    /// assert_eq!(MsgType::App.code(), 49);
    /// assert_eq!(MsgType::from_code(9999), MsgType::Other(9999));
    /// ```
    pub enum MsgType(i64, i64, copied) {
        /// 1: text.
        Text = 1,
        /// 3: an image.
        Image = 3,
        /// 34: a voice message.
        Voice = 34,
        /// 37: a friend request (from `fmessage`).
        FriendRequest = 37,
        /// 42: a contact card, 名片.
        Card = 42,
        /// 43: a video.
        Video = 43,
        /// 47: an emoji / sticker.
        Emoji = 47,
        /// 48: a location.
        Location = 48,
        /// 49: an app message; its [`AppType`] says which.
        App = 49,
        /// 51: the WeChat client syncing its state.
        StatusSync = 51,
        /// 10000: a system notice in plain text.
        SystemText = 10000,
        /// 10002: a system notice in XML; its [`SysType`] says which.
        SystemXml = 10002,
    }
}

code_table! {
    /// `msg/appmsg/type` of an app message (`MsgType` 49).
    ///
    /// ```
    /// use gewe::events::AppType;
    /// assert_eq!(AppType::from_code(57), AppType::Quote);
    /// assert_eq!(AppType::from_code(3), AppType::Other(3));
    /// ```
    pub enum AppType(i64, i64, copied) {
        /// 5: a link (an official-account article), or a group invitation.
        Link = 5,
        /// 6: a file, fully sent.
        File = 6,
        /// 19: a chat history, 聊天记录.
        ChatHistory = 19,
        /// 33: a mini program.
        MiniProgram = 33,
        /// 36: a mini program, in the other form the docs list.
        MiniProgramAlt = 36,
        /// 40: a saved item forwarded on; `<realinnertype>` says what it holds.
        Forwarded = 40,
        /// 51: a Channels (视频号) post.
        FinderFeed = 51,
        /// 57: a quote, a reply citing an earlier message.
        Quote = 57,
        /// 74: a file being sent (a notice only).
        FileUploading = 74,
        /// 2000: a money transfer.
        Transfer = 2000,
        /// 2001: a red packet, 红包.
        RedPacket = 2001,
    }
}

code_table! {
    /// The `type` attribute of `<sysmsg>` in an XML system notice (`MsgType` 10002).
    ///
    /// ```
    /// use gewe::events::SysType;
    /// assert_eq!(SysType::from_code("revokemsg"), SysType::Revoke);
    /// assert_eq!(SysType::Template.code(), "sysmsgtemplate");
    /// assert_eq!(SysType::from_code("new"), SysType::Other("new".into()));
    /// ```
    pub enum SysType(&str, String, as_str) {
        /// `revokemsg`: a message was revoked.
        Revoke = "revokemsg",
        /// `pat`: a pat, 拍一拍.
        Pat = "pat",
        /// `sysmsgtemplate`: a group notice from a template (removals, dismissals, joins).
        Template = "sysmsgtemplate",
        /// `mmchatroombarannouncememt` (sic): a group announcement.
        Announcement = "mmchatroombarannouncememt",
        /// `roomtoolstips`: a message was made a group to-do, 群待办.
        Todo = "roomtoolstips",
        /// `delchatroommember`: on mac devices, the bot invited a member in.
        MemberInvited = "delchatroommember",
    }
}
