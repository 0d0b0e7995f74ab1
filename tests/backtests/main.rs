//! The backtest engine from outside: against the TA-Lib and backtesting.py references
//! (`engine`) and through the real binary's commands (`command`). One test binary, since each
//! binary links the whole app.

mod command;
mod engine;
