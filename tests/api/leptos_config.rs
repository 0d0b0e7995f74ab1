//! cargo-leptos reads Cargo.toml; the server reads Leptos.toml. They must agree.

fn leptos_table(file: &str) -> toml::Table {
    let text = std::fs::read_to_string(file).unwrap();
    let document: toml::Table = text.parse().unwrap();
    document["package"]["metadata"]["leptos"]
        .as_table()
        .unwrap_or_else(|| panic!("{file} has no [package.metadata.leptos]"))
        .clone()
}

#[test]
fn leptos_toml_agrees_with_cargo_toml_wherever_they_overlap() {
    let build = leptos_table("Cargo.toml");
    let runtime = leptos_table("Leptos.toml");
    for key in [
        "output-name",
        "site-root",
        "site-pkg-dir",
        "site-addr",
        "reload-port",
    ] {
        assert!(runtime.contains_key(key), "Leptos.toml lacks {key}");
    }
    for (key, value) in &runtime {
        assert_eq!(
            build.get(key),
            Some(value),
            "Leptos.toml says {key} = {value}, Cargo.toml says {:?}",
            build.get(key)
        );
    }
}

#[test]
fn the_server_takes_its_site_settings_from_leptos_toml() {
    let options = crate::harness::leptos_options();
    let runtime = leptos_table("Leptos.toml");
    assert_eq!(
        options.output_name.as_ref(),
        runtime["output-name"].as_str().unwrap()
    );
    assert_eq!(
        options.site_addr.to_string(),
        runtime["site-addr"].as_str().unwrap()
    );
    assert_eq!(
        options.site_pkg_dir.as_ref(),
        runtime["site-pkg-dir"].as_str().unwrap()
    );
}
