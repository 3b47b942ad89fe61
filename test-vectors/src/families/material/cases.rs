//! The case builder the device-record, invite, event, mailbox and CBOR generators share (it
//! sits under `material` because `families/mod.rs` belongs to the shared layer).

/// A builder of one family's tests: [`Cases::case`] checks one input against the library
/// and records its test; [`Cases::valid`] and [`Cases::invalid`] are the rows of case tables
/// (`rows! { b.invalid: "slug", "comment", flags, input, "class"; … }`).
pub trait Cases<I> {
    /// A test of `input`: valid when `class` is `None`, refused with `class` otherwise.
    ///
    /// # Errors
    /// If the library disagrees, described for the slug.
    fn case(
        &mut self,
        slug: &str,
        comment: &str,
        f: &[&str],
        input: I,
        class: Option<&str>,
    ) -> Result<(), String>;

    /// A valid test of `input`.
    ///
    /// # Errors
    /// As [`Cases::case`].
    fn valid(&mut self, slug: &str, comment: &str, f: &[&str], input: I) -> Result<(), String> {
        self.case(slug, comment, f, input, None)
    }

    /// A test of `input` refused with `class`.
    ///
    /// # Errors
    /// As [`Cases::case`].
    fn invalid(
        &mut self,
        slug: &str,
        comment: &str,
        f: &[&str],
        input: I,
        class: &str,
    ) -> Result<(), String> {
        self.case(slug, comment, f, input, Some(class))
    }
}
