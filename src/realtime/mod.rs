//! Realtime: events that one server process announces and every process hears. An event is
//! published with Postgres `NOTIFY` (so it commits with the transaction that caused it) and
//! heard through one listener per process, the [`RealtimeHub`], which hands it, typed, to
//! whoever subscribed. Features define their events; this module knows none of them.

#[cfg(feature = "ssr")]
mod hub;

#[cfg(feature = "ssr")]
pub use hub::{publish, RealtimeHub, Subscription};

/// An event that travels through one `NOTIFY` channel as a small text payload.
pub trait RealtimeEvent: Sized + Send + 'static {
    /// The Postgres channel; every process listens to the channels the server declares.
    const CHANNEL: &'static str;

    fn to_payload(&self) -> String;

    /// `None` for a payload this event cannot read (logged and skipped by the subscriber).
    fn from_payload(payload: &str) -> Option<Self>;
}

/// An event whose payload is its JSON form: the usual case, so such events name only their
/// channel.
pub trait JsonEvent: serde::Serialize + serde::de::DeserializeOwned + Send + 'static {
    const CHANNEL: &'static str;
}

impl<T: JsonEvent> RealtimeEvent for T {
    const CHANNEL: &'static str = <T as JsonEvent>::CHANNEL;

    fn to_payload(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }

    fn from_payload(payload: &str) -> Option<Self> {
        serde_json::from_str(payload).ok()
    }
}
