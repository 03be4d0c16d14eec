//! GeWe's `{ret, msg, data}` envelope, as every typed method decodes it.
//!
//! Input: one byte choosing the HTTP status, then the body. Checks beyond "no panic":
//! - success only for a JSON object whose `ret` is 200 (invalid UTF-8 in an ignored field is
//!   tolerated, as serde_json skips it unread);
//! - an API error keeps the body's `ret`, and is never 200;
//! - the token never shows in any error's `Display`, `Debug` or `source()` chain.
#![no_main]

use gewe::types::{
    ContactsFetchContactsListData, GroupGetChatroomMemberListData, LoginCheckOnlineData,
    MessagePostTextData,
};
use libfuzzer_sys::fuzz_target;
use serde::de::DeserializeOwned;
use serde_json::Value;

const TOKEN: &str = "tok_FUZZ_6b1d0c1f";
const STATUSES: [u16; 8] = [200, 200, 200, 200, 500, 502, 404, 429];

fuzz_target!(|data: &[u8]| {
    let Some((&first, body)) = data.split_first() else {
        return;
    };
    let status = STATUSES[usize::from(first) % STATUSES.len()];
    check::<Value>(status, body);
    check::<gewe::NoData>(status, body);
    check::<ContactsFetchContactsListData>(status, body);
    check::<GroupGetChatroomMemberListData>(status, body);
    check::<MessagePostTextData>(status, body);
    check::<LoginCheckOnlineData>(status, body);
});

fn check<D: DeserializeOwned>(status: u16, body: &[u8]) {
    // serde_json skips a field it ignores (`msg` on success) without checking its UTF-8, so read
    // the body as the decoder can: invalid UTF-8 replaced.
    let parsed: Option<Value> = serde_json::from_str(&String::from_utf8_lossy(body)).ok();
    let ret = parsed.as_ref().and_then(|v| v.get("ret"));
    match gewe::fuzzing::decode::<D>(status, body, TOKEN) {
        Ok(_) => {
            assert_eq!(status, 200, "success from HTTP {status}");
            assert_eq!(
                ret.and_then(Value::as_i64),
                Some(200),
                "success without ret 200"
            );
        }
        Err(error) => {
            if let gewe::Error::Api(api) = &error {
                assert_ne!(api.ret, 200, "an API error with ret 200");
                let body_ret = match ret {
                    Some(Value::Number(n)) => n.as_i64(),
                    Some(Value::String(s)) => s.trim().parse().ok(),
                    _ => None,
                };
                assert_eq!(Some(api.ret), body_ret, "ret changed");
            }
            let mut shown = format!("{error}\n{error:?}");
            let mut source = std::error::Error::source(&error);
            while let Some(s) = source {
                shown.push_str(&format!("\n{s}\n{s:?}"));
                source = s.source();
            }
            assert!(!shown.contains(TOKEN), "the token leaked: {shown}");
        }
    }
}
