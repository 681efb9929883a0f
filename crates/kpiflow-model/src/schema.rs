//! The canonical schema: the tables of the data model, their columns, types, keys and value rules.
//!
//! This module is the one place the data model is written down. The importer validates against it,
//! the store creates its Delta tables from it, the generator writes its columns, and
//! `kpiflow tables --schema` prints it. Nothing else may hard-code a table's columns.

use std::fmt;

use arrow_schema::{DataType, Field, Schema, TimeUnit};

use crate::suggest::did_you_mean;

/// The logical type of a column, independent of any engine.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ColumnType {
    /// UTF-8 text.
    Text,
    /// A whole number (counts), stored as 64-bit integer.
    Integer,
    /// A decimal number, stored as 64-bit float.
    Decimal,
    /// An amount of money in the row's currency. The store keeps it as given and adds a column
    /// `<name>_reporting` converted to the reporting currency with `fx_rates` by the row's date.
    Money,
    /// A calendar date (no time of day).
    Date,
    /// A calendar month, stored as the date of its first day (`2024-03` → `2024-03-01`).
    Month,
    /// An instant, stored in UTC with microsecond precision. Values without an offset are read in
    /// the mapping's (or else the project's) timezone.
    Timestamp,
    /// `true` or `false` (also `1/0`, `yes/no`, `y/n`, case-insensitive).
    Boolean,
    /// An ISO 4217 currency code (`USD`, `EUR`), stored upper-case.
    Currency,
}

impl ColumnType {
    /// The name printed in the schema reference and in error messages.
    pub fn name(self) -> &'static str {
        match self {
            ColumnType::Text => "text",
            ColumnType::Integer => "integer",
            ColumnType::Decimal => "decimal",
            ColumnType::Money => "money",
            ColumnType::Date => "date",
            ColumnType::Month => "month",
            ColumnType::Timestamp => "timestamp",
            ColumnType::Boolean => "boolean",
            ColumnType::Currency => "currency",
        }
    }

    /// What a valid value looks like, for "expected ..." in error messages.
    pub fn expected(self) -> &'static str {
        match self {
            ColumnType::Text => "text",
            ColumnType::Integer => "a whole number",
            ColumnType::Decimal => "a number",
            ColumnType::Money => "an amount (a number)",
            ColumnType::Date => "a date (YYYY-MM-DD, or the mapping's format)",
            ColumnType::Month => "a month (YYYY-MM or YYYY-MM-DD)",
            ColumnType::Timestamp => {
                "a date-time (ISO 8601 such as 2024-03-01T09:30:00Z, or the mapping's format)"
            }
            ColumnType::Boolean => "true or false",
            ColumnType::Currency => "an ISO 4217 currency code such as USD or EUR",
        }
    }

    /// The Arrow type the store (and the generator's Parquet files) use for this column type.
    pub fn arrow_type(self) -> DataType {
        match self {
            ColumnType::Text | ColumnType::Currency => DataType::Utf8,
            ColumnType::Integer => DataType::Int64,
            ColumnType::Decimal | ColumnType::Money => DataType::Float64,
            ColumnType::Date | ColumnType::Month => DataType::Date32,
            ColumnType::Timestamp => DataType::Timestamp(TimeUnit::Microsecond, Some("UTC".into())),
            ColumnType::Boolean => DataType::Boolean,
        }
    }

    /// Whether values of this type are numbers (so `non-negative` applies).
    pub fn is_numeric(self) -> bool {
        matches!(self, ColumnType::Integer | ColumnType::Decimal | ColumnType::Money)
    }

    /// Whether values of this type are points or spans in time.
    pub fn is_temporal(self) -> bool {
        matches!(self, ColumnType::Date | ColumnType::Month | ColumnType::Timestamp)
    }
}

impl fmt::Display for ColumnType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A rule every value of a column must follow; a value breaking it is rejected at import.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rule {
    /// The number is zero or more (costs, counts).
    NonNegative,
    /// The number is strictly positive (exchange rates).
    Positive,
    /// The value is one of these (after the mapping's value map). Compared case-insensitively and
    /// stored as written here.
    OneOf(&'static [&'static str]),
}

impl fmt::Display for Rule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Rule::NonNegative => f.write_str(">= 0"),
            Rule::Positive => f.write_str("> 0"),
            Rule::OneOf(values) => write!(f, "one of {}", values.join(", ")),
        }
    }
}

/// One column of a canonical table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Column {
    pub name: &'static str,
    pub ty: ColumnType,
    /// A required column must be present in the file (or mapped) and non-empty on every row.
    pub required: bool,
    pub rule: Option<Rule>,
    /// What the column holds, for the schema reference.
    pub doc: &'static str,
    /// For money: the stored column holding the amount in the reporting currency.
    reporting: Option<&'static str>,
}

const fn req(name: &'static str, ty: ColumnType, doc: &'static str) -> Column {
    Column { name, ty, required: true, rule: None, doc, reporting: None }
}

const fn opt(name: &'static str, ty: ColumnType, doc: &'static str) -> Column {
    Column { name, ty, required: false, rule: None, doc, reporting: None }
}

impl Column {
    const fn with(self, rule: Rule) -> Column {
        Column { rule: Some(rule), ..self }
    }

    /// Names the stored column holding this money column in the reporting currency
    /// (`<name>_reporting`; a test checks the spelling).
    const fn reported_as(self, reporting: &'static str) -> Column {
        Column { reporting: Some(reporting), ..self }
    }

    /// The name of the stored column holding this money column in the reporting currency.
    pub fn reporting_name(&self) -> Option<&'static str> {
        self.reporting
    }
}

/// One canonical table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Table {
    pub name: &'static str,
    /// What one row is.
    pub grain: &'static str,
    /// The columns that identify a row: an import upserts by them. Key columns that are optional
    /// are stored as an empty string when absent, so a key is never null and re-imports match.
    pub key: &'static [&'static str],
    pub columns: &'static [Column],
    /// The column that places a row in time (for date ranges and the 1990–2100 check).
    pub time_column: &'static str,
}

impl Table {
    /// The column named `name`, if the table has it.
    pub fn column(&self, name: &str) -> Option<&'static Column> {
        self.columns.iter().find(|c| c.name == name)
    }

    /// Like [`Table::column`], but an unknown name is an error with a suggestion.
    pub fn resolve_column(&self, name: &str) -> Result<&'static Column, UnknownName> {
        self.column(name).ok_or_else(|| UnknownName::new("column", name, self.column_names()))
    }

    /// Column names in schema order.
    pub fn column_names(&self) -> impl Iterator<Item = &'static str> + Clone {
        self.columns.iter().map(|c| c.name)
    }

    pub fn is_key(&self, column: &str) -> bool {
        self.key.contains(&column)
    }

    /// The column holding the currency of the money columns, if the table has money.
    pub fn currency_column(&self) -> Option<&'static Column> {
        if self.columns.iter().any(|c| c.ty == ColumnType::Money) {
            self.columns.iter().find(|c| c.ty == ColumnType::Currency)
        } else {
            None
        }
    }

    /// The Arrow schema of the table's canonical columns, in schema order. Required and key
    /// columns are not nullable (an absent optional key column is stored as an empty string).
    pub fn arrow_schema(&self) -> Schema {
        Schema::new(
            self.columns
                .iter()
                .map(|c| {
                    Field::new(c.name, c.ty.arrow_type(), !(c.required || self.is_key(c.name)))
                })
                .collect::<Vec<_>>(),
        )
    }

    /// The column whose date converts this table's money (the time column).
    pub fn money_date_column(&self) -> &'static str {
        self.time_column
    }
}

/// A name that is not in a list, with the closest candidates.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown {kind} `{name}`{}; expected one of: {}", suggestion_text(.suggestion), candidates_text(.candidates))]
pub struct UnknownName {
    pub kind: &'static str,
    pub name: String,
    pub suggestion: Option<String>,
    pub candidates: Vec<String>,
}

/// The candidates, all of them when there are few; a long list (87 KPIs) is cut short.
fn candidates_text(c: &[String]) -> String {
    const SHOWN: usize = 20;
    if c.len() <= SHOWN {
        c.join(", ")
    } else {
        format!("{}, … ({} more)", c[..SHOWN].join(", "), c.len() - SHOWN)
    }
}

fn suggestion_text(s: &Option<String>) -> String {
    s.as_ref().map(|s| format!(" (did you mean `{s}`?)")).unwrap_or_default()
}

impl UnknownName {
    pub fn new<'a>(
        kind: &'static str,
        name: &str,
        candidates: impl IntoIterator<Item = &'a str> + Clone,
    ) -> Self {
        UnknownName {
            kind,
            name: name.to_owned(),
            suggestion: did_you_mean(name, candidates.clone()).map(str::to_owned),
            candidates: candidates.into_iter().map(str::to_owned).collect(),
        }
    }
}

use ColumnType::{Boolean, Currency, Date, Decimal, Integer, Money, Month, Text, Timestamp};
use Rule::{NonNegative, OneOf, Positive};

/// Deal statuses.
pub const DEAL_STATUSES: &[&str] = &["open", "won", "lost"];
/// Entities whose stages `stage_changes` records.
pub const ENTITY_TYPES: &[&str] = &["contact", "account", "deal"];
/// Teams a non-media cost belongs to.
pub const COST_TEAMS: &[&str] = &["marketing", "sales"];

pub const AD_SPEND: Table = Table {
    name: "ad_spend",
    grain: "one day of one campaign (or ad group, ad or keyword) on one ad platform",
    key: &["date", "platform", "campaign", "ad_group", "ad", "keyword", "region"],
    time_column: "date",
    columns: &[
        req("date", Date, "day of the spend, in the ad account's timezone"),
        req(
            "platform",
            Text,
            "ad platform: google_ads, microsoft_ads, linkedin_ads, meta_ads, ...",
        ),
        req("campaign", Text, "campaign name or id"),
        opt("ad_group", Text, "ad group / ad set"),
        opt("ad", Text, "ad (creative) name or id, for exports with one row per ad"),
        opt("keyword", Text, "search keyword"),
        opt("channel", Text, "channel override; by default derived from the platform"),
        opt("region", Text, "targeted region"),
        opt("business_unit", Text, "business unit the spend belongs to"),
        req("impressions", Integer, "times an ad was shown").with(NonNegative),
        req("clicks", Integer, "clicks on the ads").with(NonNegative),
        req("cost", Money, "media cost in `currency`")
            .with(NonNegative)
            .reported_as("cost_reporting"),
        opt("currency", Currency, "currency of `cost`; default: the mapping's, else reporting"),
        opt("conversions", Decimal, "conversions the platform counted").with(NonNegative),
        opt("eligible_impressions", Integer, "impressions the campaign was eligible for")
            .with(NonNegative),
    ],
};

pub const SESSIONS: Table = Table {
    name: "sessions",
    grain: "one web visit",
    key: &["session_id"],
    time_column: "started_at",
    columns: &[
        req("session_id", Text, "unique id of the visit"),
        req("started_at", Timestamp, "when the visit started"),
        req("visitor_id", Text, "anonymous visitor (cookie) id"),
        opt("contact_id", Text, "the contact, once the visitor is known"),
        opt("utm_source", Text, "utm_source of the landing URL"),
        opt("utm_medium", Text, "utm_medium of the landing URL"),
        opt("utm_campaign", Text, "utm_campaign of the landing URL"),
        opt("utm_content", Text, "utm_content of the landing URL"),
        opt("utm_term", Text, "utm_term of the landing URL"),
        opt("referrer", Text, "referring URL or domain"),
        opt("click_id_type", Text, "ad click id present on the landing URL: gclid, msclkid, ..."),
        opt("landing_page", Text, "path of the first page"),
        opt("pageviews", Integer, "pages viewed").with(NonNegative),
        opt("duration_seconds", Decimal, "length of the visit").with(NonNegative),
        opt("bounced", Boolean, "single-page visit without engagement"),
        opt("device", Text, "desktop, mobile, tablet"),
        opt("country", Text, "visitor's country"),
        opt("region", Text, "visitor's sales region"),
    ],
};

pub const EVENTS: Table = Table {
    name: "events",
    grain: "one on-site action (form submit, CTA view/click, download, signup, ...)",
    key: &["event_id"],
    time_column: "occurred_at",
    columns: &[
        req("event_id", Text, "unique id of the event"),
        req("occurred_at", Timestamp, "when it happened"),
        req(
            "event_type",
            Text,
            "form_submit, cta_view, cta_click, download, webinar_registration, demo_request, \
             signup, login, video_view, ...",
        ),
        opt("visitor_id", Text, "anonymous visitor id"),
        opt("contact_id", Text, "contact id when known"),
        opt("session_id", Text, "the session it happened in"),
        opt("name", Text, "the CTA, form, asset or landing page"),
        opt("value", Decimal, "a value attached to the event"),
    ],
};

pub const CONTACTS: Table = Table {
    name: "contacts",
    grain: "one person (lead)",
    key: &["contact_id"],
    time_column: "created_at",
    columns: &[
        req("contact_id", Text, "unique id of the person"),
        req("created_at", Timestamp, "when the lead was created"),
        opt("account_id", Text, "the company the person belongs to"),
        opt("original_source", Text, "CRM's original source (e.g. ORGANIC_SEARCH, paid_search)"),
        opt("original_campaign", Text, "campaign that brought the lead"),
        opt("self_reported_source", Text, "answer to \"how did you hear about us\""),
        opt("region", Text, "sales region"),
        opt("segment", Text, "customer segment (SMB, mid-market, enterprise, ...)"),
        opt("industry", Text, "industry"),
        opt("business_unit", Text, "business unit"),
        opt("owner", Text, "owning rep"),
        opt("first_response_at", Timestamp, "first response by sales (speed to lead)"),
        opt("lead_score", Decimal, "lead score"),
    ],
};

pub const STAGE_CHANGES: Table = Table {
    name: "stage_changes",
    grain: "one entry of a contact, account or deal into a lifecycle or deal stage",
    key: &["entity_type", "entity_id", "stage", "entered_at"],
    time_column: "entered_at",
    columns: &[
        req("entity_type", Text, "contact, account or deal").with(OneOf(ENTITY_TYPES)),
        req("entity_id", Text, "id of the contact, account or deal"),
        req("stage", Text, "stage entered (lead, mql, sql, opportunity, customer, ...)"),
        req("entered_at", Timestamp, "when the stage was entered"),
        opt("exited_at", Timestamp, "when the stage was left"),
    ],
};

pub const DEALS: Table = Table {
    name: "deals",
    grain: "one opportunity",
    key: &["deal_id"],
    time_column: "created_at",
    columns: &[
        req("deal_id", Text, "unique id of the deal"),
        req("created_at", Timestamp, "when the deal was created"),
        opt("contact_id", Text, "primary contact"),
        opt("account_id", Text, "account"),
        opt("pipeline", Text, "sales pipeline"),
        opt("stage", Text, "current deal stage as the CRM names it"),
        req("status", Text, "open, won or lost").with(OneOf(DEAL_STATUSES)),
        opt("amount", Money, "deal amount in `currency`")
            .with(NonNegative)
            .reported_as("amount_reporting"),
        opt("currency", Currency, "currency of `amount`"),
        opt("closed_at", Timestamp, "when the deal was won or lost"),
        opt("lost_reason", Text, "why it was lost"),
        opt("owner", Text, "owning rep"),
        opt("product", Text, "product sold"),
        opt("region", Text, "sales region"),
        opt("segment", Text, "customer segment"),
        opt("business_unit", Text, "business unit"),
    ],
};

pub const REVENUE: Table = Table {
    name: "revenue",
    grain: "one month of recurring revenue of one account",
    key: &["account_id", "month"],
    time_column: "month",
    columns: &[
        req("account_id", Text, "the paying account"),
        req("month", Month, "the month"),
        req("mrr", Money, "monthly recurring revenue in `currency`")
            .with(NonNegative)
            .reported_as("mrr_reporting"),
        opt("currency", Currency, "currency of `mrr`"),
    ],
};

pub const EMAIL_CAMPAIGNS: Table = Table {
    name: "email_campaigns",
    grain: "one send of one email campaign to one recipient segment",
    key: &["campaign_id", "segment"],
    time_column: "sent_at",
    columns: &[
        req("campaign_id", Text, "id of the campaign"),
        req("sent_at", Timestamp, "when it was sent"),
        opt("name", Text, "campaign name"),
        opt("segment", Text, "recipient segment"),
        req("sent", Integer, "emails sent").with(NonNegative),
        opt("delivered", Integer, "emails delivered").with(NonNegative),
        opt("bounced", Integer, "emails bounced").with(NonNegative),
        opt("opened", Integer, "unique opens").with(NonNegative),
        opt("clicked", Integer, "unique clicks").with(NonNegative),
        opt("unsubscribed", Integer, "unsubscribes").with(NonNegative),
        opt("subscribed", Integer, "new subscribers").with(NonNegative),
        opt("complaints", Integer, "spam complaints").with(NonNegative),
    ],
};

pub const SOCIAL_POSTS: Table = Table {
    name: "social_posts",
    grain: "one post (or one day of one network)",
    key: &["network", "post_id"],
    time_column: "published_at",
    columns: &[
        req("network", Text, "linkedin, x, facebook, instagram, youtube, ..."),
        req("post_id", Text, "id of the post (or the day, for daily exports)"),
        req("published_at", Timestamp, "when it was published"),
        opt("impressions", Integer, "times shown").with(NonNegative),
        opt("reach", Integer, "unique people reached").with(NonNegative),
        opt("likes", Integer, "likes / reactions").with(NonNegative),
        opt("comments", Integer, "comments").with(NonNegative),
        opt("shares", Integer, "shares / reposts").with(NonNegative),
        opt("mentions", Integer, "mentions of the brand").with(NonNegative),
        opt("clicks", Integer, "link clicks").with(NonNegative),
        opt("followers_gained", Integer, "new followers").with(NonNegative),
    ],
};

pub const ACCOUNTS: Table = Table {
    name: "accounts",
    grain: "one company (account) in the CRM",
    key: &["account_id"],
    time_column: "created_at",
    columns: &[
        req(
            "account_id",
            Text,
            "unique id of the company (the `account_id` of contacts and deals)",
        ),
        req("created_at", Timestamp, "when the company was created in the CRM"),
        opt("name", Text, "company name"),
        opt("domain", Text, "web domain"),
        opt("industry", Text, "industry"),
        opt("segment", Text, "customer segment (SMB, mid-market, enterprise, ...)"),
        opt("region", Text, "sales region"),
        opt("country", Text, "country"),
        opt("business_unit", Text, "business unit"),
        opt("owner", Text, "owning rep"),
        opt("employees", Integer, "number of employees").with(NonNegative),
    ],
};

pub const WEB_TRAFFIC: Table = Table {
    name: "web_traffic",
    grain: "one day (or period) of web sessions from one source / medium, campaign or channel \
            group, as an analytics tool reports them (GA4's UI reports, which hold no visit)",
    key: &["date", "end_date", "source", "medium", "campaign", "channel"],
    time_column: "date",
    columns: &[
        req("date", Date, "first day the row covers"),
        req("end_date", Date, "last day the row covers (the same day for a daily row)"),
        opt("source", Text, "session source (google, (direct), newsletter, ...)"),
        opt("medium", Text, "session medium (organic, cpc, (none), ...)"),
        opt("campaign", Text, "session campaign"),
        opt("channel", Text, "the analytics tool's own channel group"),
        opt("sessions", Integer, "sessions").with(NonNegative),
        opt("engaged_sessions", Integer, "engaged sessions").with(NonNegative),
        opt("users", Integer, "active users (not additive across rows)").with(NonNegative),
        opt("new_users", Integer, "first-time users").with(NonNegative),
        opt("pageviews", Integer, "page views").with(NonNegative),
        opt("key_events", Decimal, "key events (conversions) the tool counted").with(NonNegative),
    ],
};

pub const SEARCH_DIMENSIONS: &[&str] =
    &["total", "query", "page", "country", "device", "search_appearance"];

pub const SEARCH_PERFORMANCE: Table = Table {
    name: "search_performance",
    grain: "one day of the site's totals in Google Search (Search Console's chart), or one query's, \
            page's, country's or device's totals over a period",
    key: &["date", "end_date", "search_type", "dimension", "value"],
    time_column: "date",
    columns: &[
        req("date", Date, "first day the row covers"),
        req("end_date", Date, "last day the row covers (the same day for a daily row)"),
        opt("search_type", Text, "web, image, video, news, discover, googleNews"),
        req(
            "dimension",
            Text,
            "what the row is of: total, query, page, country, device, \
             search_appearance",
        )
        .with(OneOf(SEARCH_DIMENSIONS)),
        opt("value", Text, "the query, page, country, device or appearance (empty for totals)"),
        req("clicks", Integer, "clicks from Google Search").with(NonNegative),
        req("impressions", Integer, "times a result was shown").with(NonNegative),
        opt("position", Decimal, "average position (1 = top); empty without impressions")
            .with(Positive),
    ],
};

pub const SEO_KEYWORDS: Table = Table {
    name: "seo_keywords",
    grain: "one keyword's ranking on one date",
    key: &["date", "keyword", "url"],
    time_column: "date",
    columns: &[
        req("date", Date, "day of the ranking"),
        req("keyword", Text, "search query"),
        opt("url", Text, "ranking URL"),
        opt("position", Decimal, "average position (1 = top)").with(Positive),
        opt("search_volume", Integer, "monthly searches").with(NonNegative),
        opt("impressions", Integer, "search impressions").with(NonNegative),
        opt("clicks", Integer, "organic clicks").with(NonNegative),
        opt("cpc", Decimal, "paid-search cost per click of the keyword, reporting currency")
            .with(NonNegative),
    ],
};

pub const BACKLINKS: Table = Table {
    name: "backlinks",
    grain: "one referring domain seen on one date",
    key: &["date", "referring_domain"],
    time_column: "date",
    columns: &[
        req("date", Date, "day it was seen"),
        req("referring_domain", Text, "domain linking to the site"),
        opt("links", Integer, "links from that domain").with(NonNegative),
    ],
};

pub const COSTS: Table = Table {
    name: "costs",
    grain: "one month of one non-media cost (salaries, tools, agency, events, content, overhead)",
    key: &["month", "category", "team", "channel"],
    time_column: "month",
    columns: &[
        req("month", Month, "the month"),
        req("category", Text, "salaries, tools, agency, events, content, overhead, ..."),
        req("team", Text, "marketing or sales").with(OneOf(COST_TEAMS)),
        opt("channel", Text, "channel the cost belongs to, if any"),
        req("amount", Money, "amount in `currency`")
            .with(NonNegative)
            .reported_as("amount_reporting"),
        opt("currency", Currency, "currency of `amount`"),
    ],
};

pub const FX_RATES: Table = Table {
    name: "fx_rates",
    grain: "one day's rate of one currency into the reporting currency",
    key: &["date", "currency"],
    time_column: "date",
    columns: &[
        req("date", Date, "day of the rate"),
        req("currency", Currency, "the foreign currency"),
        req("rate", Decimal, "reporting-currency units for one unit of `currency`").with(Positive),
    ],
};

/// Every canonical table: the thirteen of the design, then the tables vendor exports brought
/// (accounts, web traffic as analytics tools aggregate it, Search Console's performance).
pub const TABLES: &[Table] = &[
    AD_SPEND,
    SESSIONS,
    EVENTS,
    CONTACTS,
    STAGE_CHANGES,
    DEALS,
    REVENUE,
    EMAIL_CAMPAIGNS,
    SOCIAL_POSTS,
    SEO_KEYWORDS,
    BACKLINKS,
    COSTS,
    FX_RATES,
    ACCOUNTS,
    WEB_TRAFFIC,
    SEARCH_PERFORMANCE,
];

/// The table named `name`, or an error with a "did you mean".
pub fn table(name: &str) -> Result<&'static Table, UnknownName> {
    TABLES
        .iter()
        .find(|t| t.name == name)
        .ok_or_else(|| UnknownName::new("table", name, TABLES.iter().map(|t| t.name)))
}

/// The schema reference as Markdown, generated from [`TABLES`] (printed by `kpiflow tables
/// --schema` and checked into `docs/schema.md`).
pub fn schema_markdown() -> String {
    let mut out = String::from(
        "# kpiflow canonical schema\n\n\
         Generated by `kpiflow tables --schema --format markdown` from the code \
         (`crates/kpiflow-model/src/schema.rs`). Every table is optional. Required columns must be \
         present and non-empty on every row. Keys make re-imports idempotent: an import upserts \
         by the key. Money columns are kept as given and converted to the reporting currency into \
         `<column>_reporting` with `fx_rates`.\n\n\
         Three tables hold what vendors export that fits no other table without bending the \
         data: `accounts` (the CRM's companies), `web_traffic` (sessions as an analytics tool's \
         reports aggregate them, by day or period and source / medium: GA4's UI downloads hold \
         no visit, so they are not `sessions`) and `search_performance` (Search Console's daily \
         totals, which are not per keyword, and its query, page, country and device totals over \
         the export's period, which are not per day: neither is `seo_keywords`). KPIs over them \
         say where their figures come from (`analytics_sessions`, `organic_search_*`).\n",
    );
    for t in TABLES {
        out.push_str(&format!(
            "\n## `{}`\n\nOne row is {}. Key: {}. Time column: `{}`.\n\n",
            t.name,
            t.grain,
            t.key.iter().map(|k| format!("`{k}`")).collect::<Vec<_>>().join(", "),
            t.time_column
        ));
        out.push_str("| column | type | required | rule | meaning |\n|---|---|---|---|---|\n");
        for c in t.columns {
            out.push_str(&format!(
                "| `{}` | {} | {} | {} | {} |\n",
                c.name,
                c.ty,
                if c.required { "yes" } else { "" },
                c.rule.map(|r| r.to_string()).unwrap_or_default(),
                c.doc.replace('|', "\\|")
            ));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn table_and_column_names_are_unique_and_keys_exist() {
        let mut names = HashSet::new();
        for t in TABLES {
            assert!(names.insert(t.name), "duplicate table {}", t.name);
            let mut cols = HashSet::new();
            for c in t.columns {
                assert!(cols.insert(c.name), "duplicate column {}.{}", t.name, c.name);
                if let Some(Rule::NonNegative | Rule::Positive) = c.rule {
                    assert!(c.ty.is_numeric(), "{}.{} rule needs a number", t.name, c.name);
                }
            }
            for k in t.key {
                assert!(t.column(k).is_some(), "key {}.{k} is not a column", t.name);
            }
            let time = t.column(t.time_column).expect("time column exists");
            assert!(time.required && time.ty.is_temporal(), "{}.{}", t.name, time.name);
            for c in t.columns {
                let expected = (c.ty == ColumnType::Money).then(|| format!("{}_reporting", c.name));
                assert_eq!(
                    c.reporting_name().map(str::to_owned),
                    expected,
                    "{}.{}",
                    t.name,
                    c.name
                );
            }
            if t.columns.iter().any(|c| c.ty == ColumnType::Money) {
                assert!(t.currency_column().is_some(), "{} has money but no currency", t.name);
            }
        }
        assert_eq!(TABLES.len(), 16);
    }

    #[test]
    fn unknown_table_suggests_the_closest() {
        let err = table("contact").unwrap_err();
        assert_eq!(err.suggestion.as_deref(), Some("contacts"));
        assert!(err.to_string().contains("did you mean `contacts`"), "{err}");
    }

    #[test]
    fn schema_reference_is_generated() {
        insta::assert_snapshot!(schema_markdown());
    }
}
