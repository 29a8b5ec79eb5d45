//! Output of protobuf messages: JSON, a detail view of every field, aligned tables and CSV.
//!
//! prost messages do not derive serde, so one mechanism renders them all: the message is
//! re-read as a `prost_reflect::DynamicMessage` through the crate's own file descriptor
//! set and walked field by field. Enums come out as their API names without prefix
//! (`MEDICAL`), timestamps as RFC 3339, unset sub-messages as `null`, and only the member
//! that is set of a oneof. Tables and CSV pick columns out of that JSON (see `views.rs`).

use super::error::CliError;
use crate::api::FILE_DESCRIPTOR_SET;
use prost_reflect::{DescriptorPool, DynamicMessage, Kind, MessageDescriptor, ReflectMessage, Value as PValue};
use serde_json::{Map, Value};
use std::io::Write;
use std::sync::OnceLock;

/// How a command prints what it got back.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    /// Aligned tables for lists, `field: value` lines for one resource.
    Table,
    /// Pretty JSON (one compact object per line for streams).
    Json,
    /// Comma-separated values with a header row.
    Csv,
}

/// How one table column formats its JSON value.
#[derive(Clone, Copy, Debug)]
pub enum Cell {
    /// As it is (strings, numbers, booleans; lists joined with `,`).
    Plain,
    /// An RFC 3339 timestamp cut to its day, `YYYY-MM-DD`.
    Date,
    /// An RFC 3339 timestamp cut to whole seconds.
    Time,
    /// Text cut to this many characters in tables (never in CSV).
    Short(usize),
    /// A list joined with this separator (e.g. `"; "` for sentences).
    Joined(&'static str),
    /// A number with three decimals (shares, scores).
    Decimal,
}

/// One column: its header, a dotted path into the message's JSON, and its format.
#[derive(Clone, Copy, Debug)]
pub struct Column(pub &'static str, pub &'static str, pub Cell);

/// A message type the CLI prints: its protobuf full name and its table columns.
pub trait View: prost::Message + Sized {
    /// E.g. `"lcm.v1.Need"`.
    const FULL_NAME: &'static str;
    /// The key columns shown in tables and CSV.
    const COLUMNS: &'static [Column];
}

fn pool() -> Result<&'static DescriptorPool, CliError> {
    static POOL: OnceLock<Result<DescriptorPool, String>> = OnceLock::new();
    POOL.get_or_init(|| DescriptorPool::decode(FILE_DESCRIPTOR_SET).map_err(|e| e.to_string()))
        .as_ref()
        .map_err(|e| CliError::Output(std::io::Error::other(format!("descriptor set: {e}"))))
}

fn descriptor(full_name: &str) -> Result<MessageDescriptor, CliError> {
    pool()?
        .get_message_by_name(full_name)
        .ok_or_else(|| CliError::Output(std::io::Error::other(format!("unknown message {full_name}"))))
}

/// The message as JSON (field names as in the proto, snake_case).
pub fn to_json<M: View>(message: &M) -> Result<Value, CliError> {
    let desc = descriptor(M::FULL_NAME)?;
    let dynamic = DynamicMessage::decode(desc, message.encode_to_vec().as_slice())
        .map_err(|e| CliError::Output(std::io::Error::other(e.to_string())))?;
    Ok(message_json(&dynamic))
}

fn message_json(message: &DynamicMessage) -> Value {
    let desc = message.descriptor();
    if desc.full_name() == "google.protobuf.Timestamp" {
        return timestamp_json(message);
    }
    let mut map = Map::new();
    for field in desc.fields() {
        let in_oneof = field.containing_oneof().is_some();
        let is_message = matches!(field.kind(), Kind::Message(_)) && !field.is_list();
        if (in_oneof || is_message) && !message.has_field(&field) {
            if !in_oneof {
                map.insert(field.name().to_string(), Value::Null);
            }
            continue;
        }
        let value = message.get_field(&field);
        map.insert(field.name().to_string(), value_json(&value, &field.kind()));
    }
    Value::Object(map)
}

fn timestamp_json(message: &DynamicMessage) -> Value {
    let seconds = message.get_field_by_name("seconds").and_then(|v| v.as_i64());
    let nanos = message.get_field_by_name("nanos").and_then(|v| v.as_i32());
    let ts = prost_types::Timestamp { seconds: seconds.unwrap_or(0), nanos: nanos.unwrap_or(0) };
    Value::String(ts.to_string())
}

fn value_json(value: &PValue, kind: &Kind) -> Value {
    match value {
        PValue::Bool(b) => Value::Bool(*b),
        PValue::I32(n) => Value::from(*n),
        PValue::I64(n) => Value::from(*n),
        PValue::U32(n) => Value::from(*n),
        PValue::U64(n) => Value::from(*n),
        PValue::F32(x) => Value::from(f64::from(*x)),
        PValue::F64(x) => Value::from(*x),
        PValue::String(s) => Value::String(s.clone()),
        PValue::Bytes(b) => Value::String(hex::encode(b)),
        PValue::EnumNumber(n) => enum_json(*n, kind),
        PValue::Message(m) => message_json(m),
        PValue::List(items) => Value::Array(items.iter().map(|v| value_json(v, kind)).collect()),
        PValue::Map(entries) => {
            let value_kind = match kind {
                Kind::Message(entry) => entry.map_entry_value_field().kind(),
                other => other.clone(),
            };
            let mut map = Map::new();
            for (key, v) in entries {
                let key = match key {
                    prost_reflect::MapKey::String(s) => s.clone(),
                    other => format!("{other:?}"),
                };
                map.insert(key, value_json(v, &value_kind));
            }
            Value::Object(map)
        }
    }
}

/// An enum number as its value name without the enum's prefix; unknown numbers as numbers.
fn enum_json(number: i32, kind: &Kind) -> Value {
    let Kind::Enum(desc) = kind else {
        return Value::from(number);
    };
    let Some(value) = desc.get_value(number) else {
        return Value::from(number);
    };
    let prefix = desc.get_value(0).map(|v| v.name().trim_end_matches("UNSPECIFIED").to_string()).unwrap_or_default();
    let name = value.name();
    Value::String(name.strip_prefix(prefix.as_str()).unwrap_or(name).to_string())
}

/// Prints one message: every field (`get`, `show`), or JSON.
pub fn print_one<M: View>(out: &mut dyn Write, message: &M, format: Format) -> Result<(), CliError> {
    let json = to_json(message)?;
    match format {
        Format::Json => writeln!(out, "{}", pretty(&json))?,
        Format::Table | Format::Csv => {
            let desc = descriptor(M::FULL_NAME)?;
            write_detail(out, &json, Some(&desc), 0)?;
        }
    }
    Ok(())
}

/// Prints a list of messages: a table, a JSON array, or CSV.
pub fn print_list<M: View>(out: &mut dyn Write, items: &[M], format: Format) -> Result<(), CliError> {
    let rows = items.iter().map(to_json).collect::<Result<Vec<_>, _>>()?;
    match format {
        Format::Json => writeln!(out, "{}", pretty(&Value::Array(rows)))?,
        Format::Table => write_table(out, M::COLUMNS, &rows)?,
        Format::Csv => write_csv(out, M::COLUMNS, &rows)?,
    }
    Ok(())
}

/// Pretty JSON text (serialising a `Value` cannot fail; fall back to compact anyway).
pub fn pretty(value: &Value) -> String {
    serde_json::to_string_pretty(value).unwrap_or_else(|_| value.to_string())
}

/// `field: value` lines in declaration order; nested messages and lists of them indented.
fn write_detail(
    out: &mut dyn Write,
    json: &Value,
    desc: Option<&MessageDescriptor>,
    indent: usize,
) -> Result<(), CliError> {
    let Value::Object(map) = json else {
        writeln!(out, "{:indent$}{}", "", scalar_text(json))?;
        return Ok(());
    };
    let names: Vec<(String, Option<MessageDescriptor>)> = match desc {
        Some(d) => d
            .fields()
            .map(|f| {
                let sub = f.kind().as_message().cloned();
                (f.name().to_string(), sub)
            })
            .collect(),
        None => map.keys().map(|k| (k.clone(), None)).collect(),
    };
    let width = names.iter().map(|(n, _)| n.len()).max().unwrap_or(0);
    for (name, sub) in names {
        let Some(value) = map.get(&name) else {
            continue;
        };
        let nested = sub.filter(|d| d.full_name() != "google.protobuf.Timestamp");
        match (value, &nested) {
            (Value::Object(_), Some(d)) => {
                writeln!(out, "{:indent$}{name}:", "")?;
                write_detail(out, value, Some(d), indent + 2)?;
            }
            (Value::Array(items), Some(d)) if !items.is_empty() => {
                writeln!(out, "{:indent$}{name}:", "")?;
                for (i, item) in items.iter().enumerate() {
                    writeln!(out, "{:indent$}  [{i}]", "")?;
                    write_detail(out, item, Some(d), indent + 4)?;
                }
            }
            _ => writeln!(out, "{:indent$}{name:width$}  {}", "", scalar_text(value))?,
        }
    }
    Ok(())
}

/// A JSON value as one cell of text: lists joined with `,`, null as empty.
pub fn scalar_text(value: &Value) -> String {
    match value {
        Value::Null => String::new(),
        Value::String(s) => s.clone(),
        Value::Array(items) => items.iter().map(scalar_text).filter(|t| !t.is_empty()).collect::<Vec<_>>().join(","),
        Value::Object(_) => value.to_string(),
        other => other.to_string(),
    }
}

/// The value at a dotted path (`allocation.offer_id`), or null. Through a list, the path
/// collects the field of every element (`allocations.offer_id` is a list of offer ids).
fn lookup(json: &Value, path: &str) -> Value {
    match path.split_once('.') {
        None => json.get(path).cloned().unwrap_or(Value::Null),
        Some((head, rest)) => match json.get(head) {
            Some(Value::Array(items)) => Value::Array(items.iter().map(|item| lookup(item, rest)).collect()),
            Some(inner) => lookup(inner, rest),
            None => Value::Null,
        },
    }
}

fn cell_text(json: &Value, column: &Column, in_table: bool) -> String {
    let value = lookup(json, column.1);
    let text = scalar_text(&value);
    // An enum left unset (e.g. the mode of a FUNDING offer) reads better as nothing.
    let text = if text == "UNSPECIFIED" { String::new() } else { text };
    match column.2 {
        Cell::Plain => text,
        Cell::Date => text.chars().take(10).collect(),
        Cell::Time => match text.find('.') {
            Some(dot) if text.ends_with('Z') => format!("{}Z", &text[..dot]),
            _ => text,
        },
        Cell::Short(max) if in_table && text.chars().count() > max => {
            let cut: String = text.chars().take(max.saturating_sub(1)).collect();
            format!("{cut}…")
        }
        Cell::Short(_) => text,
        Cell::Joined(sep) => match value {
            Value::Array(items) => items.iter().map(scalar_text).collect::<Vec<_>>().join(sep),
            _ => text,
        },
        Cell::Decimal => value.as_f64().map_or(text, |x| format!("{x:.3}")),
    }
}

/// An aligned text table with a header row, or `(none)` when there are no rows.
pub fn write_table(out: &mut dyn Write, columns: &[Column], rows: &[Value]) -> Result<(), CliError> {
    if rows.is_empty() {
        writeln!(out, "(none)")?;
        return Ok(());
    }
    let cells: Vec<Vec<String>> =
        rows.iter().map(|r| columns.iter().map(|c| cell_text(r, c, true)).collect()).collect();
    let widths: Vec<usize> = columns
        .iter()
        .enumerate()
        .map(|(i, c)| cells.iter().map(|row| row[i].chars().count()).chain([c.0.len()]).max().unwrap_or(0))
        .collect();
    let line = |items: Vec<&str>| -> String {
        let mut s = String::new();
        for (i, item) in items.iter().enumerate() {
            let pad = widths[i].saturating_sub(item.chars().count());
            s.push_str(item);
            if i + 1 < items.len() {
                s.push_str(&" ".repeat(pad + 2));
            }
        }
        s
    };
    writeln!(out, "{}", line(columns.iter().map(|c| c.0).collect()))?;
    for row in &cells {
        writeln!(out, "{}", line(row.iter().map(String::as_str).collect()))?;
    }
    Ok(())
}

/// RFC 4180 CSV: a header row, then one row per message; fields quoted when needed.
pub fn write_csv(out: &mut dyn Write, columns: &[Column], rows: &[Value]) -> Result<(), CliError> {
    let header: Vec<String> = columns.iter().map(|c| csv_field(c.0)).collect();
    writeln!(out, "{}", header.join(","))?;
    for row in rows {
        let fields: Vec<String> = columns.iter().map(|c| csv_field(&cell_text(row, c, false))).collect();
        writeln!(out, "{}", fields.join(","))?;
    }
    Ok(())
}

fn csv_field(text: &str) -> String {
    if text.contains([',', '"', '\n', '\r']) { format!("\"{}\"", text.replace('"', "\"\"")) } else { text.to_string() }
}
