//! The authorization sweep: a second user calls every server function the app registers
//! with the first user's ids (strategy, version, editor
//! tab, session). Each answers 404 or leaves the first user's things alone, no answer carries
//! anything of theirs, and a server function added later without a line here fails the
//! sweep until someone decides how it is checked. The live channel's one message (which
//! strategy a page shows) is swept too: naming the first user's strategy hears nothing of it.

use std::{collections::BTreeSet, time::Duration};

use futures_util::{SinkExt, StreamExt};
use serde_json::Value;
use tokio_tungstenite::tungstenite::Message;

use crate::{
    harness::{spawn_app, unique_email, LiveSocket, TestApp},
    strategies::{document, Trader},
};

const SECRET_NAME: &str = "Owner's secret strategy";
const SECRET_DRAFT: &str = "owner's unsaved words";

/// A server function's path, the stranger's fields, and what must come of it.
type Call<'a> = (&'a str, Vec<(&'a str, &'a str)>, Expect);

/// What a stranger's call must come to.
enum Expect {
    /// Refused as if the thing did not exist.
    NotFound,
    /// Answered for the stranger's own account; the owner's things are checked afterwards.
    OwnAccountOnly,
    /// Refused or answered without effect (checked afterwards), never a server error.
    Ignored,
}

/// A valid document on the series the owner uploaded (`SECRET/USD`, daily).
const SECRET_SERIES_DOCUMENT: &str = "name: Sweep\ntrading_pair: SECRET/USD\ntimeframe: 1d\nindicators:\n  - type: sma\n    name: sma_5\n    parameters:\n      period: 5\nentry_conditions: close > sma_5\nexit_conditions: close < sma_5\nposition_sizing:\n  type: percentage\n  percentage_of_capital: 0.1\nrisk_parameters:\n  max_daily_loss: 0.05\n  max_drawdown: 0.2\n";
#[tokio::test]
async fn a_second_user_with_the_first_users_ids_gets_404_or_nothing_of_theirs() {
    let app = spawn_app().await;
    let owner_email = unique_email();
    let owner = Trader {
        browser: app.trader(&owner_email).await,
    };
    let id = owner.create(SECRET_NAME).await;
    let tab = uuid::Uuid::new_v4().to_string();
    let draft = format!("{}# {SECRET_DRAFT}\n", document(SECRET_NAME));
    let stored = owner
        .browser
        .call(
            "/api/strategies/autosave",
            &[
                ("tab_id", tab.as_str()),
                ("sequence", "1"),
                ("strategy_id", id.as_str()),
                ("content", draft.as_str()),
                ("format", "yaml"),
            ],
        )
        .await;
    assert_eq!(stored.status(), 200);
    let sessions: Value = owner
        .browser
        .call("/users/settings/sessions", &[])
        .await
        .json()
        .await
        .unwrap();
    let owner_session = sessions[0]["id"].as_str().unwrap().to_string();

    // A finished backtest of the owner's strategy, with the owner's own market data beside it.
    let run: String = sqlx::query_scalar(
        "INSERT INTO backtest_runs (user_id, strategy_id, version, pair, timeframe, range_from, range_to,
                                    initial_cash, commission, slippage, status, finished_at)
         SELECT user_id, id, version, 'SECRET/USD', '1d', '2020-01-01', '2020-12-31', 10000, 0, 0,
                'finished', now()
         FROM strategies WHERE id = $1::uuid RETURNING id::text",
    )
    .bind(&id)
    .fetch_one(&app.pool)
    .await
    .unwrap();
    sqlx::query(
        "WITH source AS (INSERT INTO candle_sources (name) VALUES ('secret.csv') RETURNING id)
         INSERT INTO candles (owner, pair, timeframe, time, open, high, low, close, volume, source_id)
         SELECT u.id, 'SECRET/USD', '1d', '2020-01-01', 1, 2, 1, 2, 10, source.id
         FROM users u, source WHERE u.email = $1",
    )
    .bind(&owner_email)
    .execute(&app.pool)
    .await
    .unwrap();

    let import: String = sqlx::query_scalar(
        "INSERT INTO candle_imports (user_id, pair, timeframe, file_name, imported)
         SELECT id, 'SECRET/USD', '1d', 'secret.csv', 1 FROM users WHERE email = $1
         RETURNING id::text",
    )
    .bind(&owner_email)
    .fetch_one(&app.pool)
    .await
    .unwrap();

    let stranger = Trader::new(&app).await;
    let secret_document = document(SECRET_NAME);
    let import = import.as_str();
    let run = run.as_str();
    let id = id.as_str();
    let calls: Vec<Call> = vec![
        ("/api/strategies/open", vec![("id", id)], Expect::NotFound),
        (
            "/api/strategies/overview",
            vec![("id", id)],
            Expect::NotFound,
        ),
        (
            "/api/strategies/save_live",
            vec![("id", id), ("live", "0"), ("draft", "true")],
            Expect::NotFound,
        ),
        (
            "/api/strategies/save",
            vec![
                ("id", id),
                ("content", secret_document.as_str()),
                ("format", "yaml"),
                ("lock_version", "1"),
                ("draft", "true"),
            ],
            Expect::NotFound,
        ),
        (
            "/api/strategies/status",
            vec![("id", id), ("transition", "archive")],
            Expect::NotFound,
        ),
        (
            "/api/strategies/duplicate",
            vec![("id", id)],
            Expect::NotFound,
        ),
        ("/api/strategies/delete", vec![("id", id)], Expect::NotFound),
        (
            "/api/strategies/version",
            vec![("id", id), ("number", "1")],
            Expect::NotFound,
        ),
        (
            "/api/strategies/compare",
            vec![("id", id), ("from", "1"), ("to", "1")],
            Expect::NotFound,
        ),
        (
            "/api/strategies/restore",
            vec![("id", id), ("number", "1"), ("lock_version", "1")],
            Expect::NotFound,
        ),
        (
            "/api/strategies/autosave",
            vec![
                ("tab_id", tab.as_str()),
                ("sequence", "2"),
                ("strategy_id", id),
                ("content", "name: taken over"),
                ("format", "yaml"),
            ],
            Expect::NotFound,
        ),
        // The owner's tab id without a strategy: a working copy of the stranger's own.
        (
            "/api/strategies/autosave",
            vec![
                ("tab_id", tab.as_str()),
                ("sequence", "3"),
                ("content", "name: mine"),
                ("format", "yaml"),
            ],
            Expect::OwnAccountOnly,
        ),
        (
            "/api/strategies/discard-working-copy",
            vec![("tab_id", tab.as_str())],
            Expect::OwnAccountOnly,
        ),
        // The owner's name is not "taken" for the stranger: names are per user.
        (
            "/api/strategies/check",
            vec![
                ("sequence", "1"),
                ("id", id),
                ("content", secret_document.as_str()),
                ("format", "yaml"),
            ],
            Expect::OwnAccountOnly,
        ),
        (
            "/api/strategies/list",
            vec![
                ("query[search]", "secret"),
                ("query[page]", "1"),
                ("query[sort]", "UpdatedDesc"),
            ],
            Expect::OwnAccountOnly,
        ),
        (
            "/users/settings/sessions/revoke",
            vec![("id", owner_session.as_str())],
            Expect::Ignored,
        ),
        (
            "/api/strategies/backtests",
            vec![("id", id)],
            Expect::NotFound,
        ),
        (
            "/api/strategies/start-backtest",
            vec![
                ("id", id),
                ("from", "2020-01-01"),
                ("to", "2020-12-31"),
                ("cash", "10000"),
                ("commission", "0.1"),
                ("slippage", "0"),
            ],
            Expect::NotFound,
        ),
        (
            "/api/strategies/cancel-backtest",
            vec![("id", id), ("run", run)],
            Expect::NotFound,
        ),
        (
            "/api/strategies/backtest-results",
            vec![("id", id), ("run", run)],
            Expect::NotFound,
        ),
        // Market data: the owner's upload is neither listed nor read for the stranger.
        ("/api/market-data/overview", vec![], Expect::OwnAccountOnly),
        (
            "/api/market-data/import-report",
            vec![("id", import)],
            Expect::NotFound,
        ),
        (
            "/api/strategies/storage-usage",
            vec![],
            Expect::OwnAccountOnly,
        ),
        (
            "/api/market-data/recent",
            vec![("pair", "SECRET/USD"), ("timeframe", "1d")],
            Expect::Ignored,
        ),
        // The editor's signal preview of a document naming the owner's uploaded series.
        (
            "/api/strategies/preview",
            vec![("content", SECRET_SERIES_DOCUMENT), ("format", "yaml")],
            Expect::Ignored,
        ),
        ("/users/settings/sessions", vec![], Expect::OwnAccountOnly),
        ("/users/current", vec![], Expect::OwnAccountOnly),
        ("/api/ping", vec![], Expect::OwnAccountOnly),
    ];

    let mut swept = BTreeSet::new();
    for (path, fields, expect) in &calls {
        swept.insert(path.to_string());
        let response = stranger.browser.call(path, fields).await;
        let status = response.status().as_u16();
        let body = response.text().await.unwrap();
        match expect {
            Expect::NotFound => assert_eq!(status, 404, "{path}: {body}"),
            Expect::Ignored => assert!(status < 500, "{path} answered {status}: {body}"),
            Expect::OwnAccountOnly => assert_eq!(status, 200, "{path}: {body}"),
        }
        // The check echoes the text it was sent, the owner's name included: only its verdict
        // on the name could leak anything.
        let echoes_the_name = *path == "/api/strategies/check";
        // The preview's answer names the pair it was asked for: only its bars could leak.
        let echoes_the_pair =
            *path == "/api/market-data/recent" || *path == "/api/strategies/preview";
        for secret in [
            SECRET_NAME,
            SECRET_DRAFT,
            owner_email.as_str(),
            "SECRET/USD",
        ] {
            if (echoes_the_name && secret == SECRET_NAME)
                || (echoes_the_pair && secret == "SECRET/USD")
            {
                continue;
            }
            assert!(!body.contains(secret), "{path} leaked {secret:?}: {body}");
        }
        if echoes_the_pair {
            let answer: Value = serde_json::from_str(&body).unwrap();
            // The preview carries the candles it read under `candles`, beside its marks.
            let reply = if *path == "/api/strategies/preview" {
                answer["candles"].clone()
            } else {
                answer
            };
            assert_eq!(
                reply["own"], false,
                "the owner's upload is not the stranger's"
            );
            assert_eq!(
                reply["candles"]["time"],
                serde_json::json!([]),
                "the owner's bars leaked: {body}"
            );
        }
        if *path == "/api/strategies/check" {
            let reply: Value = serde_json::from_str(&body).unwrap();
            assert_eq!(
                reply["name_taken"], false,
                "another user's name is not taken"
            );
        }
    }

    // Server functions that take no id of another user: they act on the caller's own account,
    // or on a secret token mailed to its owner (covered by the accounts tests).
    let without_ids = [
        "/users/register",
        "/users/log-in",
        "/users/log-out",
        "/users/confirm",
        "/users/resend-confirmation",
        "/users/reset-password",
        "/users/reset-password/check",
        "/users/reset-password/update",
        "/users/settings/email",
        "/users/settings/confirm-email",
        "/users/settings/password",
        "/users/settings/sessions/log-out-others",
    ];
    swept.extend(without_ids.iter().map(|path| path.to_string()));
    let registered: BTreeSet<String> = leptos::server_fn::axum::server_fn_paths()
        .map(|(path, _)| path.to_string())
        .collect();
    assert!(
        registered.contains("/api/strategies/save") && registered.contains("/users/log-in"),
        "the registry lists the app's server functions: {registered:?}"
    );
    let unswept: Vec<_> = registered.difference(&swept).collect();
    assert!(
        unswept.is_empty(),
        "server functions the sweep does not cover yet: {unswept:?}"
    );

    // The pages and plain form posts with the owner's ids answer 404 too:
    // strategies::isolation checks each of them.

    // The owner's things are as they were: the strategy, its one version, the working copy
    // and the session.
    let overview = owner.overview_json(id).await;
    assert_eq!(overview["document"]["name"], SECRET_NAME);
    assert_eq!(overview["document"]["status"], "draft");
    assert_eq!(overview["document"]["version"], 1);
    let reopened: Value = owner
        .browser
        .call("/api/strategies/open", &[("id", id)])
        .await
        .json()
        .await
        .unwrap();
    assert!(
        reopened["working_copy"]["content"]
            .as_str()
            .is_some_and(|text| text.contains(SECRET_DRAFT)),
        "the owner's working copy survives: {reopened}"
    );
    assert_eq!(
        owner.browser.signed_in_as().await.as_deref(),
        Some(owner_email.as_str())
    );
}

/// A live socket signed in as `email`, opened as the editor page opens it (this site's
/// Origin, the session cookie), showing `watch`.
async fn live_socket(app: &TestApp, email: &str, watch: &str) -> LiveSocket {
    let (cookie, _) = app.session(email).await;
    let mut socket = app.live_socket(&cookie).await.unwrap();
    let watching = serde_json::json!({ "watch": watch }).to_string();
    socket.send(Message::text(watching)).await.unwrap();
    socket
}

/// The messages a socket receives until `until` says stop or `wait` passes without one.
async fn messages(
    socket: &mut LiveSocket,
    wait: Duration,
    until: impl Fn(&Value) -> bool,
) -> Vec<Value> {
    let mut received = Vec::new();
    while let Ok(Some(Ok(message))) = tokio::time::timeout(wait, socket.next()).await {
        if let Message::Text(text) = message {
            let value: Value = serde_json::from_str(&text).unwrap();
            let stop = until(&value);
            received.push(value);
            if stop {
                break;
            }
        }
    }
    received
}

#[tokio::test]
async fn a_second_user_watching_the_first_users_strategy_on_the_live_channel_hears_nothing_of_it() {
    let app = spawn_app().await;
    let owner_email = unique_email();
    let owner = Trader {
        browser: app.trader(&owner_email).await,
    };
    let created: Value = owner
        .save(None, &document(SECRET_NAME), None, false)
        .await
        .json()
        .await
        .unwrap();
    let id = created["id"].as_str().unwrap().to_string();
    let lock_version = created["lock_version"].as_i64().unwrap();
    let mut owners_editor = live_socket(&app, &owner_email, &id).await;

    let stranger_email = unique_email();
    app.trader(&stranger_email).await;
    let mut strangers_page = live_socket(&app, &stranger_email, &id).await;
    // Both watch requests are recorded and announced before the save.
    tokio::time::sleep(Duration::from_millis(500)).await;

    let saved = owner
        .save(
            Some(&id),
            &document("Owner's second version"),
            Some(lock_version),
            false,
        )
        .await;
    assert_eq!(saved.status(), 200, "{:?}", saved.text().await);

    let owner_heard = messages(&mut owners_editor, Duration::from_secs(10), |message| {
        message["type"] == "changed"
    })
    .await;
    assert!(
        owner_heard
            .iter()
            .any(|message| message["type"] == "changed"),
        "the owner's editor hears the save: {owner_heard:?}"
    );
    for message in owner_heard.iter().filter(|m| m["type"] == "presence") {
        assert_eq!(
            message["open"], 1,
            "the stranger's socket is not counted as an editor of the owner's strategy"
        );
    }

    let stranger_heard = messages(&mut strangers_page, Duration::from_secs(2), |_| false).await;
    for message in &stranger_heard {
        assert_eq!(
            message["type"], "presence",
            "the stranger hears no change of the owner's: {message}"
        );
        // A watch of a strategy not one's own is not recorded, so not even the stranger's own
        // socket is counted: the count says nothing of the owner's editors.
        assert_eq!(
            message["open"], 0,
            "the stranger learns no count of the owner's editors: {message}"
        );
    }
    assert!(
        !stranger_heard
            .iter()
            .any(|message| message.to_string().contains("second version")),
        "{stranger_heard:?}"
    );
}
