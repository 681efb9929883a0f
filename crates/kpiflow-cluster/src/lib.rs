//! Cluster mode: the engine's plans run on a Ballista cluster.
//!
//! Three parts, all on Ballista 55 (DataFusion 55's distributed scheduler):
//!
//! - [`run_scheduler`] and [`run_executor`] are the processes `kpiflow cluster scheduler` and
//!   `kpiflow cluster executor` start: Ballista's own scheduler and executor, built into the
//!   kpiflow binary so they run the same DataFusion with the same features as the client.
//! - [`Cluster`] opens client sessions on a running scheduler for the engine
//!   ([`kpiflow_engine::Runtime::Cluster`]): a query planned in the client is sent to the
//!   scheduler, split into stages, run by the executors, and its result read back over Arrow
//!   Flight.
//!
//! What the processes need to know of kpiflow is carried by the plans themselves: on a cluster
//! the engine registers each table as the Parquet files of the snapshot's Delta version (a
//! listing DataFusion serialises by file URL) and builds portable plans, where the channel
//! functions — bound to the project's own `[channels]` rules — are plain `CASE`/`LIKE`
//! expressions. So a scheduler and its executors serve any project, whatever its rules, and
//! every executor must be able to read the files at the URLs the client registered: the data
//! directory on a path shared by every machine (the same mount point everywhere).

use std::net::{SocketAddr, ToSocketAddrs};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use ballista_core::extension::{SessionConfigExt, SessionStateExt};
use datafusion::execution::SessionStateBuilder;
use datafusion::prelude::{SessionConfig, SessionContext};
use kpiflow_engine::{ClusterSessions, EngineError};

/// Ballista's default scheduler port.
pub const DEFAULT_SCHEDULER_PORT: u16 = 50050;

/// Why a cluster process cannot start or a scheduler cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum ClusterError {
    /// An address that does not parse (`--engine`, `--scheduler`, `--bind`).
    #[error("`{value}` is not a cluster address: {reason} (expected {expected})")]
    BadAddress { value: String, reason: String, expected: &'static str },
    /// Nothing answers at the scheduler's address, or what answers is not a scheduler.
    #[error(
        "no scheduler answers at {address} ({reason}); start one with `kpiflow cluster scheduler`"
    )]
    Unreachable { address: String, reason: String },
    /// A scheduler without executors: a query would wait for one forever.
    #[error(
        "the scheduler at {address} has no executors; start one with `kpiflow cluster executor \
         --scheduler {host_port}`"
    )]
    NoExecutors { address: String, host_port: String },
    /// A process stopped with an error (a port in use, a scheduler lost).
    #[error("{process} on {bind}: {message}")]
    Process { process: &'static str, bind: SocketAddr, message: String },
    #[error("{what} `{path}`: {source}")]
    Io { what: &'static str, path: PathBuf, source: std::io::Error },
}

impl ClusterError {
    /// Whether the user can fix it (exit 1) rather than a bug (exit 2). Every cluster error is
    /// about addresses, ports, directories or processes the user runs.
    pub fn is_user_error(&self) -> bool {
        true
    }
}

/// A scheduler's address as given on the command line: `df://host:port`, `host:port` or
/// `host` (port 50050).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SchedulerAddress {
    pub host: String,
    pub port: u16,
}

impl SchedulerAddress {
    pub fn parse(value: &str) -> Result<SchedulerAddress, ClusterError> {
        let expected = "df://HOST:PORT, HOST:PORT or HOST";
        let bad = |reason: &str| ClusterError::BadAddress {
            value: value.to_owned(),
            reason: reason.to_owned(),
            expected,
        };
        let rest = match value.split_once("://") {
            Some(("df", rest)) => rest,
            Some((scheme, _)) => {
                return Err(bad(&format!("the scheme is `{scheme}://`, not `df://`")));
            }
            None => value,
        };
        let rest = rest.trim_end_matches('/');
        if rest.contains('/') {
            return Err(bad("it has a path"));
        }
        // Ballista 55 writes `http://{host}:{port}` itself, which an IPv6 literal breaks.
        if rest.starts_with('[') || rest.matches(':').count() > 1 {
            return Err(bad(
                "IPv6 addresses are not supported (use an IPv4 address or a host name)",
            ));
        }
        // `host:50050`, `host`.
        let (host, port) = match rest.split_once(':') {
            Some((host, port)) => {
                let port = port.parse::<u16>().map_err(|_| bad("the port is not a number"))?;
                (host, port)
            }
            None => (rest, DEFAULT_SCHEDULER_PORT),
        };
        if host.is_empty() {
            return Err(bad("the host is empty"));
        }
        if port == 0 {
            return Err(bad("the port is 0"));
        }
        Ok(SchedulerAddress { host: host.to_owned(), port })
    }

    /// `df://host:port`.
    pub fn url(&self) -> String {
        format!("df://{}:{}", self.host, self.port)
    }

    fn socket_addrs(&self) -> Result<Vec<SocketAddr>, String> {
        (self.host.as_str(), self.port)
            .to_socket_addrs()
            .map(Iterator::collect)
            .map_err(|e| e.to_string())
    }
}

impl std::fmt::Display for SchedulerAddress {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.url())
    }
}

/// A running scheduler, for the engine's client sessions.
#[derive(Debug, Clone)]
pub struct Cluster {
    address: SchedulerAddress,
}

impl Cluster {
    /// The scheduler at `address`, once it says it has executors (its `/readyz`, within 5 s): a
    /// cluster that is not there, or that could not run a query (Ballista queues a job until an
    /// executor comes, without end), is said before any work starts, not as a failed or hung
    /// query.
    pub async fn connect(address: SchedulerAddress) -> Result<Cluster, ClusterError> {
        let unreachable =
            |reason: String| ClusterError::Unreachable { address: address.url(), reason };
        let body = match tokio::time::timeout(Duration::from_secs(5), readiness(&address)).await {
            Ok(Ok(body)) => body,
            Ok(Err(reason)) => return Err(unreachable(reason)),
            Err(_) => return Err(unreachable("no answer within 5 s".to_owned())),
        };
        match executors_registered(&body) {
            Some(0) => Err(ClusterError::NoExecutors {
                address: address.url(),
                host_port: format!("{}:{}", address.host, address.port),
            }),
            Some(_) => Ok(Cluster { address }),
            None => Err(unreachable(format!(
                "what answers is not a Ballista scheduler: `/readyz` said `{}`",
                body.chars().take(80).collect::<String>()
            ))),
        }
    }

    pub fn address(&self) -> &SchedulerAddress {
        &self.address
    }

    /// The engine's runtime on this cluster.
    pub fn runtime(self) -> kpiflow_engine::Runtime {
        kpiflow_engine::Runtime::Cluster(Arc::new(self))
    }
}

/// The body of `GET /readyz` on the scheduler's port (plain HTTP/1.1 on the gRPC port: the
/// scheduler serves both), or why it could not be read.
async fn readiness(address: &SchedulerAddress) -> Result<String, String> {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut last = String::from("the host has no address");
    for addr in address.socket_addrs()? {
        let mut stream = match tokio::net::TcpStream::connect(addr).await {
            Ok(stream) => stream,
            Err(e) => {
                last = e.to_string();
                continue;
            }
        };
        let request = format!(
            "GET /readyz HTTP/1.1\r\nHost: {}:{}\r\nConnection: close\r\n\r\n",
            address.host, address.port
        );
        stream.write_all(request.as_bytes()).await.map_err(|e| e.to_string())?;
        let mut response = Vec::new();
        stream.read_to_end(&mut response).await.map_err(|e| e.to_string())?;
        let response = String::from_utf8_lossy(&response);
        return Ok(match response.split_once("\r\n\r\n") {
            Some((_, body)) => body.trim().to_owned(),
            None => response.trim().to_owned(),
        });
    }
    Err(last)
}

/// The executors a scheduler's `/readyz` counts: `ready: 2 executors registered` or
/// `not ready: 0/1 executors registered`.
fn executors_registered(body: &str) -> Option<usize> {
    let rest = body.strip_prefix("ready: ").or_else(|| body.strip_prefix("not ready: "))?;
    let count = rest.split([' ', '/']).next()?;
    count.parse().ok()
}

impl ClusterSessions for Cluster {
    fn session(&self, config: SessionConfig) -> kpiflow_engine::Result<SessionContext> {
        let state = SessionStateBuilder::new()
            .with_config(config.upgrade_for_ballista())
            .with_default_features()
            .build();
        let scheduler = format!("http://{}:{}", self.address.host, self.address.port);
        let state = state.upgrade_for_ballista(scheduler).map_err(|e| {
            EngineError::Cluster(format!("cannot open a session on {}: {e}", self.address))
        })?;
        Ok(SessionContext::new_with_state(state))
    }

    fn address(&self) -> String {
        self.address.url()
    }
}

/// `kpiflow cluster scheduler`.
#[derive(Debug, Clone)]
pub struct SchedulerOptions {
    /// The address to listen on (gRPC for clients and executors, and the REST API).
    pub bind: SocketAddr,
    /// The host name clients and executors use for this machine (when it is not `bind`'s).
    pub external_host: Option<String>,
}

/// Runs a scheduler until it fails or the process is stopped.
pub async fn run_scheduler(options: SchedulerOptions) -> Result<(), ClusterError> {
    use ballista_scheduler::cluster::BallistaCluster;
    use ballista_scheduler::config::SchedulerConfig;
    let failed = |e: ballista_core::error::BallistaError| ClusterError::Process {
        process: "scheduler",
        bind: options.bind,
        message: e.to_string(),
    };
    let config = SchedulerConfig {
        bind_host: options.bind.ip().to_string(),
        bind_port: options.bind.port(),
        external_host: options.external_host.unwrap_or_else(|| options.bind.ip().to_string()),
        ..SchedulerConfig::default()
    };
    let cluster = BallistaCluster::new_from_config(&config).await.map_err(failed)?;
    ballista_scheduler::scheduler_process::start_server(cluster, options.bind, Arc::new(config))
        .await
        .map_err(failed)
}

/// `kpiflow cluster executor`.
#[derive(Debug, Clone)]
pub struct ExecutorOptions {
    pub scheduler: SchedulerAddress,
    /// The address its Arrow Flight service listens on (results and shuffle data).
    pub bind: SocketAddr,
    /// The port of its gRPC service (tasks from the scheduler).
    pub grpc_port: u16,
    /// The host name the scheduler, the clients and other executors use for this machine.
    pub external_host: Option<String>,
    /// Tasks run at once (default: the machine's cores).
    pub vcores: Option<usize>,
    /// Where shuffle files go (default: a new temporary directory, removed on exit).
    pub work_dir: Option<PathBuf>,
}

/// Runs an executor until it fails or is stopped. Ballista's executor handles Ctrl-C and
/// SIGTERM itself: it tells the scheduler it is leaving and lets its running tasks finish, so
/// the caller lets it return rather than dropping it on a signal.
pub async fn run_executor(options: ExecutorOptions) -> Result<(), ClusterError> {
    use ballista_executor::executor_process::{ExecutorProcessConfig, start_executor_process};
    // A temporary work directory lives as long as the executor.
    let (work_dir, _temporary) = match options.work_dir {
        Some(dir) => {
            std::fs::create_dir_all(&dir).map_err(|source| ClusterError::Io {
                what: "cannot create the work directory",
                path: dir.clone(),
                source,
            })?;
            (dir, None)
        }
        None => {
            let dir = tempfile::Builder::new().prefix("kpiflow-executor-").tempdir().map_err(
                |source| ClusterError::Io {
                    what: "cannot create a work directory in",
                    path: std::env::temp_dir(),
                    source,
                },
            )?;
            (dir.path().to_path_buf(), Some(dir))
        }
    };
    let defaults = ExecutorProcessConfig::default();
    let config = ExecutorProcessConfig {
        bind_host: options.bind.ip().to_string(),
        port: options.bind.port(),
        grpc_port: options.grpc_port,
        external_host: options.external_host,
        scheduler_host: options.scheduler.host.clone(),
        scheduler_port: options.scheduler.port,
        // Wait for a scheduler that is still starting (processes started together).
        scheduler_connect_timeout_seconds: 30,
        vcores: options.vcores.unwrap_or(defaults.vcores),
        work_dir: Some(work_dir.to_string_lossy().into_owned()),
        ..defaults
    };
    start_executor_process(Arc::new(config)).await.map_err(|e| ClusterError::Process {
        process: "executor",
        bind: options.bind,
        message: e.to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_parse_with_or_without_scheme_and_port() {
        let parse = |s: &str| SchedulerAddress::parse(s).map(|a| (a.host, a.port));
        assert_eq!(parse("df://10.0.0.5:50050").ok(), Some(("10.0.0.5".into(), 50050)));
        assert_eq!(parse("df://sched.internal").ok(), Some(("sched.internal".into(), 50050)));
        assert_eq!(parse("127.0.0.1:6000").ok(), Some(("127.0.0.1".into(), 6000)));
        assert_eq!(parse("df://sched:7000/").ok(), Some(("sched".into(), 7000)));
        assert_eq!(
            SchedulerAddress::parse("sched:7000").map(|a| a.url()).ok(),
            Some("df://sched:7000".into())
        );
    }

    #[test]
    fn bad_addresses_say_why() {
        let err = |s: &str| SchedulerAddress::parse(s).err().map(|e| e.to_string());
        assert_eq!(
            err("http://host:1").as_deref(),
            Some(
                "`http://host:1` is not a cluster address: the scheme is `http://`, not `df://` (expected df://HOST:PORT, HOST:PORT or HOST)"
            )
        );
        assert!(err("df://host:port").is_some_and(|e| e.contains("the port is not a number")));
        assert!(err("df://:50050").is_some_and(|e| e.contains("the host is empty")));
        assert!(err("df://host:1/db").is_some_and(|e| e.contains("it has a path")));
        assert!(err("df://host:0").is_some_and(|e| e.contains("the port is 0")));
        let ipv6 = "IPv6 addresses are not supported";
        assert!(err("df://[::1]:50050").is_some_and(|e| e.contains(ipv6)));
        assert!(err("::1").is_some_and(|e| e.contains(ipv6)));
    }

    #[test]
    fn readiness_counts_the_executors() {
        assert_eq!(executors_registered("ready: 2 executors registered"), Some(2));
        assert_eq!(executors_registered("ready: 0 executors registered"), Some(0));
        assert_eq!(executors_registered("not ready: 0/1 executors registered"), Some(0));
        assert_eq!(executors_registered("<html>kpiflow</html>"), None);
    }

    #[tokio::test]
    async fn a_scheduler_that_is_not_there_is_said_up_front() {
        // A port just freed: nothing listens there.
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .map(|a| a.port())
            .unwrap_or(1);
        let address = SchedulerAddress { host: "127.0.0.1".into(), port };
        let err = Cluster::connect(address).await.err().map(|e| e.to_string());
        assert!(
            err.as_deref().is_some_and(|e| e
                .starts_with(&format!("no scheduler answers at df://127.0.0.1:{port}"))
                && e.ends_with("start one with `kpiflow cluster scheduler`")),
            "{err:?}"
        );
    }
}
