//! Step 4: every file into one document.

use super::names::escape;
use super::{Normalized, Result, Source, SpecError};
use serde_json::{json, Map, Value};
use std::collections::BTreeMap;

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
        "servers": [{"url": super::api_path::DEFAULT_BASE_URL}],
        "paths": paths,
        "components": {"schemas": schemas}
    }))
}

/// The exports (with the overlays applied, but not normalized) merged into one document, for
/// Stoplight Prism: only `paths` and `components` are combined; nothing inside an operation
/// changes.
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
