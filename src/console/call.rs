//! What a refused service call means for a page: not found (the same 404 whether the
//! resource is missing or not readable), or a message in plain words with the field
//! violations of its BadRequest details mapped back onto form fields.

use super::i18n::Lang;
use tonic::{Code, Status};
use tonic_types::StatusExt;

pub struct Refusal {
    /// The page's language, which [`Refusal::plain`] punctuates by.
    pub lang: Lang,
    pub message: String,
    /// (form field, message): `need.languages[1]` becomes `languages`.
    pub fields: Vec<(String, String)>,
}

/// Whether a read's refusal should show the not-found page.
pub fn is_not_found(status: &Status) -> bool {
    matches!(status.code(), Code::NotFound | Code::PermissionDenied)
}

pub fn refusal(lang: Lang, status: &Status) -> Refusal {
    let fields = status
        .get_details_bad_request()
        .map(|b| {
            b.field_violations
                .into_iter()
                .map(|v| (form_field(&v.field), service_message(lang, &v.description)))
                .collect()
        })
        .unwrap_or_default();
    Refusal { lang, message: service_message(lang, status.message()), fields }
}

/// The service's English validation and refusal messages (field violations, status
/// messages), in `lang`: the service speaks English, and a French page shows each message
/// through its French template ([`super::service_fr`]); a message no template knows stays
/// as it is.
pub fn service_message(lang: Lang, message: &str) -> String {
    match lang {
        Lang::En => message.to_string(),
        Lang::Fr => super::service_fr::translate(message).0,
    }
}

/// `need.languages[1]` → `languages`; `outcome.trained` → `trained`.
pub fn form_field(path: &str) -> String {
    let last = path.rsplit('.').next().unwrap_or(path);
    last.split('[').next().unwrap_or(last).to_string()
}

impl Refusal {
    pub fn field(&self, name: &str) -> Option<&str> {
        self.fields.iter().find(|(f, _)| f == name).map(|(_, m)| m.as_str())
    }

    /// Every field violation (or, without any, the message), for a page without a form
    /// to mark: the violations already say what the status message summarises.
    pub fn plain(&self) -> String {
        if self.fields.is_empty() {
            return self.message.clone();
        }
        let colon = super::i18n::colon(self.lang);
        self.fields.iter().map(|(f, m)| format!("{f}{colon} {m}")).collect::<Vec<_>>().join(" — ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn field_paths_map_to_form_fields() {
        assert_eq!(form_field("need.languages[1]"), "languages");
        assert_eq!(form_field("outcome.trained"), "trained");
        assert_eq!(form_field("reason"), "reason");
    }

    #[test]
    fn a_refusal_without_a_form_is_punctuated_in_its_language() {
        let fields = vec![("start".to_string(), "m".to_string()), ("end".to_string(), "n".to_string())];
        let fr = Refusal { lang: Lang::Fr, message: String::new(), fields: fields.clone() };
        assert_eq!(fr.plain(), "start\u{a0}: m — end\u{a0}: n");
        assert_eq!(Refusal { lang: Lang::En, message: String::new(), fields }.plain(), "start: m — end: n");
    }
}
