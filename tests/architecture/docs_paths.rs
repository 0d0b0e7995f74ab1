//! The docs' map matches the tree: every path the docs and the README name in backticks, from
//! the repository's root (`src/...`, `crates/...`, `tests/...`, ...), exists.

use std::path::Path;

/// The top folders and files a path in the docs starts with.
const ROOTS: &[&str] = &[
    "src/",
    "crates/",
    "tests/",
    "benches/",
    "scripts/",
    "docs/",
    "editor/",
    "end2end/",
    "migrations/",
    "deploy/",
    "style/",
    "public/",
    "vendor/",
    "fuzz/",
];

/// What the build writes (`editor/build` bundles CodeMirror into `public/editor/`), so a fresh
/// clone does not have it yet.
const GENERATED: &[&str] = &["public/editor/"];

/// Every backticked path of `text` that starts at one of `ROOTS`, without a trailing `:line`.
fn named_paths(text: &str) -> Vec<String> {
    text.split('`')
        .skip(1)
        .step_by(2)
        .filter(|quoted| ROOTS.iter().any(|root| quoted.starts_with(root)))
        .filter(|quoted| !quoted.contains(char::is_whitespace) && !quoted.contains(['*', '<']))
        .map(|quoted| {
            let path = quoted.split(':').next().unwrap_or(quoted);
            // `a/{b,c}.rs` and `x.rs (ssr)` forms name several files or carry a note.
            path.split('{').next().unwrap_or(path).to_string()
        })
        .collect()
}

#[test]
fn every_path_the_docs_name_exists() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut documents: Vec<_> = std::fs::read_dir(root.join("docs"))
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.extension().is_some_and(|e| e == "md"))
        .collect();
    documents.push(root.join("README.md"));
    let mut missing = Vec::new();
    for document in &documents {
        let text = std::fs::read_to_string(document).unwrap();
        for path in named_paths(&text) {
            let generated = GENERATED.iter().any(|prefix| path.starts_with(prefix));
            if !generated && !root.join(&path).exists() {
                let name = document.strip_prefix(root).unwrap().display();
                missing.push(format!("{name} names `{path}`, which does not exist"));
            }
        }
    }
    missing.sort();
    missing.dedup();
    assert!(missing.is_empty(), "{}", missing.join("\n"));
}

#[test]
fn the_path_reader_takes_backticked_paths_from_the_root_only() {
    let paths = named_paths("see `src/app.rs`, `server/http.rs`, `tests/api/main.rs:12` and `crates/x/{a,b}.rs` and `tests/api/<feature>/`");
    assert_eq!(paths, ["src/app.rs", "tests/api/main.rs", "crates/x/"]);
}
