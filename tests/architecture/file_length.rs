//! Files a reader can hold in mind: no product file longer than 800 lines anywhere in the tree
//! (the app, the crates, the tests, the benches, the browser code and the scripts), and the
//! strategy language, the most read of them, holds to 600.

use std::path::{Path, PathBuf};

/// The limit for every product file.
const MAX_LINES: usize = 800;
/// The strategy language's own, stricter limit.
const MAX_LANGUAGE_LINES: usize = 600;

/// The folders whose files are ours (not vendored, generated or installed).
const PRODUCT_FOLDERS: &[&str] = &[
    "src",
    "crates",
    "tests",
    "benches",
    "editor",
    "end2end",
    "scripts",
    "style",
    "migrations",
];

/// What is not ours to split: installed packages, build output, fixtures and data.
fn skipped(path: &Path) -> bool {
    path.components().any(|part| {
        matches!(
            part.as_os_str().to_str(),
            Some("node_modules" | "target" | "dist" | "data" | "golden" | ".venv")
        )
    })
}

fn source_files(folder: &Path, found: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(folder) else {
        return;
    };
    for entry in entries {
        let path = entry.expect("a directory entry").path();
        if skipped(&path) {
            continue;
        }
        if path.is_dir() {
            source_files(&path, found);
        } else if path.extension().is_some_and(|extension| {
            matches!(
                extension.to_str(),
                Some("rs" | "mjs" | "js" | "css" | "sql" | "py" | "sh")
            )
        }) || (path.extension().is_none()
            && path.components().any(|part| part.as_os_str() == "scripts"))
        {
            found.push(path);
        }
    }
}

fn too_long(root: &Path, folders: &[&str], limit: usize) -> Vec<String> {
    let mut files = Vec::new();
    for folder in folders {
        source_files(&root.join(folder), &mut files);
    }
    assert!(!files.is_empty(), "no files found under {folders:?}");
    files
        .iter()
        .filter_map(|path| {
            let lines = std::fs::read_to_string(path).ok()?.lines().count();
            (lines > limit).then(|| {
                let name = path.strip_prefix(root).unwrap_or(path).display();
                format!("{name} has {lines} lines")
            })
        })
        .collect()
}

#[test]
fn no_product_file_is_longer_than_800_lines() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let too_long = too_long(root, PRODUCT_FOLDERS, MAX_LINES);
    assert!(
        too_long.is_empty(),
        "split these by what they own: {too_long:?}"
    );
}

#[test]
fn no_strategy_language_file_is_longer_than_600_lines() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let too_long = too_long(root, &["crates/strategy_language/src"], MAX_LANGUAGE_LINES);
    assert!(
        too_long.is_empty(),
        "split these by what they own: {too_long:?}"
    );
}
