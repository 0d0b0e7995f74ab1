//! The realtime events of accounts: a user signed out everywhere (password changed or reset:
//! whatever holds that user's websockets closes them), one of a user's sessions ended (its
//! row or token was deleted, announced by the database itself: each of that user's websockets
//! checks its own session), and mail queued (wakes the sender of whichever server process
//! hears it first).

use crate::accounts::UserId;
use crate::realtime::RealtimeEvent;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SignedOutEverywhere {
    pub user_id: UserId,
}

impl RealtimeEvent for SignedOutEverywhere {
    const CHANNEL: &'static str = "user_signed_out";

    fn to_payload(&self) -> String {
        self.user_id.to_string()
    }

    fn from_payload(payload: &str) -> Option<Self> {
        payload
            .parse()
            .ok()
            .map(|user_id| SignedOutEverywhere { user_id })
    }
}

/// Published by a trigger on `sessions` and `users_tokens` (migration
/// `create_live_connections`), whatever deleted the row.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SessionEnded {
    pub user_id: UserId,
}

impl RealtimeEvent for SessionEnded {
    const CHANNEL: &'static str = "session_ended";

    fn to_payload(&self) -> String {
        self.user_id.to_string()
    }

    fn from_payload(payload: &str) -> Option<Self> {
        payload.parse().ok().map(|user_id| SessionEnded { user_id })
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MailQueued;

impl RealtimeEvent for MailQueued {
    const CHANNEL: &'static str = "mail_queued";

    fn to_payload(&self) -> String {
        String::new()
    }

    fn from_payload(_: &str) -> Option<Self> {
        Some(MailQueued)
    }
}
