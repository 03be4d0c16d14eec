//! The JSON type of a value, named once. It depends on `serde_json` alone, so that the build
//! script can include this file as it is.

use serde_json::Value;

/// The JSON type of `value` in OpenAPI's words: `null`, `boolean`, `integer` (a number
/// `serde_json` holds exactly as `i64` or `u64`), `number`, `string`, `array` or `object`.
pub(crate) fn json_type(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(n) if n.is_i64() || n.is_u64() => "integer",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}
