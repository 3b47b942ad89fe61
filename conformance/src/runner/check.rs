//! The vocabulary of the runner's [table](super::table) and how it runs: an operation's
//! arguments taken from the vector by name, and its value's fields compared with the vector's
//! by name (spec/16-conformance-shim.md SHIM-03, Table 16-2).
//!
//! A vector is read as its JSON: the test's fields, then the group's parameters. An argument
//! named like a vector field carries that field as it is; the few that do not say where they
//! come from ([`Arg`]). A check names a value field, how it is read ([`Kind`]) and what it
//! must equal ([`Want`]): the vector field of that name by default, skipped when the vector
//! does not have it (an invalid test has no outputs; accepting it fails anyway).

use serde_json::{Map, Value, json};
use sha2::{Digest, Sha256};

use super::Got;
use crate::implementation::{Failure, Implementation, malformed};
use crate::shim::Fields;

/// One test of a vector file, as JSON: its own fields, and its group's parameters.
#[derive(Clone, Copy, Debug)]
pub(super) struct Vector<'a> {
    pub(super) group: &'a Map<String, Value>,
    pub(super) test: &'a Map<String, Value>,
}

impl<'a> Vector<'a> {
    /// The vector field `name`: the test's, else the group's.
    pub(super) fn field(&self, name: &str) -> Option<&'a Value> {
        self.test.get(name).or_else(|| self.group.get(name))
    }

    /// The object that holds the vector field `name`: the test, or else the group.
    fn holder(&self, name: &str) -> &'a Map<String, Value> {
        if self.test.contains_key(name) {
            self.test
        } else {
            self.group
        }
    }

    /// The field `name` if the vector has it and it is not `null`.
    fn present(&self, name: &str) -> Option<&'a Value> {
        self.field(name).filter(|v| !v.is_null())
    }

    /// The test as its type in `quietwire_test_vectors` (for the dedicated scripts).
    pub(super) fn typed<T: serde::de::DeserializeOwned>(&self) -> Result<T, Got> {
        serde_json::from_value(Value::Object(self.test.clone()))
            .map_err(|e| mismatch(&format!("the vector does not load: {e}")))
    }
}

/// A constant argument.
#[derive(Clone, Copy, Debug)]
pub(super) enum Lit {
    Int(u64),
    Text(&'static str),
    Ints(&'static [u64]),
}

/// Where an argument comes from.
#[derive(Clone, Copy, Debug)]
pub(super) enum Arg {
    /// The vector field of the same name (`null` if the vector does not have it).
    Same(&'static str),
    /// Argument `.0` from the vector field `.1`.
    From(&'static str, &'static str),
    /// Argument `.0` from field `.2` of the value of this test's operation `.1`.
    Value(&'static str, usize, &'static str),
    /// Argument `.0`, a constant.
    Const(&'static str, Lit),
    /// Argument `.0`, the concatenation of the byte strings of the vector fields `.1`.
    Concat(&'static str, &'static [&'static str]),
}

/// A value read as a vector type and written back, so that both sides compare in the same
/// form, strictly (unknown or missing nested fields fail the read).
pub(super) type Normalize = fn(&Value) -> Result<Value, String>;

/// How a value field is read and compared.
#[derive(Clone, Copy, Debug)]
pub(super) enum Kind {
    /// A byte string (lowercase hex).
    Bytes,
    /// A byte string, or `null` for none (compared only when the vector has the field).
    OptBytes,
    /// A byte string compared by its SHA-256 with the vector's digest.
    Sha256,
    /// Text.
    Text,
    /// An unsigned integer.
    Int,
    /// A boolean.
    Bool,
    /// A nested object of a vector type.
    Object(Normalize),
}

/// What a value field must equal.
#[derive(Clone, Copy, Debug)]
pub(super) enum Want {
    /// The vector field of this name; no check when the vector does not have it.
    Field(&'static str),
    /// Field `.1` of the value of this test's operation `.0`.
    Value(usize, &'static str),
}

/// One comparison of a value field.
#[derive(Clone, Copy, Debug)]
pub(super) struct Check {
    value: &'static str,
    kind: Kind,
    want: Want,
}

/// The value field `value` equals the vector field of the same name.
pub(super) const fn same(value: &'static str, kind: Kind) -> Check {
    Check {
        value,
        kind,
        want: Want::Field(value),
    }
}

/// The value field `value` equals the vector field `field`.
pub(super) const fn like(value: &'static str, kind: Kind, field: &'static str) -> Check {
    Check {
        value,
        kind,
        want: Want::Field(field),
    }
}

/// The value field `value` equals field `field` of the value of operation `index`.
pub(super) const fn earlier(
    value: &'static str,
    kind: Kind,
    index: usize,
    field: &'static str,
) -> Check {
    Check {
        value,
        kind,
        want: Want::Value(index, field),
    }
}

/// One operation of a group's tests.
#[derive(Clone, Copy, Debug)]
pub(super) struct Op {
    pub(super) op: &'static str,
    /// Run only when this boolean vector field is `true`.
    pub(super) when: Option<&'static str>,
    pub(super) args: &'static [Arg],
    pub(super) checks: &'static [Check],
}

/// Operation `op` with its arguments and the checks of its value.
pub(super) const fn op(op: &'static str, args: &'static [Arg], checks: &'static [Check]) -> Op {
    Op {
        op,
        when: None,
        args,
        checks,
    }
}

/// As [`op`], run only when the vector's boolean field `flag` is `true`.
pub(super) const fn op_if(
    flag: &'static str,
    op: &'static str,
    args: &'static [Arg],
    checks: &'static [Check],
) -> Op {
    Op {
        op,
        when: Some(flag),
        args,
        checks,
    }
}

/// A value field as read for comparison.
#[derive(Clone, Debug, PartialEq)]
enum Read {
    Bytes(Vec<u8>),
    Text(String),
    Int(u64),
    Bool(bool),
    Json(Value),
}

impl Read {
    fn show(&self) -> String {
        match self {
            Read::Bytes(b) => hex::encode(b),
            Read::Text(t) => format!("{t:?}"),
            Read::Int(n) => n.to_string(),
            Read::Bool(b) => b.to_string(),
            Read::Json(v) => v.to_string(),
        }
    }
}

/// Reads field `name` of `object` as `kind` (a digest kind read as the digest of the bytes,
/// unless `digest` is false: the vector side holds the digest itself).
fn read(object: &Map<String, Value>, name: &str, kind: Kind, digest: bool) -> Result<Read, String> {
    let f = Fields(object);
    Ok(match kind {
        Kind::Bytes => Read::Bytes(f.bytes(name)?),
        Kind::OptBytes => f
            .bytes_opt(name)?
            .map_or(Read::Json(Value::Null), Read::Bytes),
        Kind::Sha256 if digest => Read::Bytes(Sha256::digest(f.bytes(name)?).to_vec()),
        Kind::Sha256 => Read::Bytes(f.bytes(name)?),
        Kind::Text => Read::Text(f.str(name)?.to_owned()),
        Kind::Int => Read::Int(f.u64(name)?),
        Kind::Bool => Read::Bool(f.bool(name)?),
        Kind::Object(normalize) => {
            let value = object
                .get(name)
                .ok_or_else(|| format!("missing field `{name}`"))?;
            Read::Json(normalize(value).map_err(|e| format!("`{name}`: {e}"))?)
        }
    })
}

/// The arguments of `op` for `v`, with `values` the values of the test's earlier operations.
pub(super) fn args(op: &Op, v: &Vector<'_>, values: &[Option<Value>]) -> Value {
    let mut args = Map::new();
    for arg in op.args {
        let (name, value) = match *arg {
            Arg::Same(name) => (name, v.field(name).cloned()),
            Arg::From(name, field) => (name, v.field(field).cloned()),
            Arg::Value(name, index, field) => (
                name,
                values
                    .get(index)
                    .and_then(Option::as_ref)
                    .and_then(|value| value.get(field))
                    .cloned(),
            ),
            Arg::Const(name, Lit::Int(n)) => (name, Some(json!(n))),
            Arg::Const(name, Lit::Text(t)) => (name, Some(json!(t))),
            Arg::Const(name, Lit::Ints(list)) => (name, Some(json!(list))),
            Arg::Concat(name, fields) => (
                name,
                Some(Value::String(
                    fields
                        .iter()
                        .filter_map(|f| v.field(f).and_then(Value::as_str))
                        .collect(),
                )),
            ),
        };
        args.insert(name.to_owned(), value.unwrap_or(Value::Null));
    }
    Value::Object(args)
}

/// The first check of `checks` that the value of `op` fails against the vector fields of
/// `vector` (a test, or a step of one) and the values of the test's operations, described.
pub(super) fn compare(
    value: &Value,
    vector: &Vector<'_>,
    values: &[Option<Value>],
    checks: &[Check],
) -> Option<String> {
    let empty = Map::new();
    let object = value.as_object().unwrap_or(&empty);
    checks.iter().find_map(|check| {
        let (want, source) = match check.want {
            Want::Field(field) => {
                vector.present(field)?;
                (
                    read(vector.holder(field), field, check.kind, false),
                    "vector has".to_owned(),
                )
            }
            Want::Value(index, field) => {
                let earlier = values.get(index).and_then(Option::as_ref)?.as_object()?;
                (
                    read(earlier, field, check.kind, false),
                    format!("operation {index} gave"),
                )
            }
        };
        let got = read(object, check.value, check.kind, true);
        let what = match check.kind {
            Kind::Sha256 => format!("SHA-256 of {}", check.value),
            _ => check.value.to_owned(),
        };
        match (got, want) {
            (Ok(got), Ok(want)) if got == want => None,
            (Ok(got), Ok(want)) => {
                Some(format!("{what} {} ({source} {})", got.show(), want.show()))
            }
            (Err(e), _) => Some(format!("{what}: {e}")),
            (_, Err(e)) => Some(format!("the vector's field for {what}: {e}")),
        }
    })
}

/// Checks that the value of `op` holds every field its checks read, as their kinds: a value
/// that does not is the shim's failure (`shim.protocol`), not a mismatch.
pub(super) fn readable(op: &Op, value: &Value) -> Result<(), Failure> {
    let empty = Map::new();
    let object = value.as_object().unwrap_or(&empty);
    op.checks.iter().try_for_each(|check| {
        read(object, check.value, check.kind, true)
            .map(|_| ())
            .map_err(|e| malformed(op.op, &e))
    })
}

/// Runs the operations of one test in order, then compares their values; the first failure
/// of an operation is the test's outcome.
pub(super) fn run_ops(ops: &[Op], v: &Vector<'_>, imp: &mut dyn Implementation) -> Got {
    let mut values: Vec<Option<Value>> = Vec::with_capacity(ops.len());
    for op in ops {
        let runs = op
            .when
            .is_none_or(|flag| v.field(flag).and_then(Value::as_bool) == Some(true));
        if !runs {
            values.push(None);
            continue;
        }
        let answer = imp
            .call(op.op, args(op, v, &values))
            .and_then(|value| readable(op, &value).map(|()| value));
        match answer {
            Ok(value) => values.push(Some(value)),
            Err(failure) => return super::got_failure(failure),
        }
    }
    let mismatch = ops.iter().zip(&values).find_map(|(op, value)| {
        compare(value.as_ref()?, v, &values, op.checks).map(|m| {
            if ops.len() > 1 {
                format!("{}: {m}", op.op)
            } else {
                m
            }
        })
    });
    Got::Accepted { mismatch }
}

/// An accepted outcome that differs from the vector in `what`.
pub(super) fn mismatch(what: &str) -> Got {
    Got::Accepted {
        mismatch: Some(what.to_owned()),
    }
}

/// A nested value object read strictly as `T` and written back.
pub(super) fn strict<T: serde::de::DeserializeOwned + serde::Serialize>(
    value: &Value,
) -> Result<Value, String> {
    let typed: T = serde_json::from_value(value.clone()).map_err(|e| e.to_string())?;
    serde_json::to_value(typed).map_err(|e| e.to_string())
}

/// How the tests of a group type run.
#[derive(Clone, Copy, Debug)]
pub(super) enum Run {
    /// These operations in order, then the checks of their values.
    Ops(&'static [Op]),
    /// A dedicated script: ratchet sessions, handshake acceptance, relay sessions, backup
    /// streams.
    Script(fn(&Vector<'_>, &mut dyn Implementation) -> Got),
}

/// One row of the table.
#[derive(Clone, Copy, Debug)]
pub(super) struct GroupSpec {
    /// The group's `type`.
    pub(super) group: &'static str,
    pub(super) run: Run,
}

impl GroupSpec {
    /// Runs one test of the group.
    pub(super) fn run(&self, v: &Vector<'_>, imp: &mut dyn Implementation) -> Got {
        match self.run {
            Run::Ops(ops) => run_ops(ops, v, imp),
            Run::Script(script) => script(v, imp),
        }
    }
}

pub(super) const fn ops(group: &'static str, ops: &'static [Op]) -> GroupSpec {
    GroupSpec {
        group,
        run: Run::Ops(ops),
    }
}

pub(super) const fn script(
    group: &'static str,
    run: fn(&Vector<'_>, &mut dyn Implementation) -> Got,
) -> GroupSpec {
    GroupSpec {
        group,
        run: Run::Script(run),
    }
}
