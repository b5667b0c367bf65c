//! The binary: parse the command line, load config, start telemetry, run the subcommand.

use std::process::ExitCode;
use std::sync::Arc;

use alipay_gateway::app::{self, AppState};
use alipay_gateway::cli::{self, Cli, Command};
use alipay_gateway::config::{self, Config};
use alipay_gateway::store::{self, DefaultStore};
use alipay_gateway::telemetry;
use clap::Parser;

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    let cli = Cli::parse();
    let outcome = match &cli.command {
        Command::Serve(args) => {
            telemetry::init(cli.log_json);
            for warning in config::unrecognised_env(std::env::vars()) {
                tracing::warn!("{warning}");
            }
            run_server(args)
        }
        Command::CheckConfig(args) => cli::check_config(args),
        Command::Migrate(args) => {
            telemetry::init(cli.log_json);
            migrate(args)
        }
        Command::Keygen(args) => cli::keygen(args),
        Command::Sign(args) => cli::sign(args),
        Command::Verify(args) => cli::verify(args),
        Command::Conform(args) => cli::conform(args),
        Command::Recordings(args) => cli::recordings(args),
        Command::Drift(args) => cli::drift(args),
    };
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("alipay-gateway: {message}");
            ExitCode::FAILURE
        }
    }
}

// The binary's boundary: these errors are the final message `main` prints, so they stay text.
fn runtime() -> Result<tokio::runtime::Runtime, String> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| format!("cannot start the runtime: {e}"))
}

/// The configuration `args` names, and its store opened and migrated.
async fn open(args: &cli::ConfigArg) -> Result<(Config, Arc<dyn DefaultStore>), String> {
    let config =
        Config::load(args.config.as_deref()).map_err(|e| format!("invalid configuration: {e}"))?;
    let store = store::connect(&config.settings.store)
        .await
        .map_err(|e| format!("cannot open the store: {e}"))?;
    Ok((config, store))
}

fn migrate(args: &cli::ConfigArg) -> Result<(), String> {
    runtime()?.block_on(async {
        let (_, store) = open(args).await?;
        println!("{} store is up to date", store.backend());
        Ok(())
    })
}

fn run_server(args: &cli::ConfigArg) -> Result<(), String> {
    runtime()?.block_on(async {
        let (config, store) = open(args).await?;
        let listener = tokio::net::TcpListener::bind(config.listen)
            .await
            .map_err(|e| format!("cannot listen on {}: {e}", config.listen))?;
        let address = listener.local_addr().map_err(|e| e.to_string())?;
        let token_source = admin_token_source(&config);
        let state = AppState::new(config, store);
        // Everything that can fail at start-up fails before the line a CI job waits for.
        app::notification_worker(&state)
            .map_err(|e| format!("cannot start the notification sender: {e}"))?;
        tracing::info!(
            address = %address,
            store = state.store.backend(),
            clients = state.config.clients.len(),
            admin_token = token_source,
            "alipay-gateway listening"
        );
        app::serve(listener, state, shutdown_signal())
            .await
            .map_err(|e| format!("server failed: {e}"))
    })
}

/// Where the admin token came from, for the start-up line (never the token itself).
fn admin_token_source(config: &Config) -> &'static str {
    if config.admin_token.is_none() {
        "off"
    } else if std::env::var_os("GATEWAY_ADMIN__TOKEN").is_some() {
        "environment"
    } else if config.settings.admin.token.starts_with("file:") {
        "file"
    } else {
        "config"
    }
}

/// Completes on Ctrl-C or SIGTERM.
async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        if let Ok(mut s) = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        {
            s.recv().await;
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
    tracing::info!("shutting down");
}
