//! U+0000 in every text a trader can send: Postgres text cannot hold it, so each such field
//! is either refused with a sentence or kept with the character replaced, never a 500. Found
//! by wapiti's time-based SQL module, which sent it in the upload's pair
//! (docs/SECURITY-TESTS.md); the upload itself is `market_data::a_nul_character_...`.

use crate::{
    harness::{spawn_app, unique_email, PASSWORD},
    strategies::{document, Trader},
};

const NUL: &str = "a\u{0}b";

#[tokio::test]
async fn a_nul_character_in_any_text_field_or_address_is_answered_without_a_server_error() {
    let app = spawn_app().await;
    let trader = Trader::new(&app).await;
    let id = trader.create("Nul sweep").await;
    let tab = uuid::Uuid::new_v4().to_string();
    let with_nul = document("Nul\u{0} sweep");
    let email_with_nul = format!("nul{}\u{0}@example.com", uuid::Uuid::new_v4().simple());
    let calls: Vec<(&str, Vec<(&str, &str)>)> = vec![
        (
            "/api/strategies/check",
            vec![
                ("sequence", "1"),
                ("content", with_nul.as_str()),
                ("format", "yaml"),
            ],
        ),
        (
            "/api/strategies/check",
            vec![
                ("sequence", "2"),
                ("content", with_nul.as_str()),
                ("format", "yaml"),
                ("checked_name", NUL),
            ],
        ),
        (
            "/api/strategies/save",
            vec![
                ("content", with_nul.as_str()),
                ("format", "yaml"),
                ("draft", "true"),
            ],
        ),
        (
            "/api/strategies/save",
            vec![
                ("id", id.as_str()),
                ("content", with_nul.as_str()),
                ("format", "yaml"),
                ("lock_version", "1"),
                ("draft", "false"),
            ],
        ),
        (
            "/api/strategies/autosave",
            vec![
                ("tab_id", tab.as_str()),
                ("sequence", "1"),
                ("strategy_id", id.as_str()),
                ("content", with_nul.as_str()),
                ("format", "yaml"),
            ],
        ),
        (
            "/api/strategies/list",
            vec![
                ("query[search]", NUL),
                ("query[page]", "1"),
                ("query[sort]", "UpdatedDesc"),
            ],
        ),
        (
            "/api/market-data/recent",
            vec![("pair", NUL), ("timeframe", NUL)],
        ),
        ("/users/confirm", vec![("token", NUL)]),
        ("/users/reset-password/check", vec![("token", NUL)]),
        (
            "/users/reset-password/update",
            vec![
                ("token", NUL),
                ("user[email]", email_with_nul.as_str()),
                ("user[password]", NUL),
            ],
        ),
        ("/users/settings/confirm-email", vec![("token", NUL)]),
        (
            "/users/settings/email",
            vec![
                ("user[email]", email_with_nul.as_str()),
                ("current_password", NUL),
            ],
        ),
        (
            "/users/settings/password",
            vec![("user[password]", NUL), ("current_password", NUL)],
        ),
        ("/users/settings/sessions/revoke", vec![("id", NUL)]),
    ];
    for (path, fields) in &calls {
        let response = trader.browser.call(path, fields).await;
        let status = response.status().as_u16();
        let body = response.text().await.unwrap();
        assert!(status < 500, "{path} answered {status}: {body}");
    }

    // Signed out: the account forms, with the character in the address, then the password.
    let visitor = app.browser();
    let fresh_email = unique_email();
    let forms = [
        (email_with_nul.as_str(), PASSWORD),
        (fresh_email.as_str(), NUL),
    ];
    for path in [
        "/users/register",
        "/users/log-in",
        "/users/reset-password",
        "/users/resend-confirmation",
    ] {
        for (email, password) in forms {
            let fields = [("user[email]", email), ("user[password]", password)];
            let response = visitor.call(path, &fields).await;
            let status = response.status().as_u16();
            let body = response.text().await.unwrap();
            assert!(status < 500, "{path} answered {status}: {body}");
        }
    }

    // Pages, with the character in the path or the query.
    for path in [
        "/strategies?search=a%00b",
        "/strategies/new?template=a%00b",
        "/market-data?import=a%00b",
        "/users/confirm/a%00b",
        "/users/reset-password/a%00b",
        "/users/settings/confirm-email/a%00b",
        "/strategies/a%00b",
    ] {
        let response = trader.browser.get(path).await;
        let status = response.status().as_u16();
        assert!(status < 500, "{path} answered {status}");
    }

    // What was kept has the replacement character where the NUL was.
    let reopened = trader.open(Some(&id)).await;
    assert_eq!(
        reopened["working_copy"]["content"],
        with_nul.replace('\u{0}', "\u{FFFD}").as_str()
    );
}
