//! The pages and frame every visitor sees: layout, home page, 404 and error panels.

pub mod home;
pub mod layout;
pub mod not_found;
pub mod problem;
