//! The tables around the funnel: exchange rates, email campaigns, social posts, SEO rankings,
//! backlinks and non-media costs. Each has its own random stream, so they do not shift when the
//! traffic simulation changes.
//!
//! These grow more slowly than traffic with the scale: a company ten times bigger does not post
//! ten times more or track ten times more keywords, but its audiences and budgets are bigger.

use chrono::{Datelike, Weekday};
use kpiflow_model::parse::days_since_epoch;

use crate::GenerateError;
use crate::calendar::{HOUR_WEIGHTS, SECS_PER_DAY, Timeline};
use crate::rng::Rng;
use crate::world::{SEO_HEADS, SEO_MODIFIERS, domain_name, units_per_usd};
use crate::writer::{Cell, TableWriter};

/// Days of `fx_rates` before the first day of the data.
pub const FX_DAYS_BEFORE: i32 = 7;

#[derive(Debug)]
struct Keyword {
    text: String,
    url: &'static str,
    position: f64,
    volume: f64,
    cpc: f64,
}

#[derive(Debug)]
struct Domain {
    name: String,
    links: u64,
}

#[derive(Debug)]
struct Network {
    name: &'static str,
    id_prefix: &'static str,
    posts_per_day: f64,
    followers: f64,
    /// Impressions of a post per follower (median).
    reach: f64,
    like_rate: f64,
    click_rate: f64,
    next_id: u64,
}

/// The kinds of email sends and their recipient segments.
#[derive(Debug, Clone, Copy)]
enum EmailKind {
    Newsletter,
    Nurture,
    ProductUpdate,
    WebinarInvite,
}

#[derive(Debug)]
pub struct Marketing {
    scale: f64,
    cf: f64,
    currency: String,
    second: &'static str,
    rng_fx: Rng,
    rng_email: Rng,
    rng_social: Rng,
    rng_seo: Rng,
    rng_links: Rng,
    rng_costs: Rng,
    fx_base: f64,
    fx_log: f64,
    fx_today: f64,
    /// Every email campaign id sent so far (a few hundred at most, whatever the scale).
    email_ids: Vec<String>,
    subscribers: f64,
    recent_contacts: f64,
    total_contacts: f64,
    networks: Vec<Network>,
    keywords: Vec<Keyword>,
    domains: Vec<Domain>,
    next_domain: u32,
}

fn business_time(rng: &mut Rng, utc_offset: i64) -> i64 {
    let local = rng.weighted(&HOUR_WEIGHTS[7..19]) as i64 + 7;
    (local - utc_offset).rem_euclid(24) * 3600 + rng.below(3600) as i64
}

impl Marketing {
    pub fn new(
        master: &mut Rng,
        scale: f64,
        cf: f64,
        currency: &str,
        second: &'static str,
    ) -> Marketing {
        let mut rng_seo = master.fork("seo");
        let mut rng_links = master.fork("backlinks");
        let fx_base = (cf / units_per_usd(second)).ln();

        // Tracked keywords: about 50 at scale 1, more for a bigger company.
        let max_kw = SEO_HEADS.len() * SEO_MODIFIERS.len();
        let n_kw = ((50.0 * scale.powf(0.3)).round() as usize).clamp(10, max_kw);
        let keywords = (0..n_kw)
            .map(|i| {
                let (head, url) = SEO_HEADS[i % SEO_HEADS.len()];
                let modifier = SEO_MODIFIERS[i / SEO_HEADS.len()];
                let text = if modifier.is_empty() {
                    head.to_owned()
                } else {
                    format!("{head} {modifier}")
                };
                let brandish = i / SEO_HEADS.len() == 0;
                Keyword {
                    text,
                    url,
                    position: rng_seo
                        .lognormal(if brandish { 9.0 } else { 18.0 }, 0.7)
                        .clamp(1.0, 100.0),
                    volume: (rng_seo.lognormal(700.0, 1.0) * scale.powf(0.7)).max(10.0),
                    cpc: rng_seo.lognormal(5.5, 0.5) * cf,
                }
            })
            .collect();

        let n_domains = ((140.0 * scale.sqrt()).round() as u32).max(12);
        let domains = (0..n_domains)
            .map(|i| Domain { name: domain_name(i), links: 1 + rng_links.geometric(0.35) })
            .collect();

        let social_scale = scale.powf(0.8);
        let post_scale = scale.powf(0.2).clamp(0.5, 3.0);
        let networks = vec![
            Network {
                name: "linkedin",
                id_prefix: "li-",
                posts_per_day: 0.75 * post_scale,
                followers: 4000.0 * social_scale,
                reach: 0.6,
                like_rate: 0.02,
                click_rate: 0.008,
                next_id: 1,
            },
            Network {
                name: "x",
                id_prefix: "x-",
                posts_per_day: 0.6 * post_scale,
                followers: 2500.0 * social_scale,
                reach: 0.35,
                like_rate: 0.012,
                click_rate: 0.006,
                next_id: 1,
            },
            Network {
                name: "instagram",
                id_prefix: "ig-",
                posts_per_day: 0.3 * post_scale,
                followers: 1200.0 * social_scale,
                reach: 0.4,
                like_rate: 0.04,
                click_rate: 0.002,
                next_id: 1,
            },
            Network {
                name: "youtube",
                id_prefix: "yt-",
                posts_per_day: 0.07 * post_scale,
                followers: 600.0 * social_scale,
                reach: 2.5,
                like_rate: 0.03,
                click_rate: 0.01,
                next_id: 1,
            },
        ];
        Marketing {
            scale,
            cf,
            currency: currency.to_owned(),
            second,
            rng_fx: master.fork("fx"),
            rng_email: master.fork("email"),
            rng_social: master.fork("social"),
            rng_seo,
            rng_links,
            rng_costs: master.fork("costs"),
            fx_base,
            fx_log: fx_base,
            fx_today: fx_base.exp(),
            email_ids: Vec::new(),
            subscribers: 1500.0 * scale,
            recent_contacts: 0.0,
            total_contacts: 0.0,
            networks,
            keywords,
            domains,
            next_domain: n_domains,
        }
    }

    // -----------------------------------------------------------------------------------------
    // Exchange rates

    pub fn second_currency(&self) -> &'static str {
        self.second
    }

    /// Today's rate: reporting-currency units per unit of the second currency.
    pub fn fx_today(&self) -> f64 {
        self.fx_today
    }

    fn fx_step(&mut self, epoch_day: i32, w: &mut TableWriter) -> Result<(), GenerateError> {
        // A mean-reverting random walk of the log rate: ±0.35 % a day.
        self.fx_log += 0.0035 * self.rng_fx.normal() - 0.01 * (self.fx_log - self.fx_base);
        self.fx_today = crate::writer::round_to(self.fx_log.exp(), 6).max(1e-6);
        w.write(&[Cell::Date(epoch_day), Cell::Str(self.second), Cell::Num(self.fx_today, 6)])
    }

    /// The rates of the days before the data starts.
    pub fn fx_before_start(
        &mut self,
        tl: &Timeline,
        w: &mut TableWriter,
    ) -> Result<(), GenerateError> {
        for k in (1..=FX_DAYS_BEFORE).rev() {
            self.fx_step(tl.start_epoch_day - k, w)?;
        }
        Ok(())
    }

    pub fn fx_day(&mut self, epoch_day: i32, w: &mut TableWriter) -> Result<(), GenerateError> {
        self.fx_step(epoch_day, w)
    }

    // -----------------------------------------------------------------------------------------
    // Email

    /// Counts today's new contacts (the lists grow with them).
    pub fn contacts_created(&mut self, n: u64) {
        self.recent_contacts = self.recent_contacts * (1.0 - 1.0 / 90.0) + n as f64;
        self.total_contacts += n as f64;
        self.subscribers += 0.45 * n as f64;
    }

    /// The index of the latest email campaign, if any.
    pub fn latest_email(&self) -> Option<u32> {
        self.email_ids.len().checked_sub(1).map(|i| i as u32)
    }

    pub fn email_id(&self, i: u32) -> Option<&str> {
        self.email_ids.get(i as usize).map(String::as_str)
    }

    /// Today's sends: the weekly newsletter (Tuesday), lead nurture (Wednesday), the monthly
    /// product update (first Thursday) and webinar invitations (every three weeks).
    pub fn email_day(
        &mut self,
        tl: &Timeline,
        d: u32,
        paying_accounts: usize,
        w: &mut TableWriter,
    ) -> Result<(), GenerateError> {
        let date = tl.date(d);
        let mut kinds: Vec<EmailKind> = Vec::new();
        match date.weekday() {
            Weekday::Tue => kinds.push(EmailKind::Newsletter),
            Weekday::Wed => kinds.push(EmailKind::Nurture),
            Weekday::Thu if date.day() <= 7 => kinds.push(EmailKind::ProductUpdate),
            _ => {}
        }
        if d % 21 == 9 {
            kinds.push(EmailKind::WebinarInvite);
        }
        let customers = 40.0 * self.scale + 2.5 * paying_accounts as f64;
        let prospects = (self.subscribers - customers).max(20.0 * self.scale);
        for kind in kinds {
            let (slug, name, segments): (&str, String, Vec<(&str, f64)>) = match kind {
                EmailKind::Newsletter => (
                    "newsletter",
                    format!("Weekly newsletter {date}"),
                    vec![("prospects", prospects), ("customers", customers)],
                ),
                EmailKind::Nurture => (
                    "nurture",
                    format!("Lead nurture week {} {}", date.iso_week().week(), date.year()),
                    vec![
                        ("leads", 0.55 * self.recent_contacts),
                        ("mqls", 0.2 * self.recent_contacts),
                    ],
                ),
                EmailKind::ProductUpdate => (
                    "product-update",
                    format!("Product update {}", date.format("%B %Y")),
                    vec![("customers", customers), ("trial_users", 0.1 * self.recent_contacts)],
                ),
                EmailKind::WebinarInvite => (
                    "webinar-invite",
                    format!("Webinar invite: B2B KPIs live {date}"),
                    vec![("prospects", prospects), ("customers", customers)],
                ),
            };
            let (open, ctor) = match kind {
                EmailKind::Newsletter => (0.27, 0.12),
                EmailKind::Nurture => (0.34, 0.15),
                EmailKind::ProductUpdate => (0.45, 0.2),
                EmailKind::WebinarInvite => (0.25, 0.18),
            };
            let id = format!("em-{}-{slug}", date.format("%Y%m%d"));
            let rng = &mut self.rng_email;
            let at = tl.day_start(d) + business_time(rng, 0).min(SECS_PER_DAY - 1);
            for (segment, size) in segments {
                let sent = (size * rng.range(0.95, 1.0)).round().max(0.0) as u64;
                if sent == 0 {
                    continue;
                }
                let bounce_rate = rng.range(0.004, 0.02);
                let bounced = rng.binomial(sent, bounce_rate);
                let delivered = sent - bounced;
                let open_rate = open * rng.lognormal(1.0, 0.12);
                let opened = rng.binomial(delivered, open_rate);
                let click_rate = ctor * rng.lognormal(1.0, 0.15);
                let clicked = rng.binomial(opened, click_rate);
                let unsubscribe_rate = rng.range(0.001, 0.004);
                let unsubscribed = rng.binomial(delivered, unsubscribe_rate);
                let complaints = rng.binomial(delivered, 0.0002);
                let subscribed = rng.poisson(delivered as f64 * 0.001);
                self.subscribers += subscribed as f64 - unsubscribed as f64;
                w.write(&[
                    Cell::Str(&id),
                    Cell::Ts(at),
                    Cell::Str(&name),
                    Cell::Str(segment),
                    Cell::Int(sent as i64),
                    Cell::Int(delivered as i64),
                    Cell::Int(bounced as i64),
                    Cell::Int(opened as i64),
                    Cell::Int(clicked as i64),
                    Cell::Int(unsubscribed as i64),
                    Cell::Int(subscribed as i64),
                    Cell::Int(complaints as i64),
                ])?;
            }
            self.email_ids.push(id);
        }
        Ok(())
    }

    // -----------------------------------------------------------------------------------------
    // Social

    /// Today's posts per network, with their engagement.
    pub fn social_day(
        &mut self,
        tl: &Timeline,
        d: u32,
        w: &mut TableWriter,
    ) -> Result<(), GenerateError> {
        let weekend = matches!(tl.date(d).weekday(), Weekday::Sat | Weekday::Sun);
        let start = tl.day_start(d);
        let rng = &mut self.rng_social;
        for net in &mut self.networks {
            // Followers grow a little every day besides what posts bring.
            net.followers *= 1.0 + 0.0008;
            let lambda = net.posts_per_day * if weekend { 0.3 } else { 1.15 };
            let n = rng.poisson(lambda);
            let mut times: Vec<i64> = (0..n).map(|_| start + business_time(rng, 0)).collect();
            times.sort_unstable();
            for at in times {
                let id = net.next_id;
                net.next_id += 1;
                let impressions =
                    (net.followers * net.reach * rng.lognormal(1.0, 0.7)).round().max(1.0) as u64;
                let reach =
                    ((impressions as f64 * rng.range(0.55, 0.85)).round() as u64).min(impressions);
                let like_rate = net.like_rate * rng.lognormal(1.0, 0.3);
                let likes = rng.binomial(impressions, like_rate);
                let comments = rng.binomial(likes, 0.08);
                let shares = rng.binomial(likes, 0.12);
                let click_rate = net.click_rate * rng.lognormal(1.0, 0.3);
                let clicks = rng.binomial(impressions, click_rate);
                let mentions = rng.poisson(0.3 + likes as f64 * 0.01);
                let gained = rng.binomial(impressions, 0.0009);
                net.followers += gained as f64;
                w.write(&[
                    Cell::Str(net.name),
                    Cell::Id(net.id_prefix, id),
                    Cell::Ts(at),
                    Cell::Int(impressions as i64),
                    Cell::Int(reach as i64),
                    Cell::Int(likes as i64),
                    Cell::Int(comments as i64),
                    Cell::Int(shares as i64),
                    Cell::Int(mentions as i64),
                    Cell::Int(clicks as i64),
                    Cell::Int(gained as i64),
                ])?;
            }
        }
        Ok(())
    }

    // -----------------------------------------------------------------------------------------
    // SEO

    /// The weekly rank tracking: position drifts (slowly better), clicks follow position.
    pub fn seo_week(
        &mut self,
        tl: &Timeline,
        d: u32,
        w: &mut TableWriter,
    ) -> Result<(), GenerateError> {
        let date = tl.epoch_day(d);
        let season = tl.traffic_weight(d) / crate::calendar::weekday_weight(Weekday::Mon);
        let rng = &mut self.rng_seo;
        for k in &mut self.keywords {
            k.position = (k.position * (0.06 * rng.normal() - 0.004).exp()).clamp(1.0, 100.0);
            let pos = crate::writer::round_to(k.position, 1).max(1.0);
            let volume = (k.volume * rng.lognormal(1.0, 0.08)).round().max(10.0);
            let visibility = if pos <= 10.0 {
                1.0
            } else if pos <= 20.0 {
                0.3
            } else if pos <= 50.0 {
                0.05
            } else {
                0.005
            };
            let impressions =
                (volume / 4.33 * visibility * season * rng.lognormal(1.0, 0.15)).round() as u64;
            let ctr = (0.30 / pos.powf(1.1)).min(0.4);
            let clicks = rng.binomial(impressions, ctr);
            k.cpc *= rng.lognormal(1.0, 0.03);
            w.write(&[
                Cell::Date(date),
                Cell::Str(&k.text),
                Cell::Str(k.url),
                Cell::Num(pos, 1),
                Cell::Int(volume as i64),
                Cell::Int(impressions as i64),
                Cell::Int(clicks as i64),
                Cell::Num(k.cpc, 2),
            ])?;
        }
        Ok(())
    }

    // -----------------------------------------------------------------------------------------
    // Backlinks

    /// The monthly snapshot of referring domains: a few new ones, a few lost, links growing.
    pub fn backlinks_month(
        &mut self,
        epoch_day: i32,
        w: &mut TableWriter,
    ) -> Result<(), GenerateError> {
        let rng = &mut self.rng_links;
        let n = self.domains.len() as f64;
        let lost = rng.poisson(0.006 * n).min(self.domains.len() as u64 / 10);
        for _ in 0..lost {
            let i = rng.below(self.domains.len() as u64) as usize;
            self.domains.remove(i);
        }
        let new = rng.poisson(0.035 * n + 0.5);
        for _ in 0..new {
            self.domains.push(Domain { name: domain_name(self.next_domain), links: 1 });
            self.next_domain += 1;
        }
        for dom in &mut self.domains {
            if rng.chance(0.1) {
                dom.links += 1 + rng.poisson(1.5);
            }
            w.write(&[Cell::Date(epoch_day), Cell::Str(&dom.name), Cell::Int(dom.links as i64)])?;
        }
        Ok(())
    }

    // -----------------------------------------------------------------------------------------
    // Costs

    /// The month's non-media costs: salaries of both teams, tools, the search agency (a
    /// retainer plus a share of the month's search spend), content, events (the trade show's
    /// month is expensive), sales commissions on the month's wins, and overhead.
    pub fn costs_month(
        &mut self,
        tl: &Timeline,
        m: u32,
        trade_show: bool,
        search_spend: f64,
        won_acv: f64,
        w: &mut TableWriter,
    ) -> Result<(), GenerateError> {
        let month = days_since_epoch(tl.month_start(m));
        let growth = 1.0 + 0.3 * f64::from(m) / f64::from(crate::calendar::MONTHS - 1);
        let s = self.scale;
        let cf = self.cf;
        let rng = &mut self.rng_costs;
        let marketing_heads = (4.0 * s.powf(0.85) * growth).round().max(1.0);
        let sales_heads = (6.0 * s.powf(0.85) * growth).round().max(1.0);
        let events = 1000.0 * s.powf(0.8) + if trade_show { 45_000.0 * s.powf(0.8) } else { 0.0 };
        let rows: [(&str, &str, Option<&str>, f64); 9] = [
            ("salaries", "marketing", None, marketing_heads * 8_500.0),
            ("salaries", "sales", None, sales_heads * 9_500.0),
            ("tools", "marketing", None, 2_800.0 * s.powf(0.6) * rng.lognormal(1.0, 0.05)),
            ("tools", "sales", None, 1_200.0 * s.powf(0.6) * rng.lognormal(1.0, 0.05)),
            (
                "agency",
                "marketing",
                Some("Paid Search"),
                1_500.0 * s.powf(0.6) + 0.12 * search_spend / cf,
            ),
            (
                "content",
                "marketing",
                Some("Organic Search"),
                3_500.0 * s.powf(0.7) * rng.lognormal(1.0, 0.15),
            ),
            ("events", "marketing", Some("Events"), events * rng.lognormal(1.0, 0.1)),
            ("commissions", "sales", None, 0.08 * won_acv / cf),
            ("overhead", "marketing", None, 1_000.0 * s.powf(0.6)),
        ];
        for (category, team, channel, usd) in rows {
            w.write(&[
                Cell::Month(month),
                Cell::Str(category),
                Cell::Str(team),
                channel.map_or(Cell::Null, Cell::Str),
                Cell::Num(usd * cf, 2),
                Cell::Str(&self.currency),
            ])?;
        }
        Ok(())
    }
}
