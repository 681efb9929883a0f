//! Exchange rates for converting money to the reporting currency at import.
//!
//! A rate is "reporting-currency units for one unit of the currency" on a date. A date without
//! its own rate uses the latest earlier rate up to `fx_max_age_days` old (markets close on
//! weekends); older than that, or no rate at all, is an error on the row.

use std::collections::{BTreeMap, HashMap};

use arrow::array::{Array, Date32Array, Float64Array};
use datafusion::prelude::SessionContext;
use kpiflow_model::parse::date_from_days;

use crate::error::StoreError;
use crate::store::Store;

#[derive(Debug, Clone, Default)]
pub struct FxRates {
    reporting: String,
    max_age_days: i32,
    /// currency → (day → rate)
    rates: HashMap<String, BTreeMap<i32, f64>>,
}

impl FxRates {
    pub fn new(reporting: &str, max_age_days: u32) -> FxRates {
        FxRates {
            reporting: reporting.to_owned(),
            max_age_days: max_age_days as i32,
            rates: HashMap::new(),
        }
    }

    pub fn reporting(&self) -> &str {
        &self.reporting
    }

    pub fn insert(&mut self, currency: &str, day: i32, rate: f64) {
        self.rates.entry(currency.to_owned()).or_default().insert(day, rate);
    }

    /// Loads the `fx_rates` table of the store (nothing when it does not exist).
    pub async fn load(
        store: &Store,
        reporting: &str,
        max_age_days: u32,
    ) -> Result<FxRates, StoreError> {
        let mut fx = FxRates::new(reporting, max_age_days);
        let Some(table) = store.latest("fx_rates").await? else {
            return Ok(fx);
        };
        let ctx = SessionContext::new();
        let q = |e| StoreError::query("fx_rates", e);
        let provider = crate::store::provider(&ctx, "fx_rates", &table).await?;
        let batches = ctx
            .read_table(provider)
            .map_err(q)?
            .select_columns(&["date", "currency", "rate"])
            .map_err(q)?
            .collect()
            .await
            .map_err(q)?;
        for b in batches {
            let currencies = crate::store::as_strings(b.column(1));
            let (Some(d), Some(c), Some(r)) = (
                b.column(0).as_any().downcast_ref::<Date32Array>(),
                currencies.as_ref(),
                b.column(2).as_any().downcast_ref::<Float64Array>(),
            ) else {
                return Err(StoreError::Internal("fx_rates has an unexpected schema".into()));
            };
            for i in 0..b.num_rows() {
                if !(d.is_null(i) || c.is_null(i) || r.is_null(i)) {
                    fx.insert(c.value(i), d.value(i), r.value(i));
                }
            }
        }
        Ok(fx)
    }

    /// The rate of `currency` on `day`, or why there is none.
    pub fn rate(&self, currency: &str, day: i32) -> Result<f64, String> {
        if currency == self.reporting {
            return Ok(1.0);
        }
        let date = date_from_days(day).map(|d| d.to_string()).unwrap_or_else(|| day.to_string());
        let Some(series) = self.rates.get(currency) else {
            return Err(format!(
                "no fx rate for {currency} into {} (fx_rates has no {currency} rates; import them \
                 first)",
                self.reporting
            ));
        };
        match series.range(..=day).next_back() {
            Some((d, rate)) if day - d <= self.max_age_days => Ok(*rate),
            nearest => Err(format!(
                "no fx rate for {currency} on {date}{} (import.fx_max_age_days = {})",
                nearest
                    .and_then(|(d, _)| date_from_days(*d))
                    .map(|d| format!("; the latest earlier rate is from {d}"))
                    .unwrap_or_else(|| "; fx_rates has no earlier rate".into()),
                self.max_age_days
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rates_carry_forward_within_the_age_limit() {
        let mut fx = FxRates::new("USD", 3);
        fx.insert("EUR", 100, 1.1);
        fx.insert("EUR", 101, 1.2);
        assert_eq!(fx.rate("USD", 5), Ok(1.0));
        assert_eq!(fx.rate("EUR", 101), Ok(1.2));
        assert_eq!(fx.rate("EUR", 104), Ok(1.2));
        assert!(fx.rate("EUR", 105).unwrap_err().contains("latest earlier rate"));
        assert!(fx.rate("EUR", 99).unwrap_err().contains("no earlier rate"));
        assert!(fx.rate("GBP", 100).unwrap_err().contains("no GBP rates"));
    }
}
