//! Integration tests: the real app on a random port, against real Postgres, one fresh
//! database per test.

mod harness;

mod hostile;

mod accounts;

mod authorization_sweep;
mod backup_restore;
mod binary;
mod candles;
mod forms;

mod health;
mod leptos_config;
mod market_data;
mod metrics;
mod migrations;
mod nul_characters;
mod pages;
mod ping;
mod release_layout;
mod requests;
mod static_files;
mod strategies;
mod timeouts;
