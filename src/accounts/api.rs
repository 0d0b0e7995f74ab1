//! The account server functions. Each is also a plain form endpoint under `/users/...`
//! (fields `user[email]`, `user[password]`, ...), so every form works without JavaScript and
//! the runbook's `curl -X POST /users/register -d "user[email]=...&user[password]=..."` works.

use leptos::prelude::*;

use super::{Account, ActiveSession, UserForm};
use crate::{error::AppError, web::Navigation};

#[cfg(feature = "ssr")]
use super::ssr::{flows, request::serve};

#[server(prefix = "/users", endpoint = "register")]
pub async fn register(user: UserForm) -> Result<Navigation, AppError> {
    serve(|request| flows::register(request, user)).await
}

#[server(prefix = "/users", endpoint = "log-in")]
pub async fn log_in(user: UserForm, return_to: Option<String>) -> Result<Navigation, AppError> {
    serve(|request| flows::log_in(request, user, return_to)).await
}

#[server(prefix = "/users", endpoint = "log-out")]
pub async fn log_out() -> Result<Navigation, AppError> {
    serve(flows::log_out).await
}

#[server(prefix = "/users", endpoint = "current")]
pub async fn current_account() -> Result<Option<Account>, AppError> {
    serve(flows::current_account).await
}

#[server(prefix = "/users", endpoint = "confirm")]
pub async fn confirm_account(token: String) -> Result<Navigation, AppError> {
    serve(|request| flows::confirm_account(request, token)).await
}

#[server(prefix = "/users", endpoint = "resend-confirmation")]
pub async fn resend_confirmation(user: Option<UserForm>) -> Result<Navigation, AppError> {
    serve(|request| flows::resend_confirmation(request, user)).await
}

#[server(prefix = "/users", endpoint = "reset-password")]
pub async fn request_password_reset(user: UserForm) -> Result<Navigation, AppError> {
    serve(|request| flows::request_password_reset(request, user)).await
}

#[server(prefix = "/users", endpoint = "reset-password/check")]
pub async fn reset_token_is_valid(token: String) -> Result<bool, AppError> {
    serve(|request| flows::reset_token_is_valid(request, token)).await
}

#[server(prefix = "/users", endpoint = "reset-password/update")]
pub async fn reset_password(token: String, user: UserForm) -> Result<Navigation, AppError> {
    serve(|request| flows::reset_password(request, token, user)).await
}

#[server(prefix = "/users", endpoint = "settings/email")]
pub async fn change_email(
    user: UserForm,
    current_password: String,
) -> Result<Navigation, AppError> {
    serve(|request| flows::change_email(request, user, current_password)).await
}

#[server(prefix = "/users", endpoint = "settings/confirm-email")]
pub async fn confirm_email_change(token: String) -> Result<Navigation, AppError> {
    serve(|request| flows::confirm_email_change(request, token)).await
}

#[server(prefix = "/users", endpoint = "settings/password")]
pub async fn change_password(
    user: UserForm,
    current_password: String,
) -> Result<Navigation, AppError> {
    serve(|request| flows::change_password(request, user, current_password)).await
}

#[server(prefix = "/users", endpoint = "settings/sessions")]
pub async fn active_sessions() -> Result<Vec<ActiveSession>, AppError> {
    serve(flows::active_sessions).await
}

#[server(prefix = "/users", endpoint = "settings/sessions/revoke")]
pub async fn revoke_session(id: String) -> Result<Navigation, AppError> {
    serve(|request| flows::revoke_session(request, id)).await
}

#[server(prefix = "/users", endpoint = "settings/sessions/log-out-others")]
pub async fn log_out_everywhere_else() -> Result<Navigation, AppError> {
    serve(flows::log_out_everywhere_else).await
}
