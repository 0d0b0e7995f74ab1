//! Live co-editing: every open editor of a saved strategy types into one shared document,
//! with Postgres as the authority (`authority`), one socket per editor (`socket`) and the
//! notices every server copy relays (`events`). The pure part (change sets, limits, frames)
//! is the `live_document` crate.

pub mod authority;
pub mod events;
pub mod flows;
pub mod socket;

/// Where an editor's socket into strategy `{id}`'s live document is.
pub const LIVE_DOC_ROUTE: &str = "/strategies/live/{id}";
