//! The `cdconcerns` command: serve, migrate, demo and the operator's commands (SPEC §8).

use std::io::{IsTerminal, Read};
use std::process::ExitCode;

use anyhow::Context;
use clap::{Parser, Subcommand};
use tokio::net::TcpListener;

use cdconcerns::config::Config;
use cdconcerns::{audit, demo, directory, startup, telemetry};

/// mimalloc, not the system allocator: a fifth of the service's CPU for a page of the case list
/// was allocating, freeing and copying. Measured on 1 M cases at 32 clients, alternating: case
/// lists 2,005-2,051 a second with the system allocator, 2,352-2,415 with mimalloc; case pages
/// 3,030-3,079 and 3,504-3,532. It keeps more freed memory for reuse: resident memory after a
/// burst of sign-ins 80 MB rather than 62 (the bar is 100; `bench/signin-burst.sh`).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[derive(Parser)]
#[command(
    name = "cdconcerns",
    version,
    about = "CD Concerns: controlled drug concerns for NHS England LIN areas"
)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Serve the service (the default).
    Serve,
    /// Apply the database migrations and exit.
    Migrate,
    /// Serve a seeded demo (areas, organisations, one user per role) and print how to sign in.
    Demo,
    /// Administrator accounts.
    Admin {
        #[command(subcommand)]
        command: AdminCommand,
    },
    /// API tokens.
    Token {
        #[command(subcommand)]
        command: TokenCommand,
    },
    /// The audit trail.
    Audit {
        #[command(subcommand)]
        command: AuditCommand,
    },
    /// Removal of data past its retention period.
    Retention {
        #[command(subcommand)]
        command: RetentionCommand,
    },
}

#[derive(Subcommand)]
enum AdminCommand {
    /// Create an administrator. With a password on standard input it is set; otherwise a
    /// one-time invitation link is printed.
    Create {
        #[arg(long)]
        email: String,
        #[arg(long, default_value = "Service administrator")]
        name: String,
    },
}

#[derive(Subcommand)]
enum TokenCommand {
    /// Issue an API token for a user; prints only the token.
    Issue {
        #[arg(long)]
        email: String,
        #[arg(long, default_value_t = 30)]
        days: i64,
    },
}

#[derive(Subcommand)]
enum AuditCommand {
    /// Verify the hash chain; exits non-zero naming the first broken event.
    Verify,
}

#[derive(Subcommand)]
enum RetentionCommand {
    /// Remove expired sessions, invitations and tokens.
    Run {
        #[arg(long)]
        dry_run: bool,
    },
}

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    let config = match Config::from_env() {
        Ok(c) => c,
        Err(e) => {
            eprintln!("cdconcerns: {e}");
            return ExitCode::from(2);
        }
    };
    telemetry::init(config.log_format);
    match run(cli.command.unwrap_or(Command::Serve), config).await {
        Ok(code) => code,
        Err(e) => {
            eprintln!("cdconcerns: {e:#}");
            ExitCode::FAILURE
        }
    }
}

async fn run(command: Command, config: Config) -> anyhow::Result<ExitCode> {
    match command {
        Command::Serve => {
            let keys = startup::keys(&config, false, false)?;
            let started = std::time::Instant::now();
            let pool = startup::database(&config).await?;
            let listener = TcpListener::bind(config.bind)
                .await
                .with_context(|| format!("binding {}", config.bind))?;
            tracing::info!(ms = started.elapsed().as_millis() as u64, "ready");
            startup::serve(startup::state(pool, config, &keys), listener).await?;
        }
        Command::Migrate => {
            let url = startup::database_url(&config).await?;
            startup::migrate(&url).await?;
            println!("Migrations applied.");
        }
        Command::Demo => {
            let keys = startup::keys(&config, true, true)?;
            let pool = startup::database(&config).await?;
            let listener = TcpListener::bind(config.bind)
                .await
                .with_context(|| format!("binding {}", config.bind))?;
            let password = config.demo_password.as_ref().map(|p| p.expose().clone());
            let creds_file = config.data_dir.join("demo-credentials.json");
            let url = config.public_url.clone();
            let state = startup::state(pool, config, &keys);
            let users = demo::seed(&state, password.as_deref()).await?;
            demo::print_banner(&url, &users, &creds_file);
            startup::serve(state, listener).await?;
        }
        Command::Admin {
            command: AdminCommand::Create { email, name },
        } => {
            let keys = startup::keys(&config, true, false)?;
            let pool = startup::database(&config).await?;
            let state = startup::state(pool, config, &keys);
            let password = if std::io::stdin().is_terminal() {
                None
            } else {
                let mut s = String::new();
                std::io::stdin().read_to_string(&mut s)?;
                let s = s.trim_end_matches(['\r', '\n']).to_string();
                (!s.is_empty()).then_some(s)
            };
            let outcome = directory::create_first_admin(&state, &email, &name, password).await?;
            println!("{outcome}");
        }
        Command::Token {
            command: TokenCommand::Issue { email, days },
        } => {
            let keys = startup::keys(&config, true, false)?;
            let pool = startup::database(&config).await?;
            let state = startup::state(pool, config, &keys);
            let token = directory::operator_token(&state, &email, days).await?;
            println!("{token}");
        }
        Command::Audit {
            command: AuditCommand::Verify,
        } => {
            let url = startup::database_url(&config).await?;
            let pool = startup::connect(&url, 2).await?;
            let v = audit::verify(&pool).await?;
            if v.ok {
                println!(
                    "The audit trail is intact: {} events checked.",
                    v.events_checked
                );
            } else {
                println!(
                    "The audit trail is BROKEN: {} events checked; first broken event {}{}.",
                    v.events_checked,
                    v.first_broken_event_id
                        .map(|i| i.to_string())
                        .unwrap_or_else(|| "(end of a chain)".into()),
                    v.problem.map(|p| format!(": {p}")).unwrap_or_default()
                );
                return Ok(ExitCode::from(1));
            }
        }
        Command::Retention {
            command: RetentionCommand::Run { dry_run },
        } => {
            let url = startup::database_url(&config).await?;
            let pool = startup::connect(&url, 2).await?;
            let periods = config.retention();
            match cdconcerns::retention::run(&pool, periods, chrono::Utc::now(), dry_run).await? {
                Some(report) => println!("{report}"),
                None => {
                    eprintln!("Another instance is running retention now: nothing was done.");
                    return Ok(ExitCode::from(1));
                }
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}
