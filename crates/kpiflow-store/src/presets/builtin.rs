//! The declarative presets: one TOML file each under `crates/kpiflow-store/presets/`, embedded
//! in the binary. Adding a preset is adding its file and one line here; the registry
//! (`super::presets`) parses them once and checks that names are unique.

/// (file name, text) of every declarative preset, in the order `kpiflow presets` lists them.
pub(super) static DECLARATIVE: &[(&str, &str)] = &[
    // Ad platforms
    ("google-ads-campaigns.toml", include_str!("../../presets/google-ads-campaigns.toml")),
    ("google-ads-keywords.toml", include_str!("../../presets/google-ads-keywords.toml")),
    ("google-ads-api.toml", include_str!("../../presets/google-ads-api.toml")),
    ("google-ads-bigquery.toml", include_str!("../../presets/google-ads-bigquery.toml")),
    ("google-ads-airbyte.toml", include_str!("../../presets/google-ads-airbyte.toml")),
    ("meta-ads.toml", include_str!("../../presets/meta-ads.toml")),
    (
        "facebook-marketing-airbyte.toml",
        include_str!("../../presets/facebook-marketing-airbyte.toml"),
    ),
    ("linkedin-ads.toml", include_str!("../../presets/linkedin-ads.toml")),
    ("linkedin-ads-airbyte.toml", include_str!("../../presets/linkedin-ads-airbyte.toml")),
    ("microsoft-ads.toml", include_str!("../../presets/microsoft-ads.toml")),
    // Web analytics and search
    ("ga4-traffic.toml", include_str!("../../presets/ga4-traffic.toml")),
    ("ga4-traffic-daily.toml", include_str!("../../presets/ga4-traffic-daily.toml")),
    // CRM
    ("hubspot-contacts.toml", include_str!("../../presets/hubspot-contacts.toml")),
    ("hubspot-companies.toml", include_str!("../../presets/hubspot-companies.toml")),
    ("hubspot-deals.toml", include_str!("../../presets/hubspot-deals.toml")),
    ("hubspot-contacts-airbyte.toml", include_str!("../../presets/hubspot-contacts-airbyte.toml")),
    ("hubspot-deals-airbyte.toml", include_str!("../../presets/hubspot-deals-airbyte.toml")),
    ("salesforce-leads.toml", include_str!("../../presets/salesforce-leads.toml")),
    ("salesforce-opportunities.toml", include_str!("../../presets/salesforce-opportunities.toml")),
    (
        "salesforce-opportunities-airbyte.toml",
        include_str!("../../presets/salesforce-opportunities-airbyte.toml"),
    ),
    ("pipedrive-deals.toml", include_str!("../../presets/pipedrive-deals.toml")),
    ("pipedrive-deals-airbyte.toml", include_str!("../../presets/pipedrive-deals-airbyte.toml")),
    // Email
    ("mailchimp-campaigns.toml", include_str!("../../presets/mailchimp-campaigns.toml")),
    (
        "mailchimp-reports-airbyte.toml",
        include_str!("../../presets/mailchimp-reports-airbyte.toml"),
    ),
    // SEO
    ("ahrefs-backlinks.toml", include_str!("../../presets/ahrefs-backlinks.toml")),
    ("ahrefs-keywords.toml", include_str!("../../presets/ahrefs-keywords.toml")),
    ("semrush-positions.toml", include_str!("../../presets/semrush-positions.toml")),
    ("semrush-backlinks.toml", include_str!("../../presets/semrush-backlinks.toml")),
];
