//! `kpiflow links`: UTM-tagged short links for dark social, and their clicks.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::Path;

use kpiflow_store::NewLink;
use serde_json::json;

use super::Project;
use crate::cli::{LinksAddArgs, LinksCommand, LinksListArgs};
use crate::output::Rows;

pub async fn run(project_dir: &Path, command: LinksCommand) -> anyhow::Result<()> {
    let project = Project::open(project_dir)?;
    match command {
        LinksCommand::Add(args) => add(&project, args).await,
        LinksCommand::List(args) => list(&project, args).await,
    }
}

/// The short URL on the configured server address.
fn short_url(project: &Project, code: &str) -> String {
    format!("http://{}/l/{code}", project.config.server.addr)
}

async fn add(project: &Project, args: LinksAddArgs) -> anyhow::Result<()> {
    let link = project
        .store
        .add_link(NewLink {
            code: args.code,
            target: args.url,
            utm_source: args.source,
            utm_medium: args.medium,
            utm_campaign: args.campaign,
            utm_content: args.content,
            utm_term: args.term,
        })
        .await?;
    let mut rows = Rows::new(&["code", "short_url", "redirects_to"]);
    rows.push(vec![
        json!(link.code),
        json!(short_url(project, &link.code)),
        json!(link.tagged_target(&[])),
    ]);
    let mut out = std::io::stdout().lock();
    rows.render(args.format, &mut out)?;
    out.flush()?;
    Ok(())
}

async fn list(project: &Project, args: LinksListArgs) -> anyhow::Result<()> {
    let links = project.store.links().await?;
    let mut clicks: BTreeMap<String, (u64, Option<String>)> = BTreeMap::new();
    for c in project.store.clicks().await? {
        let entry = clicks.entry(c.code.clone()).or_default();
        entry.0 += 1;
        entry.1 = Some(c.clicked_at.to_rfc3339());
    }
    let mut rows =
        Rows::new(&["code", "short_url", "redirects_to", "created_at", "clicks", "last_click"]);
    for l in &links {
        let (n, last) = clicks.get(&l.code).cloned().unwrap_or_default();
        rows.push(vec![
            json!(l.code),
            json!(short_url(project, &l.code)),
            json!(l.tagged_target(&[])),
            json!(l.created_at.to_rfc3339()),
            json!(n),
            json!(last),
        ]);
    }
    let mut out = std::io::stdout().lock();
    rows.render(args.format, &mut out)?;
    out.flush()?;
    Ok(())
}
