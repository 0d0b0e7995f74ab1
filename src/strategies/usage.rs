//! What an account stores against its quotas, as the settings page shows it: strategies, the
//! text of their versions and working copies, candles uploaded, and import reports kept.

use serde::{Deserialize, Serialize};

/// One figure and its bound.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq)]
pub struct Measure {
    pub used: i64,
    pub quota: i64,
}

impl Measure {
    /// How full, from 0 to 100.
    pub fn percent(self) -> i64 {
        if self.quota <= 0 {
            return 100;
        }
        (self.used.saturating_mul(100) / self.quota).clamp(0, 100)
    }
}

#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq)]
pub struct StorageUsage {
    pub strategies: Measure,
    /// Bytes of text in versions and working copies.
    pub stored_bytes: Measure,
    /// Candles of the account's own uploads.
    pub candle_rows: Measure,
    /// Import reports kept (older ones are deleted, never refused).
    pub import_reports: Measure,
}

#[cfg(test)]
mod tests {
    use super::Measure;

    #[test]
    fn a_measure_says_how_full_it_is() {
        assert_eq!(
            Measure {
                used: 50,
                quota: 200
            }
            .percent(),
            25
        );
        assert_eq!(
            Measure {
                used: 300,
                quota: 200
            }
            .percent(),
            100
        );
    }
}
