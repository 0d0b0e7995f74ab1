//! Accounts, tokens, sessions, requests and logging: each SECURITY.md line of those sections
//! has a test here that fails if it stops being true.

mod abuse_limits;
mod active_sessions;
mod log_in;
mod logging;
mod mail;
mod password_reset;
mod registration;
mod request_checks;
mod sessions;
mod settings;
mod tokens;
