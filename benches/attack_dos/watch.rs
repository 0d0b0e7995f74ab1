//! Watching the server while an attack runs: `/health` asked from a thread of its own, the
//! server's resident memory read from /proc.

use crate::load::resident_kb;
use reqwest::Client;
use std::{
    collections::BTreeMap,
    time::{Duration, Instant},
};

use super::{Outcome, HEALTH_P99_GOAL_MS, RESIDENT_GOAL_MB};

/// `/health` latencies and the server's peak memory, sampled while an attack runs.
#[derive(Default)]
pub(super) struct Watch {
    pub(super) health: Vec<Duration>,
    pub(super) peak_kb: u64,
}

/// Asks `/health` every 10 ms and reads the server's memory every 20 ms until `done`.
pub(super) fn probe(
    base: &str,
    pid: u32,
    baseline_kb: u64,
    done: &std::sync::atomic::AtomicBool,
) -> Watch {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a runtime");
    runtime.block_on(async {
        let client = Client::builder()
            .timeout(Duration::from_secs(5))
            .build()
            .expect("a client");
        let mut watch = Watch {
            peak_kb: baseline_kb,
            ..Watch::default()
        };
        let mut next_memory = Instant::now();
        while !done.load(std::sync::atomic::Ordering::Relaxed) {
            let asked = Instant::now();
            if client
                .get(format!("{base}/health"))
                .send()
                .await
                .is_ok_and(|response| response.status() == 200)
            {
                watch.health.push(asked.elapsed());
            }
            if Instant::now() >= next_memory {
                watch.peak_kb = watch.peak_kb.max(resident_kb(pid).unwrap_or_default());
                next_memory = Instant::now() + Duration::from_millis(20);
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        watch
    })
}

/// What watching an attack saw, before its answers are added.
pub(super) struct Watched {
    pub(super) name: String,
    pub(super) allowed_rise_mb: f64,
    pub(super) baseline_kb: u64,
    pub(super) watch: Watch,
}

impl Watched {
    pub(super) fn finish(self, statuses: BTreeMap<u16, usize>) -> Outcome {
        let mut health = self.watch.health;
        health.sort();
        let ms = |d: &Duration| d.as_secs_f64() * 1000.0;
        let percentile = |p: f64| {
            if health.is_empty() {
                return f64::NAN;
            }
            let rank = ((p / 100.0) * health.len() as f64).ceil() as usize;
            ms(&health[rank.clamp(1, health.len()) - 1])
        };
        let (baseline_mb, peak_mb) = (
            self.baseline_kb as f64 / 1024.0,
            self.watch.peak_kb as f64 / 1024.0,
        );
        let mut problems = Vec::new();
        if let Some(count) = statuses.get(&500) {
            problems.push(format!("{count} answers of 500"));
        }
        if peak_mb - baseline_mb > self.allowed_rise_mb {
            problems.push(format!(
                "the memory rose by {:.1} MB (at most {})",
                peak_mb - baseline_mb,
                self.allowed_rise_mb
            ));
        }
        if peak_mb > RESIDENT_GOAL_MB {
            problems.push(format!(
                "{peak_mb:.1} MB resident (at most {RESIDENT_GOAL_MB})"
            ));
        }
        let (p50, p99) = (percentile(50.0), percentile(99.0));
        // No sample at all (NaN) misses the goal too.
        if p99.is_nan() || p99 > HEALTH_P99_GOAL_MS {
            problems.push(format!(
                "/health p99 {p99:.1} ms (at most {HEALTH_P99_GOAL_MS})"
            ));
        }
        Outcome {
            attack: self.name,
            requests: statuses.values().sum(),
            statuses,
            baseline_mb,
            peak_mb,
            health_p50_ms: p50,
            health_p99_ms: p99,
            allowed_rise_mb: self.allowed_rise_mb,
            problems,
        }
    }
}
