//! Decoding large answers: gewe's generated types against `serde_json::Value` and against the
//! smallest hand-written struct holding the same data, on the same bytes, in the same run.
//! `divan::AllocProfiler` counts the allocations of each. Run: `cargo bench --bench decode`.
//!
//! - `fetchContactsList` with 5,000 friends (and 500 groups, 50 official accounts);
//! - `getChatroomMemberList` with 500 members.
//!
//! The typed case decodes exactly as the client does: an envelope of `ret` and `Option<data>`
//! with the generated data type (`msg` is not read on success).

use divan::{black_box, AllocProfiler, Bencher};
use gewe::types::{ContactsFetchContactsListData, GroupGetChatroomMemberListData};
use serde::de::DeserializeOwned;
use serde::Deserialize;
use serde_json::{json, Value};
use std::sync::OnceLock;

#[global_allocator]
static ALLOC: AllocProfiler = AllocProfiler::system();

fn main() {
    divan::main();
}

/// The envelope as the client decodes it on success.
#[derive(Deserialize)]
struct Typed<D> {
    ret: i64,
    data: Option<D>,
}

fn typed<D: DeserializeOwned>(body: &[u8]) -> D {
    let envelope: Typed<D> = serde_json::from_slice(body).expect("decodes");
    assert_eq!(envelope.ret, 200);
    envelope.data.expect("data")
}

fn value(body: &[u8]) -> Value {
    let v: Value = serde_json::from_slice(body).expect("decodes");
    assert_eq!(v["ret"], 200);
    v
}

/// The smallest hand-written structs holding the same data.
mod minimal {
    use serde::Deserialize;

    #[derive(Deserialize)]
    pub struct Envelope<D> {
        pub ret: i64,
        pub data: D,
    }

    #[derive(Deserialize)]
    #[allow(dead_code)]
    pub struct Contacts {
        pub friends: Vec<String>,
        pub chatrooms: Vec<String>,
        pub ghs: Vec<String>,
    }

    #[derive(Deserialize)]
    #[allow(dead_code)]
    #[serde(rename_all = "camelCase")]
    pub struct Members {
        pub member_list: Vec<Member>,
        pub chatroom_owner: String,
        pub admin_wxid: Vec<String>,
    }

    #[derive(Deserialize)]
    #[allow(dead_code)]
    #[serde(rename_all = "camelCase")]
    pub struct Member {
        pub wxid: String,
        pub nick_name: String,
        pub display_name: String,
        pub big_head_img_url: String,
        pub small_head_img_url: String,
        pub inviter_user_name: String,
        pub member_flag: i64,
    }
}

fn minimal<D: DeserializeOwned>(body: &[u8]) -> D {
    let envelope: minimal::Envelope<D> = serde_json::from_slice(body).expect("decodes");
    assert_eq!(envelope.ret, 200);
    envelope.data
}

fn contacts_body() -> &'static [u8] {
    static BODY: OnceLock<Vec<u8>> = OnceLock::new();
    BODY.get_or_init(|| {
        let friends: Vec<String> = (0..5000).map(|i| format!("wxid_{i:05}x7q2k9m3")).collect();
        let chatrooms: Vec<String> = (0..500)
            .map(|i| format!("{}@chatroom", 34_559_815_390u64 + i))
            .collect();
        let ghs: Vec<String> = (0..50).map(|i| format!("gh_{i:012x}")).collect();
        serde_json::to_vec(&json!({
            "ret": 200, "msg": "操作成功",
            "data": {"friends": friends, "chatrooms": chatrooms, "ghs": ghs}
        }))
        .unwrap()
    })
}

fn members_body() -> &'static [u8] {
    static BODY: OnceLock<Vec<u8>> = OnceLock::new();
    BODY.get_or_init(|| {
        let members: Vec<Value> = (0..500)
            .map(|i| {
                json!({
                    "wxid": format!("wxid_{i:05}x7q2k9m3"),
                    "nickName": format!("群成员{i}"),
                    "displayName": if i % 3 == 0 { format!("备注{i}") } else { String::new() },
                    "bigHeadImgUrl": format!("https://wx.qlogo.cn/mmhead/ver_1/{i:040}/0"),
                    "smallHeadImgUrl": format!("https://wx.qlogo.cn/mmhead/ver_1/{i:040}/132"),
                    "inviterUserName": "wxid_owner",
                    "memberFlag": 0
                })
            })
            .collect();
        serde_json::to_vec(&json!({
            "ret": 200, "msg": "操作成功",
            "data": {"memberList": members, "chatroomOwner": "wxid_owner", "adminWxid": ["wxid_a"]}
        }))
        .unwrap()
    })
}

mod fetch_contacts_list_5000 {
    use super::*;

    #[divan::bench]
    fn typed_gewe(b: Bencher) {
        let body = contacts_body();
        let d: ContactsFetchContactsListData = typed(body);
        assert_eq!(d.friends.as_ref().map(Vec::len), Some(5000));
        b.counter(divan::counter::BytesCount::new(body.len()))
            .bench(|| black_box(typed::<ContactsFetchContactsListData>(black_box(body))));
    }

    #[divan::bench]
    fn value(b: Bencher) {
        let body = contacts_body();
        b.counter(divan::counter::BytesCount::new(body.len()))
            .bench(|| black_box(super::value(black_box(body))));
    }

    #[divan::bench]
    fn minimal_struct(b: Bencher) {
        let body = contacts_body();
        b.counter(divan::counter::BytesCount::new(body.len()))
            .bench(|| black_box(minimal::<minimal::Contacts>(black_box(body))));
    }
}

mod get_chatroom_member_list_500 {
    use super::*;

    #[divan::bench]
    fn typed_gewe(b: Bencher) {
        let body = members_body();
        let d: GroupGetChatroomMemberListData = typed(body);
        assert_eq!(d.member_list.as_ref().map(Vec::len), Some(500));
        b.counter(divan::counter::BytesCount::new(body.len()))
            .bench(|| black_box(typed::<GroupGetChatroomMemberListData>(black_box(body))));
    }

    #[divan::bench]
    fn value(b: Bencher) {
        let body = members_body();
        b.counter(divan::counter::BytesCount::new(body.len()))
            .bench(|| black_box(super::value(black_box(body))));
    }

    #[divan::bench]
    fn minimal_struct(b: Bencher) {
        let body = members_body();
        b.counter(divan::counter::BytesCount::new(body.len()))
            .bench(|| black_box(minimal::<minimal::Members>(black_box(body))));
    }
}
