//! Server-side sessions (tower-sessions with its Postgres store). A signed-in session holds a
//! session token whose digest is in `users_tokens`: deleting a user's tokens ends their
//! sessions even if a session row survives. Inactivity expiry comes from the store's expiry
//! date, the absolute lifetime from the token's age.

use std::time::Duration;

use chrono::Utc;
use sqlx::PgPool;
use tower_sessions::{
    cookie::{time, SameSite},
    Expiry, Session, SessionManagerLayer,
};
use tower_sessions_sqlx_store::PostgresStore;

use super::{
    repository::{self, UserRecord},
    tokens::{EncodedToken, IssuedToken, TokenPurpose},
};
use crate::accounts::UserId;
use crate::{config::Settings, error::AppError, web::server_context};

const TOKEN_KEY: &str = "user_token";
const REMEMBER_KEY: &str = "remember_me";
const LAST_SEEN_KEY: &str = "last_seen";

/// Inactivity expiry of an ordinary session and of a remembered one.
pub const INACTIVITY: Duration = Duration::from_secs(2 * 60 * 60);
pub const REMEMBERED_INACTIVITY: Duration = Duration::from_secs(30 * 24 * 60 * 60);
/// A request refreshes the inactivity expiry at most this often (each refresh is a write).
const REFRESH_AFTER_SECS: i64 = 60;

pub fn cookie_name(settings: &Settings) -> &'static str {
    // `__Host-` makes the browser refuse the cookie unless it is Secure, host-only and for `/`.
    if settings.cookie_secure {
        "__Host-session"
    } else {
        "session"
    }
}

pub fn store(pool: PgPool) -> PostgresStore {
    PostgresStore::new(pool)
        .with_schema_name("public")
        .and_then(|store| store.with_table_name("sessions"))
        .expect("valid session table name")
}

/// The session layer. Cookies are signed with a key derived from `SECRET_KEY_BASE`, so a
/// forged or tampered id is refused before the store is asked.
pub fn layer(
    pool: PgPool,
    settings: &Settings,
) -> SessionManagerLayer<PostgresStore, tower_sessions::service::SignedCookie> {
    SessionManagerLayer::new(store(pool))
        .with_name(cookie_name(settings))
        .with_http_only(true)
        .with_same_site(SameSite::Lax)
        .with_secure(settings.cookie_secure)
        .with_path("/")
        .with_expiry(Expiry::OnInactivity(to_time(INACTIVITY)))
        .with_signed(tower_sessions::cookie::Key::from(
            &settings.derive_key("session cookie"),
        ))
}

fn to_time(duration: Duration) -> time::Duration {
    time::Duration::seconds(duration.as_secs() as i64)
}

fn session_error(error: tower_sessions::session::Error) -> AppError {
    AppError::internal(format!("session store: {error}"))
}

/// Signs `user_id` in: a new session id (so that an id planted before sign-in is worthless),
/// a new session token, and the lifetime that "remember me" asks for.
pub async fn sign_in(
    session: &Session,
    pool: &PgPool,
    user_id: UserId,
    remember: bool,
) -> Result<(), AppError> {
    session.cycle_id().await.map_err(session_error)?;
    let token = IssuedToken::generate();
    let token_id = repository::insert_token(
        pool,
        user_id,
        &token.digest,
        &TokenPurpose::Session { remember },
        None,
    )
    .await?;
    session
        .insert(TOKEN_KEY, token.encoded.expose())
        .await
        .map_err(session_error)?;
    session
        .insert(REMEMBER_KEY, remember)
        .await
        .map_err(session_error)?;
    session
        .insert(LAST_SEEN_KEY, Utc::now().timestamp())
        .await
        .map_err(session_error)?;
    let inactivity = if remember {
        REMEMBERED_INACTIVITY
    } else {
        INACTIVITY
    };
    session.set_expiry(Some(Expiry::OnInactivity(to_time(inactivity))));
    // Saved now rather than after the response, so that the row exists to record its owner.
    session.save().await.map_err(session_error)?;
    if let Some(id) = session.id() {
        let ip = server_context::client_ip().await.map(|ip| ip.to_string());
        repository::attach_session(
            pool,
            &id.to_string(),
            user_id,
            token_id,
            server_context::user_agent().as_deref(),
            ip.as_deref(),
        )
        .await?;
    }
    Ok(())
}

/// The signed-in user, if the session holds a live token; a dead one empties the session.
pub async fn current_user(
    session: &Session,
    pool: &PgPool,
) -> Result<Option<UserRecord>, AppError> {
    let Some(token) = session
        .get::<String>(TOKEN_KEY)
        .await
        .map_err(session_error)?
    else {
        return Ok(None);
    };
    let remember = session
        .get::<bool>(REMEMBER_KEY)
        .await
        .map_err(session_error)?
        .unwrap_or(false);
    let user = match EncodedToken::new(token).digest() {
        Some(digest) => {
            repository::find_user_by_session_token(
                pool,
                &digest,
                TokenPurpose::Session { remember }.lifetime(),
            )
            .await?
        }
        None => None,
    };
    match &user {
        Some(_) => {
            let now = Utc::now().timestamp();
            let last_seen = session
                .get::<i64>(LAST_SEEN_KEY)
                .await
                .map_err(session_error)?
                .unwrap_or(0);
            if now - last_seen > REFRESH_AFTER_SECS {
                // Modifying the session saves it, which pushes its inactivity expiry forward.
                session
                    .insert(LAST_SEEN_KEY, now)
                    .await
                    .map_err(session_error)?;
                if let Some(id) = session.id() {
                    repository::touch_session(pool, &id.to_string()).await?;
                }
            }
        }
        None => session.flush().await.map_err(session_error)?,
    }
    Ok(user)
}

/// The one entry point of a signed-in server function: the app state and the signed-in user
/// (401 without one), then `flow`, whose answer goes out through `respond` (an error keeps its
/// status). Every strategies and market data server function is this over its flow.
pub async fn signed_in<T, Flow>(
    flow: impl FnOnce(crate::state::AppState, UserId) -> Flow,
) -> Result<T, AppError>
where
    Flow: std::future::Future<Output = Result<T, AppError>>,
{
    server_context::respond(
        async {
            let state = crate::state::AppState::from_context()?;
            let user = signed_in_user_id(&state.pool).await?;
            flow(state, user).await
        }
        .await,
    )
}

/// The signed-in user of the current server function, or 401.
pub async fn signed_in_user_id(pool: &PgPool) -> Result<UserId, AppError> {
    let session = crate::web::server_context::session().await?;
    current_user(&session, pool)
        .await?
        .map(|user| user.id)
        .ok_or(AppError::Unauthenticated)
}

/// A signed-in session as a long-lived connection holds it, to ask later whether it still
/// lives: its row's id and its token's digest.
#[derive(Debug, Clone)]
pub struct HeldSession {
    session_id: String,
    token_digest: Vec<u8>,
    remember: bool,
}

/// The signed-in session of `session`, for a connection that outlives the request.
pub async fn held(session: &Session) -> Option<HeldSession> {
    let token = session.get::<String>(TOKEN_KEY).await.ok()??;
    Some(HeldSession {
        session_id: session.id()?.to_string(),
        token_digest: EncodedToken::new(token).digest()?,
        remember: is_remembered(session).await,
    })
}

/// Until when `held` lives (the earlier of its inactivity expiry and its token's absolute
/// lifetime), or `None` once it has ended for any reason: signed out, revoked, a password
/// change, expired.
pub async fn alive_until(
    pool: &PgPool,
    held: &HeldSession,
) -> Result<Option<chrono::DateTime<Utc>>, AppError> {
    repository::session_alive_until(
        pool,
        &held.session_id,
        &held.token_digest,
        TokenPurpose::Session {
            remember: held.remember,
        }
        .lifetime(),
    )
    .await
}

/// Ends this session: its token and its row go, and the browser's cookie is removed.
pub async fn sign_out(session: &Session, pool: &PgPool) -> Result<(), AppError> {
    if let Some(token) = session
        .get::<String>(TOKEN_KEY)
        .await
        .map_err(session_error)?
    {
        if let Some(digest) = EncodedToken::new(token).digest() {
            repository::delete_session_token(pool, &digest).await?;
        }
    }
    session.flush().await.map_err(session_error)
}

pub fn session_id(session: &Session) -> Option<String> {
    session.id().map(|id| id.to_string())
}

/// Whether the session asked to be remembered at sign-in.
pub async fn is_remembered(session: &Session) -> bool {
    session
        .get::<bool>(REMEMBER_KEY)
        .await
        .ok()
        .flatten()
        .unwrap_or(false)
}

/// A short name for the browser and system a `User-Agent` describes ("Firefox on Linux"),
/// for the list of active sessions.
pub fn describe_device(user_agent: Option<&str>) -> String {
    let Some(agent) = user_agent.filter(|a| !a.trim().is_empty()) else {
        return "Unknown device".into();
    };
    let has = |needle: &str| agent.contains(needle);
    let browser = if has("Edg/") {
        "Edge"
    } else if has("OPR/") || has("Opera") {
        "Opera"
    } else if has("Firefox/") {
        "Firefox"
    } else if has("HeadlessChrome/") || has("Chrome/") || has("Chromium/") {
        "Chrome"
    } else if has("Safari/") {
        "Safari"
    } else if agent.starts_with("curl/") {
        "curl"
    } else {
        "Unknown browser"
    };
    let system = if has("Android") {
        Some("Android")
    } else if has("iPhone") || has("iPad") {
        Some("iOS")
    } else if has("Windows") {
        Some("Windows")
    } else if has("Mac OS X") || has("Macintosh") {
        Some("macOS")
    } else if has("CrOS") {
        Some("ChromeOS")
    } else if has("Linux") || has("X11") {
        Some("Linux")
    } else {
        None
    };
    match system {
        Some(system) => format!("{browser} on {system}"),
        None => browser.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::describe_device;

    #[test]
    fn a_user_agent_reads_as_browser_on_system() {
        assert_eq!(
            describe_device(Some(
                "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0"
            )),
            "Firefox on Linux"
        );
        assert_eq!(
            describe_device(Some("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36 Edg/126.0.0.0")),
            "Edge on Windows"
        );
        assert_eq!(
            describe_device(Some("Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1")),
            "Safari on iOS"
        );
        assert_eq!(describe_device(Some("curl/8.5.0")), "curl");
        assert_eq!(describe_device(None), "Unknown device");
    }
}
