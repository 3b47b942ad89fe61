//! The live relay tester: runs cases keyed to `spec/08-mailboxes-and-relay.md` §8.6 against
//! any relay URL, each with its rule id, level (MUST or SHOULD) and requirement text quoted
//! from the spec, in the manner of h2spec and Autobahn|Testsuite.
//!
//! Cases come from two sources:
//!
//! - every scripted connection of `relay.json` (`RLY-NN/<slug>`), replayed over a real
//!   connection (module `sessions`): fresh mailboxes per run, proofs made for the live challenge,
//!   replies compared frame by frame (fetched expiries against the rounding rule). A script
//!   runs against a relay that announces exactly the script's limits; scripts that need clock
//!   control or a failing store are INFORMATIONAL;
//! - live-only checks (module `checks`): byte-exact forwarding of random and non-envelope bytes,
//!   owner-only fetch and delete from a second connection, malformed, oversized and text
//!   messages closing a connection while another keeps working, wakes, every announced limit
//!   enforced, the rate limit, and that an acknowledged write is durable (fetched from a new
//!   connection, and, when the tester controls the relay process, after killing it).
//!
//! Outcomes: PASS, FAIL, NON-STRICT (a SHOULD not met; FAIL with `--strict`), INFORMATIONAL,
//! UNIMPLEMENTED (the relay answers `relay.operation` for an operation a case needs).

mod checks;
pub(crate) mod conn;
mod requirements;
mod sessions;

use std::fmt::Write as _;
use std::path::Path;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use quietwire::relay::Limits;
use quietwire_test_vectors::families::relay::{RelayGroup, SessionTest};
use quietwire_test_vectors::format::{self, VectorFile};
use sha2::{Digest, Sha256};

use crate::config::{Choice, Selection};
use crate::report::{CaseResult, Outcome, Report, cap_transcript};

pub use conn::websocket_url;

/// The level of a requirement.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Level {
    /// MUST (MUST NOT, REQUIRED, SHALL): not meeting it is a failure.
    Must,
    /// SHOULD (RECOMMENDED): not meeting it is NON-STRICT, a failure under `--strict`.
    Should,
}

impl Level {
    /// `MUST` or `SHOULD`.
    pub const fn as_str(self) -> &'static str {
        match self {
            Level::Must => "MUST",
            Level::Should => "SHOULD",
        }
    }
}

/// What a case found.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Verdict {
    Pass(String),
    Fail(String),
    /// A SHOULD is not met.
    NotMet(String),
    Info(String),
    /// (feature, what showed it)
    Unimplemented(String, String),
}

/// One live case.
#[derive(Clone, Debug)]
pub struct LiveCase {
    /// `RLY-NN/slug`.
    pub id: String,
    /// The rule, `RLY-NN`.
    pub rule: &'static str,
    /// MUST or SHOULD.
    pub level: Level,
    /// The requirement, quoted from the spec.
    pub requirement: &'static str,
    /// What the case does.
    pub description: String,
    kind: Kind,
}

#[derive(Clone, Debug)]
enum Kind {
    Session {
        limits: Limits,
        test: Box<SessionTest>,
    },
    Check(checks::Check),
}

/// The rule a scripted session checks, from its flags.
fn session_rule(t: &SessionTest) -> &'static str {
    let has = |f: &str| t.flags.iter().any(|x| x == f);
    let slug = |s: &str| t.slug.contains(s);
    if has("Quota") {
        "RLY-16"
    } else if has("Rate") {
        "RLY-10"
    } else if has("Decoding") || has("UnknownOperation") {
        "RLY-03"
    } else if has("Expiry") {
        "RLY-09"
    } else if has("Blob") || slug("blob") || slug("attachment") {
        "RLY-08"
    } else if has("Blindness") {
        "RLY-11"
    } else if has("Subscriptions") || slug("subscribe") {
        "RLY-07"
    } else if has("Proof") || has("FetchRange") || slug("fetch") || slug("delete") {
        "RLY-06"
    } else {
        "RLY-05"
    }
}

/// Every case, in run order: the scripted sessions of `relay.json` in `dir`, then the
/// live-only checks.
///
/// # Errors
/// A message if `relay.json` cannot be loaded.
pub fn cases(dir: &Path) -> Result<Vec<LiveCase>, String> {
    let path = dir.join("relay.json");
    let text = std::fs::read_to_string(&path).map_err(|e| format!("{}: {e}", path.display()))?;
    let file: VectorFile<RelayGroup> = format::load(&text)?;
    let mut out = Vec::new();
    for group in file.test_groups {
        let RelayGroup::Session { limits, tests, .. } = group else {
            continue;
        };
        for t in tests {
            let rule = session_rule(&t);
            out.push(LiveCase {
                id: format!("{rule}/{}", t.slug),
                rule,
                level: Level::Must,
                requirement: requirements::of_rule(rule),
                description: format!("relay.json tcId {}: {}", t.tc_id, t.comment),
                kind: Kind::Session {
                    limits: limits.into(),
                    test: Box::new(t),
                },
            });
        }
    }
    for def in checks::CHECKS {
        out.push(LiveCase {
            id: format!("{}/{}", def.rule, def.slug),
            rule: def.rule,
            level: def.level,
            requirement: def.requirement,
            description: def.what.to_owned(),
            kind: Kind::Check(def.check),
        });
    }
    Ok(out)
}

/// The limits relays need to announce to run every script: the reference defaults first,
/// then every other set of limits a `relay-session` group of `relay.json` uses.
///
/// # Errors
/// A message if `relay.json` cannot be loaded.
pub fn script_limits(dir: &Path) -> Result<Vec<Limits>, String> {
    let mut out = vec![Limits::DEFAULT];
    for case in cases(dir)? {
        if let Kind::Session { limits, .. } = case.kind
            && !out.contains(&limits)
        {
            out.push(limits);
        }
    }
    Ok(out)
}

/// `--list`: every case id with its level, requirement and what it does, without connecting.
///
/// # Errors
/// A message if `relay.json` cannot be loaded.
pub fn list(dir: &Path, selection: &Selection) -> Result<String, String> {
    let mut out = String::new();
    for case in cases(dir)? {
        if selection.choose(&case.id) == Choice::Excluded {
            continue;
        }
        let _ = writeln!(out, "{} [{}]", case.id, case.level.as_str());
        let _ = writeln!(out, "    requirement: \"{}\"", case.requirement);
        let _ = writeln!(out, "    checks: {}", case.description);
        if let Kind::Session { test, .. } = &case.kind
            && let Some(why) = sessions::not_replayable(test)
        {
            let _ = writeln!(out, "    informational: {why}");
        }
    }
    Ok(out)
}

/// Restarts the relay under test (kill, then start again on the same data), for the
/// durability case; returns the relay's new URL.
pub trait Restart {
    /// Kills the relay process and starts it again.
    ///
    /// # Errors
    /// A message if the relay cannot be started again.
    fn restart(&mut self) -> Result<String, String>;
}

/// How to run the tester.
pub struct Options<'a> {
    /// Relay URLs; the first is the relay under test for live-only checks, scripts run on the
    /// first one whose announced limits equal the script's.
    pub urls: Vec<String>,
    /// Turn NON-STRICT into FAIL.
    pub strict: bool,
    /// The cases to run (`--only`) and the disabled ones.
    pub selection: Selection,
    /// The time one answer may take.
    pub timeout: Duration,
    /// Restarts the first relay, if the tester controls its process.
    pub restart: Option<&'a mut dyn Restart>,
    /// The certificates trusted for `wss://` URLs, and no others (no system roots).
    pub trust: Vec<rustls_pki_types::CertificateDer<'static>>,
}

impl std::fmt::Debug for Options<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Options")
            .field("urls", &self.urls)
            .field("strict", &self.strict)
            .field("selection", &self.selection)
            .field("timeout", &self.timeout)
            .field("restart", &self.restart.is_some())
            .field("trust", &self.trust.len())
            .finish()
    }
}

/// A relay the tester talks to.
#[derive(Clone, Debug)]
pub(crate) struct Target {
    url: String,
    limits: Limits,
}

/// A deterministic byte generator seeded from the clock and the process: test data and fresh
/// mailbox seeds only (nothing secret).
pub(crate) struct Rng {
    key: [u8; 32],
    counter: u64,
}

impl Rng {
    pub(crate) fn new() -> Rng {
        let mut h = Sha256::new();
        h.update(b"quietwire-conformance/live");
        h.update(
            SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map_or(0, |d| d.as_nanos())
                .to_le_bytes(),
        );
        h.update(std::process::id().to_le_bytes());
        Rng {
            key: h.finalize().into(),
            counter: 0,
        }
    }

    pub(crate) fn bytes(&mut self, len: usize) -> Vec<u8> {
        let mut out = Vec::with_capacity(len + 32);
        while out.len() < len {
            let mut h = Sha256::new();
            h.update(self.key);
            h.update(self.counter.to_le_bytes());
            self.counter += 1;
            out.extend_from_slice(&h.finalize());
        }
        out.truncate(len);
        out
    }

    pub(crate) fn array32(&mut self) -> [u8; 32] {
        let mut out = [0; 32];
        out.copy_from_slice(&self.bytes(32));
        out
    }

    pub(crate) fn array16(&mut self) -> [u8; 16] {
        let mut out = [0; 16];
        out.copy_from_slice(&self.bytes(16));
        out
    }
}

/// Runs the selected cases against `options.urls`.
///
/// # Errors
/// A message if `relay.json` cannot be loaded, no URL is given, or a relay cannot be reached.
pub fn run(dir: &Path, options: Options<'_>) -> Result<Report, String> {
    let all = cases(dir)?;
    if !options.trust.is_empty() {
        conn::trust(&options.trust)?;
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|e| format!("tokio: {e}"))?;
    let timeout = options.timeout;
    let urls: Vec<String> = options.urls.iter().map(|u| websocket_url(u)).collect();
    let Some(primary_url) = urls.first().cloned() else {
        return Err("no relay URL".to_owned());
    };
    let targets: Vec<Target> = runtime.block_on(async {
        let mut targets = Vec::new();
        for url in &urls {
            let conn = conn::Conn::open(url, timeout)
                .await
                .map_err(|e| format!("relay {url}: {e}"))?;
            targets.push(Target {
                url: url.clone(),
                limits: conn.limits,
            });
            conn.close().await;
        }
        Ok::<_, String>(targets)
    })?;
    let Some(primary) = targets.first().cloned() else {
        return Err("no relay".to_owned());
    };
    let mut results: Vec<(usize, Verdict, Vec<String>)> = Vec::new();
    let mut jobs = Vec::new();
    let mut restart_case = None;
    for (index, case) in all.iter().enumerate() {
        match options.selection.choose(&case.id) {
            Choice::Excluded | Choice::Disabled(_) => continue,
            Choice::Run => {}
        }
        match &case.kind {
            Kind::Session { limits, test } => {
                if let Some(why) = sessions::not_replayable(test) {
                    results.push((index, Verdict::Info(why), Vec::new()));
                    continue;
                }
                let Some(target) = targets.iter().find(|t| t.limits == *limits) else {
                    results.push((
                        index,
                        Verdict::Info(format!(
                            "needs a relay announcing this script's limits ({}); pass the URL of one with another --url",
                            limits_text(limits)
                        )),
                        Vec::new(),
                    ));
                    continue;
                };
                let (test, url) = (test.clone(), target.url.clone());
                jobs.push(runtime.spawn(async move {
                    let mut log = Vec::new();
                    let mut rng = Rng::new();
                    let verdict = sessions::replay(&test, &url, timeout, &mut rng, &mut log).await;
                    (index, verdict, log)
                }));
            }
            Kind::Check(checks::Check::DurableRestart) => restart_case = Some(index),
            Kind::Check(check) => {
                let ctx = checks::Ctx::new(&primary, timeout, &urls);
                let check = *check;
                jobs.push(runtime.spawn(async move {
                    let verdict = checks::run(check, &ctx).await;
                    (index, verdict, Vec::new())
                }));
            }
        }
    }
    for job in jobs {
        match runtime.block_on(job) {
            Ok(result) => results.push(result),
            Err(e) => return Err(format!("a live case panicked: {e}")),
        }
    }
    if let Some(index) = restart_case {
        let ctx = checks::Ctx::new(&primary, timeout, &urls);
        let verdict = match options.restart {
            None => Verdict::Info(
                "needs control of the relay process: the main job kills and restarts the reference relay it started"
                    .to_owned(),
            ),
            Some(restart) => checks::durable_restart(&runtime, &ctx, restart),
        };
        results.push((index, verdict, Vec::new()));
    }
    results.sort_by_key(|(index, _, _)| *index);
    let mut report = Report {
        implementation: format!(
            "relay {} (announces {})",
            primary_url,
            limits_text(&primary.limits)
        ),
        cases: Vec::new(),
    };
    for (index, case) in all.iter().enumerate() {
        if let Choice::Disabled(reason) = options.selection.choose(&case.id) {
            report.cases.push(CaseResult {
                actual: "not run".to_owned(),
                outcome: Outcome::Disabled,
                note: Some(format!("disabled: {reason}")),
                ..base(case)
            });
            continue;
        }
        if let Some((_, verdict, log)) = results.iter().find(|(i, _, _)| *i == index) {
            report
                .cases
                .push(result(case, verdict.clone(), log.clone(), options.strict));
        }
    }
    drop(runtime);
    Ok(report)
}

fn limits_text(l: &Limits) -> String {
    format!(
        "max_frame {}, max_envelope {}, max_attachment {}, max_items {}, max_ttl {}, max_fetch {}, max_delete {}, rate {}, burst {}, max_subscriptions {}",
        l.max_frame,
        l.max_envelope,
        l.max_attachment,
        l.max_items,
        l.max_ttl,
        l.max_fetch,
        l.max_delete,
        l.rate,
        l.burst,
        l.max_subscriptions
    )
}

fn base(case: &LiveCase) -> CaseResult {
    let (group, tc_id, slug, flags) = match &case.kind {
        Kind::Session { test, .. } => {
            ("session", test.tc_id, test.slug.clone(), test.flags.clone())
        }
        Kind::Check(_) => (
            "live",
            0,
            case.id
                .split_once('/')
                .map_or(String::new(), |(_, s)| s.to_owned()),
            Vec::new(),
        ),
    };
    CaseResult {
        id: case.id.clone(),
        family: case.rule.to_owned(),
        group: group.to_owned(),
        tc_id,
        slug,
        flags,
        expected: case.description.clone(),
        requirement: Some(case.requirement.to_owned()),
        level: Some(case.level.as_str().to_owned()),
        ..CaseResult::default()
    }
}

fn result(case: &LiveCase, verdict: Verdict, log: Vec<String>, strict: bool) -> CaseResult {
    let base = base(case);
    let (outcome, actual, note, feature) = match verdict {
        Verdict::Pass(what) => (Outcome::Pass, what, None, None),
        Verdict::Fail(what) if case.level == Level::Should && !strict => {
            (Outcome::NonStrict, what, None, None)
        }
        Verdict::Fail(what) => (Outcome::Fail, what, None, None),
        Verdict::NotMet(what) if strict => (Outcome::Fail, what, None, None),
        Verdict::NotMet(what) => (Outcome::NonStrict, what, None, None),
        Verdict::Info(what) => (
            Outcome::Informational,
            "not checked".to_owned(),
            Some(what),
            None,
        ),
        Verdict::Unimplemented(feature, what) => {
            (Outcome::Unimplemented, what, None, Some(feature))
        }
    };
    let transcript = match outcome {
        Outcome::Fail | Outcome::NonStrict => cap_transcript(log),
        _ => Vec::new(),
    };
    CaseResult {
        outcome,
        actual,
        note,
        feature,
        transcript,
        ..base
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_session_and_check_is_a_case() {
        let dir = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../test-vectors/v1");
        let all = cases(&dir).unwrap_or_default();
        let mut ids: Vec<&str> = all.iter().map(|c| c.id.as_str()).collect();
        let n = ids.len();
        ids.sort_unstable();
        ids.dedup();
        assert_eq!(ids.len(), n, "case ids are unique");
        assert!(ids.contains(&"RLY-05/re-put-same"));
        assert!(ids.contains(&"RLY-03/non-cbor"));
        assert!(ids.contains(&"RLY-10/rate-limit"));
        assert!(
            all.iter().all(|c| !c.requirement.is_empty()),
            "every case quotes its rule"
        );
        let listed = list(&dir, &Selection::default()).unwrap_or_default();
        assert!(listed.contains("RLY-07/wake-after-put [MUST]"));
        assert!(listed.contains("informational: needs clock control"));
    }
}
