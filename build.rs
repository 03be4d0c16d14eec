//! Generates the GeWe client from the apifox exports in `openapi/`:
//! load → normalize → merge → generate → write. Each step lives in `build/`.

#[path = "build/codegen.rs"]
mod codegen;
#[path = "build/docs.rs"]
mod docs;
#[path = "build/spec.rs"]
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
    let dir = root.join("openapi");
    let io = |e: std::io::Error| spec::SpecError::new("openapi/", "", e.to_string());

    let layout = spec::discover(&dir).map_err(io)?;
    let sources = layout
        .exports
        .iter()
        .chain(&layout.ours)
        .map(|f| spec::load(&root, f))
        .collect::<Result<Vec<_>, _>>()?;
    let normalized = sources
        .iter()
        .map(spec::normalize)
        .collect::<Result<Vec<_>, _>>()?;
    let merged = spec::merge(normalized)?;
    let raw = spec::merge_raw(&sources)?;

    let ops = codegen::operations(&merged);
    let (client, enums) = codegen::progenitor(&merged)?;
    let wrapper = codegen::wrapper(&ops);

    let client = codegen::drop_api_version(&codegen::render(client), ops.len())?;
    write(&out, "gewe_client.rs", &client)?;
    write(&out, "gewe_wrapper.rs", &codegen::render(wrapper))?;
    write(&out, "gewe_enums.rs", &codegen::render(enums))?;
    write(&out, "openapi.json", &pretty(&merged))?;
    write(&out, "openapi.raw.json", &pretty(&raw))?;
    write(&out, "methods.md", &codegen::method_map(&ops))?;
    Ok(())
}

fn pretty(v: &serde_json::Value) -> String {
    serde_json::to_string_pretty(v).expect("a JSON value always serializes")
}

fn write(dir: &Path, name: &str, text: &str) -> Result<(), spec::SpecError> {
    std::fs::write(dir.join(name), text).map_err(|e| spec::SpecError::new(name, "", e.to_string()))
}
