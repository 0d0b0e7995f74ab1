//! The release layout that `deploy/package-release` ships (laid out by
//! `deploy/lay-out-release`): started from its own folder, or from anywhere, with no
//! `LEPTOS_*` variables, it serves its site's files. (`scripts/check/release` does the same
//! with the real release build in Chromium.)

use std::{path::Path, process::Command, time::Duration};

use crate::{
    binary::{clean_command, free_port, start, terminate, wait_with_timeout},
    harness::TestDatabase,
};

const STYLESHEET: &str = "body { color: rebeccapurple; }";

/// A build folder with the binary under test and a site with one stylesheet, laid out by the
/// script the release uses.
fn lay_out_release(work: &Path) -> std::path::PathBuf {
    let build = work.join("build");
    let site = work.join("site-built");
    std::fs::create_dir_all(&build).unwrap();
    std::fs::create_dir_all(site.join("pkg")).unwrap();
    std::fs::copy(
        env!("CARGO_BIN_EXE_trading_strategy"),
        build.join("trading_strategy"),
    )
    .unwrap();
    std::fs::write(site.join("pkg/trading_strategy.css"), STYLESHEET).unwrap();
    let release = work.join("trading_strategy");
    let status = Command::new("deploy/lay-out-release")
        .args([&build, &site, &release])
        .status()
        .unwrap();
    assert!(status.success(), "deploy/lay-out-release failed");
    release
}

async fn stylesheet_served_when_started_from(release: &Path, working_directory: &Path) {
    let (database, _pool) = TestDatabase::migrated().await;
    let port = free_port();
    let mut command = clean_command(release.join("trading_strategy"));
    command
        .arg("serve")
        .current_dir(working_directory)
        .env_remove("LEPTOS_SITE_ROOT")
        .env_remove("LEPTOS_SITE_ADDR")
        .env_remove("LEPTOS_SITE_PKG_DIR")
        .env("DATABASE_URL", &database.url)
        .env("APP_ENV", "test")
        .env("PORT", port.to_string())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null());
    let mut child = start(command, port).await;
    let css = reqwest::get(format!("http://127.0.0.1:{port}/pkg/trading_strategy.css"))
        .await
        .unwrap();
    let status = css.status();
    let body = css.text().await.unwrap();
    terminate(&child);
    assert!(wait_with_timeout(&mut child, Duration::from_secs(15)).success());
    assert_eq!(status, 200, "{body}");
    assert_eq!(body, STYLESHEET);
}

#[tokio::test]
async fn the_release_layout_serves_its_site_when_started_from_its_folder_with_no_variables() {
    let work = std::env::temp_dir().join(format!("ts-layout-{}", uuid::Uuid::new_v4()));
    let release = lay_out_release(&work);
    stylesheet_served_when_started_from(&release, &release).await;
    stylesheet_served_when_started_from(&release, Path::new("/")).await;
    std::fs::remove_dir_all(&work).unwrap();
}
