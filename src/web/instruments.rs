//! The app's Prometheus metrics: every name in one place, and the one-line calls that record
//! them from wherever the thing happens (a feature's flow, the websocket, the mail sender).
//! The calls go through the `metrics` facade, which is process-wide by design (like the
//! tracing subscriber); `server::metrics` installs the recorder and serves `GET /metrics`.

use std::time::Duration;

/// Requests answered, by route pattern (never the raw path), method and status.
pub const HTTP_REQUESTS: &str = "trading_strategy_http_requests_total";
/// Time from receiving a request to its response head, in seconds (a histogram).
pub const HTTP_REQUEST_DURATION: &str = "trading_strategy_http_request_duration_seconds";
/// Database connections open in this process's pool, and how many of them are lent out;
/// sampled when `/metrics` is read.
pub const POOL_CONNECTIONS: &str = "trading_strategy_db_pool_connections";
pub const POOL_CONNECTIONS_IN_USE: &str = "trading_strategy_db_pool_connections_in_use";
pub const POOL_MAX_CONNECTIONS: &str = "trading_strategy_db_pool_max_connections";
/// Keystroke validations (the editor's check server function).
pub const VALIDATIONS: &str = "trading_strategy_validations_total";
/// Working copies stored by autosave.
pub const AUTOSAVES: &str = "trading_strategy_autosaves_total";
/// Versions committed (Save and Save as draft).
pub const SAVES: &str = "trading_strategy_saves_total";
/// Saves refused because the strategy changed elsewhere first (409).
pub const CONFLICTS: &str = "trading_strategy_conflicts_total";
/// Pushes of typed changes into a live document, by outcome (`accepted`, `behind`, `refused`).
pub const LIVE_PUSHES: &str = "trading_strategy_live_doc_pushes_total";
/// Time of a live push's transaction (lock, check, apply, append, announce), in seconds.
pub const LIVE_PUSH_DURATION: &str = "trading_strategy_live_doc_push_duration_seconds";
/// Live messages (a change or a presence count) sent down a websocket.
pub const NOTICES_SENT: &str = "trading_strategy_notices_sent_total";
/// Websockets open on this process now.
pub const OPEN_WEBSOCKETS: &str = "trading_strategy_open_websockets";
/// Backtests waiting and running across every server (from the database).
pub const BACKTESTS_QUEUED: &str = "trading_strategy_backtests_queued";
pub const BACKTESTS_RUNNING: &str = "trading_strategy_backtests_running";
/// Mail handed to SMTP, and attempts that failed (retried or given up).
pub const MAIL_SENT: &str = "trading_strategy_mail_sent_total";
pub const MAIL_FAILED: &str = "trading_strategy_mail_failed_total";

/// Backtest engines computing on this process's threads now (a cancelled run's engine stops
/// within a block of bars, and this falls with it).
pub const BACKTEST_ENGINES: &str = "trading_strategy_backtest_engines_running";
/// Work the work pool refused, by reason (`full`: no place free; `deadline`: stopped).
pub const WORK_REFUSED: &str = "trading_strategy_work_refused_total";
/// Requests, sockets and jobs stopped at one of the server's bounds, by bound
/// (`document_size`, `socket_frame`, `socket_rate`, `sockets_per_user`, `quota_strategies`, ...).
pub const LIMITS_HIT: &str = "trading_strategy_limits_hit_total";

/// Upper bounds of the latency histogram's buckets, in seconds.
pub const LATENCY_BUCKETS: &[f64] = &[
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0,
];

/// The methods a request is counted under; any other (a client can send any token) is `OTHER`,
/// so that made-up methods cannot create new series.
const COUNTED_METHODS: [&str; 7] = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"];

/// The method label of a request: one of a fixed set.
pub fn method_label(method: &str) -> &'static str {
    COUNTED_METHODS
        .iter()
        .find(|counted| **counted == method)
        .copied()
        .unwrap_or("OTHER")
}

/// One request answered under `route` (a pattern such as `/strategies/{id}`).
pub fn request_answered(route: &str, method: &str, status: u16, elapsed: Duration) {
    let labels = [
        ("route", route.to_string()),
        ("method", method_label(method).to_string()),
        ("status", status.to_string()),
    ];
    metrics::counter!(HTTP_REQUESTS, &labels).increment(1);
    metrics::histogram!(HTTP_REQUEST_DURATION, "route" => route.to_string())
        .record(elapsed.as_secs_f64());
}

pub fn work_refused(reason: &'static str) {
    metrics::counter!(WORK_REFUSED, "reason" => reason).increment(1);
}

/// A request, socket or job stopped at the bound named `limit`.
pub fn limit_hit(limit: &'static str) {
    metrics::counter!(LIMITS_HIT, "limit" => limit).increment(1);
}

pub fn validation_run() {
    metrics::counter!(VALIDATIONS).increment(1);
}

pub fn autosave_stored() {
    metrics::counter!(AUTOSAVES).increment(1);
}

pub fn version_saved() {
    metrics::counter!(SAVES).increment(1);
}

pub fn conflict_refused() {
    metrics::counter!(CONFLICTS).increment(1);
}

/// One push into a live document answered `outcome` after `elapsed`.
pub fn live_push(outcome: &'static str, elapsed: Duration) {
    metrics::counter!(LIVE_PUSHES, "outcome" => outcome).increment(1);
    metrics::histogram!(LIVE_PUSH_DURATION).record(elapsed.as_secs_f64());
}

pub fn notice_sent() {
    metrics::counter!(NOTICES_SENT).increment(1);
}

pub fn mail_sent() {
    metrics::counter!(MAIL_SENT).increment(1);
}

pub fn mail_failed() {
    metrics::counter!(MAIL_FAILED).increment(1);
}

/// The backtest queue as the database has it (the backtest feature reports it when it
/// changes, or `server::metrics` samples it at scrape time).
pub fn backtest_queue(queued: u64, running: u64) {
    metrics::gauge!(BACKTESTS_QUEUED).set(queued as f64);
    metrics::gauge!(BACKTESTS_RUNNING).set(running as f64);
}

/// Counts one open websocket for as long as it lives.
#[must_use = "the websocket counts as open only while this is held"]
pub struct OpenWebsocket(());

impl OpenWebsocket {
    pub fn opened() -> Self {
        metrics::gauge!(OPEN_WEBSOCKETS).increment(1.0);
        OpenWebsocket(())
    }
}

impl Drop for OpenWebsocket {
    fn drop(&mut self) {
        metrics::gauge!(OPEN_WEBSOCKETS).decrement(1.0);
    }
}

/// Counts one backtest engine computing for as long as it lives.
#[must_use = "the engine counts as running only while this is held"]
pub struct EngineRunning(());

impl EngineRunning {
    pub fn started() -> Self {
        metrics::gauge!(BACKTEST_ENGINES).increment(1.0);
        EngineRunning(())
    }
}

impl Drop for EngineRunning {
    fn drop(&mut self) {
        metrics::gauge!(BACKTEST_ENGINES).decrement(1.0);
    }
}
