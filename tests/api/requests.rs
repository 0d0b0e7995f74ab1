use crate::harness::spawn_app;

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
async fn a_sane_request_id_from_a_proxy_is_kept_and_a_hostile_one_replaced() {
    let app = spawn_app().await;
    let kept = app
        .client
        .get(app.url("/health"))
        .header("x-request-id", "edge-1234")
        .send()
        .await
        .unwrap();
    assert_eq!(kept.headers()["x-request-id"], "edge-1234");
    let replaced = app
        .client
        .get(app.url("/health"))
        .header("x-request-id", "a b\"<script>")
        .send()
        .await
        .unwrap();
    assert_ne!(replaced.headers()["x-request-id"], "a b\"<script>");
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
