//! The vector file format (spec/15-test-vectors.md): a Wycheproof-style envelope whose tests
//! carry a stable `tcId` and slug, a result, and for invalid tests the error class.
//!
//! Loading is strict: unknown fields are rejected by serde, and [`check_file`] rejects a
//! wrong `numberOfTests`, duplicate ids or slugs, undefined flags, and error classes that
//! are missing, superfluous or not in the registry.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

/// Version of the spec the vectors are generated for.
pub const SPEC_VERSION: &str = "0.1.0";
/// Name and version of this generator.
pub const GENERATOR: &str = concat!("quietwire-test-vectors ", env!("CARGO_PKG_VERSION"));

/// One vector file.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct VectorFile<G> {
    /// Id of the JSON Schema the file conforms to.
    pub schema: String,
    /// The family (file stem).
    pub family: String,
    /// Spec version.
    pub spec_version: String,
    /// Generator name and version.
    pub generator: String,
    /// Number of tests in all groups.
    pub number_of_tests: usize,
    /// Free text for readers.
    pub header: Vec<String>,
    /// Flag name → meaning.
    pub notes: BTreeMap<String, Note>,
    /// The groups.
    pub test_groups: Vec<G>,
}

/// What a flag means.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Note {
    /// Wycheproof-style bug type.
    pub bug_type: BugType,
    /// Spec rule ids this flag exercises.
    pub spec_ref: Vec<String>,
    /// What the flagged tests check.
    pub description: String,
}

/// The kind of bug a flagged test would reveal.
#[derive(Clone, Copy, Debug, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
#[allow(missing_docs)]
pub enum BugType {
    Basic,
    AuthBypass,
    Confidentiality,
    Malleability,
    EdgeCase,
    MissingStep,
    WrongPrimitive,
    Legacy,
    Defined,
    CanOfWorms,
}

/// The expected outcome of a test.
#[derive(Clone, Copy, Debug, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum Outcome {
    /// Must be accepted with the given outputs.
    Valid,
    /// Must be rejected with exactly the given error class.
    Invalid,
    /// May be accepted or rejected; a flag says why.
    Acceptable,
}

/// The fields every test has.
#[derive(Clone, Debug, PartialEq)]
pub struct Meta<'a> {
    /// Stable numeric id, unique in its file.
    pub tc_id: u32,
    /// Stable name, unique in its file.
    pub slug: &'a str,
    /// Flags, each defined in the file's notes.
    pub flags: &'a [String],
    /// Expected outcome.
    pub result: Outcome,
    /// The error class, present iff the result is invalid.
    pub error_class: Option<&'a str>,
}

/// Implemented by every test type.
pub trait Case {
    /// The common fields.
    fn meta(&self) -> Meta<'_>;
}

/// Implemented by every group type.
pub trait Group {
    /// The tests of the group.
    fn cases(&self) -> Vec<&dyn Case>;
}

/// Checks the invariants serde cannot: counts, uniqueness, flags and error classes.
///
/// # Errors
/// A description of the first violation.
pub fn check_file<G: Group>(file: &VectorFile<G>) -> Result<(), String> {
    let mut ids = BTreeSet::new();
    let mut slugs = BTreeSet::new();
    let mut count = 0usize;
    for group in &file.test_groups {
        for case in group.cases() {
            let meta = case.meta();
            count += 1;
            let id = meta.tc_id;
            if !ids.insert(id) {
                return Err(format!("{}: duplicate tcId {id}", file.family));
            }
            if !slugs.insert(meta.slug.to_owned()) {
                return Err(format!("{}: duplicate slug {}", file.family, meta.slug));
            }
            let slug_ok = !meta.slug.is_empty()
                && meta
                    .slug
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
            if !slug_ok {
                return Err(format!("{}: slug {:?} is not kebab-case", file.family, meta.slug));
            }
            for flag in meta.flags {
                if !file.notes.contains_key(flag) {
                    return Err(format!("{}: tcId {id} uses undefined flag {flag}", file.family));
                }
            }
            match (meta.result, meta.error_class) {
                (Outcome::Invalid, Some(class))
                    if quietwire::ErrorClass::from_name(class).is_none() =>
                {
                    return Err(format!(
                        "{}: tcId {id} names unknown error class {class}",
                        file.family
                    ));
                }
                (Outcome::Invalid, Some(_)) => {}
                (Outcome::Invalid, None) => {
                    return Err(format!("{}: invalid tcId {id} has no errorClass", file.family));
                }
                (_, Some(_)) => {
                    return Err(format!(
                        "{}: tcId {id} has an errorClass but is not invalid",
                        file.family
                    ));
                }
                (Outcome::Acceptable, None) if meta.flags.is_empty() => {
                    return Err(format!(
                        "{}: acceptable tcId {id} has no flag explaining why",
                        file.family
                    ));
                }
                _ => {}
            }
        }
    }
    if count != file.number_of_tests {
        return Err(format!(
            "{}: numberOfTests is {} but the file has {count} tests",
            file.family, file.number_of_tests
        ));
    }
    Ok(())
}

/// Parses a vector file strictly and checks it.
///
/// # Errors
/// A serde error (unknown or missing fields) or a [`check_file`] violation.
pub fn load<G: Group + for<'de> Deserialize<'de>>(json: &str) -> Result<VectorFile<G>, String> {
    let file: VectorFile<G> = serde_json::from_str(json).map_err(|e| e.to_string())?;
    check_file(&file)?;
    Ok(file)
}

/// Reads a field list for [`vector_test!`](crate::vector_test!) and [`vector_record!`](crate::vector_record!) (not for direct use): each
/// field is `name: TYPE`, or one of the short forms of the vector format (§15.6):
///
/// | written | declared as | in the JSON |
/// |---|---|---|
/// | `name: hex` | `Vec<u8>` | lowercase hex |
/// | `name: hex?` | `Option<Vec<u8>>` | hex, left out when `None` |
/// | `name: ?TYPE` | `Option<TYPE>` | left out when `None` |
/// | `name: TYPE` | `TYPE` | as serde writes `TYPE` |
///
/// Every field is `pub`; attributes (doc comments first) go before the name.
#[doc(hidden)]
#[macro_export]
macro_rules! __vector_fields {
    ($cb:ident $ctx:tt [$($decl:tt)*] [$($arg:tt)*]) => {
        $crate::$cb! { @emit $ctx [$($decl)*] [$($arg)*] }
    };
    ($cb:ident $ctx:tt $decl:tt $arg:tt , $($rest:tt)*) => {
        $crate::__vector_fields! { $cb $ctx $decl $arg $($rest)* }
    };
    ($cb:ident $ctx:tt [$($decl:tt)*] [$($arg:tt)*]
        $(#[$m:meta])* $f:ident : hex ? , $($rest:tt)*) => {
        $crate::__vector_fields! { $cb $ctx
            [$($decl)* $(#[$m])*
                #[serde(default, skip_serializing_if = "Option::is_none")]
                #[serde(with = "quietwire_test_vectors::format::hex_opt")]
                pub $f: Option<Vec<u8>>,]
            [$($arg)* $f: Option<Vec<u8>>,]
            $($rest)* }
    };
    ($cb:ident $ctx:tt [$($decl:tt)*] [$($arg:tt)*]
        $(#[$m:meta])* $f:ident : hex , $($rest:tt)*) => {
        $crate::__vector_fields! { $cb $ctx
            [$($decl)* $(#[$m])* #[serde(with = "quietwire_test_vectors::format::hex_bytes")] pub $f: Vec<u8>,]
            [$($arg)* $f: Vec<u8>,]
            $($rest)* }
    };
    ($cb:ident $ctx:tt [$($decl:tt)*] [$($arg:tt)*]
        $(#[$m:meta])* $f:ident : ? $t:ty , $($rest:tt)*) => {
        $crate::__vector_fields! { $cb $ctx
            [$($decl)* $(#[$m])*
                #[serde(default, skip_serializing_if = "Option::is_none")]
                pub $f: Option<$t>,]
            [$($arg)* $f: Option<$t>,]
            $($rest)* }
    };
    ($cb:ident $ctx:tt [$($decl:tt)*] [$($arg:tt)*]
        $(#[$m:meta])* $f:ident : $t:ty , $($rest:tt)*) => {
        $crate::__vector_fields! { $cb $ctx
            [$($decl)* $(#[$m])* pub $f: $t,]
            [$($arg)* $f: $t,]
            $($rest)* }
    };
}

/// Declares a test struct: the common fields of spec §15.1 (`tcId`, `slug`, `comment`,
/// `flags` first; `result` and `errorClass` last, in this order in the JSON) around the
/// family's own fields, strict serde (`deny_unknown_fields`, camel case), [`Case`], and
/// `new(head, fields…)`. Fields are written as for [`vector_record!`](crate::vector_record!) (`name: hex`,
/// `name: hex?`, `name: ?TYPE`, `name: TYPE`).
///
/// ```
/// quietwire_test_vectors::vector_test! {
///     /// A length and its bucket.
///     pub struct BucketTest {
///         /// The content length.
///         length: u64,
///         /// The bucket (valid tests only).
///         bucket: ?u64,
///     }
/// }
/// ```
#[macro_export]
macro_rules! vector_test {
    (@emit [$(#[$meta:meta])* $name:ident] [$($decl:tt)*] [$($field:ident : $ty:ty,)*]) => {
        $(#[$meta])*
        #[derive(Clone, Debug, serde::Serialize, serde::Deserialize, PartialEq)]
        #[serde(deny_unknown_fields, rename_all = "camelCase")]
        pub struct $name {
            /// Stable id, unique in its file.
            pub tc_id: u32,
            /// Stable name, unique in its file.
            pub slug: String,
            /// What the test checks.
            pub comment: String,
            /// Flags, each defined in the file's notes.
            pub flags: Vec<String>,
            $($decl)*
            /// Expected outcome.
            pub result: $crate::format::Outcome,
            /// The error class (invalid tests only).
            #[serde(default, skip_serializing_if = "Option::is_none")]
            pub error_class: Option<String>,
        }
        impl $crate::format::Case for $name {
            fn meta(&self) -> $crate::format::Meta<'_> {
                $crate::format::Meta {
                    tc_id: self.tc_id,
                    slug: &self.slug,
                    flags: &self.flags,
                    result: self.result,
                    error_class: self.error_class.as_deref(),
                }
            }
        }

        impl $name {
            /// The test of `head` (id, slug, comment, flags, outcome) with the family's own
            /// fields, in their declaration order.
            #[allow(clippy::too_many_arguments)]
            pub fn new(head: $crate::format::Head, $( $field: $ty ),*) -> $name {
                $name {
                    tc_id: head.tc_id,
                    slug: head.slug,
                    comment: head.comment,
                    flags: head.flags,
                    $( $field, )*
                    result: head.result,
                    error_class: head.error_class,
                }
            }

            /// The same test under another `head` (id, slug, comment, flags, outcome).
            pub fn with_head(self, head: $crate::format::Head) -> $name {
                let $name { $( $field, )* .. } = self;
                $name::new(head, $( $field ),*)
            }
        }
    };
    ($(#[$meta:meta])* pub struct $name:ident { $($body:tt)* }) => {
        $crate::__vector_fields! { vector_test [$(#[$meta])* $name] [] [] $($body)* , }
    };
}

/// Declares a plain JSON object of a vector file (a step, a recipe, a parameter object):
/// strict serde (`deny_unknown_fields`, camel case), `Clone`, `Debug`, `PartialEq`; more
/// derives may be given as attributes. Fields as in [`vector_test!`](crate::vector_test!).
///
/// ```
/// quietwire_test_vectors::vector_record! {
///     /// A message and when it arrives.
///     #[derive(Eq)]
///     pub struct Delivery {
///         /// The message.
///         message: hex,
///         /// The receiver's `now`.
///         now: u64,
///         /// The error class (refused deliveries only).
///         error_class: ?String,
///     }
/// }
/// let d: Delivery = serde_json::from_str(r#"{"message": "0a0b", "now": 7}"#).unwrap();
/// assert_eq!(d.message, [10, 11]);
/// assert_eq!(serde_json::to_string(&d).unwrap(), r#"{"message":"0a0b","now":7}"#);
/// ```
#[macro_export]
macro_rules! vector_record {
    (@emit [$(#[$meta:meta])* $name:ident] [$($decl:tt)*] [$($arg:tt)*]) => {
        $(#[$meta])*
        #[derive(Clone, Debug, serde::Serialize, serde::Deserialize, PartialEq)]
        #[serde(deny_unknown_fields, rename_all = "camelCase")]
        pub struct $name {
            $($decl)*
        }
    };
    ($(#[$meta:meta])* pub struct $name:ident { $($body:tt)* }) => {
        $crate::__vector_fields! { vector_record [$(#[$meta])* $name] [] [] $($body)* , }
    };
}

/// The fields every test shares (spec §15.1), for [`vector_test!`](crate::vector_test!)'s `new`.
#[derive(Clone, Debug, PartialEq)]
pub struct Head {
    /// Stable id, unique in its file.
    pub tc_id: u32,
    /// Stable name, unique in its file.
    pub slug: String,
    /// What the test checks.
    pub comment: String,
    /// Flags, each defined in the file's notes.
    pub flags: Vec<String>,
    /// Expected outcome.
    pub result: Outcome,
    /// The error class (invalid tests only).
    pub error_class: Option<String>,
}

/// Declares the group enum of a family: each variant `"type" => Name(TestType) { params }` is
/// a group `type` with its `comment`, its own parameters (if any) and its `tests` (spec §15.1: `type`, `comment`, parameters, `tests`
/// in this order in the JSON), and implements [`Group`].
///
/// ```
/// quietwire_test_vectors::vector_test! {
///     /// A length and its bucket.
///     pub struct BucketTest { /// The length.
///         length: u64 }
/// }
/// quietwire_test_vectors::vector_groups! {
///     /// Groups of this family.
///     pub enum ExampleGroup {
///         /// Buckets for lengths, for one overhead.
///         "example-bucket" => Bucket(BucketTest) {
///             /// The overhead.
///             overhead: u64,
///         },
///     }
/// }
/// ```
#[macro_export]
macro_rules! vector_groups {
    (
        $(#[$meta:meta])*
        pub enum $name:ident {
            $(
                $(#[$vmeta:meta])*
                $tag:literal => $variant:ident ($test:ty)
                $( { $( $(#[$pmeta:meta])* $param:ident : $pty:ty ),* $(,)? } )?
            ),* $(,)?
        }
    ) => {
        $(#[$meta])*
        #[derive(Clone, Debug, serde::Serialize, serde::Deserialize, PartialEq)]
        #[serde(tag = "type", deny_unknown_fields)]
        pub enum $name {
            $(
                $(#[$vmeta])*
                #[serde(rename = $tag, rename_all = "camelCase")]
                $variant {
                    /// What the group covers.
                    comment: String,
                    $($( $(#[$pmeta])* $param: $pty, )*)?
                    /// The tests.
                    tests: Vec<$test>,
                },
            )*
        }

        impl $crate::format::Group for $name {
            fn cases(&self) -> Vec<&dyn $crate::format::Case> {
                match self {
                    $( $name::$variant { tests, .. } => {
                        tests.iter().map(|t| t as &dyn $crate::format::Case).collect()
                    } )*
                }
            }
        }
    };
}

/// Decodes lowercase hex; uppercase is rejected so files stay canonical.
fn lower_hex<E: serde::de::Error>(text: &str) -> Result<Vec<u8>, E> {
    if text.bytes().any(|b| b.is_ascii_uppercase()) {
        return Err(E::custom("hex must be lowercase"));
    }
    hex::decode(text).map_err(E::custom)
}

/// Serde helper: binary values as lowercase hex strings.
pub mod hex_bytes {
    use serde::{Deserialize, Deserializer, Serializer};

    /// Serializes bytes as lowercase hex.
    pub fn serialize<S: Serializer>(bytes: &[u8], s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&hex::encode(bytes))
    }

    /// Deserializes lowercase hex; uppercase is rejected so files stay canonical.
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<u8>, D::Error> {
        super::lower_hex(&String::deserialize(d)?)
    }
}

/// Serde helper: a list of binary values as lowercase hex strings.
pub mod hex_list {
    use serde::{Deserialize, Deserializer, Serializer};

    /// Serializes each item as lowercase hex.
    pub fn serialize<S: Serializer>(items: &[Vec<u8>], s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(items.iter().map(hex::encode))
    }

    /// Deserializes a list of lowercase hex strings.
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<Vec<u8>>, D::Error> {
        Vec::<String>::deserialize(d)?.iter().map(|text| super::lower_hex(text)).collect()
    }
}

/// Serde helper for optional hex values.
pub mod hex_opt {
    use serde::{Deserialize, Deserializer, Serializer};

    /// Serializes `Some(bytes)` as hex (callers skip `None`).
    pub fn serialize<S: Serializer>(bytes: &Option<Vec<u8>>, s: S) -> Result<S::Ok, S::Error> {
        match bytes {
            Some(bytes) => s.serialize_str(&hex::encode(bytes)),
            None => s.serialize_none(),
        }
    }

    /// Deserializes optional lowercase hex.
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Vec<u8>>, D::Error> {
        super::lower_hex(&String::deserialize(d)?).map(Some)
    }
}
