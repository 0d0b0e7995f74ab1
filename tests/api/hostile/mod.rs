//! Hostile input: one test per finding of the review that bounded every request, socket and
//! job (docs/SECURITY-TESTS.md lists them). Each asserts the bound itself (the size of an
//! answer, what the database holds, a deadline met, a sentence given), never a timing of the
//! machine, and each fails on the code before the bound.

mod backtests;
mod documents;
mod quotas;
mod requests;
mod sockets;
mod uploads;
