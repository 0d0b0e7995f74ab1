//! `GET /metrics`: Prometheus text for the operator's eyes only (a bearer token on the public
//! address, or a listener of its own).

use trading_strategy::server;

use crate::{
    harness::{spawn_app, spawn_app_with},
    strategies::{document, Trader},
};

pub const TOKEN: &str = "a-metrics-token-of-at-least-32-characters";

/// The sum of the samples of `metric` whose labels include every one of `labels`.
fn sample_sum(exposition: &str, metric: &str, labels: &[&str]) -> f64 {
    exposition
        .lines()
        .filter(|line| !line.starts_with('#'))
        .filter(|line| {
            line.strip_prefix(metric)
                .is_some_and(|rest| rest.starts_with('{') || rest.starts_with(' '))
        })
        .filter(|line| labels.iter().all(|label| line.contains(label)))
        .filter_map(|line| line.rsplit(' ').next()?.parse::<f64>().ok())
        .sum()
}

pub async fn scrape(client: &reqwest::Client, url: &str) -> String {
    let response = client
        .get(url)
        .bearer_auth(TOKEN)
        .send()
        .await
        .expect("the app answers");
    assert_eq!(response.status(), 200);
    assert!(response.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/plain"));
    response.text().await.unwrap()
}

#[tokio::test]
async fn metrics_refuse_a_request_without_the_token_or_with_a_wrong_one() {
    let app = spawn_app_with(&[("METRICS_TOKEN", TOKEN)]).await;
    let without = app.get("/metrics").await;
    assert_eq!(without.status(), 401);
    assert_eq!(without.headers()["www-authenticate"], "Bearer");
    let wrong = app
        .client
        .get(app.url("/metrics"))
        .bearer_auth(format!("{TOKEN}x"))
        .send()
        .await
        .unwrap();
    assert_eq!(wrong.status(), 401);
    let body = wrong.text().await.unwrap();
    assert!(!body.contains("trading_strategy_"), "{body}");
}

#[tokio::test]
async fn metrics_are_not_served_publicly_when_no_token_is_set() {
    let app = spawn_app().await;
    let response = app
        .client
        .get(app.url("/metrics"))
        .bearer_auth(TOKEN)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 404);
}

#[tokio::test]
async fn metrics_with_the_token_count_requests_by_route_and_status_and_show_the_pool() {
    let app = spawn_app_with(&[("METRICS_TOKEN", TOKEN)]).await;
    let health = ["route=\"/health\"", "status=\"200\"", "method=\"GET\""];
    let before = sample_sum(
        &scrape(&app.client, &app.url("/metrics")).await,
        "trading_strategy_http_requests_total",
        &health,
    );
    for _ in 0..3 {
        assert_eq!(app.get("/health").await.status(), 200);
    }
    let after = scrape(&app.client, &app.url("/metrics")).await;
    let counted = sample_sum(&after, "trading_strategy_http_requests_total", &health);
    assert!(
        counted >= before + 3.0,
        "three health checks counted: before {before}, after {counted}"
    );
    assert!(
        sample_sum(
            &after,
            "trading_strategy_http_request_duration_seconds_count",
            &["route=\"/health\""]
        ) >= 3.0,
        "the latency histogram has them too:\n{after}"
    );
    assert!(
        after.contains("trading_strategy_http_request_duration_seconds_bucket{"),
        "the latency is a histogram with buckets"
    );
    assert_eq!(
        sample_sum(&after, "trading_strategy_db_pool_max_connections", &[]),
        5.0,
        "the test pool's limit (POOL_SIZE=5)"
    );
    assert!(after.contains("trading_strategy_db_pool_connections_in_use "));
}

#[tokio::test]
async fn a_path_with_a_token_in_it_is_counted_under_its_pattern() {
    let app = spawn_app_with(&[("METRICS_TOKEN", TOKEN)]).await;
    let secret_looking = "this-token-must-not-reach-the-metrics";
    app.get(&format!("/users/reset-password/{secret_looking}"))
        .await;
    let exposition = scrape(&app.client, &app.url("/metrics")).await;
    assert!(!exposition.contains(secret_looking));
}

#[tokio::test]
async fn metrics_addr_serves_the_metrics_on_a_listener_of_its_own() {
    let app = spawn_app().await;
    let free = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let address = free.local_addr().unwrap();
    drop(free);
    server::prometheus::serve_separately(app.state.clone(), address)
        .await
        .unwrap();
    let exposition = reqwest::get(format!("http://{address}/metrics"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        exposition.contains("trading_strategy_db_pool_connections"),
        "{exposition}"
    );
    let elsewhere = reqwest::get(format!("http://{address}/health"))
        .await
        .unwrap();
    assert_eq!(elsewhere.status(), 404, "only /metrics is served there");
}

#[tokio::test]
async fn editing_counts_validations_autosaves_saves_and_conflicts() {
    let app = spawn_app_with(&[("METRICS_TOKEN", TOKEN)]).await;
    let metrics_url = app.url("/metrics");
    let counters = [
        "trading_strategy_validations_total",
        "trading_strategy_autosaves_total",
        "trading_strategy_saves_total",
        "trading_strategy_conflicts_total",
    ];
    let read = |exposition: String| counters.map(|name| sample_sum(&exposition, name, &[]));
    let before = read(scrape(&app.client, &metrics_url).await);

    let trader = Trader::new(&app).await;
    let text = document("Counted");
    let checked = trader
        .browser
        .call(
            "/api/strategies/check",
            &[("sequence", "1"), ("content", &text), ("format", "yaml")],
        )
        .await;
    assert_eq!(checked.status(), 200);
    let tab = uuid::Uuid::new_v4().to_string();
    let autosaved = trader
        .browser
        .call(
            "/api/strategies/autosave",
            &[
                ("tab_id", tab.as_str()),
                ("sequence", "1"),
                ("content", text.as_str()),
                ("format", "yaml"),
            ],
        )
        .await;
    assert_eq!(autosaved.status(), 200);
    let id = trader.create("Counted").await;
    let stale = trader
        .save(Some(&id), &document("Counted again"), Some(1), false)
        .await;
    assert_eq!(stale.status(), 200);
    let conflict = trader
        .save(Some(&id), &document("Counted late"), Some(1), false)
        .await;
    assert_eq!(conflict.status(), 409);

    let after = read(scrape(&app.client, &metrics_url).await);
    for ((name, before), after) in counters.iter().zip(before).zip(after) {
        assert!(after > before, "{name}: {before} -> {after}");
    }
}
