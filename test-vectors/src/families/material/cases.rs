//! The case builder the device-record, invite, event, mailbox and CBOR generators share (it
//! sits under `material` because `families/mod.rs` belongs to the shared layer).

use crate::families::Ids;
use crate::format::Head;

/// The slug, comment and flags of a case.
#[derive(Clone, Copy, Debug)]
pub struct Named<'a> {
    /// Stable name.
    pub slug: &'a str,
    /// What the case checks.
    pub comment: &'a str,
    /// Its flags.
    pub flags: &'a [&'a str],
}

impl Named<'_> {
    /// The head of the next test: valid without `class`, invalid with it.
    pub fn head(&self, ids: &mut Ids, class: Option<&str>) -> Head {
        ids.head(self.slug, self.comment, self.flags, class)
    }
}

/// A builder of one family's tests: [`Cases::test`] checks one input against the library
/// and records its test; [`Cases::case`], [`Cases::valid`] and [`Cases::invalid`] are the rows
/// of case tables (`rows! { b.invalid: "slug", "comment", flags, input, "class"; … }`).
pub trait Cases<I> {
    /// A test of `input`: valid when `class` is `None`, refused with `class` otherwise.
    ///
    /// # Errors
    /// If the library disagrees, described for the slug.
    fn test(&mut self, name: Named<'_>, input: I, class: Option<&str>) -> Result<(), String>;

    /// [`Cases::test`] of a row's slug, comment, flags, input and class.
    fn case(
        &mut self,
        slug: &str,
        comment: &str,
        flags: &[&str],
        input: I,
        class: Option<&str>,
    ) -> Result<(), String> {
        self.test(Named { slug, comment, flags }, input, class)
    }

    /// A valid test of `input` ([`Cases::test`] without a class).
    fn valid(&mut self, slug: &str, comment: &str, flags: &[&str], input: I) -> Result<(), String> {
        self.case(slug, comment, flags, input, None)
    }

    /// A test of `input` refused with `class` ([`Cases::test`]).
    fn invalid(
        &mut self,
        slug: &str,
        comment: &str,
        flags: &[&str],
        input: I,
        class: &str,
    ) -> Result<(), String> {
        self.case(slug, comment, flags, input, Some(class))
    }
}
