//! The per-implementation configuration: disabled cases (each with a reason), an error map,
//! and optional features; the case selection of a run (`--only` prefixes and the disabled
//! cases); and the check for stale configuration entries.
//!
//! A configuration is a TOML file (or JSON, if its name ends in `.json`):
//!
//! ```toml
//! # Cases not to run, by id glob (`*` any text, `?` one character), each with a reason.
//! [disabled]
//! "cbor/12" = "our decoder accepts this on purpose (issue #4)"
//! "RLY-10/*" = "the relay under test has no rate limit yet"
//!
//! # The vectors' error classes (keys) and the classes this implementation reports instead.
//! [errorMap]
//! "cbor.trailing" = "cbor.trailing_bytes"
//!
//! # Features this implementation does not provide, by the name its `unimplemented`
//! # answers give, each with a reason: their cases stay UNIMPLEMENTED but do not fail the run.
//! [optional]
//! ratchet = "this shim covers the lower layers only"
//! ```
//!
//! A disabled case is reported `DISABLED` with its reason and never run: it is not a pass.
//! The error map must be one to one (spec/00-conventions.md §0.2). `quietwire-conformance
//! stale --config FILE` lists disabled globs that match no case and error-map keys that no
//! vector expects, so that a configuration cannot silently outlive what it was written for.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use serde::Deserialize;

use crate::report::{CaseResult, Outcome};

/// A per-implementation configuration.
#[derive(Clone, Debug, Default, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Config {
    /// Case-id glob → why the case is not run.
    #[serde(default)]
    pub disabled: BTreeMap<String, String>,
    /// Vector error class → the class the implementation reports for it.
    #[serde(default)]
    pub error_map: BTreeMap<String, String>,
    /// Feature → why the implementation does not provide it.
    #[serde(default)]
    pub optional: BTreeMap<String, String>,
}

impl Config {
    /// Reads a configuration (TOML, or JSON for a `.json` file) and checks it: every reason
    /// is non-empty and the error map is one to one.
    ///
    /// # Errors
    /// A message naming the file and what is wrong with it.
    pub fn load(path: &Path) -> Result<Config, String> {
        let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
        let config: Config = if path.extension().is_some_and(|e| e == "json") {
            serde_json::from_str(&text).map_err(|e| format!("{}: {e}", path.display()))?
        } else {
            toml::from_str(&text).map_err(|e| format!("{}: {e}", path.display()))?
        };
        config
            .check()
            .map_err(|e| format!("{}: {e}", path.display()))?;
        Ok(config)
    }

    /// Checks the reasons and the error map.
    ///
    /// # Errors
    /// A message saying which entry is wrong.
    pub fn check(&self) -> Result<(), String> {
        for (section, entries) in [("disabled", &self.disabled), ("optional", &self.optional)] {
            if let Some((key, _)) = entries.iter().find(|(_, reason)| reason.trim().is_empty()) {
                return Err(format!("[{section}] \"{key}\" needs a reason"));
            }
        }
        let mut seen = BTreeMap::new();
        for (expected, reported) in &self.error_map {
            if let Some(other) = seen.insert(reported, expected) {
                return Err(format!(
                    "[errorMap] maps both \"{other}\" and \"{expected}\" to \"{reported}\": the map must be one to one"
                ));
            }
        }
        Ok(())
    }

    /// The reason a case is disabled, if a glob matches its id.
    pub fn disabled_reason(&self, id: &str) -> Option<&str> {
        self.disabled
            .iter()
            .find(|(glob, _)| glob_match(glob, id))
            .map(|(_, reason)| reason.as_str())
    }

    /// The vector class an implementation's `reported` class stands for (the inverse of the
    /// error map); `reported` itself if the map does not name it.
    pub fn unmap_class<'a>(&'a self, reported: &'a str) -> &'a str {
        self.error_map
            .iter()
            .find(|(_, r)| r.as_str() == reported)
            .map_or(reported, |(expected, _)| expected.as_str())
    }
}

/// Whether `text` matches `glob`: `*` matches any text (slashes included), `?` one character,
/// anything else itself.
pub fn glob_match(glob: &str, text: &str) -> bool {
    let glob: Vec<char> = glob.chars().collect();
    let text: Vec<char> = text.chars().collect();
    let (mut g, mut t) = (0, 0);
    // Where the last `*` was, and the text position it currently absorbs up to.
    let mut star: Option<(usize, usize)> = None;
    while t < text.len() {
        match glob.get(g) {
            Some('*') => {
                star = Some((g, t));
                g += 1;
            }
            Some(c) if *c == '?' || Some(c) == text.get(t) => {
                g += 1;
                t += 1;
            }
            _ => match star {
                Some((sg, st)) => {
                    g = sg + 1;
                    t = st + 1;
                    star = Some((sg, st + 1));
                }
                None => return false,
            },
        }
    }
    glob.iter().skip(g).all(|c| *c == '*')
}

/// Whether the case `id` is under `prefix`, by whole `/`-separated segments: `cbor` selects
/// `cbor/12` (not `cbor_x/1`), `hpke/7` selects `hpke/7` (not `hpke/70`), `RLY-05` every
/// `RLY-05/…` case; a prefix ending in `/` selects everything that starts with it.
pub fn under(id: &str, prefix: &str) -> bool {
    if prefix.ends_with('/') {
        return id.starts_with(prefix);
    }
    id.strip_prefix(prefix)
        .is_some_and(|rest| rest.is_empty() || rest.starts_with('/'))
}

/// Which cases a run runs: those under one of the `--only` prefixes (all if none), minus the
/// configuration's disabled ones.
#[derive(Clone, Debug, Default)]
pub struct Selection {
    /// Case-id prefixes; empty selects every case.
    pub only: Vec<String>,
    /// The configuration (its disabled cases).
    pub config: Config,
}

/// What a selection does with one case.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Choice<'a> {
    /// Run it.
    Run,
    /// Report it `DISABLED` with this reason.
    Disabled(&'a str),
    /// Leave it out (not under an `--only` prefix).
    Excluded,
}

impl Selection {
    /// What to do with the case `id`.
    pub fn choose(&self, id: &str) -> Choice<'_> {
        if !self.only.is_empty() && !self.only.iter().any(|p| under(id, p)) {
            return Choice::Excluded;
        }
        match self.config.disabled_reason(id) {
            Some(reason) => Choice::Disabled(reason),
            None => Choice::Run,
        }
    }

    /// Removes from the vector file `text` every test this selection does not run: disabled
    /// ones are pushed to `disabled` as `DISABLED` results, excluded ones dropped. Returns the
    /// file to run (`numberOfTests` adjusted, empty groups removed), or `None` if no test of
    /// it is left.
    ///
    /// # Errors
    /// A message if the file is not a vector file.
    pub fn filter_file(
        &self,
        text: &str,
        disabled: &mut Vec<CaseResult>,
    ) -> Result<Option<String>, String> {
        if self.only.is_empty() && self.config.disabled.is_empty() {
            return Ok(Some(text.to_owned()));
        }
        let mut file: serde_json::Value =
            serde_json::from_str(text).map_err(|e| format!("vector file: {e}"))?;
        let family = file
            .get("family")
            .and_then(serde_json::Value::as_str)
            .ok_or("vector file without a family")?
            .to_owned();
        let mut kept = 0u64;
        let mut removed = false;
        if let Some(groups) = file
            .get_mut("testGroups")
            .and_then(serde_json::Value::as_array_mut)
        {
            for group in groups.iter_mut() {
                let kind = group
                    .get("type")
                    .and_then(serde_json::Value::as_str)
                    .unwrap_or_default()
                    .to_owned();
                let Some(tests) = group
                    .get_mut("tests")
                    .and_then(serde_json::Value::as_array_mut)
                else {
                    continue;
                };
                tests.retain(|test| {
                    let meta = TestMeta::of(test);
                    let id = format!("{family}/{}", meta.tc_id);
                    match self.choose(&id) {
                        Choice::Run => {
                            kept += 1;
                            true
                        }
                        Choice::Disabled(reason) => {
                            disabled.push(meta.disabled(&family, &kind, id, reason));
                            removed = true;
                            false
                        }
                        Choice::Excluded => {
                            removed = true;
                            false
                        }
                    }
                });
            }
            groups.retain(|g| {
                g.get("tests")
                    .and_then(serde_json::Value::as_array)
                    .is_some_and(|t| !t.is_empty())
            });
        }
        if !removed {
            return Ok(Some(text.to_owned()));
        }
        if kept == 0 {
            return Ok(None);
        }
        if let Some(n) = file.get_mut("numberOfTests") {
            *n = serde_json::Value::from(kept);
        }
        serde_json::to_string(&file)
            .map(Some)
            .map_err(|e| format!("vector file: {e}"))
    }
}

/// The common fields of a test in a vector file, read leniently.
struct TestMeta {
    tc_id: u64,
    slug: String,
    flags: Vec<String>,
    expected: String,
}

impl TestMeta {
    fn of(test: &serde_json::Value) -> TestMeta {
        let text = |key: &str| {
            test.get(key)
                .and_then(serde_json::Value::as_str)
                .map(str::to_owned)
        };
        let expected = match (text("result").as_deref(), text("errorClass")) {
            (Some("invalid"), Some(class)) => format!("error {class}"),
            (Some("acceptable"), _) => "accept or reject".to_owned(),
            _ => "accept".to_owned(),
        };
        TestMeta {
            tc_id: test
                .get("tcId")
                .and_then(serde_json::Value::as_u64)
                .unwrap_or_default(),
            slug: text("slug").unwrap_or_default(),
            flags: test
                .get("flags")
                .and_then(serde_json::Value::as_array)
                .map(|f| {
                    f.iter()
                        .filter_map(|x| x.as_str().map(str::to_owned))
                        .collect()
                })
                .unwrap_or_default(),
            expected,
        }
    }

    fn disabled(self, family: &str, group: &str, id: String, reason: &str) -> CaseResult {
        CaseResult {
            id,
            family: family.to_owned(),
            group: group.to_owned(),
            tc_id: u32::try_from(self.tc_id).unwrap_or(u32::MAX),
            slug: self.slug,
            flags: self.flags,
            expected: self.expected,
            actual: "not run".to_owned(),
            outcome: Outcome::Disabled,
            note: Some(format!("disabled: {reason}")),
            ..CaseResult::default()
        }
    }
}

/// Every vector case id (`family/tcId`) in `dir` and every error class a vector expects
/// (test-level and step-level `errorClass`).
///
/// # Errors
/// A message if a vector file cannot be read or parsed.
pub fn vector_ids_and_classes(dir: &Path) -> Result<(Vec<String>, BTreeSet<String>), String> {
    let mut ids = Vec::new();
    let mut classes = BTreeSet::new();
    for name in crate::runner::FILES {
        let path = dir.join(name);
        let text =
            std::fs::read_to_string(&path).map_err(|e| format!("{}: {e}", path.display()))?;
        let file: serde_json::Value =
            serde_json::from_str(&text).map_err(|e| format!("{}: {e}", path.display()))?;
        let family = file
            .get("family")
            .and_then(serde_json::Value::as_str)
            .unwrap_or_default();
        for group in file
            .get("testGroups")
            .and_then(serde_json::Value::as_array)
            .into_iter()
            .flatten()
        {
            for test in group
                .get("tests")
                .and_then(serde_json::Value::as_array)
                .into_iter()
                .flatten()
            {
                ids.push(format!("{family}/{}", TestMeta::of(test).tc_id));
            }
        }
        collect_classes(&file, &mut classes);
    }
    Ok((ids, classes))
}

fn collect_classes(value: &serde_json::Value, out: &mut BTreeSet<String>) {
    match value {
        serde_json::Value::Object(map) => {
            for (key, v) in map {
                match (key.as_str(), v.as_str()) {
                    ("errorClass", Some(class)) => {
                        out.insert(class.to_owned());
                    }
                    _ => collect_classes(v, out),
                }
            }
        }
        serde_json::Value::Array(items) => {
            for v in items {
                collect_classes(v, out);
            }
        }
        _ => {}
    }
}

/// Configuration entries that match nothing.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Stale {
    /// Disabled globs that match no case id.
    pub disabled: Vec<String>,
    /// Error-map keys that no vector expects.
    pub error_map: Vec<String>,
}

impl Stale {
    /// Finds the stale entries of `config` against every case id and every expected class.
    pub fn find(config: &Config, ids: &[String], classes: &BTreeSet<String>) -> Stale {
        Stale {
            disabled: config
                .disabled
                .keys()
                .filter(|glob| !ids.iter().any(|id| glob_match(glob, id)))
                .cloned()
                .collect(),
            error_map: config
                .error_map
                .keys()
                .filter(|class| !classes.contains(*class))
                .cloned()
                .collect(),
        }
    }

    /// Whether nothing is stale.
    pub fn is_empty(&self) -> bool {
        self.disabled.is_empty() && self.error_map.is_empty()
    }
}

#[cfg(test)]
#[allow(clippy::panic, clippy::indexing_slicing)]
mod tests {
    use super::*;

    #[test]
    fn globs() {
        assert!(glob_match("cbor/12", "cbor/12"));
        assert!(!glob_match("cbor/12", "cbor/123"));
        assert!(glob_match("cbor/*", "cbor/123"));
        assert!(glob_match("*", ""));
        assert!(glob_match("RLY-0?/*", "RLY-05/re-put-same"));
        assert!(!glob_match("RLY-0?/*", "RLY-10/rate"));
        assert!(glob_match("*/re-put-*", "RLY-05/re-put-same"));
        assert!(glob_match("a*b*c", "aXbYbZc"));
        assert!(!glob_match("a*b*c", "aXbYbZ"));
    }

    #[test]
    fn prefixes_match_whole_segments() {
        assert!(under("cbor/12", "cbor"));
        assert!(under("cbor/12", "cbor/"));
        assert!(under("cbor/12", "cbor/12"));
        assert!(!under("cbor/123", "cbor/12"));
        assert!(!under("invite_encoding/1", "invite"));
        assert!(under("RLY-05/re-put-same", "RLY-05"));
        assert!(under("ratchet/in-order/ab", "ratchet/in-order"));
        assert!(!under("RLY-05/x", "RLY-0"));
    }

    #[test]
    fn config_checks() {
        let config: Config = toml::from_str(
            "[disabled]\n\"cbor/1\" = \"why\"\n[errorMap]\n\"a.b\" = \"x\"\n\"c.d\" = \"x\"\n",
        )
        .unwrap_or_default();
        assert!(config.check().is_err_and(|e| e.contains("one to one")));
        let config: Config = toml::from_str("[optional]\nratchet = \" \"\n").unwrap_or_default();
        assert!(config.check().is_err_and(|e| e.contains("needs a reason")));
        assert!(toml::from_str::<Config>("[unknown]\nx = \"y\"\n").is_err());
    }

    #[test]
    fn selection_filters_files() {
        let text = r#"{"family":"f","numberOfTests":3,"testGroups":[{"type":"t","tests":[
            {"tcId":1,"slug":"a","flags":[],"result":"valid"},
            {"tcId":2,"slug":"b","flags":["X"],"result":"invalid","errorClass":"e.c"},
            {"tcId":3,"slug":"c","flags":[],"result":"valid"}]}]}"#;
        let mut selection = Selection::default();
        selection
            .config
            .disabled
            .insert("f/2".to_owned(), "known".to_owned());
        selection.only.push("f/".to_owned());
        let mut disabled = Vec::new();
        let out = selection.filter_file(text, &mut disabled);
        let Ok(Some(out)) = out else {
            panic!("{out:?}");
        };
        let json: serde_json::Value = serde_json::from_str(&out).unwrap_or_default();
        assert_eq!(json["numberOfTests"], 2);
        assert_eq!(disabled.len(), 1);
        assert_eq!(disabled[0].id, "f/2");
        assert_eq!(disabled[0].expected, "error e.c");
        assert_eq!(disabled[0].outcome, Outcome::Disabled);
        selection.only = vec!["g/".to_owned()];
        assert_eq!(selection.filter_file(text, &mut disabled), Ok(None));
    }

    #[test]
    fn stale_entries() {
        let mut config = Config::default();
        config.disabled.insert("f/*".to_owned(), "r".to_owned());
        config.disabled.insert("gone/9".to_owned(), "r".to_owned());
        config.error_map.insert("e.c".to_owned(), "x".to_owned());
        config
            .error_map
            .insert("old.class".to_owned(), "y".to_owned());
        let classes = BTreeSet::from(["e.c".to_owned()]);
        let stale = Stale::find(&config, &["f/1".to_owned()], &classes);
        assert_eq!(stale.disabled, vec!["gone/9".to_owned()]);
        assert_eq!(stale.error_map, vec!["old.class".to_owned()]);
    }
}
