//! How every form of every feature answers, through the shared plumbing
//! (`web::forms`, `web::server_context`), shown on the log-in form. A new feature's form
//! tests copy this file: the same form, posted as each kind of client posts it.

use crate::harness::{spawn_app, unique_email, PASSWORD};

#[tokio::test]
async fn one_form_answers_a_plain_post_the_hydrated_page_and_curl_each_in_their_own_way() {
    let app = spawn_app().await;
    let email = unique_email();
    app.browser().register(&email, PASSWORD).await;
    let fields = [
        ("user[email]", email.as_str()),
        ("user[password]", PASSWORD),
    ];

    // Without JavaScript: success is a 303 to the next page.
    let plain = app.browser().post_form("/users/log-in", &fields).await;
    assert_eq!(plain.status(), 303);
    assert_eq!(plain.headers()["location"], "/strategies");

    // The hydrated page: success is the next page as a value, which the page then loads.
    let hydrated = app.browser().call("/users/log-in", &fields).await;
    assert_eq!(hydrated.status(), 200);
    let navigation: serde_json::Value = hydrated.json().await.unwrap();
    assert_eq!(navigation["to"], "/strategies");

    // curl (no Accept header a browser would send): a redirect on success...
    let curl = app
        .client
        .post(app.url("/users/log-in"))
        .form(&fields)
        .send()
        .await
        .unwrap();
    assert_eq!(curl.status(), 303);
    // ...and the error with its own status and its JSON body on failure.
    let refused = app
        .client
        .post(app.url("/users/log-in"))
        .form(&[
            ("user[email]", email.as_str()),
            ("user[password]", "wrong password!"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), 422);
    let error: serde_json::Value = refused.json().await.unwrap();
    assert_eq!(error["kind"], "validation");
    assert_eq!(error["message"], "Invalid email or password");
}
