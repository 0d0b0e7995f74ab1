//! The account server functions. Each is also a plain form endpoint under `/users/...`
//! (fields `user[email]`, `user[password]`, ...), so every form works without JavaScript and
//! the runbook's `curl -X POST /users/register -d "user[email]=...&user[password]=..."` works.

use leptos::prelude::*;

use super::{Account, ActiveSession, UserForm};
use crate::{error::AppError, web::Navigation};

#[cfg(feature = "ssr")]
use super::ssr::flows;
#[cfg(feature = "ssr")]
use crate::web::server_context::respond;

#[server(prefix = "/users", endpoint = "register")]
pub async fn register(user: UserForm) -> Result<Navigation, AppError> {
    respond(flows::register(user).await)
}

#[server(prefix = "/users", endpoint = "log-in")]
pub async fn log_in(user: UserForm, return_to: Option<String>) -> Result<Navigation, AppError> {
    respond(flows::log_in(user, return_to).await)
}

#[server(prefix = "/users", endpoint = "log-out")]
pub async fn log_out() -> Result<Navigation, AppError> {
    respond(flows::log_out().await)
}

#[server(prefix = "/users", endpoint = "current")]
pub async fn current_account() -> Result<Option<Account>, AppError> {
    respond(flows::current_account().await)
}

#[server(prefix = "/users", endpoint = "confirm")]
pub async fn confirm_account(token: String) -> Result<Navigation, AppError> {
    respond(flows::confirm_account(token).await)
}

#[server(prefix = "/users", endpoint = "resend-confirmation")]
pub async fn resend_confirmation(user: Option<UserForm>) -> Result<Navigation, AppError> {
    respond(flows::resend_confirmation(user).await)
}

#[server(prefix = "/users", endpoint = "reset-password")]
pub async fn request_password_reset(user: UserForm) -> Result<Navigation, AppError> {
    respond(flows::request_password_reset(user).await)
}

#[server(prefix = "/users", endpoint = "reset-password/check")]
pub async fn reset_token_is_valid(token: String) -> Result<bool, AppError> {
    respond(flows::reset_token_is_valid(token).await)
}

#[server(prefix = "/users", endpoint = "reset-password/update")]
pub async fn reset_password(token: String, user: UserForm) -> Result<Navigation, AppError> {
    respond(flows::reset_password(token, user).await)
}

#[server(prefix = "/users", endpoint = "settings/email")]
pub async fn change_email(
    user: UserForm,
    current_password: String,
) -> Result<Navigation, AppError> {
    respond(flows::change_email(user, current_password).await)
}

#[server(prefix = "/users", endpoint = "settings/confirm-email")]
pub async fn confirm_email_change(token: String) -> Result<Navigation, AppError> {
    respond(flows::confirm_email_change(token).await)
}

#[server(prefix = "/users", endpoint = "settings/password")]
pub async fn change_password(
    user: UserForm,
    current_password: String,
) -> Result<Navigation, AppError> {
    respond(flows::change_password(user, current_password).await)
}

#[server(prefix = "/users", endpoint = "settings/sessions")]
pub async fn active_sessions() -> Result<Vec<ActiveSession>, AppError> {
    respond(flows::active_sessions().await)
}

#[server(prefix = "/users", endpoint = "settings/sessions/revoke")]
pub async fn revoke_session(id: String) -> Result<Navigation, AppError> {
    respond(flows::revoke_session(id).await)
}

#[server(prefix = "/users", endpoint = "settings/sessions/log-out-others")]
pub async fn log_out_everywhere_else() -> Result<Navigation, AppError> {
    respond(flows::log_out_everywhere_else().await)
}
