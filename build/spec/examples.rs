//! Examples: collected from whatever form apifox used, apifox variables replaced, and what a
//! documented example corrects in its own schema.

use super::example_text::json_texts;
use super::schema::convert;
use super::{Result, SpecError};
use serde_json::{json, Map, Value};

/// The `application/json` schema and the examples of a request body or response, examples
/// collected into `{"1": {summary, value}}` whatever form apifox used.
pub(super) fn json_content(
    file: &str,
    ptr: &str,
    holder: &mut Value,
) -> Result<(Option<Value>, Map<String, Value>)> {
    let Some(content) = holder.get_mut("content").and_then(Value::as_object_mut) else {
        return Ok((None, Map::new()));
    };
    let key = content
        .keys()
        .find(|k| k.starts_with("application/json") || k.ends_with("+json") || k.as_str() == "*/*")
        .cloned();
    let Some(key) = key else {
        if content.is_empty() {
            return Ok((None, Map::new()));
        }
        let found: Vec<&String> = content.keys().collect();
        return Err(SpecError::new(
            file,
            &format!("{ptr}/content"),
            format!("expected application/json content, found {found:?}"),
        ));
    };
    let media = content.get_mut(&key).and_then(Value::as_object_mut);
    let Some(media) = media else {
        return Ok((None, Map::new()));
    };
    let schema = media.remove("schema");
    let mut examples = Map::new();
    if let Some(v) = media.remove("example") {
        examples.insert("1".into(), json!({"summary": "示例", "value": v}));
    }
    if let Some(Value::Object(exs)) = media.remove("examples") {
        for (k, ex) in exs {
            let value = ex.get("value").cloned().unwrap_or(Value::Null);
            let summary = ex.get("summary").cloned().unwrap_or_else(|| json!(k));
            let key = (examples.len() + 1).to_string();
            examples.insert(key, json!({"summary": summary, "value": value}));
        }
    }
    let mut out = Map::new();
    for ex in examples.into_iter().map(|(_, ex)| ex) {
        let summary = ex.get("summary").cloned().unwrap_or(Value::Null);
        let mut values = match ex.get("value") {
            // A whole-body example kept as text: apifox stores JSON with comments, or several
            // labelled JSON texts, as a string. Each JSON text in it is an example.
            Some(Value::String(text)) => json_texts(text),
            Some(v) => vec![v.clone()],
            None => vec![],
        };
        for v in &mut values {
            replace_placeholders(v);
            let key = (out.len() + 1).to_string();
            out.insert(key, json!({"summary": summary, "value": v}));
        }
    }
    Ok((schema, out))
}

/// apifox variables in examples (`{{appid}}`) become plain sample strings (`example-appid`).
fn replace_placeholders(v: &mut Value) {
    match v {
        Value::String(s) if s.contains("{{") => {
            let mut out = String::new();
            let mut rest = s.as_str();
            while let Some(start) = rest.find("{{") {
                let Some(end) = rest[start..].find("}}") else {
                    break;
                };
                out.push_str(&rest[..start]);
                out.push_str("example-");
                out.push_str(rest[start + 2..start + end].trim());
                rest = &rest[start + end + 2..];
            }
            out.push_str(rest);
            *s = out;
        }
        Value::Array(items) => items.iter_mut().for_each(replace_placeholders),
        Value::Object(map) => map.values_mut().for_each(replace_placeholders),
        _ => {}
    }
}

// The JSON type names, from the file the library names them in.
#[path = "../../src/json_type.rs"]
mod json_type_name;

/// The JSON type of an example value, as an OpenAPI type name; `None` for `null`, which names
/// no type.
fn json_type(v: &Value) -> Option<&'static str> {
    Some(json_type_name::json_type(v)).filter(|t| *t != "null")
}

/// A schema for a value that only an example documents.
fn infer(v: &Value) -> Value {
    match v {
        Value::Null => json!({"nullable": true}),
        Value::Array(items) => {
            let mut item = items
                .iter()
                .find(|i| !i.is_null())
                .map(infer)
                .unwrap_or_else(|| json!({}));
            for i in items {
                reconcile(&mut item, i);
            }
            json!({"type": "array", "items": item})
        }
        Value::Object(map) => {
            let props: Map<String, Value> =
                map.iter().map(|(k, v)| (k.clone(), infer(v))).collect();
            json!({"type": "object", "properties": props})
        }
        other => json!({"type": json_type(other)}),
    }
}

/// Step 3b: where a documented example breaks its own schema, the example wins: it is what GeWe
/// actually sent. Keys only in the example become optional properties, and a scalar of another
/// type changes the declared type (an integer field shown as a string becomes a string).
pub fn reconcile(schema: &mut Value, example: &Value) {
    let Some(map) = schema.as_object_mut() else {
        return;
    };
    if map.contains_key("$ref") || example.is_null() {
        return;
    }
    for key in ["oneOf", "anyOf", "allOf"] {
        if map.contains_key(key) {
            return;
        }
    }
    let declared = map.get("type").and_then(Value::as_str).map(str::to_string);
    let Some(actual) = json_type(example) else {
        return;
    };
    let fits = match declared.as_deref() {
        None => false,
        Some("number") => actual == "integer" || actual == "number",
        Some(t) => t == actual,
    };
    if !fits {
        let nullable = map.get("nullable").cloned();
        let description = map.get("description").cloned();
        let keep_object = declared.is_none() && actual == "object";
        if !keep_object || !map.contains_key("properties") {
            let mut fresh = infer(example);
            if let (Some(d), Some(m)) = (description, fresh.as_object_mut()) {
                m.insert("description".into(), d);
            }
            if let (Some(n), Some(m)) = (nullable, fresh.as_object_mut()) {
                m.insert("nullable".into(), n);
            }
            *schema = fresh;
            return;
        }
        map.insert("type".into(), json!("object"));
    }
    match example {
        Value::Object(ex) => {
            let props = map.entry("properties").or_insert_with(|| json!({}));
            if let Some(props) = props.as_object_mut() {
                for (k, v) in ex {
                    match props.get_mut(k) {
                        Some(p) => reconcile(p, v),
                        None => {
                            props.insert(k.clone(), infer(v));
                        }
                    }
                }
            }
        }
        Value::Array(items) => {
            let item = map.entry("items").or_insert_with(|| json!({}));
            for i in items {
                reconcile(item, i);
            }
        }
        _ => {}
    }
}

/// A request example that breaks its schema: the schema is the contract GeWe checks, so a
/// scalar of another type is converted to the declared type (`1` → `"1"` for a string field).
/// Keys only in the example become optional properties; a value that cannot be converted
/// changes the schema, as on the response side.
pub fn coerce_request_example(schema: &mut Value, example: &mut Value) {
    let Some(map) = schema.as_object_mut() else {
        return;
    };
    let declared = map.get("type").and_then(Value::as_str).map(str::to_string);
    match (declared.as_deref(), example) {
        (Some("object"), Value::Object(ex)) => {
            let props = map.entry("properties").or_insert_with(|| json!({}));
            let Some(props) = props.as_object_mut() else {
                return;
            };
            for (k, v) in ex.iter_mut() {
                match props.get_mut(k) {
                    Some(p) => coerce_request_example(p, v),
                    None => {
                        props.insert(k.clone(), infer(v));
                    }
                }
            }
        }
        (Some("array"), Value::Array(items)) => {
            let item = map.entry("items").or_insert_with(|| json!({}));
            items
                .iter_mut()
                .for_each(|i| coerce_request_example(item, i));
        }
        (Some(ty), v)
            if !v.is_null() && json_type(v) != Some(ty) && !(ty == "number" && v.is_number()) =>
        {
            match convert(v, ty) {
                Some(converted) => *v = converted,
                None => reconcile(schema, v),
            }
        }
        _ => {}
    }
}
