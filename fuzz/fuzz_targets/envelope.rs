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
use serde_json::Value;

#[path = "../src/oracle.rs"]
mod oracle;

/// No lowercase letter, digit or quote: `Debug`'s escapes (`\t`, `\u{7f}`, …) cannot spell it
/// out of a body that only nearly holds it (a tab before the rest of a token that starts with
/// `t` prints as `\t…`, spelling the token).
const TOKEN: &str = "GWK_FUZZ_SECRET_MQPZ";

fuzz_target!(|data: &[u8]| {
    let Some((&first, body)) = data.split_first() else {
        return;
    };
    let status = oracle::status(first);
    check::<Value>(status, body);
    check::<gewe::NoData>(status, body);
    check::<ContactsFetchContactsListData>(status, body);
    check::<GroupGetChatroomMemberListData>(status, body);
    check::<MessagePostTextData>(status, body);
    check::<LoginCheckOnlineData>(status, body);
});

fn check<D: DeserializeOwned>(status: u16, body: &[u8]) {
    let result = gewe::fuzzing::decode::<D>(status, body, TOKEN);
    oracle::check_envelope(status, body, TOKEN, &result);
}
