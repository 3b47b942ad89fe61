//! CBOR diagnostic notation (RFC 8949 §8) of decoded values, for readers of the vectors.

use quietwire::cbor::Value;

/// The diagnostic notation of `value`, e.g. `{1: 1, 2: h'00ff'}`.
pub fn diagnostic(value: &Value) -> String {
    let mut out = String::new();
    write(value, &mut out);
    out
}

fn write(value: &Value, out: &mut String) {
    match value {
        Value::Int(int) => out.push_str(&int.as_i128().to_string()),
        Value::Bytes(bytes) => {
            out.push_str("h'");
            out.push_str(&hex::encode(bytes));
            out.push('\'');
        }
        Value::Text(text) => out.push_str(&serde_json::Value::String(text.clone()).to_string()),
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                write(item, out);
            }
            out.push(']');
        }
        Value::Map(map) => {
            out.push('{');
            for (i, (key, item)) in map.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                out.push_str(&key.as_i128().to_string());
                out.push_str(": ");
                write(item, out);
            }
            out.push('}');
        }
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
    }
}
