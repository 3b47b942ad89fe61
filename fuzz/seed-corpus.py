#!/usr/bin/env python3
"""Seeds fuzz/seeds/<target>/ from the golden vectors in test-vectors/v1/.

Every input of every vector (valid and invalid) becomes one seed file, named by the first
16 hex digits of its SHA-256, so re-running is idempotent and the seeds change only when
the vectors do. Run from anywhere: python3 fuzz/seed-corpus.py
"""
import hashlib
import json
import pathlib

ROOT = pathlib.Path(__file__).resolve().parent.parent
VECTORS = ROOT / "test-vectors" / "v1"
SEEDS = ROOT / "fuzz" / "seeds"

# (vector file, field) -> fuzz target; fields hold hex bytes unless marked as text.
SOURCES = {
    "cbor_value": [("cbor", "input", "hex")],
    "device_record": [("device_record", "record", "hex")],
    "invite": [("invite", "invite", "hex"), ("invite_encoding", "invite", "hex")],
    "invite_link": [("invite_encoding", "link", "text")],
    "invite_qr": [("invite_encoding", "qr", "hex")],
    "did_key": [("did_key", "did", "text")],
    "safety_qr": [("safety_code", "payload", "hex")],
    "ratchet_snapshot": [("ratchet", "snapshot", "hex"), ("ratchet", "initiatorSnapshot", "hex")],
    # The target's inviter is the vectors' x25519 inviter; the acceptors' messages are seeds.
    "handshake_accept": [("handshake", "message", "hex")],
    "envelope": [("envelope", "envelope", "hex"), ("envelope", "padded", "hex")],
    "event": [("event", "event", "hex")],
    "mailbox_proof": [("mailbox", "proof", "hex")],
}

# Targets whose inputs are action scripts rather than encodings: fixed seeds.
# ratchet_session reads byte pairs (op, arg): op % 6 = 0/1 send from initiator/responder,
# 2 deliver, 3 duplicate, 4 deliver with a bit flipped, 5 drop.
SCRIPTS = {
    "ratchet_session": [
        bytes([0, 0, 2, 0, 1, 0, 2, 0]),                        # ping, pong
        bytes([0, 0, 0, 0, 0, 0, 2, 2, 2, 0, 2, 0]),            # three, out of order
        bytes([0, 0, 2, 0, 3, 0, 1, 0, 3, 0, 2, 0, 4, 9]),      # duplicates and a tamper
        bytes([0, 0, 0, 0, 5, 0, 2, 0, 1, 0, 2, 0, 0, 0, 2, 0]),  # a loss, then steps
        bytes([1, 0, 1, 0, 2, 0]),                              # responder cannot send first
    ],
}


def inputs(family, field, kind):
    data = json.loads((VECTORS / f"{family}.json").read_text())
    for group in data["testGroups"]:
        for test in group["tests"]:
            if field in test:
                value = test[field]
                yield bytes.fromhex(value) if kind == "hex" else value.encode()


def main():
    for target, sources in SOURCES.items():
        wanted = {}
        for family, field, kind in sources:
            for blob in inputs(family, field, kind):
                wanted[hashlib.sha256(blob).hexdigest()[:16]] = blob
        write(target, wanted)
    for target, scripts in SCRIPTS.items():
        write(target, {hashlib.sha256(b).hexdigest()[:16]: b for b in scripts})


def write(target, wanted):
    out = SEEDS / target
    out.mkdir(parents=True, exist_ok=True)
    for stale in out.iterdir():
        if stale.name not in wanted:
            stale.unlink()
    for name, blob in sorted(wanted.items()):
        (out / name).write_bytes(blob)
    print(f"{target}: {len(wanted)} seeds")


if __name__ == "__main__":
    main()
