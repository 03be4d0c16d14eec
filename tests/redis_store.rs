//! The Redis store against a real `redis-server` (tests/support/redis.rs): the `Store` trait's
//! promises (the checks shared with the file store), the dedup keys' expiry, two ingress
//! replicas on one Redis, deployments kept apart, Redis killed with `SIGKILL` and restarted on
//! its files, and a bot on the mock echoing through it.

#[path = "support/bot.rs"]
mod bot_support;
#[path = "support/store_checks.rs"]
mod checks;
#[path = "support/redis.rs"]
mod redis;

use bot_support::{echo, eventually, private_text, scratch, start, wait_for};
use checks::delivery;
use gewe::bot::store::{Journaled, Store};
use gewe::bot::RedisStore;
use gewe::mock::MockServer;
use redis::RedisServer;
use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::Duration;

/// A store of `deployment` with one partition, so that sequence numbers are 1, 2, 3, …
async fn one_partition(
    url: impl Into<String>,
    deployment: &str,
) -> Result<RedisStore, gewe::bot::store::StoreError> {
    RedisStore::builder(url, deployment)
        .partitions(1)
        .connect()
        .await
}

/// Runs a shared check on a fresh server; `open` connects anew to the same deployment.
macro_rules! on_redis {
    ($check:ident) => {
        #[tokio::test]
        async fn $check() {
            let Some(server) = RedisServer::start(stringify!($check)) else {
                return;
            };
            let url = server.url();
            checks::$check(async || one_partition(url.clone(), "checks").await.unwrap()).await;
        }
    };
}

on_redis!(journal_dedup_and_handled_survive_reopening);
on_redis!(a_send_is_begun_once_and_keeps_its_outcome);
on_redis!(marks_take_effect_in_the_order_they_were_asked_for);
on_redis!(the_accepted_sends_to_a_chat_come_newest_first);
on_redis!(pruning_keeps_the_key_and_sends_of_an_unhandled_delivery_whatever_their_age);

#[tokio::test]
async fn a_dedup_key_expires_only_once_its_delivery_is_handled() {
    let Some(server) = RedisServer::start("dedup-ttl") else {
        return;
    };
    let store = RedisStore::builder(server.url(), "ttl")
        .partitions(1)
        .dedup_days(3)
        .connect()
        .await
        .unwrap();
    assert_eq!(store.key_prefix(), "gewe:{ttl}:");
    assert_eq!(
        store.journal(delivery(7, "a")).await.unwrap(),
        Journaled::New(1)
    );
    let key = "gewe:{ttl}:seen:wx_app/7";
    // Waiting: no expiry, so that a late duplicate of a waiting delivery is always dropped.
    assert_eq!(server.command(&["PTTL", key]), ":-1");
    store.mark_handled(1).await.unwrap();
    let ttl: i64 = server.command(&["PTTL", key])[1..].parse().unwrap();
    let three_days = 3 * 86_400_000;
    assert!(ttl > three_days - 60_000 && ttl <= three_days, "{ttl}");
    assert_eq!(
        store.journal(delivery(7, "late")).await.unwrap(),
        Journaled::Duplicate
    );
    assert_eq!(server.command(&["XLEN", "gewe:{ttl}:journal"]), ":0");
}

/// Two webhook replicas behind a load balancer get the same delivery at the same moment: one
/// journals it, the other sees a duplicate, and the journal holds it once.
#[tokio::test]
async fn a_duplicate_across_two_replicas_is_journaled_once() {
    let Some(server) = RedisServer::start("two-replicas") else {
        return;
    };
    let one = one_partition(server.url(), "shop").await.unwrap();
    let two = one_partition(server.url(), "shop").await.unwrap();
    let mut new = 0;
    for id in 1..=200u64 {
        let body = format!("{{\"n\":{id}}}");
        let (a, b) = tokio::join!(
            one.journal(delivery(id, &body)),
            two.journal(delivery(id, &body))
        );
        let outcomes = [a.unwrap(), b.unwrap()];
        let fresh = outcomes
            .iter()
            .filter(|o| matches!(o, Journaled::New(_)))
            .count();
        assert_eq!(fresh, 1, "delivery {id}: {outcomes:?}");
        assert!(outcomes.contains(&Journaled::Duplicate));
        new += fresh;
    }
    assert_eq!(new, 200);
    let waiting = one.unhandled().await.unwrap();
    let seqs: Vec<u64> = waiting.iter().map(|e| e.seq).collect();
    assert_eq!(
        seqs,
        (1..=200).collect::<Vec<_>>(),
        "one entry each, in order"
    );
    assert_eq!(two.unhandled().await.unwrap(), waiting);
}

#[tokio::test]
async fn deployments_on_one_redis_keep_apart() {
    let Some(server) = RedisServer::start("deployments") else {
        return;
    };
    let shop = one_partition(server.url(), "shop").await.unwrap();
    let blog = one_partition(server.url(), "blog").await.unwrap();
    assert_eq!(
        shop.journal(delivery(1, "a")).await.unwrap(),
        Journaled::New(1)
    );
    assert_eq!(
        blog.journal(delivery(1, "a")).await.unwrap(),
        Journaled::New(1)
    );
    assert_eq!(shop.secret_path("s".into()).await.unwrap(), "s");
    assert_eq!(blog.secret_path("b".into()).await.unwrap(), "b");
    assert!(
        shop.location().contains("deployment shop"),
        "{}",
        shop.location()
    );
}

#[tokio::test]
async fn bad_settings_and_an_unreachable_redis_are_errors_naming_them() {
    let bad = RedisStore::connect("redis://127.0.0.1:1/", "a b")
        .await
        .unwrap_err();
    assert!(
        format!("{bad}: {}", std::error::Error::source(&bad).unwrap()).contains("\"a b\""),
        "{bad}"
    );
    let bad = RedisStore::connect("http://127.0.0.1:1/", "x")
        .await
        .unwrap_err();
    let why = std::error::Error::source(&bad).unwrap().to_string();
    assert!(
        bad.to_string().contains("parse the URL") && why.contains("redis://"),
        "{bad}: {why}"
    );
    let bad = RedisStore::builder("redis://127.0.0.1:1/", "x")
        .dedup_days(0)
        .connect()
        .await
        .unwrap_err();
    assert!(std::error::Error::source(&bad)
        .unwrap()
        .to_string()
        .contains("dedup_days"));
    // Nothing listens on port 1; the password stays out of the message.
    let down = RedisStore::connect("redis://:hunter2@127.0.0.1:1/", "x")
        .await
        .unwrap_err();
    let text = down.to_string();
    assert!(
        text.contains("connect") && text.contains("redis://127.0.0.1:1/"),
        "{text}"
    );
    assert!(!format!("{down:?}").contains("hunter2"), "{down:?}");
}

/// Ingress journals under load while Redis is killed with `SIGKILL`: every delivery it was told
/// is journaled (the 200 GeWe would get) is in the journal after the restart on the same files,
/// and the store reconnects by itself.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_delivery_acknowledged_before_a_sigkill_is_journaled_after_the_restart() {
    let Some(mut server) = RedisServer::start("sigkill") else {
        return;
    };
    let store = Arc::new(one_partition(server.url(), "kill").await.unwrap());
    let writers: Vec<_> = (0..4u64)
        .map(|w| {
            let store = Arc::clone(&store);
            tokio::spawn(async move {
                let mut acknowledged = Vec::new();
                let mut refused = 0u32;
                for i in 0..100_000u64 {
                    let id = w * 1_000_000 + i;
                    match store
                        .journal(delivery(id, &format!("{{\"id\":{id}}}")))
                        .await
                    {
                        Ok(Journaled::New(seq)) => acknowledged.push(seq),
                        Ok(Journaled::Duplicate) => panic!("{id} is new"),
                        // The webhook answers 503 here: GeWe delivers it again later.
                        Err(_) => {
                            refused += 1;
                            if refused > 3 {
                                break;
                            }
                        }
                    }
                }
                acknowledged
            })
        })
        .collect();
    tokio::time::sleep(Duration::from_millis(400)).await;
    server.kill();
    let mut acknowledged = BTreeSet::new();
    for writer in writers {
        acknowledged.extend(writer.await.unwrap());
    }
    assert!(
        acknowledged.len() > 50,
        "some load before the kill: {}",
        acknowledged.len()
    );
    println!(
        "{} deliveries acknowledged before the kill",
        acknowledged.len()
    );
    // While Redis is down, journaling fails (the webhook's 503), and nothing is acknowledged.
    assert!(store.journal(delivery(1, "down")).await.is_err());
    server.restart();
    let journaled: BTreeSet<u64> = async {
        for _ in 0..100 {
            if let Ok(entries) = store.unhandled().await {
                return entries.into_iter().map(|e| e.seq).collect();
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("the store did not reconnect within 10 s of the restart");
    }
    .await;
    let lost: Vec<_> = acknowledged.difference(&journaled).collect();
    assert!(
        lost.is_empty(),
        "{} acknowledged and lost: {lost:?}",
        lost.len()
    );
    // It journals again, under a sequence number never given before.
    let Journaled::New(seq) = store.journal(delivery(9_999_999, "back")).await.unwrap() else {
        panic!("a new id");
    };
    assert!(seq > *journaled.last().unwrap());
}

/// A bot on the mock with its store in Redis echoes a delivery once, drops GeWe's redelivery,
/// answers 503 while Redis is down, and takes deliveries again once it is back.
#[tokio::test]
async fn a_bot_on_redis_echoes_once_and_answers_503_while_redis_is_down() {
    let Some(mut server) = RedisServer::start("bot-echo") else {
        return;
    };
    let mock = MockServer::start().await.unwrap();
    let dir = scratch("redis-echo");
    let store = RedisStore::connect(server.url(), "echo").await.unwrap();
    let bot = start(&mock, &dir, |bot| echo(bot.store(store))).await;
    let hello = private_text("wxid_friend", "你好, redis", 7_360_843_532_347_813_421);
    assert_eq!(mock.push_callback(&hello).await.unwrap(), 200);
    let sent = wait_for(&mock, "/message/postText", 1).await;
    assert_eq!(sent[0]["content"], "你好, redis");
    assert_eq!(mock.push_callback(&hello).await.unwrap(), 200);
    assert!(
        eventually(|| bot.stats().handled == 1).await,
        "{:?}",
        bot.stats()
    );
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert_eq!(mock.received_for("/message/postText").len(), 1);
    assert_eq!(bot.stats().duplicates, 1);
    // The device and the secret path are in Redis, for every process of the deployment.
    let secret = bot.callback_url().rsplit('/').next().unwrap().to_owned();
    assert_eq!(
        server.command(&["GET", "gewe:{echo}:secret_path"]),
        format!("$ {secret}")
    );

    server.kill();
    let later = private_text("wxid_friend", "while down", 42);
    assert_eq!(mock.push_callback(&later).await.unwrap(), 503);
    server.restart();
    let mut status = 0;
    for _ in 0..100 {
        status = mock.push_callback(&later).await.unwrap();
        if status == 200 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(status, 200, "taken once Redis is back");
    let sent = wait_for(&mock, "/message/postText", 2).await;
    assert_eq!(sent[1]["content"], "while down");
    assert!(bot.shutdown().await);
}

/// The journal script appends before it marks the delivery seen, and a script that fails
/// midway is not undone: when the append fails, the delivery must not be left marked seen,
/// or GeWe's redelivery would be dropped as a duplicate of a delivery never journaled.
#[tokio::test]
async fn a_delivery_whose_append_fails_is_not_marked_seen() {
    let Some(server) = RedisServer::start("append-fails") else {
        return;
    };
    let store = one_partition(server.url(), "fail").await.unwrap();
    assert_eq!(
        store.journal(delivery(1, "a")).await.unwrap(),
        Journaled::New(1)
    );
    // A counter behind the stream: the next XADD's id is not above the last one, and fails.
    assert_eq!(server.command(&["SET", "gewe:{fail}:next_seq", "0"]), "+OK");
    let error = store.journal(delivery(2, "b")).await.unwrap_err();
    assert!(error.to_string().contains("journal a delivery"), "{error}");
    assert_eq!(
        server.command(&["EXISTS", "gewe:{fail}:seen:wx_app/2"]),
        ":0"
    );
    // Once the counter is past the stream again, GeWe's redelivery is journaled.
    assert_eq!(server.command(&["SET", "gewe:{fail}:next_seq", "5"]), "+OK");
    assert_eq!(
        store.journal(delivery(2, "b")).await.unwrap(),
        Journaled::New(6)
    );
}

/// A bot process that stopped after journaling a delivery and before its handler finished:
/// the next process of the deployment handles it, and the journal is empty after.
#[tokio::test]
async fn a_delivery_left_in_redis_by_a_stopped_bot_is_handled_by_the_next_one() {
    let Some(server) = RedisServer::start("bot-replay") else {
        return;
    };
    let mock = MockServer::start().await.unwrap();
    let dir = scratch("redis-replay");
    let event = private_text("wxid_friend", "left behind", 77);
    {
        let store = one_partition(server.url(), "replay").await.unwrap();
        let body = serde_json::to_vec(&event).unwrap();
        let left = gewe::bot::store::Delivery::new(
            Some(bot_support::APP_ID.into()),
            Some(77u64.into()),
            body.into(),
        );
        assert_eq!(store.journal(left).await.unwrap(), Journaled::New(1));
    }
    let store = one_partition(server.url(), "replay").await.unwrap();
    let bot = start(&mock, &dir, |bot| echo(bot.store(store.clone()))).await;
    let sent = wait_for(&mock, "/message/postText", 1).await;
    assert_eq!(sent[0]["content"], "left behind");
    // GeWe's late redelivery of it is a duplicate.
    assert_eq!(mock.push_callback(&event).await.unwrap(), 200);
    assert!(
        eventually(|| bot.stats().duplicates == 1).await,
        "{:?}",
        bot.stats()
    );
    assert!(bot.shutdown().await);
    assert!(store.unhandled().await.unwrap().is_empty());
    assert_eq!(mock.received_for("/message/postText").len(), 1);
}

/// The journal is read back in pages of `XRANGE`: past the first page, in order, none twice.
#[tokio::test]
async fn the_journal_reads_back_past_one_page_in_order() {
    let Some(server) = RedisServer::start("pages") else {
        return;
    };
    let store = one_partition(server.url(), "pages").await.unwrap();
    let journaled = futures_util::future::join_all(
        (1..=2_500u64).map(|id| store.journal(delivery(id, &format!("{{\"id\":{id}}}")))),
    )
    .await;
    assert!(journaled.iter().all(|j| matches!(j, Ok(Journaled::New(_)))));
    store.mark_handled(1_000).await.unwrap();
    let seqs: Vec<u64> = store
        .unhandled()
        .await
        .unwrap()
        .into_iter()
        .map(|e| e.seq)
        .collect();
    let expected: Vec<u64> = (1..=2_500).filter(|&s| s != 1_000).collect();
    assert_eq!(seqs, expected);
}
