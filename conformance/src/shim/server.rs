//! The shim side of the protocol: serves any [`Implementation`] over JSON lines.
//!
//! [`serve`] reads one request per line, answers it with exactly one reply line, and returns
//! at end of input. It never writes anything else to its output. The built-in shim binary
//! serves [`Builtin`](crate::builtin::Builtin) with it; a test fixture adds deliberate
//! defects ([`Defects`]) to prove that the runner catches them.

use std::io::{BufRead, Write};

use serde_json::{Value, json};

pub use super::defects::{Defects, committed_event};
use crate::implementation::{Failure, Implementation};

/// One reply, before it gets its id.
#[derive(Clone, Debug, PartialEq)]
pub enum Reply {
    /// The operation produced `value` (an object).
    Ok(Value),
    /// The implementation rejected the input with this class.
    Error(String),
    /// The implementation does not provide this feature.
    Unimplemented(String),
}

impl Reply {
    fn line(&self, id: &Value) -> String {
        match self {
            Reply::Ok(value) => json!({"id": id, "result": "ok", "value": value}),
            Reply::Error(class) => json!({"id": id, "result": "error", "class": class}),
            Reply::Unimplemented(feature) => {
                json!({"id": id, "result": "unimplemented", "feature": feature})
            }
        }
        .to_string()
    }
}

impl From<Failure> for Reply {
    fn from(f: Failure) -> Reply {
        match f {
            Failure::Error { class } => Reply::Error(class),
            Failure::Unimplemented { feature } => Reply::Unimplemented(feature),
        }
    }
}

/// Serves `imp` over the shim protocol: one reply line on `output` per request line of
/// `input`, until end of input.
///
/// # Errors
/// If reading or writing fails.
pub fn serve(
    imp: &mut dyn Implementation,
    input: impl BufRead,
    mut output: impl Write,
    defects: &Defects,
) -> std::io::Result<()> {
    for line in input.lines() {
        let line = line?;
        if line.trim().is_empty() {
            continue;
        }
        let (id, reply) = match serde_json::from_str::<Value>(&line) {
            Ok(request) if !request.is_object() => (
                Value::Null,
                Reply::Error("harness.request: not a JSON object".to_owned()),
            ),
            Ok(request) => {
                let id = request.get("id").cloned().unwrap_or(Value::Null);
                let op = request
                    .get("op")
                    .and_then(Value::as_str)
                    .unwrap_or_default();
                if defects.on("crash", op) {
                    std::process::exit(3);
                }
                if defects.on("hang", op) {
                    loop {
                        std::thread::sleep(std::time::Duration::from_secs(3600));
                    }
                }
                if defects.on("stderr", op) {
                    eprintln!("shim diagnostic: received {op}");
                }
                if defects.on("garbage", op) {
                    writeln!(output, "this is not a reply")?;
                    output.flush()?;
                    continue;
                }
                let args = request.get("args").cloned().unwrap_or(Value::Null);
                let mut reply = handle(imp, op, args, defects);
                if defects.on("extra-field", op)
                    && let Reply::Ok(Value::Object(map)) = &mut reply
                {
                    map.insert("extra".to_owned(), Value::Bool(true));
                }
                (id, reply)
            }
            Err(e) => (
                Value::Null,
                Reply::Error(format!("harness.request: not JSON: {e}")),
            ),
        };
        writeln!(output, "{}", reply.line(&id))?;
        output.flush()?;
    }
    Ok(())
}

/// Answers one op.
pub fn handle(imp: &mut dyn Implementation, op: &str, args: Value, defects: &Defects) -> Reply {
    match defects.call(imp, op, args) {
        Ok(value) => Reply::Ok(value),
        Err(failure) => failure.into(),
    }
}

#[cfg(test)]
#[allow(clippy::indexing_slicing)]
mod tests {
    use super::*;
    use crate::builtin::Builtin;

    fn run(lines: &str, defects: &[&str]) -> Vec<Value> {
        let mut out = Vec::new();
        let defects =
            Defects::new(defects.iter().map(|s| (*s).to_owned()).collect()).unwrap_or_default();
        let served = serve(
            &mut Builtin::default(),
            lines.as_bytes(),
            &mut out,
            &defects,
        );
        assert!(served.is_ok());
        String::from_utf8_lossy(&out)
            .lines()
            .map(|l| serde_json::from_str(l).unwrap_or(Value::Null))
            .collect()
    }

    #[test]
    fn answers_every_line() {
        let replies = run(
            concat!(
                "{\"id\":1,\"op\":\"capabilities\",\"args\":{}}\n",
                "{\"id\":2,\"op\":\"cbor-decode\",\"args\":{\"input\":\"00\",\"limits\":{\"maxInput\":8,\"maxDepth\":2,\"maxString\":8,\"maxItems\":8}}}\n",
                "{\"id\":3,\"op\":\"no-such-op\",\"args\":{}}\n",
                "{\"id\":4,\"op\":\"cbor-decode\",\"args\":{}}\n",
                "not json\n",
                "[1]\n",
                "{\"id\":5,\"op\":\"did-key-decode\",\"args\":{\"did\":\"x\"}}\n",
            ),
            &[],
        );
        assert_eq!(replies.len(), 7);
        assert_eq!(replies[0]["value"]["protocol"], 1);
        assert_eq!(replies[1]["value"]["reencoded"], "00");
        assert_eq!(replies[2]["result"], "unimplemented");
        assert_eq!(replies[2]["feature"], "op:no-such-op");
        assert_eq!(replies[3]["result"], "error");
        assert!(
            replies[3]["class"]
                .as_str()
                .is_some_and(|c| c.contains("missing field `input`"))
        );
        assert_eq!(replies[4]["id"], Value::Null);
        assert_eq!(replies[5]["id"], Value::Null);
        assert_eq!(replies[5]["result"], "error");
        assert_eq!(replies[6]["class"], "didkey.scheme");
    }

    #[test]
    fn defects_are_checked() {
        assert!(Defects::new(vec!["crash:cbor-decode".to_owned()]).is_ok());
        assert!(Defects::new(vec!["crash:nothing".to_owned()]).is_err());
        assert!(Defects::new(vec!["typo".to_owned()]).is_err());
        let replies = run(
            "{\"id\":1,\"op\":\"did-key-encode\",\"args\":{\"key\":\"00\"}}\n",
            &["no-did-key"],
        );
        assert_eq!(replies[0]["feature"], "did-key");
    }
}
