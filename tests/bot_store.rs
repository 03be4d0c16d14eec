//! The bot's file store: each step as the `Store` trait promises it (the checks shared with the
//! Redis store, in `support/store_checks.rs`), and what is the file's own: pruning its dedup
//! keys, and a file that is not a store.

#[path = "support/store_checks.rs"]
mod checks;

use checks::delivery;
use gewe::bot::store::{Journaled, SendKey, SendRecord, Store};
use gewe::bot::FileStore;
use std::time::{Duration, SystemTime};

fn path(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("gewe-store-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir.join("store.redb")
}

/// Runs a shared check on a fresh file, reopened by path.
macro_rules! on_a_file {
    ($check:ident) => {
        #[tokio::test]
        async fn $check() {
            let path = path(stringify!($check));
            checks::$check(async || FileStore::open(&path).unwrap()).await;
        }
    };
}

on_a_file!(journal_dedup_and_handled_survive_reopening);
on_a_file!(a_send_is_begun_once_and_keeps_its_outcome);
on_a_file!(marks_take_effect_in_the_order_they_were_asked_for);
on_a_file!(the_accepted_sends_to_a_chat_come_newest_first);
on_a_file!(pruning_keeps_the_key_and_sends_of_an_unhandled_delivery_whatever_their_age);

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
