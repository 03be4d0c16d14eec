//! [`DedupWindow`]: the keys of the last deliveries, to drop GeWe's duplicates.

use crate::Id;
use std::collections::hash_map::RandomState;
use std::collections::{HashSet, VecDeque};
use std::fmt;
use std::hash::{BuildHasher, BuildHasherDefault, Hash, Hasher};
use std::time::{Duration, Instant};

/// The last deliveries' (`Appid`, `Data.NewMsgId`) keys, bounded in count and age, to drop
/// GeWe's duplicate deliveries. [`WebhookServer`](super::WebhookServer) keeps one; it is public for receivers built on
/// another HTTP server.
///
/// Each key is stored as 16 bytes whatever the length of the `Appid`: the id's low 64 bits, and
/// a 64-bit keyed hash (SipHash-1-3 under a random key) of the `Appid` and the id. Deliveries
/// whose ids differ in those bits never collide; two of one id for different devices collide
/// with a probability of about 2⁻⁶⁴. An entry takes 24 bytes in the age-ordered ring (the key
/// and when it was recorded) and 16 bytes (+1 control byte) in the hash set, which hashes a key
/// by its keyed hash alone: about 55–80 bytes per entry with the set's spare room (see
/// [`heap_bytes`](Self::heap_bytes)). Ages are kept in milliseconds.
///
/// ```
/// use gewe::webhook::DedupWindow;
/// use std::time::Duration;
///
/// let mut window = DedupWindow::new(2, Duration::from_secs(3600));
/// let id: gewe::Id = 7u64.into();
/// assert!(window.check_and_insert(Some("wx_a"), &id));
/// assert!(!window.check_and_insert(Some("wx_a"), &id)); // a duplicate
/// assert!(window.check_and_insert(Some("wx_b"), &id)); // another device
/// assert!(window.check_and_insert(Some("wx_c"), &id)); // evicts wx_a's key
/// assert!(window.check_and_insert(Some("wx_a"), &id));
/// ```
pub struct DedupWindow {
    capacity: usize,
    max_age_ms: u64,
    /// Keys with when each was recorded (ms since `start`), oldest first: expiry reads the
    /// front without touching the set, one random memory access fewer per delivery.
    order: VecDeque<(Key, u64)>,
    /// The keys of `order`, to look up.
    seen: HashSet<Key, BuildHasherDefault<KeyHasher>>,
    start: Instant,
    hash_key: RandomState,
}

impl fmt::Debug for DedupWindow {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DedupWindow")
            .field("capacity", &self.capacity)
            .field("max_age_ms", &self.max_age_ms)
            .field("len", &self.order.len())
            .finish_non_exhaustive()
    }
}

/// A delivery's key: the id's low 64 bits and the keyed hash of `Appid` and id. Two `u64`s (not
/// a `u128`) to keep the alignment, and the entries, small.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) struct Key {
    id: u64,
    mac: u64,
}

impl Hash for Key {
    fn hash<H: Hasher>(&self, state: &mut H) {
        // Already a keyed hash, so the set needs no second one: see `KeyHasher`.
        state.write_u64(self.mac);
    }
}

/// The set's hasher: takes a [`Key`]'s keyed hash as it is. An outsider cannot aim keys at one
/// bucket without the random key, so this is as safe as the standard hasher, at no cost.
#[derive(Default)]
pub(super) struct KeyHasher(u64);

impl Hasher for KeyHasher {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        // Only `Key` is hashed, through `write_u64`; fold anything else in all the same.
        for &b in bytes {
            self.0 = self.0.rotate_left(8) ^ u64::from(b);
        }
    }

    fn write_u64(&mut self, n: u64) {
        self.0 = n;
    }
}

impl DedupWindow {
    /// A window of at most `capacity` keys, each kept at most `max_age` (at millisecond
    /// resolution). Nothing is allocated until keys arrive.
    pub fn new(capacity: usize, max_age: Duration) -> Self {
        DedupWindow {
            capacity,
            max_age_ms: u64::try_from(max_age.as_millis()).unwrap_or(u64::MAX),
            order: VecDeque::new(),
            seen: HashSet::default(),
            start: Instant::now(),
            hash_key: RandomState::new(),
        }
    }

    /// Records (`app_id`, `new_msg_id`) and returns `true` when it is new, `false` when it was
    /// recorded within the window (a duplicate).
    pub fn check_and_insert(&mut self, app_id: Option<&str>, new_msg_id: &Id) -> bool {
        let key = self.key(app_id, new_msg_id);
        if self.contains_key(key) {
            return false;
        }
        self.insert_key(key);
        true
    }

    /// How many keys it holds now.
    pub fn len(&self) -> usize {
        self.order.len()
    }

    /// Whether it holds no key.
    pub fn is_empty(&self) -> bool {
        self.order.is_empty()
    }

    /// The most keys it holds.
    pub fn capacity(&self) -> usize {
        self.capacity
    }

    /// The heap memory it holds now, estimated from its containers' capacities: the ring's
    /// slots, and the hash table's buckets (each an entry plus one control byte, plus one group
    /// of control bytes).
    pub fn heap_bytes(&self) -> usize {
        let ring = self.order.capacity() * std::mem::size_of::<(Key, u64)>();
        let usable = self.seen.capacity();
        let table = if usable == 0 {
            0
        } else {
            // hashbrown keeps 1/8 of the buckets free; buckets are a power of two.
            let buckets = (usable * 8).div_ceil(7).next_power_of_two();
            buckets * (std::mem::size_of::<Key>() + 1) + 16
        };
        ring + table
    }

    fn now_ms(&self) -> u64 {
        u64::try_from(self.start.elapsed().as_millis()).unwrap_or(u64::MAX)
    }

    pub(super) fn key(&self, app_id: Option<&str>, id: &Id) -> Key {
        let mut h = self.hash_key.build_hasher();
        // `None` and `Some("")` differ; an `Id` hashes by value, so 7 and "7" are one message.
        app_id.hash(&mut h);
        id.hash(&mut h);
        Key {
            // The low bits, by design: the value is at most 65 bits wide, and the hash tells
            // apart the rare ids that share them.
            id: id.value() as u64,
            mac: h.finish(),
        }
    }

    fn expire(&mut self, now: u64) {
        while let Some(&(oldest, recorded)) = self.order.front() {
            if now.saturating_sub(recorded) < self.max_age_ms {
                break;
            }
            self.seen.remove(&oldest);
            self.order.pop_front();
        }
    }

    pub(super) fn contains_key(&mut self, key: Key) -> bool {
        let now = self.now_ms();
        self.expire(now);
        self.seen.contains(&key)
    }

    /// Records `key`, known to be absent (just checked with `contains_key`).
    pub(super) fn insert_key(&mut self, key: Key) {
        if self.capacity == 0 {
            return;
        }
        let now = self.now_ms();
        while self.order.len() >= self.capacity {
            if let Some((oldest, _)) = self.order.pop_front() {
                self.seen.remove(&oldest);
            }
        }
        self.order.push_back((key, now));
        self.seen.insert(key);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dedup_window_expires_by_age() {
        let mut w = DedupWindow::new(10, Duration::from_millis(30));
        let id: Id = 1u64.into();
        assert!(w.check_and_insert(Some("a"), &id));
        assert!(!w.check_and_insert(Some("a"), &id));
        std::thread::sleep(Duration::from_millis(40));
        assert!(w.check_and_insert(Some("a"), &id));
        assert_eq!(w.len(), 1);
    }

    #[test]
    fn dedup_window_is_bounded_and_unifies_id_forms() {
        let mut w = DedupWindow::new(3, Duration::from_secs(60));
        for i in 0..10u64 {
            assert!(w.check_and_insert(Some("a"), &i.into()));
        }
        assert_eq!(w.len(), 3);
        assert!(!w.check_and_insert(Some("a"), &9u64.into()));
        assert!(w.check_and_insert(Some("a"), &0u64.into()));
        let text: Id = serde_json::from_str("\"9\"").expect("id");
        assert!(!w.check_and_insert(Some("a"), &text));
        assert!(w.check_and_insert(None, &9u64.into()));
        assert!(w.check_and_insert(Some(""), &9u64.into()));
    }
}
