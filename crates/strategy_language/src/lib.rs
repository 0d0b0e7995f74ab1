//! The strategy language engine: parses YAML and TOML strategy documents into the typed model,
//! validates them, runs the syntax test and edits documents in place. Pure code, no I/O and no
//! web or database dependency (the compiler holds it to that: this crate depends on none), so
//! the browser editor, the server and the command line share it.
//!
//! The modules are declared in layers; each imports only from the layers above it, so the
//! engine has no import cycle and each layer can be read without the ones below.

// Leaves: places in the text and diagnostics, the language's names, "did you mean".
pub mod names;
pub mod size;
pub mod span;
pub mod suggestion;

// The indicator registry and the values its parameters take.
pub mod indicators;

// Conditions: syntax tree, parser, printer, type checker.
pub mod expression;

// The typed strategy a document describes.
pub mod model;

// YAML and TOML text as one spanned tree.
pub mod document;

// Document to model with every diagnostic.
pub mod validate;

// What builds on validation: the syntax test, edits in place, writing and comparing models.
pub mod assist;
pub mod changes;
pub mod edit;
pub mod syntax_test;
pub mod writer;

pub use changes::{describe_changes, Change};
pub use edit::{
    apply_edit, condition_clauses, ConditionField, Connective, Edit, EditError, EditValue,
};
pub use model::{Diagnostic, Format, Severity, Span, Strategy};
pub use syntax_test::{syntax_test, SyntaxReport};

pub use validate::{validate, Validation};
pub use writer::write_document;
