//! The `kpiflow` binary: parse the command line, resolve settings, run one command, and map the
//! outcome to an exit code (0 success, 1 user error, 2 internal error).

mod cli;
mod commands;
mod output;

use std::process::ExitCode;

use clap::Parser;

use crate::cli::{Cli, Command};

/// An error the user can fix (bad input, unknown name): exit 1.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct UserError(pub String);

/// `kpiflow alerts` found rules that fire: exit 3, the output already lists them.
#[derive(Debug, thiserror::Error)]
#[error("{0} alert(s) fired")]
pub struct AlertsFired(pub usize);

/// A run that finished but must report failure, such as `tables --check --strict` with warnings:
/// exit 1, the output already says why.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct Unsuccessful(pub String);

fn main() -> ExitCode {
    let cli = Cli::parse();
    // Cluster processes say what they do (listening, executors registering, jobs).
    let default_log = match cli.command {
        // (Ballista 55 logs a harmless metrics mismatch of its plan display as an error.)
        Command::Cluster(_) => {
            "warn,ballista_scheduler=info,ballista_executor=info,ballista_scheduler::display=off"
        }
        _ => "warn",
    };
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("KPIFLOW_LOG")
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default_log)),
        )
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .init();
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::from(2);
        }
    };
    let result = runtime.block_on(run(cli));
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            let code = exit_code(&e);
            if e.downcast_ref::<AlertsFired>().is_some() {
                return ExitCode::from(3);
            }
            if e.downcast_ref::<Unsuccessful>().is_none() {
                if code == 2 {
                    eprintln!("internal error: {e:#}");
                    eprintln!(
                        "(this is a bug or an environment problem; KPIFLOW_LOG=debug shows more)"
                    );
                } else {
                    eprintln!("error: {e:#}");
                }
            }
            ExitCode::from(code)
        }
    }
}

async fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        Command::Init(args) => commands::init::run(&cli.project, args),
        Command::Import(args) => commands::import::run(&cli.project, cli.quiet, args).await,
        Command::Presets(args) => commands::presets::run(args),
        Command::Tables(args) => commands::tables::run(&cli.project, args).await,
        Command::Export(args) => commands::export::run(&cli.project, args).await,
        Command::Kpis(args) => commands::kpis::run(&cli.project, args),
        Command::Sql(args) => commands::sql::run(&cli.project, args).await,
        Command::Report(args) => commands::report::run(&cli.project, args).await,
        Command::Funnel(args) => commands::funnel::run(&cli.project, args).await,
        Command::Attribution(args) => commands::attribution::run(&cli.project, args).await,
        Command::Links(command) => commands::links::run(&cli.project, command).await,
        Command::Goals(args) => commands::goals::run(&cli.project, args).await,
        Command::Plan(args) => commands::plan::run(&cli.project, args).await,
        Command::Diagnose(args) => commands::diagnose::run(&cli.project, args).await,
        Command::Alerts(args) => commands::alerts::run(&cli.project, cli.quiet, args).await,
        Command::Generate(args) => commands::generate::run(cli.quiet, args),
        Command::Serve(args) => commands::serve::run(&cli.project, args).await,
        Command::Demo(args) => commands::demo::run(cli.quiet, args).await,
        Command::Cluster(command) => commands::cluster::run(cli.quiet, command).await,
    }
}

/// 1 for errors the user can fix, 2 for everything else.
fn exit_code(e: &anyhow::Error) -> u8 {
    let user = e.chain().any(|cause| {
        cause.is::<UserError>()
            || cause.is::<Unsuccessful>()
            || cause.is::<kpiflow_model::ConfigError>()
            || cause.is::<kpiflow_model::TomlError>()
            || cause.is::<kpiflow_model::UnknownName>()
            || cause.is::<kpiflow_catalog::CatalogError>()
            || cause.is::<kpiflow_catalog::channels::ChannelConfigError>()
            || cause
                .downcast_ref::<kpiflow_engine::EngineError>()
                .is_some_and(|e| e.is_user_error())
            || cause.downcast_ref::<kpiflow_store::ImportError>().is_some_and(|e| e.is_user_error())
            || cause.downcast_ref::<kpiflow_store::StoreError>().is_some_and(|e| e.is_user_error())
            || cause.downcast_ref::<kpiflow_store::LinkError>().is_some_and(|e| e.is_user_error())
            || cause
                .downcast_ref::<kpiflow_cluster::ClusterError>()
                .is_some_and(|e| e.is_user_error())
            || cause
                .downcast_ref::<kpiflow_generate::GenerateError>()
                .is_some_and(|e| matches!(e, kpiflow_generate::GenerateError::InvalidOption { .. }))
    });
    if user { 1 } else { 2 }
}

#[cfg(test)]
mod reference_docs {
    use clap::CommandFactory;

    /// `docs/cli.md`, generated from the command definitions.
    fn cli_reference() -> String {
        let mut root = crate::Cli::command().term_width(100);
        let mut out = String::from(
            "# kpiflow command line\n\nGenerated from the code (`crates/kpiflow-cli/src/cli.rs`); \
             `KPIFLOW_BLESS=1 cargo test --release -p kpiflow reference_docs` rewrites it.\n\n",
        );
        out.push_str(&format!("## kpiflow\n\n```text\n{}\n```\n", root.render_long_help()));
        let names: Vec<String> = root.get_subcommands().map(|c| c.get_name().to_owned()).collect();
        for name in names {
            if let Some(sub) = root.find_subcommand_mut(&name) {
                let help = sub.clone().bin_name(format!("kpiflow {name}")).render_long_help();
                out.push_str(&format!("\n## kpiflow {name}\n\n```text\n{help}\n```\n"));
            }
        }
        out
    }

    #[test]
    fn cli_reference_is_up_to_date() {
        check_doc("docs/cli.md", &cli_reference());
    }

    #[test]
    fn kpi_reference_is_up_to_date() {
        let catalog = kpiflow_catalog::Catalog::builtin().expect("the built-in catalog loads");
        check_doc("docs/kpis.md", &catalog.reference_markdown());
    }

    #[test]
    fn attribution_reference_is_up_to_date() {
        check_doc("docs/attribution.md", &kpiflow_attribution::reference_markdown());
    }

    #[test]
    fn preset_reference_is_up_to_date() {
        check_doc("docs/presets.md", &kpiflow_store::presets::reference_markdown());
    }

    #[test]
    fn schema_reference_is_up_to_date() {
        check_doc("docs/schema.md", &kpiflow_model::schema::schema_markdown());
    }

    /// Compares a checked-in reference with what the code generates; `KPIFLOW_BLESS=1` rewrites it.
    fn check_doc(relative: &str, generated: &str) {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../..").join(relative);
        if std::env::var_os("KPIFLOW_BLESS").is_some() {
            std::fs::write(&path, generated).expect("write the reference");
            return;
        }
        let current = std::fs::read_to_string(&path).unwrap_or_default();
        assert!(
            current == generated,
            "{relative} is out of date; run `KPIFLOW_BLESS=1 cargo test --release -p kpiflow \
             reference_docs` and commit it"
        );
    }
}
