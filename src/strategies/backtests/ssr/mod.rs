//! A run's server side: the flows of its server functions and its CSV download (`flows`), the
//! `backtest_runs` table with its fair claims (`queue`), and the worker that claims runs and
//! runs the engine on its own threads (`worker`).

pub mod flows;
pub mod queue;
pub mod worker;
