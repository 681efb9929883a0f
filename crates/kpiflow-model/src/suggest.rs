//! "Did you mean" suggestions for unknown names.

/// The candidate closest to `name`, when one is close enough to be a likely typo.
///
/// Case and `-`/`_`/space differences count as equal; otherwise the normalized Damerau-Levenshtein
/// similarity must reach 0.6, or the name must be a prefix of a candidate (so `contact` suggests
/// `contacts`).
pub fn did_you_mean<'a>(
    name: &str,
    candidates: impl IntoIterator<Item = &'a str>,
) -> Option<&'a str> {
    let wanted = normalize(name);
    let mut best: Option<(f64, &'a str)> = None;
    for candidate in candidates {
        let c = normalize(candidate);
        let score = if c == wanted {
            2.0
        } else if !wanted.is_empty() && c.starts_with(&wanted) {
            1.0
        } else {
            strsim::normalized_damerau_levenshtein(&wanted, &c)
        };
        if score >= 0.6 && best.is_none_or(|(s, _)| score > s) {
            best = Some((score, candidate));
        }
    }
    best.map(|(_, c)| c)
}

fn normalize(s: &str) -> String {
    s.trim().to_lowercase().replace(['-', ' '], "_")
}

#[cfg(test)]
mod tests {
    use super::did_you_mean;

    #[test]
    fn finds_typos_and_case_and_prefixes() {
        let names = ["sessions", "contacts", "deals", "ad_spend"];
        assert_eq!(did_you_mean("sesions", names), Some("sessions"));
        assert_eq!(did_you_mean("Ad-Spend", names), Some("ad_spend"));
        assert_eq!(did_you_mean("contact", names), Some("contacts"));
        assert_eq!(did_you_mean("revenue", names), None);
    }
}
