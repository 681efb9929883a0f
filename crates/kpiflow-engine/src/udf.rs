//! Channel grouping as DataFusion scalar functions, applied at query time so that a change of
//! rules (in `kpiflow.toml`) needs no re-import (DESIGN §3).
//!
//! - `kpiflow_channel(utm_source, utm_medium, utm_campaign, referrer, click_id_type)`: a
//!   session's channel by GA4's default rules, user rules first.
//! - `kpiflow_channel_of_label(label)`: a CRM source label (`ORGANIC_SEARCH`) as a channel.
//! - `kpiflow_self_reported_channel(answer)`: a "how did you hear about us" answer as a channel.
//! - `kpiflow_platform_channel(platform)`: an ad platform's default channel.
//! - `kpiflow_host(referrer)`: the referrer's host without `www.`.
//!
//! Each function computes a distinct input once per batch: exports repeat the same few sources
//! and mediums millions of times.

use std::collections::HashMap;
use std::hash::{Hash, Hasher};
use std::sync::Arc;

use arrow::array::{Array, ArrayRef, StringArray, StringBuilder};
use arrow::datatypes::DataType;
use datafusion::common::{DataFusionError, Result};
use datafusion::logical_expr::{
    ColumnarValue, ScalarFunctionArgs, ScalarUDF, ScalarUDFImpl, Signature, Volatility,
};
use kpiflow_catalog::channels::{ChannelRules, Touch, host};

/// The Fx hash (rustc's): much faster than SipHash on short keys, and no flooding risk here —
/// the cache lives for one batch. (A hashing crate as a direct dependency would change the
/// features DataFusion is built with and rebuild it.)
#[derive(Default)]
struct FxHasher(u64);

impl FxHasher {
    fn add(&mut self, word: u64) {
        self.0 = (self.0.rotate_left(5) ^ word).wrapping_mul(0x51_7c_c1_b7_27_22_0a_95);
    }
}

impl Hasher for FxHasher {
    fn write(&mut self, bytes: &[u8]) {
        let mut chunks = bytes.chunks_exact(8);
        for c in &mut chunks {
            let mut word = [0u8; 8];
            word.copy_from_slice(c);
            self.add(u64::from_le_bytes(word));
        }
        let rest = chunks.remainder();
        if !rest.is_empty() {
            let mut word = [0u8; 8];
            word[..rest.len()].copy_from_slice(rest);
            self.add(u64::from_le_bytes(word));
        }
    }
    fn write_u8(&mut self, i: u8) {
        self.add(u64::from(i));
    }
    fn write_usize(&mut self, i: usize) {
        self.add(i as u64);
    }
    fn finish(&self) -> u64 {
        self.0
    }
}

#[derive(Default, Clone, Copy)]
struct BuildFx;

impl std::hash::BuildHasher for BuildFx {
    type Hasher = FxHasher;
    fn build_hasher(&self) -> FxHasher {
        FxHasher::default()
    }
}

/// Which grouping a function performs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ChannelFn {
    Session,
    Label,
    SelfReported,
    Platform,
    Host,
}

impl ChannelFn {
    pub const ALL: &'static [ChannelFn] = &[
        ChannelFn::Session,
        ChannelFn::Label,
        ChannelFn::SelfReported,
        ChannelFn::Platform,
        ChannelFn::Host,
    ];

    pub fn name(self) -> &'static str {
        match self {
            ChannelFn::Session => "kpiflow_channel",
            ChannelFn::Label => "kpiflow_channel_of_label",
            ChannelFn::SelfReported => "kpiflow_self_reported_channel",
            ChannelFn::Platform => "kpiflow_platform_channel",
            ChannelFn::Host => "kpiflow_host",
        }
    }

    fn arity(self) -> usize {
        match self {
            ChannelFn::Session => 5,
            _ => 1,
        }
    }

    fn apply(self, rules: &ChannelRules, v: &[Option<&str>]) -> Option<String> {
        let first = v.first().copied().flatten();
        match self {
            ChannelFn::Session => Some(rules.channel(&Touch {
                utm_source: v[0],
                utm_medium: v[1],
                utm_campaign: v[2],
                referrer: v[3],
                click_id_type: v[4],
            })),
            ChannelFn::Label => first.map(|l| rules.channel_of_label(l)),
            ChannelFn::SelfReported => first.and_then(|a| rules.self_reported_channel(a)),
            ChannelFn::Platform => first.map(|p| rules.platform_channel(p)),
            ChannelFn::Host => first.and_then(host),
        }
    }
}

/// One channel function bound to the project's rules.
#[derive(Debug)]
pub struct ChannelUdf {
    kind: ChannelFn,
    rules: Arc<ChannelRules>,
    signature: Signature,
}

impl PartialEq for ChannelUdf {
    fn eq(&self, other: &Self) -> bool {
        self.kind == other.kind && Arc::ptr_eq(&self.rules, &other.rules)
    }
}
impl Eq for ChannelUdf {}
impl Hash for ChannelUdf {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.kind.hash(state);
        (Arc::as_ptr(&self.rules) as usize).hash(state);
    }
}

impl ChannelUdf {
    pub fn new(kind: ChannelFn, rules: Arc<ChannelRules>) -> ChannelUdf {
        let signature =
            Signature::uniform(kind.arity(), vec![DataType::Utf8], Volatility::Immutable);
        ChannelUdf { kind, rules, signature }
    }
}

/// Every channel function, bound to `rules`.
pub fn channel_udfs(rules: &Arc<ChannelRules>) -> Vec<ScalarUDF> {
    ChannelFn::ALL.iter().map(|k| ScalarUDF::from(ChannelUdf::new(*k, rules.clone()))).collect()
}

fn strings(a: &ArrayRef) -> Result<StringArray> {
    let cast = arrow::compute::cast(a, &DataType::Utf8)?;
    cast.as_any()
        .downcast_ref::<StringArray>()
        .cloned()
        .ok_or_else(|| DataFusionError::Internal("channel function: argument is not text".into()))
}

impl ScalarUDFImpl for ChannelUdf {
    fn name(&self) -> &str {
        self.kind.name()
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, _arg_types: &[DataType]) -> Result<DataType> {
        Ok(DataType::Utf8)
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let rows = args.number_rows;
        let arrays = ColumnarValue::values_to_arrays(&args.args)?;
        let columns: Vec<StringArray> = arrays.iter().map(strings).collect::<Result<_>>()?;
        // A fast hasher: the key is hashed once per row, and the rows are many.
        let mut cache: HashMap<Vec<Option<&str>>, Option<String>, BuildFx> =
            HashMap::with_hasher(BuildFx);
        let mut out = StringBuilder::with_capacity(rows, rows * 12);
        let mut key: Vec<Option<&str>> = Vec::with_capacity(columns.len());
        for i in 0..rows {
            key.clear();
            key.extend(columns.iter().map(|c| (!c.is_null(i)).then(|| c.value(i))));
            let value = match cache.get(&key) {
                Some(v) => v,
                None => {
                    let v = self.kind.apply(&self.rules, &key);
                    cache.entry(key.clone()).or_insert(v)
                }
            };
            match value {
                Some(v) => out.append_value(v),
                None => out.append_null(),
            }
        }
        Ok(ColumnarValue::Array(Arc::new(out.finish())))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use datafusion::prelude::*;

    #[tokio::test]
    async fn functions_group_sessions_in_sql() {
        let ctx = SessionContext::new();
        let rules = Arc::new(ChannelRules::default());
        for f in channel_udfs(&rules) {
            ctx.register_udf(f);
        }
        let df = ctx
            .sql(
                "SELECT kpiflow_channel(s, m, NULL, r, c) AS ch, kpiflow_host(r) AS h, \
                 kpiflow_platform_channel('meta_ads') AS p, kpiflow_channel_of_label('PAID_SEARCH') AS l \
                 FROM (VALUES ('google', 'cpc', NULL, NULL), (NULL, NULL, 'https://www.bing.com/x', NULL), \
                 (NULL, NULL, NULL, 'msclkid'), (NULL, NULL, NULL, NULL)) AS t(s, m, r, c)",
            )
            .await
            .unwrap();
        let batches = df.collect().await.unwrap();
        let text = arrow::util::pretty::pretty_format_batches(&batches).unwrap().to_string();
        insta::assert_snapshot!(text);
    }
}
