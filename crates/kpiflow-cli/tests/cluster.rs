//! Cluster mode: a scheduler and two executors on 127.0.0.1 (`kpiflow cluster ...`) run the
//! overview, a split report, the funnel and an attribution for `--engine df://...`, and give the
//! embedded engine's figures.
#![allow(clippy::unwrap_used)]

mod common;

use std::io::{Read, Write};
use std::path::Path;
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

use common::{demo_project, kpiflow, run, run_json};
use serde_json::Value;

/// Child processes killed (and reaped) when the test ends, passed or failed.
struct Processes(Vec<(String, Child)>);

impl Drop for Processes {
    fn drop(&mut self) {
        for (_, child) in &mut self.0 {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

impl Processes {
    /// Fails with the processes' logs when one of them has exited.
    fn check_running(&mut self, logs: &Path) {
        for (name, child) in &mut self.0 {
            if let Ok(Some(status)) = child.try_wait() {
                let log = std::fs::read_to_string(logs.join(format!("{name}.log")));
                panic!("{name} exited ({status}):\n{}", log.unwrap_or_default());
            }
        }
    }
}

/// `n` different ports nothing listens on right now (the OS's picks, all held until each is
/// known, then released).
fn free_ports(n: usize) -> Vec<u16> {
    let held: Vec<std::net::TcpListener> =
        (0..n).map(|_| std::net::TcpListener::bind("127.0.0.1:0").unwrap()).collect();
    held.iter().map(|l| l.local_addr().unwrap().port()).collect()
}

fn spawn(name: &str, args: &[String], logs: &Path) -> (String, Child) {
    let log = std::fs::File::create(logs.join(format!("{name}.log"))).unwrap();
    let child = kpiflow()
        .args(args)
        .stdin(Stdio::null())
        .stdout(log.try_clone().unwrap())
        .stderr(log)
        .spawn()
        .unwrap();
    (name.to_owned(), child)
}

/// The scheduler's `/readyz` body, or `None` while it does not answer.
fn readyz(port: u16) -> Option<String> {
    let mut stream = std::net::TcpStream::connect(("127.0.0.1", port)).ok()?;
    stream.set_read_timeout(Some(Duration::from_secs(5))).ok()?;
    stream
        .write_all(b"GET /readyz HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
        .ok()?;
    let mut response = String::new();
    stream.read_to_string(&mut response).ok()?;
    response.split_once("\r\n\r\n").map(|(_, body)| body.trim().to_owned())
}

/// Equal JSON, numbers to a relative 1e-9 (a cluster adds partial sums in another order);
/// `path` says where they differ.
fn assert_same(embedded: &Value, cluster: &Value, path: &str) {
    match (embedded, cluster) {
        (Value::Number(a), Value::Number(b)) => {
            let (a, b) = (a.as_f64().unwrap(), b.as_f64().unwrap());
            let tolerance = 1e-9 * a.abs().max(b.abs()).max(1.0);
            assert!((a - b).abs() <= tolerance, "{path}: embedded {a}, cluster {b}");
        }
        (Value::Array(a), Value::Array(b)) => {
            assert_eq!(
                a.len(),
                b.len(),
                "{path}: {} items embedded, {} on the cluster",
                a.len(),
                b.len()
            );
            for (i, (x, y)) in a.iter().zip(b).enumerate() {
                assert_same(x, y, &format!("{path}[{i}]"));
            }
        }
        (Value::Object(a), Value::Object(b)) => {
            let keys = |o: &serde_json::Map<String, Value>| o.keys().cloned().collect::<Vec<_>>();
            assert_eq!(keys(a), keys(b), "{path}: fields differ");
            for (k, x) in a {
                assert_same(x, &b[k], &format!("{path}.{k}"));
            }
        }
        (a, b) => assert_eq!(a, b, "{path}"),
    }
}

/// Figures of a report's rows, to show that a comparison compared something.
fn values(report: &Value) -> usize {
    report["rows"]
        .as_array()
        .map_or(0, |rows| rows.iter().filter(|r| r["value"].is_number()).count())
}

#[test]
fn a_cluster_of_two_executors_gives_the_embedded_figures() {
    let dir = tempfile::tempdir().unwrap();
    let demo = demo_project(dir.path(), "0.2");
    let logs = dir.path().join("logs");
    std::fs::create_dir(&logs).unwrap();

    let ports = free_ports(6);
    let scheduler = ports[0];
    let mut processes = Processes(vec![spawn(
        "scheduler",
        &["cluster".into(), "scheduler".into(), "--bind".into(), format!("127.0.0.1:{scheduler}")],
        &logs,
    )]);
    let engine = format!("df://127.0.0.1:{scheduler}");

    // A scheduler without executors would queue a query forever: said up front instead.
    let started = Instant::now();
    while readyz(scheduler).is_none() {
        processes.check_running(&logs);
        assert!(started.elapsed() < Duration::from_secs(60), "the scheduler does not answer");
        std::thread::sleep(Duration::from_millis(100));
    }
    let out = run(&demo, &["report", "--engine", &engine]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains(&format!(
            "the scheduler at {engine} has no executors; start one with `kpiflow cluster \
             executor --scheduler 127.0.0.1:{scheduler}`"
        )),
        "{stderr}"
    );

    for n in 1..=2 {
        let work = dir.path().join(format!("executor{n}"));
        processes.0.push(spawn(
            &format!("executor{n}"),
            &[
                "cluster".into(),
                "executor".into(),
                "--scheduler".into(),
                format!("127.0.0.1:{scheduler}"),
                "--bind".into(),
                format!("127.0.0.1:{}", ports[2 * n - 1]),
                "--grpc-port".into(),
                ports[2 * n].to_string(),
                "--vcores".into(),
                "1".into(),
                "--work-dir".into(),
                work.to_str().unwrap().to_owned(),
            ],
            &logs,
        ));
    }
    let started = Instant::now();
    loop {
        processes.check_running(&logs);
        let state = readyz(scheduler);
        if state.as_deref().is_some_and(|s| s.starts_with("ready: 2 executors")) {
            break;
        }
        assert!(started.elapsed() < Duration::from_secs(90), "the cluster is not ready: {state:?}");
        std::thread::sleep(Duration::from_millis(200));
    }

    let cases: [(&str, &[&str]); 5] = [
        ("overview", &["report", "--format", "json"]),
        ("split", &["report", "--by", "region,segment", "--grain", "month", "--format", "json"]),
        (
            "channel by quarter",
            &["report", "--by", "channel", "--grain", "quarter", "--all", "--format", "json"],
        ),
        ("funnel", &["funnel", "--by", "channel", "--format", "json"]),
        ("attribution", &["attribution", "--model", "first,linear,markov", "--format", "json"]),
    ];
    for (name, args) in cases {
        let embedded = run_json(&demo, args);
        let mut on_cluster: Vec<&str> = args.to_vec();
        on_cluster.extend(["--engine", &engine]);
        let cluster = run_json(&demo, &on_cluster);
        processes.check_running(&logs);
        assert_same(&embedded, &cluster, name);
        if args[0] == "report" {
            assert!(values(&embedded) > 100, "{name}: only {} figures", values(&embedded));
        }
    }

    // The jobs ran on the cluster, not in the client: the scheduler finished them and both
    // executors ran tasks.
    let log = |name: &str| std::fs::read_to_string(logs.join(format!("{name}.log"))).unwrap();
    let jobs = log("scheduler").matches("Job finished successfully").count();
    assert!(jobs >= 10, "{jobs} jobs: {}", log("scheduler"));
    for executor in ["executor1", "executor2"] {
        assert!(log(executor).contains("Finished task"), "{executor}: {}", log(executor));
    }

    // A scheduler that is not there: a user error before any work, not a failed query.
    let nobody = format!("df://127.0.0.1:{}", free_ports(1)[0]);
    let out = run(&demo, &["report", "--engine", &nobody]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains(&format!("no scheduler answers at {nobody}")), "{stderr}");
    let out = run(&demo, &["report", "--engine", "http://127.0.0.1:50050"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&out.stderr)
            .contains("is neither `embedded` nor a cluster's scheduler, df://HOST:PORT"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}
