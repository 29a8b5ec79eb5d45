//! Message catalogues, one per language, and how a request picks its language.
//!
//! Every label, button and message of the console comes from here; a key missing from a
//! catalogue falls back to the key itself, which `catalogues_have_the_same_keys` forbids.

pub use super::catalogue_en::{EN, ENUMS_EN};
pub use super::catalogue_fr::{ENUMS_FR, FR};
use std::collections::HashMap;
use std::sync::LazyLock;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Lang {
    En,
    Fr,
}

impl Lang {
    pub fn code(self) -> &'static str {
        match self {
            Lang::En => "en",
            Lang::Fr => "fr",
        }
    }

    pub fn parse(code: &str) -> Option<Lang> {
        match code.trim().to_ascii_lowercase().as_str() {
            "en" => Some(Lang::En),
            "fr" => Some(Lang::Fr),
            _ => None,
        }
    }

    /// The first language of an `Accept-Language` header that the console speaks.
    pub fn from_accept_language(header: &str) -> Option<Lang> {
        let mut ranked: Vec<(f32, Lang)> = header
            .split(',')
            .filter_map(|part| {
                let mut it = part.split(';');
                let tag = it.next()?.trim();
                let q = it.find_map(|p| p.trim().strip_prefix("q=").and_then(|q| q.parse::<f32>().ok())).unwrap_or(1.0);
                let primary = tag.split('-').next()?;
                Lang::parse(primary).map(|l| (q, l))
            })
            .collect();
        ranked.sort_by(|a, b| b.0.total_cmp(&a.0));
        ranked.first().map(|(_, l)| *l)
    }

    /// The other language, for the switch link.
    pub fn other(self) -> Lang {
        match self {
            Lang::En => Lang::Fr,
            Lang::Fr => Lang::En,
        }
    }
}

static TABLES: LazyLock<[HashMap<&'static str, &'static str>; 2]> =
    LazyLock::new(|| [EN.iter().chain(ENUMS_EN).copied().collect(), FR.iter().chain(ENUMS_FR).copied().collect()]);

/// The name people read for an API enum value (`ARRANGEMENT_STATUS_PENDING_CONSENT` →
/// "Pending consent" / "En attente de consentement"); a value the catalogues do not know
/// (a newer server's) is shown as its API name.
pub fn label(lang: Lang, api_name: &str) -> String {
    TABLES[lang as usize].get(api_name).map_or_else(|| api_name.to_string(), |s| (*s).to_string())
}

/// The colon after a label: French typography puts a no-break space before it
/// ("Refusé : …"), English none ("Refused: …").
pub fn colon(lang: Lang) -> &'static str {
    match lang {
        Lang::En => ":",
        Lang::Fr => "\u{a0}:",
    }
}

/// The semicolon between two parts of a sentence: French puts a no-break space before it.
pub fn semicolon(lang: Lang) -> &'static str {
    match lang {
        Lang::En => ";",
        Lang::Fr => "\u{a0};",
    }
}

/// French text typeset as French typography wants it: a no-break space (not a plain one)
/// before `:`, `;`, `?` and `!` and inside « », so a line never starts with one of them.
pub fn typeset_fr(text: &str) -> String {
    let mut out = text.to_string();
    for (plain, fixed) in [
        (" :", "\u{a0}:"),
        (" ;", "\u{a0};"),
        (" ?", "\u{a0}?"),
        (" !", "\u{a0}!"),
        ("« ", "«\u{a0}"),
        (" »", "\u{a0}»"),
    ] {
        out = out.replace(plain, fixed);
    }
    out
}

/// The text of `key` in `lang` (the key itself if a catalogue lacks it).
pub fn t(lang: Lang, key: &'static str) -> &'static str {
    let table = &TABLES[lang as usize];
    table.get(key).copied().unwrap_or(key)
}

#[cfg(test)]
#[path = "i18n_tests.rs"]
mod tests;
