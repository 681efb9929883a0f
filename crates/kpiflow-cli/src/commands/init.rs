//! `kpiflow init [DIR]`.

use std::path::Path;

use anyhow::Context;
use kpiflow_model::ProjectConfig;
use kpiflow_model::config::{CONFIG_FILE, config_template};

use crate::UserError;
use crate::cli::InitArgs;

pub fn run(project: &Path, args: InitArgs) -> anyhow::Result<()> {
    let dir = args.dir.as_deref().unwrap_or(project);
    let config = init(dir, args.name.as_deref(), &args.currency, &args.timezone, args.force)?;
    println!(
        "created {} (currency {}, timezone {}) and the data directory {}",
        dir.join(CONFIG_FILE).display(),
        config.currency,
        config.timezone,
        config.data_dir.display()
    );
    println!("next: kpiflow --project {} import TABLE FILE...", dir.display());
    Ok(())
}

/// Writes a commented `kpiflow.toml` and creates the data directory. The settings are validated
/// by parsing the written text, so `init` can never write a configuration that does not load.
pub fn init(
    dir: &Path,
    name: Option<&str>,
    currency: &str,
    timezone: &str,
    force: bool,
) -> anyhow::Result<ProjectConfig> {
    let path = dir.join(CONFIG_FILE);
    if path.exists() && !force {
        return Err(UserError(format!(
            "{} already exists; pass --force to overwrite it",
            path.display()
        ))
        .into());
    }
    let name = name.map(str::to_owned).unwrap_or_else(|| {
        dir.canonicalize()
            .ok()
            .and_then(|d| d.file_name().map(|n| n.to_string_lossy().into_owned()))
            .unwrap_or_else(|| "kpiflow project".into())
    });
    let text = config_template(&name.replace('"', "'"), currency, timezone);
    let config = ProjectConfig::parse(&text, "--currency/--timezone", dir)?;
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    std::fs::write(&path, text).with_context(|| format!("writing {}", path.display()))?;
    std::fs::create_dir_all(&config.data_dir)
        .with_context(|| format!("creating {}", config.data_dir.display()))?;
    Ok(config)
}
