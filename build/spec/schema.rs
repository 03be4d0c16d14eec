//! Step 3a: one schema. Fixes apifox's quirks in types, nullability, `required`, defaults and
//! enums, and fails on what cannot be fixed.

use super::names::escape;
use super::{Result, SpecError};
use serde_json::{json, Map, Value};

const TYPES: &[&str] = &["string", "integer", "number", "boolean", "array", "object"];

/// Which side of the wire a schema describes: requests keep `required`, responses do not.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Side {
    Request,
    Response,
}

/// Step 3a: one schema. Fixes apifox's quirks, fails on what cannot be fixed.
pub fn normalize_schema(file: &str, ptr: &str, schema: &mut Value, side: Side) -> Result<()> {
    let Some(map) = schema.as_object_mut() else {
        if schema.is_boolean() {
            *schema = json!({});
            return Ok(());
        }
        return Err(SpecError::new(file, ptr, "a schema must be a mapping"));
    };
    if map.contains_key("$ref") {
        map.retain(|k, _| k == "$ref");
        return Ok(());
    }
    // `type: 'null'` (invalid in 3.0) and `type: [X, 'null']` (JSON Schema style).
    match map.get("type").cloned() {
        Some(Value::String(t)) if t == "null" => {
            map.remove("type");
            map.insert("nullable".into(), json!(true));
        }
        Some(Value::String(t)) if t == "any" => {
            map.remove("type");
        }
        Some(Value::String(t)) if !TYPES.contains(&t.as_str()) => {
            return Err(SpecError::new(
                file,
                &format!("{ptr}/type"),
                format!("unknown type `{t}`"),
            ));
        }
        Some(Value::Array(ts)) => {
            let names: Vec<&str> = ts.iter().filter_map(Value::as_str).collect();
            if let Some(bad) = names
                .iter()
                .find(|t| **t != "null" && **t != "any" && !TYPES.contains(t))
            {
                return Err(SpecError::new(
                    file,
                    &format!("{ptr}/type"),
                    format!("unknown type `{bad}`"),
                ));
            }
            let real: Vec<&str> = names
                .iter()
                .copied()
                .filter(|t| *t != "null" && *t != "any")
                .collect();
            map.remove("type");
            if names.contains(&"null") {
                map.insert("nullable".into(), json!(true));
            }
            if real.len() == 1 && !names.contains(&"any") {
                map.insert("type".into(), json!(real[0]));
            }
        }
        Some(Value::String(_)) | None => {}
        Some(other) => {
            return Err(SpecError::new(
                file,
                &format!("{ptr}/type"),
                format!("`type` must be a string, found {other}"),
            ));
        }
    }
    let ty = map.get("type").and_then(Value::as_str).map(str::to_string);
    if ty.is_some() && ty.as_deref() != Some("object") {
        map.remove("additionalProperties");
        map.remove("properties");
        map.remove("required");
    }
    if ty.as_deref() != Some("array") && ty.is_some() {
        map.remove("items");
    }
    if ty.as_deref() == Some("array") && !map.contains_key("items") {
        map.insert("items".into(), json!({}));
    }
    if ty.is_none() && map.contains_key("properties") {
        map.insert("type".into(), json!("object"));
    }
    // apifox writes `additionalProperties: false` on fields of any type, `type: 'null'` ones
    // too; left on an untyped field it would make progenitor generate an empty struct.
    if map.get("type").and_then(Value::as_str) != Some("object") {
        map.remove("additionalProperties");
    }
    fit_to_type(map);
    if let Some(Value::Object(props)) = map.get_mut("properties") {
        for (name, p) in props.iter_mut() {
            normalize_schema(file, &format!("{ptr}/properties/{}", escape(name)), p, side)?;
            // Real responses send null for any field, arrays and objects included.
            if let (Side::Response, Some(p)) = (side, p.as_object_mut()) {
                if !p.contains_key("$ref") {
                    p.insert("nullable".into(), json!(true));
                }
            }
        }
    }
    match map.get_mut("additionalProperties") {
        Some(Value::Object(_)) => {
            let ap = map.get_mut("additionalProperties").unwrap();
            normalize_schema(file, &format!("{ptr}/additionalProperties"), ap, side)?;
        }
        Some(Value::Bool(_)) | None => {}
        Some(_) => {
            map.remove("additionalProperties");
        }
    }
    if let Some(items) = map.get_mut("items") {
        normalize_schema(file, &format!("{ptr}/items"), items, side)?;
    }
    for key in ["allOf", "oneOf", "anyOf"] {
        if let Some(Value::Array(subs)) = map.get_mut(key) {
            for (i, s) in subs.iter_mut().enumerate() {
                normalize_schema(file, &format!("{ptr}/{key}/{i}"), s, side)?;
            }
        }
    }
    match side {
        // apifox marks every response field required; real responses omit them or send null.
        Side::Response => {
            map.remove("required");
        }
        Side::Request => {
            let names: Vec<String> = map
                .get("properties")
                .and_then(Value::as_object)
                .map(|p| p.keys().cloned().collect())
                .unwrap_or_default();
            if let Some(Value::Array(req)) = map.get_mut("required") {
                req.retain(|r| r.as_str().is_some_and(|r| names.iter().any(|n| n == r)));
                if req.is_empty() {
                    map.remove("required");
                }
            }
        }
    }
    Ok(())
}

/// Defaults and enum values that do not fit their type are converted when they can be
/// (`"1"` for an integer), dropped otherwise; progenitor rejects them as `InvalidValue`.
fn fit_to_type(map: &mut Map<String, Value>) {
    let ty = map.get("type").and_then(Value::as_str).map(str::to_string);
    let Some(ty) = ty else { return };
    if let Some(d) = map.get("default").cloned() {
        match convert(&d, &ty) {
            Some(v) => {
                map.insert("default".into(), v);
            }
            None => {
                map.remove("default");
            }
        }
    }
    if let Some(Value::Array(values)) = map.get("enum").cloned() {
        let converted: Vec<Option<Value>> = values.iter().map(|v| convert(v, &ty)).collect();
        if converted.iter().all(Option::is_some) && !converted.is_empty() {
            map.insert(
                "enum".into(),
                Value::Array(converted.into_iter().flatten().collect()),
            );
        } else {
            // A partial enum would reject real values; keep the plain type.
            map.remove("enum");
            map.remove("x-enum-varnames");
            map.remove("x-enum-descriptions");
        }
    }
}

pub(super) fn convert(v: &Value, ty: &str) -> Option<Value> {
    match (ty, v) {
        ("string", Value::String(_)) => Some(v.clone()),
        ("string", Value::Number(n)) => Some(json!(n.to_string())),
        ("string", Value::Bool(b)) => Some(json!(b.to_string())),
        ("integer", Value::Number(n)) if n.is_i64() || n.is_u64() => Some(v.clone()),
        ("integer", Value::String(s)) => s.trim().parse::<i64>().ok().map(|i| json!(i)),
        ("number", Value::Number(_)) => Some(v.clone()),
        ("number", Value::String(s)) => s
            .trim()
            .parse::<f64>()
            .ok()
            .and_then(serde_json::Number::from_f64)
            .map(Value::Number),
        ("boolean", Value::Bool(_)) => Some(v.clone()),
        ("boolean", Value::String(s)) => s.trim().parse::<bool>().ok().map(|b| json!(b)),
        ("array", Value::Array(_)) | ("object", Value::Object(_)) => Some(v.clone()),
        _ => None,
    }
}

/// Request objects reject unknown fields, so a typo is caught by name before anything is sent.
pub(super) fn close_objects(schema: &mut Value) {
    let Some(map) = schema.as_object_mut() else {
        return;
    };
    if map.get("type").and_then(Value::as_str) == Some("object")
        && map
            .get("properties")
            .and_then(Value::as_object)
            .is_some_and(|p| !p.is_empty())
        && !map.contains_key("additionalProperties")
    {
        map.insert("additionalProperties".into(), json!(false));
    }
    if let Some(Value::Object(props)) = map.get_mut("properties") {
        props.values_mut().for_each(close_objects);
    }
    if let Some(items) = map.get_mut("items") {
        close_objects(items);
    }
}
