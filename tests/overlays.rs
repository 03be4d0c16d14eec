//! The overlay step of build.rs: our refinements reach the exports, and an action that no longer
//! fits the exports fails the build, naming the overlay, the action and its target.

#[path = "../build/overlay.rs"]
mod overlay;
#[path = "../build/spec/mod.rs"]
#[allow(dead_code, unused_imports)]
mod spec;

use serde_json::{json, Value};
use spec::Source;

fn export(file: &str, path: &str, properties: Value) -> Source {
    Source {
        file: file.into(),
        module: Some("login".into()),
        doc: json!({
            "openapi": "3.0.1",
            "paths": {(format!("/gewe/v2/api{path}")): {"post": {"requestBody": {"content": {
                "application/json": {"schema": {"type": "object", "properties": properties}}
            }}}}}
        }),
    }
}

fn exports() -> Vec<Source> {
    vec![
        export(
            "openapi/login/a.yaml",
            "/login/a",
            json!({"type": {"type": "string", "description": "ipad 或 mac"}, "proxyIp": {"type": "string"}}),
        ),
        export(
            "openapi/login/b.yaml",
            "/login/b",
            json!({"type": {"type": "integer"}, "proxyIp": {"type": "string"}}),
        ),
    ]
}

fn overlay(actions: Value) -> Result<overlay::Overlay, spec::SpecError> {
    overlay::parse(
        "openapi/overlays/test.yaml",
        &json!({"overlay": "1.0.0", "info": {"title": "t", "version": "1"}, "actions": actions}),
    )
}

fn apply(actions: Value) -> Result<Vec<Source>, spec::SpecError> {
    let mut docs = exports();
    overlay::apply(&[overlay(actions)?], &mut docs)?;
    Ok(docs)
}

const A_TYPE: &str = "$.paths['/gewe/v2/api/login/a'].post.requestBody.content['application/json'].schema.properties.type";

fn schema(src: &Source, path: &str) -> Value {
    src.doc["paths"][format!("/gewe/v2/api{path}")]["post"]["requestBody"]["content"]
        ["application/json"]["schema"]
        .clone()
}

#[test]
fn an_update_merges_into_the_one_node_it_names() {
    let docs = apply(json!([{
        "target": A_TYPE,
        "description": "the values the description lists",
        "update": {"enum": ["ipad", "mac"], "x-enum-varnames": ["Ipad", "Mac"]}
    }]))
    .unwrap();
    assert_eq!(
        schema(&docs[0], "/login/a")["properties"]["type"],
        json!({"type": "string", "description": "ipad 或 mac", "enum": ["ipad", "mac"], "x-enum-varnames": ["Ipad", "Mac"]})
    );
    assert_eq!(
        schema(&docs[1], "/login/b"),
        schema(&exports()[1], "/login/b"),
        "the other export is untouched"
    );
}

#[test]
fn objects_merge_key_by_key_and_other_values_replace() {
    let docs = apply(json!([{
        "target": "$.paths['/gewe/v2/api/login/a'].post.requestBody.content['application/json']",
        "update": {"schema": {"required": ["type"], "properties": {"type": {"type": "integer"}}}}
    }]))
    .unwrap();
    let s = schema(&docs[0], "/login/a");
    assert_eq!(s["required"], json!(["type"]));
    assert_eq!(
        s["properties"]["type"],
        json!({"type": "integer", "description": "ipad 或 mac"})
    );
    assert_eq!(
        s["properties"]["proxyIp"],
        json!({"type": "string"}),
        "siblings are kept"
    );
}

#[test]
fn a_remove_deletes_each_node_and_a_declared_count_allows_several() {
    let docs = apply(json!([{
        "target": "$.paths.*.post.requestBody.content['application/json'].schema.properties.proxyIp",
        "remove": true,
        "x-gewe-matches": 2
    }]))
    .unwrap();
    for (doc, path) in docs.iter().zip(["/login/a", "/login/b"]) {
        assert!(
            schema(doc, path)["properties"].get("proxyIp").is_none(),
            "{path}"
        );
        assert!(
            schema(doc, path)["properties"].get("type").is_some(),
            "{path}"
        );
    }
}

#[test]
fn an_update_of_an_array_appends_to_it() {
    let mut docs = exports();
    docs[0].doc["tags"] = json!(["a"]);
    overlay::apply(
        &[overlay(json!([{"target": "$.tags", "update": "b"}])).unwrap()],
        &mut docs,
    )
    .unwrap();
    assert_eq!(docs[0].doc["tags"], json!(["a", "b"]));
}

#[test]
fn a_target_that_selects_nothing_fails_naming_overlay_action_and_target() {
    // A re-export renamed `type` to `deviceType`: the enum must not vanish silently.
    let target = A_TYPE.replace(".type", ".deviceType");
    let err = apply(json!([
        {"target": A_TYPE, "update": {"description": "x"}},
        {"target": target, "update": {"enum": ["ipad", "mac"]}}
    ]))
    .err()
    .expect("the build fails");
    assert_eq!(err.file, "openapi/overlays/test.yaml");
    assert_eq!(err.pointer, "/actions/1");
    let text = err.to_string();
    assert!(
        text.contains(&format!("target `{target}` selects no node")),
        "{text}"
    );
    assert!(text.contains("expected 1"), "{text}");
}

#[test]
fn a_target_that_selects_more_than_declared_fails_naming_the_exports() {
    let err = apply(json!([{
        "target": "$.paths.*.post.requestBody.content['application/json'].schema.properties.proxyIp",
        "update": {"description": "代理"}
    }]))
    .err()
    .expect("two matches, one expected");
    let text = err.to_string();
    assert!(
        text.contains("selects 2 nodes, in openapi/login/a.yaml, openapi/login/b.yaml; expected 1"),
        "{text}"
    );
}

#[test]
fn malformed_overlays_name_what_is_wrong() {
    let cases = [
        (
            json!({"overlay": "1.0.0", "info": {"title": "t", "version": "1"}, "actions": [{"target": "$[", "remove": true}]}),
            "/actions/0",
            "not an RFC 9535 JSONPath",
        ),
        (
            json!({"overlay": "1.0.0", "info": {"title": "t", "version": "1"}, "actions": [{"target": "$.a", "update": {}, "remove": true}]}),
            "/actions/0",
            "not both",
        ),
        (
            json!({"overlay": "1.0.0", "info": {"title": "t", "version": "1"}, "actions": [{"target": "$.a"}]}),
            "/actions/0",
            "needs an `update`",
        ),
        (
            json!({"overlay": "1.0.0", "info": {"title": "t", "version": "1"}, "actions": [{"target": "$.a", "remove": true, "x-gewe-matches": 0}]}),
            "/actions/0",
            "positive integer",
        ),
        (
            json!({"overlay": "1.0.0", "info": {"title": "t", "version": "1"}, "actions": [{"target": "$.a", "remove": true, "updat": {}}]}),
            "/actions/0",
            "unknown action field `updat`",
        ),
        (
            json!({"overlay": "1.0.0", "info": {"title": "t", "version": "1"}, "actions": []}),
            "/actions",
            "non-empty",
        ),
        (
            json!({"overlay": "2.0.0", "info": {"title": "t", "version": "1"}, "actions": [{"target": "$.a", "remove": true}]}),
            "/overlay",
            "1.0.0",
        ),
        (
            json!({"overlay": "1.0.0", "actions": [{"target": "$.a", "remove": true}]}),
            "/info/title",
            "title",
        ),
    ];
    for (doc, pointer, message) in cases {
        let err = overlay::parse("openapi/overlays/bad.yaml", &doc)
            .err()
            .expect("rejected");
        assert_eq!(
            (err.file.as_str(), err.pointer.as_str()),
            ("openapi/overlays/bad.yaml", pointer),
            "{err}"
        );
        assert!(err.message.contains(message), "{err}");
    }
}

#[test]
fn an_update_of_a_scalar_fails() {
    let target = format!("{A_TYPE}.type");
    let err = apply(json!([{"target": target, "update": "integer"}]))
        .err()
        .expect("rejected");
    assert!(
        err.to_string().contains("neither an object nor an array"),
        "{err}"
    );
}
