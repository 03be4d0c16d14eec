//! Step 3c: request constraints that the operation's own documented example breaks.

use super::names::escape;
use super::SpecError;
use serde_json::{Map, Value};

/// Where a schema sits: the file, its JSON pointer, and the field it describes (`imgUrls[]`).
pub(super) struct Place<'a> {
    pub(super) file: &'a str,
    pub(super) ptr: String,
    pub(super) field: String,
}

impl Place<'_> {
    fn child(&self, ptr: &str, field: String) -> Self {
        Place {
            file: self.file,
            ptr: format!("{}/{ptr}", self.ptr),
            field,
        }
    }
}

/// A request constraint that the operation's own documented request example breaks
/// is a documentation error (apifox put `maxLength: 9`, meant for the number of images, on
/// each image URL). The client must not be stricter than GeWe's example of a real request, so
/// the constraint is dropped, with a warning naming the file, the field and the constraint.
pub(super) fn drop_constraints_broken_by(
    at: &Place,
    schema: &mut Value,
    example: &Value,
    warnings: &mut Vec<SpecError>,
) {
    let Some(map) = schema.as_object_mut() else {
        return;
    };
    let broken: Vec<&str> = CONSTRAINTS
        .iter()
        .copied()
        .filter(|key| map.get(*key).is_some_and(|c| breaks(key, c, map, example)))
        .collect();
    for key in broken {
        let constraint = map.remove(key).unwrap_or_default();
        if key == "enum" {
            map.remove("x-enum-varnames");
            map.remove("x-enum-descriptions");
        }
        let field = if at.field.is_empty() {
            "the body"
        } else {
            at.field.as_str()
        };
        let shown = example.to_string();
        let shown = match shown.char_indices().nth(60) {
            Some((cut, _)) => format!("{}…", &shown[..cut]),
            None => shown,
        };
        warnings.push(SpecError::new(
            at.file,
            &at.ptr,
            format!(
                "the documented request example breaks `{key}: {constraint}` of `{field}` with {shown}; \
                 the client does not enforce it (an overlay in openapi/overlays/ can state what GeWe meant)"
            ),
        ));
    }
    match example {
        Value::Object(ex) => {
            if let Some(Value::Object(props)) = map.get_mut("properties") {
                for (name, value) in ex {
                    if let Some(p) = props.get_mut(name) {
                        let field = if at.field.is_empty() {
                            name.clone()
                        } else {
                            format!("{}.{name}", at.field)
                        };
                        let child = at.child(&format!("properties/{}", escape(name)), field);
                        drop_constraints_broken_by(&child, p, value, warnings);
                    }
                }
            }
        }
        Value::Array(items) => {
            if let Some(item) = map.get_mut("items") {
                let child = at.child("items", format!("{}[]", at.field));
                for value in items {
                    drop_constraints_broken_by(&child, item, value, warnings);
                }
            }
        }
        _ => {}
    }
}

/// The keywords [`drop_constraints_broken_by`] checks: every validation keyword of OpenAPI 3.0
/// that a value can break, except `pattern` (ECMA-262 regex; no export of GeWe's has one).
const CONSTRAINTS: &[&str] = &[
    "enum",
    "minLength",
    "maxLength",
    "minimum",
    "maximum",
    "multipleOf",
    "minItems",
    "maxItems",
    "uniqueItems",
    "minProperties",
    "maxProperties",
];

/// Whether `value` breaks the constraint `key: c` of the schema `map`. A value of another type
/// than the keyword is about breaks nothing, as in JSON Schema.
fn breaks(key: &str, c: &Value, map: &Map<String, Value>, value: &Value) -> bool {
    let exclusive = |k: &str| map.get(k).and_then(Value::as_bool).unwrap_or(false);
    let n = c.as_f64();
    match (key, value) {
        ("enum", v) => c
            .as_array()
            .is_some_and(|values| !v.is_null() && !values.contains(v)),
        ("minLength", Value::String(s)) => n.is_some_and(|n| (s.chars().count() as f64) < n),
        ("maxLength", Value::String(s)) => n.is_some_and(|n| (s.chars().count() as f64) > n),
        ("minimum", Value::Number(v)) => {
            let (v, n) = (v.as_f64(), n);
            matches!((v, n), (Some(v), Some(n)) if v < n || (exclusive("exclusiveMinimum") && v == n))
        }
        ("maximum", Value::Number(v)) => {
            let (v, n) = (v.as_f64(), n);
            matches!((v, n), (Some(v), Some(n)) if v > n || (exclusive("exclusiveMaximum") && v == n))
        }
        ("multipleOf", Value::Number(v)) => match (v.as_f64(), n) {
            (Some(v), Some(n)) if n > 0.0 => (v / n).fract() != 0.0,
            _ => false,
        },
        ("minItems", Value::Array(a)) => n.is_some_and(|n| (a.len() as f64) < n),
        ("maxItems", Value::Array(a)) => n.is_some_and(|n| (a.len() as f64) > n),
        ("uniqueItems", Value::Array(a)) => {
            c.as_bool() == Some(true) && a.iter().enumerate().any(|(i, x)| a[..i].contains(x))
        }
        ("minProperties", Value::Object(o)) => n.is_some_and(|n| (o.len() as f64) < n),
        ("maxProperties", Value::Object(o)) => n.is_some_and(|n| (o.len() as f64) > n),
        _ => false,
    }
}
