//! The fictional company's world: channels and their behaviour, ad campaigns, regions, segments,
//! people, pages, keywords, currencies. Constant tables only; the simulation draws from them.
//!
//! The numbers are tuned so that, at scale 1, the 24 months hold about 100 k sessions, 10 k
//! contacts and 1 k deals, with channel mixes, funnel rates and cycles a B2B SaaS marketer would
//! recognise.

/// Where a visit or a contact came from. Ten marketing channels plus outbound sales (contacts
/// only). The names are the generator's own; sessions carry the utm/referrer/click-id signals
/// that GA4's default channel grouping maps to the matching group.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Channel {
    OrganicSearch,
    PaidSearch,
    PaidSocialLinkedIn,
    PaidSocialMeta,
    Email,
    Referral,
    Direct,
    OrganicSocial,
    Events,
    Partners,
    /// Sales prospecting: offline contacts only, never a session.
    Outbound,
}

pub const WEB_CHANNELS: [Channel; 10] = [
    Channel::OrganicSearch,
    Channel::PaidSearch,
    Channel::PaidSocialLinkedIn,
    Channel::PaidSocialMeta,
    Channel::Email,
    Channel::Referral,
    Channel::Direct,
    Channel::OrganicSocial,
    Channel::Events,
    Channel::Partners,
];

/// How a channel behaves.
#[derive(Debug)]
pub struct ChannelSpec {
    /// HubSpot-style `original_source` of a contact whose first touch is this channel.
    pub original_source: &'static str,
    /// Share of new visitors arriving through it.
    pub first_share: f64,
    /// Share of return visits of a still anonymous visitor.
    pub return_share: f64,
    /// Share of return visits of a known contact (emails reach them, ads retarget them).
    pub known_share: f64,
    /// Probability that a session bounces.
    pub bounce: f64,
    /// Base probability that a visitor whose first touch is this channel becomes a lead.
    pub visitor_conversion: f64,
    /// Multipliers of the lead→MQL, MQL→SQL, SQL→opportunity and win rates.
    pub funnel: [f64; 4],
    /// Multiplier of the sales cycle.
    pub cycle: f64,
    /// Weights of the conversion offers ([`OFFERS`] order) of a lead converting in this channel.
    pub offers: [f64; 6],
    /// What a contact from this channel answers to "how did you hear about us" when the answer
    /// matches the channel.
    pub self_reported: &'static [&'static str],
}

impl Channel {
    pub fn spec(self) -> &'static ChannelSpec {
        &CHANNELS[self as usize]
    }

    pub fn is_paid(self) -> bool {
        matches!(self, Channel::PaidSearch | Channel::PaidSocialLinkedIn | Channel::PaidSocialMeta)
    }
}

pub const CHANNELS: [ChannelSpec; 11] = [
    // OrganicSearch
    ChannelSpec {
        original_source: "ORGANIC_SEARCH",
        first_share: 0.30,
        return_share: 0.24,
        known_share: 0.18,
        bounce: 0.48,
        visitor_conversion: 0.135,
        funnel: [1.0, 1.0, 1.0, 1.0],
        cycle: 1.0,
        offers: [0.15, 0.20, 0.08, 0.12, 0.30, 0.15],
        self_reported: &["Google search", "Search engine", "Blog article"],
    },
    // PaidSearch
    ChannelSpec {
        original_source: "PAID_SEARCH",
        first_share: 0.17,
        return_share: 0.09,
        known_share: 0.05,
        bounce: 0.42,
        visitor_conversion: 0.18,
        funnel: [1.05, 0.95, 0.95, 0.95],
        cycle: 0.95,
        offers: [0.35, 0.30, 0.12, 0.05, 0.13, 0.05],
        self_reported: &["Google search", "Google ad"],
    },
    // PaidSocialLinkedIn
    ChannelSpec {
        original_source: "PAID_SOCIAL",
        first_share: 0.08,
        return_share: 0.05,
        known_share: 0.04,
        bounce: 0.55,
        visitor_conversion: 0.13,
        funnel: [0.95, 0.9, 1.0, 1.05],
        cycle: 1.1,
        offers: [0.15, 0.05, 0.03, 0.32, 0.40, 0.05],
        self_reported: &["LinkedIn", "LinkedIn ad"],
    },
    // PaidSocialMeta
    ChannelSpec {
        original_source: "PAID_SOCIAL",
        first_share: 0.06,
        return_share: 0.04,
        known_share: 0.02,
        bounce: 0.62,
        visitor_conversion: 0.07,
        funnel: [0.6, 0.7, 0.8, 0.75],
        cycle: 1.2,
        offers: [0.08, 0.10, 0.02, 0.30, 0.40, 0.10],
        self_reported: &["Facebook / Instagram"],
    },
    // Email
    ChannelSpec {
        original_source: "EMAIL_MARKETING",
        first_share: 0.04,
        return_share: 0.08,
        known_share: 0.28,
        bounce: 0.38,
        visitor_conversion: 0.18,
        funnel: [1.1, 1.05, 1.0, 1.0],
        cycle: 1.0,
        offers: [0.20, 0.10, 0.05, 0.35, 0.25, 0.05],
        self_reported: &["Newsletter", "Email"],
    },
    // Referral
    ChannelSpec {
        original_source: "REFERRALS",
        first_share: 0.08,
        return_share: 0.04,
        known_share: 0.03,
        bounce: 0.40,
        visitor_conversion: 0.16,
        funnel: [1.15, 1.2, 1.1, 1.2],
        cycle: 0.85,
        offers: [0.30, 0.30, 0.10, 0.10, 0.15, 0.05],
        self_reported: &["G2 review", "Blog article", "Capterra"],
    },
    // Direct
    ChannelSpec {
        original_source: "DIRECT_TRAFFIC",
        first_share: 0.15,
        return_share: 0.36,
        known_share: 0.33,
        bounce: 0.35,
        visitor_conversion: 0.15,
        funnel: [1.1, 1.1, 1.05, 1.1],
        cycle: 0.9,
        offers: [0.35, 0.30, 0.15, 0.05, 0.10, 0.05],
        // Direct traffic is where dark social lands: people type the URL after a podcast, a
        // colleague's tip or a post.
        self_reported: &["Podcast", "A friend or colleague", "LinkedIn post", "Slack community"],
    },
    // OrganicSocial
    ChannelSpec {
        original_source: "SOCIAL_MEDIA",
        first_share: 0.07,
        return_share: 0.05,
        known_share: 0.03,
        bounce: 0.58,
        visitor_conversion: 0.09,
        funnel: [0.85, 0.9, 0.9, 1.0],
        cycle: 1.0,
        offers: [0.10, 0.10, 0.05, 0.30, 0.30, 0.15],
        self_reported: &["LinkedIn post", "LinkedIn", "X / Twitter"],
    },
    // Events
    ChannelSpec {
        original_source: "OFFLINE",
        first_share: 0.012,
        return_share: 0.01,
        known_share: 0.01,
        bounce: 0.30,
        visitor_conversion: 0.22,
        funnel: [1.0, 0.9, 1.0, 1.0],
        cycle: 1.1,
        offers: [0.30, 0.05, 0.15, 0.40, 0.10, 0.0],
        self_reported: &["Event / trade show", "Webinar"],
    },
    // Partners
    ChannelSpec {
        original_source: "OTHER_CAMPAIGNS",
        first_share: 0.038,
        return_share: 0.02,
        known_share: 0.01,
        bounce: 0.36,
        visitor_conversion: 0.18,
        funnel: [1.2, 1.25, 1.2, 1.3],
        cycle: 0.8,
        offers: [0.35, 0.25, 0.15, 0.10, 0.10, 0.05],
        self_reported: &["Partner", "Our agency"],
    },
    // Outbound
    ChannelSpec {
        original_source: "OFFLINE",
        first_share: 0.0,
        return_share: 0.0,
        known_share: 0.0,
        bounce: 0.0,
        visitor_conversion: 0.0,
        funnel: [0.8, 0.85, 0.9, 0.9],
        cycle: 1.15,
        offers: [0.0; 6],
        self_reported: &["Sales outreach", "Cold email"],
    },
];

/// Answers to "how did you hear about us" that no click records (dark social).
pub const DARK_SOCIAL: &[(&str, f64)] = &[
    ("Podcast", 0.25),
    ("A friend or colleague", 0.30),
    ("LinkedIn post", 0.25),
    ("G2 review", 0.10),
    ("Slack community", 0.10),
];

/// What a lead converted on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Offer {
    Demo,
    Trial,
    Contact,
    Webinar,
    Ebook,
    Newsletter,
    /// Offline contacts (trade shows, partner referrals, outbound): no web form.
    Offline,
}

pub const OFFERS: [Offer; 6] =
    [Offer::Demo, Offer::Trial, Offer::Contact, Offer::Webinar, Offer::Ebook, Offer::Newsletter];

#[derive(Debug)]
pub struct OfferSpec {
    /// The form's name (the `name` of the `form_submit` event).
    pub form: &'static str,
    /// The event that follows the form submission, with its `name`.
    pub event: Option<(&'static str, &'static str)>,
    /// The page the form is on.
    pub page: &'static str,
    /// Value attached to the form submission.
    pub value: f64,
    /// Base lead → MQL probability.
    pub p_mql: f64,
    /// Median days from lead to MQL.
    pub mql_days: f64,
    /// Probability of going straight from lead to SQL.
    pub skip_mql: f64,
}

impl Offer {
    pub fn spec(self) -> &'static OfferSpec {
        &OFFER_SPECS[self as usize]
    }
}

pub const OFFER_SPECS: [OfferSpec; 7] = [
    OfferSpec {
        form: "demo-request-form",
        event: Some(("demo_request", "book-a-demo")),
        page: "/demo",
        value: 250.0,
        p_mql: 0.85,
        mql_days: 0.02,
        skip_mql: 0.25,
    },
    OfferSpec {
        form: "free-trial-signup",
        event: Some(("signup", "free-trial")),
        page: "/signup",
        value: 120.0,
        p_mql: 0.55,
        mql_days: 2.0,
        skip_mql: 0.05,
    },
    OfferSpec {
        form: "contact-sales-form",
        event: None,
        page: "/contact",
        value: 150.0,
        p_mql: 0.60,
        mql_days: 0.5,
        skip_mql: 0.15,
    },
    OfferSpec {
        form: "webinar-registration-form",
        event: Some(("webinar_registration", "webinar-b2b-kpis-live")),
        page: "/webinars/b2b-kpis-live",
        value: 60.0,
        p_mql: 0.33,
        mql_days: 7.0,
        skip_mql: 0.03,
    },
    OfferSpec {
        form: "ebook-download-form",
        event: Some(("download", "ebook-b2b-kpi-benchmarks")),
        page: "/resources/b2b-kpi-benchmarks",
        value: 40.0,
        p_mql: 0.24,
        mql_days: 10.0,
        skip_mql: 0.02,
    },
    OfferSpec {
        form: "newsletter-signup-form",
        event: None,
        page: "/blog",
        value: 10.0,
        p_mql: 0.12,
        mql_days: 20.0,
        skip_mql: 0.01,
    },
    OfferSpec {
        form: "offline-import",
        event: None,
        page: "/",
        value: 0.0,
        p_mql: 0.45,
        mql_days: 3.0,
        skip_mql: 0.08,
    },
];

/// Sales regions.
pub const REGIONS: [&str; 4] = ["NA", "EMEA", "APAC", "LATAM"];
pub const REGION_WEIGHTS: [f64; 4] = [0.50, 0.30, 0.12, 0.08];
/// Typical UTC offset of the region's business hours.
pub const REGION_UTC_OFFSET: [i64; 4] = [-5, 1, 8, -3];
/// Countries (ISO 3166 alpha-2) of each region with weights.
pub const COUNTRIES: [&[(&str, f64)]; 4] = [
    &[("US", 0.86), ("CA", 0.14)],
    &[
        ("GB", 0.26),
        ("DE", 0.22),
        ("FR", 0.14),
        ("NL", 0.10),
        ("SE", 0.07),
        ("ES", 0.08),
        ("IT", 0.07),
        ("AE", 0.06),
    ],
    &[("AU", 0.34), ("SG", 0.20), ("IN", 0.26), ("JP", 0.20)],
    &[("BR", 0.50), ("MX", 0.28), ("AR", 0.12), ("CO", 0.10)],
];
/// Sales reps (contact and deal owners) per region.
pub const OWNERS: [&[&str]; 4] = [
    &["alice.morgan", "ben.carter", "chloe.davis", "daniel.reyes"],
    &["dominik.weber", "elena.rossi", "femke.jansen"],
    &["hiro.tanaka", "isla.nguyen"],
    &["joao.silva", "lucia.gomez"],
];

/// Customer segments.
pub const SEGMENTS: [&str; 3] = ["SMB", "Mid-Market", "Enterprise"];
pub const SEGMENT_WEIGHTS: [f64; 3] = [0.55, 0.30, 0.15];
/// Median deal amount (annual contract value) in USD, and its log-space spread.
pub const SEGMENT_AMOUNT: [(f64, f64); 3] = [(6_000.0, 0.45), (18_000.0, 0.45), (55_000.0, 0.55)];
/// Median days from opportunity to close.
pub const SEGMENT_CYCLE_DAYS: [f64; 3] = [24.0, 50.0, 95.0];
/// Multiplier of the win rate.
pub const SEGMENT_WIN: [f64; 3] = [1.15, 1.0, 0.7];
/// Multiplier of the lead → MQL rate (bigger companies qualify more often).
pub const SEGMENT_MQL: [f64; 3] = [0.95, 1.05, 1.1];
/// Monthly logo churn probability.
pub const SEGMENT_CHURN: [f64; 3] = [0.03, 0.02, 0.015];
/// Products sold per segment.
pub const SEGMENT_PRODUCTS: [&[&str]; 3] = [
    &["Starter", "Growth"],
    &["Growth", "Pro", "Pro + Attribution"],
    &["Enterprise", "Enterprise + Attribution"],
];

pub const INDUSTRIES: &[(&str, f64)] = &[
    ("Software", 0.30),
    ("Financial Services", 0.12),
    ("Healthcare", 0.09),
    ("Manufacturing", 0.11),
    ("Retail & E-commerce", 0.10),
    ("Professional Services", 0.13),
    ("Education", 0.06),
    ("Media", 0.09),
];

pub const BUSINESS_UNITS: [&str; 2] = ["Platform", "Analytics"];

/// What customers buy in upsell deals.
pub const UPSELL_PRODUCTS: &[&str] = &["Attribution add-on", "Extra seats", "Premium support"];

pub const LOST_REASONS: &[(&str, f64)] = &[
    ("Price", 0.24),
    ("Chose a competitor", 0.22),
    ("No decision", 0.26),
    ("Timing", 0.12),
    ("No budget", 0.10),
    ("Missing feature", 0.06),
];

/// The kind of ad platform a unit runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AdKind {
    Search,
    Social,
}

/// One campaign × ad group on one ad platform: a row of `ad_spend` per day and region.
#[derive(Debug)]
pub struct AdUnit {
    pub platform: &'static str,
    pub channel: Channel,
    pub kind: AdKind,
    pub campaign: &'static str,
    pub ad_group: &'static str,
    /// utm_source of its clicks.
    pub source: &'static str,
    /// Click id the platform appends.
    pub click_id: &'static str,
    /// Weight among the channel's units for new visitors and for return visits.
    pub weight_new: f64,
    pub weight_return: f64,
    /// Regions it targets (bit i = `REGIONS[i]`).
    pub regions: u8,
    /// Cost per click in USD, click-through rate, and (search) impression share.
    pub cpc: f64,
    pub ctr: f64,
    pub impression_share: f64,
    pub business_unit: &'static str,
    /// Search terms (utm_term) of its clicks; none for social.
    pub keywords: &'static [&'static str],
    /// Landing pages of its clicks.
    pub pages: &'static [&'static str],
}

const ALL: u8 = 0b1111;
const NA_EMEA: u8 = 0b0011;
const NA_EMEA_APAC: u8 = 0b0111;
const NA_EMEA_LATAM: u8 = 0b1011;
const NA: u8 = 0b0001;

pub const AD_UNITS: &[AdUnit] = &[
    AdUnit {
        platform: "google_ads",
        channel: Channel::PaidSearch,
        kind: AdKind::Search,
        campaign: "gads_brand",
        ad_group: "brand",
        source: "google",
        click_id: "gclid",
        weight_new: 0.22,
        weight_return: 0.55,
        regions: ALL,
        cpc: 2.7,
        ctr: 0.09,
        impression_share: 0.92,
        business_unit: "Platform",
        keywords: &["kpiflow", "kpiflow pricing", "kpiflow login", "kpiflow demo"],
        pages: &["/", "/pricing", "/demo"],
    },
    AdUnit {
        platform: "google_ads",
        channel: Channel::PaidSearch,
        kind: AdKind::Search,
        campaign: "gads_nonbrand",
        ad_group: "marketing-kpis",
        source: "google",
        click_id: "gclid",
        weight_new: 0.20,
        weight_return: 0.10,
        regions: NA_EMEA_APAC,
        cpc: 10.5,
        ctr: 0.035,
        impression_share: 0.45,
        business_unit: "Platform",
        keywords: &["b2b marketing kpis", "marketing kpi software", "marketing metrics tool"],
        pages: &["/lp/marketing-kpis", "/product/dashboards"],
    },
    AdUnit {
        platform: "google_ads",
        channel: Channel::PaidSearch,
        kind: AdKind::Search,
        campaign: "gads_nonbrand",
        ad_group: "attribution-software",
        source: "google",
        click_id: "gclid",
        weight_new: 0.16,
        weight_return: 0.08,
        regions: NA_EMEA_APAC,
        cpc: 13.7,
        ctr: 0.03,
        impression_share: 0.38,
        business_unit: "Analytics",
        keywords: &["marketing attribution software", "multi touch attribution", "b2b attribution"],
        pages: &["/lp/attribution", "/product/attribution"],
    },
    AdUnit {
        platform: "google_ads",
        channel: Channel::PaidSearch,
        kind: AdKind::Search,
        campaign: "gads_nonbrand",
        ad_group: "kpi-dashboard",
        source: "google",
        click_id: "gclid",
        weight_new: 0.18,
        weight_return: 0.08,
        regions: NA_EMEA_APAC,
        cpc: 8.7,
        ctr: 0.04,
        impression_share: 0.5,
        business_unit: "Platform",
        keywords: &["marketing dashboard", "kpi dashboard software", "cmo dashboard"],
        pages: &["/lp/kpi-dashboard", "/product/dashboards"],
    },
    AdUnit {
        platform: "google_ads",
        channel: Channel::PaidSearch,
        kind: AdKind::Search,
        campaign: "gads_competitor",
        ad_group: "competitors",
        source: "google",
        click_id: "gclid",
        weight_new: 0.10,
        weight_return: 0.04,
        regions: NA_EMEA,
        cpc: 17.4,
        ctr: 0.025,
        impression_share: 0.3,
        business_unit: "Platform",
        keywords: &["dreamdata alternative", "hockeystack alternative", "bizible alternative"],
        pages: &["/compare", "/lp/switch"],
    },
    AdUnit {
        platform: "microsoft_ads",
        channel: Channel::PaidSearch,
        kind: AdKind::Search,
        campaign: "msads_brand",
        ad_group: "brand",
        source: "bing",
        click_id: "msclkid",
        weight_new: 0.05,
        weight_return: 0.12,
        regions: NA,
        cpc: 1.8,
        ctr: 0.08,
        impression_share: 0.85,
        business_unit: "Platform",
        keywords: &["kpiflow", "kpiflow pricing"],
        pages: &["/", "/pricing"],
    },
    AdUnit {
        platform: "microsoft_ads",
        channel: Channel::PaidSearch,
        kind: AdKind::Search,
        campaign: "msads_nonbrand",
        ad_group: "marketing-kpis",
        source: "bing",
        click_id: "msclkid",
        weight_new: 0.09,
        weight_return: 0.03,
        regions: NA,
        cpc: 6.9,
        ctr: 0.03,
        impression_share: 0.55,
        business_unit: "Platform",
        keywords: &["b2b marketing kpis", "marketing kpi dashboard"],
        pages: &["/lp/marketing-kpis"],
    },
    AdUnit {
        platform: "linkedin_ads",
        channel: Channel::PaidSocialLinkedIn,
        kind: AdKind::Social,
        campaign: "li_abm_enterprise",
        ad_group: "target-accounts",
        source: "linkedin",
        click_id: "li_fat_id",
        weight_new: 0.22,
        weight_return: 0.10,
        regions: NA_EMEA,
        cpc: 18.9,
        ctr: 0.005,
        impression_share: 1.0,
        business_unit: "Platform",
        keywords: &[],
        pages: &["/enterprise", "/demo"],
    },
    AdUnit {
        platform: "linkedin_ads",
        channel: Channel::PaidSocialLinkedIn,
        kind: AdKind::Social,
        campaign: "li_leadgen_ebook",
        ad_group: "marketing-leaders",
        source: "linkedin",
        click_id: "li_fat_id",
        weight_new: 0.40,
        weight_return: 0.15,
        regions: NA_EMEA,
        cpc: 13.7,
        ctr: 0.006,
        impression_share: 1.0,
        business_unit: "Platform",
        keywords: &[],
        pages: &["/resources/b2b-kpi-benchmarks"],
    },
    AdUnit {
        platform: "linkedin_ads",
        channel: Channel::PaidSocialLinkedIn,
        kind: AdKind::Social,
        campaign: "li_webinar_promo",
        ad_group: "revops-managers",
        source: "linkedin",
        click_id: "li_fat_id",
        weight_new: 0.28,
        weight_return: 0.10,
        regions: NA_EMEA,
        cpc: 12.2,
        ctr: 0.0055,
        impression_share: 1.0,
        business_unit: "Analytics",
        keywords: &[],
        pages: &["/webinars/b2b-kpis-live"],
    },
    AdUnit {
        platform: "linkedin_ads",
        channel: Channel::PaidSocialLinkedIn,
        kind: AdKind::Social,
        campaign: "li_retargeting",
        ad_group: "site-visitors-90d",
        source: "linkedin",
        click_id: "li_fat_id",
        weight_new: 0.10,
        weight_return: 0.65,
        regions: NA_EMEA,
        cpc: 10.1,
        ctr: 0.008,
        impression_share: 1.0,
        business_unit: "Platform",
        keywords: &[],
        pages: &["/pricing", "/demo", "/customers"],
    },
    AdUnit {
        platform: "meta_ads",
        channel: Channel::PaidSocialMeta,
        kind: AdKind::Social,
        campaign: "meta_prospecting",
        ad_group: "lookalike-customers",
        source: "facebook",
        click_id: "fbclid",
        weight_new: 0.55,
        weight_return: 0.10,
        regions: NA_EMEA_LATAM,
        cpc: 2.5,
        ctr: 0.011,
        impression_share: 1.0,
        business_unit: "Platform",
        keywords: &[],
        pages: &["/lp/marketing-kpis", "/resources/b2b-kpi-benchmarks"],
    },
    AdUnit {
        platform: "meta_ads",
        channel: Channel::PaidSocialMeta,
        kind: AdKind::Social,
        campaign: "meta_webinar_promo",
        ad_group: "interest-marketing-ops",
        source: "facebook",
        click_id: "fbclid",
        weight_new: 0.35,
        weight_return: 0.10,
        regions: NA_EMEA_LATAM,
        cpc: 2.9,
        ctr: 0.009,
        impression_share: 1.0,
        business_unit: "Analytics",
        keywords: &[],
        pages: &["/webinars/b2b-kpis-live"],
    },
    AdUnit {
        platform: "meta_ads",
        channel: Channel::PaidSocialMeta,
        kind: AdKind::Social,
        campaign: "meta_retargeting",
        ad_group: "site-visitors-30d",
        source: "facebook",
        click_id: "fbclid",
        weight_new: 0.10,
        weight_return: 0.80,
        regions: NA_EMEA_LATAM,
        cpc: 2.0,
        ctr: 0.014,
        impression_share: 1.0,
        business_unit: "Platform",
        keywords: &[],
        pages: &["/pricing", "/demo"],
    },
];

/// Search engines behind organic search visits, as referrers.
pub const SEARCH_REFERRERS: &[(&str, f64)] = &[
    ("https://www.google.com/", 0.82),
    ("https://www.bing.com/", 0.10),
    ("https://duckduckgo.com/", 0.05),
    ("https://search.yahoo.com/", 0.03),
];

/// Social networks behind organic social visits, as referrers.
pub const SOCIAL_REFERRERS: &[(&str, f64)] = &[
    ("https://www.linkedin.com/", 0.45),
    ("https://lnkd.in/", 0.12),
    ("https://t.co/", 0.20),
    ("https://www.facebook.com/", 0.10),
    ("https://www.reddit.com/", 0.13),
];

/// Sites whose links bring referral visits (review sites, partner and industry blogs).
pub const REFERRAL_SITES: &[(&str, f64)] = &[
    ("https://www.g2.com/products/kpiflow/reviews", 0.25),
    ("https://www.capterra.com/p/kpiflow/", 0.12),
    ("https://blog.revopsguild.com/best-kpi-tools", 0.15),
    ("https://martechweekly.com/attribution-roundup", 0.12),
    ("https://www.producthunt.com/products/kpiflow", 0.08),
    ("https://news.ycombinator.com/", 0.06),
    ("https://medium.com/@growthnotes/b2b-kpis", 0.10),
    ("https://demandgenhub.io/tools", 0.12),
];

/// Affiliate / reseller partners: (utm_source, their site).
pub const PARTNERS: &[(&str, &str)] = &[
    ("revops-co", "https://revops.co/"),
    ("pipeline-partners", "https://pipelinepartners.com/"),
    ("growthlab-agency", "https://growthlab.agency/"),
    ("martech-advisors", "https://martechadvisors.io/"),
];

/// Pages organic visits land on (blog posts that rank), home and product pages.
pub const BLOG_PAGES: &[&str] = &[
    "/blog/b2b-marketing-kpis",
    "/blog/marketing-attribution-models",
    "/blog/cac-vs-ltv",
    "/blog/mql-vs-sql",
    "/blog/speed-to-lead",
    "/blog/pipeline-velocity",
    "/blog/marketing-dashboard-examples",
    "/blog/net-revenue-retention",
    "/blog/lead-scoring-guide",
    "/blog/marketing-roi-formula",
    "/blog/dark-social",
    "/blog/funnel-conversion-rates",
];

pub const SITE_PAGES: &[&str] = &[
    "/",
    "/pricing",
    "/product",
    "/product/attribution",
    "/product/dashboards",
    "/integrations",
    "/customers",
];

/// Calls to action shown on pages (`cta_view` / `cta_click` names).
pub const CTAS: &[&str] = &[
    "hero-book-demo",
    "pricing-start-trial",
    "blog-sidebar-ebook",
    "exit-intent-webinar",
    "footer-newsletter",
    "product-tour-video",
];

/// Assets known contacts download on later visits.
pub const ASSETS: &[&str] = &[
    "ebook-b2b-kpi-benchmarks",
    "template-marketing-plan",
    "report-state-of-revops",
    "checklist-attribution",
];

pub const VIDEOS: &[&str] = &["product-tour-2min", "customer-story-acme", "webinar-recording-kpis"];

/// Heads and modifiers of the tracked SEO keywords (keyword i = head i % H + modifier i / H).
pub const SEO_HEADS: &[(&str, &str)] = &[
    ("b2b marketing kpis", "/blog/b2b-marketing-kpis"),
    ("marketing attribution", "/blog/marketing-attribution-models"),
    ("cac vs ltv", "/blog/cac-vs-ltv"),
    ("mql vs sql", "/blog/mql-vs-sql"),
    ("speed to lead", "/blog/speed-to-lead"),
    ("pipeline velocity", "/blog/pipeline-velocity"),
    ("marketing dashboard", "/blog/marketing-dashboard-examples"),
    ("net revenue retention", "/blog/net-revenue-retention"),
    ("lead scoring", "/blog/lead-scoring-guide"),
    ("marketing roi", "/blog/marketing-roi-formula"),
    ("dark social", "/blog/dark-social"),
    ("funnel conversion rate", "/blog/funnel-conversion-rates"),
    ("customer acquisition cost", "/blog/cac-vs-ltv"),
    ("multi touch attribution", "/product/attribution"),
    ("kpi dashboard", "/product/dashboards"),
    ("revops metrics", "/blog/b2b-marketing-kpis"),
    ("saas metrics", "/blog/net-revenue-retention"),
    ("marketing analytics", "/product"),
    ("demand generation metrics", "/blog/b2b-marketing-kpis"),
    ("cost per lead", "/blog/funnel-conversion-rates"),
    ("mrr churn", "/blog/net-revenue-retention"),
    ("marketing funnel", "/blog/funnel-conversion-rates"),
    ("attribution model", "/blog/marketing-attribution-models"),
    ("clv to cac ratio", "/blog/cac-vs-ltv"),
];

pub const SEO_MODIFIERS: &[&str] = &[
    "",
    "software",
    "examples",
    "template",
    "tool",
    "benchmarks",
    "formula",
    "for saas",
    "best",
    "guide",
];

/// Backlink domains: a few well-known ones, then made-up blogs (prefix × suffix × tld).
pub const KNOWN_DOMAINS: &[&str] = &[
    "g2.com",
    "capterra.com",
    "producthunt.com",
    "medium.com",
    "github.com",
    "reddit.com",
    "news.ycombinator.com",
    "dev.to",
    "substack.com",
    "getapp.com",
];
pub const DOMAIN_PREFIXES: &[&str] = &[
    "growth",
    "saas",
    "b2b",
    "revops",
    "martech",
    "demand",
    "pipeline",
    "data",
    "metrics",
    "funnel",
    "lead",
    "cloud",
    "startup",
    "analytics",
    "cmo",
    "digital",
    "content",
    "brand",
    "sales",
    "crm",
    "inbound",
    "scale",
    "founder",
    "product",
    "market",
    "signal",
    "attribution",
    "insight",
    "ops",
    "buyer",
];
pub const DOMAIN_SUFFIXES: &[&str] = &[
    "weekly",
    "hub",
    "insider",
    "blog",
    "labs",
    "review",
    "daily",
    "journal",
    "news",
    "academy",
    "collective",
    "guide",
    "notes",
    "digest",
    "playbook",
    "stack",
];
pub const DOMAIN_TLDS: &[&str] = &[".com", ".io", ".co", ".net", ".org", ".dev"];

/// The referring domain with index `i` (distinct for distinct `i`).
pub fn domain_name(i: u32) -> String {
    let i = i as usize;
    if i < KNOWN_DOMAINS.len() {
        return KNOWN_DOMAINS[i].to_owned();
    }
    let j = i - KNOWN_DOMAINS.len();
    let (np, ns, nt) = (DOMAIN_PREFIXES.len(), DOMAIN_SUFFIXES.len(), DOMAIN_TLDS.len());
    if j < np * ns * nt {
        let p = DOMAIN_PREFIXES[j % np];
        let s = DOMAIN_SUFFIXES[(j / np) % ns];
        let t = DOMAIN_TLDS[j / (np * ns)];
        format!("{p}{s}{t}")
    } else {
        format!("site{j}.com")
    }
}

/// Approximate units of each currency per US dollar, to put amounts in a plausible range for the
/// reporting currency. A valid ISO code missing here is treated like the dollar.
pub const UNITS_PER_USD: &[(&str, f64)] = &[
    ("USD", 1.0),
    ("EUR", 0.92),
    ("GBP", 0.79),
    ("CHF", 0.88),
    ("JPY", 150.0),
    ("CAD", 1.36),
    ("AUD", 1.52),
    ("NZD", 1.65),
    ("SEK", 10.5),
    ("NOK", 10.6),
    ("DKK", 6.9),
    ("PLN", 4.0),
    ("CZK", 23.0),
    ("HUF", 360.0),
    ("RON", 4.6),
    ("INR", 83.0),
    ("CNY", 7.2),
    ("HKD", 7.8),
    ("SGD", 1.35),
    ("KRW", 1_350.0),
    ("TWD", 32.0),
    ("THB", 36.0),
    ("MYR", 4.7),
    ("IDR", 15_800.0),
    ("PHP", 56.0),
    ("BRL", 5.0),
    ("MXN", 17.5),
    ("CLP", 930.0),
    ("COP", 3_900.0),
    ("ZAR", 18.5),
    ("TRY", 32.0),
    ("ILS", 3.7),
    ("AED", 3.67),
    ("SAR", 3.75),
];

pub fn units_per_usd(code: &str) -> f64 {
    UNITS_PER_USD.iter().find(|(c, _)| *c == code).map_or(1.0, |(_, v)| *v)
}
