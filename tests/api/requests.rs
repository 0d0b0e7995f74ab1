use crate::harness::{spawn_app, spawn_app_with};

#[tokio::test]
async fn every_response_carries_a_generated_request_id() {
    let app = spawn_app().await;
    let first = app.get("/health").await;
    let second = app.get("/health").await;
    let id = |r: &reqwest::Response| r.headers()["x-request-id"].to_str().unwrap().to_string();
    assert_eq!(id(&first).len(), 36);
    assert_ne!(id(&first), id(&second));
}

#[tokio::test]
async fn a_sane_request_id_from_a_trusted_proxy_is_kept_and_a_hostile_one_replaced() {
    let app = spawn_app_with(&[("TRUSTED_PROXIES", "127.0.0.1")]).await;
    let with_id = |id: &'static str| {
        app.client
            .get(app.url("/health"))
            .header("x-request-id", id)
            .send()
    };
    let kept = with_id("edge-1234").await.unwrap();
    assert_eq!(kept.headers()["x-request-id"], "edge-1234");
    let replaced = with_id("a b\"<script>").await.unwrap();
    assert_ne!(replaced.headers()["x-request-id"], "a b\"<script>");
}

#[tokio::test]
async fn a_request_id_from_a_client_that_is_not_a_trusted_proxy_is_replaced() {
    let app = spawn_app().await;
    let response = app
        .client
        .get(app.url("/health"))
        .header("x-request-id", "chosen-by-the-client")
        .send()
        .await
        .unwrap();
    assert_ne!(response.headers()["x-request-id"], "chosen-by-the-client");
    assert_eq!(response.headers()["x-request-id"].len(), 36);
}

#[tokio::test]
async fn an_oversized_request_body_gets_413_with_a_clear_message() {
    let app = spawn_app().await;
    let body = vec![b'a'; 2 * 1024 * 1024];
    let response = app
        .client
        .post(app.url("/api/anything"))
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 413);
    let text = response.text().await.unwrap();
    assert!(text.contains("too large"), "{text}");
}
