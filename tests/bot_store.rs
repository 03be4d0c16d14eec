//! The bot's file store: each step as the `Store` trait promises it, and what survives closing
//! and opening the file again.

use gewe::bot::store::{
    Delivery, DeviceRecord, Journaled, SendKey, SendOutcome, SendRecord, SendSlot, Store,
};
use gewe::bot::FileStore;
use serde_json::json;
use std::time::{Duration, SystemTime};

fn delivery(id: u64, body: &str) -> Delivery {
    Delivery::new(
        Some("wx_app".into()),
        Some(id.into()),
        body.to_owned().into(),
    )
}

fn path(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("gewe-store-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir.join("store.redb")
}

#[tokio::test]
async fn journal_dedup_and_handled_survive_reopening() {
    let path = path("journal");
    {
        let store = FileStore::open(&path).unwrap();
        assert_eq!(
            store.journal(delivery(7, "a")).await.unwrap(),
            Journaled::New(1)
        );
        assert_eq!(
            store.journal(delivery(8, "b")).await.unwrap(),
            Journaled::New(2)
        );
        // The same message, its id written as a string: one key.
        let again = Delivery::new(
            Some("wx_app".into()),
            Some("7".parse().unwrap()),
            "a2".into(),
        );
        assert_eq!(store.journal(again).await.unwrap(), Journaled::Duplicate);
        // Another device's message with the same id is another delivery.
        let other = Delivery::new(Some("wx_other".into()), Some(7u64.into()), "c".into());
        assert_eq!(store.journal(other).await.unwrap(), Journaled::New(3));
        // No NewMsgId (the offline notice): always new.
        let offline = Delivery::new(Some("wx_app".into()), None, "off".into());
        assert_eq!(
            store.journal(offline.clone()).await.unwrap(),
            Journaled::New(4)
        );
        assert_eq!(store.journal(offline).await.unwrap(), Journaled::New(5));
        store.mark_handled(1).await.unwrap();
        store.mark_handled(3).await.unwrap();
        store
            .save_device(DeviceRecord::new("wx_app").with_account(Some("wxid_bot".into()), None))
            .await
            .unwrap();
        assert_eq!(store.secret_path("first".into()).await.unwrap(), "first");
    }
    let store = FileStore::open(&path).unwrap();
    let seqs: Vec<(u64, String)> = store
        .unhandled()
        .await
        .unwrap()
        .into_iter()
        .map(|e| (e.seq, String::from_utf8(e.body.to_vec()).unwrap()))
        .collect();
    assert_eq!(
        seqs,
        [
            (2, "b".to_owned()),
            (4, "off".to_owned()),
            (5, "off".to_owned())
        ]
    );
    // Handled or not, a key journaled before is a duplicate after reopening.
    assert_eq!(
        store.journal(delivery(7, "late")).await.unwrap(),
        Journaled::Duplicate
    );
    assert_eq!(
        store.journal(delivery(8, "late")).await.unwrap(),
        Journaled::Duplicate
    );
    // Sequence numbers go on; none is used twice.
    assert_eq!(
        store.journal(delivery(9, "d")).await.unwrap(),
        Journaled::New(6)
    );
    let device = store.device().await.unwrap().unwrap();
    assert_eq!(
        (device.app_id.as_str(), device.wxid.as_deref()),
        ("wx_app", Some("wxid_bot"))
    );
    assert_eq!(store.secret_path("second".into()).await.unwrap(), "first");
}

#[tokio::test]
async fn a_send_is_begun_once_and_keeps_its_outcome() {
    let path = path("sends");
    let key = SendKey {
        delivery: 4,
        index: 0,
    };
    let next = SendKey {
        delivery: 4,
        index: 1,
    };
    {
        let store = FileStore::open(&path).unwrap();
        let begun = store
            .begin_send(key, SendRecord::begin("/message/postText", "wxid_a"))
            .await
            .unwrap();
        assert_eq!(begun, SendSlot::Fresh);
        store
            .begin_send(next, SendRecord::begin("/message/postText", "wxid_a"))
            .await
            .unwrap();
        let data = json!({"msgId": 1, "newMsgId": 2, "createTime": 3});
        store
            .finish_send(key, SendOutcome::Sent(data))
            .await
            .unwrap();
        // `next` was begun and the process stopped before its outcome.
    }
    let store = FileStore::open(&path).unwrap();
    let SendSlot::Recorded(first) = store
        .begin_send(key, SendRecord::begin("/message/postText", "wxid_a"))
        .await
        .unwrap()
    else {
        panic!("the send was recorded");
    };
    assert_eq!(
        first.outcome,
        Some(SendOutcome::Sent(
            json!({"msgId": 1, "newMsgId": 2, "createTime": 3})
        ))
    );
    assert_eq!(first.to_wxid, "wxid_a");
    let SendSlot::Recorded(second) = store
        .begin_send(next, SendRecord::begin("/message/postText", "wxid_a"))
        .await
        .unwrap()
    else {
        panic!("the send was recorded");
    };
    assert_eq!(second.outcome, None, "begun, outcome unknown");
    assert_eq!(store.sent(key).await.unwrap(), Some(first));
}

#[tokio::test]
async fn marks_take_effect_in_the_order_they_were_asked_for() {
    let path = path("mark-order");
    let store = FileStore::open(&path).unwrap();
    let mut seqs = Vec::new();
    for id in 1..=50u64 {
        match store.journal(delivery(id, "{}")).await.unwrap() {
            Journaled::New(seq) => seqs.push(seq),
            Journaled::Duplicate => panic!("a distinct id"),
        }
    }
    // Ask for every mark, then wait for the last one only: every earlier one is in with it.
    let marks: Vec<_> = seqs.iter().map(|&seq| store.mark_handled(seq)).collect();
    let mut marks = marks.into_iter();
    let last = marks.next_back().unwrap();
    last.await.unwrap();
    assert!(store.unhandled().await.unwrap().is_empty());
    drop(marks);
}

#[tokio::test]
async fn the_accepted_sends_to_a_chat_come_newest_first() {
    let path = path("sends-to");
    let sent =
        |n: u64| SendOutcome::Sent(json!({"msgId": n, "newMsgId": n + 100, "createTime": 7}));
    {
        let store = FileStore::open(&path).unwrap();
        // (delivery, index, chat, outcome): two chats, a failure and one with no outcome.
        let sends = [
            (1, 0, "wxid_a", Some(sent(1))),
            (1, 1, "wxid_b", Some(sent(2))),
            (2, 0, "wxid_a", Some(SendOutcome::Failed("ret 500".into()))),
            (3, 0, "wxid_a", Some(sent(3))),
            (3, 1, "wxid_a", Some(sent(4))),
            (4, 0, "wxid_a", None),
        ];
        for (delivery, index, chat, outcome) in sends {
            let key = SendKey { delivery, index };
            store
                .begin_send(key, SendRecord::begin("/message/postText", chat))
                .await
                .unwrap();
            if let Some(outcome) = outcome {
                store.finish_send(key, outcome).await.unwrap();
            }
        }
    }
    let store = FileStore::open(&path).unwrap();
    let keys = |found: Vec<(SendKey, SendRecord)>| {
        found
            .into_iter()
            .map(|(k, r)| {
                assert_eq!(r.to_wxid, "wxid_a");
                (k.delivery, k.index)
            })
            .collect::<Vec<_>>()
    };
    assert_eq!(
        keys(store.sends_to("wxid_a", 10).await.unwrap()),
        [(3, 1), (3, 0), (1, 0)]
    );
    let newest = store.sends_to("wxid_a", 1).await.unwrap();
    assert_eq!(newest.len(), 1);
    assert_eq!(newest[0].1.outcome, Some(sent(4)));
    assert!(store.sends_to("wxid_nobody", 10).await.unwrap().is_empty());
    assert!(store.sends_to("wxid_a", 0).await.unwrap().is_empty());
}

#[tokio::test]
async fn pruning_forgets_old_keys_and_sends_but_not_unhandled_deliveries() {
    let store = FileStore::open(path("prune")).unwrap();
    assert_eq!(
        store.journal(delivery(1, "a")).await.unwrap(),
        Journaled::New(1)
    );
    assert_eq!(
        store.journal(delivery(2, "b")).await.unwrap(),
        Journaled::New(2)
    );
    store.mark_handled(1).await.unwrap();
    let key = SendKey {
        delivery: 1,
        index: 0,
    };
    store
        .begin_send(key, SendRecord::begin("/message/postText", "wxid_a"))
        .await
        .unwrap();
    let pruned = store
        .prune(SystemTime::now() - Duration::from_secs(60))
        .await
        .unwrap();
    assert_eq!(
        (pruned.keys, pruned.sends),
        (0, 0),
        "nothing is a minute old"
    );
    let later = SystemTime::now() + Duration::from_secs(1);
    let pruned = store.prune(later).await.unwrap();
    // Delivery 1 is handled: its key and its send go. Delivery 2 is not: its key stays.
    assert_eq!((pruned.keys, pruned.sends), (1, 1));
    assert_eq!(store.sent(key).await.unwrap(), None);
    // The unhandled delivery stays; a key forgotten is a new delivery again.
    assert_eq!(store.unhandled().await.unwrap().len(), 1);
    assert_eq!(
        store.journal(delivery(1, "a")).await.unwrap(),
        Journaled::New(3)
    );
    assert_eq!(
        store.journal(delivery(2, "b")).await.unwrap(),
        Journaled::Duplicate
    );
}

/// A delivery left unhandled longer than the retention runs again on the next start: pruning
/// must keep its dedup key and its sends, or the re-run would send again, and a late duplicate
/// would be journaled, and answered, a second time.
#[tokio::test]
async fn pruning_keeps_the_key_and_sends_of_an_unhandled_delivery_whatever_their_age() {
    let path = path("prune-unhandled");
    let key = SendKey {
        delivery: 1,
        index: 0,
    };
    {
        let store = FileStore::open(&path).unwrap();
        assert_eq!(
            store.journal(delivery(1, "a")).await.unwrap(),
            Journaled::New(1)
        );
        store
            .begin_send(key, SendRecord::begin("/message/postText", "wxid_a"))
            .await
            .unwrap();
        let data = json!({"msgId": 1, "newMsgId": 2, "createTime": 3});
        store
            .finish_send(key, SendOutcome::Sent(data))
            .await
            .unwrap();
        // Everything is older than this cutoff; the delivery is not handled yet.
        let pruned = store
            .prune(SystemTime::now() + Duration::from_secs(3600))
            .await
            .unwrap();
        assert_eq!((pruned.keys, pruned.sends), (0, 0));
    }
    // Across a restart too: the key table is read from the file.
    let store = FileStore::open(&path).unwrap();
    let pruned = store
        .prune(SystemTime::now() + Duration::from_secs(3600))
        .await
        .unwrap();
    assert_eq!((pruned.keys, pruned.sends), (0, 0));
    let SendSlot::Recorded(record) = store
        .begin_send(key, SendRecord::begin("/message/postText", "wxid_a"))
        .await
        .unwrap()
    else {
        panic!("the send of the unhandled delivery was pruned: a re-run would send it again");
    };
    assert!(matches!(record.outcome, Some(SendOutcome::Sent(_))));
    assert_eq!(
        store.journal(delivery(1, "late")).await.unwrap(),
        Journaled::Duplicate
    );
    // Once handled, both go at the next prune.
    store.mark_handled(1).await.unwrap();
    let pruned = store
        .prune(SystemTime::now() + Duration::from_secs(3600))
        .await
        .unwrap();
    assert_eq!((pruned.keys, pruned.sends), (1, 1));
    assert_eq!(store.sent(key).await.unwrap(), None);
}

#[test]
fn a_file_that_is_not_a_store_is_an_error_naming_it() {
    let path = path("garbage");
    std::fs::write(&path, b"not a redb file, just text").unwrap();
    let error = FileStore::open(&path).expect_err("not a store");
    let text = error.to_string();
    assert!(
        text.contains(&path.display().to_string()) && text.contains("open"),
        "{text}"
    );
}
