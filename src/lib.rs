//! Trading Strategy Platform: the Leptos app, shared by the server (`ssr`) and the browser
//! (`hydrate`). The layers, bottom to top (each imports only those below it; see
//! docs/ARCHITECTURE.md): the kernel (`error`, `ids`, `config`, `secrets`, `state`, `stored_text`,
//! `request_id`, `background`, `realtime`, `web`, `work_pool`), the features (`accounts`,
//! `strategies`, `market_data`), `site`, `app` (the routes), and `server` (start-up, HTTP stack,
//! command line). Beneath them all, two crates of the workspace: the strategy language
//! (`crates/strategy_language`, here `language`) and the backtest engine
//! (`crates/backtest_engine`, here `backtests`).
// A build without `--cfg erase_components` (cargo-leptos sets it for every build here; a plain
// `cargo build` does not) keeps every view's full type, and the editor's view overflowed the
// default limit of 128.
#![recursion_limit = "512"]

pub mod accounts;
pub mod app;
pub mod error;
pub mod ids;
pub mod market_data;
pub mod realtime;
pub mod site;
pub mod strategies;
pub mod web;
pub mod wire_time;

pub use backtest_engine as backtests;
pub use strategy_language as language;

#[cfg(feature = "ssr")]
pub mod background;
#[cfg(feature = "ssr")]
pub mod config;
#[cfg(feature = "ssr")]
pub mod request_id;
#[cfg(feature = "ssr")]
pub mod secrets;
#[cfg(feature = "ssr")]
pub mod server;
#[cfg(feature = "ssr")]
pub mod state;
#[cfg(feature = "ssr")]
pub mod stored_text;
#[cfg(feature = "ssr")]
pub mod work_pool;

/// The browser's entry point, run before the page's islands are hydrated (Leptos's island
/// script then loads and hydrates each one).
#[cfg(feature = "hydrate")]
#[wasm_bindgen::prelude::wasm_bindgen]
pub fn hydrate() {
    console_error_panic_hook::set_once();
    leptos::mount::hydrate_islands();
    web::islands::expect_the_page_s_islands();
}
