//! Field order: the doc page's, never alphabetical. The generated calls take required fields as
//! positional arguments in this order, so it is carried by `required`, an array, through every
//! step:
//!
//! 1. while loading, `required` is put in the order of `properties` in the file
//!    ([`keep_file_order`]); serde_json's map is sorted, so the file's order is read apart;
//! 2. while normalizing, apifox's `x-apifox-orders`, where an export has it, wins
//!    ([`apply_apifox_orders`]); a name it does not list keeps its place after the listed ones.

use serde::de::{self, Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Value};
use std::fmt;

/// apifox's record of a schema's property order.
const APIFOX_ORDERS: &str = "x-apifox-orders";

/// The order of the keys of every mapping in a YAML (or JSON) text.
#[derive(Default)]
pub struct KeyOrder {
    keys: Vec<(String, KeyOrder)>,
    items: Vec<KeyOrder>,
}

impl KeyOrder {
    fn get(&self, key: &str) -> Option<&KeyOrder> {
        self.keys.iter().find(|(k, _)| k == key).map(|(_, o)| o)
    }

    fn position(&self, key: &str) -> Option<usize> {
        self.keys.iter().position(|(k, _)| k == key)
    }
}

/// The loading rule: every schema's `required` in the order of its `properties` in the file
/// that `doc` was read from, whose key order is `order`.
pub fn keep_file_order(doc: &mut Value, order: &KeyOrder) {
    match doc {
        Value::Object(map) => {
            if let (Some(props), Some(Value::Array(required))) =
                (order.get("properties"), map.get_mut("required"))
            {
                sort_by(required, |name| props.position(name));
            }
            for (key, child) in map.iter_mut() {
                if let Some(o) = order.get(key) {
                    keep_file_order(child, o);
                }
            }
        }
        Value::Array(items) => {
            for (child, o) in items.iter_mut().zip(&order.items) {
                keep_file_order(child, o);
            }
        }
        _ => {}
    }
}

/// The normalizing rule, on one schema object: `required` in `x-apifox-orders`' order.
pub fn apply_apifox_orders(map: &mut Map<String, Value>) {
    let Some(Value::Array(orders)) = map.get(APIFOX_ORDERS) else {
        return;
    };
    let orders: Vec<String> = orders
        .iter()
        .filter_map(Value::as_str)
        .map(str::to_string)
        .collect();
    if let Some(Value::Array(required)) = map.get_mut("required") {
        sort_by(required, |name| orders.iter().position(|o| o == name));
    }
}

/// A stable sort of names by `place`; names without one go last, in the order they had.
fn sort_by(names: &mut [Value], place: impl Fn(&str) -> Option<usize>) {
    names.sort_by_key(|n| n.as_str().and_then(&place).unwrap_or(usize::MAX));
}

impl<'de> Deserialize<'de> for KeyOrder {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(OrderVisitor)
    }
}

struct OrderVisitor;

impl<'de> Visitor<'de> for OrderVisitor {
    type Value = KeyOrder;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("any YAML value")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<KeyOrder, A::Error> {
        let mut keys = Vec::new();
        while let Some(Key(key)) = map.next_key()? {
            keys.push((key, map.next_value()?));
        }
        Ok(KeyOrder {
            keys,
            items: Vec::new(),
        })
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<KeyOrder, A::Error> {
        let mut items = Vec::new();
        while let Some(item) = seq.next_element()? {
            items.push(item);
        }
        Ok(KeyOrder {
            keys: Vec::new(),
            items,
        })
    }

    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<KeyOrder, D::Error> {
        KeyOrder::deserialize(d)
    }

    fn visit_newtype_struct<D: Deserializer<'de>>(self, d: D) -> Result<KeyOrder, D::Error> {
        KeyOrder::deserialize(d)
    }

    fn visit_bool<E: de::Error>(self, _: bool) -> Result<KeyOrder, E> {
        Ok(KeyOrder::default())
    }

    fn visit_i64<E: de::Error>(self, _: i64) -> Result<KeyOrder, E> {
        Ok(KeyOrder::default())
    }

    fn visit_u64<E: de::Error>(self, _: u64) -> Result<KeyOrder, E> {
        Ok(KeyOrder::default())
    }

    fn visit_i128<E: de::Error>(self, _: i128) -> Result<KeyOrder, E> {
        Ok(KeyOrder::default())
    }

    fn visit_u128<E: de::Error>(self, _: u128) -> Result<KeyOrder, E> {
        Ok(KeyOrder::default())
    }

    fn visit_f64<E: de::Error>(self, _: f64) -> Result<KeyOrder, E> {
        Ok(KeyOrder::default())
    }

    fn visit_str<E: de::Error>(self, _: &str) -> Result<KeyOrder, E> {
        Ok(KeyOrder::default())
    }

    fn visit_unit<E: de::Error>(self) -> Result<KeyOrder, E> {
        Ok(KeyOrder::default())
    }

    fn visit_none<E: de::Error>(self) -> Result<KeyOrder, E> {
        Ok(KeyOrder::default())
    }
}

/// A mapping key, read as serde_json's map reads it: as a string.
struct Key(String);

impl<'de> Deserialize<'de> for Key {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_str(KeyVisitor)
    }
}

struct KeyVisitor;

impl Visitor<'_> for KeyVisitor {
    type Value = Key;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a mapping key")
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Key, E> {
        Ok(Key(v.to_string()))
    }

    fn visit_bool<E: de::Error>(self, v: bool) -> Result<Key, E> {
        Ok(Key(v.to_string()))
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Key, E> {
        Ok(Key(v.to_string()))
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Key, E> {
        Ok(Key(v.to_string()))
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Key, E> {
        Ok(Key(v.to_string()))
    }
}
