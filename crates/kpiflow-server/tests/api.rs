//! The router end to end with `oneshot`: every endpoint, bad requests, tokens, limits, and the
//! OpenAPI document against what the server answers. Data: the CLI's tiny fixture (America/
//! New_York, fiscal year from April), whose figures `kpiflow-cli/tests/report.rs` derives by hand.
#![allow(clippy::unwrap_used)]

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use http_body_util::BodyExt;
use kpiflow_catalog::Catalog;
use kpiflow_catalog::channels::ChannelRules;
use kpiflow_model::ProjectConfig;
use kpiflow_server::{AppState, ServerOptions, router};
use kpiflow_store::import::{ImportRequest, OnError};
use serde_json::{Value, json};
use tower::ServiceExt;

const TOKEN: &str = "test-token-0123456789";

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../kpiflow-cli/tests/fixtures/tiny")
}

/// A project over the tiny fixture; `extra` is appended to kpiflow.toml.
async fn project(extra: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let text = format!(
        "[project]\nname = \"tiny\"\ncurrency = \"USD\"\ntimezone = \"America/New_York\"\n\
         fiscal_year_start_month = 4\n{extra}"
    );
    std::fs::write(dir.path().join("kpiflow.toml"), text).unwrap();
    let config = ProjectConfig::load(dir.path()).unwrap();
    let store = kpiflow_store::Store::open(&config.data_dir).unwrap();
    for table in ["ad_spend", "sessions", "contacts", "stage_changes", "deals", "revenue", "costs"]
    {
        let request = ImportRequest::into_table(
            kpiflow_model::table(table).unwrap(),
            vec![fixtures().join(format!("{table}.csv"))],
            None,
            None,
            OnError::Fail,
            dir.path().join("rejects.csv"),
        );
        kpiflow_store::import(&store, &config, &request, &mut |_| {}).await.unwrap();
    }
    dir
}

fn state(dir: &Path, token: Option<&str>) -> AppState {
    let config = ProjectConfig::load(dir).unwrap();
    let mut catalog = Catalog::builtin().unwrap();
    if let Some(text) = &config.catalog {
        catalog.add(text, "kpiflow.toml", true).unwrap();
    }
    let rules = ChannelRules::from_config(&config.channels).unwrap();
    AppState::new(ServerOptions {
        project_dir: dir.to_path_buf(),
        config,
        catalog,
        rules,
        token: token.map(str::to_owned),
        runtime: Default::default(),
    })
    .unwrap()
}

struct Answer {
    status: StatusCode,
    content_type: String,
    headers: axum::http::HeaderMap,
    body: Vec<u8>,
}

impl Answer {
    fn json(&self) -> Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {}", String::from_utf8_lossy(&self.body)))
    }

    fn text(&self) -> String {
        String::from_utf8(self.body.clone()).unwrap()
    }

    /// An error answer must be exactly `{code, message, hints}`.
    fn error(&self, status: StatusCode, code: &str) -> Value {
        assert_eq!(self.status, status, "{}", self.text());
        let v = self.json();
        let keys: BTreeSet<&str> = v.as_object().unwrap().keys().map(String::as_str).collect();
        assert_eq!(keys, BTreeSet::from(["code", "message", "hints"]), "{v}");
        assert_eq!(v["code"], code, "{v}");
        v
    }
}

async fn send(state: &AppState, request: Request<Body>) -> Answer {
    let response = router(state.clone()).oneshot(request).await.unwrap();
    let status = response.status();
    let headers = response.headers().clone();
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default();
    let body = response.into_body().collect().await.unwrap().to_bytes().to_vec();
    Answer { status, content_type, headers, body }
}

async fn get(state: &AppState, uri: &str) -> Answer {
    send(state, Request::get(uri).body(Body::empty()).unwrap()).await
}

async fn post_json(state: &AppState, uri: &str, body: &str) -> Answer {
    let request = Request::post(uri)
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from(body.to_owned()))
        .unwrap();
    send(state, request).await
}

/// A multipart form: text fields, then files (name, content).
fn multipart(fields: &[(&str, &str)], files: &[(&str, &[u8])]) -> (String, Vec<u8>) {
    let boundary = "kpiflow-test-boundary-7d3f";
    let mut body = Vec::new();
    for (name, value) in fields {
        body.extend(
            format!(
                "--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n"
            )
            .bytes(),
        );
    }
    for (file_name, content) in files {
        body.extend(
            format!(
                "--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{file_name}\"\r\n\
                 Content-Type: text/csv\r\n\r\n"
            )
            .bytes(),
        );
        body.extend_from_slice(content);
        body.extend(b"\r\n");
    }
    body.extend(format!("--{boundary}--\r\n").bytes());
    (format!("multipart/form-data; boundary={boundary}"), body)
}

async fn post_import(state: &AppState, auth: Option<&str>, form: (String, Vec<u8>)) -> Answer {
    let mut request = Request::post("/api/imports").header(header::CONTENT_TYPE, form.0);
    if let Some(a) = auth {
        request = request.header(header::AUTHORIZATION, a);
    }
    send(state, request.body(Body::from(form.1)).unwrap()).await
}

#[tokio::test]
async fn health_catalog_and_unknown_paths() {
    let dir = project("").await;
    let s = state(dir.path(), None);
    let health = get(&s, "/api/health").await;
    assert_eq!(health.status, StatusCode::OK);
    assert_eq!(health.json()["status"], "ok");
    assert_eq!(health.json()["writes"], false);

    let kpis = get(&s, "/api/kpis").await.json();
    assert_eq!(kpis.as_array().unwrap().len(), s.catalog().kpis.len());
    let cpl = get(&s, "/api/kpis/cpl").await;
    assert_eq!(cpl.status, StatusCode::OK);
    assert_eq!(cpl.json()["formula"], "ad_cost / leads");
    assert_eq!(cpl.json()["unit"], "currency");
    let typo = get(&s, "/api/kpis/cpll").await.error(StatusCode::NOT_FOUND, "not_found");
    assert_eq!(typo["hints"][0], "did you mean `cpl`?");

    get(&s, "/api/nope").await.error(StatusCode::NOT_FOUND, "not_found");
    let page = get(&s, "/nope").await;
    assert_eq!(page.status, StatusCode::NOT_FOUND);
    assert!(page.content_type.starts_with("text/html"), "{}", page.content_type);
}

#[tokio::test]
async fn report_answers_what_the_cli_answers() {
    let dir = project("").await;
    let s = state(dir.path(), None);
    let uri =
        "/api/report?kpi=leads,mqls,cpl,won_revenue&by=channel&period=FY2026-Q1&compare=previous";
    let answer = get(&s, uri).await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.text());
    assert!(answer.content_type.starts_with("application/json"));
    let api = answer.json();
    // The same request straight to the engine, through the JSON the CLI prints.
    let engine = s.engine().await.unwrap();
    let request = kpiflow_engine::ReportRequest {
        kpis: ["leads", "mqls", "cpl", "won_revenue"].map(String::from).to_vec(),
        by: vec!["channel".into()],
        period: Some(kpiflow_engine::Period::parse("FY2026-Q1", &engine.calendar()).unwrap()),
        compare: Some(kpiflow_engine::Compare::Previous),
        window_days: Some(90),
        ..Default::default()
    };
    assert_eq!(api, engine.report(&request).await.unwrap().to_json());
    insta::assert_snapshot!(
        "report_by_channel_fy2026_q1",
        serde_json::to_string_pretty(&api).unwrap()
    );

    // A filter is any other parameter; the POST form takes several values per dimension.
    let filtered =
        get(&s, "/api/report?kpi=leads&period=FY2026-Q1&channel=Paid+Search").await.json();
    let posted = post_json(
        &s,
        "/api/report",
        r#"{"kpis":["leads"],"period":"FY2026-Q1","filters":{"channel":["Paid Search"]}}"#,
    )
    .await;
    assert_eq!(posted.status, StatusCode::OK, "{}", posted.text());
    assert_eq!(filtered, posted.json());
}

#[tokio::test]
async fn report_errors_name_what_to_fix() {
    let dir = project("").await;
    let s = state(dir.path(), None);
    let e = get(&s, "/api/report?kpi=cpll").await.error(StatusCode::BAD_REQUEST, "unknown_name");
    assert_eq!(e["hints"][0], "did you mean `cpl`?");
    let e = get(&s, "/api/report?kpi=leads&chanel=Email")
        .await
        .error(StatusCode::BAD_REQUEST, "unknown_name");
    assert_eq!(e["hints"][0], "did you mean `channel`?");
    let e =
        get(&s, "/api/report?period=2025-13").await.error(StatusCode::BAD_REQUEST, "bad_request");
    assert!(e["message"].as_str().unwrap().starts_with("parameter `period`"), "{e}");
    get(&s, "/api/report?grain=fortnight").await.error(StatusCode::BAD_REQUEST, "unknown_name");
    get(&s, "/api/report?from=2025-01-01").await.error(StatusCode::BAD_REQUEST, "bad_request");
    get(&s, "/api/report?compare=lastyear").await.error(StatusCode::BAD_REQUEST, "unknown_name");
    get(&s, "/api/report?window=0").await.error(StatusCode::BAD_REQUEST, "bad_request");
    let e = get(&s, "/api/report?kpi=mrr&by=channel")
        .await
        .error(StatusCode::BAD_REQUEST, "bad_request");
    assert!(
        e["message"].as_str().unwrap().contains("cannot be split or filtered by `channel`"),
        "{e}"
    );
    post_json(&s, "/api/report", "{not json").await.error(StatusCode::BAD_REQUEST, "bad_request");
    post_json(&s, "/api/report", r#"{"kpi":["leads"]}"#)
        .await
        .error(StatusCode::BAD_REQUEST, "bad_request");
    post_json(&s, "/api/report", r#"{"filters":{"chanel":["x"]}}"#)
        .await
        .error(StatusCode::BAD_REQUEST, "unknown_name");
}

#[tokio::test]
async fn funnel_tables_and_import_log() {
    let dir = project("").await;
    let s = state(dir.path(), None);
    let funnel = get(&s, "/api/funnel?period=2025&by=channel").await;
    assert_eq!(funnel.status, StatusCode::OK, "{}", funnel.text());
    let f = funnel.json();
    assert_eq!(f["by"], "channel");
    assert!(!f["stages"].as_array().unwrap().is_empty());
    get(&s, "/api/funnel?mode=sideways").await.error(StatusCode::BAD_REQUEST, "unknown_name");
    get(&s, "/api/funnel?count=team").await.error(StatusCode::BAD_REQUEST, "unknown_name");

    let tables = get(&s, "/api/tables").await.json();
    let rows: Vec<(String, u64)> = tables["tables"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| (t["table"].as_str().unwrap().to_owned(), t["rows"].as_u64().unwrap()))
        .collect();
    assert!(rows.contains(&("contacts".into(), 5)), "{rows:?}");
    assert!(tables["warnings"].is_null());
    let checked = get(&s, "/api/tables?check=true").await.json();
    assert!(checked["warnings"].is_array());
    get(&s, "/api/tables?check=maybe").await.error(StatusCode::BAD_REQUEST, "bad_request");

    let log = get(&s, "/api/imports").await.json();
    assert_eq!(log.as_array().unwrap().len(), 7);
    assert_eq!(log[0]["number"], 1);
}

#[tokio::test]
async fn imports_need_a_token() {
    let csv =
        b"contact_id,created_at,account_id,original_source,region,segment,first_response_at\n\
                c9,2025-05-02T15:00:00Z,a9,PAID_SEARCH,EMEA,SMB,\n";
    let form = || multipart(&[("table", "contacts")], &[("more_contacts.csv", csv)]);

    // Without a token configured, writes are off.
    let dir = project("").await;
    let off = state(dir.path(), None);
    let e = post_import(&off, Some(&format!("Bearer {TOKEN}")), form()).await;
    e.error(StatusCode::FORBIDDEN, "writes_disabled");

    let s = state(dir.path(), Some(TOKEN));
    let missing = post_import(&s, None, form()).await;
    missing.error(StatusCode::UNAUTHORIZED, "unauthorized");
    assert_eq!(missing.headers.get(header::WWW_AUTHENTICATE).unwrap(), "Bearer");
    post_import(&s, Some("Bearer wrong-token-0123456789"), form())
        .await
        .error(StatusCode::UNAUTHORIZED, "unauthorized");

    let leads = |v: Value| v["rows"][0]["value"].as_f64().unwrap();
    let before = leads(get(&s, "/api/report?kpi=leads&period=2025-05").await.json());
    let ok = post_import(&s, Some(&format!("Bearer {TOKEN}")), form()).await;
    assert_eq!(ok.status, StatusCode::CREATED, "{}", ok.text());
    assert_eq!(ok.json()["tables"][0]["inserted"], 1);
    // The next request sees the new snapshot.
    let after = leads(get(&s, "/api/report?kpi=leads&period=2025-05").await.json());
    assert_eq!(after, before + 1.0);
    assert_eq!(get(&s, "/api/imports").await.json().as_array().unwrap().len(), 8);

    // Bad forms and bad rows are user errors that say where.
    let auth = format!("Bearer {TOKEN}");
    let e =
        post_import(&s, Some(&auth), multipart(&[("table", "contact")], &[("c.csv", csv)])).await;
    assert_eq!(
        e.error(StatusCode::BAD_REQUEST, "unknown_name")["hints"][0],
        "did you mean `contacts`?"
    );
    post_import(&s, Some(&auth), multipart(&[("table", "contacts")], &[]))
        .await
        .error(StatusCode::BAD_REQUEST, "bad_request");
    post_import(&s, Some(&auth), multipart(&[("tabel", "contacts")], &[("c.csv", csv)]))
        .await
        .error(StatusCode::BAD_REQUEST, "unknown_name");
    let bad_row = b"contact_id,created_at\nc10,not-a-date\n";
    let e =
        post_import(&s, Some(&auth), multipart(&[("table", "contacts")], &[("bad.csv", bad_row)]))
            .await;
    let e = e.error(StatusCode::BAD_REQUEST, "bad_request");
    let message = e["message"].as_str().unwrap();
    assert!(message.contains("bad.csv") && message.contains("not-a-date"), "{message}");
    assert!(message.contains("on_error=skip"), "{message}");
    // Nothing was half-imported.
    assert_eq!(get(&s, "/api/imports").await.json().as_array().unwrap().len(), 8);
}

#[tokio::test]
async fn request_bodies_are_bounded() {
    let dir = project("[server]\nmax_body_mib = 1\n").await;
    let s = state(dir.path(), Some(TOKEN));
    let big = vec![b'x'; 2 << 20];
    let answer = post_import(
        &s,
        Some(&format!("Bearer {TOKEN}")),
        multipart(&[("table", "contacts")], &[("big.csv", &big)]),
    )
    .await;
    answer.error(StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large");
    // The rejected upload left nothing behind.
    let uploads = dir.path().join("uploads");
    let left = std::fs::read_dir(&uploads).map(|d| d.count()).unwrap_or(0);
    assert_eq!(left, 0);
}

/// Every route is in the document and every documented path answers; responses carry the
/// documented keys.
#[tokio::test]
async fn openapi_matches_the_routes() {
    let dir = project("").await;
    let s = state(dir.path(), None);
    let doc = get(&s, "/api/openapi.json").await.json();
    let mut documented = BTreeSet::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for method in item.as_object().unwrap().keys() {
            documented.insert(format!("{} {path}", method.to_uppercase()));
        }
    }
    let expected: BTreeSet<String> = [
        "GET /api/health",
        "GET /api/kpis",
        "GET /api/kpis/{id}",
        "GET /api/report",
        "POST /api/report",
        "GET /api/funnel",
        "GET /api/attribution",
        "GET /api/goals",
        "GET /api/plan",
        "GET /api/diagnosis",
        "GET /api/tables",
        "GET /api/imports",
        "POST /api/imports",
        "POST /api/imports/preview",
    ]
    .map(String::from)
    .into();
    assert_eq!(documented, expected);
    assert!(doc["components"]["securitySchemes"]["bearer"].is_object());

    let schema_keys = |name: &str| -> BTreeSet<String> {
        doc["components"]["schemas"][name]["properties"]
            .as_object()
            .unwrap()
            .keys()
            .cloned()
            .collect()
    };
    let keys = |v: &Value| -> BTreeSet<String> { v.as_object().unwrap().keys().cloned().collect() };
    let report =
        get(&s, "/api/report?kpi=leads,cpl&by=channel&period=2025&compare=previous").await.json();
    assert_eq!(keys(&report), schema_keys("ReportDoc"));
    let row_keys = schema_keys("ReportRowDoc");
    for row in report["rows"].as_array().unwrap() {
        let extra: Vec<String> = keys(row).difference(&row_keys).cloned().collect();
        assert_eq!(extra, vec!["channel".to_owned()], "undocumented keys besides the split: {row}");
    }
    let funnel = get(&s, "/api/funnel").await.json();
    assert_eq!(keys(&funnel), schema_keys("FunnelDoc"));
    assert_eq!(keys(&funnel["stages"][0]), schema_keys("FunnelStageDoc"));
    let attribution = get(&s, "/api/attribution?period=2025&model=first,markov").await.json();
    assert_eq!(keys(&attribution), schema_keys("AttributionDoc"));
    assert_eq!(keys(&attribution["journeys"]), schema_keys("JourneysDoc"));
    assert_eq!(keys(&attribution["models"][0]), schema_keys("AttributionModelDoc"));
    assert_eq!(keys(&attribution["rows"][0]), schema_keys("AttributionRowDoc"));
    assert_eq!(keys(&get(&s, "/api/goals").await.json()), schema_keys("GoalsDoc"));
    let plan = get(&s, "/api/plan?won_revenue=10000&plan_period=FY2027").await;
    assert_eq!(plan.status, StatusCode::OK, "{}", plan.text());
    assert_eq!(keys(&plan.json()), schema_keys("PlanDoc"));
    let diagnosis = get(&s, "/api/diagnosis?from=2025-05-01&to=2025-05-31").await;
    assert_eq!(diagnosis.status, StatusCode::OK, "{}", diagnosis.text());
    assert_eq!(keys(&diagnosis.json()), schema_keys("DiagnosisDoc"));
    assert_eq!(keys(&get(&s, "/api/tables").await.json()), schema_keys("TablesDoc"));
    assert_eq!(keys(&get(&s, "/api/imports").await.json()[0]), schema_keys("ImportLogDoc"));
    assert_eq!(keys(&get(&s, "/api/kpis/cpl").await.json()), schema_keys("KpiDoc"));
    assert_eq!(keys(&get(&s, "/api/health").await.json()), schema_keys("Health"));
    let _ = json!(null);
}

#[tokio::test]
async fn every_dashboard_page_renders_and_downloads_match() {
    let dir = project("").await;
    let s = state(dir.path(), None);
    for page in [
        "/",
        "/funnel",
        "/channels",
        "/campaigns",
        "/revenue",
        "/email",
        "/social",
        "/seo",
        "/attribution",
        "/attribution?conversion=revenue",
        "/channels?model=markov",
        "/goals",
        "/plan",
        "/plan?won_revenue=20000&plan_period=FY2027&mql_to_sql_rate=0.5",
        "/definitions",
        "/data",
        "/import",
    ] {
        let sep = if page.contains('?') { '&' } else { '?' };
        let answer = get(&s, &format!("{page}{sep}period=2025")).await;
        assert_eq!(answer.status, StatusCode::OK, "{page}: {}", answer.text());
        assert!(answer.content_type.starts_with("text/html"), "{page}");
        let html = answer.text();
        assert!(html.contains("<h1>"), "{page}");
        assert!(!html.contains("NaN"), "{page} shows NaN");
    }
    // Email data is not imported: the page says so rather than showing zeros.
    let email = get(&s, "/email?period=2025").await.text();
    assert!(email.contains("import email_campaigns"), "{email}");

    let csv = get(&s, "/channels/table/channels.csv?period=2025").await;
    assert_eq!(csv.status, StatusCode::OK);
    assert!(csv.content_type.starts_with("text/csv"));
    assert!(csv.text().starts_with("channel,Won revenue,"), "{}", csv.text());
    let svg = get(&s, "/channels/chart/won-revenue-by-channel.svg?period=2025").await;
    assert_eq!(svg.status, StatusCode::OK, "{}", svg.text());
    assert_eq!(svg.content_type, "image/svg+xml");
    assert!(svg.text().contains("<svg"));
    assert_eq!(get(&s, "/channels/table/nope.csv").await.status, StatusCode::NOT_FOUND);

    // A bad filter is a 400 page that says what to fix.
    let bad = get(&s, "/channels?period=2025-13").await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    assert!(bad.content_type.starts_with("text/html"));
    assert!(bad.text().contains("parameter `period`"));
}

/// `/api/attribution` answers what the engine answers; bad models, targets and parameters are 400s
/// that say what to fix; the Channels page credits leads by the model in its URL.
#[tokio::test]
async fn attribution_endpoint_and_channels_by_model() {
    let dir = project("").await;
    let s = state(dir.path(), None);
    let answer =
        get(&s, "/api/attribution?period=2025&model=first,linear,markov&conversion=lead").await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.text());
    let doc = answer.json();
    let engine = s.engine().await.unwrap();
    let request = kpiflow_engine::attribution::AttributionRequest {
        target: kpiflow_engine::attribution::ConversionTarget::parse(
            "lead",
            &s.config().funnel.stages,
        )
        .unwrap(),
        period: Some(kpiflow_engine::Period::parse("2025", &engine.calendar()).unwrap()),
        lookback_days: None,
        models: kpiflow_attribution::ModelSpec::parse_list("first,linear,markov").unwrap(),
        skip_unsupported: false,
    };
    assert_eq!(doc, engine.attribution(&request).await.unwrap().to_json());
    let conversions: f64 = doc["rows"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["model"] == "markov")
        .map(|r| r["conversions"].as_f64().unwrap())
        .sum();
    assert!((conversions - doc["journeys"]["conversions"].as_f64().unwrap()).abs() < 1e-9);

    for (query, says) in [
        ("model=markow", "did you mean `markov`"),
        ("model=markov:9", "order must be 1, 2, 3 or 4"),
        ("conversion=sqls", "did you mean `sql`"),
        ("lookback=0", "parameter `lookback`"),
        ("channel=Email", "unknown parameter `channel`"),
    ] {
        let bad = get(&s, &format!("/api/attribution?{query}")).await;
        assert_eq!(bad.status, StatusCode::BAD_REQUEST, "{query}");
        assert!(bad.text().contains(says), "{query}: {}", bad.text());
    }

    // Channels page by model: the leads column is the linear model's credited leads.
    let csv = get(&s, "/channels/table/channels.csv?period=2025&model=linear").await.text();
    let credited = get(&s, "/api/attribution?period=2025&model=linear").await.json();
    let mut reader = csv::Reader::from_reader(csv.as_bytes());
    let headers: Vec<String> = reader.headers().unwrap().iter().map(str::to_owned).collect();
    let leads = headers.iter().position(|h| h == "Leads").unwrap();
    let mut checked = 0;
    for record in reader.records() {
        let record = record.unwrap();
        let want = credited["rows"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["channel"] == record[0])
            .map_or(0.0, |r| r["conversions"].as_f64().unwrap());
        let shown: f64 = record[leads].parse().unwrap();
        assert!((shown - want).abs() < 1e-6, "{}: {shown} vs {want}", &record[0]);
        checked += 1;
    }
    assert!(checked >= 2, "{csv}");
    let page = get(&s, "/channels?period=2025&model=markov:2").await.text();
    assert!(
        page.contains(r#"<option value="markov:2" selected>"#),
        "a parameterised model stays selected"
    );
    let bad = get(&s, "/channels?model=nope").await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
}

/// `/l/{code}` commits the click, then redirects to the tagged target; an unknown code is a 404;
/// a store that cannot take the click answers 503 and does not redirect.
#[tokio::test]
async fn short_links_record_the_click_before_redirecting() {
    let dir = project("").await;
    let s = state(dir.path(), None);
    let link = s
        .store()
        .add_link(kpiflow_store::NewLink {
            code: Some("launch".into()),
            target: "https://example.com/launch?ref=x".into(),
            utm_source: "linkedin".into(),
            utm_medium: "social".into(),
            utm_campaign: Some("spring".into()),
            utm_content: None,
            utm_term: None,
        })
        .await
        .unwrap();
    let answer = get(&s, "/l/launch?c=c1").await;
    assert_eq!(answer.status, StatusCode::FOUND);
    let location = answer.headers[header::LOCATION].to_str().unwrap().to_owned();
    assert!(
        location.starts_with("https://example.com/launch?ref=x&utm_source=linkedin&utm_medium=social&utm_campaign=spring&kpiflow_click=launch-"),
        "{location}"
    );
    let clicks = s.store().clicks().await.unwrap();
    assert_eq!(clicks.len(), 1, "the click is in the store once the redirect is answered");
    assert_eq!(clicks[0].contact_id.as_deref(), Some("c1"));
    assert!(location.ends_with(&clicks[0].click_id), "{location}");
    assert_eq!(link.code, "launch");

    let missing = get(&s, "/l/nope").await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
    assert!(missing.text().contains("no short link `nope`"));

    // The clicks table cannot be written (a file where its directory should be): 503, no redirect.
    let clicks_dir = s.store().table_dir(kpiflow_store::links::CLICKS_TABLE);
    std::fs::remove_dir_all(&clicks_dir).unwrap();
    std::fs::write(&clicks_dir, "not a directory").unwrap();
    let failed = get(&s, "/l/launch").await;
    assert_eq!(failed.status, StatusCode::SERVICE_UNAVAILABLE);
    assert!(failed.headers.get(header::LOCATION).is_none());
    assert!(failed.text().contains("could not be recorded"), "{}", failed.text());
}

#[tokio::test]
async fn queries_past_the_time_bound_answer_503() {
    let dir = project("[server]\nquery_timeout_secs = 1\n").await;
    let s = state(dir.path(), None);
    let slow = s
        .bounded(async {
            tokio::time::sleep(std::time::Duration::from_secs(3)).await;
            Ok(())
        })
        .await
        .unwrap_err();
    assert_eq!(slow.status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(slow.body.code, "timeout");
    assert!(slow.body.message.contains("longer than 1 s"), "{}", slow.body.message);
}

/// Goals, plans and diagnoses answer what the engine answers; mistakes are 400s that say what
/// to fix; the Goals and Plan pages show them.
#[tokio::test]
async fn goals_plan_and_diagnosis_endpoints() {
    let dir = project(
        "[[goals]]\nid = \"leads-q1\"\nkpi = \"leads\"\ntarget = 10\nperiod = \"FY2026-Q1\"\n\
         [[goals]]\nid = \"won\"\nkpi = \"won_revenue\"\ntarget = 2000\nperiod = \"FY2026-Q1\"\n",
    )
    .await;
    let s = state(dir.path(), None);
    // Five leads in FY2026-Q1 (2025-04-01..06-30, New York) by the last day with data.
    let goals = get(&s, "/api/goals?date=2025-06-30").await.json();
    let leads = &goals["goals"][0];
    assert_eq!(leads["id"], "leads-q1");
    assert_eq!(leads["state"], "ended");
    let won = &goals["goals"][1];
    // d1 won 1,000 on 2025-05-10 and d4 3,000 on 2025-06-01: 4,000 against 2,000, achieved.
    assert_eq!(won["actual"], 4000.0);
    assert_eq!(won["progress"], 2.0);
    assert_eq!(won["status"], "achieved");
    let page = get(&s, "/goals").await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.text().contains("cumulative actual against the pacing line"), "{}", page.text());

    let bad = get(&s, "/api/goals?dat=2025-06-30").await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    assert!(bad.text().contains("did you mean `date`"), "{}", bad.text());
    let bad = get(&s, "/api/plan?plan_period=FY2027").await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    assert!(bad.text().contains("give a target"), "{}", bad.text());
    let bad = get(&s, "/api/plan?won_revenue=1000&plan_period=FY2027&mql_to_sq_rate=0.5").await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    assert!(bad.text().contains("did you mean `mql_to_sql_rate`"), "{}", bad.text());
    let bad = get(&s, "/api/plan?won_revenue=1000&plan_period=FY2027&mql_to_sql_rate=5").await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    assert!(bad.text().contains("fraction"), "{}", bad.text());

    // The plan over the API = the plan the engine makes; a what-if changes what it should.
    let plan = get(&s, "/api/plan?won_revenue=5000&plan_period=FY2027").await.json();
    let what_if =
        get(&s, "/api/plan?won_revenue=5000&plan_period=FY2027&avg_deal_size=500").await.json();
    let needed = |doc: &Value, id: &str| {
        doc["rows"].as_array().unwrap().iter().find(|r| r["id"] == id).unwrap()["needed"].as_f64()
    };
    // Two won deals (1,000 and 3,000) in the trailing window, 2,000 a deal, won by one new
    // customer (c1; c5's deal has no customer stage): 2.5 deals, 1.25 customers; at 500 a deal,
    // 10 deals and 5 customers.
    assert_eq!(needed(&plan, "won_deals"), Some(2.5));
    assert_eq!(needed(&plan, "customer"), Some(1.25));
    assert_eq!(needed(&what_if, "won_deals"), Some(10.0));
    assert_eq!(needed(&what_if, "customer"), Some(5.0));
    let page = get(&s, "/plan?won_revenue=5000&plan_period=FY2027&avg_deal_size=500").await.text();
    assert!(page.contains("Plan for FY2027"), "{page}");
    assert!(page.contains("name=\"avg_deal_size\" value=\"500\""), "{page}");
    // A knob left empty takes the default plan's value (here the period).
    let page = get(&s, "/plan?won_revenue=5000&avg_deal_size=500").await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.text());
    assert!(page.text().contains("Plan for FY"), "{}", page.text());
    let csv =
        get(&s, "/plan/table/plan.csv?won_revenue=5000&plan_period=FY2027&avg_deal_size=500").await;
    assert_eq!(csv.status, StatusCode::OK);
    assert!(csv.text().lines().any(|l| l.starts_with("Won deals,10")), "{}", csv.text());
}

/// The Google Ads UI export of the browser test: a report-name line and a date-range line
/// before the header, quoted thousands, ` --` for no value, a `Total: Account` row at the end.
fn google_ads_export() -> Vec<u8> {
    std::fs::read(
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../kpiflow-cli/tests/fixtures/browser/Campaign report.csv"),
    )
    .unwrap()
}

async fn post_form(
    state: &AppState,
    uri: &str,
    auth: Option<&str>,
    form: (String, Vec<u8>),
) -> Answer {
    let mut request = Request::post(uri).header(header::CONTENT_TYPE, form.0);
    if let Some(a) = auth {
        request = request.header(header::AUTHORIZATION, a);
    }
    send(state, request.body(Body::from(form.1)).unwrap()).await
}

/// A report's single value (`None` when the KPI has no value for the view).
async fn report_value(state: &AppState, query: &str) -> Option<f64> {
    let answer = get(state, &format!("/api/report?{query}")).await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.text());
    answer.json()["rows"][0]["value"].as_f64()
}

/// A Google Ads export without `table`: the preview detects its preset and shows the rows as
/// stored, writing nothing; the import then stores them through the same preset.
#[tokio::test]
async fn import_preview_detects_a_google_ads_export_then_imports_it() {
    let dir = project("").await;
    let s = state(dir.path(), Some(TOKEN));
    let auth = format!("Bearer {TOKEN}");
    let export = google_ads_export();
    let form = || multipart(&[], &[("Campaign report.csv", &export)]);

    // The preview needs the token like the import.
    post_form(&s, "/api/imports/preview", None, form())
        .await
        .error(StatusCode::UNAUTHORIZED, "unauthorized");
    let off = state(dir.path(), None);
    post_form(&off, "/api/imports/preview", Some(&auth), form())
        .await
        .error(StatusCode::FORBIDDEN, "writes_disabled");
    post_form(&s, "/api/imports/preview?rows=500", Some(&auth), form())
        .await
        .error(StatusCode::BAD_REQUEST, "bad_request");

    let answer = post_form(&s, "/api/imports/preview", Some(&auth), form()).await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.text());
    let preview = answer.json();
    let file = &preview["files"][0];
    assert_eq!(preview["files"].as_array().unwrap().len(), 1, "{preview}");
    // The name the server read the upload under (its upload directory's copy; the page shows
    // the browser's file name in its place).
    let name = file["name"].as_str().unwrap();
    assert!(
        name.ends_with("Campaign report.csv") || name.ends_with("Campaign_report.csv"),
        "{name}"
    );
    assert_eq!(file["preset"], "google-ads-campaigns", "{preview}");
    assert_eq!(file["tables"], json!(["ad_spend"]));
    // The header after the two title lines.
    assert_eq!(
        file["header"],
        json!(["Campaign", "Day", "Currency code", "Cost", "Impr.", "Clicks", "Conversions"])
    );
    assert_eq!(preview["tables"].as_array().unwrap().len(), 1, "{preview}");
    let table = &preview["tables"][0];
    assert_eq!(table["table"], "ad_spend");
    let columns: Vec<&str> =
        table["columns"].as_array().unwrap().iter().map(|c| c.as_str().unwrap()).collect();
    let rows = table["rows"].as_array().unwrap();
    // Three day rows; the `Total: Account` row is not data.
    assert_eq!(rows.len(), 3, "{preview}");
    let cell = |row: usize, column: &str| -> Value {
        let i = columns.iter().position(|c| *c == column).unwrap_or_else(|| {
            panic!("no stored column {column} in {columns:?}");
        });
        rows[row][i].clone()
    };
    assert_eq!(cell(0, "date"), "2025-09-01");
    assert_eq!(cell(0, "platform"), "google_ads");
    assert_eq!(cell(0, "campaign"), "Search - Brand, EN");
    // "1,234.50" and "10,200": thousands separators read.
    assert_eq!(cell(0, "cost").as_str().unwrap().parse::<f64>().unwrap(), 1234.5);
    assert_eq!(cell(0, "impressions"), "10200");
    assert_eq!(cell(0, "clicks"), "412");
    assert_eq!(cell(0, "currency"), "USD");
    // ` --` is no value.
    assert_eq!(cell(1, "conversions"), Value::Null, "{preview}");
    assert_eq!(cell(2, "campaign"), "Display - Müller Retargeting");
    assert_eq!(cell(2, "cost").as_str().unwrap().parse::<f64>().unwrap(), 45.1);
    assert_eq!(preview["errors"], json!([]), "{preview}");
    // The documented keys.
    let doc = get(&s, "/api/openapi.json").await.json();
    let documented: BTreeSet<String> = doc["components"]["schemas"]["PreviewDoc"]["properties"]
        .as_object()
        .unwrap()
        .keys()
        .cloned()
        .collect();
    let answered: BTreeSet<String> = preview.as_object().unwrap().keys().cloned().collect();
    assert_eq!(answered, documented);
    assert!(doc["paths"]["/api/imports/preview"]["post"].is_object());

    // Nothing was written: no import logged, no September spend, no upload kept.
    assert_eq!(get(&s, "/api/imports").await.json().as_array().unwrap().len(), 7);
    assert_eq!(report_value(&s, "kpi=ad_cost&period=2025-09").await.unwrap_or(0.0), 0.0);
    let uploads = std::fs::read_dir(dir.path().join("uploads")).map(|d| d.count()).unwrap_or(0);
    assert_eq!(uploads, 0);

    // The import: the same form, no table, no preset.
    let answer = post_form(&s, "/api/imports", Some(&auth), form()).await;
    assert_eq!(answer.status, StatusCode::CREATED, "{}", answer.text());
    let outcome = answer.json();
    assert_eq!(outcome["import_number"], 8, "{outcome}");
    assert_eq!(outcome["files"][0]["preset"], "google-ads-campaigns", "{outcome}");
    assert_eq!(outcome["files"][0]["tables"], json!(["ad_spend"]));
    assert_eq!(outcome["files"][0]["rows_read"], 3, "{outcome}");
    assert_eq!(outcome["files"][0]["dropped"], 1, "the Total row: {outcome}");
    assert_eq!(outcome["dropped"], 1);
    assert_eq!(outcome["rejected"], 0);
    assert_eq!(outcome["tables"][0]["table"], "ad_spend");
    assert_eq!(outcome["tables"][0]["inserted"], 3, "{outcome}");
    assert_eq!(outcome["tables"][0]["committed"], true);

    // cost "1,234.50" + 987.25 + 45.10 = 2,266.85 (USD, the `Currency code` column), the
    // figure of the export's own `Total: Account` row.
    let cost = report_value(&s, "kpi=ad_cost&period=2025-09").await.unwrap();
    assert!((cost - 2266.85).abs() < 1e-6, "{cost}");
    // clicks 412 + 380 + 21 = 813
    assert_eq!(report_value(&s, "kpi=clicks&period=2025-09").await, Some(813.0));
    // The campaign with a comma in its name: 1,234.50 + 987.25 = 2,221.75.
    let brand =
        report_value(&s, "kpi=ad_cost&period=2025-09&campaign=Search%20-%20Brand%2C%20EN").await;
    assert!((brand.unwrap() - 2221.75).abs() < 1e-6, "{brand:?}");

    // The import log and the Data page name the preset.
    let log = get(&s, "/api/imports").await.json();
    let last = log.as_array().unwrap().last().unwrap().clone();
    assert_eq!(last["presets"], json!(["google-ads-campaigns"]), "{last}");
    let data = get(&s, "/data").await.text();
    assert!(data.contains("preset google-ads-campaigns"), "{data}");

    // Again: the same rows, unchanged.
    let again = post_form(&s, "/api/imports", Some(&auth), form()).await;
    assert_eq!(again.status, StatusCode::CREATED, "{}", again.text());
    assert_eq!(again.json()["tables"][0]["unchanged"], 3, "{}", again.text());
}

/// A file no preset recognises: a 400 that shows the header read and the nearest presets,
/// from the preview and the import alike; nothing is written.
#[tokio::test]
async fn import_of_a_file_no_preset_recognises_shows_its_header() {
    let dir = project("").await;
    let s = state(dir.path(), Some(TOKEN));
    let auth = format!("Bearer {TOKEN}");
    let mystery = b"Kampagne,Tag,Ausgaben\nBrand,2025-09-01,12.50\n";
    for uri in ["/api/imports/preview", "/api/imports"] {
        let answer =
            post_form(&s, uri, Some(&auth), multipart(&[], &[("mystery.csv", mystery)])).await;
        let e = answer.error(StatusCode::BAD_REQUEST, "bad_request");
        let message = e["message"].as_str().unwrap();
        assert!(message.contains("mystery.csv"), "{uri}: {message}");
        for column in ["Kampagne", "Tag", "Ausgaben"] {
            assert!(message.contains(column), "{uri}: the header is not shown: {message}");
        }
        assert!(message.contains("preset"), "{uri}: {message}");
    }
    // A Google Ads export without its `Impr.` column: not recognised, but the nearest preset
    // is named.
    let near = b"Campaign,Day,Currency code,Cost,Clicks\n\
                 \"Search - Brand, EN\",2025-09-01,USD,\"1,234.50\",412\n";
    let e = post_form(
        &s,
        "/api/imports/preview",
        Some(&auth),
        multipart(&[], &[("Campaign report.csv", near)]),
    )
    .await;
    let e = e.error(StatusCode::BAD_REQUEST, "bad_request");
    let message = e["message"].as_str().unwrap();
    assert!(message.contains("google-ads-campaigns"), "{message}");
    assert!(message.contains("Impr."), "the missing column is named: {message}");
    // A preset that does not exist is named as such.
    let e = post_form(
        &s,
        "/api/imports/preview",
        Some(&auth),
        multipart(&[("preset", "google-ads-campaign")], &[("mystery.csv", mystery)]),
    )
    .await;
    let e = e.error(StatusCode::BAD_REQUEST, "unknown_name");
    assert_eq!(e["hints"][0], "did you mean `google-ads-campaigns`?", "{e}");
    assert_eq!(get(&s, "/api/imports").await.json().as_array().unwrap().len(), 7);
}

/// The Import page offers its form only when the server takes imports; otherwise it says how
/// to turn them on.
#[tokio::test]
async fn import_page_offers_the_form_only_with_a_token() {
    let dir = project("").await;
    let on = get(&state(dir.path(), Some(TOKEN)), "/import").await;
    assert_eq!(on.status, StatusCode::OK, "{}", on.text());
    let html = on.text();
    assert!(html.contains("id=\"import-form\""), "{html}");
    assert!(html.contains("type=\"file\""), "{html}");
    assert!(html.contains("multiple"), "{html}");
    assert!(html.contains("type=\"password\""), "{html}");
    // Tables from the schema, presets from the registry, grouped by vendor.
    assert!(html.contains("<option value=\"ad_spend\">"), "{html}");
    assert!(html.contains("<optgroup label=\"Google Ads\">"), "{html}");
    assert!(html.contains("value=\"google-ads-campaigns\""), "{html}");
    // The token is never a form field (it would go into a URL or the upload).
    assert!(!html.contains("name=\"token\""), "{html}");
    // In the navigation, after Data; no filter bar on this page.
    let nav = html.split("<nav").nth(1).unwrap().split("</nav>").next().unwrap();
    let data = nav.find(">Data<").unwrap();
    let import = nav.find(">Import<").unwrap();
    assert!(data < import, "{nav}");
    assert!(!html.contains("form class=\"filters\""), "{html}");
    // The presets table downloads like any table.
    let csv = get(&state(dir.path(), Some(TOKEN)), "/import/table/presets.csv").await;
    assert_eq!(csv.status, StatusCode::OK);
    assert!(csv.text().lines().any(|l| l.starts_with("Google Ads,google-ads-campaigns,")));

    let off = get(&state(dir.path(), None), "/import").await;
    assert_eq!(off.status, StatusCode::OK);
    let html = off.text();
    assert!(!html.contains("id=\"import-form\""), "{html}");
    assert!(html.contains("Imports over HTTP are off"), "{html}");
    assert!(html.contains("KPIFLOW_TOKEN") && html.contains("[server]"), "{html}");
}
