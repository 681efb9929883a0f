//! UTM-tagged short links and their clicks (DESIGN §6, dark social).
//!
//! A link is a code for a target URL with UTM tags (`kpiflow links add`); `/l/{code}` on the
//! server records a click and redirects to the target with the tags. Links and clicks are Delta
//! tables beside the data (`_links`, `_link_clicks`), appended to like the import log: a click is
//! committed before the redirect answers, so a click that was answered is never lost. Clicks are
//! touchpoints of attribution journeys: their channel comes from the link's tags by the same
//! channel grouping as sessions, and they belong to the contact or visitor the link URL names
//! (`?c=CONTACT` for a personal link in an email or a DM, `?v=VISITOR`), else to an anonymous
//! visitor of their own.

use std::sync::Arc;

use arrow::array::{Array, ArrayRef, RecordBatch, StringArray, TimestampMicrosecondArray};
use arrow::datatypes::{DataType, Field, Schema, SchemaRef, TimeUnit};
use chrono::{DateTime, Utc};
use datafusion::prelude::SessionContext;
use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::error::StoreError;
use crate::store::Store;

pub const LINKS_TABLE: &str = "_links";
pub const CLICKS_TABLE: &str = "_link_clicks";

/// Characters of generated codes (no look-alikes such as 0/O, 1/l/I).
const CODE_ALPHABET: &[u8] = b"23456789abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ";
const CODE_LEN: usize = 7;

/// A short link.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Link {
    pub code: String,
    /// The page the link leads to, without the UTM tags.
    pub target: String,
    pub utm_source: String,
    pub utm_medium: String,
    pub utm_campaign: Option<String>,
    pub utm_content: Option<String>,
    pub utm_term: Option<String>,
    pub created_at: DateTime<Utc>,
}

impl Link {
    /// The target with the UTM tags set (replacing any the target had), plus `extra` parameters.
    pub fn tagged_target(&self, extra: &[(&str, &str)]) -> String {
        let Ok(mut url) = url::Url::parse(&self.target) else { return self.target.clone() };
        let tags: Vec<(&str, &str)> = [
            ("utm_source", Some(self.utm_source.as_str())),
            ("utm_medium", Some(self.utm_medium.as_str())),
            ("utm_campaign", self.utm_campaign.as_deref()),
            ("utm_content", self.utm_content.as_deref()),
            ("utm_term", self.utm_term.as_deref()),
        ]
        .into_iter()
        .filter_map(|(k, v)| Some((k, v?)))
        .chain(extra.iter().copied())
        .collect();
        let kept: Vec<(String, String)> = url
            .query_pairs()
            .filter(|(k, _)| !tags.iter().any(|(t, _)| t == k))
            .map(|(k, v)| (k.into_owned(), v.into_owned()))
            .collect();
        url.query_pairs_mut().clear().extend_pairs(kept).extend_pairs(tags);
        url.to_string()
    }
}

/// What `kpiflow links add` asks for.
#[derive(Debug, Clone)]
pub struct NewLink {
    /// Chosen code, or `None` to generate one.
    pub code: Option<String>,
    pub target: String,
    pub utm_source: String,
    pub utm_medium: String,
    pub utm_campaign: Option<String>,
    pub utm_content: Option<String>,
    pub utm_term: Option<String>,
}

/// Why a link cannot be added.
#[derive(Debug, thiserror::Error)]
pub enum LinkError {
    #[error("target `{target}` is not an absolute http(s) URL (like https://example.com/pricing)")]
    BadTarget { target: String },
    #[error("code `{code}`: use 1 to 64 letters, digits, `-` or `_`")]
    BadCode { code: String },
    #[error("code `{code}` is taken (it leads to {target}); choose another or leave --code out")]
    Taken { code: String, target: String },
    #[error("`--{tag}` must not be empty")]
    EmptyTag { tag: &'static str },
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl LinkError {
    pub fn is_user_error(&self) -> bool {
        !matches!(self, LinkError::Store(e) if !e.is_user_error())
    }
}

/// One recorded click.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Click {
    pub click_id: String,
    pub code: String,
    pub clicked_at: DateTime<Utc>,
    pub visitor_id: Option<String>,
    pub contact_id: Option<String>,
    pub referrer: Option<String>,
}

fn ts() -> DataType {
    DataType::Timestamp(TimeUnit::Microsecond, Some("UTC".into()))
}

fn links_schema() -> SchemaRef {
    Arc::new(Schema::new(vec![
        Field::new("code", DataType::Utf8, false),
        Field::new("target", DataType::Utf8, false),
        Field::new("utm_source", DataType::Utf8, false),
        Field::new("utm_medium", DataType::Utf8, false),
        Field::new("utm_campaign", DataType::Utf8, true),
        Field::new("utm_content", DataType::Utf8, true),
        Field::new("utm_term", DataType::Utf8, true),
        Field::new("created_at", ts(), false),
    ]))
}

fn clicks_schema() -> SchemaRef {
    Arc::new(Schema::new(vec![
        Field::new("click_id", DataType::Utf8, false),
        Field::new("code", DataType::Utf8, false),
        Field::new("clicked_at", ts(), false),
        Field::new("visitor_id", DataType::Utf8, true),
        Field::new("contact_id", DataType::Utf8, true),
        Field::new("referrer", DataType::Utf8, true),
    ]))
}

fn text(values: &[Option<&str>]) -> ArrayRef {
    Arc::new(StringArray::from(values.to_vec()))
}

fn time(at: DateTime<Utc>) -> ArrayRef {
    Arc::new(TimestampMicrosecondArray::from(vec![at.timestamp_micros()]).with_timezone("UTC"))
}

fn internal(e: impl std::fmt::Display) -> StoreError {
    StoreError::Internal(e.to_string())
}

/// A code for `seed`: base-56 digits of its SHA-256.
fn generated_code(seed: &str) -> String {
    let digest = Sha256::digest(seed.as_bytes());
    digest
        .iter()
        .take(CODE_LEN)
        .map(|b| char::from(CODE_ALPHABET[usize::from(*b) % CODE_ALPHABET.len()]))
        .collect()
}

impl Store {
    /// Every link, oldest first.
    pub async fn links(&self) -> Result<Vec<Link>, StoreError> {
        let batches = self.read_internal(LINKS_TABLE, "created_at").await?;
        let mut out = Vec::new();
        for batch in &batches {
            let s = |i: usize| {
                crate::store::as_strings(batch.column(i))
                    .ok_or_else(|| internal("bad _links table"))
            };
            let (code, target, source, medium, campaign, content, term) =
                (s(0)?, s(1)?, s(2)?, s(3)?, s(4)?, s(5)?, s(6)?);
            let at = batch
                .column(7)
                .as_any()
                .downcast_ref::<TimestampMicrosecondArray>()
                .ok_or_else(|| internal("bad _links table"))?;
            let opt = |a: &StringArray, r: usize| (!a.is_null(r)).then(|| a.value(r).to_owned());
            for r in 0..batch.num_rows() {
                out.push(Link {
                    code: code.value(r).to_owned(),
                    target: target.value(r).to_owned(),
                    utm_source: source.value(r).to_owned(),
                    utm_medium: medium.value(r).to_owned(),
                    utm_campaign: opt(&campaign, r),
                    utm_content: opt(&content, r),
                    utm_term: opt(&term, r),
                    created_at: DateTime::from_timestamp_micros(at.value(r)).unwrap_or_default(),
                });
            }
        }
        Ok(out)
    }

    /// The link with `code`.
    pub async fn link(&self, code: &str) -> Result<Option<Link>, StoreError> {
        Ok(self.links().await?.into_iter().find(|l| l.code == code))
    }

    /// Validates and stores a new link (one commit).
    pub async fn add_link(&self, new: NewLink) -> Result<Link, LinkError> {
        let target = new.target.trim().to_owned();
        let parsed = url::Url::parse(&target)
            .ok()
            .filter(|u| matches!(u.scheme(), "http" | "https") && u.has_host());
        if parsed.is_none() {
            return Err(LinkError::BadTarget { target });
        }
        let tag = |name: &'static str, v: String| {
            let v = v.trim().to_owned();
            if v.is_empty() { Err(LinkError::EmptyTag { tag: name }) } else { Ok(v) }
        };
        let optional = |v: Option<String>| v.map(|v| v.trim().to_owned()).filter(|v| !v.is_empty());
        let (utm_source, utm_medium) =
            (tag("source", new.utm_source)?, tag("medium", new.utm_medium)?);
        let existing = self.links().await?;
        let created_at = Utc::now();
        let code = match new.code {
            Some(code) => {
                let code = code.trim().to_owned();
                if code.is_empty()
                    || code.len() > 64
                    || !code.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
                {
                    return Err(LinkError::BadCode { code });
                }
                if let Some(l) = existing.iter().find(|l| l.code == code) {
                    return Err(LinkError::Taken { code, target: l.target.clone() });
                }
                code
            }
            None => (0u32..)
                .map(|n| {
                    generated_code(&format!(
                        "{target}|{utm_source}|{utm_medium}|{}|{n}",
                        created_at.timestamp_nanos_opt().unwrap_or_default()
                    ))
                })
                .find(|c| !existing.iter().any(|l| &l.code == c))
                .unwrap_or_default(),
        };
        let link = Link {
            code,
            target,
            utm_source,
            utm_medium,
            utm_campaign: optional(new.utm_campaign),
            utm_content: optional(new.utm_content),
            utm_term: optional(new.utm_term),
            created_at,
        };
        let batch = RecordBatch::try_new(
            links_schema(),
            vec![
                text(&[Some(&link.code)]),
                text(&[Some(&link.target)]),
                text(&[Some(&link.utm_source)]),
                text(&[Some(&link.utm_medium)]),
                text(&[link.utm_campaign.as_deref()]),
                text(&[link.utm_content.as_deref()]),
                text(&[link.utm_term.as_deref()]),
                time(created_at),
            ],
        )
        .map_err(internal)?;
        self.append_internal(LINKS_TABLE, batch).await?;
        Ok(link)
    }

    /// Records one click of `code`: committed to `_link_clicks` when this returns `Ok`.
    pub async fn record_click(&self, click: &Click) -> Result<(), StoreError> {
        let batch = RecordBatch::try_new(
            clicks_schema(),
            vec![
                text(&[Some(&click.click_id)]),
                text(&[Some(&click.code)]),
                time(click.clicked_at),
                text(&[click.visitor_id.as_deref()]),
                text(&[click.contact_id.as_deref()]),
                text(&[click.referrer.as_deref()]),
            ],
        )
        .map_err(internal)?;
        self.append_internal(CLICKS_TABLE, batch).await
    }

    /// Every click, oldest first.
    pub async fn clicks(&self) -> Result<Vec<Click>, StoreError> {
        let batches = self.read_internal(CLICKS_TABLE, "clicked_at").await?;
        let mut out = Vec::new();
        for batch in &batches {
            let s = |i: usize| {
                crate::store::as_strings(batch.column(i))
                    .ok_or_else(|| internal("bad _link_clicks table"))
            };
            let (id, code, visitor, contact, referrer) = (s(0)?, s(1)?, s(3)?, s(4)?, s(5)?);
            let at = batch
                .column(2)
                .as_any()
                .downcast_ref::<TimestampMicrosecondArray>()
                .ok_or_else(|| internal("bad _link_clicks table"))?;
            let opt = |a: &StringArray, r: usize| (!a.is_null(r)).then(|| a.value(r).to_owned());
            for r in 0..batch.num_rows() {
                out.push(Click {
                    click_id: id.value(r).to_owned(),
                    code: code.value(r).to_owned(),
                    clicked_at: DateTime::from_timestamp_micros(at.value(r)).unwrap_or_default(),
                    visitor_id: opt(&visitor, r),
                    contact_id: opt(&contact, r),
                    referrer: opt(&referrer, r),
                });
            }
        }
        Ok(out)
    }

    /// All rows of an internal table sorted by `order`; empty when it was never written.
    async fn read_internal(&self, name: &str, order: &str) -> Result<Vec<RecordBatch>, StoreError> {
        let Some(table) = self.latest(name).await? else { return Ok(Vec::new()) };
        let ctx = SessionContext::new();
        let q = |e| StoreError::query(name, e);
        let provider = crate::store::provider(&ctx, name, &table).await?;
        ctx.read_table(provider)
            .map_err(q)?
            .sort_by(vec![datafusion::prelude::col(order)])
            .map_err(q)?
            .collect()
            .await
            .map_err(q)
    }

    /// Registers the link tables that exist in `ctx` under their names (`_links`,
    /// `_link_clicks`), for the engine's journeys; returns which were registered.
    pub async fn register_links(
        &self,
        ctx: &SessionContext,
        scan: crate::store::Scan,
    ) -> Result<Vec<&'static str>, StoreError> {
        let mut out = Vec::new();
        for name in [LINKS_TABLE, CLICKS_TABLE] {
            if let Some(table) = self.latest(name).await? {
                let provider = scan.provider(ctx, name, &table).await?;
                ctx.register_table(name, provider).map_err(|e| StoreError::query(name, e))?;
                out.push(name);
            }
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn link() -> Link {
        Link {
            code: "abc".into(),
            target: "https://example.com/pricing?utm_source=old&plan=pro".into(),
            utm_source: "linkedin".into(),
            utm_medium: "social".into(),
            utm_campaign: Some("launch".into()),
            utm_content: None,
            utm_term: None,
            created_at: Utc::now(),
        }
    }

    #[test]
    fn tags_replace_the_targets_own_and_keep_its_other_parameters() {
        assert_eq!(
            link().tagged_target(&[("kpiflow_click", "k1")]),
            "https://example.com/pricing?plan=pro&utm_source=linkedin&utm_medium=social&utm_campaign=launch&kpiflow_click=k1"
        );
    }

    #[test]
    fn generated_codes_use_the_alphabet() {
        let c = generated_code("x");
        assert_eq!(c.len(), CODE_LEN);
        assert!(c.bytes().all(|b| CODE_ALPHABET.contains(&b)));
        assert_ne!(c, generated_code("y"));
    }

    #[tokio::test]
    async fn links_and_clicks_round_trip_and_codes_are_unique() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        let new = |code: Option<&str>, target: &str| NewLink {
            code: code.map(str::to_owned),
            target: target.into(),
            utm_source: "linkedin".into(),
            utm_medium: "social".into(),
            utm_campaign: Some("launch".into()),
            utm_content: Some(" ".into()),
            utm_term: None,
        };
        let a = store.add_link(new(Some("launch"), "https://example.com/")).await.unwrap();
        assert_eq!(a.utm_content, None);
        let b = store.add_link(new(None, "https://example.com/b")).await.unwrap();
        assert_eq!(b.code.len(), CODE_LEN);
        let taken = store.add_link(new(Some("launch"), "https://example.com/c")).await.unwrap_err();
        assert_eq!(
            taken.to_string(),
            "code `launch` is taken (it leads to https://example.com/); choose another or leave --code out"
        );
        assert!(matches!(
            store.add_link(new(None, "ftp://x")).await,
            Err(LinkError::BadTarget { .. })
        ));
        assert!(matches!(
            store.add_link(new(Some("a b"), "https://x.io")).await,
            Err(LinkError::BadCode { .. })
        ));
        assert_eq!(store.links().await.unwrap().len(), 2);
        assert_eq!(store.link("launch").await.unwrap().unwrap().target, "https://example.com/");

        let click = Click {
            click_id: "k1".into(),
            code: "launch".into(),
            clicked_at: Utc::now(),
            visitor_id: None,
            contact_id: Some("c1".into()),
            referrer: None,
        };
        store.record_click(&click).await.unwrap();
        let clicks = store.clicks().await.unwrap();
        assert_eq!(clicks.len(), 1);
        assert_eq!(clicks[0].contact_id.as_deref(), Some("c1"));
        assert_eq!(clicks[0].clicked_at.timestamp_micros(), click.clicked_at.timestamp_micros());
    }
}
