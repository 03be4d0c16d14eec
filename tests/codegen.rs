//! The edits build.rs makes on progenitor's output, on the syntax tree.

#[path = "../build/codegen.rs"]
#[allow(dead_code)]
mod codegen;
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

use std::path::Path;

#[test]
fn the_api_version_header_map_leaves_every_method_and_nothing_else() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let merged = pipeline::spec(root).unwrap().merged;
    let operations = codegen::operations(&merged).len();
    let (client, _) = codegen::progenitor(&merged).unwrap();
    let before = codegen::render(client.clone());
    assert_eq!(before.matches("\"api-version\"").count(), operations);

    let mut file = codegen::parse(client).unwrap();
    codegen::drop_api_version(&mut file, operations).unwrap();
    let after = codegen::render_file(file.clone());
    assert!(!after.contains("api-version") && !after.contains("header_map"));
    // The rest of each request is kept: the body, the build, the hooks.
    assert_eq!(after.matches(".json(&body)").count(), operations);
    assert_eq!(after.matches(".build()?;").count(), operations);
    assert_eq!(
        after.matches("self.pre(&mut request, &info)").count(),
        operations
    );

    // Output of another shape (here: already edited) fails, saying what was found.
    let err = codegen::drop_api_version(&mut file, operations).unwrap_err();
    assert!(
        err.to_string().contains(&format!(
            "expected the api-version header map in each of the {operations} methods, found 0 maps, 0 api-version appends and 0 uses"
        )),
        "{err}"
    );
}
