//! The server side of each account form, so the server functions stay one line each.

use uuid::Uuid;

use super::{
    credentials::{Email, Password},
    mail,
    password_hashing::{self, Verification},
    rate_limits::{self, Account as Counted, LimitedAction},
    repository::{self, UserRecord},
    request::AccountRequest,
    sessions,
    tokens::{EncodedToken, IssuedToken, TokenPurpose},
};
use crate::accounts::UserId;
use crate::{
    accounts::{
        safe_return_to, Account, ActiveSession, UserForm, CHECK_EMAIL_PATH, HOME_OF_SIGNED_IN,
    },
    error::{AppError, FieldError},
    state::AppState,
    web::{
        server_context::{display_ip, navigate},
        Navigation,
    },
};

const INVALID_LOGIN: &str = "Invalid email or password";

fn form_error(message: &str) -> AppError {
    AppError::Validation {
        message: message.into(),
        fields: vec![],
    }
}

/// Parses the new password and its confirmation; field errors name `password` and
/// `password_confirmation`.
fn new_password(user: &UserForm) -> Result<Password, AppError> {
    let mut errors = Vec::new();
    let parsed = Password::parse(&user.password)
        .map_err(|message| errors.push(FieldError::new("password", message)))
        .ok();
    if user.password != user.password_confirmation {
        errors.push(FieldError::new(
            "password_confirmation",
            "Does not match the password",
        ));
    }
    match parsed {
        Some(password) if errors.is_empty() => Ok(password),
        _ => Err(AppError::validation(errors)),
    }
}

async fn send_confirmation(state: &AppState, user_id: UserId, email: &str) -> Result<(), AppError> {
    let token = IssuedToken::generate();
    repository::insert_token(
        &state.pool,
        user_id,
        &token.digest,
        &TokenPurpose::ConfirmEmail,
        Some(email),
    )
    .await?;
    let url = format!(
        "{}/users/confirm/{}",
        state.settings.public_url,
        token.encoded.expose()
    );
    mail::queue(state, mail::confirmation_mail(email, &url)).await
}

/// Runs what only an existing account needs (a token, a mail) after the answer has gone,
/// so that forms which must not reveal whether an email is registered answer in the same
/// time either way. The request's span (and so its id) follows the work; failures are
/// logged.
fn after_the_answer(
    what: &'static str,
    work: impl std::future::Future<Output = Result<(), AppError>> + Send + 'static,
) {
    use tracing::Instrument;
    tokio::spawn(
        async move {
            if let Err(error) = work.await {
                tracing::error!(%error, what, "work after the answer failed");
            }
        }
        .instrument(tracing::Span::current()),
    );
}

/// Registration answers the same, after the same work (one argon2 hash), whether or not the
/// email is registered: a new address gets its account and a confirmation link, a registered
/// one a note to its owner. Neither signs in; the link does.
pub async fn register(request: AccountRequest, user: UserForm) -> Result<Navigation, AppError> {
    // Owned: the work after the answer outlives the request.
    let state = request.state.clone();
    let email = Email::parse(&user.email);
    request
        .count_attempt(
            LimitedAction::Register,
            email.as_ref().ok().map(Counted::Email),
        )
        .await?;
    let mut errors = Vec::new();
    let password = match Password::parse(&user.password) {
        Ok(password) => Some(password),
        Err(message) => {
            errors.push(FieldError::new("password", message));
            None
        }
    };
    let email = match email {
        Ok(email) => Some(email),
        Err(message) => {
            errors.insert(0, FieldError::new("email", message));
            None
        }
    };
    let (Some(email), Some(password)) = (email, password) else {
        return Err(AppError::validation(errors));
    };
    let hashed = password_hashing::hash_password(&state.work, password).await?;
    match repository::insert_user_unless_taken(&state.pool, &email, &hashed).await? {
        Some(user_id) => {
            tracing::info!(%user_id, ip = %display_ip(request.ip), "account registered");
            after_the_answer("confirmation mail", async move {
                send_confirmation(&state, UserId(user_id), email.as_str()).await
            });
        }
        None => {
            tracing::info!(email = %email.masked(), ip = %display_ip(request.ip), "registration with a registered email");
            after_the_answer("registration notice", async move {
                notify_owner_of_registration_attempt(&state, &email).await
            });
        }
    }
    Ok(navigate(CHECK_EMAIL_PATH))
}

async fn notify_owner_of_registration_attempt(
    state: &AppState,
    email: &Email,
) -> Result<(), AppError> {
    let Some(owner) = repository::find_user_by_email(&state.pool, email).await? else {
        return Ok(());
    };
    if !rate_limits::mail_allowed(&state.pool, "registration_notice", &owner.email).await? {
        return Ok(());
    }
    let base = &state.settings.public_url;
    mail::queue(
        state,
        mail::already_registered_notice(
            &owner.email,
            &format!("{base}/users/log-in"),
            &format!("{base}/users/reset-password"),
        ),
    )
    .await
}

pub async fn log_in(
    request: AccountRequest,
    user: UserForm,
    return_to: Option<String>,
) -> Result<Navigation, AppError> {
    let state = &request.state;
    let email = Email::parse(&user.email).ok();
    request
        .count_attempt(LimitedAction::LogIn, email.as_ref().map(Counted::Email))
        .await?;
    let record = match &email {
        Some(email) => repository::find_user_by_email(&state.pool, email).await?,
        None => None,
    };
    // One verification whether or not the account exists: same work, same answer.
    let verification = password_hashing::verify_password(
        &state.work,
        user.password.clone(),
        record.as_ref().map(|r| r.hashed_password.clone()),
    )
    .await?;
    let (Some(record), Verification::Valid { needs_rehash }) = (record, verification) else {
        tracing::warn!(
            email = %email.as_ref().map(Email::masked).unwrap_or_default(),
            ip = %display_ip(request.ip),
            "failed sign-in"
        );
        return Err(form_error(INVALID_LOGIN));
    };
    if needs_rehash {
        let rehashed = password_hashing::hash_plain(&state.work, user.password.clone()).await?;
        repository::update_password_hash(&state.pool, record.id, &rehashed).await?;
        tracing::info!(user_id = %record.id, "password hash upgraded to the current parameters");
    }
    let remember = user
        .remember_me
        .as_deref()
        .is_some_and(|v| v == "true" || v == "on");
    let session = request.session.clone();
    sessions::sign_in(&session, &state.pool, record.id, remember).await?;
    tracing::info!(user_id = %record.id, ip = %display_ip(request.ip), remember, "signed in");
    Ok(navigate(safe_return_to(return_to.as_deref())))
}

pub async fn log_out(request: AccountRequest) -> Result<Navigation, AppError> {
    let state = &request.state;
    let session = request.session.clone();
    if let Some(user) = sessions::current_user(&session, &state.pool).await? {
        tracing::info!(user_id = %user.id, ip = %display_ip(request.ip), "signed out");
    }
    sessions::sign_out(&session, &state.pool).await?;
    Ok(navigate("/?notice=logged-out"))
}

pub async fn current_account(request: AccountRequest) -> Result<Option<Account>, AppError> {
    let state = &request.state;
    let session = request.session.clone();
    Ok(sessions::current_user(&session, &state.pool)
        .await?
        .map(|user| Account {
            email: user.email,
            confirmed: user.confirmed_at.is_some(),
        }))
}

/// Where to go after following an emailed link: signed-in users stay in the app.
async fn after_link(
    request: &AccountRequest,
    signed_in_to: &str,
    notice: &str,
) -> Result<Navigation, AppError> {
    let signed_in = sessions::current_user(&request.session, &request.state.pool)
        .await?
        .is_some();
    Ok(navigate(if signed_in {
        format!("{signed_in_to}?notice={notice}")
    } else {
        format!("/users/log-in?notice={notice}")
    }))
}

/// A link's token, taken in a transaction that the caller finishes with the link's effect
/// (so the token is spent exactly when the effect happens). Counts towards the
/// confirmation rate limit.
async fn take_emailed_token(
    request: &AccountRequest,
    token: String,
    purpose: &TokenPurpose,
    invalid_message: &str,
) -> Result<
    (
        sqlx::Transaction<'static, sqlx::Postgres>,
        repository::EmailedToken,
    ),
    AppError,
> {
    request
        .count_attempt(LimitedAction::Confirmation, None)
        .await?;
    let invalid = || form_error(invalid_message);
    let digest = EncodedToken::new(token).digest().ok_or_else(invalid)?;
    let mut transaction = request.state.pool.begin().await?;
    let found = repository::find_emailed_token(&mut transaction, &digest, purpose)
        .await?
        .ok_or_else(invalid)?;
    repository::delete_token(&mut transaction, found.token_id).await?;
    Ok((transaction, found))
}

pub async fn confirm_account(
    request: AccountRequest,
    token: String,
) -> Result<Navigation, AppError> {
    let state = &request.state;
    let (mut transaction, found) = take_emailed_token(
        &request,
        token,
        &TokenPurpose::ConfirmEmail,
        "The confirmation link is invalid or it has expired.",
    )
    .await?;
    let user_id = found.user.id;
    // Whoever registered the address before its owner confirmed it keeps nothing: the first
    // confirmation ends every session and token the account had.
    if repository::confirm_user(&mut transaction, user_id).await? {
        repository::end_every_token_and_session(&mut transaction, user_id, None).await?;
    }
    transaction.commit().await?;
    tracing::info!(%user_id, ip = %display_ip(request.ip), "email confirmed");
    let session = request.session.clone();
    sessions::sign_in(&session, &state.pool, user_id, false).await?;
    tracing::info!(%user_id, ip = %display_ip(request.ip), "signed in by the confirmation link");
    Ok(navigate(format!("{HOME_OF_SIGNED_IN}?notice=confirmed")))
}

pub async fn resend_confirmation(
    request: AccountRequest,
    user: Option<UserForm>,
) -> Result<Navigation, AppError> {
    // Owned: the work after the answer outlives the request.
    let state = request.state.clone();
    let session = request.session.clone();
    let signed_in = sessions::current_user(&session, &state.pool).await?;
    let (record, back_to) = match signed_in {
        Some(record) => {
            let email = Email::parse(&record.email).ok();
            request
                .count_attempt(
                    LimitedAction::Confirmation,
                    email.as_ref().map(Counted::Email),
                )
                .await?;
            (Some(record), HOME_OF_SIGNED_IN)
        }
        None => {
            let email = Email::parse(&user.unwrap_or_default().email)
                .map_err(|m| AppError::field("email", m))?;
            request
                .count_attempt(LimitedAction::Confirmation, Some(Counted::Email(&email)))
                .await?;
            (
                repository::find_user_by_email(&state.pool, &email).await?,
                "/users/log-in",
            )
        }
    };
    if let Some(record) = record.filter(|r| r.confirmed_at.is_none()) {
        after_the_answer("confirmation mail", async move {
            if rate_limits::mail_allowed(&state.pool, "confirmation", &record.email).await? {
                send_confirmation(&state, record.id, &record.email).await?;
            }
            Ok(())
        });
    }
    Ok(navigate(format!("{back_to}?notice=confirmation-sent")))
}

pub async fn request_password_reset(
    request: AccountRequest,
    user: UserForm,
) -> Result<Navigation, AppError> {
    // Owned: the work after the answer outlives the request.
    let state = request.state.clone();
    let email = Email::parse(&user.email).map_err(|message| AppError::field("email", message))?;
    request
        .count_attempt(LimitedAction::ResetPassword, Some(Counted::Email(&email)))
        .await?;
    if let Some(record) = repository::find_user_by_email(&state.pool, &email).await? {
        tracing::info!(user_id = %record.id, ip = %display_ip(request.ip), "password reset requested");
        after_the_answer("password reset mail", async move {
            if !rate_limits::mail_allowed(&state.pool, "reset_password", &record.email).await? {
                return Ok(());
            }
            let token = IssuedToken::generate();
            repository::insert_token(
                &state.pool,
                record.id,
                &token.digest,
                &TokenPurpose::ResetPassword,
                Some(&record.email),
            )
            .await?;
            let url = format!(
                "{}/users/reset-password/{}",
                state.settings.public_url,
                token.encoded.expose()
            );
            mail::queue(&state, mail::reset_password_mail(&record.email, &url)).await
        });
    }
    Ok(navigate("/users/log-in?notice=reset-sent"))
}

pub async fn reset_token_is_valid(
    request: AccountRequest,
    token: String,
) -> Result<bool, AppError> {
    let state = &request.state;
    let Some(digest) = EncodedToken::new(token).digest() else {
        return Ok(false);
    };
    let mut transaction = state.pool.begin().await?;
    let found =
        repository::find_emailed_token(&mut transaction, &digest, &TokenPurpose::ResetPassword)
            .await?;
    transaction.rollback().await?;
    Ok(found.is_some())
}

pub async fn reset_password(
    request: AccountRequest,
    token: String,
    user: UserForm,
) -> Result<Navigation, AppError> {
    let state = &request.state;
    request
        .count_attempt(LimitedAction::ResetPassword, None)
        .await?;
    let invalid = || form_error("The reset password link is invalid or it has expired.");
    let digest = EncodedToken::new(token).digest().ok_or_else(invalid)?;
    // The token first: a made-up one costs a lookup, never an argon2 hash.
    let mut transaction = state.pool.begin().await?;
    let found =
        repository::find_emailed_token(&mut transaction, &digest, &TokenPurpose::ResetPassword)
            .await?
            .ok_or_else(invalid)?;
    let password = new_password(&user)?;
    let hashed = password_hashing::hash_password(&state.work, password).await?;
    repository::replace_password(&mut transaction, found.user.id, &hashed, None).await?;
    transaction.commit().await?;
    tracing::info!(user_id = %found.user.id, ip = %display_ip(request.ip), "password reset; every session ended");
    Ok(navigate("/users/log-in?notice=password-reset"))
}

/// Counts a settings form that asks for the current password, per client and per account,
/// before the password is checked: a stolen session cannot guess it without limit.
async fn count_reauthentication(
    request: &AccountRequest,
    record: &UserRecord,
) -> Result<(), AppError> {
    request
        .count_attempt(
            LimitedAction::Reauthenticate,
            Some(Counted::User(record.id.0)),
        )
        .await
}

async fn check_current_password(
    state: &AppState,
    record: &UserRecord,
    current_password: String,
) -> Result<(), AppError> {
    match password_hashing::verify_password(
        &state.work,
        current_password,
        Some(record.hashed_password.clone()),
    )
    .await?
    {
        Verification::Valid { .. } => Ok(()),
        Verification::Invalid => Err(AppError::field(
            "current_password",
            "Is not your current password",
        )),
    }
}

pub async fn change_email(
    request: AccountRequest,
    user: UserForm,
    current_password: String,
) -> Result<Navigation, AppError> {
    let state = &request.state;
    let record = request.signed_in_user().await?;
    count_reauthentication(&request, &record).await?;
    let email = Email::parse(&user.email).map_err(|message| AppError::field("email", message))?;
    if email.canonical() == record.email.to_lowercase() {
        return Err(AppError::field("email", "That is already your email"));
    }
    check_current_password(state, &record, current_password).await?;
    if repository::email_is_taken(&state.pool, &email).await? {
        return Err(AppError::field("email", "Email has already been taken"));
    }
    rate_limits::count_email_change_mail(&state.pool, record.id).await?;
    let token = IssuedToken::generate();
    let purpose = TokenPurpose::ChangeEmail {
        current_email: record.email.clone(),
    };
    repository::insert_token(
        &state.pool,
        record.id,
        &token.digest,
        &purpose,
        Some(email.as_str()),
    )
    .await?;
    let url = format!(
        "{}/users/settings/confirm-email/{}",
        state.settings.public_url,
        token.encoded.expose()
    );
    mail::queue(state, mail::change_email_mail(email.as_str(), &url)).await?;
    mail::queue(
        state,
        mail::email_change_notice(&record.email, email.as_str()),
    )
    .await?;
    tracing::info!(user_id = %record.id, ip = %display_ip(request.ip), "email change requested");
    Ok(navigate("/users/settings?notice=email-change-sent"))
}

pub async fn confirm_email_change(
    request: AccountRequest,
    token: String,
) -> Result<Navigation, AppError> {
    let state = &request.state;
    let message = "The email change link is invalid or it has expired.";
    let purpose = TokenPurpose::ChangeEmail {
        current_email: String::new(),
    };
    let (mut transaction, found) = take_emailed_token(&request, token, &purpose, message).await?;
    let new_email = found.sent_to.clone().ok_or_else(|| form_error(message))?;
    repository::change_email(&mut transaction, found.user.id, &new_email).await?;
    // Every other session ends; this browser's stays if it is signed in to this account.
    let session = request.session.clone();
    let keep = match sessions::current_user(&session, &state.pool).await? {
        Some(user) if user.id == found.user.id => sessions::session_id(&session),
        _ => None,
    };
    repository::end_other_sessions(&mut transaction, found.user.id, keep.as_deref()).await?;
    transaction.commit().await?;
    tracing::info!(user_id = %found.user.id, ip = %display_ip(request.ip), "email changed; other sessions ended");
    after_link(&request, "/users/settings", "email-changed").await
}

pub async fn change_password(
    request: AccountRequest,
    user: UserForm,
    current_password: String,
) -> Result<Navigation, AppError> {
    let state = &request.state;
    let record = request.signed_in_user().await?;
    count_reauthentication(&request, &record).await?;
    let password = new_password(&user)?;
    check_current_password(state, &record, current_password).await?;
    let hashed = password_hashing::hash_password(&state.work, password).await?;
    let session = request.session.clone();
    let this_session = sessions::session_id(&session);
    let mut transaction = state.pool.begin().await?;
    repository::replace_password(
        &mut transaction,
        record.id,
        &hashed,
        this_session.as_deref(),
    )
    .await?;
    transaction.commit().await?;
    // Every token went, this session's too: it carries on under a new id and token.
    let remember = sessions::is_remembered(&session).await;
    sessions::sign_in(&session, &state.pool, record.id, remember).await?;
    tracing::info!(user_id = %record.id, ip = %display_ip(request.ip), "password changed; other sessions ended");
    Ok(navigate("/users/settings?notice=password-changed"))
}

pub async fn active_sessions(request: AccountRequest) -> Result<Vec<ActiveSession>, AppError> {
    let state = &request.state;
    let record = request.signed_in_user().await?;
    let this = sessions::session_id(&request.session.clone());
    let rows = repository::list_sessions(&state.pool, record.id).await?;
    Ok(rows
        .into_iter()
        .map(|row| ActiveSession {
            id: row.token_id.to_string(),
            device: sessions::describe_device(row.user_agent.as_deref()),
            address: row.ip_address.unwrap_or_else(|| "unknown".into()),
            last_seen: row
                .last_seen_at
                .map(|at| at.format("%Y-%m-%d %H:%M UTC").to_string())
                .unwrap_or_default(),
            current: this.as_deref() == Some(row.session_id.as_str()),
        })
        .collect())
}

/// Ends one other session of the signed-in account. Anything else (this session, another
/// account's, a made-up id) answers 404.
pub async fn revoke_session(request: AccountRequest, id: String) -> Result<Navigation, AppError> {
    let state = &request.state;
    let record = request.signed_in_user().await?;
    let token_id = Uuid::parse_str(id.trim()).map_err(|_| AppError::NotFound)?;
    let this = sessions::session_id(&request.session.clone());
    let mut transaction = state.pool.begin().await?;
    if !repository::revoke_session(&mut transaction, record.id, token_id, this.as_deref()).await? {
        return Err(AppError::NotFound);
    }
    transaction.commit().await?;
    tracing::info!(user_id = %record.id, ip = %display_ip(request.ip), "one session revoked");
    Ok(navigate("/users/settings?notice=session-revoked"))
}

pub async fn log_out_everywhere_else(request: AccountRequest) -> Result<Navigation, AppError> {
    let state = &request.state;
    let record = request.signed_in_user().await?;
    let this = sessions::session_id(&request.session.clone());
    let mut transaction = state.pool.begin().await?;
    repository::end_other_sessions(&mut transaction, record.id, this.as_deref()).await?;
    transaction.commit().await?;
    tracing::info!(user_id = %record.id, ip = %display_ip(request.ip), "logged out everywhere else");
    Ok(navigate("/users/settings?notice=logged-out-elsewhere"))
}
