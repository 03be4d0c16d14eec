//! Step 3: one export, normalized: its operations (request and data schemas hoisted into named
//! components) and its component schemas. apifox's editor metadata goes here too.

use super::constraints::{drop_constraints_broken_by, Place};
use super::examples::{coerce_request_example, json_content, reconcile};
use super::names::{escape, operation_id, pascal_case, strip_prefix};
use super::order::apply_apifox_orders;
use super::schema::{close_objects, normalize_schema, Side};
use super::{Result, Source, SpecError};
use serde_json::{json, Map, Value};
use std::collections::BTreeMap;

const METHODS: &[&str] = &[
    "get", "put", "post", "delete", "options", "head", "patch", "trace",
];

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

/// Removes apifox's editor metadata (`x-apifox-*`, `x-run-in-apifox`), keeping enum names as
/// `x-enum-varnames` / `x-enum-descriptions`, and `x-apifox-orders` as the order of `required`.
fn strip_apifox(v: &mut Value) {
    match v {
        Value::Object(map) => {
            apply_apifox_orders(map);
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

/// One operation: its names and metadata, its request body and its responses, each a step below.
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
    let mut out = head(src, path, &id, op);
    check_parameters(file, ptr, op)?;
    let mut schemas = BTreeMap::new();
    if let Some(body) = op.get_mut("requestBody") {
        let body = request_body(file, ptr, &type_base, body, &mut schemas, warnings)?;
        out.insert("requestBody".into(), body);
    }
    let responses = responses(file, ptr, &type_base, op, &mut schemas)?;
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

/// The operation's name and metadata: summary, description, deprecation, the module as its
/// tag, apifox's folder, the file it came from, and our extensions.
fn head(src: &Source, path: &str, id: &str, op: &Map<String, Value>) -> Map<String, Value> {
    let module = src.module.clone().unwrap_or_else(|| {
        path.split('/')
            .find(|s| !s.is_empty())
            .unwrap_or("api")
            .to_string()
    });
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
    out.insert("x-gewe-source".into(), json!(src.file));
    // Our overlays' extensions on the operation (its tier, `openapi/overlays/tiers.yaml`) travel
    // on to codegen, which checks them.
    for (key, value) in op.iter().filter(|(k, _)| k.starts_with("x-gewe-")) {
        out.entry(key.clone()).or_insert_with(|| value.clone());
    }
    out
}

/// Parameters: the token header is the wrapper's job; GeWe takes everything else in the body.
fn check_parameters(file: &str, ptr: &str, op: &Map<String, Value>) -> Result<()> {
    let Some(params) = op.get("parameters").and_then(Value::as_array) else {
        return Ok(());
    };
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
            format!(
                "{location} parameter `{name}` is not supported: GeWe operations take a JSON body"
            ),
        ));
    }
    Ok(())
}

/// The request body: its schema normalized, fitted to its examples and hoisted into
/// `{type_base}Request`.
fn request_body(
    file: &str,
    ptr: &str,
    type_base: &str,
    body: &mut Value,
    schemas: &mut BTreeMap<String, Value>,
    warnings: &mut Vec<SpecError>,
) -> Result<Value> {
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
    Ok(json!({"required": true, "content": {"application/json": content}}))
}

/// The responses, success first: each schema normalized and corrected by its success examples,
/// the first success `data` hoisted into `{type_base}Data`.
fn responses(
    file: &str,
    ptr: &str,
    type_base: &str,
    op: &mut Map<String, Value>,
    schemas: &mut BTreeMap<String, Value>,
) -> Result<Map<String, Value>> {
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
                data_hoisted = hoist_data(&mut schema, type_base, schemas);
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
    Ok(responses)
}

/// Moves the envelope's `data` schema into the component `{type_base}Data`, leaving a
/// reference; false when the envelope has no `data`.
fn hoist_data(schema: &mut Value, type_base: &str, schemas: &mut BTreeMap<String, Value>) -> bool {
    let Some(data) = schema.pointer_mut("/properties/data") else {
        return false;
    };
    let name = format!("{type_base}Data");
    let mut hoisted = data.take();
    // The envelope's `data` may be absent or null; the type itself is not.
    if let Some(m) = hoisted.as_object_mut() {
        m.remove("nullable");
    }
    schemas.insert(name.clone(), hoisted);
    *data = json!({"$ref": format!("#/components/schemas/{name}")});
    true
}

fn envelope_schema(data: Option<&str>) -> Value {
    let mut props =
        json!({"ret": {"type": "integer"}, "msg": {"type": "string", "nullable": true}});
    if let Some(name) = data {
        props["data"] = json!({"$ref": format!("#/components/schemas/{name}")});
    }
    json!({"type": "object", "properties": props})
}
