//! The `trading_strategy` binary: serve the app, manage migrations, and run the offline tools.

use std::process::ExitCode;

use clap::Parser;
use trading_strategy::{
    config::{self, Settings},
    market_data::ssr::load_sample_data_if_empty,
    server::{
        cli::{Cli, Command},
        database, http, telemetry,
    },
};

/// Each password hash (argon2) takes a 19 MiB block. glibc serves a block that large with its
/// own mapping and unmaps it when freed, but after the first such free it raises that threshold
/// to the block's size, so later blocks come from its arenas and stay resident: measured at
/// 2.2 GB after 400 log-ins (`scripts/bench/live`). A fixed threshold keeps every block mapped
/// on its own, so the memory returns to the system after each log-in.
fn give_large_allocations_back() {
    #[cfg(target_env = "gnu")]
    // SAFETY: mallopt only changes an allocator parameter, under the allocator's own lock;
    // it touches no memory of ours, and a parameter it does not know is ignored.
    unsafe {
        libc::mallopt(libc::M_MMAP_THRESHOLD, 1024 * 1024);
    }
}

#[tokio::main]
async fn main() -> ExitCode {
    // Offline tools run without any configuration.
    let command = match Cli::parse().command.unwrap_or(Command::Serve) {
        Command::GenSecret => {
            println!("{}", config::generate_secret_key_base());
            return ExitCode::SUCCESS;
        }
        Command::Check {
            json,
            explain,
            files,
        } => {
            let status = trading_strategy::server::commands::check::run_check(
                &files,
                json,
                explain,
                &mut std::io::stdout().lock(),
            );
            return ExitCode::from(u8::try_from(status).unwrap_or(1));
        }
        Command::Backtest(args) => {
            let status = trading_strategy::server::commands::backtest::run_backtest_command(
                &args,
                &mut std::io::stdout().lock(),
                &mut std::io::stderr().lock(),
            );
            return ExitCode::from(u8::try_from(status).unwrap_or(1));
        }
        Command::Indicators(args) => {
            let status = trading_strategy::server::commands::backtest::run_indicators_command(
                &args,
                &mut std::io::stdout().lock(),
                &mut std::io::stderr().lock(),
            );
            return ExitCode::from(u8::try_from(status).unwrap_or(1));
        }
        command => command,
    };
    let settings = match Settings::from_env() {
        Ok(settings) => settings,
        Err(error) => {
            eprintln!("{error}");
            return ExitCode::FAILURE;
        }
    };
    if let Err(error) = telemetry::init(&settings) {
        eprintln!("{error:#}");
        return ExitCode::FAILURE;
    }
    match run(command, settings).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            tracing::error!(error = format!("{error:#}"), "stopped with an error");
            eprintln!("error: {error:#}");
            ExitCode::FAILURE
        }
    }
}

async fn run(command: Command, settings: Settings) -> anyhow::Result<()> {
    match command {
        Command::Serve => {
            give_large_allocations_back();
            http::serve(settings).await
        }
        Command::Migrate => {
            let url = settings.database_url.expose();
            if database::create_database_if_missing(url).await? {
                println!("created the database");
            }
            let pool = database::connect_url(url, 2).await?;
            database::migrate(&pool).await?;
            for migration in database::migration_statuses(&pool).await? {
                println!("up    {} {}", migration.version, migration.description);
            }
            for sample in load_sample_data_if_empty(&pool).await? {
                println!(
                    "sample data: {} {} bars of {} ({})",
                    sample.bars,
                    sample.series.timeframe.name(),
                    sample.series.pair,
                    sample.source
                );
            }
            Ok(())
        }
        Command::ImportCandles(args) => {
            let pool = database::connect_url(settings.database_url.expose(), 2).await?;
            trading_strategy::server::commands::import_candles::run_import_candles(
                &pool,
                &args,
                &mut std::io::stdout().lock(),
            )
            .await
        }
        Command::Rollback { count } => {
            let pool = database::connect_url(settings.database_url.expose(), 2).await?;
            for version in database::rollback(&pool, count).await? {
                println!("reverted {version}");
            }
            Ok(())
        }
        Command::Check { .. }
        | Command::GenSecret
        | Command::Backtest(_)
        | Command::Indicators(_) => {
            unreachable!("offline tools run before the configuration is read")
        }
        Command::Migrations => {
            let pool = database::connect_url(settings.database_url.expose(), 2).await?;
            println!("status  version         description");
            for migration in database::migration_statuses(&pool).await? {
                let status = if migration.applied { "up" } else { "down" };
                println!(
                    "{status:<7} {:<15} {}",
                    migration.version, migration.description
                );
            }
            Ok(())
        }
    }
}
