//! Tests of argument parsing (dates, enums, lists, update masks) and of the JSON, table
//! and CSV rendering, without a server.

use super::render::{Format, print_list, print_one, to_json};
use super::{ClientArgs, ClientCommand, Mask};
use super::{arrangements::ArrangementsCmd, events::EventsCmd, needs::NeedsCmd, offers::OffersCmd};
use crate::api;
use clap::Parser;
use serde_json::json;

#[derive(Debug, Parser)]
#[command(name = "lcm")]
struct Cli {
    #[command(flatten)]
    client: ClientArgs,
    #[command(subcommand)]
    command: ClientCommand,
}

fn parse(line: &str) -> Result<Cli, clap::Error> {
    Cli::try_parse_from(std::iter::once("lcm").chain(line.split_whitespace()))
}

fn command(line: &str) -> ClientCommand {
    match parse(line) {
        Ok(cli) => cli.command,
        Err(e) => panic!("{line}: {e}"),
    }
}

const NEED: &str = "needs create --requester uga --category TRAINING --capability engineering \
    --title HEE --quantity 20 --women-quantity 4 --languages en,FR --needed-by 2027-03-01 \
    --priority HIGH --pledge-level LEVEL_2 --accepted-modes MOBILE_TRAINING_TEAM,REMOTE";

#[test]
fn needs_create_parses_codes_enums_lists_and_dates() {
    let ClientCommand::Needs(NeedsCmd::Create(args)) = command(NEED) else {
        panic!("not needs create");
    };
    let need = args.to_need();
    assert_eq!(need.requester, "UGA");
    assert_eq!(need.category, i32::from(api::SupportCategory::Training));
    assert_eq!(need.capability, i32::from(api::CapabilityArea::Engineering));
    assert_eq!(need.languages, ["en", "fr"]);
    assert_eq!((need.quantity, need.women_quantity), (20, 4));
    assert_eq!(need.needed_by.map(|t| t.seconds), Some(1_803_859_200));
    assert_eq!(need.priority, i32::from(api::Priority::High));
    assert_eq!(need.pledge_level, i32::from(api::ReadinessLevel::Level2));
    let modes = [api::DeliveryMode::MobileTrainingTeam, api::DeliveryMode::Remote];
    assert_eq!(need.accepted_modes, modes.map(i32::from));
    assert!(need.pledge_ref.is_empty() && need.mission.is_empty());
}

#[test]
fn bad_values_are_refused_before_anything_is_sent() {
    for (from, to) in [
        ("--priority HIGH", "--priority URGENT"),
        ("--needed-by 2027-03-01", "--needed-by 1/3/2027"),
        ("--languages en,FR", "--languages english"),
        ("--requester uga", "--requester UG"),
        ("--category TRAINING", "--category UNSPECIFIED"),
        ("--quantity 20", "--quantity -1"),
    ] {
        let line = NEED.replace(from, to);
        assert!(parse(&line).is_err(), "accepted: {to}");
    }
    assert!(parse("needs create --requester UGA").is_err(), "missing flags accepted");
}

#[test]
fn update_mask_names_exactly_the_fields_given() {
    let line = "needs update n1 --etag e1 --quantity 0 --title New --accepted-modes";
    let ClientCommand::Needs(NeedsCmd::Update(args)) = command(line) else {
        panic!("not needs update");
    };
    let (need, mask) = args.to_need_and_mask("e1".into());
    assert_eq!(mask.paths(), ["title", "quantity", "accepted_modes"]);
    assert_eq!((need.id.as_str(), need.etag.as_str()), ("n1", "e1"));
    assert_eq!((need.quantity, need.title.as_str()), (0, "New"));
    assert!(need.accepted_modes.is_empty());

    let line = "offers update o1 --women-only false --eligible-recipients uga,RWA --capacity 12";
    let ClientCommand::Offers(OffersCmd::Update(args)) = command(line) else {
        panic!("not offers update");
    };
    let (offer, mask) = args.to_offer_and_mask(String::new());
    assert_eq!(mask.paths(), ["capacity", "eligible_recipients", "women_only"]);
    assert_eq!(offer.eligible_recipients, ["UGA", "RWA"]);
    assert!(!offer.women_only);

    let ClientCommand::Needs(NeedsCmd::Update(args)) = command("needs update n1") else {
        panic!("not needs update");
    };
    let (_, mask) = args.to_need_and_mask(String::new());
    assert!(mask.into_field_mask().is_err(), "an empty mask must not be sent");
    assert!(Mask::default().paths().is_empty());
}

#[test]
fn offers_create_leaves_delivery_fields_unset_for_funding() {
    let line = "offers create --providers JPN --role FUNDING --category TRAINING \
        --capability ENGINEERING --title Fund --capacity 20 --available-from 2027-01-01 \
        --available-until 2027-12-31";
    let ClientCommand::Offers(OffersCmd::Create(args)) = command(line) else {
        panic!("not offers create");
    };
    let offer = args.to_offer();
    assert_eq!(offer.role, i32::from(api::OfferRole::Funding));
    assert_eq!((offer.mode, offer.duration_days), (0, 0));
    assert!(offer.languages.is_empty() && offer.training_centre_id.is_empty());
}

#[test]
fn global_flags_and_other_commands_parse() {
    let cli =
        parse("events watch --after 42 --kinds ARRANGEMENT_CHANGED,outcome_recorded --json").expect("events watch");
    assert!(cli.client.json);
    let ClientCommand::Events(EventsCmd::Watch { after, kinds, .. }) = cli.command else {
        panic!("not events watch");
    };
    assert_eq!(after, 42);
    assert_eq!(kinds, [api::EventKind::ArrangementChanged, api::EventKind::OutcomeRecorded]);
    let line = "arrangements schedule a1 --start 2027-02-01 --note go";
    let ClientCommand::Arrangements(ArrangementsCmd::Schedule { step, start, end }) = command(line) else {
        panic!("not arrangements schedule");
    };
    assert_eq!((step.id.as_str(), step.note.as_str()), ("a1", "go"));
    assert_eq!(start.seconds % 86_400, 0);
    assert!(end.is_none());
    for line in [
        "match propose --dry-run --capability MEDICAL,counter_ied",
        "match approve m1 --comment ok",
        "explain n1",
        "report gaps --by requester --csv",
        "report gender --json",
        "admin principals create --kind MEMBER_STATE --member-state UGA --display-name Uganda",
        "centres create --name C --host-state KEN --languages en --capabilities ENGINEERING",
        "import fixtures/tpp-demo.json",
        "arrangements outcome a1 --trained 10 --women-trained 2 --deployed-missions UNMISS,MINUSCA",
    ] {
        assert!(parse(line).is_ok(), "{line}: {:?}", parse(line).err());
    }
}

fn sample_need() -> api::Need {
    api::Need {
        id: "n1".into(),
        requester: "UGA".into(),
        category: api::SupportCategory::Training.into(),
        capability: api::CapabilityArea::Medical.into(),
        title: "Field medical, \"FMAC\"".into(),
        quantity: 12,
        languages: vec!["en".into(), "fr".into()],
        needed_by: Some(prost_types::Timestamp { seconds: 1_803_859_200, nanos: 0 }),
        accepted_modes: vec![api::DeliveryMode::Remote.into()],
        state: api::NeedState::Open.into(),
        ..api::Need::default()
    }
}

#[test]
fn json_uses_api_enum_names_rfc3339_and_null_for_unset_messages() {
    let json = to_json(&sample_need()).expect("json");
    assert_eq!(json["capability"], json!("MEDICAL"));
    assert_eq!(json["state"], json!("OPEN"));
    assert_eq!(json["priority"], json!("UNSPECIFIED"));
    assert_eq!(json["accepted_modes"], json!(["REMOTE"]));
    assert_eq!(json["needed_by"], json!("2027-03-01T00:00:00Z"));
    assert_eq!(json["create_time"], json!(null));
    assert_eq!(json["quantity"], json!(12));
    assert_eq!(json["women_quantity"], json!(0));
    assert_eq!(json["languages"], json!(["en", "fr"]));
}

#[test]
fn json_of_an_event_holds_only_the_oneof_member_that_is_set() {
    let event = api::Event {
        sequence: 7,
        kind: api::EventKind::NeedCreated.into(),
        resource_id: "n1".into(),
        resource: Some(api::event::Resource::Need(sample_need())),
        ..api::Event::default()
    };
    let json = to_json(&event).expect("json");
    assert_eq!(json["kind"], json!("NEED_CREATED"));
    assert_eq!(json["need"]["id"], json!("n1"));
    assert!(json.get("offer").is_none() && json.get("match").is_none());
}

#[test]
fn tables_csv_and_details_show_key_columns() {
    let needs = vec![sample_need(), api::Need::default()];
    let mut table = Vec::new();
    print_list(&mut table, &needs, Format::Table).expect("table");
    let table = String::from_utf8(table).expect("utf8");
    let lines: Vec<&str> = table.lines().collect();
    assert_eq!(lines.len(), 3, "{table}");
    assert!(lines[0].starts_with("ID") && lines[0].contains("NEEDED_BY"));
    assert!(lines[1].contains("MEDICAL") && lines[1].contains("2027-03-01"));
    assert!(!lines[1].contains("T00:00:00Z"));

    let mut csv = Vec::new();
    print_list(&mut csv, &needs[..1], Format::Csv).expect("csv");
    let csv = String::from_utf8(csv).expect("utf8");
    assert!(csv.contains(r#""Field medical, ""FMAC""""#), "{csv}");

    let mut detail = Vec::new();
    print_one(&mut detail, &needs[0], Format::Table).expect("detail");
    let detail = String::from_utf8(detail).expect("utf8");
    assert!(detail.lines().any(|l| l.starts_with("languages") && l.ends_with("en,fr")));
    assert!(detail.contains("2027-03-01T00:00:00Z"));

    let mut empty = Vec::new();
    print_list::<api::Need>(&mut empty, &[], Format::Table).expect("empty");
    assert_eq!(String::from_utf8(empty).expect("utf8"), "(none)\n");
}

#[test]
fn nested_lists_are_collected_through_paths() {
    let found = api::Match {
        id: "m1".into(),
        allocations: vec![
            api::Allocation { offer_id: "o1".into(), funding_offer_id: "f1".into(), ..api::Allocation::default() },
            api::Allocation { offer_id: "o2".into(), ..api::Allocation::default() },
        ],
        ..api::Match::default()
    };
    let mut table = Vec::new();
    print_list(&mut table, &[found], Format::Table).expect("table");
    let table = String::from_utf8(table).expect("utf8");
    assert!(table.contains("o1,o2") && table.contains("f1"), "{table}");
}

#[test]
fn scenario_records_map_onto_create_messages() {
    use super::import::{centre_message, need_message, offer_message};
    let scenario =
        crate::scenario::Scenario::from_json(include_str!("../../fixtures/tpp-demo.json")).expect("fixture parses");
    let t0 = 1_800_000_123;
    let centres: std::collections::BTreeMap<String, String> = scenario
        .training_centres
        .iter()
        .enumerate()
        .map(|(i, c)| (c.reference.clone(), format!("centre-{i}")))
        .collect();
    for centre in &scenario.training_centres {
        let message = centre_message(centre).expect("centre");
        assert_eq!(message.capabilities.len(), centre.capabilities.len());
        assert!(message.capabilities.iter().all(|c| *c != 0));
    }
    for need in &scenario.needs {
        let message = need_message(need, t0).expect("need");
        let needed_by = message.needed_by.map(|t| t.seconds);
        assert_eq!(needed_by, Some(t0 + need.spec.needed_by * 86_400));
        assert!(message.category != 0 && message.capability != 0 && message.priority != 0);
        assert_eq!(message.mission, need.spec.mission);
    }
    for offer in &scenario.offers {
        let message = offer_message(offer, t0, &centres).expect("offer");
        let from = message.available_from.map(|t| t.seconds);
        assert_eq!(from, Some(t0 + offer.available_from_days * 86_400));
        let funding = message.role == i32::from(api::OfferRole::Funding);
        assert_eq!(funding, message.mode == 0 && message.languages.is_empty());
        let at_centre = message.mode == i32::from(api::DeliveryMode::AtTrainingCentre);
        assert_eq!(at_centre, message.training_centre_id.starts_with("centre-"));
    }
    let with_centre = scenario.offers.iter().find(|o| o.training_centre.is_some()).expect("an offer at a centre");
    assert!(offer_message(with_centre, t0, &Default::default()).is_err());
}

#[test]
fn client_command_stays_small_enough_to_sit_beside_serve() {
    // clippy's large_enum_variant fires on the binary's top-level enum otherwise.
    assert!(std::mem::size_of::<ClientCommand>() <= 256, "{}", std::mem::size_of::<ClientCommand>());
}
