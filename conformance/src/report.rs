//! Case results, the summary printed for people, and the JSON report.

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
}
