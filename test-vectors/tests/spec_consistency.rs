//! The vectors, the error-class registry and the spec agree with each other.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

use std::collections::BTreeSet;
use std::path::PathBuf;

fn spec_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../spec")
}

/// The committed vector files (the drift test proves they are what the generator produces).
fn committed_vectors() -> Vec<(String, String)> {
    quietwire_test_vectors::committed_files()
        .unwrap()
        .into_iter()
        .map(|file| (file.name, file.contents))
        .collect()
}

fn spec_text() -> String {
    let mut text = String::new();
    let mut paths: Vec<PathBuf> =
        std::fs::read_dir(spec_dir()).unwrap().map(|e| e.unwrap().path()).collect();
    paths.sort();
    for path in paths.iter().filter(|p| p.extension().is_some_and(|e| e == "md")) {
        text.push_str(&std::fs::read_to_string(path).unwrap());
    }
    text
}

#[test]
fn every_spec_ref_names_an_existing_rule() {
    let spec = spec_text();
    let mut missing = BTreeSet::new();
    for (name, contents) in committed_vectors() {
        let json: serde_json::Value = serde_json::from_str(&contents).unwrap();
        for note in json["notes"].as_object().unwrap().values() {
            for rule in note["specRef"].as_array().unwrap() {
                let rule = rule.as_str().unwrap();
                if !spec.contains(&format!("**[{rule}]**")) {
                    missing.insert(format!("{}: {rule}", name));
                }
            }
        }
    }
    assert!(missing.is_empty(), "spec rules cited by vectors but not defined: {missing:?}");
}

#[test]
fn error_registry_table_matches_the_implementation() {
    let registry = std::fs::read_to_string(spec_dir().join("14-registries.md")).unwrap();
    let mut in_table = false;
    let mut spec_classes = Vec::new();
    for line in registry.lines() {
        let cells: Vec<&str> = line.trim().trim_matches('|').split('|').map(str::trim).collect();
        if cells.first() == Some(&"class") && cells.get(1) == Some(&"fault") {
            in_table = true;
            continue;
        }
        if in_table {
            if !line.trim_start().starts_with('|') {
                break;
            }
            if cells.first().is_some_and(|c| c.starts_with("---") || c.starts_with(":--")) {
                continue;
            }
            let class = cells.first().unwrap().trim_matches('`').to_owned();
            let fault = (*cells.get(1).unwrap()).to_owned();
            spec_classes.push((class, fault));
        }
    }
    let implemented: Vec<(String, String)> = quietwire::ErrorClass::ALL
        .iter()
        .map(|c| (c.as_str().to_owned(), c.fault().as_str().to_owned()))
        .collect();
    let spec_set: BTreeSet<_> = spec_classes.iter().cloned().collect();
    let impl_set: BTreeSet<_> = implemented.iter().cloned().collect();
    assert_eq!(spec_classes.len(), spec_set.len(), "duplicate rows in the registry");
    assert_eq!(
        spec_set.difference(&impl_set).collect::<Vec<_>>(),
        Vec::<&(String, String)>::new(),
        "in the spec registry but not implemented (or with another fault)"
    );
    assert_eq!(
        impl_set.difference(&spec_set).collect::<Vec<_>>(),
        Vec::<&(String, String)>::new(),
        "implemented but missing from the spec registry"
    );
}

#[test]
fn every_error_class_is_exercised_by_a_vector() {
    let mut used = BTreeSet::new();
    for (_, contents) in committed_vectors() {
        for line in contents.lines() {
            if let Some(rest) = line.trim().strip_prefix("\"errorClass\": \"") {
                used.insert(rest.trim_end_matches(['"', ',']).to_owned());
            }
        }
    }
    let unused: Vec<&str> = quietwire::ErrorClass::ALL
        .iter()
        .map(|c| c.as_str())
        .filter(|c| !used.contains(*c))
        .collect();
    assert!(unused.is_empty(), "error classes without a negative vector: {unused:?}");
}

#[test]
fn labels_are_registered_in_the_spec() {
    let spec = spec_text();
    for label in quietwire::label::Label::ALL {
        assert!(spec.contains(label.as_str()), "label {} missing from the spec", label.as_str());
    }
}

/// The status a chapter gives itself: its first line that starts with `Status: `, which must
/// be `Status: normative.`, `Status: informative.` or `Status: placeholder.`, optionally
/// followed by more text (spec/00-conventions.md §0.2).
fn chapter_status(file: &str, text: &str) -> Result<&'static str, String> {
    let line = text
        .lines()
        .find(|l| l.starts_with("Status: "))
        .ok_or_else(|| format!("{file}: no `Status: ` line"))?;
    for status in ["normative", "informative", "placeholder"] {
        if line.starts_with(&format!("Status: {status}.")) {
            return Ok(status);
        }
    }
    Err(format!(
        "{file}: status line {line:?} is not `Status: normative.`, `Status: informative.` or `Status: placeholder.`"
    ))
}

/// Every chapter file `NN-*.md` of spec/ with its status.
fn chapter_statuses() -> Result<Vec<(String, &'static str)>, Vec<String>> {
    let mut names: Vec<String> = std::fs::read_dir(spec_dir())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_str().unwrap().to_owned())
        .filter(|n| n.ends_with(".md") && n.as_bytes().first().is_some_and(u8::is_ascii_digit))
        .collect();
    names.sort();
    let mut out = Vec::new();
    let mut errors = Vec::new();
    for name in names {
        let text = std::fs::read_to_string(spec_dir().join(&name)).unwrap();
        match chapter_status(&name, &text) {
            Ok(status) => out.push((name, status)),
            Err(e) => errors.push(e),
        }
    }
    if errors.is_empty() { Ok(out) } else { Err(errors) }
}

/// The cells of the rows of the first Markdown table after the line `after` whose header's
/// first cell is `first`.
fn table_rows(text: &str, after: &str, first: &str) -> Vec<Vec<String>> {
    let mut lines = text.lines().skip_while(|l| l.trim() != after).skip(1);
    let mut rows = Vec::new();
    let mut in_table = false;
    for line in lines.by_ref() {
        let trimmed = line.trim();
        if !trimmed.starts_with('|') {
            if in_table {
                break;
            }
            continue;
        }
        let cells: Vec<String> =
            trimmed.trim_matches('|').split('|').map(|c| c.trim().to_owned()).collect();
        if !in_table {
            assert_eq!(cells.first().map(String::as_str), Some(first), "{after}");
            in_table = true;
            continue;
        }
        if cells.first().is_some_and(|c| c.starts_with("---")) {
            continue;
        }
        rows.push(cells);
    }
    rows
}

/// The chapter files a cell names, as `NN-….md` links or paths, or as bare chapter numbers
/// in backquotes (`` `11` ``).
fn chapters_named(cell: &str, chapters: &[(String, &'static str)]) -> Vec<String> {
    chapters
        .iter()
        .filter(|(name, _)| {
            let number = &name[..2];
            cell.contains(name.as_str()) || cell.contains(&format!("`{number}`"))
        })
        .map(|(name, _)| name.clone())
        .collect()
}

#[test]
fn status_tables_agree_with_the_chapters() {
    let chapters = match chapter_statuses() {
        Ok(c) => c,
        Err(errors) => panic!("chapter status lines: {errors:#?}"),
    };
    let status_of = |name: &str| chapters.iter().find(|(n, _)| n == name).map(|(_, s)| *s).unwrap();
    let mut problems = Vec::new();

    // spec/README.md: one row per chapter; the status cell starts with the chapter's status.
    let readme = std::fs::read_to_string(spec_dir().join("README.md")).unwrap();
    let rows = table_rows(&readme, "see [00-conventions.md](00-conventions.md).", "chapter");
    let mut listed = BTreeSet::new();
    for row in &rows {
        let (cell, status) = (&row[0], &row[1]);
        for name in chapters_named(cell, &chapters) {
            let want = status_of(&name);
            if status.split([' ', '(']).next() != Some(want) {
                problems.push(format!(
                    "spec/README.md lists {name} as {status:?}, its status line says {want}"
                ));
            }
            listed.insert(name);
        }
    }
    for (name, _) in &chapters {
        if !listed.contains(name) {
            problems.push(format!("spec/README.md has no row for {name}"));
        }
    }

    // README.md, section "Status": a row that names a chapter may qualify it only with that
    // chapter's status; a row about a placeholder says "placeholder" and has no code; a row
    // about a written chapter has code.
    let top = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../README.md");
    let top = std::fs::read_to_string(top).unwrap();
    let rows = table_rows(&top, "## Status", "layer");
    assert!(!rows.is_empty(), "README.md: no status table");
    for row in &rows {
        let (layer, spec_cell, code) = (&row[0], &row[1], &row[2]);
        let named = chapters_named(spec_cell, &chapters);
        if named.is_empty() {
            problems.push(format!("README.md row {layer:?} names no chapter"));
        }
        let lower = spec_cell.to_lowercase();
        let claimed: Vec<&str> = ["placeholder", "informative", "normative", "draft"]
            .into_iter()
            .filter(|w| lower.contains(w))
            .collect();
        for name in &named {
            let want = status_of(name);
            for word in &claimed {
                if *word != want {
                    problems.push(format!(
                        "README.md row {layer:?} calls {name} {word}, its status line says {want}"
                    ));
                }
            }
            let no_code = code.trim() == "not yet";
            if want == "placeholder" && (!claimed.contains(&"placeholder") || !no_code) {
                problems.push(format!(
                    "README.md row {layer:?}: {name} is a placeholder, the row must say so and have no code"
                ));
            }
            if want == "normative" && no_code {
                problems.push(format!(
                    "README.md row {layer:?}: {name} is normative but the row has no code"
                ));
            }
        }
    }
    assert!(
        problems.is_empty(),
        "status tables disagree with the chapters:\n{}",
        problems.join("\n")
    );
}

/// The rule ids a chapter defines: paragraphs that start with `**[XXX-NN]**`.
fn rules_defined(text: &str) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    let mut previous = "";
    for line in text.lines() {
        if previous.trim().is_empty()
            && let Some(rest) = line.strip_prefix("**[")
            && let Some((id, _)) = rest.split_once("]**")
        {
            out.insert(id.to_owned());
        }
        previous = line;
    }
    out
}

/// The rule ids of a cell such as `IDN-01..06, SAF-01..04`.
fn rules_listed(cell: &str) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    for part in cell.split(',').map(str::trim) {
        let Some((prefix, range)) = part.split_once('-') else {
            continue;
        };
        if prefix.is_empty() || !prefix.bytes().all(|b| b.is_ascii_uppercase()) {
            continue;
        }
        let (from, to) = range.split_once("..").unwrap_or((range, range));
        let (Ok(from), Ok(to)) = (from.parse::<u32>(), to.parse::<u32>()) else {
            continue;
        };
        for n in from..=to {
            out.insert(format!("{prefix}-{n:02}"));
        }
    }
    out
}

#[test]
fn spec_readme_lists_the_rules_each_chapter_defines() {
    let readme = std::fs::read_to_string(spec_dir().join("README.md")).unwrap();
    let rows = table_rows(&readme, "see [00-conventions.md](00-conventions.md).", "chapter");
    let chapters: Vec<(String, &'static str)> =
        chapter_statuses().unwrap_or_default().into_iter().collect();
    assert!(!chapters.is_empty());
    let mut problems = Vec::new();
    for row in &rows {
        for name in chapters_named(&row[0], &chapters) {
            let text = std::fs::read_to_string(spec_dir().join(&name)).unwrap();
            let defined = rules_defined(&text);
            let listed = rules_listed(&row[2]);
            if defined != listed {
                problems.push(format!(
                    "{name}: spec/README.md lists {:?}, the chapter defines {:?}",
                    listed.difference(&defined).collect::<Vec<_>>(),
                    defined.difference(&listed).collect::<Vec<_>>()
                ));
            }
        }
    }
    assert!(problems.is_empty(), "rule ranges in spec/README.md:\n{}", problems.join("\n"));
}

/// Every JSON key used in a vector file's groups and tests (nested objects included).
fn json_keys(value: &serde_json::Value, out: &mut BTreeSet<String>) {
    match value {
        serde_json::Value::Object(map) => {
            for (k, v) in map {
                out.insert(k.clone());
                json_keys(v, out);
            }
        }
        serde_json::Value::Array(items) => items.iter().for_each(|v| json_keys(v, out)),
        _ => {}
    }
}

#[test]
fn section_15_6_describes_every_field_of_every_family() {
    let spec = std::fs::read_to_string(spec_dir().join("15-test-vectors.md")).unwrap();
    // The fields common to every family: §15.1 and the introduction of §15.6.
    let common = [
        &spec[spec.find("## 15.1").unwrap()..spec.find("## 15.2").unwrap()],
        &spec[spec.find("## 15.6").unwrap()..spec.find("### 15.6.1 ").unwrap()],
    ]
    .concat();
    let mut problems = Vec::new();
    for (name, contents) in committed_vectors() {
        let family = name.trim_end_matches(".json");
        let heading = format!("`{family}.json`\n");
        let Some(start) = spec
            .match_indices("\n### 15.6.")
            .map(|(i, _)| i + 1)
            .find(|&i| spec[i..].lines().next().is_some_and(|l| l.ends_with(heading.trim_end())))
        else {
            problems.push(format!("{name}: no subsection of §15.6"));
            continue;
        };
        let end = spec[start + 1..].find("\n### ").map_or(spec.len(), |e| start + 1 + e);
        let section = &spec[start..end];
        let json: serde_json::Value = serde_json::from_str(&contents).unwrap();
        let mut keys = BTreeSet::new();
        json_keys(&json["testGroups"], &mut keys);
        for key in keys {
            let quoted = format!("`{key}`");
            if !section.contains(&quoted) && !common.contains(&quoted) {
                problems.push(format!("{name}: field `{key}` is not described in §15.6"));
            }
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}
