//! Journeys: the ordered touchpoints that led (or did not lead) to a conversion.
//!
//! A [`Journeys`] set is columnar (one flat array of touches and offsets into it) because the
//! models walk millions of journeys and a `Vec` per journey would cost an allocation each. Channel
//! names are interned once; models work on [`ChannelId`]s.

use std::collections::HashMap;

use crate::AttributionError;

/// Index of a channel in [`Journeys::channels`].
pub type ChannelId = u32;

/// Where in a journey the lead and the opportunity were created, when the journey knows it.
///
/// The W-shaped and full-path models give these touches their own share (HubSpot's "contact
/// creation" and "deal creation" interactions). Journeys read from aggregated paths do not know
/// them, and those models then use positions (see [`crate::models`]).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Milestones {
    /// Index of the touch that created the lead (the last touch at or before its creation).
    pub lead: Option<u32>,
    /// Index of the touch that created the opportunity.
    pub opportunity: Option<u32>,
    /// Whether the source knows the milestones (journeys from the store do, aggregated paths do
    /// not): then a missing milestone means the role is not part of this journey, rather than
    /// "use positions".
    pub known: bool,
}

/// One journey, borrowed from a [`Journeys`] set.
#[derive(Debug, Clone, Copy)]
pub struct Journey<'a> {
    /// The touches' channels, oldest first. Never empty.
    pub channels: &'a [ChannelId],
    /// Days between each touch and the conversion (or the end of the window for a journey that
    /// did not convert), when the source has times.
    pub ages_days: Option<&'a [f64]>,
    pub milestones: Milestones,
    /// Conversions at the end of this journey (an aggregated path stands for many journeys).
    pub conversions: f64,
    /// Their value (won amount, conversion value).
    pub value: f64,
    /// Journeys along this path that did not convert.
    pub nulls: f64,
}

/// A set of journeys over interned channels.
#[derive(Debug, Clone, Default)]
pub struct Journeys {
    names: Vec<String>,
    index: HashMap<String, ChannelId>,
    offsets: Vec<usize>,
    touch_channels: Vec<ChannelId>,
    touch_ages: Option<Vec<f64>>,
    milestones: Vec<Milestones>,
    conversions: Vec<f64>,
    values: Vec<f64>,
    nulls: Vec<f64>,
}

impl Journeys {
    /// An empty set; `with_times` says whether every journey will carry touch ages.
    pub fn new(with_times: bool) -> Journeys {
        Journeys { offsets: vec![0], touch_ages: with_times.then(Vec::new), ..Journeys::default() }
    }

    /// The id of channel `name`, interned on first use.
    pub fn channel_id(&mut self, name: &str) -> ChannelId {
        if let Some(&id) = self.index.get(name) {
            return id;
        }
        let id = ChannelId::try_from(self.names.len()).unwrap_or(ChannelId::MAX);
        self.names.push(name.to_owned());
        self.index.insert(name.to_owned(), id);
        id
    }

    /// Adds one journey. `ages_days` must be given exactly when the set was made `with_times`.
    ///
    /// Errors (with the journey's position) on an empty journey, a negative or non-finite count
    /// or value, ages of the wrong length, or a milestone beyond the last touch.
    pub fn push(
        &mut self,
        channels: &[ChannelId],
        ages_days: Option<&[f64]>,
        milestones: Milestones,
        conversions: f64,
        value: f64,
        nulls: f64,
    ) -> Result<(), AttributionError> {
        let journey = self.len();
        let invalid = |reason: String| AttributionError::InvalidJourney { journey, reason };
        if channels.is_empty() {
            return Err(invalid("it has no touchpoints".into()));
        }
        if let Some(&bad) = channels.iter().find(|&&c| c as usize >= self.names.len()) {
            return Err(invalid(format!("channel id {bad} was never interned")));
        }
        for (what, x) in [("conversions", conversions), ("non-conversions", nulls)] {
            if !(x.is_finite() && x >= 0.0) {
                return Err(invalid(format!("{what} must be a finite number ≥ 0, not {x}")));
            }
        }
        if !(value.is_finite() && value >= 0.0) {
            return Err(invalid(format!("value must be a finite number ≥ 0, not {value}")));
        }
        if value > 0.0 && conversions == 0.0 {
            return Err(invalid(format!("a value of {value} needs conversions to carry it")));
        }
        for m in [milestones.lead, milestones.opportunity].into_iter().flatten() {
            if m as usize >= channels.len() {
                return Err(invalid(format!(
                    "milestone touch {m} is beyond its {} touches",
                    channels.len()
                )));
            }
        }
        match (&mut self.touch_ages, ages_days) {
            (Some(all), Some(ages)) if ages.len() == channels.len() => {
                if let Some(bad) = ages.iter().find(|a| !(a.is_finite() && **a >= 0.0)) {
                    return Err(invalid(format!(
                        "touch age must be a finite number of days ≥ 0, not {bad}"
                    )));
                }
                all.extend_from_slice(ages);
            }
            (Some(_), Some(ages)) => {
                return Err(invalid(format!("{} ages for {} touches", ages.len(), channels.len())));
            }
            (Some(_), None) => {
                return Err(invalid("the set has touch times but this journey has none".into()));
            }
            (None, Some(_)) => {
                return Err(invalid("the set has no touch times but this journey has some".into()));
            }
            (None, None) => {}
        }
        self.touch_channels.extend_from_slice(channels);
        self.offsets.push(self.touch_channels.len());
        self.milestones.push(milestones);
        self.conversions.push(conversions);
        self.values.push(value);
        self.nulls.push(nulls);
        Ok(())
    }

    /// Adds one journey given by channel names, without times or milestones.
    pub fn push_named<'n>(
        &mut self,
        channels: impl IntoIterator<Item = &'n str>,
        conversions: f64,
        value: f64,
        nulls: f64,
    ) -> Result<(), AttributionError> {
        let ids: Vec<ChannelId> = channels.into_iter().map(|c| self.channel_id(c)).collect();
        self.push(&ids, None, Milestones::default(), conversions, value, nulls)
    }

    /// Number of journeys (an aggregated path counts once).
    pub fn len(&self) -> usize {
        self.conversions.len()
    }

    pub fn is_empty(&self) -> bool {
        self.conversions.is_empty()
    }

    /// The channel names, indexed by [`ChannelId`].
    pub fn channels(&self) -> &[String] {
        &self.names
    }

    /// Whether the journeys carry touch times (needed by time decay).
    pub fn has_times(&self) -> bool {
        self.touch_ages.is_some()
    }

    /// Whether any journey knows where its lead or opportunity was created.
    pub fn has_milestones(&self) -> bool {
        self.milestones.iter().any(|m| m.lead.is_some() || m.opportunity.is_some())
    }

    /// Journey `i`.
    pub fn get(&self, i: usize) -> Journey<'_> {
        let range = self.offsets[i]..self.offsets[i + 1];
        Journey {
            channels: &self.touch_channels[range.clone()],
            ages_days: self.touch_ages.as_ref().map(|a| &a[range]),
            milestones: self.milestones[i],
            conversions: self.conversions[i],
            value: self.values[i],
            nulls: self.nulls[i],
        }
    }

    /// Every journey, in the order they were added.
    pub fn iter(&self) -> impl Iterator<Item = Journey<'_>> + '_ {
        (0..self.len()).map(|i| self.get(i))
    }

    /// Total conversions over all journeys.
    pub fn total_conversions(&self) -> f64 {
        self.conversions.iter().sum()
    }

    /// Total conversion value over all journeys.
    pub fn total_value(&self) -> f64 {
        self.values.iter().sum()
    }

    /// Total non-converting journeys.
    pub fn total_nulls(&self) -> f64 {
        self.nulls.iter().sum()
    }

    /// Total touches over all journeys.
    pub fn total_touches(&self) -> usize {
        self.touch_channels.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn interns_channels_and_keeps_journeys_in_order() {
        let mut j = Journeys::new(false);
        j.push_named(["a", "b", "a"], 1.0, 2.5, 3.0).unwrap();
        j.push_named(["c"], 0.0, 0.0, 1.0).unwrap();
        assert_eq!(j.channels(), ["a", "b", "c"]);
        assert_eq!(j.len(), 2);
        assert_eq!(j.get(0).channels, [0, 1, 0]);
        assert_eq!(j.get(1).channels, [2]);
        assert_eq!(j.total_conversions(), 1.0);
        assert_eq!(j.total_nulls(), 4.0);
        assert_eq!(j.total_touches(), 4);
    }

    #[test]
    fn rejects_bad_journeys_with_their_position() {
        let mut j = Journeys::new(true);
        let a = j.channel_id("a");
        let err = j.push(&[], Some(&[]), Milestones::default(), 1.0, 0.0, 0.0).unwrap_err();
        assert_eq!(err.to_string(), "journey 1: it has no touchpoints");
        let err = j.push(&[a], None, Milestones::default(), 1.0, 0.0, 0.0).unwrap_err();
        assert!(err.to_string().contains("has touch times"), "{err}");
        let err = j.push(&[a], Some(&[1.0]), Milestones::default(), -1.0, 0.0, 0.0).unwrap_err();
        assert!(err.to_string().contains("conversions must be"), "{err}");
        let m = Milestones { lead: Some(3), opportunity: None, known: true };
        let err = j.push(&[a], Some(&[1.0]), m, 1.0, 0.0, 0.0).unwrap_err();
        assert!(err.to_string().contains("beyond"), "{err}");
        j.push(&[a], Some(&[1.0]), Milestones::default(), 1.0, 0.0, 0.0).unwrap();
        assert_eq!(j.get(0).ages_days, Some(&[1.0][..]));
    }
}
