//! The channel functions as plain SQL expressions (`CASE`, `LIKE`, `IN`, `coalesce`), for plans
//! that leave the process: `kpiflow sql` prints them for a warehouse, which has none of
//! kpiflow's scalar functions.
//!
//! Each expression mirrors one function of [`kpiflow_catalog::channels::ChannelRules`] rule by
//! rule, from the same word lists (`LABELS`, `PLATFORMS`, `SELF_REPORTED`, the GA4 medium lists,
//! the category list); `tests::portable_channels_equal_the_functions` checks them against the
//! functions over every word of those lists and hand-made edge cases, and `kpiflow sql`'s test
//! runs the exported SQL over a generated company.
//!
//! Two rules need regular expressions in Rust; here they are spelled with `LIKE`:
//! - paid medium `^(.*cp.*|ppc|retargeting|paid.*)$`: exact;
//! - shopping campaign `^(.*(([^a-df-z]|^)shop|shopping).*)$`: "shop" at the start, after `e`, a
//!   digit or any printable ASCII sign, or "shopping" anywhere — exact for ASCII campaign names
//!   (a non-ASCII character before "shop" is not recognized).
//!
//! User rules (`[channels] rules` in kpiflow.toml) are regular expressions matching the whole
//! value, ignoring case. Those made of literal text, `.`, `.*`, `.+` and `|` between
//! alternatives (`event`, `partner|affiliate`, `.*podcast.*`) become `=` or `LIKE` over the
//! lower-case value, exactly; any other syntax (classes, groups, repetition counts) gets an
//! error from `kpiflow sql` naming the rule, rather than SQL that groups channels differently.

use datafusion::functions::expr_fn::{coalesce, lower, nullif, replace, trim};
use datafusion::logical_expr::{Like, case, when};
use datafusion::prelude::*;
use kpiflow_catalog::channels::{
    BING_CLICK_IDS, Category, ChannelRules, DISPLAY_MEDIUMS, EMAIL_VALUES, GOOGLE_CLICK_IDS,
    LABELS, PLATFORMS, REFERRAL_MEDIUMS, SELF_REPORTED, SOCIAL_MEDIUMS,
};

use crate::{EngineError, Result};

/// Lower-case trimmed text; empty is null.
fn clean(e: Expr) -> Expr {
    nullif(lower(trim(vec![cast(e, arrow::datatypes::DataType::Utf8)])), lit(""))
}

fn texts(values: &[&str]) -> Vec<Expr> {
    values.iter().map(|v| lit(*v)).collect()
}

/// `e LIKE pattern`, where `pattern` is `before` + `literal` (with `%` and `_` escaped) +
/// `after`.
fn like(e: Expr, before: &str, literal: &str, after: &str) -> Expr {
    let needs_escape = literal.contains(['%', '_', '\\']);
    let escaped = if needs_escape {
        literal.replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_")
    } else {
        literal.to_owned()
    };
    Expr::Like(Like::new(
        false,
        Box::new(e),
        Box::new(lit(format!("{before}{escaped}{after}"))),
        needs_escape.then_some('\\'),
        false,
    ))
}

/// One alternative of a user pattern: the literal text, or a `LIKE` pattern when it has `.`.
enum Alternative {
    Equals(String),
    Like(String),
}

/// A user rule's pattern, compiled as `(?i)^(?:P)$`, as alternatives over a lower-case value;
/// `None` when P uses syntax beyond literals, `.`, `.*`, `.+` and top-level `|`.
fn alternatives(compiled: &str) -> Option<Vec<Alternative>> {
    let p = compiled.strip_prefix("(?i)^(?:")?.strip_suffix(")$")?;
    let mut out = Vec::new();
    let (mut plain, mut pattern, mut wild) = (String::new(), String::new(), false);
    let mut chars = p.chars().peekable();
    loop {
        let literal = match chars.next() {
            end @ (None | Some('|')) => {
                let (plain, pattern) = (std::mem::take(&mut plain), std::mem::take(&mut pattern));
                out.push(if wild {
                    Alternative::Like(pattern)
                } else {
                    Alternative::Equals(plain)
                });
                wild = false;
                if end.is_none() {
                    break;
                }
                continue;
            }
            Some('.') => {
                wild = true;
                match chars.peek() {
                    Some('*') => {
                        chars.next();
                        pattern.push('%');
                    }
                    Some('+') => {
                        chars.next();
                        pattern.push_str("_%");
                    }
                    _ => pattern.push('_'),
                }
                continue;
            }
            // `\d`, `\w`, `\b`, ...: classes and assertions; `\.`, `\-`, ...: the sign itself.
            Some('\\') => match chars.next() {
                Some(c) if !c.is_ascii_alphanumeric() => c,
                _ => return None,
            },
            Some(c) if "()[]{}?+*^$".contains(c) => return None,
            Some(c) => c,
        };
        for c in literal.to_lowercase() {
            plain.push(c);
            if matches!(c, '%' | '_' | '\\') {
                pattern.push('\\');
            }
            pattern.push(c);
        }
    }
    Some(out)
}

/// The user rules before `otherwise`: the first rule whose every pattern matches gives the
/// channel (`UserRule::matches`). `source`, `medium` and `campaign` are lower-case.
fn with_user_rules(
    rules: &ChannelRules,
    source: &Expr,
    medium: &Expr,
    campaign: &Expr,
    otherwise: Expr,
) -> Result<Expr> {
    let mut arms = Vec::new();
    for rule in rules.user_rules() {
        let mut all = Vec::new();
        for (pattern, value) in
            [(&rule.source, source), (&rule.medium, medium), (&rule.campaign, campaign)]
        {
            let Some(regex) = pattern else { continue };
            let alts = alternatives(regex.as_str()).ok_or_else(|| {
                EngineError::Request(format!(
                    "channel rule for `{}` in kpiflow.toml: the pattern `{}` uses regular-expression \
                     syntax that portable SQL cannot express; `kpiflow sql` translates literal \
                     text, `.`, `.*`, `.+` and `|`",
                    rule.channel,
                    regex
                        .as_str()
                        .strip_prefix("(?i)^(?:")
                        .and_then(|p| p.strip_suffix(")$"))
                        .unwrap_or(regex.as_str())
                ))
            })?;
            let any = alts
                .into_iter()
                .map(|a| match a {
                    Alternative::Equals(text) => value.clone().eq(lit(text)),
                    Alternative::Like(pattern) => Expr::Like(Like::new(
                        false,
                        Box::new(value.clone()),
                        Box::new(lit(pattern.clone())),
                        pattern.contains('\\').then_some('\\'),
                        false,
                    )),
                })
                .reduce(Expr::or)
                .unwrap_or(lit(false));
            // A missing value is matched as empty text, as the functions see it.
            all.push(coalesce(vec![any, lit(false)]));
        }
        if let Some(cond) = all.into_iter().reduce(Expr::and) {
            arms.push((cond, rule.channel.clone()));
        }
    }
    let mut arms = arms.into_iter();
    let Some((first, channel)) = arms.next() else { return Ok(otherwise) };
    let mut c = when(first, lit(channel));
    for (cond, channel) in arms {
        c = c.when(cond, lit(channel));
    }
    Ok(c.otherwise(otherwise)?)
}

fn contains_any(e: &Expr, words: &[&str]) -> Expr {
    words.iter().map(|w| like(e.clone(), "%", w, "%")).reduce(Expr::or).unwrap_or(lit(false))
}

/// The host of a referrer: lower case, without scheme, path, query, fragment, port and `www.`
/// (`kpiflow_catalog::channels::host`).
pub fn host(referrer: Expr) -> Expr {
    let r = lower(trim(vec![cast(referrer, arrow::datatypes::DataType::Utf8)]));
    let after_scheme =
        when(like(r.clone(), "%", "://", "%"), split_part(r.clone(), lit("://"), lit(2)))
            .otherwise(r)
            .unwrap_or_else(|_| lit(""));
    let mut h = after_scheme;
    for sep in ["/", "?", "#", ":"] {
        h = split_part(h, lit(sep), lit(1));
    }
    let without_www = when(like(h.clone(), "", "www.", "%"), substr(h.clone(), lit(5)))
        .otherwise(h)
        .unwrap_or_else(|_| lit(""));
    nullif(without_www, lit(""))
}

/// A CRM source label as a channel (`ChannelRules::channel_of_label`); user rules see the
/// label as the medium.
pub fn label(rules: &ChannelRules, e: Expr) -> Result<Expr> {
    let normalized = replace(
        replace(
            lower(trim(vec![cast(e.clone(), arrow::datatypes::DataType::Utf8)])),
            lit(" "),
            lit("_"),
        ),
        lit("-"),
        lit("_"),
    );
    let mut c = case(normalized.clone());
    for (labels, channel) in LABELS {
        for l in *labels {
            c = c.when(lit(*l), lit(*channel));
        }
    }
    let mapped = c.otherwise(lit("Unassigned"))?;
    let mapped = with_user_rules(rules, &lit(""), &normalized, &lit(""), mapped)?;
    Ok(when(e.is_null(), lit(datafusion::common::ScalarValue::Utf8(None))).otherwise(mapped)?)
}

/// An ad platform's channel (`ChannelRules::platform_channel`): the platform without an `_ads`,
/// ` ads` or `ads` ending.
pub fn platform(e: Expr) -> Expr {
    let p = lower(trim(vec![cast(e.clone(), arrow::datatypes::DataType::Utf8)]));
    let mut c = when(lit(false), lit("Paid Other"));
    for (names, channel) in PLATFORMS {
        let spelled: Vec<Expr> = names
            .iter()
            .flat_map(|n| {
                [n.to_string(), format!("{n}_ads"), format!("{n} ads"), format!("{n}ads")]
            })
            .map(lit)
            .collect();
        c = c.when(p.clone().in_list(spelled, false), lit(*channel));
    }
    let mapped = c.otherwise(lit("Paid Other")).unwrap_or_else(|_| lit("Paid Other"));
    when(e.is_null(), lit(datafusion::common::ScalarValue::Utf8(None)))
        .otherwise(mapped)
        .unwrap_or_else(|_| lit("Paid Other"))
}

/// A "how did you hear about us" answer as a channel (`ChannelRules::self_reported_channel`);
/// user rules see the answer as the source.
pub fn self_reported(rules: &ChannelRules, e: Expr) -> Result<Expr> {
    let a = lower(trim(vec![cast(e, arrow::datatypes::DataType::Utf8)]));
    let mut c = when(lit(false), lit(""));
    for (all, channel) in SELF_REPORTED {
        let cond =
            all.iter().map(|words| contains_any(&a, words)).reduce(Expr::and).unwrap_or(lit(true));
        c = c.when(cond, lit(*channel));
    }
    let reported = c.otherwise(label(rules, a.clone())?)?;
    let reported = with_user_rules(rules, &a, &lit(""), &lit(""), reported)?;
    Ok(when(nullif(a.clone(), lit("")).is_null(), lit(datafusion::common::ScalarValue::Utf8(None)))
        .otherwise(reported)?)
}

/// The category of a source (`ChannelRules::category`): the most specific entry of the list
/// that is the source or a parent domain of it.
fn category(rules: &ChannelRules, source: Expr) -> Expr {
    let mut c = when(lit(false), lit(""));
    for (s, cat) in rules.categories() {
        let name = match cat {
            Category::Search => "search",
            Category::Social => "social",
            Category::Video => "video",
            Category::Shopping => "shopping",
        };
        c = c.when(source.clone().eq(lit(s)).or(like(source.clone(), "%.", s, "")), lit(name));
    }
    c.otherwise(lit(datafusion::common::ScalarValue::Utf8(None))).unwrap_or_else(|_| lit(""))
}

fn paid(medium: Expr) -> Expr {
    like(medium.clone(), "%", "cp", "%")
        .or(medium.clone().in_list(texts(&["ppc", "retargeting"]), false))
        .or(like(medium, "", "paid", "%"))
}

fn shopping_campaign(campaign: Expr) -> Expr {
    // "shop" preceded by the start or by a character outside a-d and f-z.
    let mut before: Vec<String> = vec!["e".into()];
    before.extend((b'0'..=b'9').map(|b| (b as char).to_string()));
    before.extend(
        (b' '..=b'~').filter(|b| !b.is_ascii_alphanumeric()).map(|b| (b as char).to_string()),
    );
    let mut cond =
        like(campaign.clone(), "", "shop", "%").or(like(campaign.clone(), "%", "shopping", "%"));
    for b in before {
        cond = cond.or(like(campaign.clone(), "%", &format!("{b}shop"), "%"));
    }
    cond
}

/// `df` with a `channel` column: the session's channel by GA4's default rules
/// (`ChannelRules::channel`), computed in steps (source, medium, campaign, category) so that
/// each appears once in the SQL.
pub fn with_session_channel(rules: &ChannelRules, df: DataFrame, name: &str) -> Result<DataFrame> {
    let google = texts(GOOGLE_CLICK_IDS);
    let bing = texts(BING_CLICK_IDS);
    let all_ids: Vec<Expr> = google.iter().chain(bing.iter()).cloned().collect();
    let null_text = || lit(datafusion::common::ScalarValue::Utf8(None));
    let click_source = when(col("__click").in_list(google, false), lit("google"))
        .when(col("__click").in_list(bing, false), lit("bing"))
        .otherwise(null_text())?;
    let click_medium =
        when(col("__click").in_list(all_ids, false), lit("cpc")).otherwise(null_text())?;
    let referrer_medium = when(col("__rhost").is_null(), lit("(none)"))
        .when(col("__rhost_category").eq(lit("search")), lit("organic"))
        .otherwise(lit("referral"))?;
    let df = df
        .with_column("__click", clean(col("click_id_type")))?
        .with_column("__rhost", host(col("referrer")))?
        .with_column("__rhost_category", category(rules, col("__rhost")))?
        .with_column(
            "__source",
            coalesce(vec![clean(col("utm_source")), click_source, col("__rhost"), lit("(direct)")]),
        )?
        .with_column(
            "__medium",
            coalesce(vec![clean(col("utm_medium")), click_medium, referrer_medium]),
        )?
        .with_column("__campaign", coalesce(vec![clean(col("utm_campaign")), lit("")]))?
        .with_column("__category", category(rules, col("__source")))?
        .with_column("__paid", paid(col("__medium")))?
        .with_column(
            "__shopping",
            coalesce(vec![col("__category").eq(lit("shopping")), lit(false)])
                .or(shopping_campaign(col("__campaign"))),
        )?;
    let (source, medium, campaign, cat, is_paid, shopping) = (
        col("__source"),
        col("__medium"),
        col("__campaign"),
        col("__category"),
        col("__paid"),
        col("__shopping"),
    );
    let is = |c: &str| cat.clone().eq(lit(c));
    let ga4 = when(
        source
            .clone()
            .eq(lit("(direct)"))
            .and(medium.clone().in_list(texts(&["(none)", "(not set)"]), false)),
        lit("Direct"),
    )
    .when(like(campaign, "%", "cross-network", "%"), lit("Cross-network"))
    .when(shopping.clone().and(is_paid.clone()), lit("Paid Shopping"))
    .when(is("search").and(is_paid.clone()), lit("Paid Search"))
    .when(is("social").and(is_paid.clone()), lit("Paid Social"))
    .when(is("video").and(is_paid.clone()), lit("Paid Video"))
    .when(medium.clone().in_list(texts(DISPLAY_MEDIUMS), false), lit("Display"))
    .when(is_paid, lit("Paid Other"))
    .when(shopping, lit("Organic Shopping"))
    .when(
        is("social").or(medium.clone().in_list(texts(SOCIAL_MEDIUMS), false)),
        lit("Organic Social"),
    )
    .when(is("video").or(like(medium.clone(), "%", "video", "%")), lit("Organic Video"))
    .when(is("search").or(medium.clone().eq(lit("organic"))), lit("Organic Search"))
    .when(medium.clone().in_list(texts(REFERRAL_MEDIUMS), false), lit("Referral"))
    .when(
        source
            .clone()
            .in_list(texts(EMAIL_VALUES), false)
            .or(medium.clone().in_list(texts(EMAIL_VALUES), false)),
        lit("Email"),
    )
    .when(medium.clone().eq(lit("affiliate")), lit("Affiliates"))
    .when(medium.clone().eq(lit("audio")), lit("Audio"))
    .when(source.clone().eq(lit("sms")).or(medium.clone().eq(lit("sms"))), lit("SMS"))
    .when(
        like(medium.clone(), "%", "push", "")
            .or(like(medium.clone(), "%", "mobile", "%"))
            .or(like(medium, "%", "notification", "%"))
            .or(source.eq(lit("firebase"))),
        lit("Mobile Push Notifications"),
    )
    .otherwise(lit("Unassigned"))?;
    let channel = with_user_rules(
        rules,
        &col("__source"),
        &col("__medium"),
        &col("__campaign"),
        col("__ga4"),
    )?;
    let df = df.with_column("__ga4", ga4)?.with_column(name, channel)?;
    Ok(df.drop_columns(&[
        "__ga4",
        "__click",
        "__rhost",
        "__rhost_category",
        "__source",
        "__medium",
        "__campaign",
        "__category",
        "__paid",
        "__shopping",
    ])?)
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use arrow::array::{Array, RecordBatch, StringArray};
    use arrow::datatypes::{DataType, Field, Schema};
    use datafusion::prelude::SessionContext;

    use kpiflow_catalog::channels::{SOURCE_CATEGORIES, UserRule};

    use super::*;

    fn strings(batch: &RecordBatch, column: &str) -> Vec<Option<String>> {
        let array =
            arrow::compute::cast(batch.column_by_name(column).unwrap(), &DataType::Utf8).unwrap();
        let a = array.as_any().downcast_ref::<StringArray>().unwrap();
        (0..a.len()).map(|i| (!a.is_null(i)).then(|| a.value(i).to_owned())).collect()
    }

    /// Touches spelling every word of every list, and hand-made edge cases: the portable
    /// expressions give what the functions give, row by row.
    #[tokio::test]
    async fn portable_channels_equal_the_functions() {
        compare_with_the_functions(&ChannelRules::default()).await;
        let rule = |channel: &str, source: Option<&str>, medium: Option<&str>, campaign| {
            UserRule::new(channel, source, medium, campaign).unwrap()
        };
        let user = vec![
            rule("Offline", None, Some("Event"), None),
            rule("Affiliates", None, Some("partner|affiliate_.*"), None),
            rule("Podcasts", Some(".*podcast.*"), None, None),
            rule("Review sites", Some("g2\\.com|capterra.com"), Some(".+"), None),
            rule("Launch", None, None, Some("launch_20..")),
            rule("Empty", Some(""), Some("x_y"), None),
            rule("Percent", None, None, Some("100%_off")),
        ];
        compare_with_the_functions(&ChannelRules::new(SOURCE_CATEGORIES, user).unwrap()).await;
    }

    #[test]
    fn patterns_beyond_literals_and_dots_are_refused() {
        for p in ["[a-z]+", "(a|b)c", "a?", "\\d+", "^a", "a{2}", "ab*"] {
            let compiled = format!("(?i)^(?:{p})$");
            assert!(alternatives(&compiled).is_none(), "{p}");
        }
        let rules = ChannelRules::new(
            SOURCE_CATEGORIES,
            vec![UserRule::new("X", Some("[ab]"), None, None).unwrap()],
        )
        .unwrap();
        let err = with_user_rules(&rules, &lit(""), &lit(""), &lit(""), lit("")).unwrap_err();
        assert!(err.to_string().contains("`[ab]`"), "{err}");
    }

    async fn compare_with_the_functions(rules: &ChannelRules) {
        let rows: Vec<[Option<&str>; 5]> = vec![
            [None, None, None, None, None],
            [Some("Google"), Some("CPC"), Some("Summer Shopping"), None, None],
            [Some("google"), Some("cpc"), Some("pmax cross-network"), None, None],
            [Some("amazon"), Some("ppc"), None, None, None],
            [None, None, None, Some("https://www.News.Google.com/search?q=x"), None],
            [None, None, None, Some("http://t.co:443/abc"), None],
            [None, None, None, Some("partnerblog.com"), None],
            [None, None, None, None, Some("gclid")],
            [None, None, None, None, Some(" MSCLKID ")],
            [Some("newsnetwork"), Some("cpm"), None, None, None],
            [Some("newsletter"), Some("email"), None, None, None],
            [Some("e-mail"), Some("weekly"), None, None, None],
            [Some("g2"), Some("affiliate"), None, None, None],
            [Some("x"), Some("app-push"), None, None, None],
            [Some("x"), Some("sms"), None, None, None],
            [Some("firebase"), Some("x"), None, None, None],
            [Some("x"), Some("paid_social"), None, None, None],
            [Some("x"), Some("y"), Some("eshop-2025"), None, None],
            [Some("x"), Some("cpc"), Some("workshop"), None, None],
            [Some("x"), Some("cpc"), Some("bookshop"), None, None],
            [Some("x"), Some("cpc"), Some("the 1shop"), None, None],
            [Some("  "), Some(""), Some(" "), Some(""), Some("")],
            [Some("(direct)"), Some("(not set)"), None, None, None],
            [Some("youtube.com"), Some("referral"), None, None, None],
            [Some("etsy.com"), Some("referral"), None, None, None],
            [Some("100%_off"), Some("x_y"), None, None, None],
            [Some("x"), Some("EVENT"), None, None, None],
            [Some("x"), Some("event "), Some("x"), None, None],
            [Some("x"), Some("events"), None, None, None],
            [Some("x"), Some("Partner"), None, None, None],
            [Some("x"), Some("affiliate_x"), None, None, None],
            [Some("x"), Some("affiliate_"), None, None, None],
            [Some("The Podcast Show"), Some("x"), Some("Heard it on a podcast"), None, None],
            [Some("g2.com"), Some("referral"), None, None, None],
            [Some("g2xcom"), Some("referral"), None, None, None],
            [Some("capterraxcom"), Some("referral"), None, None, None],
            [None, None, None, Some("https://g2.com/x"), None],
            [Some("x"), Some("y"), Some("launch_2025"), None, None],
            [Some("x"), Some("y"), Some("launch_202"), None, None],
            [Some("x"), Some("y"), Some("100%_off"), None, None],
            [Some("x"), Some("y"), Some("100x_off"), None, None],
            [Some("x"), Some("x_y"), None, None, None],
            [None, Some("x y"), None, None, None],
            [Some("x-y"), None, None, None, None],
        ];
        // Every word of every list, spelled as exports spell them.
        let mut more: Vec<[Option<String>; 5]> = Vec::new();
        let some = |s: String| Some(s);
        for (labels, _) in LABELS {
            for l in *labels {
                more.push([some(l.to_uppercase().replace('_', " ")), None, None, None, None]);
            }
        }
        for (names, _) in PLATFORMS {
            for n in *names {
                more.push([some(format!("{n}_ads")), some("cpc".into()), None, None, None]);
                more.push([some(format!(" {} Ads", n.to_uppercase())), None, None, None, None]);
            }
        }
        for (all, _) in SELF_REPORTED {
            for words in *all {
                for w in *words {
                    more.push([None, None, some(format!("Saw it on {w}, I think")), None, None]);
                }
            }
        }
        for (source, _) in rules.categories() {
            more.push([None, None, None, some(format!("https://www.{source}/page")), None]);
            more.push([some(format!("m.{source}")), some("cpc".into()), None, None, None]);
            more.push([
                some(source.to_owned()),
                some("social".into()),
                some("shop".into()),
                None,
                None,
            ]);
        }
        let mut owned: Vec<[Option<String>; 5]> =
            rows.iter().map(|r| r.map(|v| v.map(str::to_owned))).collect();
        owned.extend(more);
        let names = ["utm_source", "utm_medium", "utm_campaign", "referrer", "click_id_type"];
        let schema = Arc::new(Schema::new(
            names.iter().map(|n| Field::new(*n, DataType::Utf8, true)).collect::<Vec<_>>(),
        ));
        let columns: Vec<Arc<dyn Array>> = (0..5)
            .map(|i| {
                Arc::new(StringArray::from(owned.iter().map(|r| r[i].clone()).collect::<Vec<_>>()))
                    as _
            })
            .collect();
        let batch = RecordBatch::try_new(schema, columns).unwrap();
        let ctx = SessionContext::new();
        let df = ctx.read_batch(batch).unwrap();
        let df = with_session_channel(rules, df, "channel").unwrap();
        let df = df
            .with_column("host", host(col("referrer")))
            .unwrap()
            .with_column("label", label(rules, col("utm_source")).unwrap())
            .unwrap()
            .with_column("platform", platform(col("utm_source")))
            .unwrap()
            .with_column("reported", self_reported(rules, col("utm_campaign")).unwrap())
            .unwrap();
        let out = df.collect().await.unwrap();
        let mut n = 0;
        for b in &out {
            let cols: Vec<Vec<Option<String>>> = names.iter().map(|c| strings(b, c)).collect();
            let (channel, h, l, p, r) = (
                strings(b, "channel"),
                strings(b, "host"),
                strings(b, "label"),
                strings(b, "platform"),
                strings(b, "reported"),
            );
            for i in 0..b.num_rows() {
                let v = |c: usize| cols[c][i].as_deref();
                let touch = kpiflow_catalog::channels::Touch {
                    utm_source: v(0),
                    utm_medium: v(1),
                    utm_campaign: v(2),
                    referrer: v(3),
                    click_id_type: v(4),
                };
                let row = format!("{:?}", [v(0), v(1), v(2), v(3), v(4)]);
                assert_eq!(channel[i].as_deref(), Some(rules.channel(&touch).as_str()), "{row}");
                assert_eq!(h[i], v(3).and_then(kpiflow_catalog::channels::host), "{row}");
                assert_eq!(l[i], v(0).map(|s| rules.channel_of_label(s)), "{row}");
                assert_eq!(p[i], v(0).map(|s| rules.platform_channel(s)), "{row}");
                assert_eq!(r[i], v(2).and_then(|s| rules.self_reported_channel(s)), "{row}");
                n += 1;
            }
        }
        assert!(n > 300, "only {n} touches compared");
    }
}
