//! Load, normalize and merge GeWe's apifox exports into one OpenAPI 3.0 document.
//!
//! This file has no progenitor dependency so that tests can include it with `#[path]` and check each
//! rule on its own. Every rule here is general: nothing names an endpoint.

use serde_json::{json, Map, Value};
use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};

/// Path prefixes stripped from every path: GeWe cloud and self-hosted gewechat.
const PATH_PREFIXES: &[&str] = &["/gewe/v2/api", "/v2/api"];
const TYPES: &[&str] = &["string", "integer", "number", "boolean", "array", "object"];
const METHODS: &[&str] = &[
    "get", "put", "post", "delete", "options", "head", "patch", "trace",
];

/// A broken spec: the file, a JSON pointer into it, and what is wrong.
#[derive(Debug, Clone, PartialEq)]
pub struct SpecError {
    pub file: String,
    pub pointer: String,
    pub message: String,
}

impl SpecError {
    pub fn new(file: &str, pointer: &str, message: impl Into<String>) -> Self {
        Self {
            file: file.to_string(),
            pointer: pointer.to_string(),
            message: message.into(),
        }
    }
}

impl fmt::Display for SpecError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.pointer.is_empty() {
            write!(f, "{}: {}", self.file, self.message)
        } else {
            write!(f, "{}: at {}: {}", self.file, self.pointer, self.message)
        }
    }
}

type Result<T, E = SpecError> = std::result::Result<T, E>;

/// One spec file as read from disk.
pub struct Source {
    /// Path relative to the crate root, with `/` separators, for messages.
    pub file: String,
    /// The folder under `openapi/` the file sits in: the docs module.
    pub module: Option<String>,
    pub doc: Value,
}

/// The folder of `openapi/` that holds our own schemas (the callbacks), which are not exports.
pub const OURS_DIR: &str = "ours";
/// The folder of `openapi/` that holds our refinements of the exports, as OpenAPI Overlays.
pub const OVERLAYS_DIR: &str = "overlays";

/// The spec files under `openapi/`, by who wrote them, each list in sorted order.
#[derive(Debug, Default, PartialEq)]
pub struct Layout {
    /// GeWe's apifox exports, one per endpoint, in `openapi/<module>/`.
    pub exports: Vec<PathBuf>,
    /// Our own schemas, in `openapi/ours/`.
    pub ours: Vec<PathBuf>,
    /// Our refinements of the exports, in `openapi/overlays/`, applied in this order.
    pub overlays: Vec<PathBuf>,
}

/// Step 1: every `*.yaml`, `*.yml` and `*.json` under `dir`, recursively, sorted by kind.
pub fn discover(dir: &Path) -> std::io::Result<Layout> {
    let mut layout = Layout::default();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d)? {
            let path = entry?.path();
            if path.is_dir() {
                stack.push(path);
            } else if matches!(
                path.extension().and_then(|e| e.to_str()),
                Some("yaml" | "yml" | "json")
            ) {
                let top = path
                    .strip_prefix(dir)
                    .ok()
                    .and_then(|rel| rel.components().next())
                    .map(|c| c.as_os_str().to_string_lossy().to_string());
                match top.as_deref() {
                    Some(OURS_DIR) => layout.ours.push(path),
                    Some(OVERLAYS_DIR) => layout.overlays.push(path),
                    _ => layout.exports.push(path),
                }
            }
        }
    }
    layout.exports.sort();
    layout.ours.sort();
    layout.overlays.sort();
    Ok(layout)
}

/// Step 2: parse one file (YAML or JSON) into a JSON value.
pub fn load(root: &Path, path: &Path) -> Result<Source> {
    let rel = path.strip_prefix(root).unwrap_or(path);
    let file = rel.to_string_lossy().replace('\\', "/");
    let text = std::fs::read_to_string(path)
        .map_err(|e| SpecError::new(&file, "", format!("cannot read: {e}")))?;
    let doc = parse(&file, &text)?;
    let parts: Vec<&str> = file.split('/').collect();
    // openapi/<module>/<file>: the folder names the module.
    let module = (parts.len() >= 3).then(|| parts[parts.len() - 2].to_string());
    Ok(Source { file, module, doc })
}

/// Parses YAML (a superset of JSON) into JSON, keeping integers exact.
///
/// YAML 1.2's core schema, as apifox writes it: `yes`, `on` or `0755` stay strings, as they do
/// for every YAML 1.2 reader, instead of YAML 1.1's booleans and octals.
pub fn parse(file: &str, text: &str) -> Result<Value> {
    let mut options = serde_saphyr::Options::default();
    options.strict_booleans = true;
    options.leading_zero_numbers_as_strings = true;
    options.underscored_numbers_as_strings = true;
    options.with_snippet = false;
    serde_saphyr::from_str_with_options(text, options)
        .map_err(|e| SpecError::new(file, "", format!("invalid YAML: {e}")))
}

/// Escapes a key for a JSON pointer.
pub fn escape(key: &str) -> String {
    key.replace('~', "~0").replace('/', "~1")
}

/// Whether a JSON schema property holds one of GeWe's 64-bit ids: an integer or number named `id`
/// or ending in `id`/`Id` (`newMsgId`, `snsId`, `displayid`). Shared with codegen.
pub fn is_id_property(name: &str, schema: &Value) -> bool {
    name.to_ascii_lowercase().ends_with("id")
        && matches!(
            schema.get("type").and_then(Value::as_str),
            Some("integer" | "number")
        )
}

/// The stable, unique snake_case name of an operation, from its path alone:
/// `/group/joinRoomUsingQRCode` → `group_join_room_using_qr_code`.
pub fn operation_id(path: &str) -> String {
    path.split('/')
        .filter(|s| !s.is_empty())
        .map(|s| snake_case(s.trim_matches(|c| c == '{' || c == '}')))
        .collect::<Vec<_>>()
        .join("_")
}

/// camelCase (with acronyms) to snake_case: `joinRoomUsingQRCode` → `join_room_using_qr_code`.
pub fn snake_case(s: &str) -> String {
    let chars: Vec<char> = s.chars().collect();
    let mut out = String::new();
    for (i, &c) in chars.iter().enumerate() {
        if !c.is_ascii_alphanumeric() {
            if !out.ends_with('_') && !out.is_empty() {
                out.push('_');
            }
            continue;
        }
        if c.is_ascii_uppercase() && i > 0 {
            let prev = chars[i - 1];
            let next_lower = chars.get(i + 1).is_some_and(|n| n.is_ascii_lowercase());
            if (prev.is_ascii_lowercase()
                || prev.is_ascii_digit()
                || (prev.is_ascii_uppercase() && next_lower))
                && !out.ends_with('_')
            {
                out.push('_');
            }
        }
        out.push(c.to_ascii_lowercase());
    }
    out.trim_end_matches('_').to_string()
}

/// snake_case to PascalCase: `group_join_room_using_qr_code` → `GroupJoinRoomUsingQrCode`.
pub fn pascal_case(snake: &str) -> String {
    snake
        .split('_')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let mut c = p.chars();
            c.next()
                .map(|f| f.to_ascii_uppercase().to_string() + c.as_str())
                .unwrap_or_default()
        })
        .collect()
}

/// Which side of the wire a schema describes: requests keep `required`, responses do not.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Side {
    Request,
    Response,
}

/// Step 3: normalize one file in place, returning its operations (`(path, method) → operation`)
/// and its component schemas.
pub fn normalize(src: &Source) -> Result<Normalized> {
    let file = src.file.as_str();
    let mut doc = src.doc.clone();
    strip_apifox(&mut doc);
    let version = doc.get("openapi").and_then(Value::as_str).unwrap_or("");
    if !version.starts_with("3.") {
        let found = doc
            .get("swagger")
            .map_or(version.to_string(), |_| "Swagger 2".into());
        return Err(SpecError::new(
            file,
            "/openapi",
            format!("expected an OpenAPI 3 document, found `{found}`"),
        ));
    }
    let mut out = Normalized::default();
    if let Some(schemas) = doc
        .pointer_mut("/components/schemas")
        .and_then(Value::as_object_mut)
    {
        for (name, schema) in schemas.iter_mut() {
            let ptr = format!("/components/schemas/{}", escape(name));
            normalize_schema(file, &ptr, schema, Side::Response)?;
            out.schemas.insert(name.clone(), schema.clone());
        }
    }
    let Some(paths) = doc.get_mut("paths") else {
        return Ok(out);
    };
    let paths = paths
        .as_object_mut()
        .ok_or_else(|| SpecError::new(file, "/paths", "`paths` must be a mapping"))?;
    for (raw_path, item) in paths.iter_mut() {
        let item_ptr = format!("/paths/{}", escape(raw_path));
        let path = strip_prefix(raw_path);
        if !path.starts_with('/') {
            return Err(SpecError::new(
                file,
                &item_ptr,
                "a path must start with `/`",
            ));
        }
        let item = item
            .as_object_mut()
            .ok_or_else(|| SpecError::new(file, &item_ptr, "a path item must be a mapping"))?;
        for (method, op) in item.iter_mut() {
            if !METHODS.contains(&method.as_str()) {
                continue;
            }
            let ptr = format!("{item_ptr}/{method}");
            let op = normalize_operation(src, &ptr, &path, method, op, &mut out.warnings)?;
            out.operations.push(op);
        }
    }
    Ok(out)
}

/// What one file contributes to the merge.
#[derive(Default)]
pub struct Normalized {
    pub operations: Vec<Operation>,
    pub schemas: BTreeMap<String, Value>,
    /// Documentation errors the build worked around, for `cargo:warning`.
    pub warnings: Vec<SpecError>,
}

/// One normalized operation, ready to merge.
pub struct Operation {
    pub file: String,
    pub path: String,
    pub method: String,
    pub id: String,
    /// The normalized operation object, request and data schemas hoisted into `schemas`.
    pub operation: Value,
    pub schemas: BTreeMap<String, Value>,
}

fn strip_prefix(path: &str) -> String {
    for prefix in PATH_PREFIXES {
        if let Some(rest) = path.strip_prefix(prefix) {
            if rest.starts_with('/') {
                return rest.to_string();
            }
        }
    }
    path.to_string()
}

/// Removes apifox's editor metadata (`x-apifox-*`, `x-run-in-apifox`), keeping enum names as
/// `x-enum-varnames` / `x-enum-descriptions`.
fn strip_apifox(v: &mut Value) {
    match v {
        Value::Object(map) => {
            if let Some(Value::Array(items)) = map.get("x-apifox-enum") {
                let names: Vec<Value> = items
                    .iter()
                    .map(|i| i.get("name").cloned().unwrap_or(Value::Null))
                    .collect();
                let descs: Vec<Value> = items
                    .iter()
                    .map(|i| i.get("description").cloned().unwrap_or(Value::Null))
                    .collect();
                if names.iter().all(Value::is_string) {
                    map.insert("x-enum-varnames".into(), Value::Array(names));
                    map.insert("x-enum-descriptions".into(), Value::Array(descs));
                }
            }
            map.retain(|k, _| !k.starts_with("x-apifox") && k != "x-run-in-apifox");
            map.values_mut().for_each(strip_apifox);
        }
        Value::Array(items) => items.iter_mut().for_each(strip_apifox),
        _ => {}
    }
}

fn normalize_operation(
    src: &Source,
    ptr: &str,
    path: &str,
    method: &str,
    op: &mut Value,
    warnings: &mut Vec<SpecError>,
) -> Result<Operation> {
    let file = src.file.as_str();
    let op = op
        .as_object_mut()
        .ok_or_else(|| SpecError::new(file, ptr, "an operation must be a mapping"))?;
    let id = operation_id(path);
    if id.is_empty() {
        return Err(SpecError::new(
            file,
            ptr,
            "cannot derive an operation name from an empty path",
        ));
    }
    let type_base = pascal_case(&id);
    let module = src.module.clone().unwrap_or_else(|| {
        path.split('/')
            .find(|s| !s.is_empty())
            .unwrap_or("api")
            .to_string()
    });
    let mut schemas = BTreeMap::new();
    let mut out = Map::new();
    out.insert("operationId".into(), json!(id));
    for key in ["summary", "description"] {
        if let Some(Value::String(s)) = op.get(key) {
            out.insert(key.into(), json!(s));
        }
    }
    out.insert(
        "deprecated".into(),
        json!(op
            .get("deprecated")
            .and_then(Value::as_bool)
            .unwrap_or(false)),
    );
    out.insert("tags".into(), json!([module]));
    if let Some(folder) = op
        .get("tags")
        .and_then(|t| t.get(0))
        .and_then(Value::as_str)
    {
        out.insert("x-gewe-folder".into(), json!(folder));
    }
    out.insert("x-gewe-source".into(), json!(file));

    // Parameters: the token header is the wrapper's job; GeWe takes everything else in the body.
    if let Some(params) = op.get("parameters").and_then(Value::as_array) {
        for (i, p) in params.iter().enumerate() {
            let name = p.get("name").and_then(Value::as_str).unwrap_or("");
            let location = p.get("in").and_then(Value::as_str).unwrap_or("");
            // Headers (`X-GEWE-TOKEN`, apifox's `Content-Type`) are the wrapper's and reqwest's job.
            if location == "header" {
                continue;
            }
            return Err(SpecError::new(
                file,
                &format!("{ptr}/parameters/{i}"),
                format!("{location} parameter `{name}` is not supported: GeWe operations take a JSON body"),
            ));
        }
    }

    if let Some(body) = op.get_mut("requestBody") {
        let bptr = format!("{ptr}/requestBody");
        let (schema, mut examples) = json_content(file, &bptr, body)?;
        let mut schema = schema.unwrap_or_else(|| json!({"type": "object"}));
        let sptr = format!("{bptr}/content/application~1json/schema");
        normalize_schema(file, &sptr, &mut schema, Side::Request)?;
        for ex in examples.values_mut() {
            if let Some(v) = ex.get_mut("value") {
                coerce_request_example(&mut schema, v);
            }
        }
        for ex in examples.values() {
            if let Some(v) = ex.get("value") {
                let at = Place {
                    file,
                    ptr: sptr.clone(),
                    field: String::new(),
                };
                drop_constraints_broken_by(&at, &mut schema, v, warnings);
            }
        }
        close_objects(&mut schema);
        let name = format!("{type_base}Request");
        schemas.insert(name.clone(), schema);
        let mut content = Map::new();
        content.insert(
            "schema".into(),
            json!({"$ref": format!("#/components/schemas/{name}")}),
        );
        if !examples.is_empty() {
            content.insert("examples".into(), Value::Object(examples));
        }
        out.insert(
            "requestBody".into(),
            json!({"required": true, "content": {"application/json": content}}),
        );
    }

    let mut responses = Map::new();
    let mut data_hoisted = false;
    let raw_responses = op.get_mut("responses").and_then(Value::as_object_mut);
    let mut statuses: Vec<(String, Value)> = raw_responses
        .map(|r| r.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
        .unwrap_or_default();
    // Success responses first, so the data type comes from the first 2xx.
    statuses.sort_by_key(|(k, _)| (!k.starts_with('2'), k.clone()));
    for (status, mut resp) in statuses {
        let rptr = format!("{ptr}/responses/{}", escape(&status));
        let (schema, examples) = json_content(file, &rptr, &mut resp)?;
        let description = resp
            .get("description")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string();
        let mut content = Map::new();
        if let Some(mut schema) = schema {
            normalize_schema(
                file,
                &format!("{rptr}/content/application~1json/schema"),
                &mut schema,
                Side::Response,
            )?;
            for ex in examples.values() {
                let v = ex.get("value").unwrap_or(&Value::Null);
                // Only success examples describe the success schema; failures carry {code, msg}.
                let ret = v.get("ret").and_then(Value::as_i64);
                if status.starts_with('2') && ret.is_none_or(|r| r == 200) {
                    reconcile(&mut schema, v);
                }
            }
            if status.starts_with('2') && !data_hoisted {
                if let Some(data) = schema.pointer_mut("/properties/data") {
                    let name = format!("{type_base}Data");
                    let mut hoisted = data.take();
                    // The envelope's `data` may be absent or null; the type itself is not.
                    if let Some(m) = hoisted.as_object_mut() {
                        m.remove("nullable");
                    }
                    schemas.insert(name.clone(), hoisted);
                    *data = json!({"$ref": format!("#/components/schemas/{name}")});
                    data_hoisted = true;
                }
            }
            content.insert("schema".into(), schema);
        }
        if !examples.is_empty() {
            content.insert("examples".into(), Value::Object(examples));
        }
        let mut r = Map::new();
        r.insert(
            "description".into(),
            json!(if description.is_empty() {
                "GeWe envelope"
            } else {
                &description
            }),
        );
        if !content.is_empty() {
            r.insert("content".into(), json!({"application/json": content}));
        }
        responses.insert(status, Value::Object(r));
    }
    if !responses.keys().any(|k| k.starts_with('2')) {
        // No documented success response: its data is any JSON.
        let name = format!("{type_base}Data");
        schemas.insert(name.clone(), json!({}));
        responses.insert(
            "200".into(),
            json!({"description": "GeWe envelope (undocumented success)", "content": {"application/json": {"schema": envelope_schema(Some(&name))}}}),
        );
    }
    out.insert("responses".into(), Value::Object(responses));
    Ok(Operation {
        file: file.to_string(),
        path: path.to_string(),
        method: method.to_string(),
        id,
        operation: Value::Object(out),
        schemas,
    })
}

fn envelope_schema(data: Option<&str>) -> Value {
    let mut props =
        json!({"ret": {"type": "integer"}, "msg": {"type": "string", "nullable": true}});
    if let Some(name) = data {
        props["data"] = json!({"$ref": format!("#/components/schemas/{name}")});
    }
    json!({"type": "object", "properties": props})
}

/// The `application/json` schema and the examples of a request body or response, examples
/// collected into `{"1": {summary, value}}` whatever form apifox used.
fn json_content(
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

/// The JSON texts inside `text`, after dropping `//` comments and escaping raw control
/// characters inside strings.
fn json_texts(text: &str) -> Vec<Value> {
    let chars: Vec<char> = text.chars().collect();
    let mut found = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        if chars[i] != '{' && chars[i] != '[' {
            i += 1;
            continue;
        }
        let mut depth = 0i32;
        let mut in_str = false;
        let mut clean = String::new();
        let mut j = i;
        let mut end = None;
        while j < chars.len() {
            let c = chars[j];
            if in_str {
                match c {
                    '\\' if j + 1 < chars.len() => {
                        clean.push(c);
                        clean.push(chars[j + 1]);
                        j += 2;
                        continue;
                    }
                    '"' => in_str = false,
                    c if (c as u32) < 0x20 => {
                        clean.push_str(&format!("\\u{:04x}", c as u32));
                        j += 1;
                        continue;
                    }
                    _ => {}
                }
            } else {
                match c {
                    '"' => in_str = true,
                    '/' if chars.get(j + 1) == Some(&'/') => {
                        while j < chars.len() && chars[j] != '\n' {
                            j += 1;
                        }
                        continue;
                    }
                    '{' | '[' => depth += 1,
                    '}' | ']' => depth -= 1,
                    _ => {}
                }
            }
            clean.push(c);
            j += 1;
            if depth == 0 {
                end = Some(j);
                break;
            }
        }
        match end.and_then(|_| serde_json::from_str::<Value>(&clean).ok()) {
            Some(v) => {
                found.push(v);
                i = j;
            }
            None => i += 1,
        }
    }
    found
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

fn convert(v: &Value, ty: &str) -> Option<Value> {
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

/// The JSON type of an example value, as an OpenAPI type name.
fn json_type(v: &Value) -> Option<&'static str> {
    Some(match v {
        Value::Null => return None,
        Value::Bool(_) => "boolean",
        Value::Number(n) if n.is_i64() || n.is_u64() => "integer",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    })
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

/// Where a schema sits: the file, its JSON pointer, and the field it describes (`imgUrls[]`).
struct Place<'a> {
    file: &'a str,
    ptr: String,
    field: String,
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

/// Step 3c: a request constraint that the operation's own documented request example breaks
/// is a documentation error (apifox put `maxLength: 9`, meant for the number of images, on
/// each image URL). The client must not be stricter than GeWe's example of a real request, so
/// the constraint is dropped, with a warning naming the file, the field and the constraint.
fn drop_constraints_broken_by(
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

/// Request objects reject unknown fields, so a typo is caught by name before anything is sent.
fn close_objects(schema: &mut Value) {
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

/// Step 4: merge every file into one OpenAPI 3.0 document. The same path, operation name or
/// component name from two files fails, naming both.
pub fn merge(files: Vec<Normalized>) -> Result<Value> {
    let mut paths: BTreeMap<String, Map<String, Value>> = BTreeMap::new();
    let mut seen_paths: BTreeMap<(String, String), String> = BTreeMap::new();
    let mut seen_ids: BTreeMap<String, (String, String)> = BTreeMap::new();
    let mut schemas: BTreeMap<String, (String, Value)> = BTreeMap::new();
    let mut add_schema = |file: &str, name: String, schema: Value| -> Result<()> {
        if let Some((other, existing)) = schemas.get(&name) {
            if *existing != schema {
                return Err(SpecError::new(
                    file,
                    &format!("/components/schemas/{}", escape(&name)),
                    format!("component `{name}` is also defined, differently, in {other}"),
                ));
            }
            return Ok(());
        }
        schemas.insert(name, (file.to_string(), schema));
        Ok(())
    };
    for n in files {
        for op in n.operations {
            if let Some(other) = seen_paths.get(&(op.path.clone(), op.method.clone())) {
                return Err(SpecError::new(
                    &op.file,
                    &format!("/paths/{}", escape(&op.path)),
                    format!(
                        "{} {} is also defined in {other}",
                        op.method.to_uppercase(),
                        op.path
                    ),
                ));
            }
            if let Some((other, other_path)) = seen_ids.get(&op.id) {
                return Err(SpecError::new(
                    &op.file,
                    &format!("/paths/{}", escape(&op.path)),
                    format!(
                        "operation name `{}` of {} collides with {other_path} in {other}",
                        op.id, op.path
                    ),
                ));
            }
            seen_paths.insert((op.path.clone(), op.method.clone()), op.file.clone());
            seen_ids.insert(op.id.clone(), (op.file.clone(), op.path.clone()));
            for (name, schema) in op.schemas {
                add_schema(&op.file, name, schema)?;
            }
            paths
                .entry(op.path)
                .or_default()
                .insert(op.method, op.operation);
        }
        let file = "openapi/ (components)".to_string();
        for (name, schema) in n.schemas {
            add_schema(&file, name, schema)?;
        }
    }
    let schemas: Map<String, Value> = schemas.into_iter().map(|(k, (_, v))| (k, v)).collect();
    let paths: Map<String, Value> = paths
        .into_iter()
        .map(|(k, v)| (k, Value::Object(v)))
        .collect();
    Ok(json!({
        "openapi": "3.0.3",
        "info": {
            "title": "GeWe API",
            "description": "GeWe (个微) WeChat HTTP API, merged and normalized from its apifox exports.",
            "version": "2"
        },
        "servers": [{"url": "https://api.geweapi.com/gewe/v2/api"}],
        "paths": paths,
        "components": {"schemas": schemas}
    }))
}

/// Unmodified exports merged into one document, for Stoplight Prism: only `paths` and
/// `components` are combined; nothing inside an operation changes.
pub fn merge_raw(sources: &[Source]) -> Result<Value> {
    let mut paths = Map::new();
    let mut schemas = Map::new();
    let mut first: BTreeMap<String, String> = BTreeMap::new();
    for src in sources {
        if let Some(Value::Object(p)) = src.doc.get("paths") {
            for (k, v) in p {
                if let Some(other) = first.get(k) {
                    return Err(SpecError::new(
                        &src.file,
                        &format!("/paths/{}", escape(k)),
                        format!("also defined in {other}"),
                    ));
                }
                first.insert(k.clone(), src.file.clone());
                paths.insert(k.clone(), v.clone());
            }
        }
        if let Some(Value::Object(s)) = src.doc.pointer("/components/schemas") {
            for (k, v) in s {
                schemas.insert(k.clone(), v.clone());
            }
        }
    }
    Ok(json!({
        "openapi": "3.0.1",
        "info": {"title": "GeWe API (unmodified exports)", "version": "1.0.0"},
        "paths": paths,
        "components": {"schemas": schemas}
    }))
}
