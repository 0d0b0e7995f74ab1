//! The live channel's door: a websocket upgrade of `/strategies/live` needs the session and
//! this site's Origin.

use super::Trader;
use crate::harness::spawn_app;

async fn upgrade(client: &reqwest::Client, url: String, origin: Option<&str>) -> u16 {
    let mut request = client
        .get(url)
        .header("connection", "Upgrade")
        .header("upgrade", "websocket")
        .header("sec-websocket-version", "13")
        .header("sec-websocket-key", "dGhlIHNhbXBsZSBub25jZQ==");
    if let Some(origin) = origin {
        request = request.header("origin", origin);
    }
    request.send().await.unwrap().status().as_u16()
}

#[tokio::test]
async fn the_live_channel_opens_only_for_a_signed_in_page_of_this_site() {
    let app = spawn_app().await;
    let trader = Trader::new(&app).await;
    let url = app.url("/strategies/live");
    let ours = app.origin();
    assert_eq!(
        upgrade(&trader.browser.client, url.clone(), Some(&ours)).await,
        101
    );
    assert_eq!(
        upgrade(
            &trader.browser.client,
            url.clone(),
            Some("http://evil.example")
        )
        .await,
        403
    );
    assert_eq!(
        upgrade(&trader.browser.client, url.clone(), None).await,
        403
    );
    // A guest is sent to log in before any socket opens.
    assert_eq!(upgrade(&app.browser().client, url, Some(&ours)).await, 303);
}
