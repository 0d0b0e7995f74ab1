//! Account mail: the messages (plain text and HTML), the queue in `mail_outbox`, and the
//! background sender that delivers through SMTP (STARTTLS with credentials), retrying failed
//! sends with back-off. A request only queues its mail, so sending never delays it. Without
//! `SMTP_HOST` outside production, queued mail is what `/dev/mailbox` shows.

use std::{sync::Arc, time::Duration};

use lettre::{
    message::{Mailbox, MultiPart},
    transport::smtp::authentication::Credentials,
    AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor,
};
use sqlx::PgPool;

use super::{credentials::mask_email, events::MailQueued, repository};
use crate::{
    config::Settings,
    error::AppError,
    realtime::{self, Subscription},
    state::AppState,
};

/// After this many failed attempts a mail is marked failed (and logged as an error).
const MAX_ATTEMPTS: i32 = 8;
const BATCH: i64 = 10;

pub struct Mail {
    pub to: String,
    pub subject: String,
    pub text: String,
    pub html: String,
}

pub fn escape_html(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&#39;")
}

/// A message with one link: the text says it, the HTML shows it as a link.
fn mail_with_link(to: &str, subject: &str, lead: &str, url: &str, closing: &str) -> Mail {
    let text = format!("Hi {to},\n\n{lead}\n\n{url}\n\n{closing}\n");
    let html = format!(
        "<p>Hi {to},</p><p>{lead}</p><p><a href=\"{url}\">{url}</a></p><p>{closing}</p>",
        to = escape_html(to),
        lead = escape_html(lead),
        url = escape_html(url),
        closing = escape_html(closing),
    );
    Mail {
        to: to.into(),
        subject: subject.into(),
        text,
        html,
    }
}

pub fn confirmation_mail(to: &str, url: &str) -> Mail {
    mail_with_link(
        to,
        "Confirm your email",
        "You can confirm your account by visiting the link below (it works for 7 days):",
        url,
        "If you didn't create an account with us, please ignore this.",
    )
}

/// To the owner of an address that someone tried to register again: no link that acts, only
/// where to go.
pub fn already_registered_notice(to: &str, log_in_url: &str, reset_url: &str) -> Mail {
    let lead = "Someone tried to register a Trading Strategy Platform account with your email. \
                You already have an account: log in, or reset your password if you forgot it.";
    let closing = "If this wasn't you, you can ignore this; nothing changed.";
    Mail {
        to: to.into(),
        subject: "Someone tried to register with your email".into(),
        text: format!(
            "Hi {to},\n\n{lead}\n\nLog in: {log_in_url}\nReset your password: {reset_url}\n\n{closing}\n"
        ),
        html: format!(
            "<p>Hi {}</p><p>{}</p><p><a href=\"{}\">Log in</a> · <a href=\"{}\">Reset your password</a></p><p>{}</p>",
            escape_html(to),
            escape_html(lead),
            escape_html(log_in_url),
            escape_html(reset_url),
            escape_html(closing)
        ),
    }
}

pub fn reset_password_mail(to: &str, url: &str) -> Mail {
    mail_with_link(
        to,
        "Reset your password",
        "You can reset your password by visiting the link below (it works for 30 minutes):",
        url,
        "If you didn't request this change, please ignore this.",
    )
}

pub fn change_email_mail(to: &str, url: &str) -> Mail {
    mail_with_link(
        to,
        "Confirm your new email",
        "You can change your email by visiting the link below (it works for 1 day):",
        url,
        "If you didn't request this change, please ignore this.",
    )
}

pub fn email_change_notice(old_address: &str, new_address: &str) -> Mail {
    let lead = format!(
        "Someone asked to change the email of your Trading Strategy Platform account to {}. \
         It changes only when the link sent to that address is followed.",
        mask_email(new_address)
    );
    let closing = "If this wasn't you, change your password now.";
    Mail {
        to: old_address.into(),
        subject: "Your email is about to change".into(),
        text: format!("Hi {old_address},\n\n{lead}\n\n{closing}\n"),
        html: format!(
            "<p>Hi {}</p><p>{}</p><p>{}</p>",
            escape_html(old_address),
            escape_html(&lead),
            escape_html(closing)
        ),
    }
}

/// Queues `mail` and wakes a sender (on whichever server hears it first); never waits for SMTP.
pub async fn queue(state: &AppState, mail: Mail) -> Result<(), AppError> {
    repository::enqueue_mail(&state.pool, &mail.to, &mail.subject, &mail.text, &mail.html).await?;
    realtime::publish(&state.pool, &MailQueued).await?;
    Ok(())
}

type Transport = AsyncSmtpTransport<Tokio1Executor>;

fn transport(settings: &Settings) -> anyhow::Result<Option<Transport>> {
    let Some(smtp) = &settings.smtp else {
        return Ok(None);
    };
    let builder = if smtp.starttls {
        Transport::starttls_relay(&smtp.host)?
    } else {
        Transport::builder_dangerous(&smtp.host)
    };
    let mut builder = builder
        .port(smtp.port)
        .timeout(Some(Duration::from_secs(15)));
    if let (Some(username), Some(password)) = (&smtp.username, &smtp.password) {
        builder = builder.credentials(Credentials::new(
            username.clone(),
            password.expose().to_string(),
        ));
    }
    Ok(Some(builder.build()))
}

fn message(settings: &Settings, mail: &repository::QueuedMail) -> anyhow::Result<Message> {
    let from = Mailbox::new(
        Some(settings.mailer_from_name.clone()),
        settings.mailer_from_email.parse()?,
    );
    Ok(Message::builder()
        .from(from)
        .to(mail.to_address.parse()?)
        .subject(mail.subject.clone())
        .multipart(MultiPart::alternative_plain_html(
            mail.text_body.clone(),
            mail.html_body.clone(),
        ))?)
}

/// Delivers queued mail until the process ends: woken by `queue`, and every `poll` for retries.
pub async fn run_sender(
    pool: PgPool,
    settings: Arc<Settings>,
    mut queued: Subscription<MailQueued>,
    poll: Duration,
) {
    let transport = match transport(&settings) {
        Ok(Some(transport)) => transport,
        Ok(None) => {
            if settings.is_production() {
                tracing::error!("SMTP_HOST is not set: account mail stays queued in mail_outbox");
            }
            return;
        }
        Err(error) => {
            tracing::error!(%error, "the SMTP settings are unusable: account mail stays queued");
            return;
        }
    };
    loop {
        loop {
            match deliver_due_mail(&pool, &settings, &transport).await {
                Ok(0) => break,
                Ok(_) => continue,
                Err(error) => {
                    tracing::error!(error = %error, "the mail queue could not be read");
                    break;
                }
            }
        }
        tokio::select! {
            _ = queued.recv() => {}
            _ = tokio::time::sleep(poll) => {}
        }
    }
}

/// One batch: returns how many mails were attempted.
async fn deliver_due_mail(
    pool: &PgPool,
    settings: &Settings,
    transport: &Transport,
) -> Result<usize, AppError> {
    let mut transaction = pool.begin().await?;
    let due = repository::claim_due_mail(&mut transaction, BATCH).await?;
    for mail in &due {
        let to = mask_email(&mail.to_address);
        let outcome = match message(settings, mail) {
            Ok(message) => transport
                .send(message)
                .await
                .map(|_| ())
                .map_err(|e| e.to_string()),
            Err(error) => Err(error.to_string()),
        };
        match outcome {
            Ok(()) => {
                repository::mark_mail_sent(&mut transaction, mail.id).await?;
                crate::web::instruments::mail_sent();
                tracing::info!(mail_id = mail.id, %to, subject = %mail.subject, "mail sent");
            }
            Err(error) => {
                crate::web::instruments::mail_failed();
                let attempt = mail.attempts + 1;
                let retry_in = (attempt < MAX_ATTEMPTS)
                    .then(|| Duration::from_secs(2u64.pow(attempt as u32).min(3600)));
                repository::mark_mail_attempt_failed(&mut transaction, mail.id, &error, retry_in)
                    .await?;
                match retry_in {
                    Some(delay) => {
                        tracing::warn!(mail_id = mail.id, %to, attempt, %error, retry_in_secs = delay.as_secs(), "mail not sent; will retry")
                    }
                    None => {
                        tracing::error!(mail_id = mail.id, %to, attempt, %error, "mail not sent; gave up after every retry")
                    }
                }
            }
        }
    }
    transaction.commit().await?;
    Ok(due.len())
}
