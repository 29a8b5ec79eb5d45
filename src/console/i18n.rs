//! Message catalogues, one per language, and how a request picks its language.
//!
//! Every label, button and message of the console comes from here; a key missing from a
//! catalogue falls back to the key itself, which `catalogues_have_the_same_keys` forbids.

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

/// English catalogue: key, text.
pub const EN: &[(&str, &str)] = &[
    ("app", "Light coordination mechanism"),
    ("lang_name", "English"),
    ("skip", "Skip to content"),
    ("token", "Token"),
    ("sign_in", "Sign in"),
    ("sign_out", "Sign out"),
    ("sign_in_title", "Sign in to the console"),
    ("sign_in_help", "Paste the token you were given. It is exchanged for a session and never shown again."),
    ("sign_in_failed", "This token is not valid, or it has been revoked."),
    ("too_many", "Too many failed sign-ins from this address. Wait a minute and try again."),
    ("signed_in_as", "Signed in as"),
    ("overview", "Overview"),
    ("needs", "Needs"),
    ("offers", "Offers"),
    ("matches", "Matches"),
    ("arrangements", "Arrangements"),
    ("arrangement", "Arrangement"),
    ("match", "Match"),
    ("reports", "Reports"),
    ("events", "Events"),
    ("principals", "Principals"),
    ("not_found", "Not found"),
    ("not_found_text", "There is nothing here that you may see. Check the address, or go back to the overview."),
    ("forbidden", "Refused"),
    (
        "csrf_refused",
        "This form was not sent by your current console session. Nothing was changed; reload the page and try again.",
    ),
    ("back_overview", "Back to the overview"),
    ("seats_demanded", "Seats demanded"),
    ("seats_reserved", "Seats reserved"),
    ("seats_delivered", "Seats delivered"),
    ("seats_open", "Seats open"),
    ("critical_open", "Critical seats open"),
    ("overdue", "Overdue seats"),
    ("women_share", "Women's share"),
    ("at_risk_needs", "Needs at risk"),
    ("deconfliction_findings", "Deconfliction findings"),
    ("pending_consents", "Consents pending"),
    ("figures", "Key figures"),
    ("open_by_capability", "Open seats by capability"),
    ("open_by_capability_desc", "Open seats per capability; the critical part is drawn darker."),
    ("critical_part", "critical"),
    ("women_by_requester", "Women's share against target, by requester"),
    ("target", "target"),
    ("id", "Id"),
    ("requester", "Requester"),
    ("category", "Category"),
    ("capability", "Capability"),
    ("title", "Title"),
    ("description", "Description"),
    ("quantity", "Seats"),
    ("women_quantity", "Women seats"),
    ("languages", "Languages"),
    ("languages_help", "ISO 639-1 codes separated by commas, e.g. en, fr"),
    ("needed_by", "Needed by"),
    ("priority", "Priority"),
    ("pledge_level", "Pledge level"),
    ("pledge_ref", "Pledge reference"),
    ("mission", "Mission"),
    ("state", "State"),
    ("status", "Status"),
    ("reserved", "Reserved"),
    ("delivered", "Delivered"),
    ("any", "Any"),
    ("filter", "Filter"),
    ("next_page", "Next page"),
    ("first_page", "First page"),
    ("none", "Nothing to show."),
    ("new_need", "New need"),
    ("create", "Create"),
    ("save", "Save"),
    ("edit", "Edit"),
    ("withdraw", "Withdraw"),
    ("explanation", "Explanation"),
    ("explanation_help", "Each open offer, whether it can serve this need and, if not, the rules that block it."),
    ("offer", "Offer"),
    ("compatible", "Compatible"),
    ("blockers", "Blocking rules"),
    ("remaining", "Remaining capacity"),
    ("yes", "yes"),
    ("no", "no"),
    ("providers", "Providers"),
    ("role", "Role"),
    ("capacity", "Capacity"),
    ("available", "Available"),
    ("mode", "Mode"),
    ("duration_days", "Duration (days)"),
    ("centre", "Training centre"),
    ("propose", "Propose matches"),
    ("dry_run", "Dry run"),
    ("dry_run_help", "A dry run shows what would be proposed without storing anything."),
    ("dry_run_result", "Dry run: nothing was stored"),
    ("proposed", "Proposed"),
    ("need", "Need"),
    ("allocations", "Allocations"),
    ("parties", "Parties"),
    ("funding", "Funding"),
    ("triangular", "Triangular"),
    ("score", "Score"),
    ("reasons", "Reasons"),
    ("approve", "Approve"),
    ("reject", "Reject"),
    ("reason", "Reason"),
    ("summary", "Summary"),
    (
        "finding_duplicates",
        "{recipient} has {n} open needs ({category}) in {capability} due between {start} and {end} ({ids}): merge them into one or withdraw the duplicates, so offers are not split between them.",
    ),
    (
        "finding_overlap",
        "{recipient} may receive {category} in {capability} from {n} sources at overlapping times between {start} and {end} ({ids}). Agree with the providers which one delivers, or stagger the dates, before approving more.",
    ),
    ("accept", "Accept"),
    ("decline", "Decline"),
    ("note", "Note"),
    ("schedule", "Schedule"),
    ("start", "Start"),
    ("end", "End"),
    ("start_delivery", "Start delivery"),
    ("complete", "Complete"),
    ("cancel", "Cancel"),
    ("trained", "Trained"),
    ("women_trained", "Women trained"),
    ("certified", "Certified"),
    ("trainers_qualified", "Trainers qualified"),
    ("in_country_seats", "Seats delivered in country"),
    ("in_country_share", "In-country share"),
    ("national_centres", "National centres"),
    ("un_recognized_centres", "UN-recognized centres"),
    ("repeat_capabilities", "Support that came back without a trainer"),
    ("days_left", "Days left"),
    ("compatible_offers", "Compatible offers"),
    ("deployed_missions", "Deployed missions"),
    ("deployed_help", "Mission acronyms separated by commas"),
    ("record_outcome", "Record outcome"),
    ("outcome", "Outcome"),
    ("consents", "Consents"),
    ("history", "History"),
    ("window", "Start window"),
    ("recipient", "Recipient"),
    ("download_csv", "Download CSV"),
    ("gap_report", "Gap report"),
    ("gender_report", "Gender report"),
    ("deconfliction_report", "Deconfliction report"),
    ("capacity_report", "Capacity report"),
    ("readiness_report", "Readiness report"),
    ("by_capability", "By capability"),
    ("by_requester", "By requester"),
    ("key", "Key"),
    ("women_needed", "Women needed"),
    ("women_reserved", "Women reserved"),
    ("seats_total", "Seats"),
    ("target_share", "Target"),
    ("below_target", "Below target"),
    ("overall", "Overall"),
    ("resources", "Resources"),
    ("overlap", "Overlap"),
    ("sequence", "Sequence"),
    ("kind", "Kind"),
    ("time", "Time"),
    ("actor", "Actor"),
    ("actor_you", "you"),
    ("actor_system", "System"),
    ("actor_secretariat", "Secretariat"),
    ("actor_party", "A party's mission"),
    ("actor_delivery", "The delivery team"),
    ("actor_other", "Another account"),
    ("resource", "Resource"),
    ("live_note", "This page updates by itself."),
    ("name", "Name"),
    ("member_state", "Member state"),
    ("revoked", "Revoked"),
    ("revoke", "Revoke"),
    ("new_principal", "New principal"),
    ("token_once", "The new token, shown only this once. Copy it now and hand it over securely."),
    ("copy", "Copy"),
    ("copied", "Copied"),
    ("done", "Done."),
    ("refused", "Refused"),
    ("error", "The request was refused"),
    ("check_fields", "Check the fields marked below."),
    ("your_gap", "Your gap"),
    ("created", "Created"),
    ("see_all", "See them all"),
    ("more", "More"),
    ("sort_page", "Column headers sort the whole list"),
    ("sorted_by", "sorted by"),
    ("ascending", "ascending"),
    ("descending", "descending"),
    ("page", "Page"),
    ("previous_page", "Previous page"),
    ("new_offer", "New offer"),
    ("providers_help", "Member-state codes (ISO 3166-1 alpha-3) separated by commas; the first leads"),
    ("available_from", "Available from"),
    ("available_until", "Available until"),
    ("eligible_recipients", "Eligible recipients"),
    ("recipients_help", "Member-state codes separated by commas; empty for any"),
    ("excluded_recipients", "Excluded recipients"),
    ("max_per_recipient", "Seats per recipient at most"),
    ("max_per_recipient_help", "Empty or 0 for no cap"),
    ("centre_help", "The training centre's id (centre-3), for delivery at a training centre"),
    ("women_only", "Women only"),
    ("requires_funding", "Requires funding"),
];

/// French catalogue: the same keys as [`EN`].
pub const FR: &[(&str, &str)] = &[
    ("app", "Mécanisme de coordination légère"),
    ("lang_name", "Français"),
    ("skip", "Aller au contenu"),
    ("token", "Jeton"),
    ("sign_in", "Se connecter"),
    ("sign_out", "Se déconnecter"),
    ("sign_in_title", "Connexion à la console"),
    (
        "sign_in_help",
        "Collez le jeton qui vous a été remis. Il est échangé contre une session et n'est plus jamais affiché.",
    ),
    ("sign_in_failed", "Ce jeton n'est pas valide ou a été révoqué."),
    ("too_many", "Trop d'échecs de connexion depuis cette adresse. Attendez une minute puis réessayez."),
    ("signed_in_as", "Connecté en tant que"),
    ("overview", "Vue d'ensemble"),
    ("needs", "Besoins"),
    ("offers", "Offres"),
    ("matches", "Appariements"),
    ("arrangements", "Accords"),
    ("arrangement", "Accord"),
    ("match", "Appariement"),
    ("reports", "Rapports"),
    ("events", "Événements"),
    ("principals", "Comptes"),
    ("not_found", "Introuvable"),
    ("not_found_text", "Il n'y a rien ici que vous puissiez voir. Vérifiez l'adresse ou revenez à la vue d'ensemble."),
    ("forbidden", "Refusé"),
    (
        "csrf_refused",
        "Ce formulaire n'a pas été envoyé par votre session actuelle. Rien n'a été modifié ; rechargez la page et réessayez.",
    ),
    ("back_overview", "Retour à la vue d'ensemble"),
    ("seats_demanded", "Places demandées"),
    ("seats_reserved", "Places réservées"),
    ("seats_delivered", "Places dispensées"),
    ("seats_open", "Places ouvertes"),
    ("critical_open", "Places critiques ouvertes"),
    ("overdue", "Places en retard"),
    ("women_share", "Part des femmes"),
    ("at_risk_needs", "Besoins à risque"),
    ("deconfliction_findings", "Constats de déconfliction"),
    ("pending_consents", "Consentements en attente"),
    ("figures", "Chiffres clés"),
    ("open_by_capability", "Places ouvertes par capacité"),
    ("open_by_capability_desc", "Places ouvertes par capacité ; la part critique est plus foncée."),
    ("critical_part", "critiques"),
    ("women_by_requester", "Part des femmes par rapport à la cible, par demandeur"),
    ("target", "cible"),
    ("id", "Identifiant"),
    ("requester", "Demandeur"),
    ("category", "Catégorie"),
    ("capability", "Capacité"),
    ("title", "Titre"),
    ("description", "Description"),
    ("quantity", "Places"),
    ("women_quantity", "Places pour des femmes"),
    ("languages", "Langues"),
    ("languages_help", "Codes ISO 639-1 séparés par des virgules, p. ex. en, fr"),
    ("needed_by", "Nécessaire avant le"),
    ("priority", "Priorité"),
    ("pledge_level", "Niveau d'engagement"),
    ("pledge_ref", "Référence d'engagement"),
    ("mission", "Mission"),
    ("state", "État"),
    ("status", "Statut"),
    ("reserved", "Réservées"),
    ("delivered", "Dispensées"),
    ("any", "Tous"),
    ("filter", "Filtrer"),
    ("next_page", "Page suivante"),
    ("first_page", "Première page"),
    ("none", "Rien à afficher."),
    ("new_need", "Nouveau besoin"),
    ("create", "Créer"),
    ("save", "Enregistrer"),
    ("edit", "Modifier"),
    ("withdraw", "Retirer"),
    ("explanation", "Explication"),
    (
        "explanation_help",
        "Chaque offre ouverte, si elle peut servir ce besoin et, sinon, les règles qui l'en empêchent.",
    ),
    ("offer", "Offre"),
    ("compatible", "Compatible"),
    ("blockers", "Règles bloquantes"),
    ("remaining", "Capacité restante"),
    ("yes", "oui"),
    ("no", "non"),
    ("providers", "Fournisseurs"),
    ("role", "Rôle"),
    ("capacity", "Capacité d'accueil"),
    ("available", "Disponible"),
    ("mode", "Modalité"),
    ("duration_days", "Durée (jours)"),
    ("centre", "Centre de formation"),
    ("propose", "Proposer des appariements"),
    ("dry_run", "Essai à blanc"),
    ("dry_run_help", "Un essai à blanc montre ce qui serait proposé sans rien enregistrer."),
    ("dry_run_result", "Essai à blanc : rien n'a été enregistré"),
    ("proposed", "Proposés"),
    ("need", "Besoin"),
    ("allocations", "Attributions"),
    ("parties", "Parties"),
    ("funding", "Financement"),
    ("triangular", "Triangulaire"),
    ("score", "Score"),
    ("reasons", "Raisons"),
    ("approve", "Approuver"),
    ("reject", "Rejeter"),
    ("reason", "Motif"),
    ("summary", "Résumé"),
    (
        "finding_duplicates",
        "{recipient} a {n} besoins ouverts ({category}) en {capability} à échéance entre le {start} et le {end} ({ids}) : fusionnez-les ou retirez les doublons, pour que les offres ne soient pas réparties entre eux.",
    ),
    (
        "finding_overlap",
        "{recipient} pourrait recevoir une aide ({category}) en {capability} de {n} sources à des dates qui se chevauchent entre le {start} et le {end} ({ids}). Convenez avec les fournisseurs de celle qui assure la formation, ou décalez les dates, avant d'en approuver davantage.",
    ),
    ("accept", "Accepter"),
    ("decline", "Décliner"),
    ("note", "Note"),
    ("schedule", "Planifier"),
    ("start", "Début"),
    ("end", "Fin"),
    ("start_delivery", "Commencer la formation"),
    ("complete", "Terminer"),
    ("cancel", "Annuler"),
    ("trained", "Formés"),
    ("women_trained", "Femmes formées"),
    ("certified", "Certifiés"),
    ("trainers_qualified", "Formateurs qualifiés"),
    ("in_country_seats", "Places dispensées dans le pays"),
    ("in_country_share", "Part dans le pays"),
    ("national_centres", "Centres nationaux"),
    ("un_recognized_centres", "Centres reconnus par l'ONU"),
    ("repeat_capabilities", "Soutien revenu sans former de formateur"),
    ("days_left", "Jours restants"),
    ("compatible_offers", "Offres compatibles"),
    ("deployed_missions", "Missions de déploiement"),
    ("deployed_help", "Sigles de missions séparés par des virgules"),
    ("record_outcome", "Enregistrer le résultat"),
    ("outcome", "Résultat"),
    ("consents", "Consentements"),
    ("history", "Historique"),
    ("window", "Fenêtre de début"),
    ("recipient", "Bénéficiaire"),
    ("download_csv", "Télécharger le CSV"),
    ("gap_report", "Rapport des écarts"),
    ("gender_report", "Rapport sur le genre"),
    ("deconfliction_report", "Rapport de déconfliction"),
    ("capacity_report", "Rapport des capacités"),
    ("readiness_report", "Rapport de préparation"),
    ("by_capability", "Par capacité"),
    ("by_requester", "Par demandeur"),
    ("key", "Clé"),
    ("women_needed", "Femmes demandées"),
    ("women_reserved", "Femmes réservées"),
    ("seats_total", "Places"),
    ("target_share", "Cible"),
    ("below_target", "Sous la cible"),
    ("overall", "Ensemble"),
    ("resources", "Ressources"),
    ("overlap", "Chevauchement"),
    ("sequence", "Séquence"),
    ("kind", "Type"),
    ("time", "Heure"),
    ("actor", "Auteur"),
    ("actor_you", "vous"),
    ("actor_system", "Système"),
    ("actor_secretariat", "Secrétariat"),
    ("actor_party", "La mission d'une partie"),
    ("actor_delivery", "L'équipe de formation"),
    ("actor_other", "Un autre compte"),
    ("resource", "Ressource"),
    ("live_note", "Cette page se met à jour d'elle-même."),
    ("name", "Nom"),
    ("member_state", "État membre"),
    ("revoked", "Révoqué"),
    ("revoke", "Révoquer"),
    ("new_principal", "Nouveau compte"),
    ("token_once", "Le nouveau jeton, affiché cette seule fois. Copiez-le maintenant et remettez-le de façon sûre."),
    ("copy", "Copier"),
    ("copied", "Copié"),
    ("done", "Fait."),
    ("refused", "Refusé"),
    ("error", "La demande a été refusée"),
    ("check_fields", "Vérifiez les champs signalés ci-dessous."),
    ("your_gap", "Votre écart"),
    ("created", "Créé"),
    ("see_all", "Tout voir"),
    ("more", "Suite"),
    ("sort_page", "Les en-têtes de colonne trient toute la liste"),
    ("sorted_by", "trié par"),
    ("ascending", "croissant"),
    ("descending", "décroissant"),
    ("page", "Page"),
    ("previous_page", "Page précédente"),
    ("new_offer", "Nouvelle offre"),
    ("providers_help", "Codes d'États membres (ISO 3166-1 alpha-3) séparés par des virgules ; le premier pilote"),
    ("available_from", "Disponible à partir du"),
    ("available_until", "Disponible jusqu'au"),
    ("eligible_recipients", "Bénéficiaires admissibles"),
    ("recipients_help", "Codes d'États membres séparés par des virgules ; vide pour tous"),
    ("excluded_recipients", "Bénéficiaires exclus"),
    ("max_per_recipient", "Places par bénéficiaire au plus"),
    ("max_per_recipient_help", "Vide ou 0 pour aucune limite"),
    ("centre_help", "L'identifiant du centre de formation (centre-3), pour une formation dans un centre"),
    ("women_only", "Réservée aux femmes"),
    ("requires_funding", "Nécessite un financement"),
];

/// English names of the API's enum values shown to people, keyed by the API name.
pub const ENUMS_EN: &[(&str, &str)] = &[
    ("SUPPORT_CATEGORY_UNSPECIFIED", "Unspecified"),
    ("SUPPORT_CATEGORY_TRAINING", "Training"),
    ("SUPPORT_CATEGORY_EQUIPMENT", "Equipment"),
    ("SUPPORT_CATEGORY_MENTORING", "Mentoring"),
    ("SUPPORT_CATEGORY_ADVISE_AND_ASSIST", "Advise and assist"),
    ("SUPPORT_CATEGORY_INFRASTRUCTURE", "Infrastructure"),
    ("SUPPORT_CATEGORY_LOGISTICS", "Logistics"),
    ("CAPABILITY_AREA_UNSPECIFIED", "Unspecified"),
    ("CAPABILITY_AREA_ENGINEERING", "Engineering"),
    ("CAPABILITY_AREA_MEDICAL", "Medical"),
    ("CAPABILITY_AREA_COUNTER_IED", "Counter-IED"),
    ("CAPABILITY_AREA_AVIATION", "Aviation"),
    ("CAPABILITY_AREA_SIGNALS_C4ISR", "Signals and C4ISR"),
    ("CAPABILITY_AREA_CAMP_SECURITY", "Camp security"),
    ("CAPABILITY_AREA_RAPID_REACTION", "Rapid reaction"),
    ("CAPABILITY_AREA_SITUATIONAL_AWARENESS", "Situational awareness"),
    ("CAPABILITY_AREA_FORMED_POLICE_UNIT", "Formed police units"),
    ("CAPABILITY_AREA_INDIVIDUAL_POLICE", "Individual police officers"),
    ("CAPABILITY_AREA_PROTECTION_OF_CIVILIANS", "Protection of civilians"),
    ("CAPABILITY_AREA_CONDUCT_AND_DISCIPLINE", "Conduct and discipline"),
    ("CAPABILITY_AREA_STAFF_AND_OBSERVERS", "Staff officers and observers"),
    ("CAPABILITY_AREA_LANGUAGE", "Language"),
    ("CAPABILITY_AREA_TRAINING_OF_TRAINERS", "Training of trainers"),
    ("PRIORITY_UNSPECIFIED", "Unspecified"),
    ("PRIORITY_ROUTINE", "Routine"),
    ("PRIORITY_HIGH", "High"),
    ("PRIORITY_CRITICAL", "Critical"),
    ("READINESS_LEVEL_UNSPECIFIED", "Unspecified"),
    ("READINESS_LEVEL_LEVEL_1", "Level 1"),
    ("READINESS_LEVEL_LEVEL_2", "Level 2"),
    ("READINESS_LEVEL_LEVEL_3", "Level 3"),
    ("READINESS_LEVEL_RAPID_DEPLOYMENT", "Rapid deployment"),
    ("DELIVERY_MODE_UNSPECIFIED", "Unspecified"),
    ("DELIVERY_MODE_MOBILE_TRAINING_TEAM", "Mobile training team"),
    ("DELIVERY_MODE_AT_PROVIDER", "At the provider"),
    ("DELIVERY_MODE_AT_TRAINING_CENTRE", "At a training centre"),
    ("DELIVERY_MODE_REMOTE", "Remote"),
    ("OFFER_ROLE_UNSPECIFIED", "Unspecified"),
    ("OFFER_ROLE_DELIVERY", "Delivery"),
    ("OFFER_ROLE_FUNDING", "Funding"),
    ("NEED_STATE_UNSPECIFIED", "Unspecified"),
    ("NEED_STATE_OPEN", "Open"),
    ("NEED_STATE_FULFILLED", "Fulfilled"),
    ("NEED_STATE_WITHDRAWN", "Withdrawn"),
    ("OFFER_STATE_UNSPECIFIED", "Unspecified"),
    ("OFFER_STATE_OPEN", "Open"),
    ("OFFER_STATE_EXHAUSTED", "Exhausted"),
    ("OFFER_STATE_WITHDRAWN", "Withdrawn"),
    ("MATCH_STATE_UNSPECIFIED", "Unspecified"),
    ("MATCH_STATE_PROPOSED", "Proposed"),
    ("MATCH_STATE_APPROVED", "Approved"),
    ("MATCH_STATE_REJECTED", "Rejected"),
    ("MATCH_STATE_STALE", "Stale"),
    ("ARRANGEMENT_STATUS_UNSPECIFIED", "Unspecified"),
    ("ARRANGEMENT_STATUS_PENDING_CONSENT", "Pending consent"),
    ("ARRANGEMENT_STATUS_AGREED", "Agreed"),
    ("ARRANGEMENT_STATUS_SCHEDULED", "Scheduled"),
    ("ARRANGEMENT_STATUS_IN_DELIVERY", "In delivery"),
    ("ARRANGEMENT_STATUS_COMPLETED", "Completed"),
    ("ARRANGEMENT_STATUS_DECLINED", "Declined"),
    ("ARRANGEMENT_STATUS_CANCELLED", "Cancelled"),
    ("CONSENT_DECISION_UNSPECIFIED", "Unspecified"),
    ("CONSENT_DECISION_PENDING", "Pending"),
    ("CONSENT_DECISION_ACCEPTED", "Accepted"),
    ("CONSENT_DECISION_REFUSED", "Refused"),
    ("PRINCIPAL_KIND_UNSPECIFIED", "Unspecified"),
    ("PRINCIPAL_KIND_SECRETARIAT", "Secretariat"),
    ("PRINCIPAL_KIND_MEMBER_STATE", "Member state"),
    ("PRINCIPAL_KIND_TRAINING_CENTRE", "Training centre"),
    ("EVENT_KIND_UNSPECIFIED", "Unspecified"),
    ("EVENT_KIND_NEED_CREATED", "Need created"),
    ("EVENT_KIND_NEED_UPDATED", "Need updated"),
    ("EVENT_KIND_NEED_WITHDRAWN", "Need withdrawn"),
    ("EVENT_KIND_OFFER_CREATED", "Offer created"),
    ("EVENT_KIND_OFFER_UPDATED", "Offer updated"),
    ("EVENT_KIND_OFFER_WITHDRAWN", "Offer withdrawn"),
    ("EVENT_KIND_CENTRE_REGISTERED", "Centre registered"),
    ("EVENT_KIND_MATCH_PROPOSED", "Match proposed"),
    ("EVENT_KIND_MATCH_APPROVED", "Match approved"),
    ("EVENT_KIND_MATCH_REJECTED", "Match rejected"),
    ("EVENT_KIND_MATCH_STALE", "Match stale"),
    ("EVENT_KIND_ARRANGEMENT_CHANGED", "Arrangement changed"),
    ("EVENT_KIND_OUTCOME_RECORDED", "Outcome recorded"),
    ("EVENT_KIND_PRINCIPAL_CHANGED", "Principal changed"),
    ("EVENT_KIND_CENTRE_UPDATED", "Centre updated"),
    ("EVENT_KIND_NEED_AT_RISK", "Need at risk"),
    ("READINESS_STATUS_UNSPECIFIED", "Unspecified"),
    ("READINESS_STATUS_AT_RISK", "At risk"),
    ("READINESS_STATUS_OVERDUE", "Overdue"),
];

/// French names of the same values, the same keys as [`ENUMS_EN`].
pub const ENUMS_FR: &[(&str, &str)] = &[
    ("SUPPORT_CATEGORY_UNSPECIFIED", "Non précisée"),
    ("SUPPORT_CATEGORY_TRAINING", "Formation"),
    ("SUPPORT_CATEGORY_EQUIPMENT", "Équipement"),
    ("SUPPORT_CATEGORY_MENTORING", "Mentorat"),
    ("SUPPORT_CATEGORY_ADVISE_AND_ASSIST", "Conseil et assistance"),
    ("SUPPORT_CATEGORY_INFRASTRUCTURE", "Infrastructures"),
    ("SUPPORT_CATEGORY_LOGISTICS", "Logistique"),
    ("CAPABILITY_AREA_UNSPECIFIED", "Non précisée"),
    ("CAPABILITY_AREA_ENGINEERING", "Génie"),
    ("CAPABILITY_AREA_MEDICAL", "Santé"),
    ("CAPABILITY_AREA_COUNTER_IED", "Lutte contre les EEI"),
    ("CAPABILITY_AREA_AVIATION", "Aviation"),
    ("CAPABILITY_AREA_SIGNALS_C4ISR", "Transmissions et C4ISR"),
    ("CAPABILITY_AREA_CAMP_SECURITY", "Sécurité des camps"),
    ("CAPABILITY_AREA_RAPID_REACTION", "Réaction rapide"),
    ("CAPABILITY_AREA_SITUATIONAL_AWARENESS", "Connaissance de la situation"),
    ("CAPABILITY_AREA_FORMED_POLICE_UNIT", "Unités de police constituées"),
    ("CAPABILITY_AREA_INDIVIDUAL_POLICE", "Policiers individuels"),
    ("CAPABILITY_AREA_PROTECTION_OF_CIVILIANS", "Protection des civils"),
    ("CAPABILITY_AREA_CONDUCT_AND_DISCIPLINE", "Déontologie et discipline"),
    ("CAPABILITY_AREA_STAFF_AND_OBSERVERS", "État-major et observateurs"),
    ("CAPABILITY_AREA_LANGUAGE", "Langues"),
    ("CAPABILITY_AREA_TRAINING_OF_TRAINERS", "Formation de formateurs"),
    ("PRIORITY_UNSPECIFIED", "Non précisée"),
    ("PRIORITY_ROUTINE", "Courante"),
    ("PRIORITY_HIGH", "Élevée"),
    ("PRIORITY_CRITICAL", "Critique"),
    ("READINESS_LEVEL_UNSPECIFIED", "Non précisé"),
    ("READINESS_LEVEL_LEVEL_1", "Niveau 1"),
    ("READINESS_LEVEL_LEVEL_2", "Niveau 2"),
    ("READINESS_LEVEL_LEVEL_3", "Niveau 3"),
    ("READINESS_LEVEL_RAPID_DEPLOYMENT", "Déploiement rapide"),
    ("DELIVERY_MODE_UNSPECIFIED", "Non précisée"),
    ("DELIVERY_MODE_MOBILE_TRAINING_TEAM", "Équipe de formation mobile"),
    ("DELIVERY_MODE_AT_PROVIDER", "Chez le fournisseur"),
    ("DELIVERY_MODE_AT_TRAINING_CENTRE", "Dans un centre de formation"),
    ("DELIVERY_MODE_REMOTE", "À distance"),
    ("OFFER_ROLE_UNSPECIFIED", "Non précisé"),
    ("OFFER_ROLE_DELIVERY", "Prestation"),
    ("OFFER_ROLE_FUNDING", "Financement"),
    ("NEED_STATE_UNSPECIFIED", "Non précisé"),
    ("NEED_STATE_OPEN", "Ouvert"),
    ("NEED_STATE_FULFILLED", "Satisfait"),
    ("NEED_STATE_WITHDRAWN", "Retiré"),
    ("OFFER_STATE_UNSPECIFIED", "Non précisé"),
    ("OFFER_STATE_OPEN", "Ouverte"),
    ("OFFER_STATE_EXHAUSTED", "Épuisée"),
    ("OFFER_STATE_WITHDRAWN", "Retirée"),
    ("MATCH_STATE_UNSPECIFIED", "Non précisé"),
    ("MATCH_STATE_PROPOSED", "Proposé"),
    ("MATCH_STATE_APPROVED", "Approuvé"),
    ("MATCH_STATE_REJECTED", "Rejeté"),
    ("MATCH_STATE_STALE", "Périmé"),
    ("ARRANGEMENT_STATUS_UNSPECIFIED", "Non précisé"),
    ("ARRANGEMENT_STATUS_PENDING_CONSENT", "En attente de consentement"),
    ("ARRANGEMENT_STATUS_AGREED", "Convenu"),
    ("ARRANGEMENT_STATUS_SCHEDULED", "Planifié"),
    ("ARRANGEMENT_STATUS_IN_DELIVERY", "Formation en cours"),
    ("ARRANGEMENT_STATUS_COMPLETED", "Terminé"),
    ("ARRANGEMENT_STATUS_DECLINED", "Décliné"),
    ("ARRANGEMENT_STATUS_CANCELLED", "Annulé"),
    ("CONSENT_DECISION_UNSPECIFIED", "Non précisé"),
    ("CONSENT_DECISION_PENDING", "En attente"),
    ("CONSENT_DECISION_ACCEPTED", "Accepté"),
    ("CONSENT_DECISION_REFUSED", "Refusé"),
    ("PRINCIPAL_KIND_UNSPECIFIED", "Non précisé"),
    ("PRINCIPAL_KIND_SECRETARIAT", "Secrétariat"),
    ("PRINCIPAL_KIND_MEMBER_STATE", "État membre"),
    ("PRINCIPAL_KIND_TRAINING_CENTRE", "Centre de formation"),
    ("EVENT_KIND_UNSPECIFIED", "Non précisé"),
    ("EVENT_KIND_NEED_CREATED", "Besoin créé"),
    ("EVENT_KIND_NEED_UPDATED", "Besoin modifié"),
    ("EVENT_KIND_NEED_WITHDRAWN", "Besoin retiré"),
    ("EVENT_KIND_OFFER_CREATED", "Offre créée"),
    ("EVENT_KIND_OFFER_UPDATED", "Offre modifiée"),
    ("EVENT_KIND_OFFER_WITHDRAWN", "Offre retirée"),
    ("EVENT_KIND_CENTRE_REGISTERED", "Centre enregistré"),
    ("EVENT_KIND_MATCH_PROPOSED", "Appariement proposé"),
    ("EVENT_KIND_MATCH_APPROVED", "Appariement approuvé"),
    ("EVENT_KIND_MATCH_REJECTED", "Appariement rejeté"),
    ("EVENT_KIND_MATCH_STALE", "Appariement périmé"),
    ("EVENT_KIND_ARRANGEMENT_CHANGED", "Accord modifié"),
    ("EVENT_KIND_OUTCOME_RECORDED", "Résultat enregistré"),
    ("EVENT_KIND_PRINCIPAL_CHANGED", "Compte modifié"),
    ("EVENT_KIND_CENTRE_UPDATED", "Centre modifié"),
    ("EVENT_KIND_NEED_AT_RISK", "Besoin à risque"),
    ("READINESS_STATUS_UNSPECIFIED", "Non précisé"),
    ("READINESS_STATUS_AT_RISK", "À risque"),
    ("READINESS_STATUS_OVERDUE", "En retard"),
];

static TABLES: LazyLock<[HashMap<&'static str, &'static str>; 2]> =
    LazyLock::new(|| [EN.iter().chain(ENUMS_EN).copied().collect(), FR.iter().chain(ENUMS_FR).copied().collect()]);

/// The name people read for an API enum value (`ARRANGEMENT_STATUS_PENDING_CONSENT` →
/// "Pending consent" / "En attente de consentement"); a value the catalogues do not know
/// (a newer server's) is shown as its API name.
pub fn label(lang: Lang, api_name: &str) -> String {
    TABLES[lang as usize].get(api_name).map_or_else(|| api_name.to_string(), |s| (*s).to_string())
}

/// The text of `key` in `lang` (the key itself if a catalogue lacks it).
pub fn t(lang: Lang, key: &'static str) -> &'static str {
    let table = &TABLES[lang as usize];
    table.get(key).copied().unwrap_or(key)
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn range_and_length_refusals_read_in_french() {
        assert_eq!(
            service_message(Lang::Fr, "invalid request: offer.capacity: must be between 1 and 100000"),
            "requête invalide : offer.capacity: doit être compris entre 1 et 100000"
        );
        assert_eq!(service_message(Lang::Fr, "must be between 1 and 100000"), "doit être compris entre 1 et 100000");
        assert_eq!(
            service_message(Lang::Fr, "must have at most 200 characters (has 201)"),
            "doit avoir au plus 200 caractères (en a 201)"
        );
        assert_eq!(service_message(Lang::En, "must be between 1 and 9"), "must be between 1 and 9");
    }

    #[test]
    fn catalogues_have_the_same_keys() {
        let en: Vec<&str> = EN.iter().map(|(k, _)| *k).collect();
        let fr: Vec<&str> = FR.iter().map(|(k, _)| *k).collect();
        assert_eq!(en, fr, "the catalogues must list the same keys in the same order");
        let distinct: std::collections::HashSet<_> = en.iter().collect();
        assert_eq!(distinct.len(), en.len(), "a key is listed twice");
    }

    #[test]
    fn every_enum_value_shown_has_a_name_in_both_languages() {
        use crate::api as pb;
        fn names<T>(from: impl Fn(i32) -> Option<T>, name: impl Fn(&T) -> &'static str) -> Vec<&'static str> {
            (0..64).map_while(|i| from(i).map(|v| name(&v))).collect()
        }
        let all = [
            names(|i| pb::SupportCategory::try_from(i).ok(), |v| v.as_str_name()),
            names(|i| pb::CapabilityArea::try_from(i).ok(), |v| v.as_str_name()),
            names(|i| pb::Priority::try_from(i).ok(), |v| v.as_str_name()),
            names(|i| pb::ReadinessLevel::try_from(i).ok(), |v| v.as_str_name()),
            names(|i| pb::DeliveryMode::try_from(i).ok(), |v| v.as_str_name()),
            names(|i| pb::OfferRole::try_from(i).ok(), |v| v.as_str_name()),
            names(|i| pb::NeedState::try_from(i).ok(), |v| v.as_str_name()),
            names(|i| pb::OfferState::try_from(i).ok(), |v| v.as_str_name()),
            names(|i| pb::MatchState::try_from(i).ok(), |v| v.as_str_name()),
            names(|i| pb::ArrangementStatus::try_from(i).ok(), |v| v.as_str_name()),
            names(|i| pb::ConsentDecision::try_from(i).ok(), |v| v.as_str_name()),
            names(|i| pb::PrincipalKind::try_from(i).ok(), |v| v.as_str_name()),
            names(|i| pb::EventKind::try_from(i).ok(), |v| v.as_str_name()),
            names(|i| pb::ReadinessStatus::try_from(i).ok(), |v| v.as_str_name()),
        ];
        let en: HashMap<_, _> = ENUMS_EN.iter().copied().collect();
        let fr: HashMap<_, _> = ENUMS_FR.iter().copied().collect();
        let mut count = 0;
        for name in all.iter().flatten() {
            count += 1;
            let (Some(e), Some(f)) = (en.get(name), fr.get(name)) else { panic!("{name} lacks a name in a catalogue") };
            assert!(!e.is_empty() && !f.is_empty() && !e.contains('_'), "{name}: {e:?} / {f:?}");
        }
        assert_eq!(count, ENUMS_EN.len(), "a catalogue names a value the API does not have");
        let keys = |t: &[(&'static str, &'static str)]| t.iter().map(|(k, _)| *k).collect::<Vec<_>>();
        assert_eq!(keys(ENUMS_EN), keys(ENUMS_FR), "the enum catalogues must list the same keys in the same order");
        assert_eq!(label(Lang::Fr, "ARRANGEMENT_STATUS_PENDING_CONSENT"), "En attente de consentement");
        assert_eq!(label(Lang::En, "MATCH_STATE_PROPOSED"), "Proposed");
        assert_eq!(label(Lang::Fr, "SOMETHING_NEWER"), "SOMETHING_NEWER");
    }

    #[test]
    fn the_start_window_refusal_reads_in_french() {
        let fr = service_message(
            Lang::Fr,
            "must lie between 2027-02-03 and 2027-06-28 (offer availability, need deadline and funding dates, for a 35-day course)",
        );
        assert!(fr.starts_with("doit se situer entre le 2027-02-03 et le 2027-06-28"), "{fr}");
        assert!(fr.contains("35 jours"), "{fr}");
    }

    #[test]
    fn accept_language_picks_the_best_known_language() {
        assert_eq!(Lang::from_accept_language("fr-CH, fr;q=0.9, en;q=0.8"), Some(Lang::Fr));
        assert_eq!(Lang::from_accept_language("de, en;q=0.5, fr;q=0.4"), Some(Lang::En));
        assert_eq!(Lang::from_accept_language("de"), None);
    }
}
