//! Post-quantum sessions and snapshots (spec/06-ratchet.md RAT-11 to RAT-15): the scripts of
//! the classic groups on the post-quantum ratchet, authentic headers whose KEM fields the
//! receiver must refuse, and version-2 snapshots.

use chacha20poly1305::XChaCha20Poly1305;
use chacha20poly1305::aead::{Aead, KeyInit, Payload};

use super::Op::{Bytes, Dec, Discard, Enc, EncFails, Forged};
use super::snapshot::{Snapshots, snapshot_key, with_field};
use super::{I, R, Scenario, SessionTest, Sessions, SnapshotTest};
use crate::families::Ids;
use quietwire::cbor::Value;
use quietwire::label::Label;
use quietwire::ratchet::{
    KEM_CIPHERTEXT_LEN, KEM_KEY_LEN, KEM_SEED_LEN, MAX_JUMP, PQ_ENCRYPTED_HEADER_LEN, PQ_OVERHEAD,
};

/// Offset of the KEM encapsulation key in a post-quantum header (RAT-14).
const KEM_KEY_AT: usize = 40;
/// Offset of the KEM ciphertext in a post-quantum header (RAT-14).
const KEM_CT_AT: usize = KEM_KEY_AT + KEM_KEY_LEN;

/// `message` with its header, opened under `hk`, changed by `edit` and sealed again under
/// the same key and nonce; the body is kept. An authentic header with chosen fields, as only
/// a peer (or an attacker holding the header key) could make.
fn resealed(message: &[u8], hk: &[u8; 32], ad: &[u8], edit: impl FnOnce(&mut [u8])) -> Vec<u8> {
    let Some((eh, body)) = message.split_at_checked(PQ_ENCRYPTED_HEADER_LEN) else {
        return Vec::new();
    };
    let Some((nonce, sealed)) = eh.split_first_chunk::<24>() else { return Vec::new() };
    let cipher = XChaCha20Poly1305::new(&(*hk).into());
    let aad = Label::RatchetHeader.input(&[ad]);
    let Ok(mut header) = cipher.decrypt(&(*nonce).into(), Payload { msg: sealed, aad: &aad })
    else {
        return Vec::new();
    };
    edit(&mut header);
    let resealed =
        cipher.encrypt(&(*nonce).into(), Payload { msg: &header, aad: &aad }).unwrap_or_default();
    [nonce.as_slice(), &resealed, body].concat()
}

/// Fills `range` of a header with `byte`.
fn fill(header: &mut [u8], range: core::ops::Range<usize>, byte: u8) {
    header.get_mut(range).into_iter().flatten().for_each(|b| *b = byte);
}

/// Post-quantum sessions, and the final snapshots of one of them for the load tests.
pub(super) fn sessions(ids: &mut Ids) -> Result<(Vec<SessionTest>, [Vec<u8>; 2]), String> {
    let mut b = Sessions::new(ids);
    let pq = &["PostQuantum"][..];

    let mut s = Scenario::of("pq-in-order", true);
    super::alternating(&mut s)?;
    b.push(
        s,
        "Alternating directions: a DH and ML-KEM step at every turn; the initiator's first chain encapsulates nothing (RAT-13), every later one does.",
        pq,
    )?;

    let mut s = Scenario::of("pq-out-of-order-across-steps", true);
    s.run(vec![
        Enc(I, "m0"),
        Enc(I, "m1"),
        Enc(I, "m2"),
        Dec(R, 0, Ok("m0")),
        Enc(R, "r0"),
        Dec(I, 3, Ok("r0")),
        Enc(I, "m3"),
        Dec(R, 4, Ok("m3")),
        Dec(R, 2, Ok("m2")),
        Dec(R, 1, Ok("m1")),
    ])?;
    b.push(
        s,
        "Late messages of the previous chain open after a post-quantum step.",
        &["PostQuantum", "OutOfOrder"],
    )?;
    let base = b.last.clone();

    crate::rows! { b.run_pq:
        "pq-first-messages-lost",
            "The first two messages of each chain never arrive: the third, carrying the same KEM fields, runs the step.",
            &["PostQuantum", "OutOfOrder"],
            vec![Enc(I, "lost 0"), Enc(I, "lost 1"), Enc(I, "m2"), Dec(R, 2, Ok("m2")),
                Enc(R, "lost r0"), Enc(R, "lost r1"), Enc(R, "r2"), Dec(I, 5, Ok("r2")),
                Enc(I, "m3"), Dec(R, 6, Ok("m3")), Dec(R, 0, Ok("lost 0"))];
        "pq-one-sided",
            "One side sends a long run without a reply: one chain, one step; the reply then steps both.",
            &["PostQuantum", "InOrder"],
            vec![Enc(I, "a"), Enc(I, "b"), Enc(I, "c"), Enc(I, "d"), Dec(R, 3, Ok("d")),
                Dec(R, 1, Ok("b")), Enc(R, "reply"), Dec(I, 4, Ok("reply")), Enc(I, "e"),
                Dec(R, 5, Ok("e")), Dec(R, 0, Ok("a")), Dec(R, 2, Ok("c"))];
        "pq-replay", "The same message twice: the second delivery is refused.",
            &["PostQuantum", "Replay"],
            vec![Enc(I, "m0"), Dec(R, 0, Ok("m0")), Dec(R, 0, Err("ratchet.replay"))];
        "pq-truncated", "One byte shorter than the post-quantum overhead (2368 bytes).",
            &["PostQuantum", "Format"],
            vec![Enc(I, "m0"),
                Forged(R, 0, |m| m.get(..PQ_OVERHEAD - 1).unwrap_or(m).to_vec(), "ratchet.format"),
                Dec(R, 0, Ok("m0"))];
        "pq-tampered-header", "One bit of the 2352-byte encrypted header flipped.",
            &["PostQuantum", "Tampered"],
            vec![Enc(I, "m0"), Forged(R, 0, |m| super::flipped(m, 1500, 0x01), "ratchet.header"),
                Dec(R, 0, Ok("m0"))];
        "pq-responder-sends-first", "The responder has no sending chain before its first receipt.",
            &["PostQuantum", "Misuse"], vec![EncFails(R, "ratchet.no_sending_chain")];
        "pq-jump-limit-exceeded",
            "Message number MAX_JUMP + 1 of a fresh post-quantum chain skips one key too many.",
            &["PostQuantum", "JumpLimit"],
            vec![Discard(I, MAX_JUMP + 1), Enc(I, "too far"), Dec(R, 0, Err("ratchet.jump_limit"))];
    }

    kem_sessions(&mut b)?;
    for post_quantum in [true, false] {
        compromise_then_heal(&mut b, post_quantum)?;
    }
    Ok((b.tests, base))
}

/// The compromise-then-heal script of §6.21: after a short conversation the attacker takes
/// the responder's state; then, twice, the initiator starts a chain and the responder
/// replies. The attacker's copy opens each of the initiator's messages it can, and mirrors
/// each reply it can follow with the responder's randomness, except, in a post-quantum
/// session, the ML-KEM seed and encapsulation randomness (bytes 32 to 127 of a sending half's
/// draw), which an adversary who breaks X25519 still lacks. Classic: the attacker follows
/// for ever. Post-quantum: it opens the chain started before the responder's reply; the
/// next chain's header still opens (its header key was derived before the heal, §6.13) but
/// its body does not (`ratchet.body`).
fn compromise_then_heal(b: &mut Sessions<'_>, post_quantum: bool) -> Result<(), String> {
    let attacker = super::Side::Attacker;
    let slug =
        if post_quantum { "pq-compromise-then-heal" } else { "classic-compromise-never-heals" };
    let mut s = Scenario::of(slug, post_quantum);
    s.run(vec![
        Enc(I, "a0"),
        Dec(R, 0, Ok("a0")),
        Enc(R, "b0"),
        Dec(I, 1, Ok("b0")),
        Enc(I, "a1"),
        Dec(R, 2, Ok("a1")),
        Enc(R, "b1"),
        Dec(I, 3, Ok("b1")),
    ])?;
    s.compromise(R)?;
    let mut follows = true;
    for round in 0..2 {
        let text = format!("after compromise {round}");
        let m = s.send(I, &text)?;
        follows = follows && (!post_quantum || round == 0);
        let expect = if follows { Ok(text.as_str()) } else { Err("ratchet.body") };
        s.run(vec![Dec(attacker, m, expect), Dec(R, m, Ok(&text))])?;
        let reply = format!("reply {round}");
        let r = s.send(R, &reply)?;
        if follows {
            let mut randomness = s.last_randomness();
            if post_quantum {
                randomness.get_mut(32..128).into_iter().flatten().for_each(|b| *b ^= 0x5a);
            }
            s.attacker_encrypt(&reply, randomness)?;
        }
        s.deliver(I, r, Ok(&reply))?;
    }
    let comment = if post_quantum {
        "Compromise then heal (§6.21): the attacker holds the responder's snapshot and every X25519 secret it draws, not its ML-KEM randomness; it opens the initiator's chain started before the responder's reply; the next chain's header still opens (headers heal one step later) but its body does not."
    } else {
        "The same script on the classic ratchet: with every X25519 secret, the attacker's copy of the responder follows every step and opens every message."
    };
    let flags: &[&str] =
        if post_quantum { &["PostQuantum", "CompromiseHeal"] } else { &["CompromiseHeal"] };
    b.push(s, comment, flags)
}

/// Authentic headers with KEM fields the receiver must refuse (RAT-14), each followed by the
/// genuine message, which still opens.
fn kem_sessions(b: &mut Sessions<'_>) -> Result<(), String> {
    let flags = &["PostQuantum", "PostQuantumKem"][..];
    // The responder's first receipt: it holds no KEM key yet.
    for (slug, edit, class, comment) in crate::tuples! {
        "pq-kem-key-invalid", (|h: &mut [u8]| fill(h, KEM_KEY_AT..KEM_CT_AT, 0xff)) as fn(&mut [u8]),
            "key.invalid",
            "The encapsulation key's coefficients are 4095, not below q = 3329: it fails the FIPS 203 check (RAT-14 item 1).";
        "pq-kem-ciphertext-for-no-key", |h: &mut [u8]| fill(h, KEM_CT_AT..KEM_CT_AT + 1, 0x01),
            "ratchet.kem",
            "The initiator's first chain carries a ciphertext, but the responder has no KEM key to decapsulate with (RAT-14 item 2).";
    } {
        let mut s = Scenario::of(slug, true);
        let m0 = s.send(I, "hello")?;
        let [_, responder] = s.snapshots();
        let (ad, nhkr) = (snapshot_key(&responder, 2)?, snapshot_key(&responder, 14)?);
        let forged = resealed(&s.sent(m0)?, &nhkr, &ad, edit);
        s.run(vec![Bytes(R, forged, Err(class)), Dec(R, m0, Ok("hello"))])?;
        b.push(s, comment, flags)?;
    }
    // The initiator's second chain, to a responder that holds a KEM key.
    for (slug, edit, class, comment) in crate::tuples! {
        "pq-kem-ciphertext-missing",
            (|h: &mut [u8]| fill(h, KEM_CT_AT..KEM_CT_AT + KEM_CIPHERTEXT_LEN, 0)) as fn(&mut [u8]),
            "ratchet.kem",
            "A new chain without a ciphertext although the receiver published a KEM key: the post-quantum step was skipped (RAT-14 item 2).";
        "pq-kem-ciphertext-altered", |h: &mut [u8]| h.get_mut(KEM_CT_AT).into_iter().for_each(|b| *b ^= 1),
            "ratchet.body",
            "One byte of the ciphertext changed: decapsulation rejects implicitly, the root step gives other keys and the body fails.";
    } {
        let mut s = Scenario::of(slug, true);
        s.run(vec![Enc(I, "m0"), Dec(R, 0, Ok("m0")), Enc(R, "r0"), Dec(I, 1, Ok("r0"))])?;
        let m2 = s.send(I, "second chain")?;
        let [_, responder] = s.snapshots();
        let (ad, nhkr) = (snapshot_key(&responder, 2)?, snapshot_key(&responder, 14)?);
        let forged = resealed(&s.sent(m2)?, &nhkr, &ad, edit);
        s.run(vec![Bytes(R, forged, Err(class)), Dec(R, m2, Ok("second chain"))])?;
        b.push(s, comment, flags)?;
    }
    Ok(())
}

/// The version-2 snapshot tests: states of a post-quantum session, then the faults a restore
/// must refuse (RAT-15).
pub(super) fn snapshots(ids: &mut Ids, base: &[Vec<u8>; 2]) -> Result<Vec<SnapshotTest>, String> {
    let mut b = Snapshots { ids, tests: Vec::new(), flag: "PostQuantumSnapshot" };
    let [initiator, responder] = base;
    // A responder between the receiving half and its sending half: KEMr present.
    let mut s = Scenario::of("pq-snapshot-states", true);
    let [fresh_initiator, fresh_responder] = s.snapshots();
    s.run(vec![Enc(I, "m0"), Dec(R, 0, Ok("m0"))])?;
    let [_, receiving] = s.snapshots();
    let bytes = |b: Vec<u8>| Some(Value::Bytes(b));
    let seed = vec![0x11; KEM_SEED_LEN];
    let peer_key = |b: &[u8]| -> Result<Vec<u8>, String> {
        match super::snapshot::snapshot_map(b)?.get(&quietwire::cbor::Int::uint(18)) {
            Some(Value::Bytes(k)) => Ok(k.clone()),
            _ => Err("snapshot without key 18".to_owned()),
        }
    };
    let real_peer_key = peer_key(&receiving)?;
    let mut classic = Scenario::new("pq-snapshot-states/classic");
    classic.run(vec![Enc(I, "m0"), Dec(R, 0, Ok("m0"))])?;
    let [_, classic_responder] = classic.snapshots();
    let classic_key_17 = with_field(&classic_responder, 17, bytes(seed.clone()))?;
    crate::rows! { b.test:
        "pq-valid-initiator", "The final state of a post-quantum session (version 2).",
            initiator.clone(), None;
        "pq-valid-responder", "The final state of a post-quantum session (version 2).",
            responder.clone(), None;
        "pq-valid-fresh-initiator", "A new initiator: version 2, no KEM state yet.",
            fresh_initiator.clone(), None;
        "pq-valid-fresh-responder", "A new responder: version 2, no KEM state yet.",
            fresh_responder.clone(), None;
        "pq-valid-receiving", "A responder after its first receipt: KEMr (key 18) kept for the sending half.",
            receiving.clone(), None;
        "pq-seed-short", "A 63-byte KEM seed (key 17).",
            with_field(responder, 17, bytes(vec![0x11; KEM_SEED_LEN - 1]))?, Some("schema.length");
        "pq-peer-key-short", "A 1183-byte peer encapsulation key (key 18).",
            with_field(&receiving, 18, bytes(real_peer_key.get(1..).unwrap_or_default().to_vec()))?,
            Some("schema.length");
        "pq-peer-key-too-long", "A 1185-byte byte string: over the snapshot's string limit.",
            with_field(&receiving, 18, bytes(vec![0; KEM_KEY_LEN + 1]))?, Some("cbor.limit.size");
        "pq-peer-key-invalid", "A peer encapsulation key whose coefficients are not below q (RAT-14 item 1).",
            with_field(&receiving, 18, bytes(vec![0xff; KEM_KEY_LEN]))?, Some("key.invalid");
        "pq-seed-without-chain", "A KEM seed without a sending chain (RAT-15 step 7).",
            with_field(&fresh_responder, 17, bytes(seed.clone()))?, Some("ratchet.state");
        "pq-chain-without-seed", "A sending chain without its KEM key pair (RAT-15 step 7).",
            with_field(responder, 17, None)?, Some("ratchet.state");
        "pq-peer-key-not-pending", "A peer encapsulation key with no sending half due (RAT-15 step 7).",
            with_field(&with_field(&receiving, 15, Some(Value::Bool(false)))?, 18, bytes(real_peer_key.clone()))?,
            Some("ratchet.state");
        "pq-pending-without-peer-key", "A received chain's sending half due, without the peer's encapsulation key.",
            with_field(&receiving, 18, None)?, Some("ratchet.state");
        "pq-ciphertext-without-chain", "A KEM ciphertext without a sending chain (RAT-15 step 7).",
            with_field(&fresh_responder, 19, bytes(vec![0x22; KEM_CIPHERTEXT_LEN]))?,
            Some("ratchet.state");
        "pq-version-1-with-kem-state", "A post-quantum state labelled version 1: keys 17 to 19 are unknown there.",
            with_field(responder, 1, Some(Value::uint(1)))?, Some("schema.unknown_critical");
        "pq-classic-with-kem-seed", "A classic snapshot (version 1) with key 17.",
            classic_key_17, Some("schema.unknown_critical");
    }
    Ok(b.tests)
}
