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
    /// Nothing answers at the scheduler's address.
    #[error(
        "no scheduler answers at {address} ({reason}); start one with `kpiflow cluster scheduler`"
    )]
    Unreachable { address: String, reason: String },
    /// A process stopped with an error (a port in use, a scheduler lost).
    #[error("{process}: {message}")]
    Process { process: &'static str, message: String },
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
        // `[::1]:50050`, `host:50050`, `host`.
        let (host, port) = match rest.rsplit_once(':') {
            Some((host, port)) if !host.ends_with(':') && !port.contains(']') => {
                let port = port.parse::<u16>().map_err(|_| bad("the port is not a number"))?;
                (host, port)
            }
            _ => (rest, DEFAULT_SCHEDULER_PORT),
        };
        let host = host.trim_start_matches('[').trim_end_matches(']');
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
        if self.host.contains(':') {
            format!("df://[{}]:{}", self.host, self.port)
        } else {
            format!("df://{}:{}", self.host, self.port)
        }
    }

    fn socket_addrs(&self) -> Result<Vec<SocketAddr>, ClusterError> {
        (self.host.as_str(), self.port)
            .to_socket_addrs()
            .map(Iterator::collect)
            .map_err(|e| ClusterError::Unreachable { address: self.url(), reason: e.to_string() })
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
    /// The scheduler at `address`, once it answers (a TCP connection within 5 s): a cluster that
    /// is not there is said before any work starts, not as a failed query.
    pub async fn connect(address: SchedulerAddress) -> Result<Cluster, ClusterError> {
        let addrs = address.socket_addrs()?;
        let mut last = String::from("the host has no address");
        for addr in addrs {
            match tokio::time::timeout(Duration::from_secs(5), tokio::net::TcpStream::connect(addr))
                .await
            {
                Ok(Ok(_)) => return Ok(Cluster { address }),
                Ok(Err(e)) => last = e.to_string(),
                Err(_) => last = "no answer within 5 s".to_owned(),
            }
        }
        Err(ClusterError::Unreachable { address: address.url(), reason: last })
    }

    pub fn address(&self) -> &SchedulerAddress {
        &self.address
    }

    /// The engine's runtime on this cluster.
    pub fn runtime(self) -> kpiflow_engine::Runtime {
        kpiflow_engine::Runtime::Cluster(Arc::new(self))
    }
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

/// Runs an executor until it fails or the process is stopped.
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
        // Frequent heartbeats: a scheduler notices a lost executor in seconds, not minutes.
        executor_heartbeat_interval_seconds: 5,
        ..defaults
    };
    start_executor_process(Arc::new(config))
        .await
        .map_err(|e| ClusterError::Process { process: "executor", message: e.to_string() })
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
        assert_eq!(parse("df://[::1]:7000/").ok(), Some(("::1".into(), 7000)));
        assert_eq!(
            SchedulerAddress::parse("df://[::1]:7000").map(|a| a.url()).ok(),
            Some("df://[::1]:7000".into())
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
