//! The web plumbing every feature shares: where a successful form leads ([`Navigation`]),
//! the form pieces of the views (`forms`), what every island of a page does first (`islands`), and, on the server, what a server function reads
//! from the request it serves (`server_context`) and the metrics it records (`instruments`).

pub mod forms;
#[cfg(feature = "ssr")]
pub mod instruments;
pub mod islands;
pub mod ping;
#[cfg(feature = "ssr")]
pub mod server_context;

use serde::{Deserialize, Serialize};

/// Where the browser goes after a form succeeded: a plain form post gets it as a redirect,
/// a form sent by the hydrated page loads it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Navigation {
    pub to: String,
}

/// Who may open the pages under a path prefix. Each feature declares its own; the accounts
/// feature enforces them on every page load (the longest matching prefix decides).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PageRule {
    pub prefix: &'static str,
    pub access: PageAccess,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PageAccess {
    /// Guests are sent to log in, and back afterwards.
    SignedIn,
    /// Signed-in users are sent to their home page (log in, register, reset).
    Guests,
    /// Everyone (a more specific exception inside a protected prefix).
    Anyone,
}

impl PageRule {
    pub const fn new(prefix: &'static str, access: PageAccess) -> Self {
        PageRule { prefix, access }
    }
}

/// What `rules` say about `path`: the rule with the longest prefix that `path` is under.
pub fn page_access(rules: &[PageRule], path: &str) -> PageAccess {
    rules
        .iter()
        .filter(|rule| {
            path == rule.prefix
                || path
                    .strip_prefix(rule.prefix)
                    .is_some_and(|rest| rest.starts_with('/'))
        })
        .max_by_key(|rule| rule.prefix.len())
        .map_or(PageAccess::Anyone, |rule| rule.access)
}
