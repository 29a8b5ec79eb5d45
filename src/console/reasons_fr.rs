//! A proposed match's reasons in French. The engine writes them in English
//! (`matching/output.rs`, the API's `Match.reasons`): one sentence per allocation, and one
//! when the need is only partly matched. The console reads them back into their parts
//! (titles, ids, dates and numbers kept as they are; languages and modes named in French)
//! and writes them in French; a sentence it cannot read is shown as it is.

use super::i18n::{Lang, label};

/// `reason` in `lang`.
pub fn reason(lang: Lang, reason: &str) -> String {
    match lang {
        Lang::En => reason.to_string(),
        Lang::Fr => partly_matched(reason).or_else(|| allocation(reason)).unwrap_or_else(|| reason.to_string()),
    }
}

const PARTLY: &str = " open seats are matched: the compatible offers have no more seats for it within their \
                      capacity, caps and funding once needs that rank first are served";

/// "Q of the need's N open seats are matched: …".
fn partly_matched(r: &str) -> Option<String> {
    let (matched, open) = r.strip_suffix(PARTLY)?.split_once(" of the need's ")?;
    let (matched, open) = (number(matched)?, number(open)?);
    Some(format!(
        "{matched} des {open} places ouvertes du besoin sont appariées\u{a0}: les offres compatibles n'ont plus de \
         places pour lui dans leur capacité, leurs plafonds et leur financement une fois servis les besoins \
         mieux classés"
    ))
}

/// "Title (JPN) at Centre (KEN): 8 seats, 2 for women; in en or fr, AT_TRAINING_CENTRE;
/// can start 2027-01-04 and end 21 days before the need's deadline (2027-03-01); funded by
/// offer-9 (NOR)", each part after the seats optional but the start.
fn allocation(r: &str) -> Option<String> {
    let at = r.rfind("; can start ")?;
    let (head, tail) = (&r[..at], &r[at + "; can start ".len()..]);
    let (timing, funding) = match tail.rfind("; funded by ") {
        Some(i) => (&tail[..i], Some(&tail[i + "; funded by ".len()..])),
        None => (tail, None),
    };
    let (start, rest) = timing.split_once(" and end ")?;
    let (days, rest) = rest.split_once(" days before the need's deadline (")?;
    let deadline = rest.strip_suffix(')')?;
    let days = number(days)?;
    let (head, delivery) = match head.rfind("; in ") {
        Some(i) => (&head[..i], Some(&head[i + "; in ".len()..])),
        None => (head, None),
    };
    let colon = head.rfind(": ")?;
    let (who, seats) = (&head[..colon], &head[colon + ": ".len()..]);
    let (seats, women) = match seats.split_once(", ") {
        Some((s, w)) => (s, Some(number(w.strip_suffix(" for women")?)?)),
        None => (seats, None),
    };
    let seats = number(seats.strip_suffix(" seats").or_else(|| seats.strip_suffix(" seat"))?)?;
    let mut fr = format!("{}\u{a0}: {seats} {}", offer_at_centre(who), plural(seats, "place"));
    if let Some(w) = women {
        fr.push_str(&format!(", dont {w} pour des femmes"));
    }
    if let Some(d) = delivery {
        let (languages, mode) = d.rsplit_once(", ")?;
        fr.push_str(&format!("\u{a0}; {}, {}", languages_fr(languages), mode_fr(mode)));
    }
    fr.push_str(&format!(
        "\u{a0}; peut commencer le {start} et finir {days} {} avant l'échéance du besoin ({deadline})",
        plural(days, "jour")
    ));
    if let Some(f) = funding {
        fr.push_str(&format!("\u{a0}; financée par {f}"));
    }
    Some(fr)
}

/// "Title (JPN) at Centre (KEN)" → "Title (JPN) à Centre (KEN)"; a title that merely
/// contains " at " stays whole (the centre part follows the providers' parenthesis).
fn offer_at_centre(who: &str) -> String {
    if let Some(i) = who.rfind(" at ") {
        let (offer, centre) = (&who[..i], &who[i + " at ".len()..]);
        if offer.ends_with(')') && centre.ends_with(')') {
            return format!("{offer} à {centre}");
        }
    }
    who.to_string()
}

fn number(s: &str) -> Option<i64> {
    s.parse().ok()
}

fn plural(n: i64, word: &str) -> String {
    if n.abs() > 1 { format!("{word}s") } else { word.to_string() }
}

/// "en", "en or fr", "en, fr or es", "no language" in French: "langue : en",
/// "langues : en ou fr", "aucune langue".
fn languages_fr(languages: &str) -> String {
    if languages == "no language" {
        return "aucune langue".to_string();
    }
    let n = 1 + languages.matches(" or ").count() + languages.matches(", ").count();
    format!("{}\u{a0}: {}", plural(n as i64, "langue"), languages.replace(" or ", " ou "))
}

/// A delivery mode's API name ("AT_TRAINING_CENTRE") by its French name.
fn mode_fr(mode: &str) -> String {
    let key = format!("DELIVERY_MODE_{mode}");
    let name = label(Lang::Fr, &key);
    if name == key { mode.to_string() } else { name.to_lowercase() }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_allocation_reads_in_french_with_its_values_kept() {
        let en = "Field medic course (JPN) at Nairobi IPSTC (KEN): 8 seats, 2 for women; in en or fr, \
                  AT_TRAINING_CENTRE; can start 2027-01-04 and end 21 days before the need's deadline \
                  (2027-03-01); funded by offer-9 (NOR)";
        let fr = reason(Lang::Fr, en);
        assert!(
            fr.starts_with("Field medic course (JPN) à Nairobi IPSTC (KEN)\u{a0}: 8 places, dont 2 pour des femmes")
        );
        assert!(fr.contains("\u{a0}; langues\u{a0}: en ou fr, "), "{fr}");
        assert!(fr.contains("peut commencer le 2027-01-04 et finir 21 jours avant l'échéance du besoin (2027-03-01)"));
        assert!(fr.ends_with("\u{a0}; financée par offer-9 (NOR)"), "{fr}");
        for english in ["seats", "for women", "can start", "deadline", "funded by", " at ", "AT_TRAINING_CENTRE"] {
            assert!(!fr.contains(english), "{english} in {fr}");
        }
        assert_eq!(reason(Lang::En, en), en);
    }

    #[test]
    fn the_short_forms_and_the_partial_match_read_in_french() {
        let en = "offer-3 (SEN): 1 seat; can start 2027-02-01 and end 1 days before the need's deadline (2027-02-20)";
        assert_eq!(
            reason(Lang::Fr, en),
            "offer-3 (SEN)\u{a0}: 1 place\u{a0}; peut commencer le 2027-02-01 et finir 1 jour avant l'échéance du besoin \
             (2027-02-20)"
        );
        let partial = format!("3 of the need's 12{PARTLY}");
        assert!(reason(Lang::Fr, &partial).starts_with("3 des 12 places ouvertes du besoin sont appariées"));
        // A title that contains " at " is not a centre.
        let en = "Training at sea (NOR): 2 seats; can start 2027-02-01 and end 5 days before the need's deadline \
                  (2027-03-01)";
        assert!(reason(Lang::Fr, en).starts_with("Training at sea (NOR)\u{a0}: 2 places"));
        // A sentence the console cannot read stays as it is.
        assert_eq!(reason(Lang::Fr, "something new"), "something new");
    }

    /// The pieces read above are the engine's own: a change of its wording fails here.
    #[test]
    fn the_engine_still_writes_the_pieces_read_here() {
        let src = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/src/matching/output.rs")).unwrap();
        let src = src.replace("\\\n", "");
        for piece in [
            "; can start {} and end {} days before the need's deadline ({})",
            "; funded by {} ({})",
            "; in {}, {}",
            ", {women} for women",
            ": {seats} seat{}",
            " at {label} ({})",
            "{quantity} of the need's {open}",
            PARTLY,
        ] {
            assert!(src.contains(piece), "matching/output.rs no longer writes {piece:?}");
        }
    }
}
