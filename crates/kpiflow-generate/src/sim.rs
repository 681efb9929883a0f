//! The day-by-day simulation: visitors and their journeys, contacts and their funnel, deals,
//! subscriptions, and the ad spend that bought the paid visits.
//!
//! Memory stays flat: a day's sessions are built, sorted and written, and only entities still
//! open are kept — visitors' future visits (a ring of per-day buckets over at most
//! [`HORIZON`] days), visitors who converted and still have visits ahead, a bounded pool of
//! recent accounts (so colleagues share an account), deals still to be won, and paying accounts.
//! A contact's whole funnel (stages, deal, deal stages) is decided and written when the contact is
//! created; only a win, which starts revenue, waits for its day.

use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;

use chrono::{Datelike, Weekday};
use kpiflow_model::parse::days_since_epoch;
use kpiflow_model::schema;

use crate::calendar::{HOUR_WEIGHTS, SECS_PER_DAY, Timeline};
use crate::marketing::Marketing;
use crate::rng::Rng;
use crate::world::{
    AD_UNITS, ASSETS, AdKind, BLOG_PAGES, BUSINESS_UNITS, COUNTRIES, CTAS, Channel, DARK_SOCIAL,
    INDUSTRIES, LOST_REASONS, OFFERS, OWNERS, Offer, PARTNERS, REFERRAL_SITES, REGION_UTC_OFFSET,
    REGION_WEIGHTS, REGIONS, SEARCH_REFERRERS, SEGMENT_AMOUNT, SEGMENT_CHURN, SEGMENT_CYCLE_DAYS,
    SEGMENT_MQL, SEGMENT_PRODUCTS, SEGMENT_WEIGHTS, SEGMENT_WIN, SEGMENTS, SITE_PAGES,
    SOCIAL_REFERRERS, UPSELL_PRODUCTS, VIDEOS, WEB_CHANNELS,
};
use crate::writer::{Cell, TableWriter};
use crate::{Checked, GenerateError, GenerateOptions, GenerateSummary, Progress};

/// Days ahead a visitor's future visits may be scheduled (size of the ring of day buckets).
pub const HORIZON: u32 = 128;
/// New visitors over the 24 months at scale 1 (≈ 2 sessions each).
const VISITORS: f64 = 48_500.0;
/// Offline contacts (events, partner referrals, outbound) over the 24 months at scale 1, besides
/// the trade shows.
const OFFLINE_CONTACTS: f64 = 2_900.0;
/// Extra offline contacts per trade-show day at scale 1.
const TRADE_SHOW_CONTACTS_PER_DAY: f64 = 110.0;
/// How many recent accounts a new contact may join.
const ACCOUNT_POOL: usize = 4096;
const NO_UNIT: u8 = u8::MAX;
/// Paying accounts when the data starts (the company is not new), at scale 1.
const INITIAL_CUSTOMERS: f64 = 150.0;
/// Funnel rates before the channel, offer and segment multipliers.
const MQL_RATE: f64 = 0.9;
const SQL_RATE: f64 = 0.45;
const OPPORTUNITY_RATE: f64 = 0.52;
const WIN_RATE: f64 = 0.27;
/// Monthly probability that a customer opens an upsell (expansion) deal.
const UPSELL_RATE: f64 = 0.015;
/// Scales every visitor's conversion probability.
const CONVERSION: f64 = 1.17;

const LIFECYCLE: [&str; 5] = ["lead", "mql", "sql", "opportunity", "customer"];

/// The files, one writer per table, in `TABLES` order.
pub struct Out {
    pub ad_spend: TableWriter,
    pub sessions: TableWriter,
    pub events: TableWriter,
    pub contacts: TableWriter,
    pub stage_changes: TableWriter,
    pub deals: TableWriter,
    pub revenue: TableWriter,
    pub email_campaigns: TableWriter,
    pub social_posts: TableWriter,
    pub seo_keywords: TableWriter,
    pub backlinks: TableWriter,
    pub costs: TableWriter,
    pub fx_rates: TableWriter,
}

impl Out {
    fn create(opts: &GenerateOptions) -> Result<Out, GenerateError> {
        let c = |t: &'static schema::Table| TableWriter::create(&opts.out_dir, t, opts.format);
        Ok(Out {
            ad_spend: c(&schema::AD_SPEND)?,
            sessions: c(&schema::SESSIONS)?,
            events: c(&schema::EVENTS)?,
            contacts: c(&schema::CONTACTS)?,
            stage_changes: c(&schema::STAGE_CHANGES)?,
            deals: c(&schema::DEALS)?,
            revenue: c(&schema::REVENUE)?,
            email_campaigns: c(&schema::EMAIL_CAMPAIGNS)?,
            social_posts: c(&schema::SOCIAL_POSTS)?,
            seo_keywords: c(&schema::SEO_KEYWORDS)?,
            backlinks: c(&schema::BACKLINKS)?,
            costs: c(&schema::COSTS)?,
            fx_rates: c(&schema::FX_RATES)?,
        })
    }

    fn all(&self) -> [&TableWriter; 13] {
        [
            &self.ad_spend,
            &self.sessions,
            &self.events,
            &self.contacts,
            &self.stage_changes,
            &self.deals,
            &self.revenue,
            &self.email_campaigns,
            &self.social_posts,
            &self.seo_keywords,
            &self.backlinks,
            &self.costs,
            &self.fx_rates,
        ]
    }

    fn rows(&self) -> u64 {
        self.all().iter().map(|w| w.rows()).sum()
    }

    fn finish(self) -> Result<Vec<(String, PathBuf, u64)>, GenerateError> {
        let writers = [
            self.ad_spend,
            self.sessions,
            self.events,
            self.contacts,
            self.stage_changes,
            self.deals,
            self.revenue,
            self.email_campaigns,
            self.social_posts,
            self.seo_keywords,
            self.backlinks,
            self.costs,
            self.fx_rates,
        ];
        let mut files = Vec::with_capacity(writers.len());
        for w in writers {
            let name = w.table().name.to_owned();
            let (path, rows) = w.finish()?;
            files.push((name, path, rows));
        }
        Ok(files)
    }
}

/// The campaign a visit came from, resolved to text when written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum CampaignRef {
    None,
    Unit(u8),
    Email(u32),
    /// The trade show of that year.
    TradeShow(i32),
    Webinar,
    Partner(u8),
}

/// One visit waiting for its day.
#[derive(Debug, Clone, Copy)]
struct Draft {
    at: i64,
    visitor: u64,
    /// The contact this visitor already is (offline contacts visiting later); 0 when unknown.
    known_contact: u64,
    seq: u16,
    channel: Channel,
    unit: u8,
    partner: u8,
    region: u8,
    country: u8,
    device: u8,
    /// This visit creates the contact.
    converts: bool,
    /// The visitor's last visit in the data.
    last: bool,
    first_channel: Channel,
    first_campaign: CampaignRef,
}

/// An account (company) contacts can belong to.
#[derive(Debug, Clone, Copy)]
struct Account {
    id: u64,
    region: u8,
    segment: u8,
    industry: u8,
    bu: u8,
}

/// A won deal waiting for its close day to start (or grow) a subscription.
#[derive(Debug, Clone, Copy)]
struct Win {
    at: i64,
    account: u64,
    contact: u64,
    mrr: f64,
    acv: f64,
    segment: u8,
    region: u8,
    bu: u8,
}

/// A paying account.
#[derive(Debug, Clone, Copy)]
struct Sub {
    mrr: f64,
    /// The customer's main contact; 0 for accounts that were customers before the data starts.
    contact: u64,
    since: i64,
    months: u32,
    segment: u8,
    region: u8,
    bu: u8,
}

/// A deal to write.
#[derive(Debug, Clone, Copy)]
struct NewDeal {
    contact: u64,
    account: u64,
    region: u8,
    segment: u8,
    bu: u8,
    created: i64,
    close: i64,
    won: bool,
    amount: f64,
    owner: &'static str,
    product: &'static str,
    pipeline: &'static str,
}

/// Paid sessions (and the conversions among them) of one ad unit and region today.
#[derive(Debug, Clone, Copy, Default)]
struct AdCount {
    sessions: u64,
    conversions: u64,
}

/// Who an event belongs to (0 = not known).
#[derive(Debug, Clone, Copy)]
struct Who {
    visitor: u64,
    contact: u64,
    session: u64,
}

/// What a new contact is made from.
struct NewContact {
    created: i64,
    channel: Channel,
    offer: Offer,
    campaign: CampaignRef,
    /// Region already known (from the visitor's country), else drawn with the account.
    region: Option<u8>,
}

struct Sim {
    tl: Timeline,
    currency: String,
    /// Reporting-currency units per US dollar (scales every amount).
    cf: f64,
    scale: f64,
    end_secs: i64,
    out: Out,
    mkt: Marketing,
    rng: Rng,
    rng_people: Rng,
    rng_ads: Rng,
    visitor_norm: f64,
    offline_norm: f64,

    next_session: u64,
    next_visitor: u64,
    next_contact: u64,
    next_account: u64,
    next_deal: u64,
    next_event: u64,

    pending: Vec<Vec<Draft>>,
    today: Vec<Draft>,
    /// Converted visitors with visits ahead → their contact.
    known: HashMap<u64, u64>,
    accounts: Vec<Account>,
    account_pos: usize,
    wins: BTreeMap<i64, Vec<Win>>,
    subs: BTreeMap<u64, Sub>,
    ad_counts: Vec<[AdCount; 4]>,

    month_search_spend: f64,
    month_won_acv: f64,
    contacts_today: u64,
}

pub fn run(
    opts: &GenerateOptions,
    checked: &Checked,
    progress: &mut dyn FnMut(Progress),
) -> Result<GenerateSummary, GenerateError> {
    let mut master = Rng::new(opts.seed, "kpiflow-generate");
    let trade_show_month = master.pick(&[3u32, 4, 5, 9, 10, 11]);
    let tl = Timeline::new(opts.end_month, trade_show_month).ok_or_else(|| {
        GenerateError::InvalidOption {
            option: "end_month",
            message: format!("{} is out of range", opts.end_month),
        }
    })?;
    let cf = crate::world::units_per_usd(&checked.currency);
    let out = Out::create(opts)?;
    let mkt =
        Marketing::new(&mut master, opts.scale, cf, &checked.currency, checked.second_currency);
    let visitor_norm = (0..tl.days).map(|d| tl.traffic_weight(d)).sum::<f64>();
    let offline_norm = (0..tl.days).map(|d| offline_weight(&tl, d)).sum::<f64>();
    let mut sim = Sim {
        end_secs: tl.end_secs(),
        tl,
        currency: checked.currency.clone(),
        cf,
        scale: opts.scale,
        out,
        mkt,
        rng: master.fork("traffic"),
        rng_people: master.fork("people"),
        rng_ads: master.fork("ads"),
        visitor_norm,
        offline_norm,
        next_session: 1,
        next_visitor: 1,
        next_contact: 1,
        next_account: 1,
        next_deal: 1,
        next_event: 1,
        pending: (0..HORIZON).map(|_| Vec::new()).collect(),
        today: Vec::new(),
        known: HashMap::new(),
        accounts: Vec::with_capacity(ACCOUNT_POOL),
        account_pos: 0,
        wins: BTreeMap::new(),
        subs: BTreeMap::new(),
        ad_counts: vec![[AdCount::default(); 4]; AD_UNITS.len()],
        month_search_spend: 0.0,
        month_won_acv: 0.0,
        contacts_today: 0,
    };
    sim.initial_customers();
    sim.mkt.fx_before_start(&sim.tl, &mut sim.out.fx_rates)?;
    for d in 0..sim.tl.days {
        sim.day(d)?;
        progress(Progress { day: d + 1, days: sim.tl.days, rows: sim.out.rows() });
    }
    let sessions = sim.out.sessions.rows();
    let contacts = sim.out.contacts.rows();
    let deals = sim.out.deals.rows();
    let (start, end) = (sim.tl.start, sim.tl.end);
    let files = sim.out.finish()?;
    Ok(GenerateSummary {
        files,
        sessions,
        contacts,
        deals,
        start,
        end,
        currency: checked.currency.clone(),
        second_currency: checked.second_currency.to_owned(),
    })
}

/// Weight of a day for offline contacts (business days only, mostly).
fn offline_weight(tl: &Timeline, d: u32) -> f64 {
    let w = tl.traffic_weight(d);
    match tl.date(d).weekday() {
        Weekday::Sat | Weekday::Sun => w * 0.2,
        _ => w,
    }
}

fn opt_id(prefix: &'static str, n: u64) -> Cell<'static> {
    if n == 0 { Cell::Null } else { Cell::Id(prefix, n) }
}

fn opt_str(s: Option<&str>) -> Cell<'_> {
    match s {
        Some(s) => Cell::Str(s),
        None => Cell::Null,
    }
}

/// Draws a value from a weighted list of `(value, weight)`.
fn pick_weighted<T: Copy>(rng: &mut Rng, items: &[(T, f64)]) -> T {
    let mut total = 0.0;
    for (_, w) in items {
        total += w;
    }
    let mut x = rng.f64() * total;
    for (v, w) in items {
        if x < *w {
            return *v;
        }
        x -= w;
    }
    items[items.len() - 1].0
}

/// Seconds into a UTC day for a business-hours local time in `region`.
fn intraday(rng: &mut Rng, region: u8) -> i64 {
    let local = rng.weighted(&HOUR_WEIGHTS) as i64;
    let utc_hour = (local - REGION_UTC_OFFSET[usize::from(region)]).rem_euclid(24);
    utc_hour * 3600 + rng.below(3600) as i64
}

impl Sim {
    fn day(&mut self, d: u32) -> Result<(), GenerateError> {
        let date = self.tl.date(d);
        let epoch_day = self.tl.epoch_day(d);
        self.mkt.fx_day(epoch_day, &mut self.out.fx_rates)?;
        if date.day() == 1 {
            self.mkt.backlinks_month(epoch_day, &mut self.out.backlinks)?;
        }
        self.mkt.email_day(&self.tl, d, self.subs.len(), &mut self.out.email_campaigns)?;
        self.mkt.social_day(&self.tl, d, &mut self.out.social_posts)?;
        if date.weekday() == Weekday::Mon {
            self.mkt.seo_week(&self.tl, d, &mut self.out.seo_keywords)?;
        }

        self.contacts_today = 0;
        self.sessions_day(d)?;
        self.offline_contacts_day(d)?;
        self.mkt.contacts_created(self.contacts_today);
        self.wins_day(d);
        self.logins_day(d)?;
        self.ad_spend_day(d)?;
        if self.tl.is_last_day_of_month(d) {
            let m = self.tl.month_index(d);
            self.revenue_month(m)?;
            self.upsells(d)?;
            let trade_show = self.tl.month_start(m).month() == self.tl.trade_show_month;
            self.mkt.costs_month(
                &self.tl,
                m,
                trade_show,
                self.month_search_spend,
                self.month_won_acv,
                &mut self.out.costs,
            )?;
            self.month_search_spend = 0.0;
            self.month_won_acv = 0.0;
        }
        Ok(())
    }

    // ---------------------------------------------------------------------------------------
    // Visitors and sessions

    fn sessions_day(&mut self, d: u32) -> Result<(), GenerateError> {
        // The day's visits: those queued earlier plus today's new visitors, in a buffer reused
        // from day to day (the bucket's own allocation is freed, so the ring stays small).
        let mut today = std::mem::take(&mut self.today);
        today.clear();
        today.extend(std::mem::take(&mut self.pending[(d % HORIZON) as usize]));
        let lambda = self.scale * VISITORS * self.tl.traffic_weight(d) / self.visitor_norm;
        let n = self.rng.poisson(lambda);
        for _ in 0..n {
            self.new_visitor(d, &mut today);
        }
        today.sort_unstable_by_key(|s| (s.at, s.visitor, s.seq));
        for s in &today {
            self.session(s)?;
        }
        today.clear();
        self.today = today;
        Ok(())
    }

    fn first_channel(&mut self, d: u32) -> Channel {
        let boost = self.tl.events_boost(d);
        let mut w = [0.0; 10];
        for (i, ch) in WEB_CHANNELS.iter().enumerate() {
            w[i] = ch.spec().first_share * if *ch == Channel::Events { boost } else { 1.0 };
        }
        WEB_CHANNELS[self.rng.weighted(&w)]
    }

    /// A later visit's channel: retargeting, brand search, direct and email bring people back.
    fn return_channel(&mut self, known: bool) -> Channel {
        let mut w = [0.0; 10];
        for (i, ch) in WEB_CHANNELS.iter().enumerate() {
            let s = ch.spec();
            w[i] = if known { s.known_share } else { s.return_share };
        }
        WEB_CHANNELS[self.rng.weighted(&w)]
    }

    /// An ad unit of a paid channel serving `region` (weights for new or returning visitors).
    fn pick_unit(&mut self, ch: Channel, region: Option<u8>, new: bool) -> Option<u8> {
        let mut w = [0.0; 32];
        let mut any = false;
        for (i, u) in AD_UNITS.iter().enumerate().take(w.len()) {
            if u.channel == ch && region.is_none_or(|r| u.regions & (1 << r) != 0) {
                w[i] = if new { u.weight_new } else { u.weight_return };
                any |= w[i] > 0.0;
            }
        }
        if !any {
            return None;
        }
        Some(self.rng.weighted(&w[..AD_UNITS.len().min(32)]) as u8)
    }

    fn device(&mut self, ch: Channel) -> u8 {
        let w: [f64; 3] = match ch {
            Channel::PaidSocialMeta | Channel::OrganicSocial => [0.45, 0.5, 0.05],
            _ => [0.68, 0.28, 0.04],
        };
        self.rng.weighted(&w) as u8
    }

    fn country(&mut self, region: u8) -> u8 {
        let list = COUNTRIES[usize::from(region)];
        let w: Vec<f64> = list.iter().map(|(_, w)| *w).collect();
        self.rng.weighted(&w) as u8
    }

    /// Queues a visit on its day (today's list or the ring).
    fn schedule(&mut self, d: u32, today: &mut Vec<Draft>, draft: Draft) {
        let day = self.tl.day_of(draft.at);
        if day == i64::from(d) {
            today.push(draft);
        } else if day > i64::from(d) && day < i64::from(d + HORIZON) {
            self.pending[(day as u32 % HORIZON) as usize].push(draft);
        }
    }

    /// The visit times of a journey starting at `first` on day `d`: a first visit, then returns
    /// after days or weeks, within the horizon and the data.
    fn journey_times(&mut self, d: u32, first: i64, region: u8, n: u64, times: &mut Vec<i64>) {
        times.clear();
        times.push(first);
        let limit_day = i64::from(d) + i64::from(HORIZON) - 1;
        let mut prev = first;
        for _ in 1..n {
            let gap_days = self.rng.exp(5.0).floor() as i64;
            let at = if gap_days == 0 {
                prev + 1800 + self.rng.below(4 * 3600) as i64
            } else {
                let day = self.tl.day_of(prev) + gap_days;
                if day >= i64::from(self.tl.days) {
                    break;
                }
                self.tl.day_start(day as u32) + intraday(&mut self.rng, region)
            };
            if at <= prev + 1800 && gap_days > 0 {
                continue;
            }
            if self.tl.day_of(at) > limit_day || at >= self.end_secs {
                break;
            }
            times.push(at);
            prev = at;
        }
    }

    fn new_visitor(&mut self, d: u32, today: &mut Vec<Draft>) {
        let visitor = self.next_visitor;
        self.next_visitor += 1;
        let first_channel = self.first_channel(d);
        // Paid visitors come from a unit; the unit's targeting decides the region.
        let (unit, region) = if first_channel.is_paid() {
            match self.pick_unit(first_channel, None, true) {
                Some(u) => {
                    let mask = AD_UNITS[usize::from(u)].regions;
                    let w: Vec<f64> = (0..4)
                        .map(|r| if mask & (1 << r) != 0 { REGION_WEIGHTS[r] } else { 0.0 })
                        .collect();
                    (u, self.rng.weighted(&w) as u8)
                }
                None => (NO_UNIT, self.rng.weighted(&REGION_WEIGHTS) as u8),
            }
        } else {
            (NO_UNIT, self.rng.weighted(&REGION_WEIGHTS) as u8)
        };
        let partner = self.rng.below(PARTNERS.len() as u64) as u8;
        let country = self.country(region);
        let device = self.device(first_channel);
        let n = if self.rng.chance(0.55) { 1 } else { (2 + self.rng.geometric(0.42)).min(12) };
        let first = self.tl.day_start(d) + intraday(&mut self.rng, region);
        let mut times = Vec::with_capacity(n as usize);
        self.journey_times(d, first, region, n, &mut times);
        let n = times.len();

        const ENGAGEMENT: [f64; 6] = [0.6, 0.85, 1.05, 1.2, 1.35, 1.45];
        let p = (CONVERSION * first_channel.spec().visitor_conversion * ENGAGEMENT[(n - 1).min(5)])
            .min(0.9);
        let convert_at = if self.rng.chance(p) {
            Some(if n == 1 || self.rng.chance(0.3) {
                0
            } else {
                self.rng.int(1, n as i64 - 1) as usize
            })
        } else {
            None
        };
        let first_campaign = match first_channel {
            Channel::PaidSearch | Channel::PaidSocialLinkedIn | Channel::PaidSocialMeta
                if unit != NO_UNIT =>
            {
                CampaignRef::Unit(unit)
            }
            Channel::Email => self.mkt.latest_email().map_or(CampaignRef::None, CampaignRef::Email),
            Channel::Events => self.events_campaign(first),
            Channel::Partners => CampaignRef::Partner(partner),
            _ => CampaignRef::None,
        };
        for (i, at) in times.iter().enumerate() {
            let (channel, unit) = if i == 0 {
                (first_channel, unit)
            } else {
                let known = convert_at.is_some_and(|c| i > c);
                let mut ch = self.return_channel(known);
                let mut u = NO_UNIT;
                if ch.is_paid() {
                    match self.pick_unit(ch, Some(region), false) {
                        Some(x) => u = x,
                        None => ch = Channel::Direct,
                    }
                }
                (ch, u)
            };
            let draft = Draft {
                at: *at,
                visitor,
                known_contact: 0,
                seq: i as u16,
                channel,
                unit,
                partner,
                region,
                country,
                device,
                converts: convert_at == Some(i),
                last: i + 1 == n,
                first_channel,
                first_campaign,
            };
            self.schedule(d, today, draft);
        }
    }

    fn events_campaign(&mut self, at: i64) -> CampaignRef {
        if self.rng.chance(0.6) {
            let year = self
                .tl
                .date(self.tl.day_of(at).clamp(0, i64::from(self.tl.days) - 1) as u32)
                .year();
            CampaignRef::TradeShow(year)
        } else {
            CampaignRef::Webinar
        }
    }

    fn campaign_text(&self, c: CampaignRef) -> Option<String> {
        match c {
            CampaignRef::None => None,
            CampaignRef::Unit(u) => AD_UNITS.get(usize::from(u)).map(|u| u.campaign.to_owned()),
            CampaignRef::Email(i) => self.mkt.email_id(i).map(str::to_owned),
            CampaignRef::TradeShow(y) => Some(format!("b2b-marketing-expo-{y}")),
            CampaignRef::Webinar => Some("webinar-b2b-kpis-live".to_owned()),
            CampaignRef::Partner(p) => {
                PARTNERS.get(usize::from(p)).map(|(s, _)| format!("partner-program-{s}"))
            }
        }
    }

    fn event(
        &mut self,
        at: i64,
        ty: &str,
        who: Who,
        name: &str,
        value: Option<f64>,
    ) -> Result<(), GenerateError> {
        let Who { visitor, contact, session } = who;
        let id = self.next_event;
        self.next_event += 1;
        let at = at.min(self.end_secs - 1);
        self.out.events.write(&[
            Cell::Id("e", id),
            Cell::Ts(at),
            Cell::Str(ty),
            opt_id("v", visitor),
            opt_id("c", contact),
            opt_id("s", session),
            Cell::Str(name),
            value.map_or(Cell::Null, |v| Cell::Num(v, 2)),
        ])
    }

    fn session(&mut self, s: &Draft) -> Result<(), GenerateError> {
        let sid = self.next_session;
        self.next_session += 1;
        let mut contact = if s.known_contact != 0 {
            s.known_contact
        } else {
            self.known.get(&s.visitor).copied().unwrap_or(0)
        };
        let had_contact = contact != 0;
        let spec = s.channel.spec();
        let rng = &mut self.rng;
        let bounced = !s.converts && rng.chance(spec.bounce);
        let pageviews: i64 = if bounced {
            1
        } else {
            (2 + rng.geometric(0.35) as i64).min(30) + i64::from(s.converts)
        };
        let duration: i64 = if bounced {
            rng.int(0, 9)
        } else {
            (rng.lognormal(75.0 * (pageviews as f64).powf(0.8), 0.6) as i64).clamp(12, 3 * 3600)
        };

        // Where the visit came from, as the analytics tool saw it.
        let mut utm_source: Option<&str> = None;
        let mut utm_medium: Option<&str> = None;
        let mut utm_campaign: Option<String> = None;
        let mut utm_content: Option<&str> = None;
        let mut utm_term: Option<&str> = None;
        let mut referrer: Option<&str> = None;
        let mut click_id: Option<&str> = None;
        let landing: &str;
        let offer = if s.converts {
            let w = s.channel.spec().offers;
            let o = OFFERS[self.rng.weighted(&w)];
            Some(o)
        } else {
            None
        };
        let rng = &mut self.rng;
        match s.channel {
            Channel::OrganicSearch => {
                referrer = Some(pick_weighted(rng, SEARCH_REFERRERS));
                landing = if rng.chance(0.7) { rng.pick(BLOG_PAGES) } else { rng.pick(SITE_PAGES) };
            }
            Channel::PaidSearch | Channel::PaidSocialLinkedIn | Channel::PaidSocialMeta => {
                match AD_UNITS.get(usize::from(s.unit)) {
                    Some(u) => {
                        utm_source = Some(u.source);
                        utm_campaign = Some(u.campaign.to_owned());
                        utm_content = Some(u.ad_group);
                        click_id = Some(u.click_id);
                        landing = rng.pick(u.pages);
                        match u.kind {
                            AdKind::Search => {
                                utm_medium = Some("cpc");
                                utm_term = Some(rng.pick(u.keywords));
                                referrer = Some(if u.source == "bing" {
                                    "https://www.bing.com/"
                                } else {
                                    "https://www.google.com/"
                                });
                            }
                            AdKind::Social => {
                                utm_medium = Some("paid_social");
                                if u.source == "facebook" && rng.chance(0.25) {
                                    utm_source = Some("instagram");
                                    referrer = Some("https://l.instagram.com/");
                                } else if u.source == "facebook" {
                                    referrer = Some("https://l.facebook.com/");
                                } else {
                                    referrer = Some("https://www.linkedin.com/");
                                }
                            }
                        }
                    }
                    None => landing = "/",
                }
            }
            Channel::Email => {
                utm_source = Some(if rng.chance(0.7) { "newsletter" } else { "hubspot" });
                utm_medium = Some("email");
                utm_content = Some(rng.pick(&["cta-button", "header-link", "footer-link"]));
                landing = if rng.chance(0.5) {
                    rng.pick(BLOG_PAGES)
                } else if rng.chance(0.4) {
                    "/webinars/b2b-kpis-live"
                } else {
                    rng.pick(SITE_PAGES)
                };
                utm_campaign = Some(
                    self.mkt
                        .latest_email()
                        .and_then(|i| self.mkt.email_id(i))
                        .unwrap_or("newsletter")
                        .to_owned(),
                );
            }
            Channel::Referral => {
                referrer = Some(pick_weighted(rng, REFERRAL_SITES));
                landing = rng.pick(&["/", "/", "/pricing", "/integrations", "/customers"]);
            }
            Channel::Direct => {
                landing = rng.pick(&["/", "/", "/", "/pricing", "/product", "/login", "/demo"]);
            }
            Channel::OrganicSocial => {
                referrer = Some(pick_weighted(rng, SOCIAL_REFERRERS));
                landing = rng.pick(BLOG_PAGES);
            }
            Channel::Events => {
                utm_medium = Some("event");
                let c = self.events_campaign(s.at);
                if c == CampaignRef::Webinar {
                    utm_source = Some("webinar");
                    landing = "/webinars/b2b-kpis-live";
                } else {
                    utm_source = Some("b2b-marketing-expo");
                    landing = "/events/b2b-marketing-expo";
                }
                utm_campaign = self.campaign_text(c);
            }
            Channel::Partners => {
                let (slug, site) = PARTNERS[usize::from(s.partner) % PARTNERS.len()];
                utm_source = Some(slug);
                utm_medium = Some(if rng.chance(0.7) { "affiliate" } else { "partner" });
                utm_campaign = Some(format!("partner-program-{slug}"));
                referrer = Some(site);
                landing = "/lp/partner-offer";
            }
            Channel::Outbound => landing = "/",
        }
        let landing = match offer {
            Some(o) if self.rng.chance(0.5) => o.spec().page,
            _ => landing,
        };

        // The visit creates the contact: the form is submitted during the visit.
        let conv_at = s.at + (duration as f64 * self.rng.range(0.3, 0.9)) as i64;
        if let Some(o) = offer {
            let campaign = s.first_campaign;
            contact = self.create_contact(NewContact {
                created: conv_at.min(self.end_secs - 1),
                channel: s.first_channel,
                offer: o,
                campaign,
                region: Some(s.region),
            })?;
            if !s.last {
                self.known.insert(s.visitor, contact);
            }
        }
        if s.last && s.known_contact == 0 {
            self.known.remove(&s.visitor);
        }

        let (country, _) = COUNTRIES[usize::from(s.region)][usize::from(s.country)];
        self.out.sessions.write(&[
            Cell::Id("s", sid),
            Cell::Ts(s.at),
            Cell::Id("v", s.visitor),
            opt_id("c", contact),
            opt_str(utm_source),
            opt_str(utm_medium),
            opt_str(utm_campaign.as_deref()),
            opt_str(utm_content),
            opt_str(utm_term),
            opt_str(referrer),
            opt_str(click_id),
            Cell::Str(landing),
            Cell::Int(pageviews),
            Cell::Num(duration as f64, 0),
            Cell::Bool(bounced),
            Cell::Str(["desktop", "mobile", "tablet"][usize::from(s.device) % 3]),
            Cell::Str(country),
            Cell::Str(REGIONS[usize::from(s.region)]),
        ])?;

        if s.unit != NO_UNIT
            && let Some(c) = self.ad_counts.get_mut(usize::from(s.unit))
        {
            let c = &mut c[usize::from(s.region) % 4];
            c.sessions += 1;
            c.conversions += u64::from(s.converts);
        }

        // On-site actions.
        let before = if had_contact { contact } else { 0 };
        // Actions before the form carry the contact only if it was already known.
        let anon = Who { visitor: s.visitor, contact: before, session: sid };
        let who = Who { visitor: s.visitor, contact, session: sid };
        let views = if bounced { u64::from(self.rng.chance(0.25)) } else { self.rng.poisson(0.8) };
        for _ in 0..views {
            let t = s.at + (duration as f64 * self.rng.f64()) as i64;
            let cta = self.rng.pick(CTAS);
            self.event(t, "cta_view", anon, cta, None)?;
            if self.rng.chance(0.09) {
                let dt = self.rng.int(2, 30);
                self.event(t + dt, "cta_click", anon, cta, None)?;
            }
        }
        if !bounced && self.rng.chance(0.05) {
            let t = s.at + (duration as f64 * self.rng.f64()) as i64;
            let v = self.rng.pick(VIDEOS);
            self.event(t, "video_view", anon, v, None)?;
        }
        if let Some(o) = offer {
            let spec = o.spec();
            self.event(conv_at, "form_submit", who, spec.form, Some(spec.value))?;
            if let Some((ty, name)) = spec.event {
                let dt = self.rng.int(1, 5);
                self.event(conv_at + dt, ty, who, name, None)?;
            }
        }
        if had_contact && !bounced {
            let t = s.at + (duration as f64 * self.rng.f64()) as i64;
            if self.rng.chance(0.08) {
                let a = self.rng.pick(ASSETS);
                self.event(t, "download", who, a, None)?;
            } else if self.rng.chance(0.03) {
                self.event(t, "webinar_registration", who, "webinar-b2b-kpis-live", None)?;
            } else if self.rng.chance(0.012) {
                self.event(t, "demo_request", who, "book-a-demo", None)?;
            }
        }
        Ok(())
    }

    // ---------------------------------------------------------------------------------------
    // Contacts, funnel, deals

    /// A new or existing (recent) account for a contact: about one contact in six joins a
    /// colleague's account, more often a bigger company's.
    fn account(&mut self, region: Option<u8>, channel: Channel) -> Account {
        let rng = &mut self.rng_people;
        if !self.accounts.is_empty() && rng.chance(0.22) {
            for _ in 0..4 {
                let a = self.accounts[rng.below(self.accounts.len() as u64) as usize];
                if region.is_none_or(|r| r == a.region)
                    && rng.chance([0.35, 0.7, 1.0][usize::from(a.segment) % 3])
                {
                    return a;
                }
            }
        }
        let region = region.unwrap_or_else(|| rng.weighted(&REGION_WEIGHTS) as u8);
        let seg_w = match channel {
            Channel::Outbound | Channel::Events => [0.35, 0.38, 0.27],
            Channel::PaidSocialLinkedIn => [0.45, 0.33, 0.22],
            _ => SEGMENT_WEIGHTS,
        };
        let segment = rng.weighted(&seg_w) as u8;
        let iw: Vec<f64> = INDUSTRIES.iter().map(|(_, w)| *w).collect();
        let industry = rng.weighted(&iw) as u8;
        let bu = u8::from(rng.chance(0.25));
        let a = Account { id: self.next_account, region, segment, industry, bu };
        self.next_account += 1;
        if self.accounts.len() < ACCOUNT_POOL {
            self.accounts.push(a);
        } else {
            self.accounts[self.account_pos] = a;
            self.account_pos = (self.account_pos + 1) % ACCOUNT_POOL;
        }
        a
    }

    fn days(&mut self, median: f64, sigma: f64) -> i64 {
        (self.rng_people.lognormal(median, sigma) * SECS_PER_DAY as f64).max(60.0) as i64
    }

    /// Creates a contact and writes its row, its lifecycle stages and, if it reaches the
    /// opportunity stage, its deal with the deal's stages. Returns the contact id.
    fn create_contact(&mut self, nc: NewContact) -> Result<u64, GenerateError> {
        let cid = self.next_contact;
        self.next_contact += 1;
        self.contacts_today += 1;
        let created = nc.created;
        let acc = self.account(nc.region, nc.channel);
        let seg = usize::from(acc.segment) % 3;
        let region = usize::from(acc.region) % 4;
        let q = nc.channel.spec().funnel;
        let o = nc.offer.spec();

        // The lifecycle, decided now: times of lead, mql, sql, opportunity, customer.
        let mut t: [Option<i64>; 5] = [Some(created), None, None, None, None];
        let mut skipped = [false; 5];
        let mut won = false;
        let mut close: Option<i64> = None;
        if self.rng_people.chance((MQL_RATE * o.p_mql * q[0] * SEGMENT_MQL[seg]).min(0.97)) {
            let mql = created + self.days(o.mql_days, 0.9);
            t[1] = Some(mql);
            let skip_mql = self.rng_people.chance(o.skip_mql);
            if self.rng_people.chance((SQL_RATE * q[1]).min(0.95)) {
                let sql = mql + self.days(3.0, 0.8);
                t[2] = Some(sql);
                skipped[1] = skip_mql;
                if self.rng_people.chance((OPPORTUNITY_RATE * q[2]).min(0.95)) {
                    let opp = sql + self.days(5.0, 0.7);
                    t[3] = Some(opp);
                    skipped[2] = self.rng_people.chance(0.04);
                    let cycle = self.days(SEGMENT_CYCLE_DAYS[seg] * nc.channel.spec().cycle, 0.55);
                    won = self.rng_people.chance((WIN_RATE * q[3] * SEGMENT_WIN[seg]).min(0.9));
                    let cycle_secs = if won {
                        cycle
                    } else {
                        (cycle as f64 * self.rng_people.range(0.4, 1.1)) as i64
                    };
                    let c = opp + cycle_secs.max(3600);
                    close = Some(c);
                    if won {
                        t[4] = Some(c);
                    }
                }
            }
        }
        let end = self.end_secs;
        let present: Vec<(usize, i64)> = (0..5)
            .filter_map(|i| t[i].filter(|x| *x < end && !skipped[i]).map(|x| (i, x)))
            .collect();
        for (k, (i, at)) in present.iter().enumerate() {
            let exited = present.get(k + 1).map(|(_, x)| *x);
            self.out.stage_changes.write(&[
                Cell::Str("contact"),
                Cell::Id("c", cid),
                Cell::Str(LIFECYCLE[*i]),
                Cell::Ts(*at),
                exited.map_or(Cell::Null, Cell::Ts),
            ])?;
        }

        let owner = self.rng_people.pick(OWNERS[region]);
        let bu = BUSINESS_UNITS[usize::from(acc.bu) % 2];
        if let (Some(opp), Some(close)) = (t[3], close)
            && opp < end
        {
            let (median, sigma) = SEGMENT_AMOUNT[seg];
            let amount = (self.rng_people.lognormal(median * self.cf, sigma) / 10.0).round() * 10.0;
            let pipeline =
                if self.subs.contains_key(&acc.id) { "expansion" } else { "new_business" };
            let product = self.rng_people.pick(SEGMENT_PRODUCTS[seg]);
            self.deal(&NewDeal {
                contact: cid,
                account: acc.id,
                region: acc.region,
                segment: acc.segment,
                bu: acc.bu,
                created: opp,
                close,
                won,
                amount,
                owner,
                product,
                pipeline,
            })?;
        }

        // Lead score: the CRM's model sees what makes a lead progress.
        let reached = t.iter().skip(1).filter(|x| x.is_some()).count() as f64;
        let offer_bonus = match nc.offer {
            Offer::Demo => 10.0,
            Offer::Trial => 6.0,
            Offer::Contact => 8.0,
            Offer::Webinar => 2.0,
            Offer::Ebook => 0.0,
            Offer::Newsletter => -5.0,
            Offer::Offline => 3.0,
        };
        let score = (18.0
            + 14.0 * reached
            + offer_bonus
            + 4.0 * seg as f64
            + 9.0 * self.rng_people.normal())
        .clamp(1.0, 100.0);

        // "How did you hear about us?": asked on most forms, answered by ~60 %.
        let rng = &mut self.rng_people;
        let self_reported: Option<&str> = if rng.chance(0.6) {
            if rng.chance(0.68) {
                Some(rng.pick(nc.channel.spec().self_reported))
            } else {
                Some(pick_weighted(rng, DARK_SOCIAL))
            }
        } else {
            None
        };

        // Speed to lead: minutes, log-normal, some within five minutes; slower for offline
        // imports and at weekends.
        let no_response = if nc.offer == Offer::Newsletter { 0.5 } else { 0.07 };
        let first_response = if rng.chance(no_response) {
            None
        } else {
            let mut minutes = if nc.offer != Offer::Offline && rng.chance(0.12) {
                rng.range(0.5, 5.0)
            } else if nc.offer == Offer::Offline {
                rng.lognormal(600.0, 0.9)
            } else {
                rng.lognormal(40.0, 1.3)
            };
            let weekday = chrono::DateTime::from_timestamp(created, 0).map(|d| d.weekday());
            if matches!(weekday, Some(Weekday::Sat | Weekday::Sun)) && minutes > 5.0 {
                minutes *= 3.0;
            }
            let at = created + (minutes * 60.0) as i64;
            (at < end).then_some(at)
        };

        let campaign = self.campaign_text(nc.campaign);
        let (industry, _) = INDUSTRIES[usize::from(acc.industry) % INDUSTRIES.len()];
        self.out.contacts.write(&[
            Cell::Id("c", cid),
            Cell::Ts(created),
            Cell::Id("a", acc.id),
            // Contacts entered in the CRM (badge scans, referrals, prospecting) are OFFLINE.
            Cell::Str(if nc.offer == Offer::Offline {
                "OFFLINE"
            } else {
                nc.channel.spec().original_source
            }),
            opt_str(campaign.as_deref()),
            opt_str(self_reported),
            Cell::Str(REGIONS[region]),
            Cell::Str(SEGMENTS[seg]),
            Cell::Str(industry),
            Cell::Str(bu),
            Cell::Str(owner),
            first_response.map_or(Cell::Null, Cell::Ts),
            Cell::Num(score, 0),
        ])?;
        Ok(cid)
    }

    /// Writes a deal, its stage history, and queues its win.
    fn deal(&mut self, nd: &NewDeal) -> Result<(), GenerateError> {
        let id = self.next_deal;
        self.next_deal += 1;
        let seg = usize::from(nd.segment) % 3;
        let end = self.end_secs;
        let (opp, close, won) = (nd.created, nd.close, nd.won);
        let rng = &mut self.rng_people;

        // Deal stages: discovery → proposal → negotiation → closed; lost deals stop early.
        let span = (close - opp).max(3600);
        let f1 = rng.range(0.15, 0.35);
        let f2 = rng.range(0.5, 0.8);
        let reached = if won {
            3
        } else {
            let x = rng.f64();
            if x < 0.4 {
                1
            } else if x < 0.75 {
                2
            } else {
                3
            }
        };
        let mut stages: Vec<(&str, i64)> = vec![("discovery", opp)];
        if reached >= 2 {
            stages.push(("proposal", opp + (span as f64 * f1) as i64));
        }
        if reached >= 3 {
            stages.push(("negotiation", opp + (span as f64 * f2) as i64));
        }
        stages.push((if won { "closed_won" } else { "closed_lost" }, close));
        stages.retain(|(_, at)| *at < end);
        for (k, (stage, at)) in stages.iter().enumerate() {
            let exited = stages.get(k + 1).map(|(_, x)| *x);
            self.out.stage_changes.write(&[
                Cell::Str("deal"),
                Cell::Id("d", id),
                Cell::Str(stage),
                Cell::Ts(*at),
                exited.map_or(Cell::Null, Cell::Ts),
            ])?;
        }
        let current = stages.last().map_or("discovery", |(s, _)| *s);
        let closed = close < end;
        let status = if !closed {
            "open"
        } else if won {
            "won"
        } else {
            "lost"
        };
        let lost_reason =
            (closed && !won).then(|| pick_weighted(&mut self.rng_people, LOST_REASONS));
        self.out.deals.write(&[
            Cell::Id("d", id),
            Cell::Ts(opp),
            Cell::Id("c", nd.contact),
            Cell::Id("a", nd.account),
            Cell::Str(nd.pipeline),
            Cell::Str(current),
            Cell::Str(status),
            Cell::Num(nd.amount, 2),
            Cell::Str(&self.currency),
            if closed { Cell::Ts(close) } else { Cell::Null },
            opt_str(lost_reason),
            Cell::Str(nd.owner),
            Cell::Str(nd.product),
            Cell::Str(REGIONS[usize::from(nd.region) % 4]),
            Cell::Str(SEGMENTS[seg]),
            Cell::Str(BUSINESS_UNITS[usize::from(nd.bu) % 2]),
        ])?;
        if won && closed {
            self.wins.entry(close).or_default().push(Win {
                at: close,
                account: nd.account,
                contact: nd.contact,
                mrr: nd.amount / 12.0,
                acv: nd.amount,
                segment: nd.segment,
                region: nd.region,
                bu: nd.bu,
            });
        }
        Ok(())
    }

    /// Contacts with no session: trade-show badge scans, field events, partner referrals and
    /// outbound prospecting. Some visit the site later (as known contacts).
    fn offline_contacts_day(&mut self, d: u32) -> Result<(), GenerateError> {
        let show = self.tl.is_trade_show(d);
        let mut lambda =
            self.scale * OFFLINE_CONTACTS * offline_weight(&self.tl, d) / self.offline_norm;
        if show {
            lambda += self.scale * TRADE_SHOW_CONTACTS_PER_DAY;
        }
        let n = self.rng_people.poisson(lambda);
        let date = self.tl.date(d);
        for _ in 0..n {
            let rng = &mut self.rng_people;
            let w = if show { [0.92, 0.04, 0.04] } else { [0.28, 0.30, 0.42] };
            let channel = [Channel::Events, Channel::Partners, Channel::Outbound][rng.weighted(&w)];
            let region = rng.weighted(&REGION_WEIGHTS) as u8;
            let created = self.tl.day_start(d) + intraday(rng, region);
            let campaign = match channel {
                Channel::Events if show => CampaignRef::TradeShow(date.year()),
                Channel::Events => CampaignRef::Webinar,
                Channel::Partners => CampaignRef::Partner(rng.below(PARTNERS.len() as u64) as u8),
                _ => CampaignRef::None,
            };
            let cid = self.create_contact(NewContact {
                created,
                channel,
                offer: Offer::Offline,
                campaign,
                region: Some(region),
            })?;
            if self.rng.chance(0.35) {
                self.known_visits(d, cid, region, created);
            }
        }
        Ok(())
    }

    /// Later visits of an offline contact (from tomorrow on), carrying the contact id.
    fn known_visits(&mut self, d: u32, contact: u64, region: u8, created: i64) {
        let visitor = self.next_visitor;
        self.next_visitor += 1;
        let n = (1 + self.rng.geometric(0.5)).min(4);
        let country = self.country(region);
        let mut at = created + ((1.0 + self.rng.exp(6.0)) * SECS_PER_DAY as f64) as i64;
        let mut drafts = Vec::new();
        for i in 0..n {
            let day = self.tl.day_of(at);
            if at >= self.end_secs || day >= i64::from(d + HORIZON) {
                break;
            }
            let mut channel = self.return_channel(true);
            let mut unit = NO_UNIT;
            if channel.is_paid() {
                match self.pick_unit(channel, Some(region), false) {
                    Some(u) => unit = u,
                    None => channel = Channel::Direct,
                }
            }
            let device = self.device(channel);
            drafts.push(Draft {
                at,
                visitor,
                known_contact: contact,
                seq: i as u16,
                channel,
                unit,
                partner: 0,
                region,
                country,
                device,
                converts: false,
                last: false,
                first_channel: channel,
                first_campaign: CampaignRef::None,
            });
            at += ((0.2 + self.rng.exp(8.0)) * SECS_PER_DAY as f64) as i64;
        }
        if let Some(l) = drafts.last_mut() {
            l.last = true;
        }
        let mut none = Vec::new();
        for dr in drafts {
            self.schedule(d, &mut none, dr);
        }
    }

    // ---------------------------------------------------------------------------------------
    // Revenue

    /// The customers the company already has when the data starts (no contact in the data).
    fn initial_customers(&mut self) {
        let n = self.rng_people.poisson(self.scale * INITIAL_CUSTOMERS);
        let since = self.tl.day_start(0) - 1;
        for _ in 0..n {
            let rng = &mut self.rng_people;
            let region = rng.weighted(&REGION_WEIGHTS) as u8;
            let segment = rng.weighted(&SEGMENT_WEIGHTS) as u8;
            let bu = u8::from(rng.chance(0.25));
            let (median, sigma) = SEGMENT_AMOUNT[usize::from(segment)];
            let mrr = rng.lognormal(median * self.cf, sigma) / 12.0 * rng.range(0.8, 1.4);
            let months = 3 + rng.below(30) as u32;
            let id = self.next_account;
            self.next_account += 1;
            self.subs.insert(id, Sub { mrr, contact: 0, since, months, segment, region, bu });
        }
    }

    /// At a month's end, a few customers open an upsell deal (won more often than not).
    fn upsells(&mut self, d: u32) -> Result<(), GenerateError> {
        let mut picked: Vec<(u64, Sub)> = Vec::new();
        for (acc, sub) in &self.subs {
            if sub.contact != 0 && sub.months >= 4 && self.rng_people.chance(UPSELL_RATE) {
                picked.push((*acc, *sub));
            }
        }
        for (account, sub) in picked {
            let seg = usize::from(sub.segment) % 3;
            let created = self.tl.day_start(d) + intraday(&mut self.rng_people, sub.region);
            let cycle = self.days(20.0 * [1.0, 1.3, 1.8][seg], 0.5);
            let rng = &mut self.rng_people;
            let won = rng.chance(0.6);
            let span = if won { cycle } else { (cycle as f64 * rng.range(0.5, 1.0)) as i64 };
            let amount = (sub.mrr * 12.0 * rng.range(0.15, 0.5) / 10.0).round() * 10.0;
            let owner = rng.pick(OWNERS[usize::from(sub.region) % 4]);
            let product = rng.pick(UPSELL_PRODUCTS);
            self.deal(&NewDeal {
                contact: sub.contact,
                account,
                region: sub.region,
                segment: sub.segment,
                bu: sub.bu,
                created,
                close: created + span.max(3600),
                won,
                amount,
                owner,
                product,
                pipeline: "expansion",
            })?;
        }
        Ok(())
    }

    /// Deals won today start (or grow) their account's subscription.
    fn wins_day(&mut self, d: u32) {
        let day_end = self.tl.day_start(d) + SECS_PER_DAY;
        while let Some(entry) = self.wins.first_entry() {
            if *entry.key() >= day_end {
                break;
            }
            for w in entry.remove() {
                self.month_won_acv += w.acv;
                let sub = self.subs.entry(w.account).or_insert(Sub {
                    mrr: 0.0,
                    contact: w.contact,
                    since: w.at,
                    months: 0,
                    segment: w.segment,
                    region: w.region,
                    bu: w.bu,
                });
                sub.mrr += w.mrr;
            }
        }
    }

    /// Customers log in to the product.
    fn logins_day(&mut self, d: u32) -> Result<(), GenerateError> {
        let weekend = matches!(self.tl.date(d).weekday(), Weekday::Sat | Weekday::Sun);
        let start = self.tl.day_start(d);
        let mut logins: Vec<(i64, u64)> = Vec::new();
        for sub in self.subs.values().filter(|s| s.contact != 0) {
            let seats = [1.0, 1.5, 3.0][usize::from(sub.segment) % 3];
            let lambda = if weekend { 0.03 } else { 0.15 } * seats;
            let k = self.rng.poisson(lambda);
            for _ in 0..k {
                let at = start + intraday(&mut self.rng, sub.region);
                if at > sub.since {
                    logins.push((at, sub.contact));
                }
            }
        }
        logins.sort_unstable();
        for (at, contact) in logins {
            self.event(at, "login", Who { visitor: 0, contact, session: 0 }, "app", None)?;
        }
        Ok(())
    }

    /// One `revenue` row per paying account for month `m`, then next month's churn, expansion
    /// and contraction.
    fn revenue_month(&mut self, m: u32) -> Result<(), GenerateError> {
        let month = days_since_epoch(self.tl.month_start(m));
        for (acc, sub) in &self.subs {
            self.out.revenue.write(&[
                Cell::Id("a", *acc),
                Cell::Month(month),
                Cell::Num(sub.mrr, 2),
                Cell::Str(&self.currency),
            ])?;
        }
        let rng = &mut self.rng;
        self.subs.retain(|_, s| {
            s.months += 1;
            if s.months >= 3 && rng.chance(SEGMENT_CHURN[usize::from(s.segment) % 3]) {
                return false;
            }
            if rng.chance(0.025) {
                s.mrr *= rng.range(1.1, 1.5);
            } else if rng.chance(0.012) {
                s.mrr *= rng.range(0.65, 0.9);
            }
            true
        });
        Ok(())
    }

    // ---------------------------------------------------------------------------------------
    // Ad spend

    /// One row per ad unit and targeted region: clicks from the day's paid sessions (sessions are
    /// 85–95 % of clicks), impressions from the click-through rate, cost from the CPC.
    fn ad_spend_day(&mut self, d: u32) -> Result<(), GenerateError> {
        let date = self.tl.epoch_day(d);
        let fx = self.mkt.fx_today();
        let second = self.mkt.second_currency();
        for (u, unit) in AD_UNITS.iter().enumerate() {
            for (r, region) in REGIONS.iter().enumerate() {
                if unit.regions & (1 << r) == 0 {
                    continue;
                }
                let c = std::mem::take(&mut self.ad_counts[u][r]);
                let rng = &mut self.rng_ads;
                // Some clicks never become a session (the page did not load, consent refused).
                let lost = 1.0 / rng.range(0.85, 0.95) - 1.0;
                let clicks = c.sessions + rng.poisson((c.sessions as f64 + 0.1) * lost);
                let ctr = unit.ctr * rng.lognormal(1.0, 0.15);
                let impressions = (((clicks as f64 + 0.4) / ctr).round() as u64).max(clicks).max(1);
                let billed = clicks as f64 + if unit.kind == AdKind::Social { 0.2 } else { 0.0 };
                let cost_rep = billed * unit.cpc * self.cf * rng.lognormal(1.0, 0.2);
                let extra = rng.binomial(clicks.saturating_sub(c.conversions), 0.015);
                let conversions = (c.conversions + extra).min(clicks);
                let eligible = match unit.kind {
                    AdKind::Search => {
                        let share = (unit.impression_share * rng.range(0.92, 1.05)).min(1.0);
                        Cell::Int(
                            ((impressions as f64 / share).round() as u64).max(impressions) as i64
                        )
                    }
                    AdKind::Social => Cell::Null,
                };
                let (cost, currency) = if unit.platform == "meta_ads" {
                    (cost_rep / fx, second)
                } else {
                    (cost_rep, self.currency.as_str())
                };
                if unit.kind == AdKind::Search {
                    self.month_search_spend += cost_rep;
                }
                self.out.ad_spend.write(&[
                    Cell::Date(date),
                    Cell::Str(unit.platform),
                    Cell::Str(unit.campaign),
                    Cell::Str(unit.ad_group),
                    Cell::Null,
                    Cell::Null,
                    Cell::Null,
                    Cell::Str(region),
                    Cell::Str(unit.business_unit),
                    Cell::Int(impressions as i64),
                    Cell::Int(clicks as i64),
                    Cell::Num(cost, 2),
                    Cell::Str(currency),
                    Cell::Num(conversions as f64, 0),
                    eligible,
                ])?;
            }
        }
        Ok(())
    }
}
