//! Reference values of the mechanism: enums, member-state and language codes, days.
//!
//! Every type here can only hold a valid value: an [`Alpha3`] is one of the 193 UN
//! member states, a [`Language`] is two lower-case ASCII letters. Parsing happens once,
//! at the boundary; everything past it works with these types. This module depends on
//! nothing but `std` and `serde`, so the matching engine can use it as a pure library.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// A whole UTC day counted from the Unix epoch.
pub type Day = i64;

/// Seconds in a day.
pub const SECONDS_PER_DAY: i64 = 86_400;

/// The day that contains `unix_seconds` (floor division, so times before 1970 work too).
pub fn day_of(unix_seconds: i64) -> Day {
    unix_seconds.div_euclid(SECONDS_PER_DAY)
}

const UN_MEMBER_STATES: &str = include_str!("un_member_states.txt");

/// An ISO 3166-1 alpha-3 code of one of the 193 UN member states.
///
/// Stored and sent as its three letters (serde: a string).
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Alpha3([u8; 3]);

/// The shipped list as sorted codes, for binary search (parsed once).
fn member_states() -> &'static [[u8; 3]] {
    static CODES: std::sync::OnceLock<Vec<[u8; 3]>> = std::sync::OnceLock::new();
    CODES.get_or_init(|| {
        let mut codes: Vec<[u8; 3]> = UN_MEMBER_STATES
            .split_ascii_whitespace()
            .filter_map(|c| <[u8; 3]>::try_from(c.as_bytes()).ok())
            .filter(|c| c.iter().all(u8::is_ascii_uppercase))
            .collect();
        codes.sort_unstable();
        codes
    })
}

impl Serialize for Alpha3 {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for Alpha3 {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Code;
        impl serde::de::Visitor<'_> for Code {
            type Value = Alpha3;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an ISO 3166-1 alpha-3 code of a UN member state")
            }
            fn visit_str<E: serde::de::Error>(self, s: &str) -> Result<Alpha3, E> {
                s.parse().map_err(E::custom)
            }
        }
        deserializer.deserialize_str(Code)
    }
}

impl Alpha3 {
    /// The code as text.
    pub fn as_str(&self) -> &str {
        // Only ASCII upper-case letters are ever stored (checked in `from_str`).
        std::str::from_utf8(&self.0).unwrap_or("???")
    }

    /// Every member state, in the order of the shipped list.
    pub fn all() -> impl Iterator<Item = Alpha3> {
        UN_MEMBER_STATES.split_ascii_whitespace().filter_map(|code| code.parse().ok())
    }
}

impl FromStr for Alpha3 {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        let bytes = s.as_bytes();
        match <[u8; 3]>::try_from(bytes) {
            Ok(code) if member_states().binary_search(&code).is_ok() => Ok(Alpha3(code)),
            _ => Err(format!("{s:?} is not the ISO 3166-1 alpha-3 code of a UN member state")),
        }
    }
}

impl Alpha3 {
    #[cfg(test)]
    fn parse_slow(s: &str) -> Option<Alpha3> {
        let bytes = s.as_bytes();
        if bytes.len() == 3
            && bytes.iter().all(u8::is_ascii_uppercase)
            && UN_MEMBER_STATES.split_ascii_whitespace().any(|c| c == s)
        {
            Some(Alpha3([bytes[0], bytes[1], bytes[2]]))
        } else {
            None
        }
    }
}

impl TryFrom<String> for Alpha3 {
    type Error = String;
    fn try_from(s: String) -> Result<Self, String> {
        s.parse()
    }
}

impl From<Alpha3> for String {
    fn from(a: Alpha3) -> String {
        a.as_str().to_string()
    }
}

impl fmt::Display for Alpha3 {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl fmt::Debug for Alpha3 {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An ISO 639-1 language code: two lower-case ASCII letters.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Language([u8; 2]);

impl Language {
    pub fn as_str(&self) -> &str {
        std::str::from_utf8(&self.0).unwrap_or("??")
    }
}

impl FromStr for Language {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        let b = s.as_bytes();
        if b.len() == 2 && b.iter().all(u8::is_ascii_lowercase) {
            Ok(Language([b[0], b[1]]))
        } else {
            Err(format!("{s:?} is not an ISO 639-1 language code (two lower-case letters)"))
        }
    }
}

impl TryFrom<String> for Language {
    type Error = String;
    fn try_from(s: String) -> Result<Self, String> {
        s.parse()
    }
}

impl From<Language> for String {
    fn from(l: Language) -> String {
        l.as_str().to_string()
    }
}

impl fmt::Display for Language {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl fmt::Debug for Language {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Declares a closed enum with its API names (without the SCREAMING_SNAKE prefix).
macro_rules! api_enum {
    ($(#[$m:meta])* $name:ident { $($variant:ident = $text:literal),+ $(,)? }) => {
        $(#[$m])*
        #[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Debug, Serialize, Deserialize)]
        pub enum $name {
            $(#[serde(rename = $text)] $variant),+
        }

        impl $name {
            /// Every value, in declaration order.
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            /// The API name without the enum prefix, e.g. `"MEDICAL"`.
            pub fn as_str(&self) -> &'static str {
                match self { $($name::$variant => $text),+ }
            }
        }

        impl FromStr for $name {
            type Err = String;
            fn from_str(s: &str) -> Result<Self, String> {
                match s {
                    $($text => Ok($name::$variant),)+
                    _ => Err(format!("{s:?} is not a {}", stringify!($name))),
                }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

api_enum!(
    /// What kind of support a need asks for or an offer gives.
    SupportCategory {
        Training = "TRAINING",
        Equipment = "EQUIPMENT",
        Mentoring = "MENTORING",
        AdviseAndAssist = "ADVISE_AND_ASSIST",
        Infrastructure = "INFRASTRUCTURE",
        Logistics = "LOGISTICS",
    }
);

impl SupportCategory {
    /// Whether needs of this category may reserve seats for women.
    pub fn has_women_seats(&self) -> bool {
        matches!(self, SupportCategory::Training | SupportCategory::Mentoring | SupportCategory::AdviseAndAssist)
    }
}

api_enum!(
    /// The military or police capability a need or offer concerns.
    CapabilityArea {
        Engineering = "ENGINEERING",
        Medical = "MEDICAL",
        CounterIed = "COUNTER_IED",
        Aviation = "AVIATION",
        SignalsC4isr = "SIGNALS_C4ISR",
        CampSecurity = "CAMP_SECURITY",
        RapidReaction = "RAPID_REACTION",
        SituationalAwareness = "SITUATIONAL_AWARENESS",
        FormedPoliceUnit = "FORMED_POLICE_UNIT",
        IndividualPolice = "INDIVIDUAL_POLICE",
        ProtectionOfCivilians = "PROTECTION_OF_CIVILIANS",
        ConductAndDiscipline = "CONDUCT_AND_DISCIPLINE",
        StaffAndObservers = "STAFF_AND_OBSERVERS",
        Language = "LANGUAGE",
        TrainingOfTrainers = "TRAINING_OF_TRAINERS",
    }
);

api_enum!(
    /// How urgent a need is. Ordered: `Routine < High < Critical`.
    Priority {
        Routine = "ROUTINE",
        High = "HIGH",
        Critical = "CRITICAL",
    }
);

api_enum!(
    /// The PCRS readiness level a need supports.
    ReadinessLevel {
        Level1 = "LEVEL_1",
        Level2 = "LEVEL_2",
        Level3 = "LEVEL_3",
        RapidDeployment = "RAPID_DEPLOYMENT",
    }
);

api_enum!(
    /// Where a delivery takes place.
    DeliveryMode {
        MobileTrainingTeam = "MOBILE_TRAINING_TEAM",
        AtProvider = "AT_PROVIDER",
        AtTrainingCentre = "AT_TRAINING_CENTRE",
        Remote = "REMOTE",
    }
);

api_enum!(
    /// Whether an offer gives seats or pays for them.
    OfferRole {
        Delivery = "DELIVERY",
        Funding = "FUNDING",
    }
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ships_exactly_193_distinct_member_states() {
        let all: std::collections::BTreeSet<Alpha3> = Alpha3::all().collect();
        assert_eq!(all.len(), 193);
        assert_eq!(Alpha3::all().count(), 193);
    }

    #[test]
    fn fast_alpha3_parsing_agrees_with_the_list_on_every_three_letter_string() {
        let letters = b"ABCDEFGHIJKLMNOPQRSTUVWXYZa";
        for a in letters {
            for b in letters {
                for c in letters {
                    let s = String::from_utf8(vec![*a, *b, *c]).unwrap();
                    assert_eq!(s.parse::<Alpha3>().ok(), Alpha3::parse_slow(&s), "{s}");
                }
            }
        }
        for s in ["", "UG", "UGAN", "ÜGA", "uga"] {
            assert!(s.parse::<Alpha3>().is_err() && Alpha3::parse_slow(s).is_none(), "{s}");
        }
    }

    #[test]
    fn alpha3_round_trips_through_the_store_encoding() {
        let uga: Alpha3 = "UGA".parse().unwrap();
        let bytes = bincode::serde::encode_to_vec(uga, bincode::config::standard()).unwrap();
        let back: Alpha3 = bincode::serde::decode_from_slice(&bytes, bincode::config::standard()).unwrap().0;
        assert_eq!(back, uga);
        let bad = bincode::serde::encode_to_vec("XXX", bincode::config::standard()).unwrap();
        assert!(bincode::serde::decode_from_slice::<Alpha3, _>(&bad, bincode::config::standard()).is_err());
    }

    #[test]
    fn alpha3_rejects_non_members_and_bad_shapes() {
        assert!("UGA".parse::<Alpha3>().is_ok());
        for bad in ["uga", "XXX", "UG", "UGAA", "", "TWN", "PSE", "VAT"] {
            assert!(bad.parse::<Alpha3>().is_err(), "{bad} accepted");
        }
    }

    #[test]
    fn language_requires_two_lowercase_letters() {
        assert!("fr".parse::<Language>().is_ok());
        for bad in ["FR", "fra", "f", "", "f1", "é"] {
            assert!(bad.parse::<Language>().is_err(), "{bad} accepted");
        }
    }

    #[test]
    fn enums_round_trip_through_their_api_names() {
        for c in CapabilityArea::ALL {
            assert_eq!(c.as_str().parse::<CapabilityArea>(), Ok(*c));
        }
        assert!(Priority::Critical > Priority::High && Priority::High > Priority::Routine);
    }

    #[test]
    fn day_of_floors() {
        assert_eq!(day_of(0), 0);
        assert_eq!(day_of(86_399), 0);
        assert_eq!(day_of(86_400), 1);
        assert_eq!(day_of(-1), -1);
    }
}
