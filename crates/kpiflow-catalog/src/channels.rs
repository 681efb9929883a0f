//! Channel grouping: GA4's default channel group rules, applied in order, first match wins, with
//! the user's rules (from `kpiflow.toml`) evaluated before them (DESIGN §3).
//!
//! The engine applies this at query time as a scalar function, so changing the rules needs no
//! re-import. A session's *source* is its `utm_source`, else the host of its referrer (without
//! `www.`), else `(direct)`; its *medium* is its `utm_medium`, else `organic` for a search
//! engine's referrer, `referral` for any other referrer, `(none)` with no referrer. Ad click ids
//! count as paid search: `gclid`, `gbraid`, `wbraid`, `dclid` as google / cpc, `msclkid` as
//! bing / cpc. Which sites are search, social, video or shopping comes from a replaceable list
//! (`data/source_categories.csv`).

use std::collections::HashMap;
use std::sync::OnceLock;

use regex::Regex;

/// GA4's default channel groups, in rule order, then kpiflow's `Offline` (contacts whose CRM
/// source is offline: events, trade shows, imports).
pub const CHANNELS: &[&str] = &[
    "Direct",
    "Cross-network",
    "Paid Shopping",
    "Paid Search",
    "Paid Social",
    "Paid Video",
    "Display",
    "Paid Other",
    "Organic Shopping",
    "Organic Social",
    "Organic Video",
    "Organic Search",
    "Referral",
    "Email",
    "Affiliates",
    "Audio",
    "SMS",
    "Mobile Push Notifications",
    "Offline",
    "Unassigned",
];

/// The built-in source category list.
pub const SOURCE_CATEGORIES: &str = include_str!("../data/source_categories.csv");

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Category {
    Search,
    Social,
    Video,
    Shopping,
}

/// What is known of one touch (a session, or a short-link click).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Touch<'a> {
    pub utm_source: Option<&'a str>,
    pub utm_medium: Option<&'a str>,
    pub utm_campaign: Option<&'a str>,
    pub referrer: Option<&'a str>,
    pub click_id_type: Option<&'a str>,
}

/// A user rule: every pattern given must match (a regular expression, whole value,
/// case-insensitive) for the touch to get `channel`.
#[derive(Debug, Clone)]
pub struct UserRule {
    pub channel: String,
    pub source: Option<Regex>,
    pub medium: Option<Regex>,
    pub campaign: Option<Regex>,
}

impl UserRule {
    /// Builds a rule; patterns match the whole value, ignoring case.
    pub fn new(
        channel: &str,
        source: Option<&str>,
        medium: Option<&str>,
        campaign: Option<&str>,
    ) -> Result<UserRule, regex::Error> {
        let compile =
            |p: Option<&str>| p.map(|p| Regex::new(&format!("(?i)^(?:{p})$"))).transpose();
        Ok(UserRule {
            channel: channel.to_owned(),
            source: compile(source)?,
            medium: compile(medium)?,
            campaign: compile(campaign)?,
        })
    }

    fn matches(&self, source: &str, medium: &str, campaign: &str) -> bool {
        let ok = |r: &Option<Regex>, v: &str| r.as_ref().is_none_or(|r| r.is_match(v));
        (self.source.is_some() || self.medium.is_some() || self.campaign.is_some())
            && ok(&self.source, source)
            && ok(&self.medium, medium)
            && ok(&self.campaign, campaign)
    }
}

/// The rules in force: the user's first, then GA4's defaults with a source category list.
#[derive(Debug, Clone)]
pub struct ChannelRules {
    categories: HashMap<String, Category>,
    user: Vec<UserRule>,
}

/// A problem with a category list.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("source categories, line {line}: {message}")]
pub struct CategoryError {
    pub line: usize,
    pub message: String,
}

fn paid_medium() -> &'static Regex {
    static R: OnceLock<Regex> = OnceLock::new();
    R.get_or_init(|| {
        Regex::new(r"^(.*cp.*|ppc|retargeting|paid.*)$").unwrap_or_else(|_| unreachable!())
    })
}

fn shopping_campaign() -> &'static Regex {
    static R: OnceLock<Regex> = OnceLock::new();
    R.get_or_init(|| {
        Regex::new(r"^(.*(([^a-df-z]|^)shop|shopping).*)$").unwrap_or_else(|_| unreachable!())
    })
}

impl Default for ChannelRules {
    fn default() -> Self {
        ChannelRules::new(SOURCE_CATEGORIES, Vec::new())
            .unwrap_or_else(|_| ChannelRules { categories: HashMap::new(), user: Vec::new() })
    }
}

impl ChannelRules {
    /// Rules from a category list (CSV `source,category`; `#` lines are comments) and user rules.
    pub fn new(categories_csv: &str, user: Vec<UserRule>) -> Result<ChannelRules, CategoryError> {
        let mut categories = HashMap::new();
        for (i, line) in categories_csv.lines().enumerate() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') || (i == 0 && line == "source,category") {
                continue;
            }
            let (source, category) = line.split_once(',').ok_or_else(|| CategoryError {
                line: i + 1,
                message: format!("`{line}`: expected `source,category`"),
            })?;
            let category = match category.trim() {
                "search" => Category::Search,
                "social" => Category::Social,
                "video" => Category::Video,
                "shopping" => Category::Shopping,
                other => {
                    return Err(CategoryError {
                        line: i + 1,
                        message: format!(
                            "`{other}` is not a category; expected search, social, video or shopping"
                        ),
                    });
                }
            };
            categories.insert(source.trim().to_lowercase(), category);
        }
        Ok(ChannelRules { categories, user })
    }

    /// The category list, most specific (longest) source first: the order in which a SQL
    /// `CASE` over suffix matches finds what [`ChannelRules::category`] finds.
    pub fn categories(&self) -> Vec<(&str, Category)> {
        let mut list: Vec<(&str, Category)> =
            self.categories.iter().map(|(s, c)| (s.as_str(), *c)).collect();
        list.sort_by(|a, b| b.0.len().cmp(&a.0.len()).then(a.0.cmp(b.0)));
        list
    }

    /// The user's rules, in order.
    pub fn user_rules(&self) -> &[UserRule] {
        &self.user
    }

    /// The category of a source: the source itself, else its parent domains (`news.google.com`
    /// → `google.com`).
    pub fn category(&self, source: &str) -> Option<Category> {
        let mut s = source;
        loop {
            if let Some(c) = self.categories.get(s) {
                return Some(*c);
            }
            s = s.split_once('.')?.1;
        }
    }

    /// The channel of a touch.
    pub fn channel(&self, touch: &Touch<'_>) -> String {
        let clean = |v: Option<&str>| v.map(|s| s.trim().to_lowercase()).filter(|s| !s.is_empty());
        let click = clean(touch.click_id_type);
        let referrer_host = touch.referrer.and_then(host);
        let (click_source, click_medium) = match click.as_deref() {
            Some(c) if GOOGLE_CLICK_IDS.contains(&c) => (Some("google"), Some("cpc")),
            Some(c) if BING_CLICK_IDS.contains(&c) => (Some("bing"), Some("cpc")),
            _ => (None, None),
        };
        let source = clean(touch.utm_source)
            .or(click_source.map(str::to_owned))
            .or(referrer_host.clone())
            .unwrap_or_else(|| "(direct)".into());
        let medium =
            clean(touch.utm_medium).or(click_medium.map(str::to_owned)).unwrap_or_else(|| {
                match &referrer_host {
                    Some(h) if self.category(h) == Some(Category::Search) => "organic".into(),
                    Some(_) => "referral".into(),
                    None => "(none)".into(),
                }
            });
        let campaign = clean(touch.utm_campaign).unwrap_or_default();
        self.group(&source, &medium, &campaign)
    }

    /// GA4's rules over a normalized source, medium and campaign (lower-case).
    pub fn group(&self, source: &str, medium: &str, campaign: &str) -> String {
        if let Some(rule) = self.user.iter().find(|r| r.matches(source, medium, campaign)) {
            return rule.channel.clone();
        }
        let category = self.category(source);
        let paid = paid_medium().is_match(medium);
        let shopping =
            category == Some(Category::Shopping) || shopping_campaign().is_match(campaign);
        let group = if source == "(direct)" && matches!(medium, "(none)" | "(not set)") {
            "Direct"
        } else if campaign.contains("cross-network") {
            "Cross-network"
        } else if shopping && paid {
            "Paid Shopping"
        } else if category == Some(Category::Search) && paid {
            "Paid Search"
        } else if category == Some(Category::Social) && paid {
            "Paid Social"
        } else if category == Some(Category::Video) && paid {
            "Paid Video"
        } else if DISPLAY_MEDIUMS.contains(&medium) {
            "Display"
        } else if paid {
            "Paid Other"
        } else if shopping {
            "Organic Shopping"
        } else if category == Some(Category::Social) || SOCIAL_MEDIUMS.contains(&medium) {
            "Organic Social"
        } else if category == Some(Category::Video) || medium.contains("video") {
            "Organic Video"
        } else if category == Some(Category::Search) || medium == "organic" {
            "Organic Search"
        } else if REFERRAL_MEDIUMS.contains(&medium) {
            "Referral"
        } else if is_email(source) || is_email(medium) {
            "Email"
        } else if medium == "affiliate" {
            "Affiliates"
        } else if medium == "audio" {
            "Audio"
        } else if source == "sms" || medium == "sms" {
            "SMS"
        } else if medium.ends_with("push")
            || medium.contains("mobile")
            || medium.contains("notification")
            || source == "firebase"
        {
            "Mobile Push Notifications"
        } else {
            "Unassigned"
        };
        group.to_owned()
    }

    /// The channel of a CRM source label (`contacts.original_source`, such as HubSpot's
    /// `ORGANIC_SEARCH` or `paid_search`), for contacts with no session. User rules see the
    /// label as the medium.
    pub fn channel_of_label(&self, label: &str) -> String {
        let l = label.trim().to_lowercase().replace([' ', '-'], "_");
        if let Some(rule) = self.user.iter().find(|r| r.matches("", &l, "")) {
            return rule.channel.clone();
        }
        label_channel(&l).to_owned()
    }
}

/// Why the project's channel settings cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum ChannelConfigError {
    #[error("cannot read the source category list {path}: {source}")]
    Read { path: std::path::PathBuf, source: std::io::Error },
    #[error("{path}: {error}")]
    Categories { path: std::path::PathBuf, error: CategoryError },
    #[error("channels.rules: rule for `{channel}`: {error}")]
    Rule { channel: String, error: regex::Error },
}

impl ChannelRules {
    /// The rules of a project: its `[channels]` rules first, its category list (or the built-in
    /// one).
    pub fn from_config(
        config: &kpiflow_model::config::ChannelsConfig,
    ) -> Result<ChannelRules, ChannelConfigError> {
        let mut user = Vec::new();
        for r in &config.rules {
            let rule = UserRule::new(
                &r.channel,
                r.source.as_deref(),
                r.medium.as_deref(),
                r.campaign.as_deref(),
            )
            .map_err(|error| ChannelConfigError::Rule { channel: r.channel.clone(), error })?;
            user.push(rule);
        }
        let text = match &config.categories {
            None => SOURCE_CATEGORIES.to_owned(),
            Some(path) => std::fs::read_to_string(path)
                .map_err(|source| ChannelConfigError::Read { path: path.clone(), source })?,
        };
        ChannelRules::new(&text, user).map_err(|error| ChannelConfigError::Categories {
            path: config
                .categories
                .clone()
                .unwrap_or_else(|| "data/source_categories.csv (built-in)".into()),
            error,
        })
    }

    /// The channel of an ad platform, for `ad_spend` rows whose export left `channel` empty
    /// (DESIGN §3): search engines' ads are Paid Search, social networks' Paid Social.
    pub fn platform_channel(&self, platform: &str) -> String {
        let p = platform.trim().to_lowercase();
        let name = p.trim_end_matches("_ads").trim_end_matches(" ads").trim_end_matches("ads");
        PLATFORMS
            .iter()
            .find(|(names, _)| names.contains(&name))
            .map_or("Paid Other", |(_, channel)| channel)
            .to_owned()
    }

    /// The channel a free-text "how did you hear about us" answer names. Answers that name no
    /// trackable channel (a friend, a podcast, a community) are `Dark Social`: the word-of-mouth
    /// channels web analytics cannot see. User rules see the answer as the source.
    pub fn self_reported_channel(&self, answer: &str) -> Option<String> {
        let a = answer.trim().to_lowercase();
        if a.is_empty() {
            return None;
        }
        if let Some(rule) = self.user.iter().find(|r| r.matches(&a, "", "")) {
            return Some(rule.channel.clone());
        }
        let has = |words: &[&str]| words.iter().any(|w| a.contains(w));
        match SELF_REPORTED.iter().find(|(all, _)| all.iter().all(|words| has(words))) {
            Some((_, channel)) => Some((*channel).to_owned()),
            None => Some(self.channel_of_label(&a)),
        }
    }
}

fn is_email(v: &str) -> bool {
    EMAIL_VALUES.contains(&v)
}

/// Click ids that mean google / cpc, and bing / cpc.
pub const GOOGLE_CLICK_IDS: &[&str] = &["gclid", "gbraid", "wbraid", "dclid"];
pub const BING_CLICK_IDS: &[&str] = &["msclkid"];
/// Mediums of GA4's Display, Organic Social and Referral rules.
pub const DISPLAY_MEDIUMS: &[&str] = &["display", "banner", "expandable", "interstitial", "cpm"];
pub const SOCIAL_MEDIUMS: &[&str] =
    &["social", "social-network", "social-media", "sm", "social network", "social media"];
pub const REFERRAL_MEDIUMS: &[&str] = &["referral", "app", "link"];

/// Sources and mediums that name email (GA4's Email rule).
pub const EMAIL_VALUES: &[&str] = &["email", "e-mail", "e_mail", "e mail"];

/// CRM source labels by channel, normalized (lower case, `_` for spaces and dashes); anything
/// else is `Unassigned`. Shared by [`ChannelRules::channel_of_label`] and the SQL export.
pub const LABELS: &[(&[&str], &str)] = &[
    (&["organic_search", "organic", "seo"], "Organic Search"),
    (&["paid_search", "sem", "ppc", "cpc"], "Paid Search"),
    (&["paid_social"], "Paid Social"),
    (&["social", "social_media", "organic_social"], "Organic Social"),
    (&["email", "email_marketing", "e_mail"], "Email"),
    (&["referral", "referrals"], "Referral"),
    (&["direct", "direct_traffic"], "Direct"),
    (&["display"], "Display"),
    (&["video", "paid_video"], "Paid Video"),
    (&["affiliate", "affiliates", "partner", "partners"], "Affiliates"),
    (&["offline", "offline_sources", "event", "events", "trade_show"], "Offline"),
    (&["other_campaigns", "other_publicities", "paid_other"], "Paid Other"),
    (&["sms"], "SMS"),
];

fn label_channel(normalized: &str) -> &'static str {
    LABELS
        .iter()
        .find(|(labels, _)| labels.contains(&normalized))
        .map_or("Unassigned", |(_, channel)| channel)
}

/// Ad platforms by channel, without an `_ads`/` ads`/`ads` ending; anything else is
/// `Paid Other`.
pub const PLATFORMS: &[(&[&str], &str)] = &[
    (
        &[
            "google",
            "bing",
            "microsoft",
            "yahoo",
            "baidu",
            "yandex",
            "naver",
            "apple_search",
            "amazon_search",
        ],
        "Paid Search",
    ),
    (
        &[
            "linkedin",
            "meta",
            "facebook",
            "instagram",
            "twitter",
            "x",
            "tiktok",
            "reddit",
            "pinterest",
            "snapchat",
            "quora",
        ],
        "Paid Social",
    ),
    (&["youtube", "vimeo"], "Paid Video"),
    (&["display", "dv360", "gdn", "criteo", "adroll", "taboola", "outbrain"], "Display"),
    (&["google_shopping", "amazon", "shopping"], "Paid Shopping"),
    (&["spotify", "audio"], "Audio"),
];

const AD_WORDS: &[&str] = &[" ad", "ads", "advert", "sponsored"];
const SOCIAL_WORDS: &[&str] =
    &["linkedin", "facebook", "instagram", "twitter", "x /", "tiktok", "reddit", "social"];

/// "How did you hear about us" rules, first match wins: every word list must have a word the
/// answer contains. Answers that match none are read as a CRM label.
pub const SELF_REPORTED: &[(&[&[&str]], &str)] = &[
    (
        &[&[
            "friend",
            "colleague",
            "word of mouth",
            "podcast",
            "slack",
            "community",
            "dark social",
        ]],
        "Dark Social",
    ),
    (&[AD_WORDS, SOCIAL_WORDS], "Paid Social"),
    (&[AD_WORDS, &["google", "bing", "search"]], "Paid Search"),
    (&[AD_WORDS], "Display"),
    (&[SOCIAL_WORDS], "Organic Social"),
    (&[&["google", "bing", "search", "blog", "article", "seo"]], "Organic Search"),
    (&[&["youtube", "video"]], "Organic Video"),
    (&[&["newsletter", "email", "e-mail"]], "Email"),
    (&[&["partner", "agency", "affiliate", "reseller"]], "Affiliates"),
    (&[&["event", "trade show", "conference", "webinar", "meetup"]], "Offline"),
    (&[&["review", "g2", "capterra", "directory", "referral"]], "Referral"),
    (&[&["sales", "outreach", "called", "sdr"]], "Outbound"),
];

/// The host of a referrer URL or bare domain, lower-case, without `www.` and port.
pub fn host(referrer: &str) -> Option<String> {
    let r = referrer.trim().to_lowercase();
    let without_scheme = r.split_once("://").map_or(r.as_str(), |(_, rest)| rest);
    let host = without_scheme.split(['/', '?', '#']).next()?.split(':').next()?;
    let host = host.strip_prefix("www.").unwrap_or(host);
    (!host.is_empty()).then(|| host.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ch(rules: &ChannelRules, source: &str, medium: &str, campaign: &str) -> String {
        rules.group(source, medium, campaign)
    }

    #[test]
    fn every_ga4_rule_in_order() {
        let r = ChannelRules::default();
        assert_eq!(ch(&r, "(direct)", "(none)", ""), "Direct");
        // Cross-network comes before any paid rule.
        assert_eq!(ch(&r, "google", "cpc", "pmax cross-network"), "Cross-network");
        // Paid shopping before paid search: a shopping campaign on google.
        assert_eq!(ch(&r, "google", "cpc", "summer shopping"), "Paid Shopping");
        assert_eq!(ch(&r, "amazon", "ppc", ""), "Paid Shopping");
        assert_eq!(ch(&r, "google", "cpc", "brand"), "Paid Search");
        assert_eq!(ch(&r, "linkedin", "paid_social", ""), "Paid Social");
        assert_eq!(ch(&r, "facebook", "retargeting", ""), "Paid Social");
        assert_eq!(ch(&r, "youtube", "cpv", ""), "Paid Video");
        assert_eq!(ch(&r, "newsnetwork", "banner", ""), "Display");
        // cpm matches the paid pattern (`.*cp.*`) only after Display.
        assert_eq!(ch(&r, "newsnetwork", "cpm", ""), "Display");
        assert_eq!(ch(&r, "capterra", "cpc", ""), "Paid Other");
        assert_eq!(ch(&r, "etsy.com", "referral", ""), "Organic Shopping");
        assert_eq!(ch(&r, "t.co", "referral", ""), "Organic Social");
        assert_eq!(ch(&r, "newsletter", "social", ""), "Organic Social");
        assert_eq!(ch(&r, "vimeo.com", "referral", ""), "Organic Video");
        assert_eq!(ch(&r, "blog", "video", ""), "Organic Video");
        assert_eq!(ch(&r, "duckduckgo.com", "organic", ""), "Organic Search");
        assert_eq!(ch(&r, "partnerblog.com", "organic", ""), "Organic Search");
        assert_eq!(ch(&r, "partnerblog.com", "referral", ""), "Referral");
        assert_eq!(ch(&r, "newsletter", "email", ""), "Email");
        assert_eq!(ch(&r, "e-mail", "weekly", ""), "Email");
        assert_eq!(ch(&r, "g2", "affiliate", ""), "Affiliates");
        assert_eq!(ch(&r, "spotify", "audio", ""), "Audio");
        assert_eq!(ch(&r, "sms", "text", ""), "SMS");
        assert_eq!(ch(&r, "app", "web-push", ""), "Mobile Push Notifications");
        assert_eq!(ch(&r, "firebase", "x", ""), "Mobile Push Notifications");
        assert_eq!(ch(&r, "conference", "event", ""), "Unassigned");
    }

    #[test]
    fn platforms_and_self_reported_answers_map_to_channels() {
        let r = ChannelRules::default();
        assert_eq!(r.platform_channel("google_ads"), "Paid Search");
        assert_eq!(r.platform_channel("microsoft_ads"), "Paid Search");
        assert_eq!(r.platform_channel("meta_ads"), "Paid Social");
        assert_eq!(r.platform_channel("LinkedIn Ads"), "Paid Social");
        assert_eq!(r.platform_channel("youtube"), "Paid Video");
        assert_eq!(r.platform_channel("newsletter_sponsorship"), "Paid Other");
        let s = |a: &str| r.self_reported_channel(a);
        assert_eq!(s(""), None);
        assert_eq!(s("A friend or colleague").as_deref(), Some("Dark Social"));
        assert_eq!(s("Podcast").as_deref(), Some("Dark Social"));
        assert_eq!(s("LinkedIn ad").as_deref(), Some("Paid Social"));
        assert_eq!(s("Google ad").as_deref(), Some("Paid Search"));
        assert_eq!(s("LinkedIn post").as_deref(), Some("Organic Social"));
        assert_eq!(s("X / Twitter").as_deref(), Some("Organic Social"));
        assert_eq!(s("Google search").as_deref(), Some("Organic Search"));
        assert_eq!(s("Blog article").as_deref(), Some("Organic Search"));
        assert_eq!(s("Newsletter").as_deref(), Some("Email"));
        assert_eq!(s("Our agency").as_deref(), Some("Affiliates"));
        assert_eq!(s("Event / trade show").as_deref(), Some("Offline"));
        assert_eq!(s("G2 review").as_deref(), Some("Referral"));
        assert_eq!(s("Sales outreach").as_deref(), Some("Outbound"));
        let user = ChannelRules::new(
            SOURCE_CATEGORIES,
            vec![UserRule::new("Podcasts", Some(".*podcast.*"), None, None).unwrap()],
        )
        .unwrap();
        assert_eq!(user.self_reported_channel("Podcast").as_deref(), Some("Podcasts"));
    }

    #[test]
    fn project_rules_come_first_and_categories_can_be_replaced() {
        let dir = std::env::temp_dir().join(format!("kpiflow-cat-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("cats.csv");
        std::fs::write(&path, "source,category\nmysearch.example,search\n").unwrap();
        let config = kpiflow_model::config::ChannelsConfig {
            categories: Some(path.clone()),
            rules: vec![kpiflow_model::config::ChannelRuleConfig {
                channel: "Events".into(),
                source: None,
                medium: Some("event|trade_?show".into()),
                campaign: None,
            }],
        };
        let r = ChannelRules::from_config(&config).unwrap();
        assert_eq!(r.group("conference", "event", ""), "Events");
        assert_eq!(r.group("mysearch.example", "organic", ""), "Organic Search");
        // google.com is no longer a search site with the replaced list: a plain referral.
        assert_eq!(r.group("google.com", "referral", ""), "Referral");
        std::fs::write(&path, "source,category\nx.example,radio\n").unwrap();
        let err = ChannelRules::from_config(&config).unwrap_err().to_string();
        assert!(err.contains("line 2") && err.contains("`radio` is not a category"), "{err}");
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn sessions_derive_source_and_medium() {
        let r = ChannelRules::default();
        let touch = |s: Option<&'static str>, m, referrer, click| Touch {
            utm_source: s,
            utm_medium: m,
            utm_campaign: None,
            referrer,
            click_id_type: click,
        };
        assert_eq!(r.channel(&touch(None, None, None, None)), "Direct");
        assert_eq!(
            r.channel(&touch(None, None, Some("https://www.google.com/search?q=x"), None)),
            "Organic Search"
        );
        assert_eq!(
            r.channel(&touch(None, None, Some("https://news.ycombinator.com/item"), None)),
            "Organic Social"
        );
        assert_eq!(r.channel(&touch(None, None, Some("partnerblog.com"), None)), "Referral");
        assert_eq!(r.channel(&touch(None, None, None, Some("gclid"))), "Paid Search");
        assert_eq!(
            r.channel(&touch(None, None, Some("https://www.bing.com/"), Some("msclkid"))),
            "Paid Search"
        );
        assert_eq!(r.channel(&touch(Some("Google"), Some("CPC"), None, None)), "Paid Search");
        assert_eq!(
            r.channel(&touch(Some("linkedin"), Some("paid_social"), None, Some("li_fat_id"))),
            "Paid Social"
        );
        assert_eq!(r.channel(&touch(Some("hubspot"), Some("email"), None, None)), "Email");
    }

    #[test]
    fn user_rules_come_first_and_categories_are_replaceable() {
        let rules = vec![
            UserRule::new("Events", None, Some("event|trade_?show"), None).unwrap(),
            UserRule::new("Partners", Some("g2|capterra"), None, None).unwrap(),
        ];
        let r = ChannelRules::new(SOURCE_CATEGORIES, rules).unwrap();
        assert_eq!(ch(&r, "conference", "Event", ""), "Events");
        assert_eq!(ch(&r, "capterra", "cpc", ""), "Partners");
        assert_eq!(r.channel_of_label("trade_show"), "Events");

        let custom =
            ChannelRules::new("source,category\nmysearch.example,search\n", Vec::new()).unwrap();
        assert_eq!(ch(&custom, "mysearch.example", "organic", ""), "Organic Search");
        assert_eq!(ch(&custom, "google.com", "referral", ""), "Referral");
        let bad = ChannelRules::new("source,category\nx.com,podcast\n", Vec::new()).unwrap_err();
        assert_eq!(bad.line, 2);
    }

    #[test]
    fn crm_labels() {
        let r = ChannelRules::default();
        assert_eq!(r.channel_of_label("ORGANIC_SEARCH"), "Organic Search");
        assert_eq!(r.channel_of_label("paid_search"), "Paid Search");
        assert_eq!(r.channel_of_label("Direct Traffic"), "Direct");
        assert_eq!(r.channel_of_label("EMAIL_MARKETING"), "Email");
        assert_eq!(r.channel_of_label("OFFLINE"), "Offline");
        assert_eq!(r.channel_of_label("unknown"), "Unassigned");
        for label in ["social", "referral", "display", "other_publicities"] {
            assert!(CHANNELS.contains(&r.channel_of_label(label).as_str()));
        }
    }

    #[test]
    fn hosts() {
        assert_eq!(host("https://www.Google.com:443/search?q=1").as_deref(), Some("google.com"));
        assert_eq!(host("t.co/abc").as_deref(), Some("t.co"));
        assert_eq!(host("  ").as_deref(), None);
    }
}
