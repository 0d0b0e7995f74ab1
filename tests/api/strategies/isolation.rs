use super::{document, Trader};
use crate::harness::spawn_app;

#[tokio::test]
async fn another_users_strategy_answers_404_from_every_server_function_and_route() {
    let app = spawn_app().await;
    let owner = Trader::new(&app).await;
    let id = owner.create("Private").await;
    let stranger = Trader::new(&app).await;

    for (path, fields) in [
        ("/api/strategies/overview", vec![("id", id.as_str())]),
        ("/api/strategies/open", vec![("id", id.as_str())]),
        (
            "/api/strategies/status",
            vec![("id", id.as_str()), ("transition", "archive")],
        ),
        ("/api/strategies/duplicate", vec![("id", id.as_str())]),
        ("/api/strategies/delete", vec![("id", id.as_str())]),
        (
            "/api/strategies/version",
            vec![("id", id.as_str()), ("number", "1")],
        ),
        (
            "/api/strategies/compare",
            vec![("id", id.as_str()), ("from", "1"), ("to", "1")],
        ),
        (
            "/api/strategies/restore",
            vec![("id", id.as_str()), ("number", "1"), ("lock_version", "1")],
        ),
    ] {
        let response = stranger.browser.call(path, &fields).await;
        assert_eq!(response.status(), 404, "{path}");
        let body = response.text().await.unwrap();
        assert!(!body.contains("Private"), "{path} leaked: {body}");
    }
    let save = stranger
        .save(Some(&id), &document("Mine now"), Some(1), false)
        .await;
    assert_eq!(save.status(), 404);

    for page in ["", "/edit", "/versions", "/versions/1", "/download"] {
        let response = stranger
            .browser
            .get(&format!("/strategies/{id}{page}"))
            .await;
        assert_eq!(response.status(), 404, "/strategies/:id{page}");
        assert!(
            !response.text().await.unwrap().contains("Private"),
            "{page}"
        );
    }
    let form = stranger
        .browser
        .post_form(
            &format!("/strategies/{id}"),
            &[
                ("strategy[content]", &document("Mine now")),
                ("strategy[lock_version]", "1"),
                ("strategy[action]", "save"),
            ],
        )
        .await;
    assert_eq!(form.status(), 404);

    let list = stranger
        .browser
        .call(
            "/api/strategies/list",
            &[
                ("query[search]", ""),
                ("query[page]", "1"),
                ("query[sort]", "UpdatedDesc"),
            ],
        )
        .await
        .text()
        .await
        .unwrap();
    assert!(!list.contains("Private"));
    // Nothing changed for the owner.
    let overview = owner.overview_json(&id).await;
    assert_eq!(overview["document"]["name"], "Private");
    assert_eq!(overview["document"]["status"], "draft");
}

#[tokio::test]
async fn strategy_pages_send_a_guest_to_log_in() {
    let app = spawn_app().await;
    let guest = app.browser();
    let response = guest.get("/strategies/new").await;
    assert_eq!(response.status(), 303);
    assert_eq!(
        response.headers()["location"],
        "/users/log-in?return_to=%2Fstrategies%2Fnew"
    );
}

#[tokio::test]
async fn a_malformed_or_missing_argument_gets_400_with_a_sentence_not_a_server_error() {
    let app = spawn_app().await;
    let trader = Trader::new(&app).await;
    for (path, fields) in [
        ("/api/strategies/overview", vec![("id", "1' OR '1'='1")]),
        (
            "/api/strategies/version",
            vec![("id", "not-an-id"), ("number", "1")],
        ),
        ("/api/strategies/overview", vec![]),
    ] {
        let response = trader.browser.call(path, &fields).await;
        assert_eq!(response.status(), 400, "{path} {fields:?}");
        let error: serde_json::Value = response.json().await.unwrap();
        assert_eq!(error["kind"], "bad_request", "{path}");
        assert!(
            error["message"]
                .as_str()
                .unwrap()
                .contains("could not be read"),
            "{error}"
        );
    }
}
