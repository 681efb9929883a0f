//! `kpiflow cluster scheduler|executor`, and `--engine` (where the engine's queries run).

use std::net::SocketAddr;

use kpiflow_cluster::{Cluster, ExecutorOptions, SchedulerAddress, SchedulerOptions};
use kpiflow_engine::Runtime;

use crate::UserError;
use crate::cli::{ClusterCommand, EngineArgs};

pub async fn run(quiet: bool, command: ClusterCommand) -> anyhow::Result<()> {
    match command {
        ClusterCommand::Scheduler(args) => {
            let options = SchedulerOptions {
                bind: super::serve::parse_addr(&args.bind, "--bind")?,
                external_host: args.external_host,
            };
            if !quiet {
                let host = match &options.external_host {
                    Some(host) => host.clone(),
                    // Listening on every interface: clients use one of the machine's addresses.
                    None if options.bind.ip().is_unspecified() => "THIS-MACHINE".to_owned(),
                    None => options.bind.ip().to_string(),
                };
                eprintln!(
                    "kpiflow scheduler on {}: clients use --engine df://{host}:{}, executors \
                     --scheduler {host}:{}; Ctrl-C stops it",
                    options.bind,
                    options.bind.port(),
                    options.bind.port()
                );
            }
            until_ctrl_c(kpiflow_cluster::run_scheduler(options)).await
        }
        ClusterCommand::Executor(args) => {
            let bind: SocketAddr = super::serve::parse_addr(&args.bind, "--bind")?;
            if args.vcores == Some(0) {
                return Err(UserError("--vcores must be at least 1".to_owned()).into());
            }
            if args.grpc_port == bind.port() && bind.port() != 0 {
                return Err(UserError(format!(
                    "--grpc-port {} is --bind's port too; each service needs its own port",
                    args.grpc_port
                ))
                .into());
            }
            let options = ExecutorOptions {
                scheduler: SchedulerAddress::parse(&args.scheduler)?,
                bind,
                grpc_port: args.grpc_port,
                external_host: args.external_host,
                vcores: args.vcores,
                work_dir: args.work_dir,
            };
            if !quiet {
                eprintln!(
                    "kpiflow executor on {} (gRPC port {}), scheduler {}; Ctrl-C stops it",
                    options.bind, options.grpc_port, options.scheduler
                );
            }
            // The executor handles Ctrl-C itself: it tells the scheduler it leaves and lets its
            // running tasks finish.
            Ok(kpiflow_cluster::run_executor(options).await?)
        }
    }
}

/// Runs the scheduler until it stops or Ctrl-C (then it is dropped: its servers close).
async fn until_ctrl_c(
    process: impl Future<Output = Result<(), kpiflow_cluster::ClusterError>>,
) -> anyhow::Result<()> {
    tokio::select! {
        result = process => Ok(result?),
        _ = tokio::signal::ctrl_c() => Ok(()),
    }
}

/// `--engine`: `embedded`, or a cluster's scheduler that answers.
pub async fn runtime(args: &EngineArgs) -> anyhow::Result<Runtime> {
    let value = args.engine.trim();
    if value.is_empty() || value.eq_ignore_ascii_case("embedded") {
        return Ok(Runtime::Embedded);
    }
    if !value.starts_with("df://") {
        return Err(UserError(format!(
            "--engine `{value}` is neither `embedded` nor a cluster's scheduler, df://HOST:PORT"
        ))
        .into());
    }
    let address = SchedulerAddress::parse(value)?;
    Ok(Cluster::connect(address).await?.runtime())
}
