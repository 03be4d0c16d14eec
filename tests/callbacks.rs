//! Every example of GeWe's callback catalog decodes into its variant, the helpers answer right on
//! the real examples, what is new stays `Unknown` with its JSON whole, and no input panics.
//! Fixtures: `tests/fixtures/callbacks/` (see its README).

use gewe::events::{AppMessage, AppType, Event, Message, SysType, SystemMessage};
use gewe::Id;
use serde_json::{json, Value};

/// `(file, text, the kind it classifies as)` for every fixture.
type Fixture = (&'static str, &'static str, &'static str);

macro_rules! fixture {
    ($name:literal, $kind:literal) => {
        (
            $name,
            include_str!(concat!("fixtures/callbacks/", $name, ".json")),
            $kind,
        )
    };
}

const FIXTURES: &[Fixture] = &[
    fixture!("00_text", "Text"),
    fixture!("01_image", "Image"),
    fixture!("02_voice", "Voice"),
    fixture!("03_video", "Video"),
    fixture!("04_emoji", "Emoji"),
    fixture!("05_link", "Link"),
    fixture!("06_file_uploading", "FileUploading"),
    fixture!("07_file", "File"),
    fixture!("08_card", "Card"),
    fixture!("09_friend_request", "FriendRequest"),
    fixture!("10_contact_changed", "ContactChanged"),
    fixture!("11_mini_program", "MiniProgram"),
    fixture!("12_quote", "Quote"),
    fixture!("13_transfer", "Transfer"),
    fixture!("14_red_packet", "RedPacket"),
    fixture!("15_finder_feed", "FinderFeed"),
    fixture!("16_revoke", "Revoke"),
    fixture!("17_pat", "Pat"),
    fixture!("18_location", "Location"),
    fixture!("19_group_invite", "GroupInvite"),
    fixture!("19_group_invite_mac_member_joined", "MemberJoined"),
    fixture!("19_group_invite_mac_flat", "MemberJoined"),
    fixture!("20_removed_from_group", "RemovedFromGroup"),
    fixture!("21_member_removed", "MemberRemoved"),
    fixture!("22_group_dismissed", "GroupDismissed"),
    fixture!("23_group_renamed", "GroupRenamed"),
    fixture!("24_group_owner_changed", "GroupOwnerChanged"),
    fixture!("25_group_changed", "ContactChanged"),
    fixture!("26_group_announcement", "GroupAnnouncement"),
    fixture!("27_group_todo", "GroupTodo"),
    fixture!("28_contact_deleted", "ContactDeleted"),
    fixture!("29_group_left", "ContactDeleted"),
    fixture!("30_offline", "Offline"),
    fixture!("forwarded_chat_history", "ChatHistory"),
    fixture!("shape_group_text", "Text"),
    fixture!("shape_msgsource_wrapped", "Text"),
    fixture!("shape_snake_case", "Text"),
    fixture!("shape_string_ids", "Text"),
    fixture!("shape_flat_v2", "Text"),
];

/// The kinds no documented delivery shows: a catch-all, GeWe's test delivery (its shape is from
/// client code), and the status sync that only client code reports.
const WITHOUT_FIXTURE: &[&str] = &[
    "StatusSync",
    "OtherApp",
    "OtherSystem",
    "TestMessage",
    "Unknown",
];

fn load(name: &str) -> Value {
    let (_, text, _) = FIXTURES
        .iter()
        .find(|f| f.0 == name)
        .unwrap_or_else(|| panic!("no fixture {name}"));
    serde_json::from_str(text).unwrap_or_else(|e| panic!("{name}: {e}"))
}

fn event(name: &str) -> Event {
    Event::from_value(load(name))
}

fn message(name: &str) -> Message {
    event(name)
        .message()
        .unwrap_or_else(|| panic!("{name} is a message"))
        .clone()
}

fn app(name: &str) -> AppMessage {
    let event = event(name);
    match event.as_app() {
        Some(a) => a.clone(),
        None => panic!("{name}: not an app message: {}", event.kind()),
    }
}

fn system(name: &str) -> SystemMessage {
    let event = event(name);
    match event.as_system() {
        Some(s) => s.clone(),
        None => panic!("{name}: not a system message: {}", event.kind()),
    }
}

/// The id's digits, and the same digits as the JSON number of the example.
fn assert_id(id: Option<Id>, raw: &Value, digits: &str) {
    let id = id.expect("an id");
    assert_eq!(id.to_string(), digits);
    assert_eq!(raw.to_string(), digits, "the example's own digits");
}

#[test]
fn every_example_decodes_into_its_variant() {
    let mut failures = Vec::new();
    for (name, text, expected) in FIXTURES {
        assert!(
            Event::KINDS.contains(expected),
            "{name}: no kind {expected}"
        );
        let raw: Value = serde_json::from_str(text).unwrap();
        let event = Event::from_value(raw.clone());
        if event.kind() != *expected {
            failures.push(format!("{name}: expected {expected}, got {}", event.kind()));
        }
        assert_eq!(event.raw(), &raw, "{name}: raw() is the whole delivery");
        if event.type_name().is_some() {
            assert_eq!(event.app_id(), Some("wx_example_app_id"), "{name}");
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    eprintln!("callbacks: {} examples classified", FIXTURES.len());
}

/// Adding a kind to the kind table asks for its fixture here.
#[test]
fn every_kind_has_a_fixture() {
    let missing: Vec<&str> = Event::KINDS
        .iter()
        .copied()
        .filter(|kind| !WITHOUT_FIXTURE.contains(kind))
        .filter(|kind| !FIXTURES.iter().any(|f| f.2 == *kind))
        .collect();
    assert!(missing.is_empty(), "kinds without a fixture: {missing:?}");
    for kind in WITHOUT_FIXTURE {
        assert!(Event::KINDS.contains(kind), "{kind} is not a kind");
    }
}

#[test]
fn every_fixture_file_is_listed() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/callbacks");
    let mut files: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().to_string())
        .filter(|n| n.ends_with(".json"))
        .collect();
    files.sort();
    let mut listed: Vec<String> = FIXTURES.iter().map(|f| format!("{}.json", f.0)).collect();
    listed.sort();
    assert_eq!(files, listed);
}

#[test]
fn the_payload_structs_are_generated_into_gewe_types() {
    use gewe::types::{
        CallbackAddMsg, CallbackDelContacts, CallbackEnvelope, CallbackModContacts, CallbackOffline,
    };
    let raw = load("00_text");
    let envelope: CallbackEnvelope = serde_json::from_value(raw.clone()).unwrap();
    assert_eq!(envelope.type_name.as_deref(), Some("AddMsg"));
    assert_eq!(envelope.appid.as_deref(), Some("wx_example_app_id"));
    assert_eq!(envelope.wxid.as_deref(), Some("wxid_phyyedw9xap22"));
    let data: CallbackAddMsg = serde_json::from_value(raw["Data"].clone()).unwrap();
    assert_eq!(data.msg_type, Some(1));
    assert_eq!(data.msg_seq, Some(640356095));
    assert_eq!(data.create_time, Some(1705043418));
    assert_eq!(data.img_buf.and_then(|b| b.i_len), Some(0));
    assert_eq!(data.content.and_then(|c| c.string).as_deref(), Some("123"));
    assert_eq!(
        data.new_msg_id.map(|i| i.to_string()).as_deref(),
        Some("7773749793478223190")
    );

    // An id above i64::MAX in a contact change, exact.
    let raw = load("10_contact_changed");
    let data: CallbackModContacts = serde_json::from_value(raw["Data"].clone()).unwrap();
    let sns = data.sns_user_info.expect("SnsUserInfo");
    assert_id(
        sns.sns_bgobject_id,
        &raw["Data"]["SnsUserInfo"]["SnsBgobjectId"],
        "14216284872728580667",
    );
    assert_eq!(data.bit_mask, Some(4294967295));
    assert_eq!(
        data.nick_name.and_then(|n| n.string).as_deref(),
        Some("chaoxi。")
    );
    assert_eq!(
        data.remark.map(|r| r.string),
        Some(None),
        "`{{}}` is an empty string"
    );

    let data: CallbackDelContacts =
        serde_json::from_value(load("28_contact_deleted")["Data"].clone()).unwrap();
    assert_eq!(data.delete_contact_scen, Some(0));
    let offline: CallbackOffline = serde_json::from_value(load("30_offline")).unwrap();
    assert_eq!(offline.wxid.as_deref(), Some("wxid_phyyedw9xap22"));

    // The merged spec has the schemas, and no paths from openapi/ours/callbacks/.
    let spec: Value = serde_json::from_str(gewe::OPENAPI_SPEC).unwrap();
    for name in [
        "CallbackEnvelope",
        "CallbackString",
        "CallbackImgBuf",
        "CallbackAddMsg",
        "CallbackModContacts",
        "CallbackDelContacts",
        "CallbackOffline",
        "CallbackTestMessage",
    ] {
        assert!(spec["components"]["schemas"][name].is_object(), "{name}");
    }
    assert!(gewe::operations().iter().all(|op| op.module != "callbacks"));
}

#[test]
fn private_text_helpers_and_exact_ids() {
    let raw = load("00_text");
    let event = Event::from_value(raw.clone());
    let Event::Text(msg) = &event else {
        panic!("text")
    };
    assert_eq!(msg.body(), "123");
    assert_eq!(msg.split_content(), (None, "123"));
    assert!(!msg.is_group());
    assert!(msg.is_private());
    assert_eq!(msg.sender(), Some("wxid_phyyedw9xap22"));
    assert!(!msg.is_mentioned());
    assert!(msg.at_list().is_empty());
    assert_eq!(msg.create_time(), Some(1705043418));
    assert_eq!(msg.push_content(), Some("朝夕。 : 123"));
    // The official example's FromUserName is its own Wxid: by the catalog's rule, the account
    // sent it itself (from its phone), so the chat is the receiver.
    assert!(msg.is_from_self());
    assert_eq!(msg.chat_id(), Some("wxid_0xsqb3o0tsvz22"));
    assert!(event.is_from_self());
    assert_id(msg.msg_id(), &raw["Data"]["MsgId"], "1040356095");
    assert_id(
        msg.new_msg_id(),
        &raw["Data"]["NewMsgId"],
        "7773749793478223190",
    );
    assert_id(
        event.new_msg_id(),
        &raw["Data"]["NewMsgId"],
        "7773749793478223190",
    );
    assert_id(event.msg_id(), &raw["Data"]["MsgId"], "1040356095");
    assert_eq!(event.bot_wxid(), Some("wxid_phyyedw9xap22"));
    assert_eq!(event.type_name(), Some("AddMsg"));

    // The same message as its receiver's callback sees it: not from self, the chat is the sender.
    let mut received = raw.clone();
    received["Wxid"] = json!("wxid_0xsqb3o0tsvz22");
    let event = Event::from_value(received);
    assert!(!event.is_from_self());
    assert_eq!(event.chat_id(), Some("wxid_phyyedw9xap22"));
    assert_eq!(event.sender(), Some("wxid_phyyedw9xap22"));
    assert!(!event.is_group());
}

/// The official text example, as a group member's message to the bot: the shape the catalog's
/// envelope notes give for groups (FromUserName the group, Content `wxid:\n…`), the group id
/// and the member wxid taken from other examples.
fn group_text(content: &str, msg_source: Option<&str>, push: Option<&str>) -> Value {
    let mut v = load("00_text");
    v["Data"]["FromUserName"]["string"] = json!("34757816141@chatroom");
    v["Data"]["ToUserName"]["string"] = json!("wxid_phyyedw9xap22");
    v["Data"]["Content"]["string"] = json!(content);
    let data = v["Data"].as_object_mut().unwrap();
    match msg_source {
        Some(s) => data.insert("MsgSource".into(), json!(s)),
        None => data.remove("MsgSource"),
    };
    match push {
        Some(p) => data.insert("PushContent".into(), json!(p)),
        None => data.remove("PushContent"),
    };
    v
}

const AT_BOT: &str = "<msgsource>\n\t<atuserlist><![CDATA[,wxid_phyyedw9xap22]]></atuserlist>\n\t<silence>0</silence>\n\t<membercount>3</membercount>\n</msgsource>\n";

#[test]
fn group_text_sender_prefix_and_mentions() {
    let raw = group_text(
        "wxid_0xsqb3o0tsvz22:\n@朝夕。\u{2005}123",
        Some(AT_BOT),
        Some("白开水加糖在群聊中@了你"),
    );
    let event = Event::from_value(raw.clone());
    let Event::Text(msg) = &event else {
        panic!("text")
    };
    assert!(msg.is_group());
    assert!(event.is_group());
    assert_eq!(msg.chat_id(), Some("34757816141@chatroom"));
    assert_eq!(msg.sender(), Some("wxid_0xsqb3o0tsvz22"));
    assert_eq!(event.sender(), Some("wxid_0xsqb3o0tsvz22"));
    assert_eq!(
        msg.split_content(),
        (Some("wxid_0xsqb3o0tsvz22"), "@朝夕。\u{2005}123")
    );
    assert_eq!(msg.body(), "@朝夕。\u{2005}123");
    assert_eq!(msg.content(), "wxid_0xsqb3o0tsvz22:\n@朝夕。\u{2005}123");
    assert!(!msg.is_from_self());
    assert!(msg.is_mentioned());
    assert!(event.is_mentioned());
    assert_eq!(msg.at_list(), vec!["wxid_phyyedw9xap22".to_string()]);
    assert!(!msg.mentions_all());
    assert_eq!(event.raw(), &raw);

    // Either signal alone is enough; neither, or another member's name, is no mention.
    let only_list = Event::from_value(group_text(
        "wxid_a:\nhi",
        Some(AT_BOT),
        Some("白开水加糖 : hi"),
    ));
    assert!(only_list.is_mentioned());
    let only_push = Event::from_value(group_text(
        "wxid_a:\nhi",
        None,
        Some("白开水加糖在群聊中@了你"),
    ));
    assert!(only_push.is_mentioned());
    let neither = Event::from_value(group_text("wxid_a:\nhi", None, Some("白开水加糖 : hi")));
    assert!(!neither.is_mentioned());
    let other = Event::from_value(group_text(
        "wxid_a:\nhi",
        Some("<msgsource><atuserlist>wxid_other,wxid_phyyedw9xap22x</atuserlist></msgsource>"),
        None,
    ));
    assert!(!other.is_mentioned());
    assert_eq!(
        other.message().unwrap().at_list(),
        vec!["wxid_other".to_string(), "wxid_phyyedw9xap22x".to_string()]
    );
    let all = Event::from_value(group_text(
        "wxid_a:\n@所有人 hi",
        Some("<msgsource><atuserlist><![CDATA[notify@all]]></atuserlist></msgsource>"),
        None,
    ));
    assert!(all.message().unwrap().mentions_all());

    // The bot's own group message (from its phone): no prefix, ToUserName is the group.
    let mut own = group_text("hello", None, None);
    own["Data"]["FromUserName"]["string"] = json!("wxid_phyyedw9xap22");
    own["Data"]["ToUserName"]["string"] = json!("34757816141@chatroom");
    let own = Event::from_value(own);
    assert!(own.is_from_self());
    assert!(own.is_group());
    assert_eq!(own.chat_id(), Some("34757816141@chatroom"));
    assert_eq!(own.sender(), Some("wxid_phyyedw9xap22"));
    assert_eq!(own.message().unwrap().body(), "hello");

    // A prefix is only split off a group message, and only when it looks like an id.
    let private = load("00_text");
    let mut colon = private.clone();
    colon["Data"]["Content"]["string"] = json!("note:\nhello");
    assert_eq!(
        Event::from_value(colon).message().unwrap().body(),
        "note:\nhello"
    );
    let odd = Event::from_value(group_text("not an id:\nhello", None, None));
    assert_eq!(
        odd.message().unwrap().split_content(),
        (None, "not an id:\nhello")
    );
    assert_eq!(odd.sender(), Some("34757816141@chatroom"));
}

#[test]
fn group_system_messages_from_the_examples() {
    // Kicked out: GeWe prefixes the group's own id; the members and the filled-in template.
    let kicked = system("21_member_removed");
    assert!(kicked.is_group());
    assert_eq!(kicked.chat_id(), Some("34757816141@chatroom"));
    assert_eq!(kicked.split_content().0, Some("34757816141@chatroom"));
    assert!(kicked
        .body()
        .starts_with("<sysmsg type=\"sysmsgtemplate\">"));
    assert_eq!(kicked.sys_type(), Some(&SysType::Template));
    assert_eq!(kicked.sys_type().map(SysType::code), Some("sysmsgtemplate"));
    assert_eq!(kicked.members(), vec!["wxid_8pvka4jg6qzt22".to_string()]);
    assert_eq!(kicked.text(), "你将\"白开水加糖\"移出了群聊");
    assert!(!kicked.is_mentioned());

    let dismissed = system("22_group_dismissed");
    assert_eq!(dismissed.text(), "群主\"朝夕。\"已解散该群聊");
    assert_eq!(dismissed.members(), vec!["wxid_phyyedw9xap22".to_string()]);
    assert_eq!(dismissed.chat_id(), Some("39238473509@chatroom"));

    let removed = system("20_removed_from_group");
    assert_eq!(removed.sys_type(), None);
    assert_eq!(removed.text(), "你被\"朝夕。\"移出群聊");
    assert_eq!(removed.chat_id(), Some("39238473509@chatroom"));
    assert_eq!(removed.sender(), Some("39238473509@chatroom"));

    assert_eq!(
        system("23_group_renamed").text(),
        "你修改群名为“GeWe test1”"
    );
    assert_eq!(system("24_group_owner_changed").text(), "你已成为新群主");

    // An announcement comes from the member, to the group.
    let notice = system("26_group_announcement");
    assert!(notice.is_group());
    assert_eq!(notice.chat_id(), Some("34757816141@chatroom"));
    assert_eq!(notice.sender(), Some("wxid_0xsqb3o0tsvz22"));
    assert_eq!(notice.text(), "群公告哈1");

    let todo = system("27_group_todo");
    assert_eq!(todo.sys_type(), Some(&SysType::Todo));
    assert_eq!(todo.sys_type().map(SysType::code), Some("roomtoolstips"));
    assert_eq!(todo.text(), "${wxid_0xsqb3o0tsvz22}将你的消息设置为群待办");
    assert!(todo.members().is_empty());

    let joined = system("19_group_invite_mac_member_joined");
    assert_eq!(joined.sys_type(), Some(&SysType::MemberInvited));
    assert_eq!(
        joined.sys_type().map(SysType::code),
        Some("delchatroommember")
    );
    assert_eq!(joined.text(), "你邀请\"阿科\"加入了群聊");
    assert_eq!(joined.members(), vec!["wxid_12fdzgzb1wq6cz21".to_string()]);
    assert_eq!(joined.chat_id(), Some("53302137416@chatroom"));
    assert_id(
        joined.new_msg_id(),
        &load("19_group_invite_mac_member_joined")["Data"]["NewMsgId"],
        "4599658148681373612",
    );
}

/// One group message that @-mentions the bot, in every shape it arrives in: each is read as the
/// documented one is.
#[test]
fn every_shape_of_a_delivery_reads_the_same() {
    let plain = load("shape_group_text");
    let new_msg_id: Id = serde_json::from_value(plain["Data"]["NewMsgId"].clone()).unwrap();
    let msg_id: Id = serde_json::from_value(plain["Data"]["MsgId"].clone()).unwrap();
    for name in [
        "shape_group_text",
        "shape_msgsource_wrapped",
        "shape_snake_case",
        "shape_string_ids",
        "shape_flat_v2",
    ] {
        let event = event(name);
        let Event::Text(msg) = &event else {
            panic!("{name}: {}", event.kind())
        };
        assert_eq!(event.app_id(), Some("wx_example_app_id"), "{name}");
        assert_eq!(event.bot_wxid(), Some("wxid_phyyedw9xap22"), "{name}");
        assert_eq!(event.sender(), Some("wxid_0xsqb3o0tsvz22"), "{name}");
        assert_eq!(event.chat_id(), Some("34757816141@chatroom"), "{name}");
        assert!(
            event.is_group() && event.is_mentioned() && !event.is_from_self(),
            "{name}"
        );
        assert_eq!(msg.at_list(), ["wxid_phyyedw9xap22"], "{name}");
        assert!(!msg.mentions_all(), "{name}");
        assert_eq!(msg.body(), "@朝夕。\u{2005}123", "{name}");
        assert_eq!(
            msg.push_content(),
            Some("白开水加糖在群聊中@了你"),
            "{name}"
        );
        assert_eq!(msg.create_time(), Some(1705043418), "{name}");
        assert_eq!(event.new_msg_id(), Some(new_msg_id), "{name}");
        assert_eq!(msg.new_msg_id(), Some(new_msg_id), "{name}");
        assert_eq!(event.msg_id(), Some(msg_id), "{name}");
        assert_eq!(msg.msg_id(), Some(msg_id), "{name}");
        assert_eq!(
            event.new_msg_id().unwrap().to_string(),
            "7773749793478223190",
            "{name}"
        );
    }
    // The string form is kept, to be written back as it came.
    assert!(event("shape_string_ids").new_msg_id().unwrap().is_string());
    assert_eq!(event("shape_snake_case").type_name(), Some("AddMsg"));
    assert_eq!(event("shape_flat_v2").type_name(), None);

    // A wrapped `MsgSource` alone still names the bot.
    let mut wrapped = load("shape_msgsource_wrapped");
    wrapped["Data"]
        .as_object_mut()
        .unwrap()
        .remove("PushContent");
    assert!(Event::from_value(wrapped).is_mentioned());
    // `{}` is GeWe's empty string, wrapped or not.
    let mut empty = load("shape_msgsource_wrapped");
    empty["Data"]["MsgSource"] = json!({});
    empty["Data"]["PushContent"] = json!({});
    let empty = Event::from_value(empty);
    assert_eq!(empty.kind(), "Text");
    assert!(!empty.is_mentioned());
    // A quote with a wrapped `MsgSource` is a quote.
    let mut quote = load("12_quote");
    quote["Data"]["MsgSource"] = json!({"string": quote["Data"]["MsgSource"].clone()});
    assert_eq!(Event::from_value(quote).kind(), "Quote");

    // The flat format's own notice of going offline, and a name it does not know.
    let offline = Event::from_value(
        json!({"appid": "wx_example_app_id", "wxid": "wxid_phyyedw9xap22", "msgType": "Offline"}),
    );
    let Event::Offline(notice) = &offline else {
        panic!("{}", offline.kind())
    };
    assert_eq!(notice.wxid(), Some("wxid_phyyedw9xap22"));
    let mut unknown = load("shape_flat_v2");
    unknown["msgType"] = json!("LONG_CONNECTED");
    assert_eq!(Event::from_value(unknown).kind(), "Unknown");
    // The bot's own group message in the flat format goes to the group.
    let mut own = load("shape_flat_v2");
    own["isSelf"] = json!(true);
    own["fromUser"] = json!("wxid_phyyedw9xap22");
    let own = Event::from_value(own);
    assert!(own.is_from_self());
    assert_eq!(own.chat_id(), Some("34757816141@chatroom"));
    assert_eq!(own.sender(), Some("wxid_phyyedw9xap22"));
}

#[test]
fn a_forwarded_chat_record_is_a_chat_history() {
    let raw = load("forwarded_chat_history");
    let event = Event::from_value(raw.clone());
    let Event::ChatHistory(record) = &event else {
        panic!("{}", event.kind())
    };
    assert_eq!(record.app_type(), Some(AppType::Forwarded));
    assert_eq!(record.inner_type(), Some(AppType::ChatHistory));
    assert_eq!(record.title(), Some("群聊的聊天记录"));
    assert_eq!(record.appmsg_text("xmlfulllen").as_deref(), Some("1869"));
    assert_eq!(event.sender(), Some("wxid_0xsqb3o0tsvz22"));
    assert_eq!(event.chat_id(), Some("34757816141@chatroom"));
    assert!(!event.is_mentioned());
    assert_id(
        event.new_msg_id(),
        &raw["Data"]["NewMsgId"],
        "1953473838243766322",
    );
    assert_id(event.msg_id(), &raw["Data"]["MsgId"], "1040356130");
    // Type 40 holding anything else is what it holds; holding nothing, another app message.
    let mut link = raw.clone();
    let content = raw["Data"]["Content"]["string"].as_str().unwrap();
    link["Data"]["Content"]["string"] = json!(content.replace(
        "<realinnertype>19</realinnertype>",
        "<realinnertype>5</realinnertype>"
    ));
    assert_eq!(Event::from_value(link).kind(), "Link");
    let mut bare = raw.clone();
    bare["Data"]["Content"]["string"] =
        json!(content.replace("<realinnertype>19</realinnertype>", ""));
    assert_eq!(Event::from_value(bare).kind(), "OtherApp");
}

#[test]
fn the_mac_invitation_is_a_member_joined_notice() {
    let raw = load("19_group_invite_mac_flat");
    let event = Event::from_value(raw.clone());
    let Event::MemberJoined(notice) = &event else {
        panic!("{}", event.kind())
    };
    assert_eq!(notice.sys_type(), None);
    assert_eq!(notice.text(), "\"阿登\"邀请\"就叫chéng yǔ chén\"加入了群聊");
    assert_eq!(event.sender(), Some("53502137416@chatroom"));
    assert_eq!(event.chat_id(), Some("53502137416@chatroom"));
    assert_eq!(event.bot_wxid(), Some("wxid_yccwpfh1qif322"));
    assert_eq!(event.app_id(), None);
    assert!(event.is_group() && !event.is_mentioned() && !event.is_from_self());
    assert_eq!(notice.create_time(), Some(1762336266));
    assert_id(
        event.new_msg_id(),
        &raw["data"]["newMsgId"],
        "7140416899694895696",
    );
    assert_id(event.msg_id(), &raw["data"]["msgId"], "1237490653");
    // Not a group notice: the format has no type table to read it by.
    let mut member = raw.clone();
    member["data"]["fromUser"] = json!("wxid_someone");
    let member = Event::from_value(member.clone());
    assert_eq!(member.kind(), "Unknown");
}

#[test]
fn revoke_and_pat() {
    let revoke = system("16_revoke");
    assert_eq!(revoke.text(), "\"朝夕。\" 撤回了一条消息");
    assert_eq!(revoke.revoked_msg_id().unwrap().to_string(), "1040356115");
    // The revoked message is the Channels example's: the same NewMsgId.
    let revoked = load("15_finder_feed");
    assert_id(
        revoke.revoked_new_msg_id(),
        &revoked["Data"]["NewMsgId"],
        "5576224237104747184",
    );
    assert_eq!(
        revoke.revoked_msg_id(),
        revoked["Data"]["MsgId"].to_string().parse().ok()
    );
    assert_eq!(revoke.patter(), None);

    let pat = system("17_pat");
    assert_eq!(pat.patter().as_deref(), Some("wxid_phyyedw9xap22"));
    assert_eq!(pat.patted().as_deref(), Some("wxid_0xsqb3o0tsvz22"));
    assert_eq!(pat.text(), "\"${wxid_phyyedw9xap22}\" 拍了拍我");
}

#[test]
fn app_message_fields() {
    let link = app("05_link");
    assert_eq!(link.app_type(), Some(AppType::Link));
    assert_eq!(link.app_type().map(|t| t.code()), Some(5));
    assert_eq!(link.title(), Some("尔滨，又有好消息！"));
    assert!(link
        .url()
        .unwrap()
        .starts_with("http://mp.weixin.qq.com/s?__biz=MzA4NDI3NjcyNA==&mid="));
    assert_eq!(
        link.appmsg_text("sourcedisplayname").as_deref(),
        Some("新华社")
    );
    assert_eq!(link.description(), None);

    let invite = app("19_group_invite");
    assert_eq!(invite.title(), Some("邀请你加入群聊"));
    assert!(invite
        .description()
        .unwrap()
        .contains("Dromara-SMS4J短信融合"));

    let file = app("07_file");
    assert_eq!(file.app_type(), Some(AppType::File));
    assert_eq!(file.app_type().map(|t| t.code()), Some(6));
    assert_eq!(file.title(), Some("hhh.xlsx"));
    assert_eq!(
        file.appmsg_text("appattach/fileext").as_deref(),
        Some("xlsx")
    );
    assert_eq!(
        file.appmsg_text("appattach/totallen").as_deref(),
        Some("8939")
    );
    assert_eq!(
        file.xml_text("msg/fromusername").as_deref(),
        Some("wxid_phyyedw9xap22")
    );

    // The quote cites the finished-file example: its NewMsgId, exactly.
    let quote = app("12_quote");
    assert_eq!(quote.title(), Some("看看这个"));
    assert_id(
        quote.quoted_new_msg_id(),
        &load("07_file")["Data"]["NewMsgId"],
        "3617029648443513152",
    );
    assert_eq!(quote.quoted_sender().as_deref(), Some("wxid_phyyedw9xap22"));
    assert_eq!(
        quote.appmsg_text("refermsg/displayname").as_deref(),
        Some("朝夕。")
    );

    match event("11_mini_program") {
        Event::MiniProgram(m) => {
            assert_eq!(m.app_type(), Some(AppType::MiniProgram));
            assert_eq!(m.app_type().map(|t| t.code()), Some(33));
            assert_eq!(
                m.appmsg_text("weappinfo/username").as_deref(),
                Some("gh_44fc2ced7f87@app")
            );
        }
        other => panic!("{}", other.kind()),
    }
    match event("13_transfer") {
        Event::Transfer(t) => {
            assert_eq!(
                t.appmsg_text("wcpayinfo/feedesc").as_deref(),
                Some("￥0.10")
            )
        }
        other => panic!("{}", other.kind()),
    }
    // XML attributes, spaces around `=` included.
    let emoji = message("04_emoji");
    assert_eq!(
        emoji.xml_attr("msg/emoji", "md5").as_deref(),
        Some("cc56728d56c730ddae52baffe941ed86")
    );
    assert_eq!(
        emoji.xml_attr("msg/emoji", "fromusername").as_deref(),
        Some("wxid_phyyedw9xap22")
    );
    let location = message("18_location");
    assert_eq!(
        location.xml_attr("msg/location", "poiname").as_deref(),
        Some("北京天安门广场")
    );
    let request = message("09_friend_request");
    assert_eq!(request.from_user(), Some("fmessage"));
    assert_eq!(
        request.xml_attr("msg", "fromnickname").as_deref(),
        Some("朝夕。")
    );
    assert!(!request.is_from_self());
}

#[test]
fn contact_changes_and_notices() {
    let Event::ContactChanged(friend) = event("10_contact_changed") else {
        panic!()
    };
    assert_eq!(friend.user_name(), Some("wxid_0xsqb3o0tsvz22"));
    assert!(!friend.is_group());
    let Event::ContactChanged(group) = event("25_group_changed") else {
        panic!()
    };
    assert!(group.is_group());
    assert_eq!(
        group.data().chat_room_owner.as_deref(),
        Some("wxid_0xsqb3o0tsvz22")
    );
    assert_eq!(group.data().chatroom_max_count, Some(700000019));

    let Event::ContactDeleted(deleted) = event("28_contact_deleted") else {
        panic!()
    };
    assert_eq!(deleted.user_name(), Some("wxid_phyyedw9xap22"));
    assert!(!deleted.is_group());
    let Event::ContactDeleted(left) = event("29_group_left") else {
        panic!()
    };
    assert_eq!(left.user_name(), Some("34559815390@chatroom"));
    assert!(left.is_group());

    let offline = event("30_offline");
    let Event::Offline(notice) = &offline else {
        panic!()
    };
    assert_eq!(notice.wxid(), Some("wxid_phyyedw9xap22"));
    assert_eq!(offline.new_msg_id(), None);
    assert!(offline.message().is_none());
    assert!(!offline.is_group());

    // The verification delivery (its shape is from client code, not the official doc).
    let ping = json!({"testMsg": "验证回调地址是否可用", "token": "example-token"});
    let Event::TestMessage(t) = Event::from_value(ping.clone()) else {
        panic!()
    };
    assert_eq!(t.data().test_msg.as_deref(), Some("验证回调地址是否可用"));
    assert_eq!(t.raw(), &ping);
}

#[test]
fn what_is_new_stays_unknown_with_its_json_whole() {
    let mut new_type = load("00_text");
    new_type["TypeName"] = json!("FutureKind");
    let mut new_msg_type = load("00_text");
    new_msg_type["Data"]["MsgType"] = json!(9999);
    let mut no_msg_type = load("00_text");
    no_msg_type["Data"]
        .as_object_mut()
        .unwrap()
        .remove("MsgType");
    let mut wrong_types = load("00_text");
    wrong_types["Data"]["MsgType"] = json!("1");
    let mut data_not_object = load("10_contact_changed");
    data_not_object["Data"] = json!("x");
    let unknowns = [
        new_type,
        new_msg_type,
        no_msg_type,
        wrong_types,
        data_not_object,
        json!({"TypeName": "AddMsg"}),
        json!({}),
        json!([1, 2]),
        json!("AddMsg"),
        json!(null),
    ];
    for raw in unknowns {
        let event = Event::from_value(raw.clone());
        match &event {
            Event::Unknown(v) => assert_eq!(v, &raw),
            other => panic!("{raw}: {}", other.kind()),
        }
        assert_eq!(event.raw(), &raw);
        assert_eq!(event.kind(), "Unknown");
    }
    // The helpers that read the raw JSON still work on an unknown AddMsg.
    let mut future = load("00_text");
    future["Data"]["MsgType"] = json!(9999);
    let event = Event::from_value(future);
    assert_eq!(
        event.new_msg_id().unwrap().to_string(),
        "7773749793478223190"
    );
    assert_eq!(event.app_id(), Some("wx_example_app_id"));

    // A known MsgType with a new sub-kind keeps its typed message.
    let mut app = load("05_link");
    app["Data"]["Content"]["string"] =
        json!("<msg><appmsg><title>t</title><type>3</type></appmsg></msg>");
    match Event::from_value(app) {
        Event::OtherApp(a) => assert_eq!(a.app_type(), Some(AppType::Other(3))),
        other => panic!("{}", other.kind()),
    }
    let mut sys = load("16_revoke");
    sys["Data"]["Content"]["string"] = json!("<sysmsg type=\"newthing\"><x>y</x></sysmsg>");
    match Event::from_value(sys) {
        Event::OtherSystem(s) => {
            assert_eq!(s.sys_type(), Some(&SysType::Other("newthing".into())))
        }
        other => panic!("{}", other.kind()),
    }
}

/// Calls every helper, so that a panic anywhere shows.
fn exercise(event: &Event) {
    let _ = (
        event.kind(),
        event.raw(),
        event.app_id(),
        event.bot_wxid(),
        event.type_name(),
    );
    let _ = (
        event.new_msg_id(),
        event.msg_id(),
        event.sender(),
        event.chat_id(),
    );
    let _ = (event.is_group(), event.is_mentioned(), event.is_from_self());
    if let Some(m) = event.message() {
        let _ = (
            m.data(),
            m.msg_type(),
            m.from_user(),
            m.to_user(),
            m.content(),
            m.body(),
        );
        let _ = (
            m.split_content(),
            m.at_list(),
            m.mentions_all(),
            m.is_private(),
        );
        let _ = (
            m.xml_text("msg/appmsg/title"),
            m.xml_attr("msg/img", "md5"),
            m.xml_text(""),
        );
        let _ = (
            m.create_time(),
            m.push_content(),
            m.msg_source(),
            m.msg_id(),
        );
    }
    if let Some(a) = event.as_app() {
        let _ = (
            a.app_type(),
            a.inner_type(),
            a.title(),
            a.description(),
            a.url(),
        );
        let _ = (
            a.quoted_new_msg_id(),
            a.quoted_sender(),
            a.appmsg_text("a/b"),
        );
    }
    if let Some(s) = event.as_system() {
        let _ = (s.sys_type(), s.text(), s.members(), s.revoked_msg_id());
        let _ = (s.revoked_new_msg_id(), s.patter(), s.patted());
    }
    match event {
        Event::ContactChanged(c) => {
            let _ = (c.user_name(), c.is_group(), c.data());
        }
        Event::ContactDeleted(c) => {
            let _ = (c.user_name(), c.is_group(), c.data());
        }
        _ => {}
    }
}

/// A small deterministic generator (xorshift64*), so failures reproduce.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[self.below(items.len())]
    }
}

const KEYS: &[&str] = &[
    "TypeName",
    "Appid",
    "Wxid",
    "Data",
    "MsgId",
    "NewMsgId",
    "MsgType",
    "FromUserName",
    "ToUserName",
    "Content",
    "string",
    "MsgSource",
    "PushContent",
    "UserName",
    "testMsg",
    "ImgBuf",
    "iLen",
    "CreateTime",
    "SnsUserInfo",
    "SnsBgobjectId",
    "type_name",
    "appid",
    "data",
    "msgType",
    "newMsgId",
    "content",
    "fromUser",
    "fromGroup",
    "isSelf",
    "wcId",
    "x",
];
const STRINGS: &[&str] = &[
    "AddMsg",
    "ModContacts",
    "DelContacts",
    "Offline",
    "wxid_a",
    "12@chatroom",
    "notify@all",
    "在群聊中@了你",
    ":\n",
    "",
    "中",
    "<",
    ">",
    "/",
    "</",
    "<![CDATA[",
    "]]>",
    "&#x",
    "&amp;",
    "&#55296;",
    ";",
    "\"",
    "'",
    "=",
    "<appmsg>",
    "<type>",
    "5",
    "57",
    "</type>",
    "<sysmsg type=\"",
    "revokemsg",
    "sysmsgtemplate",
    "pat",
    "TEXT",
    "LINK",
    "Offline",
    "<realinnertype>",
    "40",
    "19",
    "\">",
    "<msgid>",
    "<newmsgid>",
    "<atuserlist>",
    "<refermsg><svrid>",
    "99999999999999999999",
    "-1",
    "<link name=\"kickoutname\">",
    "$x$",
    "<memberlist><username>",
    "<?xml",
    "<!--",
    "移出",
    "你被",
    "加入",
    "\u{0}",
    "\u{2005}",
];

fn random_string(rng: &mut Rng) -> String {
    (0..rng.below(24)).map(|_| rng.pick(STRINGS)).collect()
}

fn random_value(rng: &mut Rng, depth: u32) -> Value {
    match rng.below(if depth > 3 { 6 } else { 9 }) {
        0 => Value::Null,
        1 => json!(rng.below(2) == 0),
        2 => json!([1, 3, 34, 37, 42, 43, 47, 48, 49, 51, 10000, 10002][rng.below(12)]),
        3 => json!(rng.next()),
        4 => json!(-(rng.below(1000) as i64)),
        5 => json!(random_string(rng)),
        6 => json!(1.5),
        7 => Value::Array(
            (0..rng.below(4))
                .map(|_| random_value(rng, depth + 1))
                .collect(),
        ),
        _ => Value::Object(
            (0..rng.below(8))
                .map(|_| (rng.pick(KEYS).to_string(), random_value(rng, depth + 1)))
                .collect(),
        ),
    }
}

/// Replaces one random node of `v` with a random value.
fn mutate(rng: &mut Rng, v: &mut Value) {
    match v {
        Value::Object(m) if !m.is_empty() && rng.below(4) != 0 => {
            let key = m.keys().nth(rng.below(m.len())).cloned().unwrap();
            mutate(rng, m.get_mut(&key).unwrap());
        }
        _ => *v = random_value(rng, 2),
    }
}

#[test]
fn garbage_never_panics() {
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let mut count = 0;
    for _ in 0..3000 {
        let raw = random_value(&mut rng, 0);
        let event = Event::from_value(raw.clone());
        assert_eq!(event.raw(), &raw);
        exercise(&event);
        count += 1;
    }
    // Real deliveries with one part replaced, and real envelopes with random XML content.
    for (name, text, _) in FIXTURES {
        let base: Value = serde_json::from_str(text).unwrap();
        for _ in 0..100 {
            let mut raw = base.clone();
            mutate(&mut rng, &mut raw);
            let event = Event::from_value(raw.clone());
            assert_eq!(event.raw(), &raw, "{name}");
            exercise(&event);
            if base.pointer("/Data/Content/string").is_some() {
                let mut raw = base.clone();
                raw["Data"]["Content"]["string"] = json!(random_string(&mut rng));
                raw["Data"]["MsgSource"] = json!(random_string(&mut rng));
                exercise(&Event::from_value(raw));
                count += 1;
            }
            count += 1;
        }
    }
    // Deep nesting, and no closing at all.
    let mut deep = load("05_link");
    deep["Data"]["Content"]["string"] = json!("<msg>".repeat(50_000));
    exercise(&Event::from_value(deep));
    eprintln!("callbacks: {count} garbage deliveries, no panic");
}
