//! Each feature's `ssr/mod.rs` is its whole surface towards the composition root: the server
//! (`src/server/`, `src/main.rs`) names only what that file exports at its top (its own items
//! and its `pub use`s), never a path into one of the feature's modules.

use std::{fs, path::Path};

use super::rust_files;

const FEATURES: &[&str] = &["accounts", "strategies", "market_data"];

/// The names `ssr/mod.rs` exports at its top: `pub fn`/`const`/`struct`/`enum`/`static`/`type`
/// items and the last segment (or `as` alias) of each name its `pub use` lines bring in.
fn exported(text: &str) -> Vec<String> {
    let mut names = Vec::new();
    let mut in_use = false;
    for line in text.lines() {
        let line = line.trim();
        if let Some(rest) = line.strip_prefix("pub ") {
            let mut words = rest.split(|c: char| !(c.is_alphanumeric() || c == '_'));
            let kind = words.next().unwrap_or("");
            if matches!(kind, "fn" | "const" | "struct" | "enum" | "static" | "type") {
                if let Some(name) = words.find(|word| !word.is_empty()) {
                    names.push(name.to_string());
                }
            }
            in_use = kind == "use";
        }
        if in_use {
            let body = line.trim_start_matches("pub use ");
            for item in body.split([',', '{', '}', ';']) {
                let item = item.trim();
                let name = match item.split_once(" as ") {
                    Some((_, alias)) => alias.trim(),
                    None => item.rsplit("::").next().unwrap_or(item),
                };
                if !name.is_empty() && name != "self" {
                    names.push(name.to_string());
                }
            }
            if line.ends_with(';') {
                in_use = false;
            }
        }
    }
    names
}

/// Every `feature::ssr::NAME` (or each name of `feature::ssr::{A, B}`) in `text`, with
/// whether it goes on into a module (`feature::ssr::module::item`).
fn reached(text: &str, feature: &str) -> Vec<(String, bool)> {
    let needle = format!("{feature}::ssr::");
    let code: String = text
        .lines()
        .map(|line| line.split("//").next().unwrap_or(""))
        .collect::<Vec<_>>()
        .join("\n");
    let mut found = Vec::new();
    for (at, _) in code.match_indices(&needle) {
        let rest = &code[at + needle.len()..];
        let names: Vec<&str> = match rest.strip_prefix('{') {
            Some(group) => group.split('}').next().unwrap_or("").split(',').collect(),
            None => vec![rest],
        };
        for name in names {
            let name = name.trim();
            let identifier: String = name
                .chars()
                .take_while(|c| c.is_alphanumeric() || *c == '_')
                .collect();
            if !identifier.is_empty() {
                let deeper = name[identifier.len()..].starts_with("::");
                found.push((identifier, deeper));
            }
        }
    }
    found
}

#[test]
fn the_server_reaches_each_feature_only_through_its_ssr_surface() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    rust_files(&src.join("server"), &mut files);
    files.push(src.join("main.rs"));
    let mut violations = Vec::new();
    for feature in FEATURES {
        let surface = exported(&fs::read_to_string(src.join(feature).join("ssr/mod.rs")).unwrap());
        for file in &files {
            let text = fs::read_to_string(file).unwrap();
            for (name, deeper) in reached(&text, feature) {
                if deeper || !surface.contains(&name) {
                    violations.push(format!(
                        "{} uses {feature}::ssr::{name}{}, which {feature}/ssr/mod.rs does not export",
                        file.strip_prefix(&src).unwrap().display(),
                        if deeper { "::…" } else { "" }
                    ));
                }
            }
        }
    }
    assert!(violations.is_empty(), "{}", violations.join("\n"));
}

#[test]
fn the_surface_reader_sees_items_uses_and_paths_into_modules() {
    let names = exported(
        "pub mod flows;\npub use a::{b, c as d};\npub use e::F;\npub fn routes() {}\n\
         pub const PAGE_RULES: &[u8] = &[];\npub struct Intervals;",
    );
    for name in ["b", "d", "F", "routes", "PAGE_RULES", "Intervals"] {
        assert!(names.contains(&name.to_string()), "{name}: {names:?}");
    }
    assert!(!names.contains(&"flows".to_string()));
    let found = reached(
        "accounts::ssr::routes(); accounts::ssr::sessions::x(); use accounts::ssr::{A, b};",
        "accounts",
    );
    assert_eq!(
        found,
        [
            ("routes".to_string(), false),
            ("sessions".to_string(), true),
            ("A".to_string(), false),
            ("b".to_string(), false)
        ]
    );
}
