//! GeWe's `{ret, msg, data}` envelope, as every typed method decodes it.
//!
//! Input: one byte choosing the HTTP status, then the body. Checks beyond "no panic":
//! - success only for a JSON object whose `ret` is 200;
//! - a body whose `ret` is not 200 always gives an error carrying that `ret`, and an API error
//!   is never 200;
//! - the token never shows in any error's `Display`, `Debug` or `source()` chain.
//!
//! The check reads `ret` as the decoder does: the other members are skipped unparsed, so an
//! out-of-range number or invalid UTF-8 in a field nobody reads changes nothing.
#![no_main]

use gewe::types::{
    ContactsFetchContactsListData, GroupGetChatroomMemberListData, LoginCheckOnlineData,
    MessagePostTextData,
};
use libfuzzer_sys::fuzz_target;
use serde::de::DeserializeOwned;
use serde_json::value::RawValue;
use serde_json::Value;
use std::collections::BTreeMap;

/// No lowercase letter, digit or quote: `Debug`'s escapes (`\t`, `\u{7f}`, …) cannot spell it
/// out of a body that only nearly holds it (`t<TAB>ok_…` once printed as `t\tok_…`).
const TOKEN: &str = "GWK_FUZZ_SECRET_MQPZ";
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

/// The body's `ret`: a JSON object's member read alone (of a repeated key, the last), invalid
/// UTF-8 replaced, as a number or a string of digits.
fn body_ret(body: &[u8]) -> Option<i64> {
    let members: BTreeMap<String, Box<RawValue>> =
        serde_json::from_str(&String::from_utf8_lossy(body)).ok()?;
    match serde_json::from_str::<Value>(members.get("ret")?.get()).ok()? {
        Value::Number(n) => n.as_i64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

fn check<D: DeserializeOwned>(status: u16, body: &[u8]) {
    let ret = body_ret(body);
    match gewe::fuzzing::decode::<D>(status, body, TOKEN) {
        Ok(_) => {
            assert_eq!(status, 200, "success from HTTP {status}");
            assert_eq!(ret, Some(200), "success without ret 200");
        }
        Err(error) => {
            if let Some(r) = ret.filter(|&r| r != 200) {
                assert_eq!(error.ret(), Some(r), "ret {r} lost: {error:?}");
            }
            if let gewe::Error::Api(api) = &error {
                assert_ne!(api.ret, 200, "an API error with ret 200");
                assert_eq!(Some(api.ret), ret, "ret changed");
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
