//! Field order: the doc page's, never alphabetical. apifox records it in `x-apifox-orders`; an
//! export without it is read in the order of `properties` in the file, which the loader keeps
//! (serde_json's `preserve_order`). The order ends up in `required`, an array, which keeps it
//! through every later step: the generated calls take required fields in that order.

use serde_json::{Map, Value};

/// apifox's record of a schema's property order.
const APIFOX_ORDERS: &str = "x-apifox-orders";

/// Puts `properties` and `required` of one schema object in the page's order. Names in
/// `x-apifox-orders` that are not properties are ignored; properties it does not list follow,
/// in file order.
pub fn order_fields(map: &mut Map<String, Value>) {
    let Some(Value::Object(props)) = map.get("properties") else {
        return;
    };
    let listed = map
        .get(APIFOX_ORDERS)
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .filter(|name| props.contains_key(*name));
    let mut order: Vec<String> = Vec::with_capacity(props.len());
    for name in listed.chain(props.keys().map(String::as_str)) {
        if !order.iter().any(|o| o == name) {
            order.push(name.to_string());
        }
    }
    if let Some(Value::Object(props)) = map.get_mut("properties") {
        let mut old = std::mem::take(props);
        for name in &order {
            if let Some((k, v)) = old.shift_remove_entry(name) {
                props.insert(k, v);
            }
        }
    }
    if let Some(Value::Array(required)) = map.get_mut("required") {
        // Names that are not properties go last; normalization drops them later.
        required.sort_by_key(|r| {
            r.as_str()
                .and_then(|r| order.iter().position(|o| o == r))
                .unwrap_or(usize::MAX)
        });
    }
}
