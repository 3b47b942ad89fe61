//! The one interface of an implementation under test: the operations of the shim protocol
//! (spec/16-conformance-shim.md, Table 16-1), called by name with a JSON object of arguments
//! and answered with a JSON object of value fields, both named like the vector fields
//! (SHIM-03), byte strings as lowercase hex.
//!
//! The built-in implementation ([`crate::builtin::Builtin`]) answers them over the
//! `quietwire` crate; a shim process ([`crate::shim::client::ShimClient`]) gets them as they
//! are, one request line each. The runner ([`crate::runner`]) and the interop runs
//! ([`crate::interop`]) call nothing else.

use serde_json::Value;

use crate::shim::Fields;

/// Why an operation produced no value.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Failure {
    /// The implementation rejected the input with this error class.
    Error {
        /// Registry name of the class.
        class: String,
    },
    /// The implementation does not implement this feature.
    Unimplemented {
        /// The feature name.
        feature: String,
    },
}

/// The answer to one operation.
pub type OpResult<T> = Result<T, Failure>;

/// The answer of an operation the implementation does not provide.
pub fn unimplemented<T>(feature: &str) -> OpResult<T> {
    Err(Failure::Unimplemented {
        feature: feature.to_owned(),
    })
}

/// An opaque handle to a state held by the implementation under test (SHIM-07).
pub type Handle = u64;

/// A log of the exchanges with an implementation (a shim's requests and replies, one line
/// each), shared with the runner, which drains it case by case and keeps it in the report of
/// each case that did not pass.
pub type Transcript = std::rc::Rc<std::cell::RefCell<Vec<String>>>;

/// An implementation under test: answers the operations of Table 16-1.
pub trait Implementation {
    /// Name and version, for reports.
    fn name(&self) -> String;

    /// The log of exchanges, if the implementation keeps one (a shim does; the built-in
    /// implementation, called in process, does not).
    fn transcript(&self) -> Option<Transcript> {
        None
    }

    /// Performs operation `op` with `args` (an object named like the vector fields) and
    /// returns its value (an object with the fields of Table 16-1), or why there is none:
    /// the error class the implementation reports, or the feature it does not implement
    /// (`op:NAME` for an op it does not know).
    fn call(&mut self, op: &str, args: Value) -> OpResult<Value>;
}

/// The failure of a value that lacks a field or holds a malformed one (SHIM-03).
pub fn malformed(op: &str, what: &str) -> Failure {
    Failure::Error {
        class: format!("shim.protocol: the value of {op}: {what}"),
    }
}

/// Reads the value of `op` with `read`; a malformed value fails with `shim.protocol`.
///
/// # Errors
/// The failure `read` reports, as [`malformed`].
pub fn read<T>(
    op: &str,
    value: &Value,
    read: impl FnOnce(Fields<'_>) -> Result<T, String>,
) -> OpResult<T> {
    Fields::of(value)
        .and_then(read)
        .map_err(|e| malformed(op, &e))
}

/// Calls `op` with `args` and reads its value with `reader`.
///
/// # Errors
/// The failure of the operation, or of reading its value.
pub fn call_read<T>(
    imp: &mut dyn Implementation,
    op: &str,
    args: Value,
    reader: impl FnOnce(Fields<'_>) -> Result<T, String>,
) -> OpResult<T> {
    let value = imp.call(op, args)?;
    read(op, &value, reader)
}

/// How many slices `pushes` cuts an input of `len` bytes into (SHIM-06): the sizes in turn,
/// repeated, the last slice possibly shorter; no sizes is one slice of everything. `None` if a
/// size is 0.
pub fn slice_count(len: usize, pushes: &[usize]) -> Option<u64> {
    if pushes.contains(&0) {
        return None;
    }
    if pushes.is_empty() {
        return Some(1);
    }
    let (mut rest, mut count) = (len, 0u64);
    for size in pushes.iter().cycle() {
        if rest == 0 && count > 0 {
            break;
        }
        rest = rest.saturating_sub(*size);
        count += 1;
    }
    Some(count)
}
