//! The backtest engine's server-side parts: the command line (which reads files), the
//! `candles` table, its import and the sample data a fresh install starts with.

pub mod command;
pub mod import;
pub mod repository;
pub mod sample_data;
