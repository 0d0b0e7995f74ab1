use crate::harness::spawn_app;

#[tokio::test]
async fn ping_answers_200_without_a_session_and_sets_no_cookie() {
    let app = spawn_app().await;
    let response = app.browser().call("/api/ping", &[]).await;
    assert_eq!(response.status(), 200);
    assert!(
        response.headers().get("set-cookie").is_none(),
        "ping must not start a session"
    );
    let body: serde_json::Value = response.json().await.unwrap();
    assert_eq!(body, serde_json::Value::Null);
}
