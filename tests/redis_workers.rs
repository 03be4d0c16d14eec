//! The journal read through the workers' consumer group, against a real `redis-server`: each
//! entry goes to one consumer, stays pending until acknowledged, and a dead consumer's pending
//! entries are claimed by another once idle longer than a handler may run, never before; a
//! lease has one holder, and a holder whose lease expired is fenced off by its token.

#[path = "support/store_checks.rs"]
mod checks;
#[path = "support/redis.rs"]
mod redis;

use checks::delivery;
use gewe::bot::store::{Journaled, Store};
use gewe::bot::RedisStore;
use redis::RedisServer;
use std::time::Duration;

const NO_WAIT: Duration = Duration::from_millis(1);

/// One partition, so that sequence numbers are 1, 2, 3, …
async fn one_partition(url: String) -> RedisStore {
    RedisStore::builder(url, "shop")
        .partitions(1)
        .connect()
        .await
        .unwrap()
}

#[tokio::test]
async fn a_dead_consumers_pending_deliveries_are_claimed_once_idle_and_handled_once() {
    let Some(server) = RedisServer::start("workers-claim") else {
        return;
    };
    let ingress = one_partition(server.url()).await;
    // Journaled before any worker joined: the group starts from the journal's first entry.
    for id in 1..=10u64 {
        assert_eq!(
            ingress.journal(delivery(id, "{}")).await.unwrap(),
            Journaled::New(id)
        );
    }
    let worker_a = one_partition(server.url()).await;
    let worker_b = one_partition(server.url()).await;
    let a = worker_a.consumer("worker-a").await.unwrap();
    let b = worker_b.consumer("worker-b").await.unwrap();

    let read = a.read(&[0], 100, NO_WAIT).await.unwrap();
    assert_eq!(
        read.iter().map(|e| e.seq).collect::<Vec<_>>(),
        (1..=10).collect::<Vec<_>>()
    );
    // Each entry goes to one consumer: b gets none of a's.
    assert!(b.read(&[0], 100, NO_WAIT).await.unwrap().is_empty());
    for seq in 1..=4 {
        worker_a.mark_handled(seq).await.unwrap();
    }
    assert_eq!(a.pending(0).await.unwrap(), (6, 0));
    assert_eq!(b.pending(0).await.unwrap(), (0, 6));
    // Worker a dies mid-handler: 5..=10 stay pending under its name.
    drop(a);
    drop(worker_a);

    // Not yet idle for a handler's time: a slow handler is not run twice at once.
    assert!(b
        .claim_idle(0, Duration::from_secs(60), 100)
        .await
        .unwrap()
        .is_empty());
    tokio::time::sleep(Duration::from_millis(300)).await;
    let claimed = b
        .claim_idle(0, Duration::from_millis(200), 100)
        .await
        .unwrap();
    assert_eq!(
        claimed.iter().map(|e| e.seq).collect::<Vec<_>>(),
        (5..=10).collect::<Vec<_>>()
    );
    assert_eq!(b.pending(0).await.unwrap(), (6, 0));
    for seq in 5..=10 {
        worker_b.mark_handled(seq).await.unwrap();
    }
    assert_eq!(b.pending(0).await.unwrap(), (0, 0));
    // Handled: out of the journal, and their dedup keys now expire.
    assert!(ingress.unhandled().await.unwrap().is_empty());
    assert_eq!(
        ingress.journal(delivery(7, "late")).await.unwrap(),
        Journaled::Duplicate
    );
    let ttl: i64 = server.command(&["PTTL", "gewe:{shop}:seen:wx_app/7"])[1..]
        .parse()
        .unwrap();
    assert!(ttl > 0, "{ttl}");
}

#[tokio::test]
async fn a_read_waits_for_the_next_delivery() {
    let Some(server) = RedisServer::start("workers-block") else {
        return;
    };
    let ingress = one_partition(server.url()).await;
    let worker = one_partition(server.url()).await;
    let consumer = worker.consumer("w1").await.unwrap();
    // The same name again joins the same group, no error.
    let _again = worker.consumer("w1").await.unwrap();
    let waiting = tokio::spawn(async move {
        let read = consumer
            .read(&[0], 10, Duration::from_secs(5))
            .await
            .unwrap();
        (consumer, read)
    });
    tokio::time::sleep(Duration::from_millis(200)).await;
    // The worker's store answers while its consumer blocks: the read has its own connection.
    let quick = tokio::time::timeout(Duration::from_secs(1), worker.secret_path("s".into()));
    assert_eq!(quick.await.unwrap().unwrap(), "s");
    assert_eq!(
        ingress.journal(delivery(1, "{}")).await.unwrap(),
        Journaled::New(1)
    );
    let (_consumer, read) = waiting.await.unwrap();
    assert_eq!(read.len(), 1);
    assert_eq!(read[0].seq, 1);
    let bad = worker.consumer("two words").await.unwrap_err();
    assert!(std::error::Error::source(&bad)
        .unwrap()
        .to_string()
        .contains("\"two words\""));
}

/// A lease has one holder at a time; once it expires, another holder takes it under a larger
/// fencing token, and the old holder can neither renew nor release it.
#[tokio::test]
async fn a_lease_has_one_holder_and_an_expired_holder_is_fenced_off() {
    let Some(server) = RedisServer::start("lease") else {
        return;
    };
    let store = RedisStore::connect(server.url(), "shop").await.unwrap();
    let ttl = Duration::from_millis(300);
    let a = store
        .acquire_lease("partition-3", "worker-a", ttl)
        .await
        .unwrap()
        .expect("free");
    assert_eq!(a.token(), 1);
    assert!(store
        .acquire_lease("partition-3", "worker-b", ttl)
        .await
        .unwrap()
        .is_none());
    assert!(a.renew(ttl).await.unwrap());
    // Worker a stalls past its lease; worker b takes the partition.
    tokio::time::sleep(Duration::from_millis(450)).await;
    let b = store
        .acquire_lease("partition-3", "worker-b", Duration::from_secs(30))
        .await
        .unwrap()
        .expect("expired");
    assert!(b.token() > a.token());
    assert!(!a.renew(ttl).await.unwrap(), "a's lease is gone");
    assert!(
        !a.clone().release().await.unwrap(),
        "a cannot release b's lease"
    );
    assert!(b.renew(Duration::from_secs(30)).await.unwrap());
    assert!(b.release().await.unwrap());
    let c = store
        .acquire_lease("partition-3", "worker-a", ttl)
        .await
        .unwrap()
        .expect("released");
    assert_eq!(c.token(), 3);
    let bad = store
        .acquire_lease("p", "w", Duration::ZERO)
        .await
        .unwrap_err();
    assert!(std::error::Error::source(&bad)
        .unwrap()
        .to_string()
        .contains("1 ms"));
}

/// Trimming (`XTRIM MINID`) keeps every entry a worker still needs: the pending ones (read,
/// not handled) and those no worker has read yet; it removes only what lies below them.
#[tokio::test]
async fn trimming_keeps_pending_and_unread_deliveries() {
    let Some(server) = RedisServer::start("workers-trim") else {
        return;
    };
    let store = one_partition(server.url()).await;
    for id in 1..=10u64 {
        store.journal(delivery(id, "{}")).await.unwrap();
    }
    let consumer = store.consumer("w").await.unwrap();
    // 1..=6 read and pending, 7..=10 unread.
    assert_eq!(consumer.read(&[0], 6, NO_WAIT).await.unwrap().len(), 6);
    assert_eq!(consumer.trim(0).await.unwrap(), 0);
    assert_eq!(store.unhandled().await.unwrap().len(), 10);
    // Acknowledged without being deleted (as by a plain XACK): below the oldest pending
    // entry, so trimmed.
    server.command(&[
        "XACK",
        "gewe:{shop}:journal:0",
        "workers",
        "0-1",
        "0-2",
        "0-3",
    ]);
    assert_eq!(consumer.trim(0).await.unwrap(), 3);
    let left: Vec<u64> = store
        .unhandled()
        .await
        .unwrap()
        .iter()
        .map(|e| e.seq)
        .collect();
    assert_eq!(left, (4..=10).collect::<Vec<_>>());
    // Nothing pending: what was read goes, the unread stays.
    server.command(&[
        "XACK",
        "gewe:{shop}:journal:0",
        "workers",
        "0-4",
        "0-5",
        "0-6",
    ]);
    assert_eq!(consumer.trim(0).await.unwrap(), 3);
    let left: Vec<u64> = store
        .unhandled()
        .await
        .unwrap()
        .iter()
        .map(|e| e.seq)
        .collect();
    assert_eq!(left, (7..=10).collect::<Vec<_>>());
}
