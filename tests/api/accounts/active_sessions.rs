//! The list of active sessions in settings, revoking one, logging out everywhere else, and
//! the events that end the other sessions by themselves (an email change, the first
//! confirmation).

use serde_json::Value;

use crate::harness::{
    client, error_of, mail_to, spawn_app, spawn_app_with_mail, unique_email, Browser, TestApp,
    PASSWORD,
};

const FIREFOX_ON_LINUX: &str =
    "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0";

/// A browser that says it is Firefox on Linux.
fn firefox(app: &TestApp) -> Browser {
    Browser {
        client: reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .cookie_store(true)
            .user_agent(FIREFOX_ON_LINUX)
            .build()
            .unwrap(),
        base: app.origin(),
    }
}

async fn sessions_of(browser: &Browser) -> Vec<Value> {
    let response = browser.call("/users/settings/sessions", &[]).await;
    assert_eq!(response.status(), 200);
    response.json().await.unwrap()
}

#[tokio::test]
async fn settings_list_the_active_sessions_with_device_address_and_last_seen_and_revoke_one_in_one_click(
) {
    let app = spawn_app().await;
    let email = unique_email();
    let this = app.signed_up(&email).await;
    let other = firefox(&app);
    assert_eq!(other.log_in(&email, PASSWORD, false).await.status(), 200);

    let sessions = sessions_of(&this).await;
    assert_eq!(sessions.len(), 2, "{sessions:?}");
    let current: Vec<_> = sessions.iter().filter(|s| s["current"] == true).collect();
    assert_eq!(current.len(), 1);
    let firefox_session = sessions
        .iter()
        .find(|s| s["device"] == "Firefox on Linux")
        .expect("the other browser is listed by its user agent");
    assert_eq!(firefox_session["address"], "127.0.0.1");
    assert_eq!(firefox_session["current"], false);
    assert!(
        firefox_session["last_seen"]
            .as_str()
            .unwrap()
            .ends_with("UTC"),
        "{firefox_session}"
    );

    let page = this.get("/users/settings").await.text().await.unwrap();
    assert!(
        page.contains("Active sessions") && page.contains("Firefox on Linux"),
        "{page}"
    );
    assert!(page.contains("Log out everywhere else"));
    assert!(page.contains(">Revoke<"));

    // One click (a plain form post works as well as the hydrated page).
    let id = firefox_session["id"].as_str().unwrap().to_string();
    let response = this
        .post_form("/users/settings/sessions/revoke", &[("id", &id)])
        .await;
    assert_eq!(response.status(), 303);
    assert_eq!(
        response.headers()["location"],
        "/users/settings?notice=session-revoked"
    );
    assert_eq!(
        other.signed_in_as().await,
        None,
        "the revoked session ended"
    );
    assert_eq!(this.signed_in_as().await.as_deref(), Some(email.as_str()));
    assert_eq!(sessions_of(&this).await.len(), 1);
    let user_id = app.user_id(&email).await;
    let tokens: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM users_tokens WHERE user_id = $1 AND context = 'session'",
    )
    .bind(user_id)
    .fetch_one(&app.pool)
    .await
    .unwrap();
    assert_eq!(tokens, 1, "its token went too");
}

#[tokio::test]
async fn only_another_session_of_ones_own_account_can_be_revoked() {
    let app = spawn_app().await;
    let email = unique_email();
    let this = app.signed_up(&email).await;
    let stranger = app.signed_up(&unique_email()).await;
    let own = sessions_of(&this).await[0]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let theirs = sessions_of(&stranger).await[0]["id"]
        .as_str()
        .unwrap()
        .to_string();
    for id in [own.as_str(), theirs.as_str(), "not-an-id"] {
        let response = this
            .call("/users/settings/sessions/revoke", &[("id", id)])
            .await;
        assert_eq!(response.status(), 404, "{id}");
    }
    assert!(this.signed_in_as().await.is_some());
    assert!(stranger.signed_in_as().await.is_some());
    let guest = app.browser();
    let response = guest
        .call("/users/settings/sessions/revoke", &[("id", &theirs)])
        .await;
    assert_eq!(response.status(), 401);
    assert_eq!(error_of(response).await["kind"], "unauthenticated");
}

#[tokio::test]
async fn log_out_everywhere_else_ends_every_other_session_and_keeps_this_one() {
    let app = spawn_app().await;
    let email = unique_email();
    let this = app.signed_up(&email).await;
    let others = [app.browser(), firefox(&app)];
    for other in &others {
        assert_eq!(other.log_in(&email, PASSWORD, true).await.status(), 200);
    }
    let bystander_email = unique_email();
    let bystander = app.signed_up(&bystander_email).await;

    let response = this
        .post_form("/users/settings/sessions/log-out-others", &[])
        .await;
    assert_eq!(response.status(), 303);
    assert_eq!(
        response.headers()["location"],
        "/users/settings?notice=logged-out-elsewhere"
    );
    for other in &others {
        assert_eq!(other.signed_in_as().await, None);
    }
    assert_eq!(this.signed_in_as().await.as_deref(), Some(email.as_str()));
    assert_eq!(
        bystander.signed_in_as().await.as_deref(),
        Some(bystander_email.as_str())
    );
    assert_eq!(sessions_of(&this).await.len(), 1);
}

#[tokio::test]
async fn an_email_change_ends_the_other_sessions() {
    let app = spawn_app_with_mail().await;
    let email = unique_email();
    let this = app.signed_up(&email).await;
    let other = app.browser();
    other.log_in(&email, PASSWORD, false).await;
    let new_email = unique_email();
    assert_eq!(this.change_email(&new_email, PASSWORD).await.status(), 200);
    let link = mail_to(&new_email, "Confirm your new email").await;
    assert!(
        other.signed_in_as().await.is_some(),
        "nothing ends before the link"
    );
    assert_eq!(this.confirm_email_change(&link.token()).await.status(), 200);
    assert_eq!(
        this.signed_in_as().await.as_deref(),
        Some(new_email.as_str())
    );
    assert_eq!(other.signed_in_as().await, None);
}

#[tokio::test]
async fn the_first_confirmation_ends_every_other_session_and_token_of_the_account() {
    let app = spawn_app_with_mail().await;
    let victim = unique_email();
    // Someone registers the victim's address first, logs in, and starts an email change to an
    // address of their own.
    let attacker = app.browser();
    attacker.register(&victim, PASSWORD).await;
    assert_eq!(attacker.log_in(&victim, PASSWORD, true).await.status(), 200);
    let attackers_own = unique_email();
    assert_eq!(
        attacker
            .change_email(&attackers_own, PASSWORD)
            .await
            .status(),
        200
    );
    let change_link = mail_to(&attackers_own, "Confirm your new email").await;

    // The owner follows the confirmation link: confirmed and signed in.
    let owner = client(true);
    let owner = Browser {
        client: owner,
        base: app.origin(),
    };
    let confirmation = mail_to(&victim, "Confirm your email").await;
    assert_eq!(owner.confirm(&confirmation.token()).await.status(), 200);
    assert_eq!(owner.signed_in_as().await.as_deref(), Some(victim.as_str()));

    assert_eq!(
        attacker.signed_in_as().await,
        None,
        "the attacker's session ended"
    );
    assert_eq!(
        attacker
            .confirm_email_change(&change_link.token())
            .await
            .status(),
        422,
        "the attacker's email change link is dead"
    );
    let user_id = app.user_id(&victim).await;
    let tokens: Vec<String> =
        sqlx::query_scalar("SELECT context FROM users_tokens WHERE user_id = $1")
            .bind(user_id)
            .fetch_all(&app.pool)
            .await
            .unwrap();
    assert_eq!(
        tokens,
        vec!["session".to_string()],
        "only the owner's session"
    );
    let sessions: i64 = sqlx::query_scalar("SELECT count(*) FROM sessions WHERE user_id = $1")
        .bind(user_id)
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert_eq!(sessions, 1);
}
