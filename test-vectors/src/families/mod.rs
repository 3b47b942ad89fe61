//! One module per vector family: its JSON types and its generator.

pub mod backup;
pub mod cbor;
pub mod device_record;
pub mod did_key;
pub mod envelope;
pub mod event;
pub mod handshake;
pub mod hpke;
pub mod invite;
pub mod invite_encoding;
pub mod mailbox;
pub mod material;
pub mod ratchet;
pub mod reconnect;
pub mod relay;
pub mod safety_code;

use std::collections::BTreeMap;

use crate::format::{BugType, GENERATOR, Group, Head, Note, Outcome, SPEC_VERSION, VectorFile};

/// A family's case table: `rows! { b.case: ARGS; ARGS; … }` calls `b.case(ARGS)?` once per
/// row, in order, so tcIds follow the rows (`rows! { case: … }` calls a function `case`). A
/// row is the case's arguments as the method takes them (typically slug, comment, flags,
/// inputs, expected class); a row too long for one line continues on the next.
///
/// ```
/// # fn main() -> Result<(), String> {
/// struct Cases(Vec<String>);
/// impl Cases {
///     fn case(&mut self, slug: &str, n: u32) -> Result<(), String> {
///         self.0.push(format!("{slug}={n}"));
///         Ok(())
///     }
/// }
/// let mut b = Cases(Vec::new());
/// quietwire_test_vectors::rows! { b.case:
///     "one", 1;
///     "two", 2;
/// }
/// assert_eq!(b.0, ["one=1", "two=2"]);
/// # Ok(())
/// # }
/// ```
#[macro_export]
macro_rules! rows {
    ($b:ident . $method:ident : $( $($arg:expr),+ ; )+) => {
        $( $b.$method($($arg),+)?; )+
    };
    ($f:ident : $( $($arg:expr),+ ; )+) => {
        $( $f($($arg),+)?; )+
    };
}

/// A family's flag table: `flag_defs! { Name: BugType ["RULE-01", …] "description"; … }`
/// gives the [`FlagDef`]s [`file()`] turns into the file's `notes`.
///
/// ```
/// use quietwire_test_vectors::families::FlagDef;
/// const FLAGS: &[FlagDef] = quietwire_test_vectors::flag_defs! {
///     Valid: Basic ["INV-01"] "A well-formed invite.";
///     Expired: MissingStep ["INV-05"] "The invite's expiry is not after now.";
/// };
/// assert_eq!(FLAGS[1].0, "Expired");
/// ```
#[macro_export]
macro_rules! flag_defs {
    ($( $name:ident : $bug:ident [$($rule:literal),* $(,)?] $desc:literal ; )*) => {
        &[ $( (stringify!($name), $crate::format::BugType::$bug, &[$($rule),*], $desc) ),* ]
    };
}

/// A table of tuples, one row per tuple: `tuples! { a, b, c; d, e, f; }` is the array
/// `[(a, b, c), (d, e, f)]`, and `tuples! { vec: … }` the same as a `Vec`. Families list
/// the cases a loop turns into tests this way, one case per row (continued on the next line
/// when long).
///
/// ```
/// let cases = quietwire_test_vectors::tuples! {
///     "version-2", "version 2", 2u64;
///     "version-3", "version 3", 3;
/// };
/// assert_eq!(cases[1], ("version-3", "version 3", 3));
/// ```
#[macro_export]
macro_rules! tuples {
    (vec: $( $($e:expr),+ ; )+) => {
        vec![ $( ( $($e),+ ) ),+ ]
    };
    ($( $($e:expr),+ ; )+) => {
        [ $( ( $($e),+ ) ),+ ]
    };
}

/// A family's groups in file order, one row per group: `groups! { Enum: Variant(comment,
/// tests); Variant(comment, tests, param: value); … }` is the `Vec<Enum>` [`file()`] takes,
/// for an enum declared with [`vector_groups!`](crate::vector_groups!). The comment may be any
/// `Into<String>`; the parameters are the variant's own fields. Expressions run in the order
/// written (comment, tests, parameters), so tests made in place keep their ids in file order.
///
/// ```
/// use quietwire_test_vectors::families::event::{EventGroup, EventTest};
/// let tests: Vec<EventTest> = Vec::new();
/// let groups = quietwire_test_vectors::groups! { EventGroup:
///     Decode("Every kind.", tests);
///     DeviceRecord("Device records.", Vec::new(), allowed_suites: vec![1]);
/// };
/// assert!(matches!(&groups[1], EventGroup::DeviceRecord { allowed_suites, .. } if allowed_suites == &[1]));
/// ```
#[macro_export]
macro_rules! groups {
    ($group:ident : $(
        $variant:ident ( $comment:expr , $tests:expr $(, $param:ident : $value:expr)* $(,)? ) ;
    )+) => {
        vec![ $( {
            let (comment, tests) = ($comment.into(), $tests);
            $group::$variant { comment, tests $(, $param: $value)* }
        } ),+ ]
    };
}

/// A flag definition: name, bug type, spec rule ids, description.
pub type FlagDef = (&'static str, BugType, &'static [&'static str], &'static str);

/// Assembles a file, counting its tests.
pub fn file<G: Group>(
    family: &str,
    header: &[&str],
    flags: &[FlagDef],
    groups: Vec<G>,
) -> VectorFile<G> {
    let notes: BTreeMap<String, Note> = flags
        .iter()
        .map(|(name, bug_type, refs, description)| {
            (
                (*name).to_owned(),
                Note {
                    bug_type: *bug_type,
                    spec_ref: refs.iter().map(|r| (*r).to_owned()).collect(),
                    description: (*description).to_owned(),
                },
            )
        })
        .collect();
    let number_of_tests = groups.iter().map(|g| g.cases().len()).sum();
    VectorFile {
        schema: format!("quietwire-vectors/v1/{family}.schema.json"),
        family: family.to_owned(),
        spec_version: SPEC_VERSION.to_owned(),
        generator: GENERATOR.to_owned(),
        number_of_tests,
        header: header.iter().map(|h| (*h).to_owned()).collect(),
        notes,
        test_groups: groups,
    }
}

/// Hands out tcIds in order; ids are stable as long as new tests are appended.
#[derive(Debug, Default)]
pub struct Ids(u32);

impl Ids {
    /// The next id.
    pub fn next_id(&mut self) -> u32 {
        self.0 += 1;
        self.0
    }

    /// The head of the next test: valid without `class`, invalid with it.
    pub fn head(&mut self, slug: &str, comment: &str, flags: &[&str], class: Option<&str>) -> Head {
        Head {
            tc_id: self.next_id(),
            slug: slug.to_owned(),
            comment: comment.to_owned(),
            flags: self::flags(flags),
            result: if class.is_some() { Outcome::Invalid } else { Outcome::Valid },
            error_class: class.map(str::to_owned),
        }
    }
}

/// Holds the implementation to an expectation: `got` must succeed when `class` is `None`
/// (its value is returned) and fail with exactly `class` otherwise (`None` is returned).
///
/// # Errors
/// Any other outcome, described for `what` (the family and the slug).
pub fn expect<T>(
    what: &str,
    got: quietwire::Result<T>,
    class: Option<&str>,
) -> Result<Option<T>, String> {
    match (got, class) {
        (Ok(value), None) => Ok(Some(value)),
        (Err(e), Some(class)) if e.class().as_str() == class => Ok(None),
        (got, class) => Err(format!(
            "{what}: expected {}, got {}",
            class.unwrap_or("success"),
            got.map_or_else(|e| e.class().as_str().to_owned(), |_| "success".to_owned())
        )),
    }
}

/// SHA-256 of `bytes`, as the vectors write digests.
pub fn sha256(bytes: &[u8]) -> Vec<u8> {
    use sha2::Digest;
    sha2::Sha256::digest(bytes).to_vec()
}

/// Flags as owned strings.
pub fn flags(names: &[&str]) -> Vec<String> {
    names.iter().map(|n| (*n).to_owned()).collect()
}
