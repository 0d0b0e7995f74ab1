//! The server side of the app: configuration, state, database, HTTP stack and command line.
//! Compiled only with the `ssr` feature.

pub mod cli;
pub mod config;
pub mod database;
pub mod http;
pub mod request_id;
pub mod state;
pub mod telemetry;

pub use state::AppState;
