//! Shared by the test files: the merged spec as JSON, and "equal" as the contract defines it.
#![allow(dead_code)]

use serde_json::Value;

/// The merged spec the client was generated from.
pub fn spec() -> Value {
    serde_json::from_str(gewe::OPENAPI_SPEC).expect("OPENAPI_SPEC is JSON")
}

/// Every `(path, operation)` of the merged spec.
pub fn operations(spec: &Value) -> Vec<(String, Value)> {
    let mut out = Vec::new();
    for (path, item) in spec["paths"].as_object().expect("paths") {
        for (_, op) in item.as_object().expect("path item") {
            out.push((path.clone(), op.clone()));
        }
    }
    out
}

/// The example values of a content object (`{"1": {"summary", "value"}}`).
pub fn examples(content: &Value) -> Vec<(String, Value)> {
    content["examples"]
        .as_object()
        .map(|m| {
            m.values()
                .map(|e| {
                    (
                        e["summary"].as_str().unwrap_or("").to_string(),
                        e["value"].clone(),
                    )
                })
                .collect()
        })
        .unwrap_or_default()
}

/// Drops null-valued keys, recursively.
pub fn drop_nulls(v: &Value) -> Value {
    match v {
        Value::Object(m) => Value::Object(
            m.iter()
                .filter(|(_, v)| !v.is_null())
                .map(|(k, v)| (k.clone(), drop_nulls(v)))
                .collect(),
        ),
        Value::Array(a) => Value::Array(a.iter().map(drop_nulls).collect()),
        other => other.clone(),
    }
}

/// Compares after dropping nulls. Integers compare exactly; a float equals an integer only when
/// it holds that integer exactly (a documented `number` decoded as `f64`).
pub fn json_eq(expected: &Value, actual: &Value) -> Result<(), String> {
    eq_at("data", &drop_nulls(expected), &drop_nulls(actual))
}

fn eq_at(at: &str, e: &Value, a: &Value) -> Result<(), String> {
    match (e, a) {
        (Value::Object(em), Value::Object(am)) => {
            for k in em.keys().chain(am.keys()) {
                let (ev, av) = (em.get(k), am.get(k));
                match (ev, av) {
                    (Some(ev), Some(av)) => eq_at(&format!("{at}.{k}"), ev, av)?,
                    (Some(ev), None) => {
                        return Err(format!("{at}.{k}: expected {ev}, missing after decoding"))
                    }
                    (None, Some(av)) => {
                        return Err(format!("{at}.{k}: not in the example, decoded as {av}"))
                    }
                    (None, None) => {}
                }
            }
            Ok(())
        }
        (Value::Array(ea), Value::Array(aa)) => {
            if ea.len() != aa.len() {
                return Err(format!(
                    "{at}: expected {} items, got {}",
                    ea.len(),
                    aa.len()
                ));
            }
            ea.iter()
                .zip(aa)
                .enumerate()
                .try_for_each(|(i, (e, a))| eq_at(&format!("{at}[{i}]"), e, a))
        }
        (Value::Number(en), Value::Number(an)) => {
            let same = match (en.as_i64(), en.as_u64(), an.as_i64(), an.as_u64()) {
                (Some(x), _, Some(y), _) => x == y,
                (_, Some(x), _, Some(y)) => x == y,
                _ => match (en.as_f64(), an.as_f64()) {
                    // One side is a float: equal only if it is an exactly representable integer.
                    (Some(x), Some(y)) => {
                        x == y
                            && (en.is_f64() || x.abs() <= 9_007_199_254_740_992.0)
                            && (an.is_f64() || y.abs() <= 9_007_199_254_740_992.0)
                    }
                    _ => false,
                },
            };
            if same {
                Ok(())
            } else {
                Err(format!("{at}: expected {en}, got {an}"))
            }
        }
        _ if e == a => Ok(()),
        _ => Err(format!("{at}: expected {e}, got {a}")),
    }
}
