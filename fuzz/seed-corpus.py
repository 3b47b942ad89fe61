#!/usr/bin/env python3
"""Seeds fuzz/seeds/<target>/ from the golden vectors in test-vectors/v1/.

Every input of every vector (valid and invalid) becomes one seed file, named by the first
16 hex digits of its SHA-256, so re-running is idempotent and the seeds change only when
the vectors do. A field named "steps.<name>" is read from every step of a test. The
relay_core seeds are the scripted connections of relay.json in that target's record format.
Run from anywhere: python3 fuzz/seed-corpus.py
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
    # Requests as the relay reads them, and frames as a client reads them.
    "relay_request": [
        ("relay", "steps.request", "hex"),
        ("relay", "steps.reply", "hex"),
        ("relay", "welcome", "hex"),
        ("relay", "frame", "hex"),
    ],
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
    step_field = field.removeprefix("steps.") if field.startswith("steps.") else None
    for group in data["testGroups"]:
        for test in group["tests"]:
            holders = test.get("steps", []) if step_field else [test]
            for holder in holders:
                value = holder.get(step_field or field)
                if value is not None:
                    yield bytes.fromhex(value) if kind == "hex" else value.encode()


def relay_core_inputs():
    """Each relay-session test as one relay_core input (quietwire::fuzzing::relay_input):
    per step a tag (bits 0-3: milliseconds since the step before / 125, rounded up, at most
    15; bits 4-6: seconds / 1800, rounded up, at most 7; bit 7: the store fails), the
    request's length (16 bits, big-endian) and the request."""
    data = json.loads((VECTORS / "relay.json").read_text())
    for group in data["testGroups"]:
        if group["type"] != "relay-session":
            continue
        for test in group["tests"]:
            out = bytearray()
            unix, millis = test["unixTime"], test["millis"]
            for step in test["steps"]:
                seconds = -(-(step["unixTime"] - unix) // 1800)
                ms = -(-(step["millis"] - millis) // 125)
                unix, millis = step["unixTime"], step["millis"]
                tag = min(seconds, 7) << 4 | min(ms, 15) | (0x80 if step.get("storeUnavailable") else 0)
                request = bytes.fromhex(step["request"])
                out += bytes([tag]) + len(request).to_bytes(2, "big") + request
            yield bytes(out)


def main():
    for target, sources in SOURCES.items():
        wanted = {}
        for family, field, kind in sources:
            for blob in inputs(family, field, kind):
                wanted[hashlib.sha256(blob).hexdigest()[:16]] = blob
        write(target, wanted)
    for target, scripts in SCRIPTS.items():
        write(target, {hashlib.sha256(b).hexdigest()[:16]: b for b in scripts})
    write("relay_core", {hashlib.sha256(b).hexdigest()[:16]: b for b in relay_core_inputs()})


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
