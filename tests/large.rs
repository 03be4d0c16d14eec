//! Large bodies arrive in many chunks and decode whole.

use gewe::mock::{MockReply, MockServer};
use serde_json::json;

#[tokio::test]
async fn five_thousand_contacts_decode_whole() {
    let mock = MockServer::start().await.unwrap();
    let client = mock.client().unwrap();
    let friends: Vec<String> = (0..5000).map(|i| format!("wxid_friend_{i:05}")).collect();
    let chatrooms: Vec<String> = (0..500)
        .map(|i| format!("{}@chatroom", 34_559_815_390u64 + i))
        .collect();
    mock.enqueue(
        "/contacts/fetchContactsList",
        MockReply::ok(Some(
            json!({"friends": friends, "chatrooms": chatrooms, "ghs": []}),
        )),
    );
    let body = serde_json::from_value(json!({"appId": "wx_app"})).unwrap();
    let data = client.contacts_fetch_contacts_list(&body).await.unwrap();
    assert_eq!(data.friends.as_deref(), Some(&friends[..]));
    assert_eq!(data.chatrooms.unwrap().len(), 500);
}
