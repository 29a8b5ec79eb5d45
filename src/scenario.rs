//! The scenario file format (`fixtures/tpp-demo.json`): training centres, needs and offers
//! as one JSON object, with enum values written without their API prefix and dates as
//! whole days after the import instant T0 (see `fixtures/README.md`).
//!
//! This module only parses and checks the file's own consistency (unique refs, centre refs
//! that resolve, DELIVERY-only keys present exactly on DELIVERY offers). It knows nothing
//! of the store or of protobuf: `lcm import` and `serve --demo` map these records onto
//! service requests, and [`Scenario::to_match_input`] maps them onto the matching engine's
//! input for tests and demos (ids = refs).

use crate::domain::{Alpha3, CapabilityArea, Day, DeliveryMode, Language, NeedSpec, OfferRole, SupportCategory};
use crate::matching::input::{CentreRef, DeliveryTerms, Few, MatchInput, NeedInput, OfferInput};
use serde::Deserialize;
use std::collections::{BTreeMap, BTreeSet};

/// A whole scenario file.
#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Scenario {
    pub description: String,
    pub training_centres: Vec<ScenarioCentre>,
    pub needs: Vec<ScenarioNeed>,
    pub offers: Vec<ScenarioOffer>,
}

/// A training centre record.
#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScenarioCentre {
    #[serde(rename = "ref")]
    pub reference: String,
    pub name: String,
    pub host_state: Alpha3,
    pub languages: Vec<Language>,
    pub capabilities: Vec<CapabilityArea>,
    pub un_recognized: bool,
}

/// A need record: a need's fields under their own names, `needed_by` as `needed_by_days`
/// (whole days after T0); `pledge_ref` and `mission` may be absent, `pledge_level` may not.
#[derive(Clone, Debug, PartialEq, Deserialize)]
pub struct ScenarioNeed {
    #[serde(rename = "ref")]
    pub reference: String,
    #[serde(flatten)]
    pub spec: NeedSpec<i64>,
    /// Keys the format does not have (reported by [`Scenario::problems`]: serde cannot
    /// refuse unknown keys beside a flattened struct).
    #[serde(flatten)]
    pub unknown: BTreeMap<String, serde_json::Value>,
}

/// An offer record of either role; the DELIVERY-only keys are `None` on FUNDING offers.
#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScenarioOffer {
    #[serde(rename = "ref")]
    pub reference: String,
    pub providers: Vec<Alpha3>,
    pub role: OfferRole,
    pub category: SupportCategory,
    pub capability: CapabilityArea,
    pub title: String,
    pub description: String,
    pub capacity: u32,
    pub available_from_days: i64,
    pub available_until_days: i64,
    pub eligible_recipients: Vec<Alpha3>,
    pub excluded_recipients: Vec<Alpha3>,
    #[serde(default)]
    pub max_per_recipient: u32,
    #[serde(default)]
    pub women_only: Option<bool>,
    #[serde(default)]
    pub languages: Option<Vec<Language>>,
    #[serde(default)]
    pub mode: Option<DeliveryMode>,
    #[serde(default)]
    pub training_centre: Option<String>,
    #[serde(default)]
    pub duration_days: Option<i64>,
    #[serde(default)]
    pub requires_funding: Option<bool>,
}

impl Scenario {
    /// Parses a scenario file and checks its internal consistency.
    pub fn from_json(text: &str) -> Result<Scenario, String> {
        let scenario: Scenario = serde_json::from_str(text).map_err(|e| format!("scenario file: {e}"))?;
        let problems = scenario.problems();
        if problems.is_empty() { Ok(scenario) } else { Err(format!("scenario file: {}", problems.join("; "))) }
    }

    /// Every consistency problem of the file (empty when it is usable).
    pub fn problems(&self) -> Vec<String> {
        let mut problems = Vec::new();
        let mut seen = BTreeSet::new();
        for c in &self.training_centres {
            if !seen.insert(c.reference.as_str()) {
                problems.push(format!("training centre ref {:?} is repeated", c.reference));
            }
        }
        let mut seen = BTreeSet::new();
        for n in &self.needs {
            if !seen.insert(n.reference.as_str()) {
                problems.push(format!("need ref {:?} is repeated", n.reference));
            }
            if let Some(key) = n.unknown.keys().next() {
                problems.push(format!("need {:?}: unknown key {key:?}", n.reference));
            }
            if n.spec.pledge_level.is_none() {
                problems.push(format!("need {:?}: pledge_level is missing", n.reference));
            }
            if n.spec.women_quantity > n.spec.quantity {
                problems.push(format!("need {:?}: women_quantity exceeds quantity", n.reference));
            }
        }
        let mut seen = BTreeSet::new();
        for o in &self.offers {
            if !seen.insert(o.reference.as_str()) {
                problems.push(format!("offer ref {:?} is repeated", o.reference));
            }
            if o.providers.is_empty() {
                problems.push(format!("offer {:?} has no provider", o.reference));
            }
            let delivery_keys = [
                o.women_only.is_some(),
                o.languages.is_some(),
                o.mode.is_some(),
                o.duration_days.is_some(),
                o.requires_funding.is_some(),
            ];
            match o.role {
                OfferRole::Delivery => {
                    if delivery_keys.iter().any(|present| !present) {
                        problems.push(format!(
                            "DELIVERY offer {:?} lacks one of women_only, languages, mode, duration_days, requires_funding",
                            o.reference
                        ));
                    }
                    let at_centre = o.mode == Some(DeliveryMode::AtTrainingCentre);
                    match &o.training_centre {
                        Some(c) if !at_centre => problems
                            .push(format!("offer {:?} names centre {c:?} but is not AT_TRAINING_CENTRE", o.reference)),
                        None if at_centre => {
                            problems.push(format!("offer {:?} is AT_TRAINING_CENTRE but names no centre", o.reference))
                        }
                        Some(c) if self.centre(c).is_none() => {
                            problems.push(format!("offer {:?} names unknown centre {c:?}", o.reference))
                        }
                        _ => {}
                    }
                }
                OfferRole::Funding => {
                    if delivery_keys.iter().any(|present| *present) || o.training_centre.is_some() {
                        problems.push(format!("FUNDING offer {:?} sets a DELIVERY-only key", o.reference));
                    }
                }
            }
        }
        problems
    }

    /// The centre with this ref.
    pub fn centre(&self, reference: &str) -> Option<&ScenarioCentre> {
        self.training_centres.iter().find(|c| c.reference == reference)
    }

    /// The engine's input for the freshly imported scenario: day `t0` is both "today" and
    /// the origin of every `*_days` field; ids are the refs; nothing is reserved.
    pub fn to_match_input(&self, t0: Day) -> MatchInput {
        let needs = self
            .needs
            .iter()
            .map(|ScenarioNeed { reference, spec: n, .. }| NeedInput {
                id: reference.clone(),
                requester: n.requester,
                category: n.category,
                capability: n.capability,
                quantity: n.quantity,
                women_quantity: n.women_quantity,
                consumed: 0,
                consumed_women: 0,
                languages: n.languages.clone(),
                needed_by: t0.saturating_add(n.needed_by),
                priority: n.priority,
                accepted_modes: n.accepted_modes.clone(),
                withdrawn: false,
            })
            .collect();
        let offers = self
            .offers
            .iter()
            .map(|o| OfferInput {
                id: o.reference.clone(),
                title: o.title.as_str().into(),
                providers: Few::from_slice(&o.providers),
                role: o.role,
                category: o.category,
                capability: o.capability,
                capacity: o.capacity,
                consumed: 0,
                available_from: t0.saturating_add(o.available_from_days),
                available_until: t0.saturating_add(o.available_until_days),
                eligible_recipients: Few::from_slice(&o.eligible_recipients),
                excluded_recipients: Few::from_slice(&o.excluded_recipients),
                max_per_recipient: o.max_per_recipient,
                delivery: match o.role {
                    OfferRole::Funding => None,
                    OfferRole::Delivery => Some(DeliveryTerms {
                        languages: o.languages.as_deref().map(Few::from_slice).unwrap_or_default(),
                        mode: o.mode.unwrap_or(DeliveryMode::AtProvider),
                        training_centre: o.training_centre.as_ref().and_then(|c| {
                            self.centre(c).map(|centre| {
                                std::sync::Arc::new(CentreRef {
                                    id: centre.reference.clone(),
                                    name: centre.name.clone(),
                                    host_state: centre.host_state,
                                })
                            })
                        }),
                        duration_days: o.duration_days.unwrap_or(1),
                        women_only: o.women_only.unwrap_or(false),
                        requires_funding: o.requires_funding.unwrap_or(false),
                    }),
                },
                withdrawn: false,
            })
            .collect();
        MatchInput {
            today: t0,
            needs,
            offers,
            recipient_consumption: Vec::new(),
            barred: Vec::new(),
            capabilities: Vec::new(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Scenario;

    fn with_need(need: &str) -> Result<Scenario, String> {
        Scenario::from_json(&format!(
            r#"{{"description": "", "training_centres": [], "offers": [], "needs": [{{"ref": "n1",
            "requester": "UGA", "category": "TRAINING", "capability": "ENGINEERING", "title": "t",
            "description": "", "quantity": 4, "women_quantity": 1, "languages": ["en"],
            "priority": "HIGH", "accepted_modes": []{need}}}]}}"#
        ))
    }

    #[test]
    fn a_need_reads_needed_by_days_and_refuses_unknown_or_missing_keys() {
        let s = with_need(r#", "needed_by_days": 30, "pledge_level": "LEVEL_1""#).unwrap_or_else(|e| panic!("{e}"));
        let n = &s.needs[0];
        assert_eq!((n.reference.as_str(), n.spec.needed_by, n.spec.quantity), ("n1", 30, 4));
        assert_eq!((n.spec.pledge_ref.as_str(), n.spec.mission.as_str()), ("", ""), "absent optional keys");
        let refused = |extra: &str, why: &str| {
            let e = with_need(extra).err().unwrap_or_else(|| panic!("{extra} was accepted"));
            assert!(e.contains(why), "{extra}: {e}");
        };
        refused(r#", "needed_by_days": 30, "pledge_level": "LEVEL_1", "colour": 1"#, r#"unknown key "colour""#);
        refused(r#", "needed_by": 30, "pledge_level": "LEVEL_1""#, "needed_by_days");
        refused(r#", "needed_by_days": 30"#, "pledge_level is missing");
        refused(r#", "needed_by_days": "soon", "pledge_level": "LEVEL_1""#, "scenario file");
    }
}
