//! The strategy workbench through its server functions and plain form routes, as the editor
//! and a browser without JavaScript use them: saves and versions, optimistic locking, the
//! lifecycle, duplicates, the list, backtests, and user isolation (another user's strategy is a 404).

mod autosave;
mod backtests;
mod faults;
mod form_conflicts;
mod isolation;
mod lifecycle;
mod list;
mod live;
mod live_doc;
mod saving;
mod versions;

use serde_json::Value;

use crate::harness::{unique_email, Browser, TestApp};

/// A valid document named `name`.
pub fn document(name: &str) -> String {
    format!(
        "name: \"{name}\"\ntrading_pair: \"BTC/USD\"\ntimeframe: \"1h\"\nindicators:\n  - type: rsi\n    name: rsi_14\n    parameters:\n      period: 14\nentry_conditions: \"rsi_14 < 30\"\nexit_conditions: \"rsi_14 > 70\"\nposition_sizing:\n  type: percentage\n  percentage_of_capital: 0.1\nrisk_parameters:\n  max_daily_loss: 0.05\n  max_drawdown: 0.2\n"
    )
}

/// A trader: a signed-in browser with the workbench's calls.
pub struct Trader {
    pub browser: Browser,
}

impl Trader {
    pub async fn new(app: &TestApp) -> Self {
        Trader {
            browser: app.trader(&unique_email()).await,
        }
    }

    /// `save_strategy` as the editor calls it.
    pub async fn save(
        &self,
        id: Option<&str>,
        content: &str,
        lock_version: Option<i64>,
        draft: bool,
    ) -> reqwest::Response {
        let lock = lock_version.map(|v| v.to_string());
        let mut fields = vec![
            ("content", content),
            ("format", "yaml"),
            ("draft", if draft { "true" } else { "false" }),
        ];
        if let Some(id) = id {
            fields.push(("id", id));
        }
        if let Some(lock) = lock.as_deref() {
            fields.push(("lock_version", lock));
        }
        self.browser.call("/api/strategies/save", &fields).await
    }

    /// `start_backtest` as the strategy page's form calls it (the form's default costs).
    pub async fn start_backtest(&self, id: &str, from: &str, to: &str) -> reqwest::Response {
        self.browser
            .call(
                "/api/strategies/start-backtest",
                &[
                    ("id", id),
                    ("from", from),
                    ("to", to),
                    ("cash", "10000"),
                    ("commission", "0.1"),
                    ("slippage", "0"),
                ],
            )
            .await
    }

    /// Starts a backtest of `from..=to` and answers the run's id.
    pub async fn run_started(&self, id: &str, from: &str, to: &str) -> String {
        let response = self.start_backtest(id, from, to).await;
        assert_eq!(response.status(), 200, "{:?}", response.text().await);
        let navigation: Value = response.json().await.unwrap();
        let to = navigation["to"].as_str().unwrap();
        to.split("/backtests/")
            .nth(1)
            .and_then(|rest| rest.split('?').next())
            .unwrap()
            .to_string()
    }

    /// Creates a valid strategy and returns its id.
    pub async fn create(&self, name: &str) -> String {
        self.create_from(&document(name)).await
    }

    /// Saves `content` as a new strategy, which must be accepted, and returns its id.
    pub async fn create_from(&self, content: &str) -> String {
        let response = self.save(None, content, None, false).await;
        assert_eq!(response.status(), 200, "{:?}", response.text().await);
        let saved: Value = response.json().await.unwrap();
        saved["id"].as_str().unwrap().to_string()
    }

    /// The editor page's HTML, as a browser without JavaScript gets it.
    pub async fn editor_page(&self, id: &str) -> String {
        let response = self.browser.get(&format!("/strategies/{id}/edit")).await;
        assert_eq!(response.status(), 200);
        response.text().await.unwrap()
    }

    /// `open_editor` as the editor calls it: the document and any working copy to offer.
    pub async fn open(&self, id: Option<&str>) -> Value {
        let fields: Vec<(&str, &str)> = id.map(|id| vec![("id", id)]).unwrap_or_default();
        let response = self.browser.call("/api/strategies/open", &fields).await;
        assert_eq!(response.status(), 200, "{:?}", response.text().await);
        response.json().await.unwrap()
    }

    pub async fn overview(&self, id: &str) -> reqwest::Response {
        self.browser
            .call("/api/strategies/overview", &[("id", id)])
            .await
    }

    pub async fn overview_json(&self, id: &str) -> Value {
        let response = self.overview(id).await;
        assert_eq!(response.status(), 200, "{:?}", response.text().await);
        response.json().await.unwrap()
    }

    pub async fn change_status(&self, id: &str, transition: &str) -> reqwest::Response {
        self.browser
            .call(
                "/api/strategies/status",
                &[("id", id), ("transition", transition)],
            )
            .await
    }
}
