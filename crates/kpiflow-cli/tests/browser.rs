//! The dashboard in headless Chromium (Debian's `chromium` + `chromium-driver`, which `.ci/run`
//! installs): against `kpiflow serve` on 127.0.0.1 with the demo company, every page loads
//! without console errors, tiles and tables hold the numbers `kpiflow report` gives for the
//! same filters, a filter changes the URL and the numbers, a CSV download matches its table, a
//! chart converts to PNG. The Import page previews and imports a Google Ads export
//! (`fixtures/browser/`) and the Campaigns page then shows its cost. Screenshots are kept in
//! `target/tmp/browser-screenshots`.
//!
//! A machine without ChromeDriver fails this test (it cannot pass by not running); set
//! `KPIFLOW_SKIP_BROWSER_TESTS=1` to skip it knowingly.
#![allow(clippy::unwrap_used)]

mod common;

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use common::*;
use fantoccini::wd::WebDriverCompatibleCommand;
use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::{Value, json};

/// Kills a child process when dropped, so a failing test stops what it started.
struct Running(Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn chromedriver() -> Option<PathBuf> {
    ["/usr/bin/chromedriver", "/usr/lib/chromium/chromedriver"]
        .iter()
        .map(PathBuf::from)
        .find(|p| p.is_file())
}

fn chromium() -> PathBuf {
    ["/usr/bin/chromium", "/usr/lib/chromium/chromium"]
        .iter()
        .map(PathBuf::from)
        .find(|p| p.is_file())
        .expect("chromium is not installed (apt-get install -y chromium chromium-driver)")
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// `kpiflow serve` on a free loopback port; returns the process and the dashboard's URL.
fn serve(project: &Path) -> (Running, String) {
    serve_with_token(project, None)
}

/// `kpiflow serve`, with imports on when `token` is given (`KPIFLOW_TOKEN`).
fn serve_with_token(project: &Path, token: Option<&str>) -> (Running, String) {
    let mut command = kpiflow();
    command
        .arg("--project")
        .arg(project)
        .args(["serve", "--addr", "127.0.0.1:0"])
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit());
    if let Some(token) = token {
        command.env("KPIFLOW_TOKEN", token);
    }
    let mut child = command.spawn().unwrap();
    let stdout = child.stdout.take().unwrap();
    let running = Running(child);
    let mut lines = BufReader::new(stdout).lines();
    let url = loop {
        let line = lines.next().expect("the server stopped before printing its URL").unwrap();
        if let Some(url) = line.strip_prefix("kpiflow dashboard: ") {
            break url.trim_end_matches('/').to_owned();
        }
    };
    // Keep draining stdout so the server never blocks on a full pipe.
    std::thread::spawn(move || for _ in lines {});
    (running, url)
}

/// ChromeDriver's browser log (console messages), which W3C WebDriver has no command for.
#[derive(Debug)]
struct BrowserLog;

impl WebDriverCompatibleCommand for BrowserLog {
    fn endpoint(
        &self,
        base: &url::Url,
        session: Option<&str>,
    ) -> Result<url::Url, url::ParseError> {
        base.join(&format!("session/{}/se/log", session.unwrap_or_default()))
    }

    fn method_and_body(&self, _: &url::Url) -> (http::Method, Option<String>) {
        (http::Method::POST, Some(json!({"type": "browser"}).to_string()))
    }
}

async fn console_errors(c: &Client) -> Vec<String> {
    let log = c.issue_cmd(BrowserLog).await.unwrap();
    log.as_array()
        .unwrap()
        .iter()
        .filter(|e| e["level"] == "SEVERE" || e["level"] == "WARNING")
        .map(|e| e["message"].as_str().unwrap_or_default().to_owned())
        .collect()
}

async fn browser(profile: &Path) -> (Running, Client) {
    let driver = chromedriver();
    let Some(driver) = driver else {
        panic!(
            "chromedriver is not installed (apt-get install -y chromium chromium-driver); \
             set KPIFLOW_SKIP_BROWSER_TESTS=1 to skip the browser tests"
        )
    };
    let port = free_port();
    let process = Running(
        Command::new(driver)
            .arg(format!("--port={port}"))
            .arg("--allowed-ips=127.0.0.1")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    let mut caps = serde_json::Map::new();
    caps.insert("browserName".into(), json!("chrome"));
    caps.insert(
        "goog:chromeOptions".into(),
        json!({
            "binary": chromium(),
            "args": [
                "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                "--disable-background-networking", "--disable-component-update", "--disable-sync",
                "--window-size=1280,1000",
                format!("--user-data-dir={}", profile.display()),
            ],
        }),
    );
    caps.insert("goog:loggingPrefs".into(), json!({"browser": "ALL"}));
    let url = format!("http://127.0.0.1:{port}");
    let mut last = None;
    for _ in 0..100 {
        let connector = hyper_util::client::legacy::connect::HttpConnector::new();
        match ClientBuilder::new(connector).capabilities(caps.clone()).connect(&url).await {
            Ok(c) => return (process, c),
            Err(e) => last = Some(e),
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    panic!("ChromeDriver did not start: {last:?}");
}

fn screenshots() -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("browser-screenshots");
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// The text of every cell of a table, by row, with numeric cells as their `data-value`.
async fn table_cells(c: &Client, id: &str) -> Vec<Vec<String>> {
    let script = r#"
        const t = document.getElementById(arguments[0]);
        return Array.from(t.tBodies[0].rows).map(r => Array.from(r.cells).map(td =>
            td.hasAttribute('data-value') ? td.getAttribute('data-value') : td.textContent.trim()));
    "#;
    let v = c.execute(script, vec![json!(id)]).await.unwrap();
    serde_json::from_value(v).unwrap()
}

async fn tile_values(c: &Client) -> Vec<(String, Option<f64>)> {
    let script = r#"
        return Array.from(document.querySelectorAll('.tile')).map(t =>
            [t.dataset.kpi, t.querySelector('.tile-value').getAttribute('data-value')]);
    "#;
    let v: Vec<(String, String)> =
        serde_json::from_value(c.execute(script, vec![]).await.unwrap()).unwrap();
    v.into_iter().map(|(k, v)| (k, v.parse().ok())).collect()
}

fn close(a: Option<f64>, b: Option<f64>) -> bool {
    match (a, b) {
        (None, None) => true,
        (Some(a), Some(b)) => (a - b).abs() <= 1e-6 * a.abs().max(b.abs()).max(1.0),
        _ => false,
    }
}

/// `kpiflow report ... --format json`, as (kpi, dims, value).
fn report(project: &Path, args: &[&str]) -> Vec<(String, Value, Option<f64>)> {
    let mut full = vec!["report", "--format", "json"];
    full.extend_from_slice(args);
    let v = run_json(project, &full);
    v["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| (r["kpi"].as_str().unwrap().to_owned(), r.clone(), r["value"].as_f64()))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dashboard_in_headless_chromium() {
    if std::env::var_os("KPIFLOW_SKIP_BROWSER_TESTS").is_some() {
        eprintln!("KPIFLOW_SKIP_BROWSER_TESTS is set: browser tests skipped");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let demo = dir.path().join("demo");
    let out = kpiflow()
        .args(["demo", "--no-serve", "--scale", "0.3", "--dir", demo.to_str().unwrap()])
        .arg("--quiet")
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let (_server, base) = serve(&demo);
    let (_driver, c) = browser(&dir.path().join("profile")).await;
    let shots = screenshots();

    // The period both surfaces use: the CLI's default 12 months, given explicitly.
    let overview = run_json(&demo, &["report", "--kpi", "leads", "--format", "json"]);
    let (from, to) = (overview["from"].as_str().unwrap(), overview["to"].as_str().unwrap());
    let view = format!("from={from}&to={to}");

    // Every page: loads, has a heading, no console errors; a screenshot.
    for page in [
        "",
        "funnel",
        "channels",
        "campaigns",
        "revenue",
        "email",
        "social",
        "seo",
        "attribution",
        "goals",
        "plan",
        "definitions",
        "data",
        "import",
    ] {
        c.goto(&format!("{base}/{page}?{view}")).await.unwrap();
        c.wait().for_element(Locator::Css("main h1")).await.unwrap();
        let errors = console_errors(&c).await;
        assert!(errors.is_empty(), "/{page}: console errors {errors:?}");
        let name = if page.is_empty() { "overview" } else { page };
        std::fs::write(shots.join(format!("{name}.png")), c.screenshot().await.unwrap()).unwrap();
    }

    // Overview tiles = `kpiflow report` over the same period, compared with the previous one.
    c.goto(&format!("{base}/?{view}")).await.unwrap();
    let tiles = tile_values(&c).await;
    assert!(tiles.len() >= 10, "{tiles:?}");
    let ids: Vec<&str> = tiles.iter().map(|(k, _)| k.as_str()).collect();
    let joined = ids.join(",");
    let cli =
        report(&demo, &["--kpi", &joined, "--from", from, "--to", to, "--compare", "previous"]);
    for (kpi, value) in &tiles {
        let expected = cli.iter().find(|(k, _, _)| k == kpi).map(|(_, _, v)| *v).unwrap();
        assert!(close(*value, expected), "tile {kpi}: page {value:?}, report {expected:?}");
    }

    // A filter typed into the bar changes the URL and the numbers, to the filtered report's.
    let leads = |t: &[(String, Option<f64>)]| t.iter().find(|(k, _)| k == "leads").unwrap().1;
    let all_leads = leads(&tiles);
    let input = c.find(Locator::Css("form.filters input[name=channel]")).await.unwrap();
    input.send_keys("Paid Search").await.unwrap();
    c.find(Locator::Css("form.filters button[type=submit]")).await.unwrap().click().await.unwrap();
    c.wait()
        .for_url(
            &url::Url::parse(&format!(
                "{base}/?channel=Paid+Search&compare=previous&from={from}&grain=month&to={to}"
            ))
            .unwrap(),
        )
        .await
        .ok();
    let url = c.current_url().await.unwrap();
    assert!(url.as_str().contains("channel=Paid+Search"), "{url}");
    let filtered = tile_values(&c).await;
    let paid = report(
        &demo,
        &["--kpi", "leads", "--from", from, "--to", to, "--where", "channel=Paid Search"],
    );
    assert!(close(leads(&filtered), paid[0].2), "{:?} vs {:?}", leads(&filtered), paid[0].2);
    assert!(!close(leads(&filtered), all_leads), "the filter did not change the leads tile");
    assert!(console_errors(&c).await.is_empty());
    // A select submits on change: the comparison goes into the URL.
    let compare = c.find(Locator::Css("form.filters select[name=compare]")).await.unwrap();
    compare.select_by_value("yoy").await.unwrap();
    c.wait().for_element(Locator::Css("main h1")).await.unwrap();
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert!(c.current_url().await.unwrap().as_str().contains("compare=yoy"));

    // Channels table = the report split by channel; its CSV download = the table.
    c.goto(&format!("{base}/channels?{view}")).await.unwrap();
    let cells = table_cells(&c, "channels").await;
    let headers: Vec<String> = serde_json::from_value(
        c.execute("return Array.from(document.querySelectorAll('#channels thead th')).map(t => t.textContent.trim());", vec![])
            .await
            .unwrap(),
    )
    .unwrap();
    let kpi_ids = [
        "won_revenue",
        "sessions",
        "ad_cost",
        "leads",
        "mqls",
        "sqls",
        "customers",
        "cpl",
        "cac",
        "marketing_roi",
    ];
    assert_eq!(headers.len(), kpi_ids.len() + 1, "{headers:?}");
    let split = report(
        &demo,
        &["--kpi", &kpi_ids.join(","), "--by", "channel", "--from", from, "--to", to],
    );
    assert!(cells.len() >= 5, "{cells:?}");
    for row in &cells {
        let channel = &row[0];
        for (i, kpi) in kpi_ids.iter().enumerate() {
            let expected = split
                .iter()
                .find(|(k, r, _)| k == kpi && r["channel"] == json!(channel))
                .map(|(_, _, v)| *v)
                .unwrap_or(None);
            let shown: Option<f64> = row[i + 1].parse().ok();
            assert!(close(shown, expected), "{channel} {kpi}: page {shown:?}, report {expected:?}");
        }
    }
    let csv: String = serde_json::from_value(
        c.execute_async(
            "const done = arguments[arguments.length - 1];
             fetch(document.querySelector('a[data-csv-for=channels]').href).then(r => r.text()).then(done);",
            vec![],
        )
        .await
        .unwrap(),
    )
    .unwrap();
    let mut reader = csv::Reader::from_reader(csv.as_bytes());
    assert_eq!(
        reader.headers().unwrap().iter().collect::<Vec<_>>(),
        headers.iter().map(String::as_str).collect::<Vec<_>>()
    );
    let records: Vec<Vec<String>> =
        reader.records().map(|r| r.unwrap().iter().map(str::to_owned).collect()).collect();
    assert_eq!(records.len(), cells.len());
    for (record, row) in records.iter().zip(&cells) {
        assert_eq!(record[0], row[0]);
        for (a, b) in record.iter().zip(row).skip(1) {
            assert!(close(a.parse().ok(), b.parse().ok()), "CSV {a} vs table {b}");
        }
    }

    // Attribution page: the credited conversions of every model = `kpiflow attribution`.
    let cli = run_json(
        &demo,
        &["attribution", "--model", "all", "--from", from, "--to", to, "--format", "json"],
    );
    let credited = |model: &str, channel: &str| -> Option<f64> {
        cli["rows"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["model"] == model && r["channel"] == channel)
            .and_then(|r| r["conversions"].as_f64())
    };
    c.goto(&format!("{base}/attribution?{view}")).await.unwrap();
    let first_notice = c.find(Locator::Css("main .notice")).await.unwrap().text().await.unwrap();
    assert!(first_notice.starts_with("The models disagree most on"), "{first_notice}");
    let headers: Vec<String> = serde_json::from_value(
        c.execute("return Array.from(document.querySelectorAll('#credited-conversions thead th')).map(t => t.textContent.trim());", vec![])
            .await
            .unwrap(),
    )
    .unwrap();
    assert_eq!(&headers[..2], ["Channel", "Spend"]);
    let cells = table_cells(&c, "credited-conversions").await;
    assert!(cells.len() >= 5, "{cells:?}");
    for row in &cells {
        for (model, shown) in headers.iter().zip(row).skip(2) {
            assert!(
                close(shown.parse().ok(), credited(model, &row[0])),
                "{} {model}: {shown}",
                row[0]
            );
        }
    }

    // Channels credited by a model chosen in the filters: leads = the model's credited leads,
    // CPL = spend / those leads.
    c.goto(&format!("{base}/channels?{view}")).await.unwrap();
    c.find(Locator::Css("select[name=model] option[value=linear]"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    c.wait()
        .for_element(Locator::Css("select[name=model] option[value=linear][selected]"))
        .await
        .unwrap();
    assert!(c.current_url().await.unwrap().as_str().contains("model=linear"));
    let linear = run_json(
        &demo,
        &["attribution", "--model", "linear", "--from", from, "--to", to, "--format", "json"],
    );
    let cells = table_cells(&c, "channels").await;
    for row in &cells {
        let channel = &row[0];
        let want = linear["rows"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["channel"] == json!(channel))
            .map_or(Some(0.0), |r| r["conversions"].as_f64());
        assert!(
            close(row[4].parse().ok(), want),
            "{channel} leads: page {}, attribution {want:?}",
            row[4]
        );
        let (spend, leads) = (row[3].parse::<f64>().ok(), row[4].parse::<f64>().ok());
        let cpl = match (spend, leads) {
            (Some(s), Some(l)) if l > 0.0 => Some(s / l),
            _ => None,
        };
        assert!(close(row[8].parse().ok(), cpl), "{channel} CPL {} vs {cpl:?}", row[8]);
    }

    // Sorting by a header, by mouse and keyboard.
    let th = c.find(Locator::Css("#channels thead th:nth-child(5)")).await.unwrap();
    th.click().await.unwrap();
    let sorted = table_cells(&c, "channels").await;
    let leads_col: Vec<f64> = sorted.iter().filter_map(|r| r[4].parse().ok()).collect();
    let direction = th.attr("aria-sort").await.unwrap().unwrap_or_default();
    let mut expected = leads_col.clone();
    expected.sort_by(f64::total_cmp);
    if direction == "descending" {
        expected.reverse();
    }
    assert_eq!(leads_col, expected, "sorted {direction}");

    // A chart becomes a PNG in the browser; its SVG downloads from the server.
    let png: String = serde_json::from_value(
        c.execute_async(
            "const done = arguments[arguments.length - 1];
             window.kpiflowChartPng('won-revenue-by-channel').then(done, e => done('error: ' + e));",
            vec![],
        )
        .await
        .unwrap(),
    )
    .unwrap();
    assert!(
        png.starts_with("data:image/png;base64,") && png.len() > 2000,
        "{}",
        &png[..png.len().min(80)]
    );
    let svg_hover: Vec<String> = serde_json::from_value(
        c.execute("return Array.from(document.querySelectorAll('#won-revenue-by-channel [data-value] title')).map(t => t.textContent);", vec![])
            .await
            .unwrap(),
    )
    .unwrap();
    assert!(!svg_hover.is_empty(), "bars carry their values on hover");
    assert!(console_errors(&c).await.is_empty());

    // Plan page: a what-if typed into the form recomputes the plan as `kpiflow plan` would.
    c.goto(&format!("{base}/plan?{view}")).await.unwrap();
    let period: String = serde_json::from_value(
        c.execute(
            "return document.querySelector('#plan-knobs [name=plan_period]').placeholder;",
            vec![],
        )
        .await
        .unwrap(),
    )
    .unwrap();
    let cli = run_json(
        &demo,
        &[
            "plan",
            "--target",
            "won_revenue=3000000",
            "--period",
            &period,
            "--set",
            "mql_to_sql_rate=0.5",
            "--format",
            "json",
        ],
    );
    let mqls = cli["rows"].as_array().unwrap().iter().find(|r| r["id"] == "mql").unwrap()["needed"]
        .as_f64()
        .unwrap();
    let form = c.form(Locator::Css("#plan-knobs")).await.unwrap();
    form.set_by_name("won_revenue", "3000000").await.unwrap();
    form.set_by_name("mql_to_sql_rate", "0.5").await.unwrap();
    form.submit().await.unwrap();
    // The submitted page replaces this one when it arrives: until then `#plan` is the old
    // table, so poll for the what-if's page (its URL) before reading the table.
    let started = std::time::Instant::now();
    loop {
        let url = c.current_url().await.unwrap();
        if url.query().is_some_and(|q| q.contains("won_revenue=3000000")) {
            break;
        }
        assert!(started.elapsed() < Duration::from_secs(30), "the what-if did not load: {url}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    c.wait().for_element(Locator::Css("#plan")).await.unwrap();
    let cells = table_cells(&c, "plan").await;
    let row = cells.iter().find(|r| r[0] == "MQLs").unwrap();
    let shown: f64 = row[1].replace(',', "").parse().unwrap();
    assert_eq!(
        shown,
        kpiflow_goals::plan::whole(mqls),
        "plan page {row:?} against the CLI's {mqls}"
    );
    assert!(console_errors(&c).await.is_empty());
    std::fs::write(shots.join("plan-what-if.png"), c.screenshot().await.unwrap()).unwrap();

    // A phone: the overview fits the screen's width.
    c.set_window_size(390, 844).await.unwrap();
    c.goto(&format!("{base}/?{view}")).await.unwrap();
    let overflow: bool = serde_json::from_value(
        c.execute("return document.documentElement.scrollWidth > window.innerWidth + 1;", vec![])
            .await
            .unwrap(),
    )
    .unwrap();
    std::fs::write(shots.join("overview-phone.png"), c.screenshot().await.unwrap()).unwrap();
    assert!(!overflow, "the overview is wider than a phone screen");

    c.close().await.unwrap();
}

/// Polls `script` (returning a boolean) until it is true, for at most 30 seconds.
async fn wait_until(c: &Client, script: &str, what: &str) {
    let started = std::time::Instant::now();
    loop {
        let done = c.execute(script, vec![]).await.unwrap();
        if done == json!(true) {
            return;
        }
        assert!(started.elapsed() < Duration::from_secs(30), "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// The Import page: a Google Ads UI export dropped in (set on the file input), previewed
/// (detected preset, rows as stored), imported with the token, and then its cost on the
/// Campaigns page. A wrong token shows the server's message; the token stays in the tab's
/// sessionStorage, never in the URL or localStorage.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn import_page_previews_and_imports_a_google_ads_export() {
    if std::env::var_os("KPIFLOW_SKIP_BROWSER_TESTS").is_some() {
        eprintln!("KPIFLOW_SKIP_BROWSER_TESTS is set: browser tests skipped");
        return;
    }
    const TOKEN: &str = "browser-test-token-0123456789";
    // A fresh project (USD, UTC): the Campaigns page then shows the export's rows only.
    let p = project();
    let export = tests_dir().join("fixtures/browser/Campaign report.csv");
    let export = export.canonicalize().unwrap();
    let (_server, base) = serve_with_token(p.path(), Some(TOKEN));
    let profile = tempfile::tempdir().unwrap();
    let (_driver, c) = browser(profile.path()).await;
    let shots = screenshots();

    c.goto(&format!("{base}/import")).await.unwrap();
    c.wait().for_element(Locator::Css("#import-form")).await.unwrap();
    assert!(console_errors(&c).await.is_empty());
    // The script enabled Preview; Import waits for a preview.
    let preview = c.find(Locator::Css("#import-preview")).await.unwrap();
    let run = c.find(Locator::Css("#import-run")).await.unwrap();
    assert!(preview.is_enabled().await.unwrap());
    assert!(!run.is_enabled().await.unwrap());

    // A file dropped on the zone fills the file input (a synthetic drop: WebDriver cannot drag
    // from the desktop); then the input is emptied again.
    let dropped = c
        .execute(
            "const t = new DataTransfer();
             t.items.add(new File(['Campaign,Day,Cost,Impr.\\n'], 'dropped.csv', {type: 'text/csv'}));
             document.getElementById('import-drop').dispatchEvent(
                 new DragEvent('drop', {dataTransfer: t, bubbles: true, cancelable: true}));
             const input = document.getElementById('import-file');
             const seen = [input.files.length, input.files[0].name,
                 document.querySelector('#import-file-list li').textContent];
             input.value = '';
             input.dispatchEvent(new Event('change', {bubbles: true}));
             return seen;",
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(dropped, json!([1, "dropped.csv", "dropped.csv (24 B)"]));

    let file_input = c.find(Locator::Css("input[type=file]")).await.unwrap();
    file_input.send_keys(export.to_str().unwrap()).await.unwrap();
    wait_until(
        &c,
        "return document.querySelectorAll('#import-file-list li').length === 1;",
        "the chosen file listed",
    )
    .await;

    // A wrong token: the server's message, and no Import.
    let token = c.find(Locator::Css("#import-token")).await.unwrap();
    token.send_keys("not-the-token-0123456789").await.unwrap();
    preview.click().await.unwrap();
    c.wait().for_element(Locator::Css("#import-error")).await.unwrap();
    let error = c.find(Locator::Css("#import-error")).await.unwrap().text().await.unwrap();
    assert!(error.contains("the bearer token is not the server's"), "{error}");
    assert!(!run.is_enabled().await.unwrap());
    // The 401 is the browser's network log entry, not a script error.
    for e in console_errors(&c).await {
        assert!(e.contains("401"), "console error {e}");
    }

    // The right token; Preview: the detected preset and the rows as they will be stored.
    token.clear().await.unwrap();
    token.send_keys(TOKEN).await.unwrap();
    preview.click().await.unwrap();
    c.wait().for_element(Locator::Css("#preview-ad_spend tbody tr")).await.unwrap();
    let files = table_cells(&c, "preview-files").await;
    assert_eq!(files.len(), 1, "{files:?}");
    assert_eq!(files[0][0], "Campaign report.csv");
    assert_eq!(files[0][1], "preset google-ads-campaigns", "{files:?}");
    assert_eq!(files[0][2], "ad_spend");
    let headers: Vec<String> = serde_json::from_value(
        c.execute(
            "return Array.from(document.querySelectorAll('#preview-ad_spend thead th')).map(t => t.textContent);",
            vec![],
        )
        .await
        .unwrap(),
    )
    .unwrap();
    let rows = table_cells(&c, "preview-ad_spend").await;
    // Three day rows; the `Total: Account` row is not data.
    assert_eq!(rows.len(), 3, "{rows:?}");
    let col = |name: &str| headers.iter().position(|h| h == name).unwrap();
    assert_eq!(rows[0][col("date")], "2025-09-01");
    assert_eq!(rows[0][col("campaign")], "Search - Brand, EN");
    assert_eq!(rows[0][col("cost")].parse::<f64>().unwrap(), 1234.5, "{rows:?}");
    assert_eq!(rows[0][col("impressions")], "10200");
    // ` --`: no value, shown as a dash.
    assert_eq!(rows[1][col("conversions")], "—", "{rows:?}");
    assert_eq!(rows[2][col("campaign")], "Display - Müller Retargeting");
    let clean = c.find(Locator::Css("#import-preview-result .import-clean")).await;
    assert!(clean.is_ok(), "the preview shows errors");
    assert!(run.is_enabled().await.unwrap());
    assert!(console_errors(&c).await.is_empty());
    std::fs::write(shots.join("import-preview.png"), c.screenshot().await.unwrap()).unwrap();

    // The token is kept for this tab only, and never in the URL.
    let kept: Value = c
        .execute(
            "return [sessionStorage.getItem('kpiflow.token'), localStorage.length, location.href];",
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(kept[0], TOKEN);
    assert_eq!(kept[1], 0);
    assert!(!kept[2].as_str().unwrap().contains(TOKEN));

    // Import: the outcome per file and per table, with a link to the Campaigns page.
    run.click().await.unwrap();
    c.wait().for_element(Locator::Css("#import-outcome")).await.unwrap();
    let files = table_cells(&c, "outcome-files").await;
    // file, read by, tables, read, rejected, dropped (the Total row)
    assert_eq!(
        files,
        vec![vec!["Campaign report.csv", "preset google-ads-campaigns", "ad_spend", "3", "0", "1"]]
    );
    let tables = table_cells(&c, "outcome-tables").await;
    // table, rows, inserted, updated, unchanged, version
    assert_eq!(tables[0][..5], ["ad_spend", "3", "3", "0", "0"], "{tables:?}");
    assert!(!run.is_enabled().await.unwrap(), "one import per preview");
    let link = c.find(Locator::Css("#import-outcome .import-links a")).await.unwrap();
    assert_eq!(link.text().await.unwrap(), "Campaigns");
    assert!(console_errors(&c).await.is_empty());
    std::fs::write(shots.join("import-outcome.png"), c.screenshot().await.unwrap()).unwrap();

    // The Campaigns page for the export's month shows its cost, formatted as the page formats
    // money: "Search - Brand, EN" 1,234.50 + 987.25 = 2,221.75; "Display - Müller
    // Retargeting" 45.10; the ad cost tile 2,266.85 (the export's own `Total: Account`).
    c.goto(&format!("{base}/campaigns?period=2025-09")).await.unwrap();
    c.wait().for_element(Locator::Css("#campaigns tbody tr")).await.unwrap();
    let shown: Vec<Vec<String>> = serde_json::from_value(
        c.execute(
            "return Array.from(document.querySelectorAll('#campaigns tbody tr')).map(r =>
                Array.from(r.cells).map(td => td.textContent.trim()));",
            vec![],
        )
        .await
        .unwrap(),
    )
    .unwrap();
    let headers: Vec<String> = serde_json::from_value(
        c.execute(
            "return Array.from(document.querySelectorAll('#campaigns thead th')).map(t => t.textContent.trim());",
            vec![],
        )
        .await
        .unwrap(),
    )
    .unwrap();
    let cost = headers.iter().position(|h| h == "Ad spend").unwrap();
    let campaign = |name: &str| {
        shown.iter().find(|r| r[1] == name).unwrap_or_else(|| panic!("no {name}: {shown:?}"))
    };
    assert_eq!(campaign("Search - Brand, EN")[cost], "2,221.75 USD", "{headers:?} {shown:?}");
    assert_eq!(campaign("Display - Müller Retargeting")[cost], "45.10 USD");
    let tile = c
        .find(Locator::Css(".tile[data-kpi=ad_cost] .tile-value"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert_eq!(tile, "2,266.85 USD");
    assert!(console_errors(&c).await.is_empty());
    std::fs::write(shots.join("import-campaigns.png"), c.screenshot().await.unwrap()).unwrap();

    // The Data page names the preset that read the file.
    c.goto(&format!("{base}/data")).await.unwrap();
    let log = table_cells(&c, "imports").await;
    assert!(log.iter().any(|r| r.iter().any(|v| v == "preset google-ads-campaigns")), "{log:?}");

    c.close().await.unwrap();
}
