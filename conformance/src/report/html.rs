//! One self-contained HTML page for a run: inline CSS, no script, no external asset. Totals
//! per part and per family (or relay section), then a table of every case that did not pass
//! with its expectation, result, class, flags, requirement and transcript (in a `<details>`
//! element, which needs no script).

use std::fmt::Write as _;

use super::suite::{Part, Run};
use super::{CaseResult, Outcome};

const STYLE: &str = "
body{font:14px/1.45 system-ui,-apple-system,Segoe UI,sans-serif;margin:2em auto;max-width:1200px;padding:0 1em;color:#1b1f24}
h1{font-size:1.6em;margin-bottom:.2em}h2{margin-top:2em;border-bottom:1px solid #d0d7de;padding-bottom:.2em}
table{border-collapse:collapse;margin:.6em 0 1.2em;width:100%}
th,td{border:1px solid #d0d7de;padding:.3em .5em;text-align:left;vertical-align:top}
th{background:#f6f8fa}td.n{text-align:right;font-variant-numeric:tabular-nums}
code,pre{font-family:ui-monospace,SFMono-Regular,Menlo,monospace;font-size:12px}
pre{white-space:pre-wrap;word-break:break-all;background:#f6f8fa;padding:.5em;margin:.3em 0}
.verdict{display:inline-block;padding:.3em .8em;border-radius:4px;font-weight:600}
.ok{background:#dafbe1;color:#116329}.bad{background:#ffebe9;color:#a40e26}
.o{font-weight:600;white-space:nowrap}
.PASS{color:#116329}.FAIL{color:#a40e26}.NON-STRICT{color:#9a6700}.INFORMATIONAL{color:#0550ae}
.UNIMPLEMENTED{color:#6639ba}.DISABLED{color:#57606a}
.muted{color:#57606a}
";

/// Escapes text for HTML.
fn esc(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// The page.
pub(crate) fn page(run: &Run) -> String {
    let mut out =
        String::from("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n");
    out.push_str("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n");
    out.push_str("<title>Quietwire conformance</title>\n<style>");
    out.push_str(STYLE);
    out.push_str("</style>\n</head>\n<body>\n<h1>Quietwire conformance</h1>\n");
    let _ = writeln!(
        out,
        "<p><span class=\"verdict {}\">{}</span></p>",
        if run.passed() { "ok" } else { "bad" },
        esc(&run.verdict())
    );
    let _ = writeln!(
        out,
        "<p class=\"muted\">quietwire-conformance {}. Outcomes: PASS, FAIL, NON-STRICT (a SHOULD not met), INFORMATIONAL (not checkable here), UNIMPLEMENTED, DISABLED (by the configuration).</p>",
        env!("CARGO_PKG_VERSION")
    );
    out.push_str("<table>\n<tr><th>part</th><th>target</th><th>cases</th>");
    for o in Outcome::ALL {
        let _ = write!(out, "<th>{}</th>", o.label().to_ascii_lowercase());
    }
    out.push_str("</tr>\n");
    for p in &run.parts {
        let c = p.counts();
        let _ = write!(
            out,
            "<tr><td><a href=\"#{0}\">{0}</a></td><td>{1}</td><td class=\"n\">{2}</td>",
            esc(&p.name),
            esc(&p.report.implementation),
            c.total()
        );
        for o in Outcome::ALL {
            let _ = write!(out, "<td class=\"n\">{}</td>", c.get(&o));
        }
        out.push_str("</tr>\n");
    }
    out.push_str("</table>\n");
    for p in &run.parts {
        part(&mut out, p);
    }
    out.push_str("</body>\n</html>\n");
    out
}

fn part(out: &mut String, p: &Part) {
    let _ = writeln!(
        out,
        "<h2 id=\"{}\">{} <span class=\"muted\">({})</span></h2>",
        esc(&p.name),
        esc(&p.title),
        esc(&p.name)
    );
    let _ = writeln!(
        out,
        "<p>{}: {}.</p>",
        esc(&p.report.implementation),
        esc(&p.report.totals_line())
    );
    if !p.optional.is_empty() {
        out.push_str("<p>Optional features (unimplemented without failing the run):</p><ul>\n");
        for (feature, why) in &p.optional {
            let _ = writeln!(out, "<li><code>{}</code>: {}</li>", esc(feature), esc(why));
        }
        out.push_str("</ul>\n");
    }
    out.push_str("<table>\n<tr><th>family</th><th>cases</th>");
    for o in Outcome::ALL {
        let _ = write!(out, "<th>{}</th>", o.label().to_ascii_lowercase());
    }
    out.push_str("</tr>\n");
    for (family, counts) in &p.report.per_family() {
        let _ = write!(
            out,
            "<tr><td><code>{}</code></td><td class=\"n\">{}</td>",
            esc(family),
            counts.total()
        );
        for o in Outcome::ALL {
            let _ = write!(out, "<td class=\"n\">{}</td>", counts.get(&o));
        }
        out.push_str("</tr>\n");
    }
    out.push_str("</table>\n");
    let others: Vec<&CaseResult> = p
        .report
        .cases
        .iter()
        .filter(|c| c.outcome != Outcome::Pass)
        .collect();
    if others.is_empty() {
        out.push_str("<p>Every case passed.</p>\n");
        return;
    }
    let _ = writeln!(out, "<p>{} case(s) did not pass:</p>", others.len());
    out.push_str("<table>\n<tr><th>case</th><th>outcome</th><th>expected</th><th>actual</th><th>class / flags</th><th>detail</th></tr>\n");
    for c in others {
        let label = c.outcome.label();
        let blocking = if p.blocks(c) { " (fails the run)" } else { "" };
        let _ = write!(
            out,
            "<tr><td><code>{}</code><br><span class=\"muted\">{}</span></td><td class=\"o {label}\">{label}{}</td><td>{}</td><td>{}</td><td>{}{}</td><td>",
            esc(&c.id),
            esc(&c.slug),
            esc(blocking),
            esc(&c.expected),
            esc(&c.actual),
            c.class
                .as_deref()
                .map(|k| format!("<code>{}</code><br>", esc(k)))
                .unwrap_or_default(),
            esc(&c.flags.join(", ")),
        );
        if let Some(note) = &c.note {
            let _ = write!(out, "<p>{}</p>", esc(note));
        }
        if let Some(req) = &c.requirement {
            let _ = write!(
                out,
                "<p><b>{}</b> “{}”</p>",
                esc(c.level.as_deref().unwrap_or("")),
                esc(req)
            );
        }
        if !c.transcript.is_empty() {
            let _ = write!(
                out,
                "<details><summary>transcript ({} lines)</summary><pre>{}</pre></details>",
                c.transcript.len(),
                esc(&c.transcript.join("\n"))
            );
        }
        out.push_str("</td></tr>\n");
    }
    out.push_str("</table>\n");
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::Report;

    #[test]
    fn page_is_self_contained_and_escaped() {
        let report = Report {
            implementation: "impl <x>".to_owned(),
            cases: vec![CaseResult {
                id: "RLY-05/x".to_owned(),
                family: "RLY-05".to_owned(),
                outcome: Outcome::Fail,
                actual: "got <script>".to_owned(),
                transcript: vec!["-> a".to_owned()],
                requirement: Some("MUST".to_owned()),
                ..CaseResult::default()
            }],
        };
        let run = Run {
            parts: vec![Part::new("relay", "Live relay", report)],
        };
        let html = page(&run);
        assert!(html.contains("got &lt;script&gt;"));
        assert!(!html.contains("<script"));
        assert!(!html.contains("src=") && !html.contains("<link"));
        assert!(html.contains("<details><summary>transcript (1 lines)</summary>"));
        assert!(html.contains("class=\"o FAIL\">FAIL (fails the run)"));
    }
}
