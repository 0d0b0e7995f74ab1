//! The site's files (the WASM, JavaScript and stylesheet under `/pkg`, the editor's bundle, the
//! icon) and how long browsers may keep them. A release build names the WASM, JavaScript and
//! stylesheet by their content (cargo-leptos `hash-files`, listed in `hash.txt` beside the
//! binary), so those are cached for a year as immutable; every other file is revalidated
//! (`no-cache`), and pages and server functions are never stored (`no-store`). A `.br` or
//! `.gz` made at build time (`cargo leptos build --release --precompress`) is sent to a
//! browser that accepts it.

use std::{collections::HashSet, path::PathBuf, sync::Arc};

use axum::{
    extract::{Request, State},
    http::{
        header::{CACHE_CONTROL, VARY},
        HeaderValue, StatusCode,
    },
    middleware::{self, Next},
    response::Response,
    Router,
};
use leptos::config::LeptosOptions;
use tower::Service;
use tower_http::services::ServeDir;

/// Files whose names carry their content's hash.
pub const IMMUTABLE: &str = "public, max-age=31536000, immutable";
/// Files with fixed names: kept, but checked with the server before each use.
pub const REVALIDATE: &str = "no-cache";
/// Pages and server functions: personal, and current only now.
pub const UNCACHED: &str = "no-store";

/// The names (under the package dir) of the files that cargo-leptos renamed by content, read
/// from its hash file beside the binary; `None` when there is none (a plain `cargo build`,
/// the tests). With the WASM split by island, they include the split loader, its manifest and
/// every piece the manifest lists (each named by its own content's hash).
pub fn hashed_file_names(options: &LeptosOptions) -> Option<HashSet<String>> {
    let hash_file = std::env::current_exe()
        .ok()?
        .parent()?
        .join(options.hash_file.as_ref());
    let text = std::fs::read_to_string(hash_file).ok()?;
    let mut names = HashSet::new();
    for (kind, hash) in text.lines().filter_map(|line| line.split_once(':')) {
        let (kind, hash) = (kind.trim(), hash.trim());
        match kind {
            "js" | "wasm" | "css" => {
                names.insert(format!("{}.{hash}.{kind}", options.output_name));
            }
            "split" => {
                names.insert(format!("__wasm_split.{hash}.js"));
            }
            "manifest" => {
                let manifest = format!("__wasm_split_manifest.{hash}.json");
                let pieces = std::path::Path::new(options.site_root.as_ref())
                    .join(options.site_pkg_dir.as_ref())
                    .join(&manifest);
                names.extend(split_pieces(
                    &std::fs::read_to_string(pieces).unwrap_or_default(),
                ));
                names.insert(manifest);
            }
            _ => {}
        }
    }
    (!names.is_empty()).then_some(names)
}

/// The WASM pieces a split manifest lists (`{"<island>_loader_<n>": ["chunk_1.<hash>", ...]}`),
/// as file names.
fn split_pieces(manifest: &str) -> impl Iterator<Item = String> {
    serde_json::from_str::<std::collections::HashMap<String, Vec<String>>>(manifest)
        .unwrap_or_default()
        .into_values()
        .flatten()
        .map(|piece| format!("{piece}.wasm"))
}

/// Where the files are and which of them are named by content (see [`hashed_file_names`]).
pub struct Site {
    pub root: PathBuf,
    pub pkg_dir: String,
    pub hashed: HashSet<String>,
}

impl Site {
    pub fn of(options: &LeptosOptions) -> Self {
        Site {
            root: PathBuf::from(options.site_root.as_ref()),
            pkg_dir: options.site_pkg_dir.to_string(),
            hashed: if options.hash_files {
                hashed_file_names(options).unwrap_or_default()
            } else {
                HashSet::new()
            },
        }
    }
}

/// The site's files; anything else goes to `not_found` (the app's 404 page).
pub fn service<F>(site: Site, not_found: F) -> Router
where
    F: Service<Request, Response = Response, Error = std::convert::Infallible>
        + Clone
        + Send
        + Sync
        + 'static,
    F::Future: Send + 'static,
{
    let files = ServeDir::new(&site.root)
        .precompressed_br()
        .precompressed_gzip()
        .append_index_html_on_directories(false)
        // Files take GET and HEAD only: anything else is a 405 with `Allow: GET,HEAD` here,
        // never the fallback, because Leptos's file handler behind it serves a file to any
        // method (wapiti's methods module found DELETE and TRACE answered 200).
        .call_fallback_on_method_not_allowed(false)
        .fallback(not_found);
    let pkg_prefix = Arc::<str>::from(format!("/{}/", site.pkg_dir));
    Router::new()
        .fallback_service(files)
        .layer(middleware::from_fn_with_state(
            (Arc::new(site.hashed), pkg_prefix),
            cache_headers,
        ))
}

async fn cache_headers(
    State((hashed, pkg_prefix)): State<(Arc<HashSet<String>>, Arc<str>)>,
    request: Request,
    next: Next,
) -> Response {
    let immutable = request
        .uri()
        .path()
        .strip_prefix(pkg_prefix.as_ref())
        .is_some_and(|name| hashed.contains(name));
    let mut response = next.run(request).await;
    let status = response.status();
    if status.is_success() || status == StatusCode::NOT_MODIFIED {
        let policy = if immutable { IMMUTABLE } else { REVALIDATE };
        let headers = response.headers_mut();
        headers.insert(CACHE_CONTROL, HeaderValue::from_static(policy));
        headers.append(VARY, HeaderValue::from_static("accept-encoding"));
    }
    response
}

/// Marks every answer that has no caching rule of its own (pages, server functions, errors)
/// as not to be stored.
pub async fn uncached_unless_said(request: Request, next: Next) -> Response {
    let mut response = next.run(request).await;
    response
        .headers_mut()
        .entry(CACHE_CONTROL)
        .or_insert(HeaderValue::from_static(UNCACHED));
    response
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use super::split_pieces;

    #[test]
    fn every_piece_a_split_manifest_lists_is_a_wasm_file_named_by_its_hash() {
        let pieces: HashSet<String> = split_pieces(
            r#"{"editor_loader_1": ["chunk_1.abc", "split_editor_loader_1.def"],
                "upload_form_loader_2": ["chunk_1.abc"]}"#,
        )
        .collect();
        assert_eq!(
            pieces,
            HashSet::from([
                "chunk_1.abc.wasm".to_string(),
                "split_editor_loader_1.def.wasm".to_string()
            ])
        );
        assert_eq!(split_pieces("not a manifest").count(), 0);
    }
}
