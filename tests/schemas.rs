//! Each operation's documented request example fits the JSON schema of its generated request
//! type, and every operation exposes its schemas (for validation, or as LLM tool parameters).

mod support;

use support::{examples, operations, spec};

#[test]
fn request_examples_fit_the_generated_request_schemas() {
    let spec = spec();
    let mut failures = Vec::new();
    for (path, op) in operations(&spec) {
        let meta = gewe::operation(&path).unwrap_or_else(|| panic!("{path} has no dispatch entry"));
        assert_eq!(meta.path, path);
        let schema = serde_json::to_value(
            meta.request_schema()
                .expect("every GeWe operation takes a body"),
        )
        .unwrap();
        for (summary, example) in examples(&op["requestBody"]["content"]["application/json"]) {
            let violations = gewe::mock::check_schema(&schema, &example);
            if !violations.is_empty() {
                failures.push(format!("{path} `{summary}`: {violations:?}"));
            }
        }
        // A wrong type is caught by the same schema: the check is not vacuous.
        let wrong = serde_json::json!({"appId": 12345});
        assert!(
            !gewe::mock::check_schema(&schema, &wrong).is_empty(),
            "{path}: schema accepts anything"
        );
        let data = serde_json::to_value(meta.data_schema()).unwrap();
        assert!(data.is_object(), "{path}: data schema");
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
