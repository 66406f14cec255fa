//! The vectors' JSON form: rendering our values the same way, and short diffs between the two.

use orrery_codec::Value;
use serde_json::Value as Json;

/// Renders a [`Value`] as the vectors do: byte strings as `0x…` hex, fields by name.
pub fn to_json(value: &Value) -> Json {
    match value {
        Value::Null => Json::Null,
        Value::Bool(b) => Json::Bool(*b),
        Value::Int(n) => Json::from(*n),
        Value::Bytes(bytes) => Json::String(format!("0x{}", hex::encode(bytes))),
        Value::List(items) => Json::Array(items.iter().map(to_json).collect()),
        Value::Map(fields) => Json::Object(fields.iter().map(|(k, v)| (k.clone(), to_json(v))).collect()),
    }
}

/// Parses a `0x`-prefixed (or bare) hex string.
pub fn parse_hex(text: &str) -> Result<Vec<u8>, String> {
    hex::decode(text.strip_prefix("0x").unwrap_or(text)).map_err(|e| format!("bad hex {text:?}: {e}"))
}

/// Reads a JSON file.
pub fn read_json(path: &std::path::Path) -> Result<Json, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("reading {}: {e}", path.display()))?;
    serde_json::from_str(&text).map_err(|e| format!("parsing {}: {e}", path.display()))
}

/// Up to `limit` differences between `expected` and `actual`, each as `path: expected … got …`.
pub fn diff(expected: &Json, actual: &Json, limit: usize) -> Vec<String> {
    let mut out = Vec::new();
    walk(expected, actual, &mut String::new(), &mut out, limit);
    out
}

fn walk(expected: &Json, actual: &Json, path: &mut String, out: &mut Vec<String>, limit: usize) {
    if out.len() >= limit || expected == actual {
        return;
    }
    match (expected, actual) {
        (Json::Object(e), Json::Object(a)) => {
            for (key, ev) in e {
                let len = path.len();
                path.push('.');
                path.push_str(key);
                match a.get(key) {
                    Some(av) => walk(ev, av, path, out, limit),
                    None => out.push(format!("{path}: missing")),
                }
                path.truncate(len);
            }
            for key in a.keys().filter(|k| !e.contains_key(*k)) {
                out.push(format!("{path}.{key}: unexpected"));
            }
        }
        (Json::Array(e), Json::Array(a)) if e.len() == a.len() => {
            for (i, (ev, av)) in e.iter().zip(a).enumerate() {
                let len = path.len();
                path.push_str(&format!("[{i}]"));
                walk(ev, av, path, out, limit);
                path.truncate(len);
            }
        }
        _ => out.push(format!("{}: expected {} got {}", display_path(path), short(expected), short(actual))),
    }
    out.truncate(limit);
}

fn display_path(path: &str) -> &str {
    if path.is_empty() {
        "(root)"
    } else {
        path
    }
}

/// A JSON value cut to a readable length.
pub fn short(value: &Json) -> String {
    let text = value.to_string();
    if text.len() > 80 {
        format!("{}…({} chars)", text.chars().take(77).collect::<String>(), text.len())
    } else {
        text
    }
}
