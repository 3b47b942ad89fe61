//! Case results, the summary printed for people, and the reports: JSON (the serde form of
//! [`Report`]), JUnit XML for CI systems, and Markdown.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use serde::Serialize;

mod html;
pub mod suite;

pub use suite::{Part, Run};

/// How one case ended (the outcomes of Autobahn|Testsuite, plus `DISABLED`).
#[derive(Clone, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Outcome {
    /// The implementation behaved as the case requires.
    Pass,
    /// It did not (a MUST, or a SHOULD under `--strict`).
    #[default]
    Fail,
    /// A SHOULD-level requirement was not met (a failure under `--strict`).
    #[serde(rename = "NON-STRICT")]
    NonStrict,
    /// Nothing was checked that could pass or fail: the case needs control the tester does
    /// not have (a clock, a failing store); its note says what it showed.
    Informational,
    /// The implementation declared the feature unimplemented.
    Unimplemented,
    /// The per-implementation configuration disabled the case (with a reason); not run.
    Disabled,
}

impl Outcome {
    /// Every outcome, in report order.
    pub const ALL: [Outcome; 6] = [
        Outcome::Pass,
        Outcome::Fail,
        Outcome::NonStrict,
        Outcome::Informational,
        Outcome::Unimplemented,
        Outcome::Disabled,
    ];

    /// The outcome as reports print it: `PASS`, `FAIL`, `NON-STRICT`, `INFORMATIONAL`,
    /// `UNIMPLEMENTED`, `DISABLED`.
    pub const fn label(&self) -> &'static str {
        match self {
            Outcome::Pass => "PASS",
            Outcome::Fail => "FAIL",
            Outcome::NonStrict => "NON-STRICT",
            Outcome::Informational => "INFORMATIONAL",
            Outcome::Unimplemented => "UNIMPLEMENTED",
            Outcome::Disabled => "DISABLED",
        }
    }

    const fn index(&self) -> usize {
        match self {
            Outcome::Pass => 0,
            Outcome::Fail => 1,
            Outcome::NonStrict => 2,
            Outcome::Informational => 3,
            Outcome::Unimplemented => 4,
            Outcome::Disabled => 5,
        }
    }
}

/// Cases per outcome, indexed like [`Outcome::ALL`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Counts(pub [usize; 6]);

impl Counts {
    /// Counts `cases`.
    pub fn of<'a>(cases: impl IntoIterator<Item = &'a CaseResult>) -> Counts {
        let mut counts = Counts::default();
        for case in cases {
            counts.add(&case.outcome);
        }
        counts
    }

    /// Adds one case.
    pub fn add(&mut self, outcome: &Outcome) {
        if let Some(n) = self.0.get_mut(outcome.index()) {
            *n += 1;
        }
    }

    /// The number of cases with `outcome`.
    pub fn get(&self, outcome: &Outcome) -> usize {
        self.0.get(outcome.index()).copied().unwrap_or(0)
    }

    /// All cases.
    pub fn total(&self) -> usize {
        self.0.iter().sum()
    }
}

/// The result of one case: a vector, an interop script or a live relay check.
#[derive(Clone, Debug, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CaseResult {
    /// Case id: `family/tcId`.
    pub id: String,
    /// Vector family (file stem).
    pub family: String,
    /// Group type.
    pub group: String,
    /// The vector's tcId.
    pub tc_id: u32,
    /// The vector's slug.
    pub slug: String,
    /// The vector's flags.
    pub flags: Vec<String>,
    /// What the vector requires.
    pub expected: String,
    /// What happened.
    pub actual: String,
    /// The outcome.
    pub outcome: Outcome,
    /// The error class the implementation reported, if it rejected the input.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub class: Option<String>,
    /// The feature an unimplemented case needs, as the implementation named it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub feature: Option<String>,
    /// Why a case is disabled or informational, or what else the reader should know.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    /// The requirement the case checks, quoted from the spec (live relay cases).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub requirement: Option<String>,
    /// The requirement's level: `MUST` or `SHOULD` (live relay cases).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub level: Option<String>,
    /// For a case that did not pass: the exchanges with the implementation or the relay,
    /// one line each, capped.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub transcript: Vec<String>,
}

/// All results of a run.
#[derive(Clone, Debug, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Report {
    /// The implementation's name.
    pub implementation: String,
    /// Every case, in file order.
    pub cases: Vec<CaseResult>,
}

impl Report {
    /// Number of cases with the given outcome.
    pub fn count(&self, outcome: &Outcome) -> usize {
        self.cases.iter().filter(|c| &c.outcome == outcome).count()
    }

    /// Whether every case passed.
    pub fn all_passed(&self) -> bool {
        self.cases.iter().all(|c| c.outcome == Outcome::Pass)
    }

    /// Cases per family (or per section), in name order.
    pub fn per_family(&self) -> BTreeMap<&str, Counts> {
        let mut per_family: BTreeMap<&str, Counts> = BTreeMap::new();
        for case in &self.cases {
            per_family
                .entry(&case.family)
                .or_default()
                .add(&case.outcome);
        }
        per_family
    }

    /// The outcomes shown as columns: pass, fail and unimplemented always, the others when
    /// a case has them.
    fn columns(&self) -> Vec<Outcome> {
        let counts = Counts::of(&self.cases);
        Outcome::ALL
            .into_iter()
            .filter(|o| {
                matches!(o, Outcome::Pass | Outcome::Fail | Outcome::Unimplemented)
                    || counts.get(o) > 0
            })
            .collect()
    }

    /// One line of totals: `12 passed, 1 failed, 0 unimplemented` (and the other outcomes
    /// when present).
    pub fn totals_line(&self) -> String {
        let counts = Counts::of(&self.cases);
        let mut parts = vec![
            format!("{} passed", counts.get(&Outcome::Pass)),
            format!("{} failed", counts.get(&Outcome::Fail)),
        ];
        for (outcome, word) in [
            (Outcome::NonStrict, "non-strict"),
            (Outcome::Informational, "informational"),
        ] {
            if counts.get(&outcome) > 0 {
                parts.push(format!("{} {word}", counts.get(&outcome)));
            }
        }
        parts.push(format!(
            "{} unimplemented",
            counts.get(&Outcome::Unimplemented)
        ));
        if counts.get(&Outcome::Disabled) > 0 {
            parts.push(format!("{} disabled", counts.get(&Outcome::Disabled)));
        }
        parts.join(", ")
    }

    /// A readable summary: one line per family, then every case that did not pass.
    pub fn summary(&self) -> String {
        self.summary_with(usize::MAX)
    }

    /// [`Report::summary`] with at most `limit` lines of cases that did not pass (failures
    /// first).
    pub fn summary_with(&self, limit: usize) -> String {
        let columns = self.columns();
        let mut out = String::new();
        let _ = writeln!(out, "Quietwire conformance: {}", self.implementation);
        let _ = write!(out, "{:<22} {:>6}", "family", "cases");
        for o in &columns {
            let _ = write!(out, " {:>13}", o.label().to_ascii_lowercase());
        }
        out.push('\n');
        let mut row = |name: &str, counts: &Counts| {
            let _ = write!(out, "{:<22} {:>6}", name, counts.total());
            for o in &columns {
                let _ = write!(out, " {:>13}", counts.get(o));
            }
            out.push('\n');
        };
        for (family, counts) in &self.per_family() {
            row(family, counts);
        }
        row("total", &Counts::of(&self.cases));
        let mut others: Vec<&CaseResult> = self
            .cases
            .iter()
            .filter(|c| c.outcome != Outcome::Pass)
            .collect();
        others.sort_by_key(|c| c.outcome.index());
        let left_out = others.len().saturating_sub(limit);
        for case in others.into_iter().take(limit) {
            let _ = write!(
                out,
                "{:?} {} {} ({}): expected {}, got {}",
                case.outcome, case.id, case.slug, case.group, case.expected, case.actual
            );
            if let Some(note) = &case.note {
                let _ = write!(out, " [{note}]");
            }
            out.push('\n');
        }
        if left_out > 0 {
            let _ = writeln!(
                out,
                "… and {left_out} more cases that did not pass (see the reports)"
            );
        }
        let _ = writeln!(out, "{}", self.totals_line());
        out
    }

    /// JUnit XML: one test suite per family, one test case per case; a failing case is a
    /// `<failure>`, an unimplemented, disabled, informational or non-strict one `<skipped>`
    /// with its outcome in the message (CI systems show both).
    pub fn junit(&self) -> String {
        let mut families: BTreeMap<&str, Vec<&CaseResult>> = BTreeMap::new();
        for case in &self.cases {
            families.entry(&case.family).or_default().push(case);
        }
        let skipped = |cases: &[&CaseResult]| {
            cases
                .iter()
                .filter(|c| !matches!(c.outcome, Outcome::Pass | Outcome::Fail))
                .count()
        };
        let all: Vec<&CaseResult> = self.cases.iter().collect();
        let mut out = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
        let _ = writeln!(
            out,
            "<testsuites name=\"{}\" tests=\"{}\" failures=\"{}\" skipped=\"{}\">",
            xml(&format!("Quietwire conformance: {}", self.implementation)),
            self.cases.len(),
            self.count(&Outcome::Fail),
            skipped(&all)
        );
        for (family, cases) in &families {
            let failures = cases.iter().filter(|c| c.outcome == Outcome::Fail).count();
            let _ = writeln!(
                out,
                "  <testsuite name=\"{}\" tests=\"{}\" failures=\"{failures}\" skipped=\"{}\">",
                xml(family),
                cases.len(),
                skipped(cases)
            );
            for case in cases {
                let _ = write!(
                    out,
                    "    <testcase classname=\"{}.{}\" name=\"{} {}\"",
                    xml(family),
                    xml(&case.group),
                    xml(&case.id),
                    xml(&case.slug)
                );
                match case.outcome {
                    Outcome::Pass => out.push_str("/>\n"),
                    Outcome::Fail => {
                        let _ = write!(
                            out,
                            ">\n      <failure message=\"expected {}, got {}\"",
                            xml(&case.expected),
                            xml(&case.actual)
                        );
                        if case.transcript.is_empty() {
                            out.push_str("/>\n");
                        } else {
                            let _ =
                                writeln!(out, ">{}</failure>", xml(&case.transcript.join("\n")));
                        }
                        out.push_str("    </testcase>\n");
                    }
                    _ => {
                        let message = match (&case.outcome, &case.note) {
                            (Outcome::Unimplemented, _) => case.actual.clone(),
                            (o, Some(note)) => format!("{}: {note}", o.label()),
                            (o, None) => format!("{}: {}", o.label(), case.actual),
                        };
                        let _ = writeln!(
                            out,
                            ">\n      <skipped message=\"{}\"/>\n    </testcase>",
                            xml(&message)
                        );
                    }
                }
            }
            out.push_str("  </testsuite>\n");
        }
        out.push_str("</testsuites>\n");
        out
    }

    /// A Markdown report: the per-family table, then every case that did not pass with its
    /// expectation, what happened, its error class, flags and note.
    pub fn markdown(&self) -> String {
        let mut out = String::new();
        let _ = writeln!(
            out,
            "# Quietwire conformance: {}\n",
            md(&self.implementation)
        );
        let _ = writeln!(out, "{}.\n", self.totals_line());
        out.push_str(&self.markdown_table());
        let others: Vec<&CaseResult> = self
            .cases
            .iter()
            .filter(|c| c.outcome != Outcome::Pass)
            .collect();
        if !others.is_empty() {
            out.push_str("\n## Cases that did not pass\n\n");
            out.push_str(&markdown_cases(&others));
        }
        out
    }

    /// The per-family table in Markdown.
    pub fn markdown_table(&self) -> String {
        let columns = self.columns();
        let mut out = String::from("| family | cases |");
        for o in &columns {
            let _ = write!(out, " {} |", o.label().to_ascii_lowercase());
        }
        out.push_str("\n|---|---:|");
        for _ in &columns {
            out.push_str("---:|");
        }
        out.push('\n');
        for (family, counts) in &self.per_family() {
            let _ = write!(out, "| `{family}` | {} |", counts.total());
            for o in &columns {
                let _ = write!(out, " {} |", counts.get(o));
            }
            out.push('\n');
        }
        out
    }
}

/// A Markdown table of cases with their outcome, expectation, result, class, flags and note.
pub fn markdown_cases(cases: &[&CaseResult]) -> String {
    let mut out = String::from(
        "| case | slug | outcome | expected | actual | class | flags | note |\n|---|---|---|---|---|---|---|---|\n",
    );
    for case in cases {
        let _ = writeln!(
            out,
            "| `{}` | {} | {} | {} | {} | {} | {} | {} |",
            case.id,
            md(&case.slug),
            case.outcome.label(),
            md(&case.expected),
            md(&case.actual),
            md(case.class.as_deref().unwrap_or("")),
            md(&case.flags.join(", ")),
            md(case.note.as_deref().unwrap_or(""))
        );
    }
    out
}

/// Most transcript lines kept for one case (the last ones: they show where it went wrong).
pub const TRANSCRIPT_LINES: usize = 40;

/// Longest transcript line kept, in characters.
pub const TRANSCRIPT_LINE_CHARS: usize = 600;

/// Caps a transcript: its last [`TRANSCRIPT_LINES`] lines, each cut to
/// [`TRANSCRIPT_LINE_CHARS`] characters, with a first line saying what was left out.
pub fn cap_transcript(lines: Vec<String>) -> Vec<String> {
    let skipped = lines.len().saturating_sub(TRANSCRIPT_LINES);
    let mut out = Vec::with_capacity(lines.len().min(TRANSCRIPT_LINES) + 1);
    if skipped > 0 {
        out.push(format!("… {skipped} earlier lines left out"));
    }
    for line in lines.into_iter().skip(skipped) {
        if line.chars().count() > TRANSCRIPT_LINE_CHARS {
            let cut: String = line.chars().take(TRANSCRIPT_LINE_CHARS).collect();
            out.push(format!("{cut}… ({} characters)", line.chars().count()));
        } else {
            out.push(line);
        }
    }
    out
}

/// Escapes text for XML attributes and content.
pub(crate) fn xml(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            c if (c as u32) < 0x20 && c != '\t' && c != '\n' && c != '\r' => {
                let _ = write!(out, "&#x{:x};", c as u32);
            }
            c => out.push(c),
        }
    }
    out
}

/// Escapes text for a Markdown table cell.
pub(crate) fn md(text: &str) -> String {
    text.replace('|', "\\|").replace('\n', " ")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn case(id: &str, outcome: Outcome, actual: &str) -> CaseResult {
        CaseResult {
            id: id.to_owned(),
            family: "cbor".to_owned(),
            group: "cbor-decode".to_owned(),
            tc_id: 1,
            slug: "a-slug".to_owned(),
            flags: vec!["Flag".to_owned()],
            expected: "error cbor.trailing".to_owned(),
            actual: actual.to_owned(),
            outcome,
            ..CaseResult::default()
        }
    }

    fn report() -> Report {
        Report {
            implementation: "test <impl>".to_owned(),
            cases: vec![
                case("cbor/1", Outcome::Pass, "error cbor.trailing"),
                case("cbor/2", Outcome::Fail, "accept with \"x\" & <y>"),
                case("cbor/3", Outcome::Unimplemented, "unimplemented cbor"),
            ],
        }
    }

    #[test]
    fn junit_counts_and_escapes() {
        let xml = report().junit();
        assert!(xml.contains("tests=\"3\" failures=\"1\" skipped=\"1\""));
        assert!(xml.contains("<failure message=\"expected error cbor.trailing, got accept with &quot;x&quot; &amp; &lt;y&gt;\"/>"));
        assert!(xml.contains("<skipped message=\"unimplemented cbor\"/>"));
        assert!(xml.contains("name=\"Quietwire conformance: test &lt;impl&gt;\""));
        assert_eq!(xml.matches("<testcase ").count(), 3);
    }

    #[test]
    fn markdown_lists_what_did_not_pass() {
        let md = report().markdown();
        assert!(md.contains("1 passed, 1 failed, 1 unimplemented."));
        assert!(md.contains("| `cbor` | 3 | 1 | 1 | 1 |"));
        assert!(md.contains("| `cbor/2` |"));
        assert!(md.contains("| `cbor/3` |"));
        assert!(!md.contains("| `cbor/1` |"));
    }

    #[test]
    fn other_outcomes_get_columns_and_notes() {
        let mut r = report();
        let mut disabled = case("cbor/4", Outcome::Disabled, "not run");
        disabled.note = Some("known bug #12".to_owned());
        r.cases.push(disabled);
        r.cases.push(case("cbor/5", Outcome::NonStrict, "accept"));
        let summary = r.summary();
        assert!(summary.contains("non-strict"), "{summary}");
        assert!(summary.contains("Disabled cbor/4 a-slug (cbor-decode): expected error cbor.trailing, got not run [known bug #12]"), "{summary}");
        assert!(summary.contains("1 passed, 1 failed, 1 non-strict, 1 unimplemented, 1 disabled"));
        let xml = r.junit();
        assert!(
            xml.contains("<skipped message=\"DISABLED: known bug #12\"/>"),
            "{xml}"
        );
        assert!(xml.contains("skipped=\"3\""));
        let md = r.markdown();
        assert!(md.contains("| `cbor` | 5 | 1 | 1 | 1 | 1 | 1 |"), "{md}");
    }
}
