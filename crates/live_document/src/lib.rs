//! The pure core of live co-editing with `@codemirror/collab`, where the server is the authority.
//!
//! The authority never transforms changes: it parses a CodeMirror `ChangeSet` in its JSON form,
//! checks that it fits the document at the version it was made on, applies it in UTF-16 code
//! units as CodeMirror counts them, and keeps the limits (size, no U+0000). The socket's frames
//! are here too, so the server and its tests share one definition of the wire.
//!
//! No web, database, async or I/O dependency: the app's socket, rooms and repository build on it.

pub mod changes;
pub mod document;
pub mod error;
pub mod frames;
pub mod limits;
pub mod text;

pub use changes::ChangeSet;
pub use document::{Document, Notation};
pub use error::ChangeError;
pub use frames::{ClientFrame, FrameError, ServerFrame};
pub use limits::{check_text, DOCUMENT_LIMIT_BYTES};
pub use text::{normalize_seed, utf16_len};
