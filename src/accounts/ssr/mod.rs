//! The server side of accounts, and what the composition root (`server`) needs from it: its
//! routes, its layers (sessions, page access), its background tasks and its realtime
//! channels.

pub mod background;
pub mod credentials;
pub mod events;
pub mod flows;
pub mod mail;
pub mod mailbox;
pub mod page_access;
pub mod password_hashing;
pub mod rate_limits;
pub mod repository;
pub mod request;
pub mod sessions;
pub mod tokens;

use crate::realtime::RealtimeEvent;

pub use background::{spawn_background, UpkeepIntervals};
pub use mailbox::routes;
pub use page_access::{guard_pages, PageGuard, PAGE_RULES};
pub use sessions::{cookie_name as session_cookie_name, layer as session_layer};

/// The `NOTIFY` channels accounts publishes on and listens to.
pub const REALTIME_CHANNELS: &[&str] = &[
    events::SignedOutEverywhere::CHANNEL,
    events::SessionEnded::CHANNEL,
    events::MailQueued::CHANNEL,
];
