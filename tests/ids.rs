//! GeWe's 64-bit ids decode exactly and go back with the same digits, never through f64. The
//! values are real-size (the docs' examples were rounded by JavaScript and end in `000`).

use gewe::mock::{MockReply, MockServer};
use gewe::{Client, Id};
use serde_json::{json, Value};

/// Above 2^53, inside i64: a `newMsgId`.
const NEW_MSG_ID: u64 = 7_360_843_532_347_813_421;
/// Above i64::MAX: `snsId`, `objectId`, finder `id`, `maxId`, `displayid`, `draftObjectId`.
const BIG: u64 = 14_381_299_491_553_024_123;
const BIG2: u64 = 18_446_744_073_709_551_557;

async fn setup() -> (MockServer, Client) {
    let mock = MockServer::start().await.expect("mock");
    let client = mock.client().expect("client");
    (mock, client)
}

#[test]
fn id_holds_any_i64_or_u64_and_keeps_its_digits() {
    for text in [
        "0",
        "-1",
        "9223372036854775807",
        "-9223372036854775808",
        "9223372036854775808",
        "18446744073709551615",
    ] {
        let id: Id = serde_json::from_str(text).unwrap();
        assert_eq!(serde_json::to_string(&id).unwrap(), text);
        assert_eq!(id.to_string(), text);
        assert_eq!(text.parse::<Id>().unwrap(), id);
    }
    let quoted: Id = serde_json::from_str("\"14381299491553024123\"").unwrap();
    assert!(quoted.is_string());
    assert_eq!(
        serde_json::to_string(&quoted).unwrap(),
        "\"14381299491553024123\""
    );
    assert!(
        serde_json::from_str::<Id>("1.4381299491553024e19").is_err(),
        "a float has lost digits already"
    );
    assert!(
        serde_json::from_str::<Id>("18446744073709551616").is_err(),
        "above u64::MAX"
    );
    assert!("12a".parse::<Id>().is_err());
}

#[tokio::test]
async fn new_msg_id_and_msg_id_from_post_text() {
    let (mock, client) = setup().await;
    mock.enqueue(
        "/message/postText",
        MockReply::ok(Some(json!({"toWxid": "wxid_x", "createTime": 1705045160, "msgId": 769_533_801_u64, "newMsgId": NEW_MSG_ID, "type": 1}))),
    );
    let body = serde_json::from_value(json!({"appId": "wx", "toWxid": "wxid_x", "content": "hi"}))
        .unwrap();
    let data = client.message_post_text(&body).await.unwrap();
    assert_eq!(data.new_msg_id.unwrap().as_u64(), Some(NEW_MSG_ID));
    assert_eq!(data.msg_id.unwrap().as_i64(), Some(769_533_801));

    // Passing the ids back to revokeMsg sends exactly the digits received.
    let revoke = serde_json::from_value(json!({
        "appId": "wx", "toWxid": "wxid_x", "createTime": "1705045160",
        "msgId": data.msg_id.unwrap().to_string(), "newMsgId": data.new_msg_id.unwrap().to_string(),
    }))
    .unwrap();
    client.message_revoke_msg(&revoke).await.unwrap();
    let sent = mock.received_for("/message/revokeMsg");
    assert_eq!(sent[0].body["newMsgId"], json!(NEW_MSG_ID.to_string()));
}

async fn typed_roundtrip(
    client: &Client,
    mock: &MockServer,
    path: &str,
    body: Value,
    data: Value,
) -> Value {
    mock.enqueue(path, MockReply::ok(Some(data)));
    client
        .call_json_typed(path, body)
        .await
        .unwrap_or_else(|e| panic!("{path}: {e}"))
}

#[tokio::test]
async fn sns_ids_above_i64_max() {
    let (mock, client) = setup().await;
    let data = json!({"maxId": BIG, "snsList": [{"id": BIG2, "userName": "wxid_x", "createTime": 1, "commentList": [{"commentId": BIG}]}]});
    let out = typed_roundtrip(
        &client,
        &mock,
        "/sns/snsList",
        json!({"appId": "wx", "maxId": 0, "decrypt": true, "firstPageMd5": ""}),
        data,
    )
    .await;
    assert_eq!(out["maxId"].as_u64(), Some(BIG));
    assert_eq!(out["snsList"][0]["id"].as_u64(), Some(BIG2));
    assert_eq!(
        out["snsList"][0]["commentList"][0]["commentId"].as_u64(),
        Some(BIG)
    );
}

#[tokio::test]
async fn sns_id_documented_as_number_is_sent_exactly() {
    let (mock, client) = setup().await;
    let body = serde_json::from_value(json!({"appId": "wx", "snsId": BIG2})).unwrap();
    client.sns_del_sns(&body).await.unwrap();
    assert_eq!(mock.received()[0].body["snsId"].as_u64(), Some(BIG2));
}

#[tokio::test]
async fn finder_object_ids_display_ids_and_draft_ids() {
    let (mock, client) = setup().await;
    let data =
        json!({"object": [{"id": BIG, "displayid": BIG2, "objectDesc": {"draftObjectId": BIG}}]});
    let out = typed_roundtrip(&client, &mock, "/finder/userPage", json!({"appId": "wx", "toUserName": "v2_x@finder", "maxId": BIG, "lastBuffer": "", "searchInfo": {"cookies": "", "searchId": ""}}), data).await;
    let object = &out["object"][0];
    assert_eq!(
        (
            object["id"].as_u64(),
            object["displayid"].as_u64(),
            object["objectDesc"]["draftObjectId"].as_u64()
        ),
        (Some(BIG), Some(BIG2), Some(BIG))
    );
    assert_eq!(
        mock.received()[0].body["maxId"].as_u64(),
        Some(BIG),
        "maxId goes out exact"
    );
}

#[tokio::test]
async fn finder_comment_id_and_object_id_in_requests() {
    let (mock, client) = setup().await;
    let out = typed_roundtrip(&client, &mock, "/finder/scanComment", json!({"appId": "wx", "myUserName": "v2_me@finder", "myRoleType": 3, "qrContent": "x", "objectId": BIG2, "commentContent": "hi", "replyUsername": "", "refCommentId": 0, "rootCommentId": 0}), json!({"commentId": BIG})).await;
    assert_eq!(out["commentId"].as_u64(), Some(BIG));
    assert_eq!(mock.received()[0].body["objectId"].as_u64(), Some(BIG2));
}

#[tokio::test]
async fn private_letter_message_ids() {
    let (mock, client) = setup().await;
    let data = json!({"list": [{"content": {"msg": {"MsgId": 1_234_567_890_123_u64, "NewMsgId": NEW_MSG_ID}}}]});
    let out = typed_roundtrip(
        &client,
        &mock,
        "/finder/syncPrivateLetterMsg",
        json!({"appId": "wx", "keyBuff": ""}),
        data,
    )
    .await;
    assert_eq!(
        out["list"][0]["content"]["msg"]["NewMsgId"].as_u64(),
        Some(NEW_MSG_ID)
    );
}
