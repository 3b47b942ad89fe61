//! The scripts of interop runs and how two implementations play them: who acts, what each
//! step does, what it must give, and [`play`], which runs a script step by step and stops at
//! the first divergence, naming the side.

use quietwire_test_vectors::families::ratchet::{self, Side, Step};
use sha2::{Digest, Sha256};

use crate::implementation::{Failure, Handle, Implementation, OpResult};
use crate::runner::ratchet as ops;
/// Which role of a conversation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Who {
    Initiator,
    Responder,
}

impl Who {
    pub(super) const fn role(self) -> &'static str {
        match self {
            Who::Initiator => "initiator",
            Who::Responder => "responder",
        }
    }
}

/// Who plays the initiator: A (`ab`) or B (`ba`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Assignment {
    Ab,
    Ba,
}

impl Assignment {
    pub(super) const BOTH: [Assignment; 2] = [Assignment::Ab, Assignment::Ba];

    pub(super) const fn suffix(self) -> &'static str {
        match self {
            Assignment::Ab => "ab",
            Assignment::Ba => "ba",
        }
    }
}

/// The two implementations and who plays what.
pub(super) struct Players<'a> {
    pub(super) a: &'a mut dyn Implementation,
    pub(super) b: &'a mut dyn Implementation,
    pub(super) assignment: Assignment,
}

impl Players<'_> {
    pub(super) fn is_a(&self, who: Who) -> bool {
        matches!(
            (self.assignment, who),
            (Assignment::Ab, Who::Initiator) | (Assignment::Ba, Who::Responder)
        )
    }

    pub(super) fn get(&mut self, who: Who) -> &mut dyn Implementation {
        if self.is_a(who) { self.a } else { self.b }
    }

    /// "the responder (B: name)".
    pub(super) fn who(&self, who: Who) -> String {
        let (label, name) = if self.is_a(who) {
            ("A", self.a.name())
        } else {
            ("B", self.b.name())
        };
        format!("the {} ({label}: {name})", who.role())
    }
}

/// Why a conversation stopped.
pub(super) enum Stop {
    /// A side disagreed with the expectation.
    Diverged(String),
    /// A side does not implement a feature the script needs.
    Unimplemented(String),
}

/// A message a decrypt step opens: bytes of the script, or what step `n` produced.
#[derive(Clone, Debug)]
pub(super) enum Msg {
    Bytes(Vec<u8>),
    Produced(usize),
}

#[derive(Clone, Debug)]
pub(super) enum Act {
    Encrypt {
        plaintext: Vec<u8>,
        randomness: Vec<u8>,
    },
    Stream {
        count: u32,
        seed: Vec<u8>,
    },
    Decrypt {
        message: Msg,
    },
    DecryptEvent {
        message: Msg,
    },
}

impl Act {
    pub(super) const fn name(&self) -> &'static str {
        match self {
            Act::Encrypt { .. } => "encrypt",
            Act::Stream { .. } => "encrypt-discard",
            Act::Decrypt { .. } => "decrypt",
            Act::DecryptEvent { .. } => "decrypt-event",
        }
    }
}

/// What a step must give: its output (the message, SHA-256 of the discarded messages, or the
/// plaintext) or error class, and the acting side's snapshot digest afterwards.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) struct Seen {
    pub(super) result: Result<Vec<u8>, String>,
    pub(super) digest: Vec<u8>,
    /// The snapshot itself, when known (a run's own steps, or the reference run's): a
    /// diverging digest is then explained field by field.
    pub(super) snapshot: Vec<u8>,
}

#[derive(Clone, Debug)]
pub(super) struct ScriptStep {
    pub(super) who: Who,
    pub(super) act: Act,
    pub(super) want: Option<Seen>,
}

pub(super) fn side_result<T>(
    r: OpResult<T>,
    players: &Players<'_>,
    who: Who,
) -> Result<Result<T, String>, Stop> {
    match r {
        Ok(v) => Ok(Ok(v)),
        Err(Failure::Error { class }) => Ok(Err(class)),
        Err(Failure::Unimplemented { feature }) => Err(Stop::Unimplemented(format!(
            "{feature} ({})",
            players.who(who)
        ))),
    }
}

pub(super) fn short(bytes: &[u8]) -> String {
    let h = hex::encode(bytes);
    if h.len() > 48 {
        format!(
            "{}…({} bytes)",
            h.get(..48).unwrap_or_default(),
            bytes.len()
        )
    } else {
        h
    }
}

pub(super) fn show(result: &Result<Vec<u8>, String>) -> String {
    match result {
        Ok(bytes) => short(bytes),
        Err(class) => format!("error {class}"),
    }
}

/// Plays `steps` from the two handles (initiator, responder); returns what every step gave.
pub(super) fn play(
    players: &mut Players<'_>,
    handles: (Handle, Handle),
    steps: &[ScriptStep],
    log: &mut Vec<String>,
) -> Result<Vec<Seen>, Stop> {
    let mut seen: Vec<Seen> = Vec::with_capacity(steps.len());
    let mut produced: Vec<Vec<u8>> = Vec::with_capacity(steps.len());
    for (index, step) in steps.iter().enumerate() {
        let who = step.who;
        let handle = match who {
            Who::Initiator => handles.0,
            Who::Responder => handles.1,
        };
        let message = |message: &Msg| match message {
            Msg::Bytes(b) => b.clone(),
            Msg::Produced(n) => produced.get(*n).cloned().unwrap_or_default(),
        };
        let act = match &step.act {
            Act::Encrypt {
                plaintext,
                randomness,
            } => ops::Act::encrypt(handle, plaintext, randomness),
            Act::Stream { count, seed } => ops::Act::stream(handle, *count, seed),
            Act::Decrypt { message: m } => ops::Act::decrypt(handle, &message(m), false),
            Act::DecryptEvent { message: m } => ops::Act::decrypt(handle, &message(m), true),
        };
        let r = side_result(act.call(players.get(who)), players, who)?;
        let (raw, result) = match &step.act {
            Act::Encrypt { .. } => (r.clone().unwrap_or_default(), r),
            Act::Stream { .. } => (
                r.clone().unwrap_or_default(),
                r.map(|all| Sha256::digest(all).to_vec()),
            ),
            Act::Decrypt { .. } | Act::DecryptEvent { .. } => (Vec::new(), r),
        };
        let snapshot = match side_result(ops::snapshot(players.get(who), handle), players, who)? {
            Ok(s) => s,
            Err(class) => {
                return Err(Stop::Diverged(format!(
                    "step {index} ({} by {}): the snapshot failed with {class}",
                    step.act.name(),
                    players.who(who)
                )));
            }
        };
        let now = Seen {
            result,
            digest: Sha256::digest(&snapshot).to_vec(),
            snapshot,
        };
        log.push(format!(
            "step {index}: {} {} -> {}, snapshot digest {}",
            who.role(),
            step.act.name(),
            show(&now.result),
            short(&now.digest)
        ));
        if let Some(want) = &step.want {
            let what = if now.result != want.result {
                Some(format!(
                    "gave {} where {} was expected",
                    show(&now.result),
                    show(&want.result)
                ))
            } else if now.digest != want.digest {
                let fields = if want.snapshot.is_empty() {
                    String::new()
                } else {
                    format!(
                        "; {}",
                        crate::runner::diverge::snapshot_diff(&want.snapshot, &now.snapshot)
                    )
                };
                Some(format!(
                    "snapshot digest {} where {} was expected (its state diverged){fields}",
                    hex::encode(&now.digest),
                    hex::encode(&want.digest)
                ))
            } else {
                None
            };
            if let Some(what) = what {
                return Err(Stop::Diverged(format!(
                    "step {index} ({} by {}): {what}",
                    step.act.name(),
                    players.who(who)
                )));
            }
        }
        produced.push(raw);
        seen.push(now);
    }
    Ok(seen)
}

/// The script of a `ratchet-session` vector; messages the other side produced are taken
/// from that side's output, not from the vector.
pub(super) fn session_script(t: &ratchet::SessionTest) -> Vec<ScriptStep> {
    // Sessions with an attacker side are not played between two implementations (`load`).
    let who = |side: &Side| match side {
        Side::Initiator => Who::Initiator,
        Side::Responder | Side::Attacker => Who::Responder,
    };
    let mut out: Vec<ScriptStep> = Vec::with_capacity(t.steps.len());
    for step in &t.steps {
        let script_step = match step {
            Step::Encrypt {
                side,
                plaintext,
                randomness,
                message,
                error_class,
                snapshot_digest,
            } => ScriptStep {
                who: who(side),
                act: Act::Encrypt {
                    plaintext: plaintext.clone(),
                    randomness: randomness.clone(),
                },
                want: Some(Seen {
                    result: expected(message, error_class),
                    digest: snapshot_digest.clone(),
                    snapshot: Vec::new(),
                }),
            },
            Step::EncryptDiscard {
                side,
                count,
                randomness_seed,
                messages_digest,
                snapshot_digest,
            } => ScriptStep {
                who: who(side),
                act: Act::Stream {
                    count: *count,
                    seed: randomness_seed.clone(),
                },
                want: Some(Seen {
                    result: Ok(messages_digest.clone()),
                    digest: snapshot_digest.clone(),
                    snapshot: Vec::new(),
                }),
            },
            Step::Decrypt {
                side,
                message,
                plaintext,
                error_class,
                snapshot_digest,
            } => {
                let earlier = t.steps.iter().position(
                    |s| matches!(s, Step::Encrypt { message: Some(m), .. } if m == message),
                );
                ScriptStep {
                    who: who(side),
                    act: Act::Decrypt {
                        message: earlier.map_or_else(|| Msg::Bytes(message.clone()), Msg::Produced),
                    },
                    want: Some(Seen {
                        result: expected(plaintext, error_class),
                        digest: snapshot_digest.clone(),
                        snapshot: Vec::new(),
                    }),
                }
            }
            Step::DecryptEvent {
                side,
                message,
                event,
                error_class,
                snapshot_digest,
            } => {
                let earlier = t.steps.iter().position(
                    |s| matches!(s, Step::Encrypt { message: Some(m), .. } if m == message),
                );
                ScriptStep {
                    who: who(side),
                    act: Act::DecryptEvent {
                        message: earlier.map_or_else(|| Msg::Bytes(message.clone()), Msg::Produced),
                    },
                    want: Some(Seen {
                        result: expected(event, error_class),
                        digest: snapshot_digest.clone(),
                        snapshot: Vec::new(),
                    }),
                }
            }
        };
        out.push(script_step);
    }
    out
}

pub(super) fn expected(value: &Option<Vec<u8>>, class: &Option<String>) -> Result<Vec<u8>, String> {
    match (value, class) {
        (_, Some(class)) => Err(class.clone()),
        (Some(v), None) => Ok(v.clone()),
        (None, None) => Ok(Vec::new()),
    }
}

/// The conversation held after a handshake: `(who, plaintext, randomness length)` for sends,
/// or the index of the send step whose message `who` decrypts.
pub(super) fn conversation(slug: &str) -> Vec<ScriptStep> {
    enum Line {
        Send(Who, &'static str, usize),
        Open(Who, usize),
    }
    use Line::{Open, Send};
    use Who::{Initiator as I, Responder as R};
    // The randomness each encryption draws in the post-quantum session a handshake makes
    // (spec/06-ratchet.md RAT-13): the initiator's first sending half has no KEM key to
    // encapsulate to, every later one has; within a chain only the header nonce.
    let (first_step, step, nonce) = (32 + 64 + 24, 32 + 64 + 32 + 24, 24);
    let lines = [
        Send(I, "a1: first message after the handshake", first_step),
        Send(I, "a2: lost for a while", nonce),
        Send(I, "a3: overtakes a1", nonce),
        Open(R, 2),
        Open(R, 0),
        Send(R, "b1: the responder's first reply", step),
        Open(I, 5),
        Send(I, "a4: after a DH step", step),
        Open(R, 7),
        Open(R, 1),
        Open(R, 1),
    ];
    lines
        .iter()
        .enumerate()
        .map(|(index, line)| match line {
            Send(who, text, len) => ScriptStep {
                who: *who,
                act: Act::Encrypt {
                    plaintext: text.as_bytes().to_vec(),
                    randomness: stream(&format!("interop/{slug}/{index}"), *len),
                },
                want: None,
            },
            Open(who, n) => ScriptStep {
                who: *who,
                act: Act::Decrypt {
                    message: Msg::Produced(*n),
                },
                want: None,
            },
        })
        .collect()
}

/// `len` bytes of SHA-256(label ‖ u64le(i)), i = 0, 1, …
pub(super) fn stream(label: &str, len: usize) -> Vec<u8> {
    let mut out = Vec::with_capacity(len + 32);
    let mut block = 0u64;
    while out.len() < len {
        let mut h = Sha256::new();
        h.update(label.as_bytes());
        h.update(block.to_le_bytes());
        out.extend_from_slice(&h.finalize());
        block += 1;
    }
    out.truncate(len);
    out
}
