//! A whole run: its parts (vectors, interop, relay), the verdict, and the files written for
//! it — a JSON index, per-part JSON with per-case detail, JUnit XML and Markdown, a Markdown
//! summary and one self-contained HTML page.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use serde_json::{Value, json};

use super::{CaseResult, Counts, Outcome, Report, html, markdown_cases, md};

/// One part of a run.
#[derive(Clone, Debug)]
pub struct Part {
    /// `vectors`, `interop` or `relay`: the stem of its report files.
    pub name: String,
    /// A title for people.
    pub title: String,
    /// Its cases.
    pub report: Report,
    /// Features that may be unimplemented without failing the run, with who declared them
    /// optional and why.
    pub optional: BTreeMap<String, String>,
}

impl Part {
    /// A part with no optional features.
    pub fn new(name: &str, title: &str, report: Report) -> Part {
        Part {
            name: name.to_owned(),
            title: title.to_owned(),
            report,
            optional: BTreeMap::new(),
        }
    }

    /// Whether a case fails the run: a failure, or an unimplemented feature that is not
    /// declared optional.
    pub fn blocks(&self, case: &CaseResult) -> bool {
        match case.outcome {
            Outcome::Fail => true,
            Outcome::Unimplemented => !case
                .feature
                .as_ref()
                .is_some_and(|f| self.optional.contains_key(f)),
            _ => false,
        }
    }

    /// The cases that fail the run.
    pub fn blocking(&self) -> Vec<&CaseResult> {
        self.report
            .cases
            .iter()
            .filter(|c| self.blocks(c))
            .collect()
    }

    /// Cases per outcome.
    pub fn counts(&self) -> Counts {
        Counts::of(&self.report.cases)
    }

    fn json(&self) -> Value {
        json!({
            "part": self.name,
            "title": self.title,
            "implementation": self.report.implementation,
            "verdict": if self.blocking().is_empty() { "pass" } else { "fail" },
            "counts": counts_json(&self.counts()),
            "blocking": self.blocking().iter().map(|c| c.id.clone()).collect::<Vec<_>>(),
            "optional": self.optional,
            "cases": self.report.cases,
        })
    }
}

fn counts_json(counts: &Counts) -> Value {
    let mut map = serde_json::Map::new();
    map.insert("total".to_owned(), json!(counts.total()));
    for o in Outcome::ALL {
        map.insert(o.label().to_owned(), json!(counts.get(&o)));
    }
    Value::Object(map)
}

/// Every part of a run.
#[derive(Clone, Debug, Default)]
pub struct Run {
    /// The parts, in run order.
    pub parts: Vec<Part>,
}

/// The files a run writes, relative to the report directory.
pub const INDEX: &str = "index.json";
/// The Markdown summary over all parts.
pub const SUMMARY: &str = "summary.md";
/// The self-contained HTML page.
pub const HTML: &str = "report.html";

impl Run {
    /// Whether no case fails the run.
    pub fn passed(&self) -> bool {
        self.parts.iter().all(|p| p.blocking().is_empty())
    }

    /// The verdict line.
    pub fn verdict(&self) -> String {
        let blocking: usize = self.parts.iter().map(|p| p.blocking().len()).sum();
        if blocking == 0 {
            "PASS: no case failed, and every unimplemented feature is declared optional".to_owned()
        } else {
            let failed: usize = self
                .parts
                .iter()
                .map(|p| p.counts().get(&Outcome::Fail))
                .sum();
            format!(
                "FAIL: {failed} case(s) failed, {} unimplemented without being declared optional",
                blocking - failed
            )
        }
    }

    /// What is printed at the end of a run: each part's summary (at most `limit` lines of
    /// cases that did not pass per part), the verdict and where the reports are.
    pub fn summary(&self, dir: Option<&Path>, limit: usize) -> String {
        let mut out = String::new();
        for part in &self.parts {
            let _ = writeln!(out, "== {} ({})", part.title, part.name);
            out.push_str(&part.report.summary_with(limit));
            if !part.optional.is_empty() {
                let _ = writeln!(
                    out,
                    "optional features (unimplemented without failing): {}",
                    part.optional.keys().cloned().collect::<Vec<_>>().join(", ")
                );
            }
            out.push('\n');
        }
        let _ = writeln!(
            out,
            "{:<10} {:>7} {:>7} {:>7} {:>11} {:>14} {:>14} {:>9}",
            "part",
            "cases",
            "pass",
            "fail",
            "non-strict",
            "informational",
            "unimplemented",
            "disabled"
        );
        for part in &self.parts {
            let c = part.counts();
            let _ = writeln!(
                out,
                "{:<10} {:>7} {:>7} {:>7} {:>11} {:>14} {:>14} {:>9}",
                part.name,
                c.total(),
                c.get(&Outcome::Pass),
                c.get(&Outcome::Fail),
                c.get(&Outcome::NonStrict),
                c.get(&Outcome::Informational),
                c.get(&Outcome::Unimplemented),
                c.get(&Outcome::Disabled)
            );
        }
        let _ = writeln!(out, "{}", self.verdict());
        if let Some(dir) = dir {
            let names: Vec<String> = self.parts.iter().map(|p| p.name.clone()).collect();
            let _ = writeln!(
                out,
                "reports: {d}/{INDEX} (index), {d}/{HTML}, {d}/{SUMMARY}, and per part {d}/{{{}}}.{{json,junit.xml,md}}",
                names.join(","),
                d = dir.display()
            );
        }
        out
    }

    /// The JSON index: tool, verdict, and per part its target, counts, blocking cases and
    /// files.
    pub fn index(&self) -> Value {
        json!({
            "tool": "quietwire-conformance",
            "version": env!("CARGO_PKG_VERSION"),
            "verdict": if self.passed() { "pass" } else { "fail" },
            "summary": self.verdict(),
            "files": {"html": HTML, "markdown": SUMMARY},
            "parts": self.parts.iter().map(|p| json!({
                "part": p.name,
                "title": p.title,
                "implementation": p.report.implementation,
                "verdict": if p.blocking().is_empty() { "pass" } else { "fail" },
                "counts": counts_json(&p.counts()),
                "blocking": p.blocking().iter().map(|c| c.id.clone()).collect::<Vec<_>>(),
                "optional": p.optional,
                "files": {
                    "json": format!("{}.json", p.name),
                    "junit": format!("{}.junit.xml", p.name),
                    "markdown": format!("{}.md", p.name),
                },
            })).collect::<Vec<_>>(),
        })
    }

    /// The Markdown summary over all parts.
    pub fn markdown(&self) -> String {
        let mut out = String::from("# Quietwire conformance\n\n");
        let _ = writeln!(out, "**{}**\n", md(&self.verdict()));
        out.push_str("| part | target | cases | pass | fail | non-strict | informational | unimplemented | disabled |\n|---|---|---:|---:|---:|---:|---:|---:|---:|\n");
        for p in &self.parts {
            let c = p.counts();
            let _ = writeln!(
                out,
                "| {} | {} | {} | {} | {} | {} | {} | {} | {} |",
                p.name,
                md(&p.report.implementation),
                c.total(),
                c.get(&Outcome::Pass),
                c.get(&Outcome::Fail),
                c.get(&Outcome::NonStrict),
                c.get(&Outcome::Informational),
                c.get(&Outcome::Unimplemented),
                c.get(&Outcome::Disabled)
            );
        }
        for p in &self.parts {
            let _ = writeln!(out, "\n## {} (`{}`)\n", md(&p.title), p.name);
            let _ = writeln!(
                out,
                "{}: {}.\n",
                md(&p.report.implementation),
                p.report.totals_line()
            );
            out.push_str(&p.report.markdown_table());
            let blocking = p.blocking();
            if !blocking.is_empty() {
                out.push_str("\n### Cases that fail the run\n\n");
                out.push_str(&markdown_cases(&blocking));
            }
            let others: Vec<&CaseResult> = p
                .report
                .cases
                .iter()
                .filter(|c| c.outcome != Outcome::Pass && !p.blocks(c))
                .collect();
            if !others.is_empty() {
                out.push_str("\n### Other cases that did not pass\n\n");
                out.push_str(&markdown_cases(&others));
            }
        }
        out
    }

    /// Writes every report file into `dir` (created if needed); returns the paths written.
    ///
    /// # Errors
    /// If a file cannot be written.
    pub fn write(&self, dir: &Path) -> std::io::Result<Vec<PathBuf>> {
        std::fs::create_dir_all(dir)?;
        let mut written = Vec::new();
        let mut put = |name: String, contents: String| -> std::io::Result<()> {
            let path = dir.join(name);
            std::fs::write(&path, contents)?;
            written.push(path);
            Ok(())
        };
        let pretty = |v: &Value| serde_json::to_string_pretty(v).map_err(std::io::Error::other);
        for p in &self.parts {
            put(format!("{}.json", p.name), pretty(&p.json())? + "\n")?;
            put(format!("{}.junit.xml", p.name), p.report.junit())?;
            put(format!("{}.md", p.name), p.report.markdown())?;
        }
        put(INDEX.to_owned(), pretty(&self.index())? + "\n")?;
        put(SUMMARY.to_owned(), self.markdown())?;
        put(HTML.to_owned(), html::page(self))?;
        Ok(written)
    }
}

#[cfg(test)]
#[allow(clippy::indexing_slicing)]
mod tests {
    use super::*;

    fn case(id: &str, outcome: Outcome, feature: Option<&str>) -> CaseResult {
        CaseResult {
            id: id.to_owned(),
            family: "f".to_owned(),
            outcome,
            feature: feature.map(str::to_owned),
            ..CaseResult::default()
        }
    }

    #[test]
    fn optional_features_do_not_block() {
        let report = Report {
            implementation: "x".to_owned(),
            cases: vec![
                case("f/1", Outcome::Pass, None),
                case("f/2", Outcome::Unimplemented, Some("ratchet")),
                case("f/3", Outcome::Disabled, None),
            ],
        };
        let mut part = Part::new("vectors", "Vectors", report);
        let mut run = Run {
            parts: vec![part.clone()],
        };
        assert!(!run.passed());
        assert!(run.verdict().contains("1 unimplemented"));
        part.optional
            .insert("ratchet".to_owned(), "config: no ratchet".to_owned());
        run.parts = vec![part];
        assert!(run.passed(), "{}", run.verdict());
        let index = run.index();
        assert_eq!(index["verdict"], "pass");
        assert_eq!(index["parts"][0]["counts"]["UNIMPLEMENTED"], 1);
        assert_eq!(index["parts"][0]["files"]["junit"], "vectors.junit.xml");
        assert!(run.markdown().contains("### Other cases that did not pass"));
        let summary = run.summary(Some(Path::new("reports")), 10);
        assert!(summary.contains("reports: reports/index.json"), "{summary}");
    }
}
