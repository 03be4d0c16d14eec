//! The README's module table and `openapi/ours/METHODS.md` match `openapi/`.

use std::collections::BTreeMap;
use std::path::Path;

const ROOT: &str = env!("CARGO_MANIFEST_DIR");

#[test]
fn readme_module_table_matches_openapi() {
    let readme = std::fs::read_to_string(Path::new(ROOT).join("README.md")).unwrap();
    let section = readme
        .split("## The API")
        .nth(1)
        .expect("an API section")
        .split("\n## ")
        .next()
        .unwrap();
    let table: BTreeMap<String, usize> = section
        .lines()
        .filter_map(|l| {
            let cells: Vec<&str> = l
                .trim()
                .trim_matches('|')
                .split('|')
                .map(str::trim)
                .collect();
            (cells.len() == 2)
                .then(|| cells[1].parse().ok().map(|n| (cells[0].to_string(), n)))
                .flatten()
        })
        .collect();
    let mut actual: BTreeMap<String, usize> = BTreeMap::new();
    for op in gewe::operations() {
        *actual.entry(op.module.to_string()).or_default() += 1;
    }
    // And the folders of openapi/ are the modules.
    let mut files: BTreeMap<String, usize> = BTreeMap::new();
    for entry in std::fs::read_dir(Path::new(ROOT).join("openapi")).unwrap() {
        let dir = entry.unwrap().path();
        if dir.is_dir() {
            let n = std::fs::read_dir(&dir)
                .unwrap()
                .filter(|f| {
                    f.as_ref()
                        .unwrap()
                        .path()
                        .extension()
                        .is_some_and(|e| e == "yaml" || e == "yml" || e == "json")
                })
                .count();
            let name = dir.file_name().unwrap().to_string_lossy().to_string();
            if actual.contains_key(&name) {
                files.insert(name, n);
            }
        }
    }
    assert_eq!(table, actual, "README table vs the generated operations");
    assert_eq!(
        files, actual,
        "openapi/ folders vs the generated operations"
    );
}

#[test]
fn method_map_is_up_to_date() {
    let path = Path::new(ROOT).join("openapi/ours/METHODS.md");
    let expected = format!("# Path → method map\n\nGenerated from `openapi/` by build.rs; refresh with `GEWE_BLESS=1 cargo test --test readme`.\n{}", gewe::METHOD_MAP);
    if std::env::var_os("GEWE_BLESS").is_some() {
        std::fs::write(&path, &expected).unwrap();
    }
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        committed == expected,
        "openapi/ours/METHODS.md is stale: run `GEWE_BLESS=1 cargo test --test readme`"
    );
}

/// The README quotes GeWe's pacing numbers, which `gewe::pacing` defines once.
#[test]
fn readme_pacing_numbers_are_the_pacers() {
    use gewe::pacing::{GROUP_GAP, MESSAGES_PER_MINUTE, USER_GAP};
    let words = |s: &str| s.split_whitespace().collect::<Vec<_>>().join(" ");
    let readme = words(&std::fs::read_to_string(Path::new(ROOT).join("README.md")).unwrap());
    let (n, user) = (MESSAGES_PER_MINUTE, USER_GAP.as_secs());
    let (lo, hi) = (GROUP_GAP.start().as_secs(), GROUP_GAP.end().as_secs());
    for quote in [
        format!("about {n} messages a minute, never concurrently; about {user} s between users and a random {lo}–{hi} s between groups"),
        format!("(about {n} a minute, {user} s between users, {lo}–{hi} s between groups)"),
    ] {
        assert!(readme.contains(&quote), "the README does not say: {quote}");
    }
}

#[test]
fn readme_shows_the_echo_example_whole() {
    let readme = std::fs::read_to_string(Path::new(ROOT).join("README.md")).unwrap();
    let example = std::fs::read_to_string(Path::new(ROOT).join("examples/echo_bot.rs")).unwrap();
    // The example's code, without its `//!` header.
    let code: String = example
        .lines()
        .skip_while(|l| l.starts_with("//!") || l.is_empty())
        .map(|l| format!("{l}\n"))
        .collect();
    let block = readme
        .split("The next step is a whole bot")
        .nth(1)
        .and_then(|rest| rest.split("```rust,no_run\n").nth(1))
        .and_then(|rest| rest.split("```").next())
        .expect("a code block after \"The next step is a whole bot\"");
    assert_eq!(block, code, "README's echo bot vs examples/echo_bot.rs");
}
