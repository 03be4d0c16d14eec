//! The steps of build.rs, each on its own: every apifox quirk has one general rule, and a broken
//! spec fails with a message naming the file and the place in it.

#[path = "../build/docs.rs"]
mod docs;
#[path = "../build/overlay.rs"]
mod overlay;
#[path = "../build/pipeline.rs"]
#[allow(dead_code)]
mod pipeline;
#[path = "../build/spec/mod.rs"]
#[allow(dead_code, unused_imports)]
mod spec;

use serde_json::{json, Value};
use spec::schema::Side;
use spec::Source;

fn source(file: &str, doc: Value) -> Source {
    Source {
        file: file.into(),
        module: Some("group".into()),
        doc,
    }
}

/// An apifox-shaped export of one operation.
fn export(path: &str, request: Value, response: Value) -> Value {
    json!({
        "openapi": "3.0.1",
        "info": {"title": "", "version": "1.0.0"},
        "paths": {(format!("/gewe/v2/api{path}")): {"post": {
            "summary": "s",
            "parameters": [{"name": "X-GEWE-TOKEN", "in": "header", "required": true, "schema": {"type": "string"}}],
            "requestBody": {"content": {"application/json": {"schema": request, "example": {"appId": "{{appid}}"}}}},
            "responses": {"200": {"description": "", "content": {"application/json": {"schema": response}}}},
            "x-apifox-folder": "基础API/群模块"
        }}}
    })
}

fn merged(docs: Vec<Source>) -> Result<Value, spec::SpecError> {
    spec::merge(
        docs.iter()
            .map(spec::normalize)
            .collect::<Result<Vec<_>, _>>()?,
    )
}

#[test]
fn names_come_from_the_path() {
    assert_eq!(
        spec::names::operation_id("/group/joinRoomUsingQRCode"),
        "group_join_room_using_qr_code"
    );
    assert_eq!(
        spec::names::operation_id("/personal/getProfile"),
        "personal_get_profile"
    );
    assert_eq!(
        spec::names::operation_id("/finder/getProfile"),
        "finder_get_profile"
    );
    assert_eq!(
        spec::names::operation_id("/message/downloadEmojiMd5"),
        "message_download_emoji_md5"
    );
    assert_eq!(spec::names::operation_id("/im/sync"), "im_sync");
    assert_eq!(
        spec::pascal_case("group_join_room_using_qr_code"),
        "GroupJoinRoomUsingQrCode"
    );
}

#[test]
fn every_spec_file_in_the_repo_normalizes() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let layout = spec::discover(&root.join("openapi")).unwrap();
    assert!(
        layout.exports.len() > 100,
        "{} exports",
        layout.exports.len()
    );
    assert!(!layout.ours.is_empty(), "the callback schemas");
    assert!(layout
        .ours
        .iter()
        .all(|f| f.starts_with(root.join("openapi/ours"))));
    for list in [&layout.exports, &layout.ours, &layout.overlays] {
        let mut sorted = list.clone();
        sorted.sort();
        assert_eq!(*list, sorted, "sorted order");
    }
    let spec = pipeline::spec(root).unwrap();
    assert_eq!(
        spec.merged,
        serde_json::from_str::<Value>(gewe::OPENAPI_SPEC).unwrap(),
        "the build used the same rules"
    );
    assert_eq!(
        spec.raw,
        serde_json::from_str::<Value>(gewe::OPENAPI_SPEC_RAW).unwrap()
    );
}

#[test]
fn prefix_token_header_and_apifox_keys_go() {
    let doc = merged(vec![source("openapi/group/a.yaml", export("/group/a", json!({"type": "object", "properties": {"appId": {"type": "string"}}, "x-apifox-orders": ["appId"]}), json!({"type": "object"})))]).unwrap();
    let op = &doc["paths"]["/group/a"]["post"];
    assert_eq!(op["operationId"], "group_a");
    assert!(op.get("parameters").is_none());
    assert!(!doc.to_string().contains("x-apifox"));
    let example = &op["requestBody"]["content"]["application/json"]["examples"]["1"]["value"];
    assert_eq!(
        example["appId"], "example-appid",
        "apifox variables become sample strings"
    );
}

#[test]
fn type_null_becomes_any_json() {
    let mut s = json!({"type": "null", "description": "d"});
    spec::schema::normalize_schema("f", "", &mut s, Side::Response).unwrap();
    assert_eq!(s, json!({"description": "d", "nullable": true}));
    // apifox's `additionalProperties: false` on such a field is no object type.
    let mut s = json!({"type": "null", "additionalProperties": false});
    spec::schema::normalize_schema("f", "", &mut s, Side::Response).unwrap();
    assert_eq!(s, json!({"nullable": true}));
    let mut s = json!({"type": ["string", "null"]});
    spec::schema::normalize_schema("f", "", &mut s, Side::Response).unwrap();
    assert_eq!(s, json!({"type": "string", "nullable": true}));
}

#[test]
fn quirks_on_non_objects_and_misfit_enums_and_defaults() {
    let mut s = json!({"type": "string", "additionalProperties": false});
    spec::schema::normalize_schema("f", "", &mut s, Side::Request).unwrap();
    assert_eq!(s, json!({"type": "string"}));
    let mut s = json!({"type": "integer", "enum": ["1", "2"], "default": "2"});
    spec::schema::normalize_schema("f", "", &mut s, Side::Request).unwrap();
    assert_eq!(s, json!({"type": "integer", "enum": [1, 2], "default": 2}));
    let mut s = json!({"type": "boolean", "default": "maybe", "enum": ["x"]});
    spec::schema::normalize_schema("f", "", &mut s, Side::Request).unwrap();
    assert_eq!(s, json!({"type": "boolean"}));
}

#[test]
fn response_fields_are_never_required() {
    let mut s = json!({"type": "object", "properties": {"a": {"type": "object", "properties": {"b": {"type": "string"}}, "required": ["b"]}}, "required": ["a"]});
    spec::schema::normalize_schema("f", "", &mut s, Side::Response).unwrap();
    assert!(!s.to_string().contains("required"));
}

#[test]
fn examples_extend_and_correct_their_schema() {
    let mut s = json!({"type": "object", "properties": {"n": {"type": "integer"}}});
    spec::examples::reconcile(&mut s, &json!({"n": "12", "extra": [{"k": 1}]}));
    assert_eq!(s["properties"]["n"]["type"], "string", "the example wins");
    assert_eq!(
        s["properties"]["extra"],
        json!({"type": "array", "items": {"type": "object", "properties": {"k": {"type": "integer"}}}})
    );
}

#[test]
fn a_constraint_the_request_example_breaks_is_dropped_with_a_warning() {
    // The shape of GeWe's /sns/uploadSnsImage export: apifox put the "1 to 9 images" rule on
    // each URL, and the page's own example sends URLs of 28 characters.
    let mut doc = export(
        "/sns/uploadSnsImage",
        json!({"type": "object", "properties": {
            "appId": {"type": "string"},
            "imgUrls": {"type": "array", "items": {"type": "string", "minLength": 1, "maxLength": 9}}
        }, "required": ["appId", "imgUrls"]}),
        json!({"type": "object"}),
    );
    doc["paths"]["/gewe/v2/api/sns/uploadSnsImage"]["post"]["requestBody"]["content"]
        ["application/json"]["example"] = json!({
        "appId": "{{appid}}",
        "imgUrls": ["http://dummyimage.com/400x40", "http://dummyimage.com/400x30"]
    });
    let normalized = spec::normalize(&source("openapi/sns/uploadSnsImage.yaml", doc)).unwrap();
    assert_eq!(normalized.warnings.len(), 1, "{:?}", normalized.warnings);
    let warning = normalized.warnings[0].to_string();
    assert!(
        warning.starts_with("openapi/sns/uploadSnsImage.yaml: at /paths/")
            && warning.contains("/properties/imgUrls/items: ")
            && warning.contains(
                "breaks `maxLength: 9` of `imgUrls[]` with \"http://dummyimage.com/400x40\""
            ),
        "{warning}"
    );
    let merged = spec::merge(vec![normalized]).unwrap();
    assert_eq!(
        merged["components"]["schemas"]["SnsUploadSnsImageRequest"]["properties"]["imgUrls"]
            ["items"],
        json!({"type": "string", "minLength": 1}),
        "what the example keeps is still enforced"
    );
}

#[test]
fn constraints_the_example_keeps_stay_without_a_warning() {
    let mut s = json!({"type": "object", "properties": {
        "wxids": {"type": "array", "items": {"type": "string"}, "minItems": 1, "maxItems": 2},
        "op": {"type": "integer", "enum": [1, 2], "minimum": 1}
    }});
    let before = s.clone();
    let mut doc = export("/contacts/x", s.take(), json!({"type": "object"}));
    doc["paths"]["/gewe/v2/api/contacts/x"]["post"]["requestBody"]["content"]["application/json"]
        ["example"] = json!({"wxids": ["a", "b"], "op": 2});
    let normalized = spec::normalize(&source("openapi/contacts/x.yaml", doc)).unwrap();
    assert!(normalized.warnings.is_empty(), "{:?}", normalized.warnings);
    let merged = spec::merge(vec![normalized]).unwrap();
    let props = &merged["components"]["schemas"]["ContactsXRequest"]["properties"];
    assert_eq!(
        props["wxids"]["maxItems"],
        before["properties"]["wxids"]["maxItems"]
    );
    assert_eq!(props["op"]["enum"], json!([1, 2]));
}

#[test]
fn unknown_type_names_file_and_place() {
    let doc = export(
        "/group/a",
        json!({"type": "object", "properties": {"f": {"type": "file"}}}),
        json!({"type": "object"}),
    );
    let err = merged(vec![source("openapi/group/a.yaml", doc)]).unwrap_err();
    assert_eq!(err.file, "openapi/group/a.yaml");
    assert!(
        err.pointer.ends_with("/properties/f/type"),
        "{}",
        err.pointer
    );
    assert!(err.to_string().contains("unknown type `file`"), "{err}");
}

#[test]
fn invalid_yaml_names_the_line() {
    let err = spec::load::parse(
        "openapi/group/bad.yaml",
        "openapi: 3.0.1\npaths:\n  a: [1, 2\n",
    )
    .unwrap_err();
    let text = err.to_string();
    assert!(
        text.starts_with("openapi/group/bad.yaml: invalid YAML: ")
            && text.contains("line 3, column 6"),
        "{err}"
    );
}

#[test]
fn yaml_is_read_with_the_core_schema() {
    // YAML 1.1 would make these a boolean and an octal number; apifox means the strings.
    let doc = spec::load::parse(
        "f.yaml",
        "a: yes\nb: 0755\nc: 18446744073709551615\nd: -5\n'200': x\n",
    )
    .unwrap();
    assert_eq!(
        doc,
        json!({"a": "yes", "b": "0755", "c": 18446744073709551615u64, "d": -5, "200": "x"})
    );
}

#[test]
fn the_same_path_in_two_files_names_both() {
    let a = source(
        "openapi/group/a.yaml",
        export(
            "/group/a",
            json!({"type": "object"}),
            json!({"type": "object"}),
        ),
    );
    let b = source(
        "openapi/group/b.yaml",
        export(
            "/group/a",
            json!({"type": "object"}),
            json!({"type": "object"}),
        ),
    );
    let err = merged(vec![a, b]).unwrap_err();
    assert!(
        err.to_string().starts_with("openapi/group/b.yaml")
            && err
                .to_string()
                .contains("also defined in openapi/group/a.yaml"),
        "{err}"
    );
}

#[test]
fn a_name_collision_names_both_files() {
    let a = source(
        "openapi/group/a.yaml",
        export(
            "/group/getX",
            json!({"type": "object"}),
            json!({"type": "object"}),
        ),
    );
    let b = source(
        "openapi/group/b.yaml",
        export(
            "/group/get_x",
            json!({"type": "object"}),
            json!({"type": "object"}),
        ),
    );
    let err = merged(vec![a, b]).unwrap_err();
    let text = err.to_string();
    assert!(
        text.contains("group_get_x")
            && text.contains("openapi/group/a.yaml")
            && text.starts_with("openapi/group/b.yaml"),
        "{text}"
    );
}

#[test]
fn an_operation_without_a_success_response_still_has_data() {
    let mut doc = export(
        "/finder/x",
        json!({"type": "object"}),
        json!({"type": "object"}),
    );
    let op = &mut doc["paths"]["/gewe/v2/api/finder/x"]["post"];
    op["responses"] = json!({"500": {"description": "服务器错误", "content": {"application/json": {"schema": {"type": "object", "properties": {"ret": {"type": "integer"}}}}}}});
    let doc = merged(vec![source("openapi/finder/x.yaml", doc)]).unwrap();
    assert!(doc["paths"]["/finder/x"]["post"]["responses"]["200"].is_object());
    assert_eq!(doc["components"]["schemas"]["FinderXData"], json!({}));
}

#[test]
fn descriptions_become_clean_markdown() {
    let raw = "看 http://doc.geweapi.com/api-1 和 [wxid_abc] 的 <appmsg> 内容\n<Accordion title=\"图\" defaultOpen={false}>\n        <p class=\"x\">\n![ipad.png](https://x/y.png)\n</Accordion>\n:::highlight green\n提示\n:::\n```\ncode\n```";
    let out = docs::clean(raw);
    assert!(out.contains("<http://doc.geweapi.com/api-1>"), "{out}");
    assert!(out.contains("\\[wxid_abc\\]"), "{out}");
    assert!(out.contains("&lt;appmsg>"), "{out}");
    assert!(
        !out.contains("Accordion") && !out.contains(":::") && !out.contains("<p"),
        "{out}"
    );
    assert!(
        out.contains("[ipad.png](https://x/y.png)") && !out.contains("!["),
        "{out}"
    );
    assert!(out.contains("```text\ncode\n```"), "{out}");
    assert!(
        out.lines().all(|l| l.len() - l.trim_start().len() < 4),
        "no indented code blocks: {out}"
    );
}

#[test]
fn usage_rules_follow_the_kind_of_action() {
    assert!(docs::usage_rule("/message/postText")
        .unwrap()
        .contains("40 messages a minute"));
    assert!(docs::usage_rule("/message/forwardImage")
        .unwrap()
        .contains("never concurrently"));
    assert!(docs::usage_rule("/message/downloadImage")
        .unwrap()
        .contains("3–10 s"));
    assert_eq!(docs::usage_rule("/group/joinRoomUsingQRCode"), None);
}

/// The request schema of `/group/a` after normalizing and merging one YAML export.
fn request_of(yaml: &str) -> Value {
    let doc = spec::load::parse("openapi/group/a.yaml", yaml).unwrap();
    let merged = merged(vec![source("openapi/group/a.yaml", doc)]).unwrap();
    merged["components"]["schemas"]["GroupARequest"].clone()
}

fn names(v: &Value) -> Vec<&str> {
    v.as_array()
        .map(|a| a.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default()
}

#[test]
fn field_order_is_the_pages_never_alphabetical() {
    let export = |orders: &str| {
        format!(
            "openapi: 3.0.1\npaths:\n  /gewe/v2/api/group/a:\n    post:\n      requestBody:\n        content:\n          application/json:\n            schema:\n              type: object\n              properties:\n                zeta: {{type: string}}\n                appId: {{type: string}}\n                alpha: {{type: string}}\n                mid: {{type: string}}\n{orders}              required: [alpha, mid, zeta, appId]\n      responses: {{}}\n"
        )
    };
    // No x-apifox-orders: the order of `properties` in the file.
    let plain = request_of(&export(""));
    assert_eq!(names(&plain["required"]), ["zeta", "appId", "alpha", "mid"]);
    // x-apifox-orders wins; a name it does not list follows in file order, an unknown one is
    // ignored.
    let ordered = request_of(&export(
        "              x-apifox-orders: [appId, alpha, gone, zeta]\n",
    ));
    assert_eq!(
        names(&ordered["required"]),
        ["appId", "alpha", "zeta", "mid"]
    );
    // JSON, which the loader reads as YAML, keeps its file order too.
    let json = r#"{"openapi": "3.0.1", "paths": {"/gewe/v2/api/group/a": {"post": {"requestBody": {"content": {"application/json": {"schema": {"type": "object", "properties": {"b": {"type": "string"}, "a": {"type": "string"}}, "required": ["a", "b"]}}}}, "responses": {}}}}}"#;
    assert_eq!(names(&request_of(json)["required"]), ["b", "a"]);
}
