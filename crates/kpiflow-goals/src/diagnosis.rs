//! Bottleneck diagnosis (DESIGN §7): each stage's volume and each conversion of a period
//! against what was expected (the plan, or the trailing history scaled to the period), and the
//! stage that holds the funnel back, with the advice the seed articles give for it.
//!
//! A conversion is a bottleneck candidate when it falls short of expectation by more than the
//! tolerance while the stage feeding it had enough volume ("enough MQLs but few SQLs"); the
//! top of the funnel is one when leads fall short (through traffic or through visitors that do
//! not convert). The bottleneck is the candidate with the largest relative shortfall. A median
//! speed to lead above five minutes is always reported, and named the bottleneck when nothing
//! else is.

use serde::Serialize;

use crate::ratio;

/// A period's funnel figures.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct FunnelFigures {
    /// Entries into each stage.
    pub stage_counts: Vec<Option<f64>>,
    pub sessions: Option<f64>,
    /// Median minutes from a lead's creation to its first response.
    pub speed_to_lead: Option<f64>,
    /// Share of answered leads answered within five minutes.
    pub answered_in_5_minutes: Option<f64>,
}

/// What the period was expected to bring.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Expectation {
    /// `the 12 months before (…), scaled to 92 days` or `plan FY2026 (…)`.
    pub label: String,
    pub stage_counts: Vec<Option<f64>>,
    pub sessions: Option<f64>,
    /// Session → first stage, then each stage to the next.
    pub rates: Vec<Option<f64>>,
    pub speed_to_lead: Option<f64>,
}

/// One comparison.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Check {
    /// `sessions`, a stage (`mql`), a transition (`mql→sql`), `speed_to_lead`.
    pub id: String,
    pub label: String,
    /// `volume`, `rate` or `minutes`.
    pub kind: &'static str,
    pub actual: Option<f64>,
    pub expected: Option<f64>,
    /// How much better (+) or worse (−) than expected, relatively: actual ÷ expected − 1
    /// (expected ÷ actual − 1 for minutes, where less is better).
    pub gap: Option<f64>,
}

/// A named problem with what to do about it and the figures behind it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Finding {
    /// The check it rests on.
    pub check: String,
    pub title: String,
    pub advice: String,
    pub evidence: String,
    pub gap: Option<f64>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Diagnosis {
    pub against: String,
    pub tolerance: f64,
    pub checks: Vec<Check>,
    /// The stage holding the funnel back, if any.
    pub bottleneck: Option<Finding>,
    /// Every shortfall beyond the tolerance, the worst first.
    pub findings: Vec<Finding>,
}

fn pct(v: Option<f64>) -> String {
    v.map(|v| format!("{:.1} %", v * 100.0)).unwrap_or_else(|| "—".into())
}

fn num(v: Option<f64>) -> String {
    v.map(|v| {
        if v.abs() >= 100.0 {
            let n = v.round() as i64;
            let digits = n.unsigned_abs().to_string();
            let mut out = String::new();
            for (i, c) in digits.chars().enumerate() {
                if i > 0 && (digits.len() - i).is_multiple_of(3) {
                    out.push(',');
                }
                out.push(c);
            }
            if n < 0 { format!("-{out}") } else { out }
        } else {
            format!("{v:.1}")
        }
    })
    .unwrap_or_else(|| "—".into())
}

fn signed(v: Option<f64>) -> String {
    v.map(|v| format!("{:+.0} %", v * 100.0)).unwrap_or_else(|| "—".into())
}

/// A stage as people write it: MQL, SQL, SQO; others as named.
fn display(stage: &str) -> String {
    match stage {
        "mql" | "sql" | "sqo" => stage.to_uppercase(),
        other => other.to_owned(),
    }
}

/// The advice for the conversion from stage `i` to `i + 1` of `n` stages.
fn transition_advice(i: usize, n: usize, from: &str, to: &str) -> (String, String) {
    let (from, to) = (display(from), display(to));
    if i + 2 == n {
        return (
            format!("{from}s are not closing as {to}s"),
            "Opportunities are not closing: review lost deals and their reasons, competitive \
             positioning and pricing, and the follow-up cadence (general sales practice; the \
             seed articles stop at the opportunity)."
                .into(),
        );
    }
    match i {
        0 => (
            format!("enough {from}s but few {to}s"),
            "Enough contacts but few MQLs: work on the forms and the qualification questions \
             (what a lead is asked, the score that makes it an MQL) and on the offers that \
             bring leads in."
                .into(),
        ),
        1 => (
            format!("enough {from}s but few {to}s"),
            "Enough MQLs but few SQLs: nurture them with email workflows by persona and stage, \
             content that answers what sales hears, and a clear hand-off rule."
                .into(),
        ),
        _ => (
            format!("{from}s are not becoming {to}s"),
            "SQLs are not becoming opportunities: strengthen the bottom-of-funnel offers (demo, \
             trial, pricing, case studies) and remove friction on the site's conversion paths."
                .into(),
        ),
    }
}

/// Compares a period's funnel with what was expected; `tolerance` is the relative shortfall
/// that counts (0.10: 10 % below expectation).
pub fn diagnose(
    stages: &[String],
    actual: &FunnelFigures,
    expected: &Expectation,
    tolerance: f64,
) -> Diagnosis {
    let gap = |a: Option<f64>, e: Option<f64>| ratio(a, e).map(|r| r - 1.0);
    let short = |g: Option<f64>| g.is_some_and(|g| g < -tolerance);
    let enough = |g: Option<f64>| g.is_some_and(|g| g >= -tolerance);
    let mut checks = Vec::new();
    let mut findings: Vec<Finding> = Vec::new();

    // Volumes.
    let sessions_gap = gap(actual.sessions, expected.sessions);
    checks.push(Check {
        id: "sessions".into(),
        label: "sessions".into(),
        kind: "volume",
        actual: actual.sessions,
        expected: expected.sessions,
        gap: sessions_gap,
    });
    let mut volume_gaps = Vec::new();
    for (i, s) in stages.iter().enumerate() {
        let (a, e) = (
            actual.stage_counts.get(i).copied().flatten(),
            expected.stage_counts.get(i).copied().flatten(),
        );
        volume_gaps.push(gap(a, e));
        checks.push(Check {
            id: s.clone(),
            label: format!("{s} entries"),
            kind: "volume",
            actual: a,
            expected: e,
            gap: gap(a, e),
        });
    }

    // Conversions: sessions → first stage, then stage to stage.
    let first = stages.first().cloned().unwrap_or_default();
    let session_rate = ratio(actual.stage_counts.first().copied().flatten(), actual.sessions);
    let session_expected = expected.rates.first().copied().flatten();
    let session_gap = gap(session_rate, session_expected);
    checks.push(Check {
        id: format!("sessions→{first}"),
        label: format!("sessions → {first}"),
        kind: "rate",
        actual: session_rate,
        expected: session_expected,
        gap: session_gap,
    });
    if short(volume_gaps.first().copied().flatten()) {
        let lead_evidence = format!(
            "{first} entries {} vs {} expected ({})",
            num(actual.stage_counts.first().copied().flatten()),
            num(expected.stage_counts.first().copied().flatten()),
            signed(volume_gaps.first().copied().flatten())
        );
        // Leads = sessions × their conversion: the larger shortfall of the two names the cause.
        let conversion_worse = match (session_gap, sessions_gap) {
            (Some(rate), Some(traffic)) => rate < traffic,
            (Some(rate), None) => rate < 0.0,
            _ => false,
        };
        if conversion_worse {
            findings.push(Finding {
                check: format!("sessions→{first}"),
                title: format!("visitors are not becoming {first}s"),
                advice: "Visitors are not becoming leads: work on the landing pages, calls to \
                         action and offers of the pages that get the traffic."
                    .into(),
                evidence: format!(
                    "sessions → {first} {} vs {} expected ({}); sessions {} vs {} ({}); {lead_evidence}",
                    pct(session_rate),
                    pct(session_expected),
                    signed(session_gap),
                    num(actual.sessions),
                    num(expected.sessions),
                    signed(sessions_gap)
                ),
                gap: session_gap,
            });
        } else {
            findings.push(Finding {
                check: first.clone(),
                title: format!("not enough traffic for the {first}s needed"),
                advice: "Not enough traffic: more reach (search, paid, social, partners, events) \
                         comes before conversion work."
                    .into(),
                evidence: format!(
                    "{lead_evidence}; sessions {} vs {} expected ({})",
                    num(actual.sessions),
                    num(expected.sessions),
                    signed(sessions_gap)
                ),
                gap: volume_gaps.first().copied().flatten(),
            });
        }
    }
    for i in 0..stages.len().saturating_sub(1) {
        let (from, to) = (&stages[i], &stages[i + 1]);
        let a = ratio(
            actual.stage_counts.get(i + 1).copied().flatten(),
            actual.stage_counts.get(i).copied().flatten(),
        );
        let e = expected.rates.get(i + 1).copied().flatten();
        let g = gap(a, e);
        checks.push(Check {
            id: format!("{from}→{to}"),
            label: format!("{from} → {to}"),
            kind: "rate",
            actual: a,
            expected: e,
            gap: g,
        });
        if short(g) && enough(volume_gaps[i]) {
            let (title, advice) = transition_advice(i, stages.len(), from, to);
            findings.push(Finding {
                check: format!("{from}→{to}"),
                title,
                advice,
                evidence: format!(
                    "{from} → {to} {} vs {} expected ({}); {from} entries {} vs {} expected ({})",
                    pct(a),
                    pct(e),
                    signed(g),
                    num(actual.stage_counts.get(i).copied().flatten()),
                    num(expected.stage_counts.get(i).copied().flatten()),
                    signed(volume_gaps[i])
                ),
                gap: g,
            });
        }
    }
    findings.sort_by(|a, b| a.gap.unwrap_or(0.0).total_cmp(&b.gap.unwrap_or(0.0)));

    // Speed to lead: the five-minute rule.
    let speed_gap = gap(expected.speed_to_lead, actual.speed_to_lead);
    checks.push(Check {
        id: "speed_to_lead".into(),
        label: "speed to lead (median minutes)".into(),
        kind: "minutes",
        actual: actual.speed_to_lead,
        expected: expected.speed_to_lead,
        gap: speed_gap,
    });
    let slow = actual.speed_to_lead.is_some_and(|m| m > 5.0);
    let speed_finding = slow.then(|| Finding {
        check: "speed_to_lead".into(),
        title: "slow speed to lead".into(),
        advice: "Slow speed to lead: answer new leads within five minutes (the five-minute \
                 rule) with routing, alerts and cover for every hour leads arrive."
            .into(),
        evidence: format!(
            "median {} minutes from lead to first response (expected {}); {} answered within 5 minutes",
            num(actual.speed_to_lead),
            num(expected.speed_to_lead),
            pct(actual.answered_in_5_minutes)
        ),
        gap: speed_gap,
    });
    let bottleneck = findings.first().cloned().or_else(|| speed_finding.clone());
    findings.extend(speed_finding);
    Diagnosis { against: expected.label.clone(), tolerance, checks, bottleneck, findings }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stages() -> Vec<String> {
        ["lead", "mql", "sql", "opportunity", "customer"].map(String::from).to_vec()
    }

    fn expected() -> Expectation {
        Expectation {
            label: "history".into(),
            stage_counts: [1000.0, 400.0, 200.0, 100.0, 25.0].map(Some).to_vec(),
            sessions: Some(50_000.0),
            rates: [0.02, 0.4, 0.5, 0.5, 0.25].map(Some).to_vec(),
            speed_to_lead: Some(4.0),
        }
    }

    #[test]
    fn enough_mqls_but_few_sqls_names_nurturing() {
        // 1,000 leads and 400 MQLs as expected, but 120 SQLs: 30 % against 50 % (−40 %).
        let actual = FunnelFigures {
            stage_counts: [1000.0, 400.0, 120.0, 60.0, 15.0].map(Some).to_vec(),
            sessions: Some(50_000.0),
            speed_to_lead: Some(3.0),
            answered_in_5_minutes: Some(0.7),
        };
        let d = diagnose(&stages(), &actual, &expected(), 0.1);
        let b = d.bottleneck.unwrap();
        assert_eq!(b.check, "mql→sql");
        assert!(b.advice.contains("email workflows"), "{}", b.advice);
        assert!(b.evidence.contains("30.0 % vs 50.0 %"), "{}", b.evidence);
        assert_eq!(d.findings.len(), 1);
    }

    #[test]
    fn a_funnel_on_plan_with_slow_answers_names_speed_to_lead() {
        let e = expected();
        let actual = FunnelFigures {
            stage_counts: e.stage_counts.clone(),
            sessions: e.sessions,
            speed_to_lead: Some(42.0),
            answered_in_5_minutes: Some(0.1),
        };
        let d = diagnose(&stages(), &actual, &e, 0.1);
        assert_eq!(d.bottleneck.unwrap().check, "speed_to_lead");
    }
}
