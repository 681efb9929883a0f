#!/usr/bin/env python3
"""The overview report computed by DuckDB with hand-written SQL, and checked against kpiflow's.

The peer of DESIGN §10: every non-vanity KPI that has a channel, per month and channel, over the
Parquet files `kpiflow export` wrote from the same store. The SQL below is written from the
catalog's definitions (docs/kpis.md) and the engine's derived sources (frames.rs), not generated
by kpiflow: GA4's channel grouping over the distinct touch keys, contacts' first-touch channel,
stage entries under the non-strict funnel rule, stage transitions, sales cycles. Measures are
aggregated in DuckDB, one query per source and time column (as kpiflow plans them); the KPI
formulas (ratios of those measures, a few thousand cells) are then evaluated in Python, inside
the timed part.

    overview_peer.py --export DIR --from 2024-01-01 --to 2025-12-31 --runs N
                     [--kpiflow-csv FILE] [--categories CSV] [--json OUT]

Prints one JSON object: the cold time (first query in a fresh connection, files not yet read),
the warm times (the same in the same connection), the cells computed and, with --kpiflow-csv,
how many cells agree with kpiflow's CSV (`report --by channel --grain month --format csv`).
"""

import argparse
import csv
import datetime as dt
import json
import math
import os
import statistics
import sys
import time

import duckdb

STAGES = ["lead", "mql", "sql", "opportunity", "customer"]

# GA4's default channel grouping (crates/kpiflow-catalog/src/channels.rs), over one row per
# distinct (utm_source, utm_medium, utm_campaign, referrer, click_id_type): exports repeat the
# same few touch keys millions of times, so the rules run on thousands of rows, then join back.
CHANNEL_SQL = r"""
CREATE OR REPLACE TEMP TABLE touch_channels AS
WITH keys AS (
    SELECT DISTINCT utm_source, utm_medium, utm_campaign, referrer, click_id_type FROM sessions
), hosts AS (
    SELECT *,
        lower(trim(referrer)) AS r
    FROM keys
), hosts2 AS (
    SELECT *,
        split_part(regexp_split_to_array(
            CASE WHEN strpos(r, '://') > 0 THEN substr(r, strpos(r, '://') + 3) ELSE r END,
            '[/?#]')[1], ':', 1) AS h
    FROM hosts
), norm AS (
    SELECT utm_source, utm_medium, utm_campaign, referrer, click_id_type,
        nullif(CASE WHEN starts_with(h, 'www.') THEN substr(h, 5) ELSE h END, '') AS rhost,
        nullif(lower(trim(utm_source)), '') AS s0,
        nullif(lower(trim(utm_medium)), '') AS m0,
        coalesce(nullif(lower(trim(utm_campaign)), ''), '') AS campaign,
        nullif(lower(trim(click_id_type)), '') AS click
    FROM hosts2
), cat_host AS (
    SELECT n.*, (SELECT c.category FROM categories c
                 WHERE n.rhost = c.source OR ends_with(n.rhost, '.' || c.source)
                 ORDER BY length(c.source) DESC LIMIT 1) AS host_category
    FROM norm n
), sm AS (
    SELECT *,
        coalesce(s0,
                 CASE WHEN click IN ('gclid', 'gbraid', 'wbraid', 'dclid') THEN 'google'
                      WHEN click = 'msclkid' THEN 'bing' END,
                 rhost, '(direct)') AS source,
        coalesce(m0,
                 CASE WHEN click IN ('gclid', 'gbraid', 'wbraid', 'dclid', 'msclkid') THEN 'cpc' END,
                 CASE WHEN rhost IS NOT NULL AND host_category = 'search' THEN 'organic'
                      WHEN rhost IS NOT NULL THEN 'referral'
                      ELSE '(none)' END) AS medium
    FROM cat_host
), cat AS (
    SELECT sm.*, (SELECT c.category FROM categories c
                  WHERE sm.source = c.source OR ends_with(sm.source, '.' || c.source)
                  ORDER BY length(c.source) DESC LIMIT 1) AS category,
        regexp_full_match(sm.medium, '(.*cp.*|ppc|retargeting|paid.*)') AS paid
    FROM sm
), flags AS (
    SELECT *,
        coalesce(category = 'shopping', false)
            OR regexp_full_match(campaign, '(.*(([^a-df-z]|^)shop|shopping).*)') AS shopping
    FROM cat
)
SELECT utm_source, utm_medium, utm_campaign, referrer, click_id_type,
    CASE
        WHEN source = '(direct)' AND medium IN ('(none)', '(not set)') THEN 'Direct'
        WHEN contains(campaign, 'cross-network') THEN 'Cross-network'
        WHEN shopping AND paid THEN 'Paid Shopping'
        WHEN category = 'search' AND paid THEN 'Paid Search'
        WHEN category = 'social' AND paid THEN 'Paid Social'
        WHEN category = 'video' AND paid THEN 'Paid Video'
        WHEN medium IN ('display', 'banner', 'expandable', 'interstitial', 'cpm') THEN 'Display'
        WHEN paid THEN 'Paid Other'
        WHEN shopping THEN 'Organic Shopping'
        WHEN category = 'social' OR medium IN ('social', 'social-network', 'social-media', 'sm',
             'social network', 'social media') THEN 'Organic Social'
        WHEN category = 'video' OR contains(medium, 'video') THEN 'Organic Video'
        WHEN category = 'search' OR medium = 'organic' THEN 'Organic Search'
        WHEN medium IN ('referral', 'app', 'link') THEN 'Referral'
        WHEN source IN ('email', 'e-mail', 'e_mail', 'e mail')
             OR medium IN ('email', 'e-mail', 'e_mail', 'e mail') THEN 'Email'
        WHEN medium = 'affiliate' THEN 'Affiliates'
        WHEN medium = 'audio' THEN 'Audio'
        WHEN source = 'sms' OR medium = 'sms' THEN 'SMS'
        WHEN ends_with(medium, 'push') OR contains(medium, 'mobile')
             OR contains(medium, 'notification') OR source = 'firebase'
            THEN 'Mobile Push Notifications'
        ELSE 'Unassigned'
    END AS channel
FROM flags
"""

# A CRM source label as a channel (ChannelRules::channel_of_label).
def label_channel(expr):
    return f"""CASE replace(replace(lower(trim({expr})), ' ', '_'), '-', '_')
        WHEN 'organic_search' THEN 'Organic Search' WHEN 'organic' THEN 'Organic Search'
        WHEN 'seo' THEN 'Organic Search'
        WHEN 'paid_search' THEN 'Paid Search' WHEN 'sem' THEN 'Paid Search'
        WHEN 'ppc' THEN 'Paid Search' WHEN 'cpc' THEN 'Paid Search'
        WHEN 'paid_social' THEN 'Paid Social'
        WHEN 'social' THEN 'Organic Social' WHEN 'social_media' THEN 'Organic Social'
        WHEN 'organic_social' THEN 'Organic Social'
        WHEN 'email' THEN 'Email' WHEN 'email_marketing' THEN 'Email' WHEN 'e_mail' THEN 'Email'
        WHEN 'referral' THEN 'Referral' WHEN 'referrals' THEN 'Referral'
        WHEN 'direct' THEN 'Direct' WHEN 'direct_traffic' THEN 'Direct'
        WHEN 'display' THEN 'Display'
        WHEN 'video' THEN 'Paid Video' WHEN 'paid_video' THEN 'Paid Video'
        WHEN 'affiliate' THEN 'Affiliates' WHEN 'affiliates' THEN 'Affiliates'
        WHEN 'partner' THEN 'Affiliates' WHEN 'partners' THEN 'Affiliates'
        WHEN 'offline' THEN 'Offline' WHEN 'offline_sources' THEN 'Offline'
        WHEN 'event' THEN 'Offline' WHEN 'events' THEN 'Offline' WHEN 'trade_show' THEN 'Offline'
        WHEN 'other_campaigns' THEN 'Paid Other' WHEN 'other_publicities' THEN 'Paid Other'
        WHEN 'paid_other' THEN 'Paid Other'
        WHEN 'sms' THEN 'SMS'
        ELSE 'Unassigned' END"""


def has(words, v="a"):
    return "(" + " OR ".join(f"contains({v}, '{w}')" for w in words) + ")"


# A "how did you hear about us" answer as a channel (ChannelRules::self_reported_channel).
SELF_REPORTED = f"""CASE
    WHEN a IS NULL OR a = '' THEN NULL
    WHEN {has(["friend", "colleague", "word of mouth", "podcast", "slack", "community", "dark social"])} THEN 'Dark Social'
    WHEN {has([" ad", "ads", "advert", "sponsored"])} AND {has(["linkedin", "facebook", "instagram", "twitter", "x /", "tiktok", "reddit", "social"])} THEN 'Paid Social'
    WHEN {has([" ad", "ads", "advert", "sponsored"])} AND {has(["google", "bing", "search"])} THEN 'Paid Search'
    WHEN {has([" ad", "ads", "advert", "sponsored"])} THEN 'Display'
    WHEN {has(["linkedin", "facebook", "instagram", "twitter", "x /", "tiktok", "reddit", "social"])} THEN 'Organic Social'
    WHEN {has(["google", "bing", "search", "blog", "article", "seo"])} THEN 'Organic Search'
    WHEN {has(["youtube", "video"])} THEN 'Organic Video'
    WHEN {has(["newsletter", "email", "e-mail"])} THEN 'Email'
    WHEN {has(["partner", "agency", "affiliate", "reseller"])} THEN 'Affiliates'
    WHEN {has(["event", "trade show", "conference", "webinar", "meetup"])} THEN 'Offline'
    WHEN {has(["review", "g2", "capterra", "directory", "referral"])} THEN 'Referral'
    WHEN {has(["sales", "outreach", "called", "sdr"])} THEN 'Outbound'
    ELSE {label_channel("a")}
END"""

# An ad platform's default channel (ChannelRules::platform_channel).
PLATFORM = """CASE regexp_replace(regexp_replace(regexp_replace(lower(trim(platform)),
        '(_ads)+$', ''), '( ads)+$', ''), '(ads)+$', '')
    WHEN 'google' THEN 'Paid Search' WHEN 'bing' THEN 'Paid Search' WHEN 'microsoft' THEN 'Paid Search'
    WHEN 'yahoo' THEN 'Paid Search' WHEN 'baidu' THEN 'Paid Search' WHEN 'yandex' THEN 'Paid Search'
    WHEN 'naver' THEN 'Paid Search' WHEN 'apple_search' THEN 'Paid Search'
    WHEN 'amazon_search' THEN 'Paid Search'
    WHEN 'linkedin' THEN 'Paid Social' WHEN 'meta' THEN 'Paid Social' WHEN 'facebook' THEN 'Paid Social'
    WHEN 'instagram' THEN 'Paid Social' WHEN 'twitter' THEN 'Paid Social' WHEN 'x' THEN 'Paid Social'
    WHEN 'tiktok' THEN 'Paid Social' WHEN 'reddit' THEN 'Paid Social' WHEN 'pinterest' THEN 'Paid Social'
    WHEN 'snapchat' THEN 'Paid Social' WHEN 'quora' THEN 'Paid Social'
    WHEN 'youtube' THEN 'Paid Video' WHEN 'vimeo' THEN 'Paid Video'
    WHEN 'display' THEN 'Display' WHEN 'dv360' THEN 'Display' WHEN 'gdn' THEN 'Display'
    WHEN 'criteo' THEN 'Display' WHEN 'adroll' THEN 'Display' WHEN 'taboola' THEN 'Display'
    WHEN 'outbrain' THEN 'Display'
    WHEN 'google_shopping' THEN 'Paid Shopping' WHEN 'amazon' THEN 'Paid Shopping'
    WHEN 'shopping' THEN 'Paid Shopping'
    WHEN 'spotify' THEN 'Audio' WHEN 'audio' THEN 'Audio'
    ELSE 'Paid Other' END"""

# The derived sources, as temporary tables built once per run (kpiflow builds contacts and stage
# entries once per engine too).
DERIVED_SQL = [
    CHANNEL_SQL,
    # The same for "how did you hear about us" answers: a few hundred distinct texts.
    f"""
CREATE OR REPLACE TEMP TABLE answer_channels AS
SELECT answer, {SELF_REPORTED} AS channel
FROM (SELECT DISTINCT self_reported_source AS answer, lower(trim(self_reported_source)) AS a
      FROM contacts WHERE self_reported_source IS NOT NULL)
""",
    f"""
CREATE OR REPLACE TEMP TABLE contacts_x AS
WITH touch AS (
    SELECT s.contact_id AS t_contact_id,
        min(s.started_at) AS first_session_at,
        arg_min(t.channel, (s.started_at, s.session_id)) AS first_channel
    FROM sessions s
    JOIN touch_channels t
      ON s.utm_source IS NOT DISTINCT FROM t.utm_source
     AND s.utm_medium IS NOT DISTINCT FROM t.utm_medium
     AND s.utm_campaign IS NOT DISTINCT FROM t.utm_campaign
     AND s.referrer IS NOT DISTINCT FROM t.referrer
     AND s.click_id_type IS NOT DISTINCT FROM t.click_id_type
    WHERE nullif(trim(s.contact_id), '') IS NOT NULL
    GROUP BY s.contact_id
)
SELECT c.contact_id, c.created_at, c.first_response_at, t.first_session_at,
    coalesce(t.first_channel,
             CASE WHEN nullif(trim(c.original_source), '') IS NOT NULL
                  THEN {label_channel("c.original_source")} END,
             'Unassigned') AS channel,
    sr.channel AS self_reported_channel,
    (epoch_us(c.first_response_at) - epoch_us(c.created_at)) / 60000000.0 AS response_minutes
FROM contacts c LEFT JOIN touch t ON c.contact_id = t.t_contact_id
LEFT JOIN answer_channels sr ON c.self_reported_source = sr.answer
""",
    """
CREATE OR REPLACE TEMP TABLE stage_entries AS
WITH stage_index(stage, i) AS (VALUES ('lead', 0), ('mql', 1), ('sql', 2), ('opportunity', 3), ('customer', 4)),
entries AS (
    SELECT sc.entity_id, si.i AS reached_index, sc.entered_at
    FROM stage_changes sc JOIN stage_index si ON lower(trim(sc.stage)) = si.stage
    WHERE lower(trim(sc.entity_type)) = 'contact'
    UNION ALL
    SELECT contact_id, 0, created_at FROM contacts
), per_stage AS (
    SELECT e.entity_id, si.i AS stage_index, si.stage, min(e.entered_at) AS entered_at
    FROM entries e JOIN stage_index si ON si.i <= e.reached_index
    GROUP BY e.entity_id, si.i, si.stage
)
SELECT p.entity_id, p.stage_index, p.stage, p.entered_at,
    coalesce(c.channel, 'Unassigned') AS channel, c.self_reported_channel
FROM per_stage p LEFT JOIN contacts_x c ON p.entity_id = c.contact_id
""",
    """
CREATE OR REPLACE TEMP TABLE deals_x AS
SELECT d.*, coalesce(c.channel, 'Unassigned') AS channel,
    c.first_session_at, c.created_at AS lead_created_at
FROM deals d LEFT JOIN contacts_x c ON d.contact_id = c.contact_id
""",
]

# One aggregate per source and time column: (name, SQL with {from}/{to}, measures).
# `sum` measures carry their row count so that a sum over no rows is 0, not missing (as kpiflow).
#
# Months are cut in UTC (the project's time zone). A TIMESTAMPTZ is truncated through a plain
# TIMESTAMP built from its epoch: DuckDB's date_trunc on TIMESTAMPTZ goes through ICU's calendar
# and was 3.5× slower here for the same result.
def group_sql(source_sql, time_col, dims, measures):
    cols = []
    for name, agg, cond in measures:
        flt = f" FILTER (WHERE {cond})" if cond else ""
        if agg.startswith("sum("):
            cols.append(f"CASE WHEN count(*){flt} = 0 THEN 0 ELSE {agg}{flt} END AS {name}")
        else:
            cols.append(f"{agg}{flt} AS {name}")
    dim_sql = "".join(f", {d}" for d in dims)
    return f"""
SELECT date_trunc('month', {{trunc_arg}})::DATE AS bucket{dim_sql}, {', '.join(cols)}
FROM ({source_sql}) src
WHERE {time_col} >= {{lo}} AND {time_col} < {{hi}}
GROUP BY ALL
"""


GROUPS = [
    ("sessions",
     group_sql("""SELECT s.*, t.channel FROM sessions s JOIN touch_channels t
                  ON s.utm_source IS NOT DISTINCT FROM t.utm_source
                 AND s.utm_medium IS NOT DISTINCT FROM t.utm_medium
                 AND s.utm_campaign IS NOT DISTINCT FROM t.utm_campaign
                 AND s.referrer IS NOT DISTINCT FROM t.referrer
                 AND s.click_id_type IS NOT DISTINCT FROM t.click_id_type""",
               "started_at", ["channel"], [
                   ("sessions", "count(*)", None),
                   ("visitors", "count(DISTINCT visitor_id)", None),
                   ("organic_sessions", "count(*)",
                    "channel IN ('Organic Search', 'Organic Social', 'Organic Video', 'Organic Shopping')"),
                   ("paid_sessions", "count(*)",
                    "channel IN ('Paid Search', 'Paid Social', 'Paid Video', 'Paid Shopping', 'Paid Other', 'Display', 'Cross-network')"),
                   ("bounced_sessions", "count(*)", "bounced"),
                   ("pageviews", "sum(pageviews::DOUBLE)", None),
                   ("session_seconds", "sum(duration_seconds::DOUBLE)", None),
               ]), True),
    ("ad_spend",
     group_sql(f"SELECT *, coalesce(nullif(trim(channel), ''), {PLATFORM}) AS ch FROM ad_spend",
               "date", ["ch AS channel"], [
                   ("impressions", "sum(impressions::DOUBLE)", None),
                   ("clicks", "sum(clicks::DOUBLE)", None),
                   ("ad_cost", "sum(cost_reporting::DOUBLE)", None),
                   ("ad_conversions", "sum(conversions::DOUBLE)", None),
                   ("search_impressions", "sum(impressions::DOUBLE)", "eligible_impressions IS NOT NULL"),
                   ("eligible_impressions", "sum(eligible_impressions::DOUBLE)", None),
               ]), False),
    ("contacts",
     group_sql("SELECT * FROM contacts_x", "created_at", ["channel"], [
         ("leads", "count(*)", None),
         ("response_minutes_median", "median(response_minutes)", "first_response_at IS NOT NULL"),
         ("leads_answered", "count(*)", "first_response_at IS NOT NULL"),
         ("leads_answered_in_5_minutes", "count(*)", "response_minutes <= 5"),
         ("social_leads", "count(*)", "channel IN ('Organic Social', 'Paid Social')"),
     ]), True),
    ("stage_entries",
     group_sql("SELECT * FROM stage_entries", "entered_at", ["channel"], [
         ("mqls", "count(DISTINCT entity_id)", "stage = 'mql'"),
         ("sqls", "count(DISTINCT entity_id)", "stage = 'sql'"),
         ("sqos", "count(DISTINCT entity_id)", "stage = 'opportunity'"),
         ("customers", "count(DISTINCT entity_id)", "stage = 'customer'"),
         ("self_reported_customers", "count(DISTINCT entity_id)",
          "stage = 'customer' AND self_reported_channel IS NOT NULL"),
         ("self_reported_mismatches", "count(DISTINCT entity_id)",
          "stage = 'customer' AND self_reported_channel IS NOT NULL AND self_reported_channel <> channel"),
     ]), True),
    ("stage_transitions",
     group_sql("""SELECT f.channel, f.stage || '→' || t.stage AS transition, t.entered_at,
                     (epoch_us(t.entered_at) - epoch_us(f.entered_at)) / 86400000000.0 AS days
                  FROM stage_entries f JOIN stage_entries t
                    ON f.entity_id = t.entity_id AND f.stage_index + 1 = t.stage_index""",
               "entered_at", ["channel", "transition"], [
                   ("transition_days_median", "median(days)", None),
                   ("transition_days_p90", "quantile_cont(days, 0.9)", None),
               ]), True),
    ("deals_closed",
     group_sql("SELECT * FROM deals_x", "closed_at", ["channel"], [
         ("won_deals", "count(*)", "status = 'won'"),
         ("lost_deals", "count(*)", "status = 'lost'"),
         ("won_revenue", "sum(amount_reporting::DOUBLE)", "status = 'won'"),
         ("social_won_revenue", "sum(amount_reporting::DOUBLE)",
          "status = 'won' AND channel IN ('Organic Social', 'Paid Social')"),
     ]), True),
    ("deals_created",
     group_sql("SELECT * FROM deals_x", "created_at", ["channel"], [
         ("pipeline_created", "sum(amount_reporting::DOUBLE)", None),
     ]), True),
    ("won_deal_cycles",
     group_sql("""SELECT channel, closed_at,
                     (epoch_us(closed_at) - epoch_us(coalesce(first_session_at, lead_created_at, created_at)))
                       / 86400000000.0 AS cycle_days
                  FROM deals_x WHERE lower(status) = 'won' AND closed_at IS NOT NULL""",
               "closed_at", ["channel"], [
                   ("cycle_days_total", "sum(cycle_days)", "cycle_days >= 0"),
                   ("cycle_deals", "count(*)", "cycle_days >= 0"),
                   ("cycle_days_median", "median(cycle_days)", "cycle_days >= 0"),
               ]), True),
    ("costs",
     group_sql("SELECT *, coalesce(nullif(trim(channel), ''), '(not set)') AS ch FROM costs",
               "month", ["ch AS channel"], [
                   ("marketing_costs", "sum(amount_reporting::DOUBLE)", "team = 'marketing'"),
                   ("sales_costs", "sum(amount_reporting::DOUBLE)", "team = 'sales'"),
               ]), False),
]

TIME_COLUMNS = {"sessions": "started_at", "ad_spend": "date", "contacts": "created_at",
                "stage_entries": "entered_at", "stage_transitions": "entered_at",
                "deals_closed": "closed_at", "deals_created": "created_at",
                "won_deal_cycles": "closed_at", "costs": "month"}

# Measures whose missing cell means "nothing happened" (0), as kpiflow reads them; medians and
# percentiles stay missing.
NOT_ADDITIVE = {"response_minutes_median", "transition_days_median", "transition_days_p90",
                "cycle_days_median"}

GROSS_MARGIN = 0.8


def div(a, b):
    if a is None or b is None or b == 0:
        return None
    return a / b


def add(*xs):
    return None if any(x is None for x in xs) else sum(xs)


def sub(a, b):
    return None if a is None or b is None else a - b


def co(x):
    return 0.0 if x is None else x


def paid_costs(m):
    return add(m("ad_cost"), co(m("marketing_costs")), co(m("sales_costs")))


# Every non-vanity KPI whose sources have a channel: (id, measures, formula over m(name)).
# Formulas as in docs/kpis.md; `p` reads the previous month.
KPIS = [
    ("sessions", ["sessions"], lambda m, p: m("sessions")),
    ("visitors", ["visitors"], lambda m, p: m("visitors")),
    ("organic_sessions", ["organic_sessions"], lambda m, p: m("organic_sessions")),
    ("paid_sessions", ["paid_sessions"], lambda m, p: m("paid_sessions")),
    ("bounce_rate", ["bounced_sessions", "sessions"], lambda m, p: div(m("bounced_sessions"), m("sessions"))),
    ("pages_per_session", ["pageviews", "sessions"], lambda m, p: div(m("pageviews"), m("sessions"))),
    ("avg_session_duration", ["session_seconds", "sessions"],
     lambda m, p: div(div(m("session_seconds"), m("sessions")), 60)),
    ("visitor_to_lead_rate", ["leads", "visitors"], lambda m, p: div(m("leads"), m("visitors"))),
    ("clicks", ["clicks"], lambda m, p: m("clicks")),
    ("ad_cost", ["ad_cost"], lambda m, p: m("ad_cost")),
    ("ctr", ["clicks", "impressions"], lambda m, p: div(m("clicks"), m("impressions"))),
    ("cpc", ["ad_cost", "clicks"], lambda m, p: div(m("ad_cost"), m("clicks"))),
    ("cpm", ["ad_cost", "impressions"], lambda m, p: None if div(m("ad_cost"), m("impressions")) is None
     else div(m("ad_cost"), m("impressions")) * 1000),
    ("ad_conversions", ["ad_conversions"], lambda m, p: m("ad_conversions")),
    ("ad_conversion_rate", ["ad_conversions", "clicks"], lambda m, p: div(m("ad_conversions"), m("clicks"))),
    ("cost_per_conversion", ["ad_cost", "ad_conversions"], lambda m, p: div(m("ad_cost"), m("ad_conversions"))),
    ("search_impression_share", ["search_impressions", "eligible_impressions"],
     lambda m, p: div(m("search_impressions"), m("eligible_impressions"))),
    ("leads", ["leads"], lambda m, p: m("leads")),
    ("mqls", ["mqls"], lambda m, p: m("mqls")),
    ("sqls", ["sqls"], lambda m, p: m("sqls")),
    ("sqos", ["sqos"], lambda m, p: m("sqos")),
    ("customers", ["customers"], lambda m, p: m("customers")),
    ("cpl", ["ad_cost", "leads"], lambda m, p: div(m("ad_cost"), m("leads"))),
    ("cost_per_mql", ["ad_cost", "mqls"], lambda m, p: div(m("ad_cost"), m("mqls"))),
    ("cost_per_sql", ["ad_cost", "sqls"], lambda m, p: div(m("ad_cost"), m("sqls"))),
    ("cost_per_sqo", ["ad_cost", "sqos"], lambda m, p: div(m("ad_cost"), m("sqos"))),
    ("lead_to_mql_rate", ["mqls", "leads"], lambda m, p: div(m("mqls"), m("leads"))),
    ("mql_to_sql_rate", ["sqls", "mqls"], lambda m, p: div(m("sqls"), m("mqls"))),
    ("sql_to_sqo_rate", ["sqos", "sqls"], lambda m, p: div(m("sqos"), m("sqls"))),
    ("win_rate", ["won_deals", "lost_deals"], lambda m, p: div(m("won_deals"), add(m("won_deals"), m("lost_deals")))),
    ("lead_to_customer_rate", ["customers", "leads"], lambda m, p: div(m("customers"), m("leads"))),
    ("stage_velocity", ["transition_days_median"], lambda m, p: m("transition_days_median")),
    ("stage_velocity_p90", ["transition_days_p90"], lambda m, p: m("transition_days_p90")),
    ("speed_to_lead", ["response_minutes_median"], lambda m, p: m("response_minutes_median")),
    ("speed_to_lead_5min_share", ["leads_answered_in_5_minutes", "leads_answered"],
     lambda m, p: div(m("leads_answered_in_5_minutes"), m("leads_answered"))),
    ("pipeline_created", ["pipeline_created"], lambda m, p: m("pipeline_created")),
    ("closed_won_deals", ["won_deals"], lambda m, p: m("won_deals")),
    ("won_revenue", ["won_revenue"], lambda m, p: m("won_revenue")),
    ("avg_deal_size", ["won_revenue", "won_deals"], lambda m, p: div(m("won_revenue"), m("won_deals"))),
    ("sales_cycle_days", ["cycle_days_total", "cycle_deals"], lambda m, p: div(m("cycle_days_total"), m("cycle_deals"))),
    ("sales_cycle_days_median", ["cycle_days_median"], lambda m, p: m("cycle_days_median")),
    ("sales_growth", ["won_revenue"], lambda m, p: div(sub(m("won_revenue"), p("won_revenue")), p("won_revenue"))),
    ("cac", ["ad_cost", "customers"], lambda m, p: div(m("ad_cost"), m("customers"))),
    ("marketing_costs", ["marketing_costs"], lambda m, p: m("marketing_costs")),
    ("cac_fully_loaded", ["ad_cost", "customers", "marketing_costs", "sales_costs"],
     lambda m, p: div(paid_costs(m), m("customers"))),
    ("cost_per_sale", ["ad_cost", "won_deals", "marketing_costs", "sales_costs"],
     lambda m, p: div(paid_costs(m), m("won_deals"))),
    ("marketing_roi", ["won_revenue", "ad_cost", "marketing_costs"],
     lambda m, p: div(sub(None if m("won_revenue") is None else m("won_revenue") * GROSS_MARGIN,
                          add(m("ad_cost"), co(m("marketing_costs")))),
                      add(m("ad_cost"), co(m("marketing_costs"))))),
    ("social_sourced_leads", ["social_leads"], lambda m, p: m("social_leads")),
    ("social_share_of_revenue", ["social_won_revenue", "won_revenue"],
     lambda m, p: div(m("social_won_revenue"), m("won_revenue"))),
    ("dark_social_gap", ["self_reported_mismatches", "self_reported_customers"],
     lambda m, p: div(m("self_reported_mismatches"), m("self_reported_customers"))),
]


def months(lo, hi):
    out, d = [], dt.date(lo.year, lo.month, 1)
    while d <= hi:
        out.append(d)
        d = dt.date(d.year + (d.month == 12), d.month % 12 + 1, 1)
    return out


def prev_month(d):
    return dt.date(d.year - (d.month == 1), (d.month - 2) % 12 + 1, 1)


def compute(con, lo, hi):
    """The overview: {(kpi, month, channel, transition): value}."""
    for sql in DERIVED_SQL:
        con.execute(sql)
    # The month before the period too: `sales_growth` reads the previous month.
    first = prev_month(lo)
    end = hi + dt.timedelta(days=1)
    bounds = {"lo": f"TIMESTAMPTZ '{first} 00:00:00+00'", "hi": f"TIMESTAMPTZ '{end} 00:00:00+00'"}
    date_bounds = {"lo": f"DATE '{first}'", "hi": f"DATE '{end}'"}
    cells = {}      # measure -> {(bucket, dims): value}
    combos = {}     # measure -> set of dims seen in the period
    wanted = set(months(lo, hi))
    for name, sql, timestamped in GROUPS:
        time_col = TIME_COLUMNS[name]
        trunc_arg = f"make_timestamp(epoch_us({time_col}))" if timestamped else time_col
        rel = con.execute(sql.format(trunc_arg=trunc_arg, **(bounds if timestamped else date_bounds)))
        cols = [c[0] for c in rel.description]
        ndims = 2 if "transition" in cols else 1
        for row in rel.fetchall():
            bucket, dims, values = row[0], tuple(row[1:1 + ndims]), row[1 + ndims:]
            for col_name, v in zip(cols[1 + ndims:], values):
                cells.setdefault(col_name, {})[(bucket, dims)] = None if v is None else float(v)
                if bucket in wanted:
                    combos.setdefault(col_name, set()).add(dims)
    out = {}
    for kpi, measures, formula in KPIS:
        dims_set = set()
        for m in measures:
            dims_set |= combos.get(m, set())
        for dims in dims_set:
            for b in sorted(wanted):
                def m(name, bucket=b):
                    c = cells.get(name, {})
                    if (bucket, dims) in c:
                        return c[(bucket, dims)]
                    return None if name in NOT_ADDITIVE else 0.0
                value = formula(m, lambda name: m(name, prev_month(b)))
                transition = dims[1] if len(dims) > 1 else ""
                out[(kpi, b.isoformat(), dims[0], transition)] = value
    return out


def connect(export_dir, categories):
    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    con.execute("SET enable_progress_bar = false")
    con.execute(f"SET threads = {os.cpu_count() or 2}")
    for f in sorted(os.listdir(export_dir)):
        if f.endswith(".parquet"):
            con.execute(f"CREATE VIEW {f[:-8]} AS SELECT * FROM read_parquet('{os.path.join(export_dir, f)}')")
    rows = []
    with open(categories) as fh:
        for line in fh:
            line = line.strip()
            if not line or line.startswith("#") or line == "source,category":
                continue
            s, c = line.split(",", 1)
            rows.append((s.strip().lower(), c.strip()))
    con.execute("CREATE TEMP TABLE categories (source VARCHAR, category VARCHAR)")
    con.executemany("INSERT INTO categories VALUES (?, ?)", rows)
    return con


# DataFusion 55's percentile_cont truncates its interpolation weight to six decimals
# (INTERPOLATION_PRECISION in datafusion-functions-aggregate), so kpiflow's p90 can sit up to
# 1e-6 of the gap between the two neighbouring values away from the exact one DuckDB gives.
TOLERANCE = {"stage_velocity_p90": 1e-5}


def compare(ours, theirs_csv):
    """Cells where either side has a value: equal to 1e-9 relative (or 1e-9 absolute); p90
    cells to 1e-5 relative (see TOLERANCE)."""
    theirs = {}
    with open(theirs_csv) as fh:
        for r in csv.DictReader(fh):
            if r["kpi"] not in {k[0] for k in KPIS}:
                continue
            key = (r["kpi"], r["period_start"], r["channel"], r.get("transition") or "")
            theirs[key] = float(r["value"]) if r["value"] not in ("", None) else None
    checked, mismatches = 0, []
    for key in sorted(set(ours) | set(theirs)):
        a, b = ours.get(key), theirs.get(key)
        if a is None and b is None:
            continue
        checked += 1
        tol = TOLERANCE.get(key[0], 1e-9)
        if a is None or b is None or not math.isclose(a, b, rel_tol=tol, abs_tol=1e-9):
            mismatches.append({"cell": list(key), "duckdb": a, "kpiflow": b})
    return checked, mismatches


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--export", required=True)
    ap.add_argument("--from", dest="lo", required=True)
    ap.add_argument("--to", dest="hi", required=True)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--kpiflow-csv")
    ap.add_argument("--categories", default="crates/kpiflow-catalog/data/source_categories.csv")
    ap.add_argument("--json")
    args = ap.parse_args()
    lo, hi = dt.date.fromisoformat(args.lo), dt.date.fromisoformat(args.hi)

    started = time.perf_counter()
    con = connect(args.export, args.categories)
    result = compute(con, lo, hi)
    cold_ms = (time.perf_counter() - started) * 1000
    warm = []
    for _ in range(args.runs):
        t0 = time.perf_counter()
        result = compute(con, lo, hi)
        warm.append((time.perf_counter() - t0) * 1000)
    summary = {
        "cold_ms": round(cold_ms, 1),
        "warm_ms": [round(w, 1) for w in warm],
        "warm_median_ms": round(statistics.median(warm), 1),
        "cells": sum(v is not None for v in result.values()),
        "duckdb": duckdb.__version__,
    }
    if args.kpiflow_csv:
        checked, mismatches = compare(result, args.kpiflow_csv)
        summary["checked"] = checked
        summary["mismatches"] = len(mismatches)
        summary["first_mismatches"] = mismatches[:10]
    text = json.dumps(summary, indent=1)
    if args.json:
        with open(args.json, "w") as fh:
            fh.write(text)
    print(text)


if __name__ == "__main__":
    sys.exit(main())
