//! The layers of docs/ARCHITECTURE.md, checked: each part of `src/` imports only the parts
//! below it. A `use crate::...` (or a path through `crate::`) that points upwards fails here.
//! Beneath them all, the workspace's two pure crates (the strategy language and the backtest
//! engine): they import nothing of the app and depend on no web, database or I/O crate.

// No product file over 800 lines (the strategy language: 600).
mod file_length;

// Every path the docs name exists.
mod docs_paths;

// The server reaches each feature only through its ssr/mod.rs.
mod surface;

// The vendored renderer is the one the build resolves.
mod vendored;

use std::{fs, path::Path};

/// Top to bottom; each layer may use itself and those after it, never those before it.
const LAYERS: &[(&str, &[&str])] = &[
    ("the composition root", &["server", "main.rs"]),
    ("the routes", &["app.rs"]),
    ("the site", &["site"]),
    ("the features", &["strategies", "accounts", "market_data"]),
    (
        "the kernel",
        &[
            "error.rs",
            "ids.rs",
            "wire_time.rs",
            "config",
            "secrets.rs",
            "state.rs",
            "stored_text.rs",
            "request_id.rs",
            "background.rs",
            "realtime",
            "web",
            "work_pool.rs",
        ],
    ),
];

/// The module a `src/` entry defines, as `crate::` paths name it.
fn module_name(entry: &str) -> &str {
    entry.trim_end_matches(".rs")
}

fn rust_files(path: &Path, found: &mut Vec<std::path::PathBuf>) {
    if path.is_dir() {
        for entry in fs::read_dir(path).unwrap() {
            rust_files(&entry.unwrap().path(), found);
        }
    } else if path.extension().is_some_and(|e| e == "rs") {
        found.push(path.to_path_buf());
    }
}

/// Every `crate::name` that `text` mentions outside comments, including each top-level name
/// of a grouped import (`use crate::{a::B, c}` across lines).
fn crate_paths(text: &str) -> Vec<String> {
    let code: String = text
        .lines()
        .map(|line| line.split("//").next().unwrap_or(""))
        .collect::<Vec<_>>()
        .join("\n");
    let identifier = |s: &str| -> String {
        s.chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
            .collect()
    };
    let mut names = Vec::new();
    let mut rest = code.as_str();
    while let Some(at) = rest.find("crate::") {
        rest = &rest[at + "crate::".len()..];
        if let Some(group) = rest.strip_prefix('{') {
            // The names at depth 0 of the balanced group.
            let mut depth = 0;
            let mut at_name_start = true;
            for (index, c) in group.char_indices() {
                match c {
                    '{' => depth += 1,
                    '}' if depth == 0 => break,
                    '}' => depth -= 1,
                    ',' if depth == 0 => at_name_start = true,
                    c if at_name_start && !c.is_whitespace() => {
                        at_name_start = false;
                        let name = identifier(&group[index..]);
                        if !name.is_empty() {
                            names.push(name);
                        }
                    }
                    _ => {}
                }
            }
        } else {
            let name = identifier(rest);
            if !name.is_empty() {
                names.push(name);
            }
        }
    }
    names
}

#[test]
fn every_layer_imports_only_the_layers_below_it() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut violations = Vec::new();
    for (index, (layer, entries)) in LAYERS.iter().enumerate() {
        let above: Vec<&str> = LAYERS[..index]
            .iter()
            .flat_map(|(_, entries)| entries.iter().map(|e| module_name(e)))
            .collect();
        for entry in *entries {
            let mut files = Vec::new();
            rust_files(&src.join(entry), &mut files);
            assert!(!files.is_empty(), "src/{entry} has no Rust files");
            for file in files {
                let text = fs::read_to_string(&file).unwrap();
                for name in crate_paths(&text) {
                    if above.contains(&name.as_str()) {
                        violations.push(format!(
                            "{} ({layer}) uses crate::{name}, a layer above it",
                            file.strip_prefix(&src).unwrap().display()
                        ));
                    }
                }
            }
        }
    }
    assert!(violations.is_empty(), "{}", violations.join("\n"));
}

/// The workspace's pure crates, bottom first: each may depend on those before it.
const PURE_CRATES: &[&str] = &["strategy_language", "backtest_engine", "live_document"];

/// Crates that would bring the web, a database, a runtime or I/O into a pure crate.
const IMPURE_DEPENDENCIES: &[&str] = &[
    "leptos",
    "leptos_axum",
    "leptos_router",
    "leptos_meta",
    "axum",
    "hyper",
    "tower",
    "tower-http",
    "tokio",
    "sqlx",
    "reqwest",
    "lettre",
    "tracing",
    "web-sys",
    "js-sys",
    "wasm-bindgen",
    "trading_strategy",
];

fn crate_manifest(name: &str) -> toml::Table {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("crates")
        .join(name)
        .join("Cargo.toml");
    fs::read_to_string(&path)
        .unwrap_or_else(|error| panic!("{}: {error}", path.display()))
        .parse()
        .unwrap()
}

#[test]
fn the_pure_crates_depend_on_no_web_database_or_runtime_crate_nor_on_the_app() {
    let mut violations = Vec::new();
    for (index, name) in PURE_CRATES.iter().enumerate() {
        let manifest = crate_manifest(name);
        for table in ["dependencies", "dev-dependencies", "build-dependencies"] {
            let Some(dependencies) = manifest.get(table).and_then(|t| t.as_table()) else {
                continue;
            };
            for dependency in dependencies.keys() {
                let above = PURE_CRATES[index..].contains(&dependency.as_str());
                if IMPURE_DEPENDENCIES.contains(&dependency.as_str()) || above {
                    violations.push(format!("crates/{name} [{table}] has `{dependency}`"));
                }
            }
        }
    }
    assert!(violations.is_empty(), "{}", violations.join("\n"));
}

#[test]
fn the_pure_crates_import_nothing_of_the_app() {
    let mut violations = Vec::new();
    for name in PURE_CRATES {
        let src = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("crates")
            .join(name)
            .join("src");
        let mut files = Vec::new();
        rust_files(&src, &mut files);
        assert!(!files.is_empty(), "{} has no Rust files", src.display());
        for file in files {
            let text = fs::read_to_string(&file).unwrap();
            if text.contains("trading_strategy::") {
                violations.push(format!("{} names trading_strategy", file.display()));
            }
        }
    }
    assert!(violations.is_empty(), "{}", violations.join("\n"));
}

#[test]
fn cargo_metadata_lists_the_app_and_the_two_pure_crates_as_the_workspace() {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_string());
    let output = std::process::Command::new(cargo)
        .args([
            "metadata",
            "--no-deps",
            "--format-version",
            "1",
            "--offline",
        ])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("cargo metadata runs");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let metadata: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    let mut names: Vec<&str> = metadata["packages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|package| package["name"].as_str().unwrap())
        .collect();
    names.sort_unstable();
    assert_eq!(
        names,
        [
            "backtest_engine",
            "live_document",
            "strategy_language",
            "trading_strategy"
        ]
    );
}

#[test]
fn every_module_of_src_belongs_to_a_layer() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let known: Vec<&str> = LAYERS.iter().flat_map(|(_, e)| e.iter().copied()).collect();
    for entry in fs::read_dir(&src).unwrap() {
        let name = entry.unwrap().file_name().to_string_lossy().to_string();
        if name == "lib.rs" {
            continue;
        }
        assert!(
            known.contains(&name.as_str()),
            "src/{name} is in no layer: add it to LAYERS and to docs/ARCHITECTURE.md"
        );
    }
}

#[test]
fn the_checker_sees_grouped_and_nested_imports() {
    let names = crate_paths(
        "use crate::{config::Settings, server::http};\nlet x = crate::app::App; // crate::ignored\n\
         use crate::{\n    error::AppError,\n    web::{forms::Field, Navigation},\n};",
    );
    assert!(names.contains(&"error".to_string()), "{names:?}");
    assert!(names.contains(&"web".to_string()), "{names:?}");
    assert!(!names.contains(&"forms".to_string()), "{names:?}");
    assert!(names.contains(&"server".to_string()), "{names:?}");
    assert!(names.contains(&"config".to_string()), "{names:?}");
    assert!(names.contains(&"app".to_string()), "{names:?}");
    assert!(!names.contains(&"ignored".to_string()), "{names:?}");
}
