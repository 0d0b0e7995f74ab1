//! What an account flow knows of the request it serves, read once by its server function: the
//! app's state, the session and the client's address. The flows read no ambient context, and
//! the rate limits of the account forms are counted in one place.

use std::net::IpAddr;

use tower_sessions::Session;

use super::{
    rate_limits::{self, Account, LimitedAction},
    repository::UserRecord,
    sessions,
};
use crate::{error::AppError, state::AppState, web::server_context};

pub struct AccountRequest {
    pub state: AppState,
    pub session: Session,
    /// The client's address (`server_context::client_ip`: the peer, or what a trusted proxy
    /// says it is).
    pub ip: Option<IpAddr>,
}

impl AccountRequest {
    /// The request the current server function serves.
    pub async fn current() -> Result<Self, AppError> {
        Ok(AccountRequest {
            state: AppState::from_context()?,
            session: server_context::session().await?,
            ip: server_context::client_ip().await,
        })
    }

    /// Counts this attempt at `action` from this client and, when named, for `account`;
    /// refuses it (429 with `Retry-After`) past the limit.
    pub async fn count_attempt(
        &self,
        action: LimitedAction,
        account: Option<Account<'_>>,
    ) -> Result<(), AppError> {
        rate_limits::count_attempt(&self.state.pool, action, self.ip, account).await
    }

    /// The signed-in user, or 401.
    pub async fn signed_in_user(&self) -> Result<UserRecord, AppError> {
        sessions::current_user(&self.session, &self.state.pool)
            .await?
            .ok_or(AppError::Unauthenticated)
    }
}

/// The one entry point of an account server function: the request read once, then `flow`,
/// whose answer goes out through `respond` (an error keeps its status).
pub async fn serve<T, Flow>(flow: impl FnOnce(AccountRequest) -> Flow) -> Result<T, AppError>
where
    Flow: std::future::Future<Output = Result<T, AppError>>,
{
    server_context::respond(async { flow(AccountRequest::current().await?).await }.await)
}
