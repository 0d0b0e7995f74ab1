//! The account pages and the pieces of the frame that show the account (header links, the
//! unconfirmed-email banner, notices). Every form is an `ActionForm`: a plain form post
//! without JavaScript, a server action with inline errors with it.

use leptos::{form::ActionForm, prelude::*};
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

use super::{
    Account, ActiveSession, ChangeEmail, ChangePassword, ConfirmAccount, ConfirmEmailChange, LogIn,
    LogOut, LogOutEverywhereElse, Register, RequestPasswordReset, ResendConfirmation,
    ResetPassword, RevokeSession, HOME_OF_SIGNED_IN,
};
use crate::{
    error::AppError,
    web::{
        forms::{form_action, Field, FormAlert},
        islands::{enter_island, page_title, route_param},
    },
};

#[component]
pub fn RegisterPage() -> impl IntoView {
    view! {
        <Title text=page_title("Register") />
        <RegisterForm />
    }
}

#[island(lazy)]
fn RegisterForm() -> impl IntoView {
    enter_island();
    let (action, error) = form_action!(Register);
    view! {
        <section class="account-form">
            <h1>"Register for an account"</h1>
            <p>"Already registered? " <a href="/users/log-in" rel="external">"Log in"</a></p>
            <ActionForm action=action>
                <FormAlert error />
                <Field id="register-email" label="Email" name="user[email]" field="email" kind="email" autocomplete="username" error />
                <Field id="register-password" label="Password (12 to 72 characters)" name="user[password]" field="password" kind="password" autocomplete="new-password" error />
                <button type="submit" disabled=move || action.pending().get()>"Create an account"</button>
            </ActionForm>
        </section>
    }
}

/// Where registration leads, whether or not the email was registered already.
#[component]
pub fn CheckEmailPage() -> impl IntoView {
    view! {
        <Title text=page_title("Check your email") />
        <section class="account-form">
            <h1>"Check your email to continue"</h1>
            <p>"We sent a message to the address you gave. Follow its link to confirm your account and log in."</p>
            <p>
                "Nothing arrived? " <a href="/users/confirm">"Send the link again"</a>
                " · Already confirmed? " <a href="/users/log-in" rel="external">"Log in"</a>
            </p>
        </section>
    }
}

#[component]
pub fn LogInPage() -> impl IntoView {
    let return_to = use_query_map()
        .read_untracked()
        .get("return_to")
        .unwrap_or_else(|| HOME_OF_SIGNED_IN.to_string());
    view! {
        <Title text=page_title("Log in") />
        <LogInForm return_to />
    }
}

#[island(lazy)]
fn LogInForm(return_to: String) -> impl IntoView {
    enter_island();
    let (action, error) = form_action!(LogIn);
    view! {
        <section class="account-form">
            <h1>"Log in"</h1>
            <p>"Don't have an account? " <a href="/users/register" rel="external">"Register"</a></p>
            <ActionForm action=action>
                <FormAlert error />
                <input type="hidden" name="return_to" value=return_to />
                <Field id="log-in-email" label="Email" name="user[email]" field="email" kind="email" autocomplete="username" error />
                <Field id="log-in-password" label="Password" name="user[password]" field="password" kind="password" autocomplete="current-password" error />
                <label class="checkbox">
                    <input type="checkbox" name="user[remember_me]" value="true" />
                    " Keep me logged in for 60 days"
                </label>
                <button type="submit" disabled=move || action.pending().get()>"Log in"</button>
            </ActionForm>
            <p>
                <a href="/users/reset-password">"Forgot your password?"</a>
                " · "
                <a href="/users/confirm">"Didn't receive the confirmation email?"</a>
            </p>
        </section>
    }
}

#[component]
pub fn ResendConfirmationPage() -> impl IntoView {
    view! {
        <Title text=page_title("Resend confirmation") />
        <ResendConfirmationForm />
    }
}

#[island(lazy)]
fn ResendConfirmationForm() -> impl IntoView {
    enter_island();
    let (action, error) = form_action!(ResendConfirmation);
    view! {
        <section class="account-form">
            <h1>"No confirmation instructions received?"</h1>
            <p>"We'll send a new confirmation link to your inbox."</p>
            <ActionForm action=action>
                <FormAlert error />
                <Field id="resend-email" label="Email" name="user[email]" field="email" kind="email" autocomplete="username" error />
                <button type="submit" disabled=move || action.pending().get()>"Resend confirmation instructions"</button>
            </ActionForm>
        </section>
    }
}

#[component]
pub fn ConfirmAccountPage() -> impl IntoView {
    let token = route_param::<String>("token").unwrap_or_default();
    view! {
        <Title text=page_title("Confirm your account") />
        <ConfirmAccountForm token />
    }
}

#[island(lazy)]
fn ConfirmAccountForm(token: String) -> impl IntoView {
    enter_island();
    let (action, error) = form_action!(ConfirmAccount);
    view! {
        <section class="account-form">
            <h1>"Confirm your account"</h1>
            <ActionForm action=action>
                <FormAlert error />
                <input type="hidden" name="token" value=token />
                <button type="submit" disabled=move || action.pending().get()>"Confirm my account"</button>
            </ActionForm>
        </section>
    }
}

#[component]
pub fn RequestPasswordResetPage() -> impl IntoView {
    view! {
        <Title text=page_title("Forgot your password?") />
        <RequestPasswordResetForm />
    }
}

#[island(lazy)]
fn RequestPasswordResetForm() -> impl IntoView {
    enter_island();
    let (action, error) = form_action!(RequestPasswordReset);
    view! {
        <section class="account-form">
            <h1>"Forgot your password?"</h1>
            <p>"We'll send a password reset link to your inbox."</p>
            <ActionForm action=action>
                <FormAlert error />
                <Field id="reset-email" label="Email" name="user[email]" field="email" kind="email" autocomplete="username" error />
                <button type="submit" disabled=move || action.pending().get()>"Send password reset instructions"</button>
            </ActionForm>
        </section>
    }
}

#[component]
pub fn ResetPasswordPage() -> impl IntoView {
    let token = route_param::<String>("token").unwrap_or_default();
    view! {
        <Title text=page_title("Reset password") />
        <ResetPasswordForm token />
    }
}

#[island(lazy)]
fn ResetPasswordForm(token: String) -> impl IntoView {
    enter_island();
    let (action, error) = form_action!(ResetPassword);
    let checked_token = token.clone();
    let valid = Resource::new(move || checked_token.clone(), super::reset_token_is_valid);
    view! {
        <section class="account-form">
            <h1>"Reset password"</h1>
            <Suspense fallback=|| view! { <p>"Checking the link..."</p> }>
                {move || {
                    let token = token.clone();
                    Suspend::new(async move {
                        match valid.await {
                            Ok(true) => view! {
                                <ActionForm action=action>
                                    <FormAlert error />
                                    <input type="hidden" name="token" value=token />
                                    <Field id="reset-password" label="New password" name="user[password]" field="password" kind="password" autocomplete="new-password" error />
                                    <Field id="reset-password-confirmation" label="Confirm new password" name="user[password_confirmation]" field="password_confirmation" kind="password" autocomplete="new-password" error />
                                    <button type="submit" disabled=move || action.pending().get()>"Reset password"</button>
                                </ActionForm>
                            }.into_any(),
                            _ => view! {
                                <p class="form-alert" role="alert">"The reset password link is invalid or it has expired."</p>
                                <p><a href="/users/reset-password">"Ask for a new link"</a></p>
                            }.into_any(),
                        }
                    })
                }}
            </Suspense>
        </section>
    }
}

#[component]
pub fn SettingsPage() -> impl IntoView {
    view! {
        <Title text=page_title("Account settings") />
        <SettingsForms />
    }
}

#[island(lazy)]
fn SettingsForms() -> impl IntoView {
    enter_island();
    let (email_action, email_error) = form_action!(ChangeEmail);
    let (password_action, password_error) = form_action!(ChangePassword);
    view! {
        <section class="account-form">
            <h1>"Account settings"</h1>
            <h2>"Change email"</h2>
            <ActionForm action=email_action attr:data-testid="change-email">
                <FormAlert error=email_error />
                <Field id="settings-email" label="New email" name="user[email]" field="email" kind="email" autocomplete="email" error=email_error />
                <Field id="settings-email-current-password" label="Current password" name="current_password" field="current_password" kind="password" autocomplete="current-password" error=email_error />
                <button type="submit" disabled=move || email_action.pending().get()>"Change email"</button>
            </ActionForm>
            <h2>"Change password"</h2>
            <p>"Changing your password logs you out everywhere else."</p>
            <ActionForm action=password_action attr:data-testid="change-password">
                <FormAlert error=password_error />
                <Field id="settings-password" label="New password" name="user[password]" field="password" kind="password" autocomplete="new-password" error=password_error />
                <Field id="settings-password-confirmation" label="Confirm new password" name="user[password_confirmation]" field="password_confirmation" kind="password" autocomplete="new-password" error=password_error />
                <Field id="settings-password-current-password" label="Current password" name="current_password" field="current_password" kind="password" autocomplete="current-password" error=password_error />
                <button type="submit" disabled=move || password_action.pending().get()>"Change password"</button>
            </ActionForm>
            <ActiveSessions />
        </section>
    }
}

/// The account's signed-in sessions, each but this one with a button that ends it, and a
/// button that ends them all but this one.
#[component]
fn ActiveSessions() -> impl IntoView {
    let sessions = Resource::new(|| (), |_| super::active_sessions());
    let (revoke, revoke_error) = form_action!(RevokeSession);
    let (others, others_error) = form_action!(LogOutEverywhereElse);
    let row = move |session: ActiveSession| {
        let label = format!(
            "Revoke the session of {} from {}",
            session.device, session.address
        );
        view! {
            <li data-testid="active-session">
                <span class="session-device">{session.device}</span>
                " · " <span class="session-address">{session.address}</span>
                " · last seen " <span class="session-last-seen">{session.last_seen}</span>
                {if session.current {
                    view! { " " <strong>"(this session)"</strong> }.into_any()
                } else {
                    view! {
                        <ActionForm action=revoke attr:class="inline-form">
                            <input type="hidden" name="id" value=session.id />
                            <button type="submit" class="link-button" aria-label=label>"Revoke"</button>
                        </ActionForm>
                    }.into_any()
                }}
            </li>
        }
    };
    view! {
        <h2>"Active sessions"</h2>
        <p>"Where your account is logged in now."</p>
        <FormAlert error=revoke_error />
        <Suspense fallback=|| view! { <p>"Loading the sessions..."</p> }>
            {move || Suspend::new(async move {
                match sessions.await {
                    Ok(list) => view! {
                        <ul class="sessions" data-testid="active-sessions">
                            {list.into_iter().map(row).collect_view()}
                        </ul>
                    }.into_any(),
                    Err(error) => view! { <p class="form-alert" role="alert">{error.to_string()}</p> }.into_any(),
                }
            })}
        </Suspense>
        <ActionForm action=others attr:data-testid="log-out-everywhere-else">
            <FormAlert error=others_error />
            <button type="submit" disabled=move || others.pending().get()>"Log out everywhere else"</button>
        </ActionForm>
    }
}

#[component]
pub fn ConfirmEmailChangePage() -> impl IntoView {
    let token = route_param::<String>("token").unwrap_or_default();
    view! {
        <Title text=page_title("Confirm your new email") />
        <ConfirmEmailChangeForm token />
    }
}

#[island(lazy)]
fn ConfirmEmailChangeForm(token: String) -> impl IntoView {
    enter_island();
    let (action, error) = form_action!(ConfirmEmailChange);
    view! {
        <section class="account-form">
            <h1>"Confirm your new email"</h1>
            <ActionForm action=action>
                <FormAlert error />
                <input type="hidden" name="token" value=token />
                <button type="submit" disabled=move || action.pending().get()>"Change my email"</button>
            </ActionForm>
        </section>
    }
}

/// The signed-in account (or none), loaded once per page for the header and the banner.
pub type AccountResource = Resource<Result<Option<Account>, AppError>>;

pub fn account_resource() -> AccountResource {
    // Blocking: the header is part of the first chunk of HTML, so the page hydrates in one go.
    Resource::new_blocking(|| (), |_| super::current_account())
}

/// The account part of the header: the user's email with Settings and Log out, or Register and
/// Log in. Links load whole pages so that the server decides who may see them.
#[component]
pub fn AccountNav(account: AccountResource) -> impl IntoView {
    let (log_out, _) = form_action!(LogOut);
    view! {
        <Suspense fallback=|| ()>
            {move || Suspend::new(async move {
                match account.await {
                    Ok(Some(account)) => view! {
                        <span class="account-email" data-testid="account-email" title=account.email.clone()>{account.email.clone()}</span>
                        <a href="/strategies" rel="external">"Strategies"</a>
                        <a href="/market-data" rel="external">"Market data"</a>
                        <a href="/users/settings" rel="external">"Settings"</a>
                        <ActionForm action=log_out attr:class="inline-form">
                            <button type="submit" class="link-button">"Log out"</button>
                        </ActionForm>
                    }.into_any(),
                    _ => view! {
                        <a href="/users/register" rel="external">"Register"</a>
                        <a href="/users/log-in" rel="external">"Log in"</a>
                    }.into_any(),
                }
            })}
        </Suspense>
    }
}

/// Under the header, for an unconfirmed account: a reminder with a button that sends the
/// link again.
#[component]
pub fn AccountNotices(account: AccountResource) -> impl IntoView {
    let (resend, _) = form_action!(ResendConfirmation);
    view! {
        <Suspense fallback=|| ()>
            {move || Suspend::new(async move {
                match account.await {
                    Ok(Some(account)) if !account.confirmed => Some(view! {
                        <div class="banner" role="status" data-testid="unconfirmed-banner">
                            "Please confirm your email: we sent a link to " {account.email} "."
                            <ActionForm action=resend attr:class="inline-form">
                                <button type="submit" class="link-button">"Resend the link"</button>
                            </ActionForm>
                        </div>
                    }),
                    _ => None,
                }
            })}
        </Suspense>
    }
}
