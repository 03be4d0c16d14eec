//! The [`Store`] trait's promises, checked on any store: each check takes `open`, which opens
//! the same store again (the file anew, or a new connection to the same Redis and deployment),
//! so that what survives a reopening is checked too. A check may reopen the store while an
//! earlier handle is dropped; each starts from an empty store.

#![allow(dead_code)]

use gewe::bot::store::{
    Delivery, DeviceRecord, Journaled, SendKey, SendOutcome, SendRecord, SendSlot, Store,
};
use serde_json::json;
use std::time::{Duration, SystemTime};

pub fn delivery(id: u64, body: &str) -> Delivery {
    Delivery::new(
        Some("wx_app".into()),
        Some(id.into()),
        body.to_owned().into(),
    )
}

pub async fn journal_dedup_and_handled_survive_reopening<S: Store>(open: impl AsyncFn() -> S) {
    {
        let store = open().await;
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
    let store = open().await;
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

pub async fn a_send_is_begun_once_and_keeps_its_outcome<S: Store>(open: impl AsyncFn() -> S) {
    let key = SendKey {
        delivery: 4,
        index: 0,
    };
    let next = SendKey {
        delivery: 4,
        index: 1,
    };
    {
        let store = open().await;
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
    let store = open().await;
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

pub async fn marks_take_effect_in_the_order_they_were_asked_for<S: Store>(
    open: impl AsyncFn() -> S,
) {
    let store = open().await;
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

pub async fn the_accepted_sends_to_a_chat_come_newest_first<S: Store>(open: impl AsyncFn() -> S) {
    let sent =
        |n: u64| SendOutcome::Sent(json!({"msgId": n, "newMsgId": n + 100, "createTime": 7}));
    {
        let store = open().await;
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
    let store = open().await;
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

/// A delivery left unhandled longer than the retention runs again on the next start: pruning
/// must keep its dedup key and its sends, or the re-run would send again, and a late duplicate
/// would be journaled, and answered, a second time.
pub async fn pruning_keeps_the_key_and_sends_of_an_unhandled_delivery_whatever_their_age<
    S: Store,
>(
    open: impl AsyncFn() -> S,
) {
    let key = SendKey {
        delivery: 1,
        index: 0,
    };
    {
        let store = open().await;
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
    let store = open().await;
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
    // The file store prunes the key too; Redis expires its keys by itself.
    assert_eq!(pruned.sends, 1);
    assert_eq!(store.sent(key).await.unwrap(), None);
}
