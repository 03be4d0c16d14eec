//! Generates the GeWe client from the apifox exports in `openapi/`:
//! load → overlay → normalize → merge (`build/pipeline.rs`) → generate → write.
//! Each step lives in `build/`.

#[path = "build/calls.rs"]
mod calls;
#[path = "build/calls_check.rs"]
mod calls_check;
#[path = "build/codegen.rs"]
mod codegen;
#[path = "build/docs.rs"]
mod docs;
#[path = "build/overlay.rs"]
mod overlay;
#[path = "build/pipeline.rs"]
mod pipeline;
#[path = "build/spec/mod.rs"]
mod spec;

use std::path::{Path, PathBuf};

fn main() {
    println!("cargo:rerun-if-changed=openapi");
    println!("cargo:rerun-if-changed=build");
    println!("cargo:rerun-if-changed=build.rs");
    if let Err(e) = run() {
        // A clean message naming the file and the place, not a panic backtrace.
        eprintln!("error: {e}");
        std::process::exit(1);
    }
}

fn run() -> Result<(), spec::SpecError> {
    let root =
        PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR"));
    let out = PathBuf::from(std::env::var("OUT_DIR").expect("cargo sets OUT_DIR"));

    let spec = pipeline::spec(&root)?;
    for warning in &spec.warnings {
        println!("cargo:warning={warning}");
    }
    let merged = &spec.merged;

    let ops = codegen::operations(merged);
    let (_, untiered) = codegen::tiers(&ops)?;
    for warning in &untiered {
        println!("cargo:warning={warning}");
    }
    let (client, enums) = codegen::progenitor(merged)?;
    let wrapper = codegen::wrapper(&ops);

    let mut client = codegen::parse(client)?;
    codegen::drop_api_version(&mut client, ops.len())?;
    let plans = calls::plan(&ops, merged, &client)?;
    let short = calls::calls(&plans, merged, &client);
    let check = calls_check::check(&plans);
    codegen::derive_default(&mut client, &calls::default_requests(&plans));
    codegen::widen_defaults(&mut client);
    write(&out, "gewe_calls.rs", &codegen::render(short))?;
    write(&out, "gewe_calls_check.rs", &codegen::render(check))?;
    write(&out, "gewe_client.rs", &codegen::render_file(client))?;
    write(&out, "gewe_wrapper.rs", &codegen::render(wrapper))?;
    write(&out, "gewe_enums.rs", &codegen::render(enums))?;
    write(&out, "openapi.json", &pretty(merged))?;
    write(&out, "openapi.raw.json", &pretty(&spec.raw))?;
    write(&out, "methods.md", &codegen::method_map(&ops, &plans))?;
    Ok(())
}

fn pretty(v: &serde_json::Value) -> String {
    serde_json::to_string_pretty(v).expect("a JSON value always serializes")
}

fn write(dir: &Path, name: &str, text: &str) -> Result<(), spec::SpecError> {
    std::fs::write(dir.join(name), text).map_err(|e| spec::SpecError::new(name, "", e.to_string()))
}
