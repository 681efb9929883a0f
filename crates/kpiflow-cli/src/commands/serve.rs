//! `kpiflow serve`: the dashboard and the JSON API over the project's store.

use std::net::SocketAddr;
use std::path::Path;

use anyhow::Context;
use kpiflow_catalog::channels::ChannelRules;
use kpiflow_engine::Runtime;
use kpiflow_server::{AppState, ServerOptions};

use super::Project;
use crate::UserError;
use crate::cli::ServeArgs;

/// The environment variable holding the bearer token for writes (overrides [server] token).
pub const TOKEN_ENV: &str = "KPIFLOW_TOKEN";

pub async fn run(project_dir: &Path, args: ServeArgs) -> anyhow::Result<()> {
    let project = Project::open(project_dir)?;
    let addr = match args.addr.as_deref() {
        Some(a) => parse_addr(a, "--addr")?,
        None => project.config.server.addr,
    };
    let runtime = super::cluster::runtime(&args.engine).await?;
    serve(project_dir, project, addr, runtime).await
}

pub fn parse_addr(raw: &str, flag: &str) -> anyhow::Result<SocketAddr> {
    raw.trim().parse().map_err(|_| {
        UserError(format!(
            "{flag} `{raw}` is not an address; expected IP:PORT such as 127.0.0.1:8080"
        ))
        .into()
    })
}

/// Resolves the server's options, binds, prints the URL and serves until Ctrl-C.
pub async fn serve(
    project_dir: &Path,
    project: Project,
    addr: SocketAddr,
    runtime: Runtime,
) -> anyhow::Result<()> {
    let catalog = super::kpis::load_catalog(Some(&project.config))?;
    let rules = ChannelRules::from_config(&project.config.channels)?;
    let token = match std::env::var(TOKEN_ENV) {
        Ok(t) if t.trim().len() >= 16 => Some(t.trim().to_owned()),
        Ok(t) if !t.trim().is_empty() => {
            return Err(UserError(format!("{TOKEN_ENV} needs at least 16 characters")).into());
        }
        _ => project.config.server.token.clone(),
    };
    let writes = token.is_some();
    let options = ServerOptions {
        project_dir: project_dir.to_path_buf(),
        config: project.config,
        catalog,
        rules,
        token,
        runtime,
    };
    let state = AppState::new(options).context("opening the store")?;
    // Open the engine before accepting requests, so a broken store fails here, not per request.
    state.engine().await.map_err(|e| anyhow::anyhow!("opening the store: {}", e.body.message))?;
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .map_err(|e| UserError(format!("cannot listen on {addr}: {e}")))?;
    let local = listener.local_addr().context("reading the bound address")?;
    if !addr.ip().is_loopback() {
        eprintln!("note: listening on {addr}, reachable from other machines; reads need no token");
    }
    println!("kpiflow dashboard: http://{local}/");
    println!("API: http://{local}/api (OpenAPI at http://{local}/api/openapi.json)");
    if !writes {
        println!("imports over HTTP are off (set {TOKEN_ENV} or [server] token to allow them)");
    }
    println!("Ctrl-C stops the server.");
    kpiflow_server::serve(listener, state).await.context("serving")?;
    Ok(())
}
