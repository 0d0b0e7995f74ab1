//! The strategy language, tested from outside its crate as the app uses it: one test binary
//! (each binary links the whole app, so the language's tests share one).

mod corpus;
mod diagnostics;
mod edits;
mod examples;
mod fixes;
mod moves;
mod properties;
mod scaling;

// The command reads files and lives in the app's composition root, built with `ssr`.
#[cfg(feature = "ssr")]
mod check_command;
