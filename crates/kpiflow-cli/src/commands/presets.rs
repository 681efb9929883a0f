//! `kpiflow presets [show NAME]`: the vendors' exports kpiflow reads with no mapping.

use std::io::Write;

use kpiflow_store::presets::{preset, presets};
use serde_json::json;

use crate::cli::{OutputFormat, PresetsArgs, PresetsCommand};
use crate::output::Rows;

pub fn run(args: PresetsArgs) -> anyhow::Result<()> {
    let mut out = std::io::stdout().lock();
    if let Some(PresetsCommand::Show { name }) = &args.command {
        let p = preset(name)?;
        write!(out, "{}", p.show())?;
        return Ok(());
    }
    if args.format == OutputFormat::Markdown {
        write!(out, "{}", kpiflow_store::presets::reference_markdown())?;
        return Ok(());
    }
    // A terminal's table wraps the long columns to its width.
    let mut rows = Rows::new(&["name", "vendor", "export", "tables", "kind", "how to export"]);
    for p in presets() {
        let i = p.info();
        rows.push(vec![
            json!(i.name),
            json!(i.vendor),
            json!(i.title),
            json!(i.tables.join(", ")),
            json!(i.kind),
            json!(i.export),
        ]);
    }
    rows.render(args.format, &mut out)
}
