//! `kpiflow alerts`: the alert rules of kpiflow.toml; exit 3 when any fires, and tell the
//! webhook.

use std::io::Write;
use std::path::Path;
use std::time::Duration;

use kpiflow_engine::report::format_value;
use kpiflow_engine::tracking::AlertResult;
use serde_json::{Value, json};

use super::Project;
use super::goals::parse_date;
use super::report::{num, open_engine};
use crate::cli::{AlertsArgs, OutputFormat};
use crate::output::Rows;
use crate::{AlertsFired, UserError};

pub async fn run(project_dir: &Path, quiet: bool, args: AlertsArgs) -> anyhow::Result<()> {
    let project = Project::open(project_dir)?;
    if project.config.alerts.is_empty() {
        return Err(UserError(format!(
            "{} has no [[alerts]]; add one such as\n\n[[alerts]]\nid = \"leads-drop\"\nkpi = \
             \"leads\"\nkind = \"anomaly\"\n\n(see README.md, Alerts)",
            project_dir.join(kpiflow_model::config::CONFIG_FILE).display()
        ))
        .into());
    }
    let since = parse_date("since", args.since.as_deref())?;
    let date = parse_date("date", args.date.as_deref())?;
    let webhook = match (&args.webhook, args.no_webhook) {
        (_, true) => None,
        (Some(w), _) => {
            if !(w.starts_with("http://") || w.starts_with("https://")) {
                return Err(UserError(format!(
                    "--webhook `{w}` is not a URL; expected http:// or https://"
                ))
                .into());
            }
            Some(w.clone())
        }
        (None, false) => project.config.alerting.webhook.clone(),
    };
    let as_of = super::parse_as_of(args.as_of.as_deref())?;
    let engine = open_engine(&project, as_of).await?;
    engine.check_tracking()?;
    let results = engine.alerts(since, date).await?;
    let currency = project.config.currency.clone();
    {
        let mut out = std::io::stdout().lock();
        print(&results, &currency, args.format, &mut out)?;
    }
    let fired: usize = results.iter().map(|r| r.fired().count()).sum();
    if fired == 0 {
        return Ok(());
    }
    if let Some(url) = webhook {
        let body = slack_body(&project.config.name, &results, &currency);
        post(&url, &body).await?;
        if !quiet {
            eprintln!("posted {fired} fired alert(s) to the webhook");
        }
    }
    Err(AlertsFired(fired).into())
}

/// One line per fired bucket: what, where, when, why.
fn line(r: &AlertResult, c: &kpiflow_engine::tracking::AlertCheck, currency: &str) -> String {
    let scope = if r.filters.is_empty() {
        String::new()
    } else {
        let f: Vec<String> = r.filters.iter().map(|(d, v)| format!("{d} = {v}")).collect();
        format!(" ({})", f.join(", "))
    };
    format!(
        "{}: {}{scope} in {} was {}: {}",
        r.id,
        r.kpi_name,
        c.bucket,
        format_value(c.value, r.unit, currency),
        c.reason
    )
}

/// The message: `text` for any Slack-compatible receiver (Slack, Mattermost, Rocket.Chat,
/// Discord's /slack endpoint), and the same as one `blocks` section for Slack's layout.
pub fn slack_body(project: &str, results: &[AlertResult], currency: &str) -> Value {
    let lines: Vec<String> = results
        .iter()
        .flat_map(|r| r.fired().map(move |c| format!("• {}", line(r, c, currency))))
        .collect();
    let text =
        format!("kpiflow — {}: {} alert(s) fired\n{}", project, lines.len(), lines.join("\n"));
    json!({
        "text": text,
        "blocks": [
            { "type": "section", "text": { "type": "mrkdwn", "text": text } }
        ]
    })
}

async fn post(url: &str, body: &Value) -> anyhow::Result<()> {
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(15))
        .build()
        .map_err(|e| anyhow::anyhow!("cannot start the HTTP client: {e}"))?;
    let response = client
        .post(url)
        .header("content-type", "application/json")
        .body(body.to_string())
        .send()
        .await
        .map_err(|e| UserError(format!("the webhook {url} did not answer: {e}")))?;
    let status = response.status();
    if !status.is_success() {
        let text = response.text().await.unwrap_or_default();
        let text: String = text.chars().take(200).collect();
        return Err(UserError(format!("the webhook {url} answered {status}: {text}")).into());
    }
    Ok(())
}

pub fn print(
    results: &[AlertResult],
    currency: &str,
    format: OutputFormat,
    out: &mut dyn Write,
) -> anyhow::Result<()> {
    match format {
        OutputFormat::Json => {
            serde_json::to_writer_pretty(&mut *out, results)?;
            writeln!(out)?;
            Ok(())
        }
        OutputFormat::Csv => {
            let mut rows = Rows::new(&[
                "alert", "kpi", "grain", "bucket", "value", "fired", "expected", "z", "reason",
            ]);
            for r in results {
                for c in &r.checks {
                    rows.push(vec![
                        json!(r.id),
                        json!(r.kpi),
                        json!(r.grain),
                        json!(c.bucket),
                        num(c.value),
                        json!(c.fired),
                        num(c.expected),
                        num(c.z),
                        json!(c.reason),
                    ]);
                }
            }
            rows.render(format, out)
        }
        OutputFormat::Table | OutputFormat::Markdown => {
            let mut rows = Rows::new(&["alert", "kpi", "bucket", "value", "status", "why"]);
            for r in results {
                for c in &r.checks {
                    rows.push(vec![
                        json!(r.id),
                        json!(r.kpi_name),
                        json!(c.bucket),
                        json!(format_value(c.value, r.unit, currency)),
                        json!(if c.fired { "FIRED" } else { "ok" }),
                        json!(c.reason),
                    ]);
                }
            }
            rows.render(format, out)?;
            for r in results {
                for n in &r.notes {
                    writeln!(out, "note: {}: {n}", r.id)?;
                }
            }
            let fired: Vec<String> =
                results.iter().flat_map(|r| r.fired().map(move |c| line(r, c, currency))).collect();
            if fired.is_empty() {
                writeln!(out, "No alert fired.")?;
            } else {
                writeln!(out, "{} alert(s) fired:", fired.len())?;
                for f in fired {
                    writeln!(out, "  {f}")?;
                }
            }
            Ok(())
        }
    }
}
