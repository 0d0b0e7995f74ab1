//! How the site's files are sent: precompressed when the browser accepts it, cached for a
//! year when named by content, revalidated otherwise; pages never stored.

use std::collections::HashSet;

use axum::{http::StatusCode, response::IntoResponse, routing::any};
use trading_strategy::server::static_files::{self, Site};

use crate::harness::spawn_app;

const HASHED: &str = "trading_strategy.Abc123-hash_xyz.js";
const JAVASCRIPT: &str = "console.log('the plain file');";

/// A site with one hashed script (plain, brotli and gzip) and one editor bundle of a fixed
/// name, served on a random port.
async fn serve_site() -> (String, std::path::PathBuf) {
    let root = std::env::temp_dir().join(format!("ts-site-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(root.join("pkg")).unwrap();
    std::fs::create_dir_all(root.join("editor")).unwrap();
    std::fs::write(root.join("pkg").join(HASHED), JAVASCRIPT).unwrap();
    std::fs::write(
        root.join("pkg").join(format!("{HASHED}.br")),
        b"brotli bytes",
    )
    .unwrap();
    std::fs::write(root.join("pkg").join(format!("{HASHED}.gz")), b"gzip bytes").unwrap();
    std::fs::write(root.join("pkg/unlisted.js"), JAVASCRIPT).unwrap();
    std::fs::write(root.join("editor/codemirror.js"), JAVASCRIPT).unwrap();
    let site = Site {
        root: root.clone(),
        pkg_dir: "pkg".into(),
        hashed: HashSet::from([HASHED.to_string()]),
    };
    let not_found = axum::Router::new()
        .route(
            "/{*rest}",
            any(|| async { (StatusCode::NOT_FOUND, "the 404 page").into_response() }),
        )
        .into_service();
    let app = static_files::service(site, not_found);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (format!("http://{address}"), root)
}

async fn fetch(url: &str, accept_encoding: &str) -> reqwest::Response {
    // reqwest is built without decompression here, so it shows the bytes as sent.
    reqwest::Client::new()
        .get(url)
        .header("accept-encoding", accept_encoding)
        .send()
        .await
        .unwrap()
}

fn header(response: &reqwest::Response, name: &str) -> Option<String> {
    response
        .headers()
        .get(name)
        .map(|v| v.to_str().unwrap().to_string())
}

#[tokio::test]
async fn a_hashed_package_file_is_sent_as_brotli_when_asked_and_cached_as_immutable() {
    let (base, root) = serve_site().await;
    let brotli = fetch(&format!("{base}/pkg/{HASHED}"), "gzip, deflate, br").await;
    assert_eq!(brotli.status(), 200);
    assert_eq!(header(&brotli, "content-encoding").as_deref(), Some("br"));
    assert_eq!(
        header(&brotli, "cache-control").as_deref(),
        Some("public, max-age=31536000, immutable")
    );
    assert!(header(&brotli, "vary")
        .unwrap()
        .to_ascii_lowercase()
        .contains("accept-encoding"));
    assert_eq!(brotli.bytes().await.unwrap().as_ref(), b"brotli bytes");

    let gzip = fetch(&format!("{base}/pkg/{HASHED}"), "gzip").await;
    assert_eq!(header(&gzip, "content-encoding").as_deref(), Some("gzip"));
    assert_eq!(gzip.bytes().await.unwrap().as_ref(), b"gzip bytes");

    let plain = fetch(&format!("{base}/pkg/{HASHED}"), "identity").await;
    assert_eq!(header(&plain, "content-encoding"), None);
    assert_eq!(plain.text().await.unwrap(), JAVASCRIPT);
    std::fs::remove_dir_all(root).unwrap();
}

#[tokio::test]
async fn files_with_fixed_names_are_revalidated_and_missing_ones_reach_the_404_page() {
    let (base, root) = serve_site().await;
    for path in ["/editor/codemirror.js", "/pkg/unlisted.js"] {
        let response = fetch(&format!("{base}{path}"), "br").await;
        assert_eq!(response.status(), 200, "{path}");
        assert_eq!(
            header(&response, "cache-control").as_deref(),
            Some("no-cache"),
            "{path}"
        );
    }
    let missing = fetch(&format!("{base}/pkg/nothing.js"), "br").await;
    assert_eq!(missing.status(), 404);
    assert_eq!(header(&missing, "cache-control"), None);
    assert_eq!(missing.text().await.unwrap(), "the 404 page");
    std::fs::remove_dir_all(root).unwrap();
}

#[tokio::test]
async fn a_file_answers_only_get_and_head_and_other_methods_get_405() {
    // Found by wapiti's methods module: the fallback behind the files (Leptos's file handler)
    // served a file to DELETE, PUT and TRACE as to GET.
    let (base, root) = serve_site().await;
    let client = reqwest::Client::new();
    for path in ["/editor/codemirror.js", "/pkg/nothing.js"] {
        for method in ["POST", "PUT", "DELETE", "PATCH", "TRACE"] {
            let method = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
            let response = client
                .request(method.clone(), format!("{base}{path}"))
                .send()
                .await
                .unwrap();
            assert_eq!(response.status(), 405, "{method} {path}");
            assert_eq!(header(&response, "allow").as_deref(), Some("GET,HEAD"));
        }
    }
    let head = client
        .head(format!("{base}/editor/codemirror.js"))
        .send()
        .await
        .unwrap();
    assert_eq!(head.status(), 200);
    std::fs::remove_dir_all(root).unwrap();
}

#[tokio::test]
async fn pages_and_server_answers_are_never_stored() {
    let app = spawn_app().await;
    for path in ["/", "/users/log-in", "/health", "/definitely/not/here"] {
        let response = app.get(path).await;
        assert_eq!(
            header(&response, "cache-control").as_deref(),
            Some("no-store"),
            "{path}"
        );
    }
}
