//! Case results, the summary printed for people, and the reports: JSON (the serde form of
//! [`Report`]), JUnit XML for CI systems, and Markdown.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use serde::Serialize;

/// How one case ended.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Outcome {
    /// The implementation behaved as the vector requires.
    Pass,
    /// It did not.
    Fail,
    /// It declared the feature unimplemented.
    Unimplemented,
}

/// The result of one vector.
#[derive(Clone, Debug, Serialize)]
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

    /// A readable summary: one line per family, then every case that did not pass.
    pub fn summary(&self) -> String {
        let mut per_family: BTreeMap<&str, [usize; 3]> = BTreeMap::new();
        for case in &self.cases {
            let slot = per_family.entry(&case.family).or_default();
            let index = match case.outcome {
                Outcome::Pass => 0,
                Outcome::Fail => 1,
                Outcome::Unimplemented => 2,
            };
            if let Some(n) = slot.get_mut(index) {
                *n += 1;
            }
        }
        let mut out = String::new();
        let _ = writeln!(out, "Quietwire conformance: {}", self.implementation);
        let _ = writeln!(
            out,
            "{:<18} {:>6} {:>6} {:>6} {:>14}",
            "family", "cases", "pass", "fail", "unimplemented"
        );
        for (family, [pass, fail, unimpl]) in &per_family {
            let _ = writeln!(
                out,
                "{:<18} {:>6} {:>6} {:>6} {:>14}",
                family,
                pass + fail + unimpl,
                pass,
                fail,
                unimpl
            );
        }
        let (pass, fail, unimpl) = (
            self.count(&Outcome::Pass),
            self.count(&Outcome::Fail),
            self.count(&Outcome::Unimplemented),
        );
        let _ = writeln!(
            out,
            "{:<18} {:>6} {:>6} {:>6} {:>14}",
            "total",
            self.cases.len(),
            pass,
            fail,
            unimpl
        );
        for case in self.cases.iter().filter(|c| c.outcome != Outcome::Pass) {
            let _ = writeln!(
                out,
                "{:?} {} {} ({}): expected {}, got {}",
                case.outcome, case.id, case.slug, case.group, case.expected, case.actual
            );
        }
        let _ = writeln!(out, "{pass} passed, {fail} failed, {unimpl} unimplemented");
        out
    }

    /// JUnit XML: one test suite per family, one test case per vector; a failing case is a
    /// `<failure>`, an unimplemented one `<skipped>` (CI systems show both).
    pub fn junit(&self) -> String {
        let mut families: BTreeMap<&str, Vec<&CaseResult>> = BTreeMap::new();
        for case in &self.cases {
            families.entry(&case.family).or_default().push(case);
        }
        let mut out = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
        let _ = writeln!(
            out,
            "<testsuites name=\"{}\" tests=\"{}\" failures=\"{}\" skipped=\"{}\">",
            xml(&format!("Quietwire conformance: {}", self.implementation)),
            self.cases.len(),
            self.count(&Outcome::Fail),
            self.count(&Outcome::Unimplemented)
        );
        for (family, cases) in &families {
            let failures = cases.iter().filter(|c| c.outcome == Outcome::Fail).count();
            let skipped = cases
                .iter()
                .filter(|c| c.outcome == Outcome::Unimplemented)
                .count();
            let _ = writeln!(
                out,
                "  <testsuite name=\"{}\" tests=\"{}\" failures=\"{failures}\" skipped=\"{skipped}\">",
                xml(family),
                cases.len()
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
                        let _ = writeln!(
                            out,
                            ">\n      <failure message=\"expected {}, got {}\"/>\n    </testcase>",
                            xml(&case.expected),
                            xml(&case.actual)
                        );
                    }
                    Outcome::Unimplemented => {
                        let _ = writeln!(
                            out,
                            ">\n      <skipped message=\"{}\"/>\n    </testcase>",
                            xml(&case.actual)
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
    /// expectation, what happened and its flags.
    pub fn markdown(&self) -> String {
        let mut out = String::new();
        let _ = writeln!(
            out,
            "# Quietwire conformance: {}\n",
            md(&self.implementation)
        );
        let _ = writeln!(
            out,
            "{} passed, {} failed, {} unimplemented.\n",
            self.count(&Outcome::Pass),
            self.count(&Outcome::Fail),
            self.count(&Outcome::Unimplemented)
        );
        out.push_str(
            "| family | cases | pass | fail | unimplemented |\n|---|---:|---:|---:|---:|\n",
        );
        let mut per_family: BTreeMap<&str, [usize; 3]> = BTreeMap::new();
        for case in &self.cases {
            let slot = per_family.entry(&case.family).or_default();
            let index = match case.outcome {
                Outcome::Pass => 0,
                Outcome::Fail => 1,
                Outcome::Unimplemented => 2,
            };
            if let Some(n) = slot.get_mut(index) {
                *n += 1;
            }
        }
        for (family, [pass, fail, unimpl]) in &per_family {
            let _ = writeln!(
                out,
                "| `{family}` | {} | {pass} | {fail} | {unimpl} |",
                pass + fail + unimpl
            );
        }
        let others: Vec<&CaseResult> = self
            .cases
            .iter()
            .filter(|c| c.outcome != Outcome::Pass)
            .collect();
        if !others.is_empty() {
            out.push_str("\n## Cases that did not pass\n\n| case | slug | outcome | expected | actual | flags |\n|---|---|---|---|---|---|\n");
            for case in others {
                let _ = writeln!(
                    out,
                    "| `{}` | {} | {:?} | {} | {} | {} |",
                    case.id,
                    md(&case.slug),
                    case.outcome,
                    md(&case.expected),
                    md(&case.actual),
                    md(&case.flags.join(", "))
                );
            }
        }
        out
    }
}

/// Escapes text for XML attributes and content.
fn xml(text: &str) -> String {
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
fn md(text: &str) -> String {
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
}
