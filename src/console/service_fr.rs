//! The service's refusal messages, and the engine's explanation of a need (why an offer cannot serve it), in French.
//!
//! The gRPC API speaks English, and its messages are part of its contract; the console
//! shows them to people in their language. Every message the service can build is a
//! template here: its English text with `{}` where a value goes (a field, an id, a number,
//! a date), and its French text with `{}` (the values in the same order) or `{0}`, `{1}`, …
//! (to put them in another order). A message is matched whole against the English
//! templates; its values (ids, field names, codes, numbers) are carried over unchanged. An
//! INVALID_ARGUMENT message ("invalid request: field: description; …") is translated
//! description by description. The test `every_service_message_has_a_french_template`
//! reads the service's and the engine's sources: a message without a template fails it.

use super::i18n::{Lang, label, typeset_fr};
use std::sync::LazyLock;

/// (English template, French template). Values in `{}`; see the module's documentation.
pub const TEMPLATES: &[(&str, &str)] = &[
    // ---- Wrappers: the status message around a detail ----
    ("{} not found", "{} est introuvable"),
    (
        "etag {} is stale; the current etag is {}",
        "l'etag {} est périmé : l'etag actuel est {} (la ressource a changé entre-temps ; rechargez la page)",
    ),
    ("the store is unavailable: {}", "le stockage est indisponible : {}"),
    ("internal error: {}", "erreur interne : {}"),
    // ---- Field violations: text, numbers, dates, lists (convert/) ----
    ("must have at least {} character(s)", "doit avoir au moins {} caractère(s)"),
    ("must have at most {} characters (has {})", "doit avoir au plus {} caractères (en a {})"),
    ("must not contain control characters", "ne doit pas contenir de caractères de contrôle"),
    ("must list at least {} state(s)", "doit indiquer au moins {} État(s)"),
    ("must list at most {} states", "doit indiquer au plus {} États"),
    ("{} is listed twice", "{} figure deux fois"),
    ("is listed twice", "figure deux fois"),
    ("must list at least {} language(s)", "doit indiquer au moins {} langue(s)"),
    ("must list at most {} languages", "doit indiquer au plus {} langues"),
    ("must list at most {} distinct values", "doit indiquer au plus {} valeurs distinctes"),
    ("must be between {} and {}", "doit être compris entre {} et {}"),
    ("must be at most {}", "doit être au plus {}"),
    ("is required", "est obligatoire"),
    ("is required (UNSPECIFIED is not a valid value)", "est obligatoire (choisissez une valeur)"),
    ("must be a valid time between 1970 and 9999", "doit être une date valide, entre 1970 et 9999"),
    ("{} is not a known value", "{} n'est pas une valeur connue"),
    ("must not exceed quantity", "ne doit pas dépasser le nombre de places"),
    (
        "must be 0 for {} needs (women seats exist only in TRAINING, MENTORING and ADVISE_AND_ASSIST)",
        "doit être 0 pour un besoin de type {} (seuls la formation, le mentorat et le conseil et assistance ont des places pour des femmes)",
    ),
    ("must be in the future", "doit être dans le futur"),
    ("must be at most 10 years ahead", "doit être au plus dans 10 ans"),
    ("must not be before available_from", "ne doit pas précéder la date de début de disponibilité (available_from)"),
    ("is required when mode is AT_TRAINING_CENTRE", "est obligatoire pour une formation dans un centre de formation"),
    (
        "must be empty unless mode is AT_TRAINING_CENTRE",
        "doit être vide sauf pour une formation dans un centre de formation",
    ),
    ("no training centre {} is registered", "aucun centre de formation {} n'est enregistré"),
    (
        "must be false for {} offers (women seats exist only in TRAINING, MENTORING and ADVISE_AND_ASSIST)",
        "doit rester décoché pour une offre de type {} (seuls la formation, le mentorat et le conseil et assistance ont des places pour des femmes)",
    ),
    ("must be unset on a FUNDING offer", "doit être vide pour une offre de financement"),
    // ---- Codes and languages (domain/types.rs) ----
    (
        "{} is not the ISO 3166-1 alpha-3 code of a UN member state",
        "{} n'est pas le code ISO 3166-1 alpha-3 d'un État membre de l'ONU",
    ),
    ("an ISO 3166-1 alpha-3 code of a UN member state", "un code ISO 3166-1 alpha-3 d'État membre de l'ONU"),
    (
        "{} is not an ISO 639-1 language code (two lower-case letters)",
        "{} n'est pas un code de langue ISO 639-1 (deux lettres minuscules)",
    ),
    ("{} is not a {}", "{} n'est pas une valeur de {}"),
    // ---- Requests and pages (service/mod.rs, needs, offers, centres, matching, reports) ----
    ("must be a UUID", "doit être un UUID"),
    ("request_id was already used with a different request", "ce request_id a déjà servi pour une autre requête"),
    ("must not be negative", "ne doit pas être négatif"),
    ("is not a page token of this query", "n'est pas un jeton de page de cette recherche"),
    ("never changes", "ne change jamais"),
    ("host_state never changes", "host_state ne change jamais"),
    ("must name at least one field", "doit nommer au moins un champ"),
    ("must name at most {} fields", "doit nommer au plus {} champs"),
    ("{} is not a field of Need that can be updated", "{} n'est pas un champ modifiable d'un besoin"),
    ("{} is not a field of Offer that can be updated", "{} n'est pas un champ modifiable d'une offre"),
    (
        "{} is not a field of TrainingCentre that can be updated",
        "{} n'est pas un champ modifiable d'un centre de formation",
    ),
    (
        "{} may not drop below the {} seats reserved or delivered",
        "{} ne peut pas descendre sous les {} places réservées ou dispensées",
    ),
    (
        "{} cannot change while seats are reserved or delivered",
        "{} ne peut pas changer tant que des places sont réservées ou dispensées",
    ),
    ("a withdrawn need cannot be updated", "un besoin retiré ne peut pas être modifié"),
    ("the need is already withdrawn", "le besoin est déjà retiré"),
    ("a withdrawn offer cannot be updated", "une offre retirée ne peut pas être modifiée"),
    ("the offer is already withdrawn", "l'offre est déjà retirée"),
    ("is not a need id", "n'est pas un identifiant de besoin"),
    ("is not a training centre id", "n'est pas un identifiant de centre de formation"),
    ("are allowed only with dry_run", "ne sont permises qu'avec un essai à blanc (dry_run)"),
    ("must list at most {} offers", "doit indiquer au plus {} offres"),
    ("must be CAPABILITY or REQUESTER", "doit être CAPABILITY (par capacité) ou REQUESTER (par demandeur)"),
    (
        "the watcher fell too far behind; resume with after_sequence = {}",
        "le suivi des événements a pris trop de retard ; reprenez avec after_sequence = {}",
    ),
    ("the server is shutting down; resume by sequence", "le serveur s'arrête ; reprenez à partir de la séquence"),
    (
        "the server is working on {} requests; retry with backoff",
        "le serveur traite déjà {} requêtes ; réessayez dans un instant",
    ),
    // ---- Permissions and sign-in ----
    ("only the Secretariat may call this method", "seul le Secrétariat peut faire cela"),
    ("training centres cannot call NeedService", "les centres de formation n'ont pas accès aux besoins"),
    ("training centres cannot call OfferService", "les centres de formation n'ont pas accès aux offres"),
    ("training centres cannot call MatchingService", "les centres de formation n'ont pas accès aux appariements"),
    ("training centres do not read gap reports", "les centres de formation ne consultent pas le rapport des écarts"),
    (
        "training centres do not read capacity reports",
        "les centres de formation ne consultent pas le rapport des capacités",
    ),
    (
        "training centres do not read readiness reports",
        "les centres de formation ne consultent pas le rapport de préparation",
    ),
    ("{} cannot act for {}", "{0} ne peut pas agir au nom de {1}"),
    ("only the Secretariat sets CRITICAL priority", "seul le Secrétariat peut donner la priorité « critique »"),
    ("{} must name itself as requester", "{} doit se désigner comme demandeur"),
    ("{} is not among the offer's providers", "{} ne figure pas parmi les fournisseurs de l'offre"),
    (
        "only the offer's providers or the Secretariat may change it",
        "seuls les fournisseurs de l'offre ou le Secrétariat peuvent la modifier",
    ),
    (
        "only the need's requester or the Secretariat may change it",
        "seuls le demandeur du besoin ou le Secrétariat peuvent le modifier",
    ),
    ("a state must list itself among the providers", "un État doit se compter parmi les fournisseurs"),
    ("only a party state gives or refuses its consent", "seul un État partie donne ou refuse son consentement"),
    (
        "only the hosting centre, a delivering party or the Secretariat may do this",
        "seuls le centre d'accueil, une partie qui dispense la formation ou le Secrétariat peuvent faire cela",
    ),
    (
        "only the hosting centre, a delivering party or the Secretariat record outcomes",
        "seuls le centre d'accueil, une partie qui dispense la formation ou le Secrétariat enregistrent les résultats",
    ),
    ("missing authorization metadata", "identification manquante : reconnectez-vous"),
    ("authorization must be `Bearer <token>`", "l'identification doit être de la forme `Bearer <jeton>`"),
    ("unknown token", "jeton inconnu"),
    ("revoked token", "jeton révoqué"),
    ("the token was revoked", "le jeton a été révoqué"),
    // ---- Approving a match (domain/commands/, service/matching.rs) ----
    ("the match is {}, not PROPOSED", "l'appariement est « {} » : il n'est plus au stade de la proposition"),
    ("the need was withdrawn", "le besoin a été retiré"),
    ("the need no longer has these seats open", "le besoin n'a plus ces places ouvertes"),
    ("{} was withdrawn", "{} a été retirée"),
    ("{} has only {} seats open", "{} n'a plus que {} places ouvertes"),
    ("{} gives {} at most {} seats", "{0} accorde au plus {2} places à {1}"),
    ("{} can no longer be delivered in time", "{} ne peut plus être dispensée à temps"),
    ("{} can no longer fund a start day", "{} ne peut plus financer aucune date de début"),
    // ---- Arrangements (domain/commands/arrangements.rs, service/arrangements.rs) ----
    ("the arrangement is no longer waiting for consent", "l'accord n'attend plus de consentement"),
    ("{} has already answered", "{} a déjà répondu"),
    (
        "{} is reached by consent, not by a transition",
        "l'état « {} » s'atteint par les consentements, non par une transition",
    ),
    ("cannot move from {} to {}", "impossible de passer de « {} » à « {} »"),
    ("dates are required to schedule", "les dates sont obligatoires pour planifier"),
    (
        "must lie between {} and {} (offer availability, need deadline and funding dates, for a {}-day course)",
        "doit se situer entre le {} et le {} (disponibilité de l'offre, échéance du besoin et dates du financement, pour une formation de {} jours)",
    ),
    (
        "no start day fits any more: offer availability, need deadline and funding dates leave no room for the course",
        "plus aucune date de début ne convient : la disponibilité de l'offre, l'échéance du besoin et les dates du financement ne laissent plus de place pour la formation",
    ),
    ("must be the start day + {} days", "doit être la date de début + {} jours"),
    ("must list at most 20 missions", "doit indiquer au plus 20 missions"),
    ("must not exceed trained", "ne doit pas dépasser le nombre de formés"),
    ("must not exceed certified", "ne doit pas dépasser le nombre de certifiés"),
    ("must not exceed the arrangement's {} seats", "ne doit pas dépasser les {} places de l'accord"),
    (
        "outcomes are recorded in IN_DELIVERY or COMPLETED",
        "les résultats s'enregistrent quand la formation est en cours ou terminée",
    ),
    // ---- Principals (service/admin.rs) ----
    ("must be empty for a SECRETARIAT principal", "doit être vide pour un compte du Secrétariat"),
    ("must be empty for a MEMBER_STATE principal", "doit être vide pour un compte d'État membre"),
    ("must be empty for a TRAINING_CENTRE principal", "doit être vide pour un compte de centre de formation"),
    // ---- The console's own form reading (pages/forms.rs) ----
    ("must be a whole number", "doit être un nombre entier"),
    ("must be a date (YYYY-MM-DD)", "doit être une date (AAAA-MM-JJ)"),
    // ---- A need's explanation: why an offer cannot serve it (matching/rules.rs) ----
    ("offer is {} {}; need is {} {}", "l'offre porte sur {} en {} ; le besoin, sur {} en {}"),
    ("the offer is withdrawn", "l'offre est retirée"),
    ("the offer has no delivery terms", "l'offre n'a pas de conditions de prestation"),
    ("the need is withdrawn", "le besoin est retiré"),
    ("the need has no open seats left", "le besoin n'a plus de places ouvertes"),
    ("offer delivers in {}; need accepts {}", "l'offre est dispensée en {} ; le besoin accepte : {}"),
    ("offer is {}; need accepts only {}", "modalité de l'offre : {} ; le besoin accepte seulement : {}"),
    (
        "the course cannot start before {} and lasts {} days, so it cannot end before {}, after {} ({})",
        "la formation ne peut pas commencer avant le {} et dure {} jours : elle ne peut donc pas finir avant le {}, après {} ({})",
    ),
    ("{} is not among the eligible recipients of {}", "{} ne figure pas parmi les bénéficiaires admissibles de {}"),
    ("{} excludes {}", "{} exclut {}"),
    ("{} is one of the providers of {}", "{} est l'un des fournisseurs de {}"),
    (
        "a refusal of this need with {} is remembered until the need or the offer is updated",
        "un refus de ce besoin avec {} est retenu jusqu'à ce que le besoin ou l'offre soit modifié",
    ),
    ("{} has no open seats left", "{} n'a plus de places ouvertes"),
    (
        "{} gives at most {} seats per recipient and {} has used them up",
        "{0} accorde au plus {1} places par bénéficiaire et {2} les a toutes utilisées",
    ),
    (
        "the offer is women-only and the need has no open women seats",
        "l'offre est réservée aux femmes et le besoin n'a plus de places ouvertes pour des femmes",
    ),
    (
        "the offer requires funding and no FUNDING offer of its category and capability is open",
        "l'offre nécessite un financement et aucune offre de financement de sa catégorie et de sa capacité n'est ouverte",
    ),
    (
        "the offer requires funding and no FUNDING offer can pay: {}",
        "l'offre nécessite un financement et aucune offre de financement ne peut le payer : {}",
    ),
    // ---- Failures of the server itself (store, engine, tasks) ----
    (
        "the store has failed and refuses reads and writes until the server restarts: {}",
        "le stockage est en panne et refuse lectures et écritures jusqu'au redémarrage du serveur : {}",
    ),
    ("sled: {}", "sled : {}"),
    ("I/O: {}", "entrée-sortie : {}"),
    ("corrupt value in tree {}: {}", "valeur corrompue dans l'arbre {} : {}"),
    ("a value for tree {} cannot be encoded: {}", "une valeur de l'arbre {} ne peut pas être encodée : {}"),
    (
        "the store was written by an unknown format version {}",
        "le stockage a été écrit dans une version de format inconnue, {}",
    ),
    ("flush failed: {}", "l'écriture sur disque a échoué : {}"),
    ("the writer gate is poisoned", "le verrou d'écriture est empoisonné"),
    (
        "{} was written by lcm with store format 1 (one sled tree per table), which this build does not read (it reads format {}); take a backup with the older build (`lcm backup`) and restore it with this one (`lcm restore`)",
        "{} a été écrit par lcm au format de stockage 1 (un arbre sled par table), que cette version ne lit pas (elle lit le format {}) ; faites une sauvegarde avec l'ancienne version (`lcm backup`) et restaurez-la avec celle-ci (`lcm restore`)",
    ),
    (
        "{} is in use by another process (another `lcm serve`, backup or restore?); stop it first",
        "{} est utilisé par un autre processus (un autre `lcm serve`, une sauvegarde ou une restauration ?) ; arrêtez-le d'abord",
    ),
    ("backup task: {}", "tâche de sauvegarde : {}"),
    ("report task failed: {}", "la tâche du rapport a échoué : {}"),
    ("NEED_AT_RISK check failed: {}", "la vérification des besoins à risque (NEED_AT_RISK) a échoué : {}"),
    ("the matching view failed to load: {}", "la vue d'appariement n'a pas pu être chargée : {}"),
    ("the warm engine is missing", "le moteur d'appariement préchargé manque"),
    ("the engine returned an unknown {}", "le moteur a renvoyé un identifiant inconnu ({})"),
    ("stored response does not decode: {}", "la réponse enregistrée ne se décode pas : {}"),
    ("a solve's thread cannot start: {}", "le calcul des appariements ne peut pas démarrer : {}"),
    ("a solve's thread ended without an answer", "le calcul des appariements s'est terminé sans réponse"),
    ("the store changed too much meanwhile; propose again", "trop de changements entre-temps : proposez à nouveau"),
    (
        "an allocation names a funding offer as delivery",
        "une attribution désigne une offre de financement comme prestation",
    ),
    ("{} was not read", "{} n'a pas été lu"),
    ("matching solver failed: {}", "le solveur d'appariement a échoué : {}"),
    ("unknown record {}", "enregistrement inconnu : {}"),
    ("the solve was stopped: its caller gave up", "le calcul a été arrêté : son demandeur a abandonné"),
];

/// Pieces the engine writes into its sentences (an offer's name, a list, a limit), in
/// French; used only for the values of a message, never for a whole one.
pub const PHRASES: &[(&str, &str)] = &[
    ("offer {}", "l'offre {}"),
    ("{} or {}", "{} ou {}"),
    ("no language", "aucune langue"),
    ("the need's deadline", "l'échéance du besoin"),
    ("the end of {}'s availability", "la fin de la disponibilité de {}"),
];

/// The prefix of an INVALID_ARGUMENT status message, before its violations.
const INVALID_REQUEST: &str = "invalid request: ";

struct Template {
    /// The English text around the values (one more part than values).
    parts: Vec<&'static str>,
    fr: String, // typeset (`typeset_fr`); the values filled in are left as they are
}

/// The templates, the most specific first (the most fixed text), so "must be at most 10
/// years ahead" wins over "must be at most {}".
static COMPILED: LazyLock<[Vec<Template>; 2]> = LazyLock::new(|| {
    let compile = |table: &[(&'static str, &'static str)]| {
        let mut all: Vec<Template> =
            table.iter().map(|(en, fr)| Template { parts: en.split("{}").collect(), fr: typeset_fr(fr) }).collect();
        all.sort_by_key(|t| std::cmp::Reverse(t.parts.iter().map(|p| p.len()).sum::<usize>()));
        all
    };
    [compile(TEMPLATES), compile(PHRASES)]
});

/// The values of `message` if it reads as the template `parts`, each value non-empty.
fn capture<'m>(parts: &[&str], message: &'m str) -> Option<Vec<&'m str>> {
    let (first, rest) = parts.split_first()?;
    let mut left = message.strip_prefix(first)?;
    if rest.is_empty() {
        return left.is_empty().then(Vec::new);
    }
    let mut values = Vec::with_capacity(rest.len());
    for (i, part) in rest.iter().enumerate() {
        let value = if i + 1 == rest.len() {
            let v = left.strip_suffix(part)?;
            left = "";
            v
        } else {
            let at = left.find(part)?;
            let v = &left[..at];
            left = &left[at + part.len()..];
            v
        };
        if value.is_empty() {
            return None;
        }
        values.push(value);
    }
    Some(values)
}

/// `fr` with its `{}` / `{N}` filled from `values`.
fn fill(fr: &str, values: &[String]) -> String {
    let mut out = String::with_capacity(fr.len() + 16);
    let mut next = 0;
    let mut rest = fr;
    while let Some(open) = rest.find('{') {
        out.push_str(&rest[..open]);
        let Some(close) = rest[open..].find('}') else { break };
        let inner = &rest[open + 1..open + close];
        let index = if inner.is_empty() {
            next += 1;
            next - 1
        } else {
            inner.parse().unwrap_or(usize::MAX)
        };
        out.push_str(values.get(index).map_or("?", String::as_str));
        rest = &rest[open + close + 1..];
    }
    out.push_str(rest);
    out
}

/// A value of a message as a French page shows it: a wrapped message or a piece of an
/// engine sentence translated, a state, category, capability or mode code by its French
/// name ("SCHEDULED" → "planifié"); anything else (ids, field names, numbers, dates,
/// member-state codes, a client's quoted text) as it is.
fn value(v: &str) -> String {
    if v.starts_with('"') {
        // A client's own text, quoted: as it was sent.
        return v.to_string();
    }
    if v.contains(' ') {
        return listed(v).or_else(|| one(v)).or_else(|| phrase(v)).unwrap_or_else(|| v.to_string());
    }
    if v.len() > 3 && v.bytes().all(|b| b.is_ascii_uppercase() || b == b'_') {
        for kind in ["MATCH_STATE_", "ARRANGEMENT_STATUS_", "SUPPORT_CATEGORY_", "CAPABILITY_AREA_", "DELIVERY_MODE_"] {
            let name = label(Lang::Fr, &format!("{kind}{v}"));
            if !name.starts_with(kind) {
                return name.to_lowercase();
            }
        }
    }
    v.to_string()
}

/// A list of `id: message` joined by "; " (a blocker's reasons per funding offer), each
/// message in French, if every one is known.
fn listed(v: &str) -> Option<String> {
    let parts: Option<Vec<String>> = v
        .split("; ")
        .map(|part| {
            let (id, message) = part.split_once(": ")?;
            if id.contains(' ') {
                return None;
            }
            Some(format!("{id}\u{a0}: {}", one(message)?))
        })
        .collect();
    parts.map(|p| p.join("\u{a0}; "))
}

/// A piece of an engine sentence ([`PHRASES`]) in French.
fn phrase(v: &str) -> Option<String> {
    render(&COMPILED[1], v)
}

/// One message (not a list of violations) in French, if a template knows it. A value that
/// is itself a known message (a wrapped error) is translated too.
fn one(message: &str) -> Option<String> {
    render(&COMPILED[0], message)
}

/// `message` through the first template of `table` that reads it.
fn render(table: &[Template], message: &str) -> Option<String> {
    table.iter().find_map(|t| {
        let values = capture(&t.parts, message)?;
        let values: Vec<String> = values.into_iter().map(value).collect();
        Some(fill(&t.fr, &values))
    })
}

/// `message` in French, and whether every part of it was known (an unknown part stays
/// in English).
pub fn translate(message: &str) -> (String, bool) {
    let Some(list) = message.strip_prefix(INVALID_REQUEST) else {
        return match one(message) {
            Some(fr) => (fr, true),
            None => (message.to_string(), false),
        };
    };
    let mut known = true;
    let parts: Vec<String> = list
        .split("; ")
        .map(|part| {
            if let Some(n) = part.strip_prefix("and ").and_then(|p| p.strip_suffix(" more")) {
                return format!("et {n} de plus");
            }
            let (field, description) = match part.split_once(": ") {
                Some((field, description)) => (Some(field), description),
                None => (None, part),
            };
            let description = one(description).unwrap_or_else(|| {
                known = false;
                description.to_string()
            });
            match field {
                Some(field) => format!("{field}\u{a0}: {description}"),
                None => description,
            }
        })
        .collect();
    (format!("requête invalide\u{a0}: {}", parts.join("\u{a0}; ")), known)
}

#[cfg(test)]
#[path = "service_fr_tests.rs"]
mod tests;
