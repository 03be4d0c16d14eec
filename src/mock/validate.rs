//! Checks a JSON value against an OpenAPI 3.0 schema of the merged spec.
//!
//! The mock validates what the client sends against the spec's own schemas, not against the
//! generated Rust types: checking the client with its own types would only test it against
//! itself. Only the keywords the spec uses (and the composites OpenAPI 3.0 allows) are
//! understood; anything else (`format`, `minLength`, vendor extensions, ...) is ignored, because
//! a mock that invents constraints would reject requests GeWe accepts.

use crate::json_type::json_type;
use serde_json::{Map, Value};

/// How deep schemas may nest below one value before the validator gives up. Data depth is
/// bounded by serde_json's recursion limit, but `A: {$ref: A}` would recurse without consuming
/// any data, so this guards against such cycles in the spec.
const MAX_SCHEMA_DEPTH: usize = 64;

/// How much of a value a violation quotes, so one huge string does not flood the message.
const MAX_SHOWN_CHARS: usize = 60;

/// Checks `value` against `schema`, resolving `$ref`s within `doc`, and returns every violation
/// as a readable sentence naming the JSON path, rooted at `root` (e.g. `body.qrUrl: expected
/// string, found integer`). Empty when the value fits.
pub(crate) fn validate(doc: &Value, schema: &Value, value: &Value, root: &str) -> Vec<String> {
    let mut validator = Validator {
        doc,
        violations: Vec::new(),
    };
    validator.check(schema, value, root, 0);
    validator.violations
}

/// One validation run: the document `$ref`s resolve in, and what was found so far.
struct Validator<'a> {
    doc: &'a Value,
    violations: Vec<String>,
}

impl<'a> Validator<'a> {
    fn check(&mut self, schema: &'a Value, value: &Value, path: &str, depth: usize) {
        if depth > MAX_SCHEMA_DEPTH {
            self.violations.push(format!(
                "{path}: the schema nests too deeply (a $ref cycle in the spec?)"
            ));
            return;
        }
        let schema = match schema {
            Value::Object(schema) => schema,
            // Boolean schemas are JSON Schema, not OpenAPI 3.0, but their meaning is unambiguous.
            Value::Bool(false) => {
                self.violations
                    .push(format!("{path}: no value is allowed here"));
                return;
            }
            _ => return,
        };
        if let Some(reference) = schema.get("$ref") {
            match reference.as_str().and_then(|r| self.resolve(r)) {
                Some(target) => self.check(target, value, path, depth + 1),
                None => self
                    .violations
                    .push(format!("{path}: cannot resolve $ref {reference}")),
            }
            // OpenAPI 3.0: keywords next to a $ref are ignored.
            return;
        }

        let nullable = schema.get("nullable").and_then(Value::as_bool) == Some(true);
        if value.is_null() && nullable {
            // Before the composites: `{nullable: true, allOf: [{$ref}]}` is how OpenAPI 3.0
            // spells a nullable reference, and the referenced schema itself is not nullable.
            return;
        }

        self.composites(schema, value, path, depth);

        if let Some(ty) = schema.get("type") {
            if !type_matches(ty, value) {
                self.violations.push(format!(
                    "{path}: expected {}, found {}",
                    type_name(ty),
                    json_type(value)
                ));
                // Nothing below makes sense for a value of the wrong type.
                return;
            }
        }

        if let Some(allowed) = schema.get("enum").and_then(Value::as_array) {
            if !allowed.iter().any(|a| json_eq(a, value)) {
                let list: Vec<String> = allowed.iter().map(show).collect();
                self.violations.push(format!(
                    "{path}: {} is not one of {}",
                    show(value),
                    list.join(", ")
                ));
            }
        }

        match value {
            Value::Object(map) => self.object(schema, map, path, depth),
            Value::Array(items) => {
                if let Some(item_schema) = schema.get("items") {
                    for (i, item) in items.iter().enumerate() {
                        self.check(item_schema, item, &format!("{path}[{i}]"), depth + 1);
                    }
                }
            }
            _ => {}
        }
    }

    /// `allOf` (every branch), `anyOf` (at least one) and `oneOf` (exactly one).
    fn composites(
        &mut self,
        schema: &'a Map<String, Value>,
        value: &Value,
        path: &str,
        depth: usize,
    ) {
        if let Some(all) = schema.get("allOf").and_then(Value::as_array) {
            for branch in all {
                self.check(branch, value, path, depth + 1);
            }
        }
        if let Some(any) = schema.get("anyOf").and_then(Value::as_array) {
            let results = self.branches(any, value, path, depth);
            if !results.iter().any(Vec::is_empty) {
                self.violations.push(format!(
                    "{path}: matches none of the {} anyOf alternatives ({})",
                    any.len(),
                    summary(&results)
                ));
            }
        }
        if let Some(one) = schema.get("oneOf").and_then(Value::as_array) {
            let results = self.branches(one, value, path, depth);
            match results.iter().filter(|r| r.is_empty()).count() {
                1 => {}
                0 => self.violations.push(format!(
                    "{path}: matches none of the {} oneOf alternatives ({})",
                    one.len(),
                    summary(&results)
                )),
                n => self.violations.push(format!(
                    "{path}: matches {n} of the oneOf alternatives, expected exactly one"
                )),
            }
        }
    }

    /// The violations of each branch, found apart from the main run so that a failing branch
    /// of an `anyOf` does not count against the value when another branch fits.
    fn branches(
        &self,
        branches: &'a [Value],
        value: &Value,
        path: &str,
        depth: usize,
    ) -> Vec<Vec<String>> {
        branches
            .iter()
            .map(|branch| {
                let mut sub = Validator {
                    doc: self.doc,
                    violations: Vec::new(),
                };
                sub.check(branch, value, path, depth + 1);
                sub.violations
            })
            .collect()
    }

    fn object(
        &mut self,
        schema: &'a Map<String, Value>,
        map: &Map<String, Value>,
        path: &str,
        depth: usize,
    ) {
        if let Some(required) = schema.get("required").and_then(Value::as_array) {
            for name in required.iter().filter_map(Value::as_str) {
                if !map.contains_key(name) {
                    self.violations
                        .push(format!("{path}: missing required property {name}"));
                }
            }
        }
        let properties = schema.get("properties").and_then(Value::as_object);
        for (key, item) in map {
            let child = child_path(path, key);
            match properties.and_then(|p| p.get(key)) {
                Some(property) => self.check(property, item, &child, depth + 1),
                None => match schema.get("additionalProperties") {
                    Some(Value::Bool(false)) => self
                        .violations
                        .push(format!("{child}: property not allowed")),
                    Some(extra @ Value::Object(_)) => self.check(extra, item, &child, depth + 1),
                    // Absent or `true`: OpenAPI 3.0 allows any other property.
                    _ => {}
                },
            }
        }
    }

    /// A local reference (`#/components/schemas/X`); the merged spec has no others.
    fn resolve(&self, reference: &str) -> Option<&'a Value> {
        self.doc.pointer(reference.strip_prefix('#')?)
    }
}

/// Whether `value` has the OpenAPI `type` (a name, or a list of names as in OpenAPI 3.1).
fn type_matches(ty: &Value, value: &Value) -> bool {
    match ty {
        Value::String(name) => name_matches(name, value),
        Value::Array(names) => names
            .iter()
            .filter_map(Value::as_str)
            .any(|name| name_matches(name, value)),
        _ => true,
    }
}

fn name_matches(name: &str, value: &Value) -> bool {
    match name {
        "string" => value.is_string(),
        // A JSON integer of any size serde_json keeps exactly (i64 or u64): GeWe's ids such as
        // 14305741204655704125 exceed i64. 1.0 is a float to serde_json, and not an integer here.
        "integer" => value.is_i64() || value.is_u64(),
        "number" => value.is_number(),
        "boolean" => value.is_boolean(),
        "array" => value.is_array(),
        "object" => value.is_object(),
        "null" => value.is_null(),
        // A type the validator does not know is a spec problem, not the request's.
        _ => true,
    }
}

fn type_name(ty: &Value) -> String {
    match ty {
        Value::String(name) => name.clone(),
        Value::Array(names) => {
            let names: Vec<&str> = names.iter().filter_map(Value::as_str).collect();
            names.join(" or ")
        }
        other => other.to_string(),
    }
}

/// Equality for `enum`, where `1` and `1.0` are the same number.
fn json_eq(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) if x.is_f64() || y.is_f64() => {
            x.as_f64() == y.as_f64()
        }
        _ => a == b,
    }
}

/// `path.key` for plain keys, `path["odd key"]` for the rest, so the path stays unambiguous.
fn child_path(path: &str, key: &str) -> String {
    let mut chars = key.chars();
    let plain = chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_' || c == '$')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '$');
    if plain {
        format!("{path}.{key}")
    } else {
        format!("{path}[{}]", Value::String(key.to_owned()))
    }
}

/// A value as JSON, cut to [`MAX_SHOWN_CHARS`] characters.
fn show(value: &Value) -> String {
    let text = value.to_string();
    match text.char_indices().nth(MAX_SHOWN_CHARS) {
        Some((cut, _)) => format!("{}…", &text[..cut]),
        None => text,
    }
}

/// The first violation of each failing branch, for an `anyOf`/`oneOf` message.
fn summary(results: &[Vec<String>]) -> String {
    let firsts: Vec<&str> = results
        .iter()
        .filter_map(|r| r.first().map(String::as_str))
        .collect();
    firsts.join(" | ")
}

#[cfg(test)]
mod tests {
    use super::validate;
    use serde_json::{json, Value};

    fn doc() -> Value {
        json!({
            "components": {"schemas": {
                "Request": {
                    "type": "object",
                    "additionalProperties": false,
                    "required": ["appId", "qrUrl"],
                    "properties": {
                        "appId": {"type": "string"},
                        "qrUrl": {"type": "string"},
                        "note": {"type": "string", "nullable": true},
                        "kind": {"type": "integer", "enum": [1, 2, 3]},
                        "msgId": {"type": "integer"},
                        "wxids": {"type": "array", "items": {"type": "string"}},
                        "members": {"type": "array", "items": {"$ref": "#/components/schemas/Member"}},
                        "extra": {"type": "object", "additionalProperties": {"type": "boolean"}},
                        "anything": {}
                    }
                },
                "Member": {
                    "type": "object",
                    "required": ["wxid"],
                    "properties": {"wxid": {"type": "string"}, "age": {"type": "number"}}
                },
                "Loop": {"$ref": "#/components/schemas/Loop"},
                "Either": {"anyOf": [{"type": "string"}, {"type": "integer"}]},
                "One": {"oneOf": [{"type": "integer"}, {"type": "number"}]},
                "NullableRef": {"nullable": true, "allOf": [{"$ref": "#/components/schemas/Member"}]}
            }}
        })
    }

    fn check(name: &str, value: Value) -> Vec<String> {
        let doc = doc();
        let schema = json!({"$ref": format!("#/components/schemas/{name}")});
        validate(&doc, &schema, &value, "body")
    }

    #[test]
    fn a_fitting_body_has_no_violations() {
        let body = json!({
            "appId": "wx_1", "qrUrl": "https://weixin.qq.com/g/x", "note": "hi", "kind": 2,
            "wxids": ["a", "b"], "members": [{"wxid": "a", "age": 3.5, "other": 1}],
            "extra": {"x": true}, "anything": [1, "two", null]
        });
        assert_eq!(check("Request", body), Vec::<String>::new());
    }

    #[test]
    fn type_mismatch() {
        let v = check("Request", json!({"appId": "x", "qrUrl": 5}));
        assert_eq!(v, ["body.qrUrl: expected string, found integer"]);
        let v = check("Request", json!(["x"]));
        assert_eq!(v, ["body: expected object, found array"]);
    }

    #[test]
    fn missing_required() {
        let v = check("Request", json!({"qrUrl": "y"}));
        assert_eq!(v, ["body: missing required property appId"]);
    }

    #[test]
    fn additional_properties_false_rejects_unknown_keys() {
        let v = check(
            "Request",
            json!({"appId": "x", "qrUrl": "y", "foo": 1, "a b": 2}),
        );
        assert_eq!(
            v,
            [
                "body[\"a b\"]: property not allowed",
                "body.foo: property not allowed"
            ]
        );
    }

    #[test]
    fn additional_properties_schema_checks_the_values() {
        let v = check(
            "Request",
            json!({"appId": "x", "qrUrl": "y", "extra": {"k": "no"}}),
        );
        assert_eq!(v, ["body.extra.k: expected boolean, found string"]);
    }

    #[test]
    fn nullable() {
        assert!(check("Request", json!({"appId": "x", "qrUrl": "y", "note": null})).is_empty());
        let v = check("Request", json!({"appId": null, "qrUrl": "y"}));
        assert_eq!(v, ["body.appId: expected string, found null"]);
        assert!(check("NullableRef", Value::Null).is_empty());
        assert_eq!(
            check("NullableRef", json!({})),
            ["body: missing required property wxid"]
        );
    }

    #[test]
    fn enumeration() {
        assert!(check("Request", json!({"appId": "x", "qrUrl": "y", "kind": 3})).is_empty());
        let v = check("Request", json!({"appId": "x", "qrUrl": "y", "kind": 4}));
        assert_eq!(v, ["body.kind: 4 is not one of 1, 2, 3"]);
    }

    #[test]
    fn nested_array_items() {
        let v = check(
            "Request",
            json!({"appId": "x", "qrUrl": "y", "wxids": ["a", 7]}),
        );
        assert_eq!(v, ["body.wxids[1]: expected string, found integer"]);
    }

    #[test]
    fn references_resolve_inside_arrays() {
        let v = check(
            "Request",
            json!({"appId": "x", "qrUrl": "y", "members": [{"wxid": "a"}, {"age": "old"}]}),
        );
        assert_eq!(
            v,
            [
                "body.members[1]: missing required property wxid",
                "body.members[1].age: expected number, found string"
            ]
        );
    }

    #[test]
    fn unresolvable_and_cyclic_references_are_reported_not_looped() {
        let v = check("Nope", json!({}));
        assert_eq!(
            v,
            ["body: cannot resolve $ref \"#/components/schemas/Nope\""]
        );
        let v = check("Loop", json!({}));
        assert_eq!(v.len(), 1);
        assert!(v[0].contains("nests too deeply"), "{v:?}");
    }

    #[test]
    fn big_u64_integer_is_an_integer() {
        // Parsed from text, as the server does: 14305741204655704125 > i64::MAX.
        let body: Value =
            serde_json::from_str(r#"{"appId":"x","qrUrl":"y","msgId":14305741204655704125}"#)
                .expect("valid JSON");
        assert!(check("Request", body).is_empty());
        let body: Value =
            serde_json::from_str(r#"{"appId":"x","qrUrl":"y","msgId":-5}"#).expect("valid JSON");
        assert!(check("Request", body).is_empty());
    }

    #[test]
    fn float_is_not_an_integer() {
        let body: Value =
            serde_json::from_str(r#"{"appId":"x","qrUrl":"y","msgId":1.0}"#).expect("valid JSON");
        assert_eq!(
            check("Request", body),
            ["body.msgId: expected integer, found number"]
        );
        // Beyond u64, serde_json keeps only a float: not exact, so not an integer either.
        let body: Value =
            serde_json::from_str(r#"{"appId":"x","qrUrl":"y","msgId":18446744073709551616}"#)
                .expect("valid JSON");
        assert_eq!(
            check("Request", body),
            ["body.msgId: expected integer, found number"]
        );
    }

    #[test]
    fn any_of_and_one_of() {
        assert!(check("Either", json!("a")).is_empty());
        assert!(check("Either", json!(1)).is_empty());
        let v = check("Either", json!(true));
        assert_eq!(v.len(), 1);
        assert!(
            v[0].starts_with("body: matches none of the 2 anyOf"),
            "{v:?}"
        );
        assert!(check("One", json!(1.5)).is_empty());
        // 1 is both an integer and a number.
        let v = check("One", json!(1));
        assert_eq!(
            v,
            ["body: matches 2 of the oneOf alternatives, expected exactly one"]
        );
    }

    #[test]
    fn untyped_schema_accepts_anything() {
        for value in [json!(null), json!(1), json!("s"), json!({"a": [1]})] {
            let body = json!({"appId": "x", "qrUrl": "y", "anything": value});
            assert!(check("Request", body).is_empty());
        }
    }
}
