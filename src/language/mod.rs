//! The strategy language engine: parses YAML and TOML strategy documents into the typed model,
//! validates them, runs the syntax test and edits documents in place. Pure code, no I/O (except
//! the `check` command under `ssr`), so the browser editor and the server share it.

pub mod changes;
pub mod document;
pub mod edit;
pub mod expression;
pub mod indicators;
pub mod model;
mod position;
pub mod suggestion;
pub mod syntax_test;
pub mod validate;
pub mod writer;

#[cfg(feature = "ssr")]
pub mod check_command;

pub use changes::{describe_changes, Change};
pub use edit::{apply_edit, ConditionField, Connective, Edit, EditError, EditValue};
pub use model::{Diagnostic, Format, Severity, Span, Strategy};
pub use syntax_test::{syntax_test, SyntaxReport};

pub use validate::{validate, Validation};
pub use writer::write_document;
