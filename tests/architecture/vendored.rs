//! The vendored renderer (`vendor/tachys`, README there) stays what the build uses: a
//! `cargo update` past its version would resolve tachys from crates.io with only a warning and
//! silently drop the patch. These fail instead.

use std::path::Path;

/// The published version the patch applies to.
const PATCHED_VERSION: &str = "0.2.19";

fn read(path: &str) -> String {
    std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join(path)).unwrap()
}

#[test]
fn cargo_lock_resolves_tachys_to_the_vendored_path() {
    let lock: toml::Table = read("Cargo.lock").parse().unwrap();
    let tachys: Vec<&toml::Table> = lock["package"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|package| package.as_table())
        .filter(|package| package["name"].as_str() == Some("tachys"))
        .collect();
    assert_eq!(tachys.len(), 1, "one tachys in Cargo.lock: {tachys:?}");
    assert_eq!(tachys[0]["version"].as_str(), Some(PATCHED_VERSION));
    assert!(
        tachys[0].get("source").is_none(),
        "tachys comes from {:?}, not from vendor/tachys: the [patch] no longer applies",
        tachys[0].get("source")
    );
}

#[test]
fn the_vendored_crate_and_its_patch_name_the_same_published_version() {
    let manifest: toml::Table = read("vendor/tachys/Cargo.toml").parse().unwrap();
    assert_eq!(
        manifest["package"]["version"].as_str(),
        Some(PATCHED_VERSION)
    );
    let patch = read("vendor/tachys.patch");
    assert!(patch.contains("+++ b/src/view/any_view.rs"), "{patch}");
}
