use serde_json::Value;

use super::Trader;
use crate::harness::spawn_app;

async fn list(trader: &Trader, fields: &[(&str, &str)]) -> Value {
    let mut all = vec![
        ("query[search]", ""),
        ("query[page]", "1"),
        ("query[sort]", "UpdatedDesc"),
    ];
    for (key, value) in fields {
        all.retain(|(k, _)| k != key);
        all.push((key, value));
    }
    let response = trader.browser.call("/api/strategies/list", &all).await;
    assert_eq!(response.status(), 200, "{:?}", response.text().await);
    response.json().await.unwrap()
}

fn names(list: &Value) -> Vec<String> {
    list["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["name"].as_str().unwrap().to_string())
        .collect()
}

#[tokio::test]
async fn the_list_pages_by_fifty_and_filters_sorts_and_searches() {
    let app = spawn_app().await;
    let trader = Trader::new(&app).await;
    for n in 0..60 {
        trader.create(&format!("Strategy {n:02}")).await;
    }
    let rsi = trader.create("RSI_special 100%").await;
    trader.change_status(&rsi, "archive").await;

    let first = list(&trader, &[]).await;
    assert_eq!(first["total"], 61);
    assert_eq!(first["items"].as_array().unwrap().len(), 50);
    assert_eq!(
        names(&first)[0],
        "RSI_special 100%",
        "most recently changed first"
    );
    let second = list(&trader, &[("query[page]", "2")]).await;
    assert_eq!(second["items"].as_array().unwrap().len(), 11);

    let by_name = list(&trader, &[("query[sort]", "NameAsc")]).await;
    assert_eq!(names(&by_name)[0], "RSI_special 100%");
    assert_eq!(names(&by_name)[1], "Strategy 00");
    let by_name_desc = list(&trader, &[("query[sort]", "NameDesc")]).await;
    assert_eq!(names(&by_name_desc)[0], "Strategy 59");

    let archived = list(&trader, &[("query[status]", "archived")]).await;
    assert_eq!(names(&archived), vec!["RSI_special 100%"]);

    // A search is a name search: `%` and `_` are literal characters, case does not matter.
    let searched = list(&trader, &[("query[search]", "special 100%")]).await;
    assert_eq!(names(&searched), vec!["RSI_special 100%"]);
    assert_eq!(list(&trader, &[("query[search]", "%")]).await["total"], 1);
    assert_eq!(
        list(&trader, &[("query[search]", "STRATEGY 0")]).await["total"],
        10
    );
}

#[tokio::test]
async fn the_list_page_renders_rows_and_keeps_its_query_in_the_links() {
    let app = spawn_app().await;
    let trader = Trader::new(&app).await;
    let empty = trader
        .browser
        .get("/strategies")
        .await
        .text()
        .await
        .unwrap();
    assert!(
        empty.contains("Create your first strategy"),
        "an empty state invites the first strategy"
    );
    for n in 0..55 {
        trader.create(&format!("Row {n:02}")).await;
    }
    let page = trader.browser.get("/strategies?sort=name_asc").await;
    assert_eq!(page.status(), 200);
    let html = page.text().await.unwrap();
    assert!(html.contains("Row 00"));
    assert!(!html.contains("Row 50"), "the second page holds the rest");
    assert!(
        html.contains("/strategies?sort=name_asc&amp;page=2"),
        "next page keeps the sort"
    );
}
