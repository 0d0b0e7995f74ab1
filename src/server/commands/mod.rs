//! The command line's commands other than serving and migrating: checking strategy files,
//! backtesting a file on a CSV, listing indicator values, importing candles. Each reads files
//! and prints, composing the pure crates with the market data store.

pub mod backtest;
pub mod check;
pub mod import_candles;
