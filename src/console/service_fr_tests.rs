use super::*;
use std::path::{Path, PathBuf};

/// Which argument of a call is the message.
#[derive(Clone, Copy)]
enum Arg {
    Nth(usize),
    Last,
}

/// The calls that build a refusal's message (or a part of one), and which of their
/// arguments is the message. A marker ends just inside the call's opening bracket.
const CALLS: &[(&str, Arg)] = &[
    ("v.add(", Arg::Last),
    ("self.add(", Arg::Last),
    ("AppError::invalid(", Arg::Last),
    ("AppError::precondition(", Arg::Last),
    ("AppError::Unauthenticated(", Arg::Nth(0)),
    ("AppError::PermissionDenied(", Arg::Nth(0)),
    ("AppError::NotFound(", Arg::Nth(0)),
    ("AppError::ResourceExhausted(", Arg::Nth(0)),
    ("AppError::Overloaded(", Arg::Nth(0)),
    ("AppError::Unimplemented(", Arg::Nth(0)),
    ("AppError::Unavailable(", Arg::Nth(0)),
    ("AppError::StoreFailed(", Arg::Nth(0)),
    ("AppError::Internal(", Arg::Nth(0)),
    ("AppError::Cancelled(", Arg::Nth(0)),
    ("AppError::InvalidWithReason {", Arg::Last),
    ("Refusal::precondition(", Arg::Last),
    ("Refusal::invalid(", Arg::Last),
    ("Refusal::NotFound(", Arg::Nth(0)),
    ("Refusal::Inconsistent(", Arg::Nth(0)),
    ("refuse_withdrawn(", Arg::Last),
    ("Refusal::Denied(", Arg::Nth(0)),
    ("refuse_centres(", Arg::Last),
    ("#[error(", Arg::Nth(0)),
    ("Err(format!(", Arg::Nth(0)),
    ("Err(String::from(", Arg::Nth(0)),
    ("write!(f, ", Arg::Nth(0)),
    ("f.write_str(", Arg::Nth(0)),
    ("bad.push((", Arg::Last),
];

/// The engine's explanation sentences and the pieces written into them: their
/// `write!` calls (a formatter first) and the phrases they build.
const ENGINE_CALLS: &[(&str, Arg)] = &[("write!(", Arg::Nth(1)), ("format!(", Arg::Nth(0))];

/// The engine's files whose sentences a need's explanation shows.
const ENGINE_FILES: &[&str] = &["matching/rules.rs", "matching/funding_rules.rs", "matching/text.rs"];

/// The sources whose messages can reach a console page: every file of the services
/// and the domain, and the files that build or wrap their errors.
fn sources() -> Vec<(PathBuf, String)> {
    fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
        let mut entries: Vec<PathBuf> = std::fs::read_dir(dir).unwrap().map(|e| e.unwrap().path()).collect();
        entries.sort();
        for path in entries {
            if path.is_dir() {
                walk(&path, out);
            } else if path.extension().is_some_and(|e| e == "rs")
                // Unit tests in files of their own hold no messages of the service.
                && !path.file_stem().is_some_and(|s| s == "tests" || s.to_string_lossy().ends_with("_tests"))
            {
                out.push(path);
            }
        }
    }
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    walk(&src.join("service"), &mut files);
    walk(&src.join("domain"), &mut files);
    walk(&src.join("convert"), &mut files);
    for f in ["error.rs", "auth.rs", "admission.rs", "store/mod.rs", "matching/solution.rs", "console/pages/forms.rs"]
        .iter()
        .chain(ENGINE_FILES)
    {
        files.push(src.join(f));
    }
    files
        .into_iter()
        .map(|path| {
            let text = std::fs::read_to_string(&path).unwrap();
            // The unit tests' own strings are not messages.
            let code = text.split("\n#[cfg(test)]\nmod ").next().unwrap_or_default().to_string();
            (path, code)
        })
        .collect()
}

/// The text between the bracket that `from` is just inside of and its closing one.
fn bracketed(text: &str, from: usize) -> &str {
    let bytes = text.as_bytes();
    let mut depth = 1;
    let mut i = from;
    while i < bytes.len() {
        match bytes[i] {
            b'"' => i = end_of_literal(text, i),
            b'\'' if bytes.get(i + 2) == Some(&b'\'') => i += 2,
            b'\'' if bytes.get(i + 1) == Some(&b'\\') => i += text[i + 2..].find('\'').unwrap_or(0) + 2,
            b'(' | b'[' | b'{' => depth += 1,
            b')' | b']' | b'}' => {
                depth -= 1;
                if depth == 0 {
                    return &text[from..i];
                }
            }
            _ => {}
        }
        i += 1;
    }
    &text[from..]
}

/// The index of the closing quote of the literal opened at `open`.
fn end_of_literal(text: &str, open: usize) -> usize {
    let bytes = text.as_bytes();
    let mut i = open + 1;
    while i < bytes.len() {
        match bytes[i] {
            b'\\' => i += 2,
            b'"' => return i,
            _ => i += 1,
        }
    }
    i
}

/// The top-level arguments of an argument list.
fn arguments(list: &str) -> Vec<&str> {
    let bytes = list.as_bytes();
    let (mut out, mut depth, mut start, mut i) = (Vec::new(), 0, 0, 0);
    while i < bytes.len() {
        match bytes[i] {
            b'"' => i = end_of_literal(list, i),
            b'(' | b'[' | b'{' => depth += 1,
            b')' | b']' | b'}' => depth -= 1,
            b',' if depth == 0 => {
                out.push(list[start..i].trim());
                start = i + 1;
            }
            _ => {}
        }
        i += 1;
    }
    out.push(list[start..].trim());
    out.retain(|a| !a.is_empty());
    out
}

/// The first string literal of `arg`, unescaped, as a template: each `{…}` of a
/// format string becomes `{}`.
fn template(arg: &str) -> Option<String> {
    let open = arg.find('"')?;
    let close = end_of_literal(arg, open);
    let raw = &arg[open + 1..close];
    let mut text = String::new();
    let mut chars = raw.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' => match chars.next() {
                Some('\n') => {
                    while chars.peek().is_some_and(|c| c.is_whitespace()) {
                        chars.next();
                    }
                }
                Some('n') => text.push('\n'),
                Some('t') => text.push('\t'),
                Some(other) => text.push(other),
                None => {}
            },
            '{' if chars.peek() == Some(&'{') => {
                chars.next();
                text.push('{');
            }
            '}' if chars.peek() == Some(&'}') => {
                chars.next();
                text.push('}');
            }
            '{' => {
                for c in chars.by_ref() {
                    if c == '}' {
                        break;
                    }
                }
                text.push_str("{}");
            }
            c => text.push(c),
        }
    }
    Some(text)
}

/// Every message template of the sources, and the calls whose message is not a
/// literal (file, argument).
fn service_templates() -> (Vec<String>, Vec<(String, String)>) {
    let (mut found, mut forwarded) = (Vec::new(), Vec::new());
    for (path, code) in sources() {
        let file = path.file_name().unwrap().to_string_lossy().to_string();
        let engine = ENGINE_FILES.iter().any(|f| path.ends_with(f));
        let calls = CALLS.iter().chain(if engine { ENGINE_CALLS } else { &[] });
        if engine {
            // `"the need's deadline".to_string()`
            for (at, _) in code.match_indices("\".to_string()") {
                let open = code[..at].rfind('"').unwrap_or(at);
                if let Some(t) = template(&code[open..=at]).filter(|t| !found.contains(t)) {
                    found.push(t);
                }
            }
        }
        for (marker, which) in calls {
            for (at, _) in code.match_indices(marker) {
                let inside = bracketed(&code, at + marker.len());
                let args = if marker.ends_with('{') {
                    // A struct literal: its `message:` field, when it has one.
                    match inside.split_once("message:") {
                        Some((_, m)) => vec![m.split(',').next().unwrap_or_default().trim()],
                        None => continue,
                    }
                } else {
                    arguments(inside)
                };
                let arg = match which {
                    Arg::Nth(n) => args.get(*n).copied(),
                    Arg::Last => args.last().copied(),
                };
                let Some(arg) = arg else { continue };
                // A message written in pieces (`f.write_str("…: ")?` then a list).
                let template = template(arg).map(|t| if t.ends_with(": ") { t + "{}" } else { t });
                match template {
                    Some(t) if !found.contains(&t) => found.push(t),
                    Some(_) => {}
                    None => forwarded.push((file.clone(), arg.to_string())),
                }
            }
        }
    }
    (found, forwarded)
}

/// The calls whose message is not a literal, each of which forwards a message built
/// elsewhere that the sources' literals already cover (a parse error, a wrapped error,
/// a match pattern `_`, a helper's parameter). A new one must be looked at: added here
/// only once its message has a template.
const FORWARDED: &[(&str, &str)] = &[
    ("admin.rs", "e.to_string()"),
    ("propose.rs", "message"),
    ("propose.rs", "other.to_string()"),
    ("propose.rs", "_"),
    ("access.rs", "why.into()"),
    // `Violations::update_mask`: each resource's `check_path` refusal, a literal.
    ("mod.rs", "why"),
    ("mod.rs", "id.render(kind)"),
    ("arrangements.rs", "id.render(Kind::Arrangement)"),
    // `check_open`: each `refuse_withdrawn("…")` is a literal.
    ("filing.rs", "message"),
    ("access.rs", "why: &str"),
    ("types.rs", "self.as_str()"),
    // `JoinOr`: language and mode codes (`en`, `AT_PROVIDER`), values, not messages.
    ("text.rs", "item.code()"),
    ("text.rs", "last.code()"),
    ("mod.rs", "e"),
    ("error.rs", "_"),
    ("error.rs", "e.to_string()"),
    // `From<Refusal> for AppError`: a domain refusal's own message, passed on.
    ("error.rs", "what"),
    ("error.rs", "why"),
];

/// A template with `{}` filled by a sample value; the list of violations of an
/// INVALID_ARGUMENT status is filled with a real one.
fn instance(template: &str) -> String {
    if template == "invalid request: {}" {
        return "invalid request: need.title: is required; need.quantity: must be between 1 and 100000; and 2 more"
            .to_string();
    }
    template.replace("{}", "Q7")
}

/// Whether a template is prose (a message) rather than a value or a bare wrapper
/// ("PENDING_CONSENT", "MEMBER_STATE {}", "{}", "{} {}").
fn is_prose(template: &str) -> bool {
    template
        .split(|c: char| !c.is_ascii_alphabetic())
        .any(|w| w.len() >= 2 && w.bytes().all(|b| b.is_ascii_lowercase()))
}

#[test]
fn every_service_message_has_a_french_template() {
    let (found, forwarded) = service_templates();
    let messages: Vec<&String> = found.iter().filter(|t| is_prose(t)).collect();
    // The reading of the sources still finds their messages (not a vacuous pass).
    assert!(messages.len() >= 120, "only {} messages found in the sources", messages.len());
    for known in ["must not exceed quantity", "{} gives {} at most {} seats", "must be a whole number"] {
        assert!(messages.iter().any(|m| *m == known), "{known:?} not found in the sources");
    }
    let unknown: Vec<_> =
        forwarded.iter().filter(|(file, arg)| !FORWARDED.iter().any(|(f, a)| f == file && a == arg)).collect();
    assert!(unknown.is_empty(), "a refusal's message is built from a value, not a literal: {unknown:?}");
    // A piece of an engine sentence is known by its phrase; everything else must read
    // whole as a message.
    let is_phrase = |t: &str| PHRASES.iter().any(|(en, _)| *en == t);
    let untranslated: Vec<&String> =
        messages.iter().copied().filter(|t| !is_phrase(t) && !translate(&instance(t)).1).collect();
    assert!(
        untranslated.is_empty(),
        "{} service message(s) without French (add them to TEMPLATES): {untranslated:#?}",
        untranslated.len()
    );
    // And the table holds nothing the service no longer says.
    let dead: Vec<&str> =
        TEMPLATES.iter().chain(PHRASES).map(|(en, _)| *en).filter(|en| !found.iter().any(|t| t == en)).collect();
    assert!(dead.is_empty(), "templates of messages the service no longer builds: {dead:?}");
}

/// The lower-case English words of a template's fixed text (not codes, field names,
/// commands in backquotes).
fn english_words(template: &str) -> Vec<String> {
    let mut text = String::new();
    for (i, piece) in template.split('`').enumerate() {
        if i % 2 == 0 {
            text.push_str(piece);
            text.push(' ');
        }
    }
    text.split(|c: char| !(c.is_ascii_alphabetic() || c == '_' || c == '\''))
        .map(|w| w.trim_matches('\'').split('\'').next().unwrap_or_default())
        .filter(|w| w.len() >= 3 && w.bytes().all(|b| b.is_ascii_lowercase()))
        .filter(|w| !SHARED_WORDS.contains(w))
        .map(str::to_string)
        .collect()
}

/// Words that French writes the same way.
const SHARED_WORDS: &[&str] = &[
    "etag",
    "sled",
    "lcm",
    "format",
    "table",
    "mission",
    "missions",
    "centre",
    "centres",
    "code",
    "alpha",
    "page",
    "transition",
    "date",
    "dates",
    "version",
];

#[test]
fn french_renderings_keep_no_english_words() {
    let mut bad = Vec::new();
    for (en, fr_template) in TEMPLATES.iter().chain(PHRASES) {
        let en_holes = en.matches("{}").count();
        let fr_holes = fr_template.matches('{').count();
        assert_eq!(en_holes, fr_holes, "{en:?}: the French must show every value");
        let fr = if PHRASES.contains(&(en, fr_template)) {
            phrase(&instance(en)).unwrap_or_default()
        } else {
            translate(&instance(en)).0
        };
        let prose: String = fr.split('`').step_by(2).collect::<Vec<_>>().join(" ");
        let fr_words: Vec<&str> = prose.split(|c: char| !(c.is_alphabetic() || c == '_')).collect();
        for w in english_words(en) {
            if fr_words.contains(&w.as_str()) {
                bad.push(format!("{en:?} → {fr:?}: {w:?}"));
            }
        }
        assert!(!fr.contains("Q7Q7") && fr.matches("Q7").count() == en_holes, "{en:?} → {fr:?}");
    }
    assert!(bad.is_empty(), "English words left in French: {bad:#?}");
}

#[test]
fn values_keep_their_place_and_codes_read_as_words() {
    assert_eq!(translate("offer-3 gives UGA at most 4 seats").0, "offer-3 accorde au plus 4 places à UGA");
    assert_eq!(
        translate("cannot move from SCHEDULED to AGREED").0,
        "impossible de passer de «\u{a0}planifié\u{a0}» à «\u{a0}convenu\u{a0}»"
    );
    assert_eq!(
        translate("the match is APPROVED, not PROPOSED").0,
        "l'appariement est «\u{a0}approuvé\u{a0}»\u{a0}: il n'est plus au stade de la proposition"
    );
    assert_eq!(
        translate(
            "must be 0 for EQUIPMENT needs (women seats exist only in TRAINING, MENTORING and ADVISE_AND_ASSIST)"
        )
        .0,
        "doit être 0 pour un besoin de type équipement (seuls la formation, le mentorat et le conseil et assistance ont des places pour des femmes)"
    );
    // Specific before general; a wrapped message is translated inside its wrapper.
    assert_eq!(translate("must be at most 10 years ahead").0, "doit être au plus dans 10 ans");
    assert_eq!(translate("must be at most 100000").0, "doit être au plus 100000");
    assert_eq!(
        translate("the store is unavailable: flush failed: disk full").0,
        "le stockage est indisponible\u{a0}: l'écriture sur disque a échoué\u{a0}: disk full"
    );
    assert_eq!(
        translate("invalid request: outcome.trained: must not exceed the arrangement's 5 seats; and 3 more"),
        (
            "requête invalide\u{a0}: outcome.trained\u{a0}: ne doit pas dépasser les 5 places de l'accord\u{a0}; et 3 de plus"
                .to_string(),
            true
        )
    );
    // A need's explanation: codes, offer names, lists and limits in French.
    assert_eq!(
        translate("offer is TRAINING ENGINEERING; need is TRAINING MEDICAL").0,
        "l'offre porte sur formation en génie\u{a0}; le besoin, sur formation en santé"
    );
    assert_eq!(
        translate("offer is REMOTE; need accepts only MOBILE_TRAINING_TEAM or AT_PROVIDER").0,
        "modalité de l'offre\u{a0}: à distance\u{a0}; le besoin accepte seulement\u{a0}: équipe de formation mobile ou chez le fournisseur"
    );
    assert_eq!(
        translate("offer delivers in fr; need accepts en, ar or pt").0,
        "l'offre est dispensée en fr\u{a0}; le besoin accepte\u{a0}: en, ar ou pt"
    );
    assert_eq!(
        translate("UGA is not among the eligible recipients of offer offer-3").0,
        "UGA ne figure pas parmi les bénéficiaires admissibles de l'offre offer-3"
    );
    assert_eq!(
        translate("the course cannot start before 2027-01-05 and lasts 21 days, so it cannot end before 2027-01-26, after the end of offer offer-3's availability (2027-01-20)").0,
        "la formation ne peut pas commencer avant le 2027-01-05 et dure 21 jours\u{a0}: elle ne peut donc pas finir avant le 2027-01-26, après la fin de la disponibilité de l'offre offer-3 (2027-01-20)"
    );
    assert_eq!(
        translate("the offer requires funding and no FUNDING offer can pay: offer-4: the offer is withdrawn; offer-5: offer offer-5 has no open seats left"),
        (
            "l'offre nécessite un financement et aucune offre de financement ne peut le payer\u{a0}: offer-4\u{a0}: l'offre est retirée\u{a0}; offer-5\u{a0}: l'offre offer-5 n'a plus de places ouvertes".to_string(),
            true
        )
    );
    // A client's quoted text is never translated.
    assert_eq!(
        translate(r#""title or quantity" is not a field of Need that can be updated"#).0,
        r#""title or quantity" n'est pas un champ modifiable d'un besoin"#
    );
    // An unknown message stays whole, and says so.
    assert_eq!(translate("something new"), ("something new".to_string(), false));
    let (partly, known) = translate("invalid request: a: something new; b: is required");
    assert_eq!(
        (partly.as_str(), known),
        ("requête invalide\u{a0}: a\u{a0}: something new\u{a0}; b\u{a0}: est obligatoire", false)
    );
}
