//! Command-line spelling of the API's enums: the API names without their prefix
//! (`MEDICAL` for `CAPABILITY_AREA_MEDICAL`), case-insensitive, as API.md writes them.
//!
//! One macro implements `clap::ValueEnum` for each generated enum, deriving the prefix
//! from the enum's `_UNSPECIFIED` value, so `--help` lists the valid values and the
//! `UNSPECIFIED` value can never be given.

use crate::api;
use clap::builder::PossibleValue;
use std::sync::OnceLock;

/// A generated protobuf enum whose values carry a SCREAMING_SNAKE prefix.
pub trait ApiEnum: Sized + Copy + 'static {
    /// The prefix of every value's name, e.g. `"CAPABILITY_AREA_"`.
    fn prefix() -> &'static str;
    /// The full protobuf name, e.g. `"CAPABILITY_AREA_MEDICAL"`.
    fn full_name(&self) -> &'static str;

    /// The API name without the prefix, e.g. `"MEDICAL"`.
    fn api_name(&self) -> &'static str {
        let full = self.full_name();
        full.strip_prefix(Self::prefix()).unwrap_or(full)
    }
}

macro_rules! api_enums {
    ($($name:ident),+ $(,)?) => {$(
        impl ApiEnum for api::$name {
            fn prefix() -> &'static str {
                api::$name::try_from(0)
                    .map(|v| v.as_str_name().trim_end_matches("UNSPECIFIED"))
                    .unwrap_or("")
            }
            fn full_name(&self) -> &'static str {
                self.as_str_name()
            }
        }

        impl clap::ValueEnum for api::$name {
            fn value_variants<'a>() -> &'a [Self] {
                static ALL: OnceLock<Vec<api::$name>> = OnceLock::new();
                ALL.get_or_init(|| (1..=255).filter_map(|n| api::$name::try_from(n).ok()).collect())
            }
            fn to_possible_value(&self) -> Option<PossibleValue> {
                Some(PossibleValue::new(self.api_name()))
            }
        }
    )+};
}

api_enums!(
    SupportCategory,
    CapabilityArea,
    Priority,
    ReadinessLevel,
    DeliveryMode,
    OfferRole,
    NeedState,
    OfferState,
    MatchState,
    ArrangementStatus,
    ConsentDecision,
    PrincipalKind,
    GapGrouping,
    EventKind,
);

/// Parses an API name without its prefix (`"MEDICAL"`), as the scenario file writes it.
pub fn parse_api_enum<E: ApiEnum + clap::ValueEnum>(text: &str) -> Result<E, String> {
    <E as clap::ValueEnum>::from_str(text, false).map_err(|_| {
        let valid: Vec<&str> = E::value_variants().iter().map(|v| v.api_name()).collect();
        format!("{text:?} is not one of {}", valid.join(", "))
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::ValueEnum;

    #[test]
    fn names_drop_the_prefix_and_unspecified_is_not_offered() {
        assert_eq!(api::CapabilityArea::prefix(), "CAPABILITY_AREA_");
        assert_eq!(api::CapabilityArea::Medical.api_name(), "MEDICAL");
        assert_eq!(api::ReadinessLevel::Level2.api_name(), "LEVEL_2");
        assert_eq!(api::CapabilityArea::value_variants().len(), 15);
        assert!(!api::EventKind::value_variants().contains(&api::EventKind::Unspecified));
    }

    #[test]
    fn parses_api_names_and_rejects_others() {
        assert_eq!(parse_api_enum::<api::DeliveryMode>("AT_TRAINING_CENTRE"), Ok(api::DeliveryMode::AtTrainingCentre));
        assert!(parse_api_enum::<api::Priority>("UNSPECIFIED").is_err());
        assert!(parse_api_enum::<api::Priority>("PRIORITY_HIGH").is_err());
        let err = parse_api_enum::<api::OfferRole>("LENDING").expect_err("not a role");
        assert!(err.contains("DELIVERY, FUNDING"), "{err}");
        assert_eq!(api::Priority::from_str("critical", true), Ok(api::Priority::Critical));
    }
}
