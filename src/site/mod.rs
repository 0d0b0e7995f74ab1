//! The pages and frame every visitor sees: layout, home page, 404 and error panels.

pub mod home;
pub mod layout;
pub mod not_found;
pub mod problem;
pub mod strategies_placeholder;

#[cfg(feature = "ssr")]
use crate::web::{PageAccess, PageRule};

/// The site's pages that need a user: `/strategies` (the placeholder until the strategies
/// feature declares it).
#[cfg(feature = "ssr")]
pub const PAGE_RULES: &[PageRule] = &[PageRule::new("/strategies", PageAccess::SignedIn)];
