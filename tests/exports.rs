//! `openapi/<module>/` holds GeWe's apifox exports as GeWe publishes them: our refinements live
//! in `openapi/overlays/`, so an export can be replaced by a fresh one without losing any.

#[path = "../build/spec/mod.rs"]
#[allow(dead_code, unused_imports)]
mod spec;

use serde_json::Value;
use std::path::Path;

/// Where `v` (a schema, or any part of an export) holds one of our refinements: `enum` and
/// `x-apifox-enum` (GeWe's doc pages define no enums) and 3.1-style `type` arrays (apifox's
/// 3.0 exports write `nullable: true`). Property names and examples are data, not schema.
fn refinements(v: &Value, at: &str, found: &mut Vec<String>) {
    match v {
        Value::Object(map) => {
            for (key, child) in map {
                let here = format!("{at}/{}", spec::escape(key));
                match key.as_str() {
                    "enum" | "x-apifox-enum" => found.push(here),
                    "type" if child.is_array() => found.push(here),
                    "example" | "examples" => {}
                    "properties" => {
                        if let Value::Object(props) = child {
                            for (name, schema) in props {
                                refinements(
                                    schema,
                                    &format!("{here}/{}", spec::escape(name)),
                                    found,
                                );
                            }
                        }
                    }
                    _ => refinements(child, &here, found),
                }
            }
        }
        Value::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                refinements(item, &format!("{at}/{i}"), found);
            }
        }
        _ => {}
    }
}

#[test]
fn exports_carry_no_refinement_of_ours() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let layout = spec::discover(&root.join("openapi")).unwrap();
    assert!(
        layout.exports.len() > 100,
        "{} exports",
        layout.exports.len()
    );
    let mut found = Vec::new();
    for path in &layout.exports {
        let src = spec::load(root, path).unwrap();
        let mut here = Vec::new();
        refinements(&src.doc, "", &mut here);
        found.extend(here.into_iter().map(|p| format!("{}: {p}", src.file)));
    }
    assert!(
        found.is_empty(),
        "move these into an overlay in openapi/overlays/:\n{}",
        found.join("\n")
    );
}

#[test]
fn the_check_sees_each_kind_of_refinement() {
    let doc = spec::load::parse(
        "t.yaml",
        "paths:\n  /a:\n    post:\n      requestBody:\n        content:\n          application/json:\n            schema:\n              properties:\n                enum: {type: string}\n                kind: {type: integer, enum: [1, 2]}\n                name: {type: [string, 'null']}\n                os: {type: string, x-apifox-enum: [{value: ipad}]}\n            example: {enum: 1, kind: 2}\n",
    )
    .unwrap();
    let mut found = Vec::new();
    refinements(&doc, "", &mut found);
    let schema = "/paths/~1a/post/requestBody/content/application~1json/schema/properties";
    assert_eq!(
        found,
        [
            format!("{schema}/kind/enum"),
            format!("{schema}/name/type"),
            format!("{schema}/os/x-apifox-enum"),
        ],
        "a property named `enum` and the example are data"
    );
}
