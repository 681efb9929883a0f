//! The machine-readable shape of a report, shared by `kpiflow report --format json` and the
//! HTTP API, so both surfaces answer the same request with the same document.

use kpiflow_catalog::Direction;
use serde_json::{Map, Value, json};

use crate::report::Report;

/// A value for machines: whole numbers without a fraction, others to 10 significant digits
/// (the float noise of summing money, `559078.1900000002`, is not information); missing or
/// non-finite values are `null`.
pub fn number(v: Option<f64>) -> Value {
    let Some(v) = v.filter(|v| v.is_finite()) else { return Value::Null };
    if v.fract() == 0.0 && v.abs() < 9e15 {
        return json!(v as i64);
    }
    let magnitude = v.abs().log10().floor() as i32;
    let scale = 10f64.powi(9 - magnitude);
    let rounded = (v * scale).round() / scale;
    // 300 / 0.6 is 500.00000000000006: once rounded it is a whole number and prints as one.
    if rounded.fract() == 0.0 && rounded.abs() < 9e15 {
        return json!(rounded as i64);
    }
    serde_json::Number::from_f64(rounded).map(Value::Number).unwrap_or(Value::Null)
}

pub fn direction_name(d: Direction) -> &'static str {
    match d {
        Direction::Higher => "higher",
        Direction::Lower => "lower",
    }
}

impl Report {
    /// The report as JSON: its settings and warnings, and one object per row with the KPI, the
    /// bucket (`period_start`, `period`), one key per dimension, `value`, `unit`, `direction`,
    /// the rate kind for rates, and `previous_value`, `change`, `change_pct`, `good` when compared.
    /// Rates are fractions, money a plain number in the reporting currency.
    pub fn to_json(&self) -> Value {
        let compare = self.compare.is_some();
        let rows: Vec<Value> = self
            .rows
            .iter()
            .map(|r| {
                let k = self.kpis.iter().find(|k| k.id == r.kpi);
                let mut o = Map::new();
                o.insert("kpi".into(), json!(r.kpi));
                o.insert("period_start".into(), json!(r.period_start.to_string()));
                o.insert("period".into(), json!(r.period));
                for (d, v) in &r.dims {
                    o.insert(d.clone(), json!(v));
                }
                o.insert("value".into(), number(r.value));
                o.insert("unit".into(), json!(k.map(|k| k.unit.name())));
                o.insert("direction".into(), json!(k.map(|k| direction_name(k.direction))));
                if let Some(rate) = k.and_then(|k| k.rate) {
                    o.insert("rate".into(), json!(rate));
                }
                if compare {
                    o.insert("previous_value".into(), number(r.previous_value));
                    o.insert("change".into(), number(r.change));
                    o.insert("change_pct".into(), number(r.change_pct));
                    o.insert("good".into(), json!(r.good));
                }
                Value::Object(o)
            })
            .collect();
        json!({
            "grain": self.grain,
            "from": self.period_from.to_string(),
            "to": self.period_to.to_string(),
            "compare": self.compare,
            "rate": self.rate,
            "window_days": self.window_days,
            "dimensions": self.dimensions,
            "warnings": self.warnings,
            "rows": rows,
        })
    }
}
