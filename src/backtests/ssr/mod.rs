//! The backtest engine's server-side parts: the command line, which reads files.

pub mod command;
