//! The bounds on what one user, request, socket or job may cost: the work pool, backtests, the
//! live channel and each user's storage. Anyone can sign up, so each is a setting with a
//! default that a trader never meets and a stranger cannot get past.

use std::time::Duration;

use super::{parse_number, ConfigError};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Bounds {
    /// Threads of the pool that runs CPU-heavy work (`WORK_THREADS`, the machine's cores).
    pub work_threads: usize,
    /// Jobs that may wait for one of them (`WORK_QUEUE`, four per thread); more are refused.
    pub work_waiting: usize,
    /// How long one job of the pool may take (`WORK_DEADLINE_MS`, 10000).
    pub work_deadline: Duration,
    /// Bars one backtest may read (`BACKTEST_MAX_BARS`, 5,000,000: 9.5 years of minutes).
    pub backtest_max_bars: usize,
    /// How long one backtest may run (`BACKTEST_TIME_LIMIT_SECS`, 300).
    pub backtest_time_limit: Duration,
    /// Megabytes this server's running backtests may hold together, by their estimate
    /// (`BACKTEST_MEMORY_MB`, 256): a run waits for room, and one larger than all of it fails
    /// with a sentence.
    pub backtest_memory_mb: u32,
    /// Backtests one user may have waiting or running (`BACKTESTS_PER_USER`, 5).
    pub backtests_per_user: i64,
    /// Live connections (open pages) one user may hold (`LIVE_SOCKETS_PER_USER`, 20).
    pub live_sockets_per_user: i64,
    /// Messages a page may send on its live connection per second, on average
    /// (`LIVE_MESSAGES_PER_SECOND`, 5), with bursts of up to four times that.
    pub live_messages_per_second: u32,
    /// Frames an editor may send on its live document's socket per second, on average
    /// (`LIVE_EDIT_MESSAGES_PER_SECOND`, 40: a fast typist's pushes and cursor moves), with
    /// bursts of up to four times that.
    pub live_edit_messages_per_second: u32,
    /// How often a live connection is pinged; one that has not answered for two pings is
    /// closed (`LIVE_PING_SECS`, 15).
    pub live_ping_every: Duration,
    pub quotas: Quotas,
}

/// What one user may store.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Quotas {
    /// Strategies (`QUOTA_STRATEGIES`, 500).
    pub strategies: i64,
    /// Bytes of text in versions and working copies together (`QUOTA_STORED_MB`, 100 MB).
    pub stored_bytes: i64,
    /// Candles of the user's own uploads (`QUOTA_CANDLE_ROWS`, 5,000,000).
    pub candle_rows: i64,
    /// Import reports kept; older ones are deleted (`QUOTA_IMPORT_REPORTS`, 100).
    pub import_reports: i64,
}

impl Bounds {
    pub(super) fn read(read: &impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let cores = std::thread::available_parallelism().map_or(2, usize::from);
        let work_threads = parse_number(read, "WORK_THREADS", cores, 1..=256)?;
        Ok(Bounds {
            work_threads,
            work_waiting: parse_number(read, "WORK_QUEUE", 4 * work_threads, 0..=10_000)?,
            work_deadline: Duration::from_millis(parse_number(
                read,
                "WORK_DEADLINE_MS",
                10_000,
                100..=600_000,
            )?),
            backtest_max_bars: parse_number(
                read,
                "BACKTEST_MAX_BARS",
                5_000_000,
                1_000..=100_000_000,
            )?,
            backtest_memory_mb: parse_number(read, "BACKTEST_MEMORY_MB", 256, 16..=65_536)?,
            backtest_time_limit: Duration::from_secs(parse_number(
                read,
                "BACKTEST_TIME_LIMIT_SECS",
                300,
                1..=86_400,
            )?),
            backtests_per_user: parse_number(read, "BACKTESTS_PER_USER", 5, 1..=1_000)?,
            live_sockets_per_user: parse_number(read, "LIVE_SOCKETS_PER_USER", 20, 1..=1_000)?,
            live_messages_per_second: parse_number(read, "LIVE_MESSAGES_PER_SECOND", 5, 1..=1_000)?,
            live_edit_messages_per_second: parse_number(
                read,
                "LIVE_EDIT_MESSAGES_PER_SECOND",
                40,
                1..=1_000,
            )?,
            live_ping_every: Duration::from_secs(parse_number(
                read,
                "LIVE_PING_SECS",
                15,
                1..=3_600,
            )?),
            quotas: Quotas {
                strategies: parse_number(read, "QUOTA_STRATEGIES", 500, 1..=1_000_000)?,
                stored_bytes: parse_number::<i64>(read, "QUOTA_STORED_MB", 100, 1..=1_000_000)?
                    * 1_000_000,
                candle_rows: parse_number(
                    read,
                    "QUOTA_CANDLE_ROWS",
                    5_000_000,
                    1_000..=10_000_000_000,
                )?,
                import_reports: parse_number(read, "QUOTA_IMPORT_REPORTS", 100, 1..=100_000)?,
            },
        })
    }
}
