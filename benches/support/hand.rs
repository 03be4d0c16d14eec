//! The hand-written call the overhead benchmarks compare gewe with: `reqwest` + `serde_json`
//! doing the same work as `Client::message_post_text`.

use serde::Deserialize;
use std::time::Duration;

/// The hand-written equivalent of `MessagePostTextData` and its envelope.
#[derive(Deserialize)]
#[allow(dead_code)]
pub struct HandEnvelope {
    pub ret: i64,
    pub msg: Option<String>,
    pub data: Option<HandData>,
}

/// `MessagePostTextData`'s fields, by hand.
#[derive(Deserialize)]
#[allow(dead_code)]
#[serde(rename_all = "camelCase")]
pub struct HandData {
    pub to_wxid: Option<String>,
    pub create_time: Option<i64>,
    pub msg_id: Option<u64>,
    pub new_msg_id: Option<u64>,
    #[serde(rename = "type")]
    pub kind: Option<i64>,
}

/// POSTs `body` to `{base}/message/postText` as gewe does: the URL built per call (as a client
/// of many endpoints builds it), the token header, gewe's 60 s per-request timeout; then decodes
/// the envelope and checks `ret`.
pub async fn post_text(
    http: &reqwest::Client,
    base: &str,
    token: &str,
    body: &gewe::types::MessagePostTextRequest,
) -> HandData {
    let bytes = http
        .post(format!("{base}/message/postText"))
        .header("X-GEWE-TOKEN", token)
        .timeout(Duration::from_secs(60))
        .json(body)
        .send()
        .await
        .expect("sent")
        .bytes()
        .await
        .expect("body");
    let envelope: HandEnvelope = serde_json::from_slice(&bytes).expect("decodes");
    assert_eq!(envelope.ret, 200);
    envelope.data.expect("data")
}
