use crate::harness::spawn_app;

#[tokio::test]
async fn the_home_page_is_rendered_on_the_server_with_the_stylesheet_and_hydration_scripts() {
    let app = spawn_app().await;
    let response = app.get("/").await;
    assert_eq!(response.status(), 200);
    let html = response.text().await.unwrap();
    assert!(html.contains("Write trading strategies you can trust"));
    assert!(html.contains("/pkg/trading_strategy.css"));
    assert!(
        html.contains("/pkg/trading_strategy.js"),
        "hydration script missing"
    );
    assert!(
        html.contains("<title>Trading Strategy Platform</title>"),
        "{html}"
    );
}

#[tokio::test]
async fn an_unknown_address_answers_404_with_the_not_found_page() {
    let app = spawn_app().await;
    let response = app.get("/no/such/page").await;
    assert_eq!(response.status(), 404);
    let html = response.text().await.unwrap();
    assert!(html.contains("Page not found"));
    assert!(html.contains("Go to the home page"));
}

#[tokio::test]
async fn static_files_are_served_from_the_site_root() {
    let app = spawn_app().await;
    let response = app.get("/robots.txt").await;
    assert_eq!(
        response.status(),
        200,
        "public/robots.txt is missing from target/site: run `cargo leptos build` first"
    );
    assert!(response.text().await.unwrap().contains("User-agent"));
}
