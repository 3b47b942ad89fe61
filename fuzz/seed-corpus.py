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
    "session_snapshot": [("ratchet", "sessionSnapshot", "hex")],
    "device_keys": [("device_record", "keys", "hex")],
    "device_list": [("device_record", "list", "hex")],
    "backup_confirm": [("backup", "message", "hex")],
    # The target's inviter is the vectors' x25519 inviter; the acceptors' messages are seeds.
    "handshake_accept": [("handshake", "message", "hex")],
    # The target's contact is the vectors' x25519 contact; every reconnect message is a seed.
    "reconnect_open": [("reconnect", "message", "hex")],
    "envelope": [("envelope", "envelope", "hex"), ("envelope", "padded", "hex")],
    "event": [("event", "event", "hex")],
    "mailbox_proof": [("mailbox", "proof", "hex")],
    # Small backup inputs (headers, prefixes) are in `file`; large ones are recipes, which
    # backup_stream reaches through its edit scripts below.
    "backup_header": [("backup", "file", "hex")],
    "backup_stream": [("backup", "file", "hex")],
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
def cbor(value):
    """Canonical CBOR of ints, bytes, bools, lists and int-keyed dicts (enough for seeds)."""
    def head(major, arg):
        if arg < 24:
            return bytes([major << 5 | arg])
        for ai, size in ((24, 1), (25, 2), (26, 4), (27, 8)):
            if arg < 1 << (8 * size):
                return bytes([major << 5 | ai]) + arg.to_bytes(size, "big")
        raise ValueError(arg)
    if isinstance(value, bool):
        return bytes([0xF5 if value else 0xF4])
    if isinstance(value, int):
        return head(0, value) if value >= 0 else head(1, -1 - value)
    if isinstance(value, bytes):
        return head(2, len(value)) + value
    if isinstance(value, str):
        return head(3, len(value.encode())) + value.encode()
    if isinstance(value, list):
        return head(4, len(value)) + b"".join(cbor(v) for v in value)
    items = sorted((cbor(k), cbor(v)) for k, v in value.items())
    return head(5, len(items)) + b"".join(k + v for k, v in items)


def outbox_snapshot(entries, next_id):
    return cbor({1: 1, 2: [2, 300, 30, 604800], 3: next_id, 4: entries})


def entry(send, status, envelope=b"\x07" * 512, receipt=True):
    return [send, bytes([send]) * 16, bytes([send + 1]) * 16, b"\x02" * 32, envelope, 3600,
            1_800_000_000, receipt, status]


# delivery_snapshot: a selector byte (even: outbox, odd: inbox), then the snapshot.
DELIVERY_SNAPSHOTS = [
    b"\x00" + outbox_snapshot([], 1),
    b"\x00" + outbox_snapshot([entry(1, [0, 0, 1_800_000_000]),
                                entry(2, [2, 1_800_003_600]),
                                entry(3, [3], b""),
                                entry(4, [4, 1, "relay.ttl"], b""),
                                entry(5, [4, 3], b"", False)], 6),
    b"\x00" + outbox_snapshot([entry(1, [1, 2, 1_800_000_030])], 2),
    b"\x01" + cbor({1: 1, 2: []}),
    b"\x01" + cbor({1: 1, 2: [[b"\x01" * 16, 1_802_592_000], [b"\x02" * 16, 1_802_592_001]]}),
    # Refused: send ids not ascending; a finished send keeping its envelope; inbox ids out
    # of order.
    b"\x00" + outbox_snapshot([entry(2, [3], b""), entry(1, [3], b"")], 3),
    b"\x00" + outbox_snapshot([entry(1, [3])], 2),
    b"\x01" + cbor({1: 1, 2: [[b"\x02" * 16, 1], [b"\x01" * 16, 1]]}),
]

SCRIPTS = {
    # delivery_outbox reads byte pairs (op, arg): op % 9 = 0 push, 1 transmit, 2 stored,
    # 3 refused, 4 disconnected, 5 receipt, 6 timers, 7 advance arg^2 s, 8 restart.
    "delivery_outbox": [
        bytes([0, 1, 1, 0, 2, 0, 5, 0]),                          # sent, stored, receipted
        bytes([0, 1, 1, 0, 4, 0, 7, 40, 6, 0, 1, 0, 2, 0]),       # lost connection, retry
        bytes([0, 1, 0, 2, 1, 0, 3, 1, 1, 0, 3, 3]),              # refusals
        bytes([0, 1, 1, 0, 2, 0, 7, 61, 6, 0, 5, 0]),             # expired, then receipt
        bytes([0, 1, 1, 0, 8, 0, 1, 0, 2, 0, 7, 255, 6, 0]),      # restart in flight
        bytes([0, 255, 1, 0]),                                    # too large
        bytes([1, 0, 6, 0, 4, 0, 8, 0]),                          # nothing ever pushed
    ],
    "delivery_snapshot": DELIVERY_SNAPSHOTS,
    # backup_unlock: methods, Argon2id m and t/p, the reader's m cap, a prefix byte to flip
    # (255: none), then passphrase and PIN (quietwire::backup::fuzzing::unlock).
    "backup_unlock": [
        bytes([0, 0, 0, 0, 255]) + b"ab",                     # recovery key, a PIN
        bytes([0, 0, 0, 0, 40]),                              # recovery key, a flipped byte
        bytes([1, 0, 0, 63, 255]) + b"pass",                  # passphrase within a lowered cap
        bytes([1, 63, 3, 0, 255]) + b"pass",                  # passphrase over a lowered cap
        bytes([2, 5, 1, 10, 200]) + b"both",                  # recovery key and passphrase
        bytes([3, 0, 0, 0, 255]),                             # transfer (X25519)
        bytes([0, 0, 0, 0, 255]) + b"x" * 200,                # a PIN over 64 bytes
        bytes([0, 0]),                                        # too short to say anything
    ],
    "ratchet_session": [
        bytes([0, 0, 2, 0, 1, 0, 2, 0]),                        # ping, pong
        bytes([0, 0, 0, 0, 0, 0, 2, 2, 2, 0, 2, 0]),            # three, out of order
        bytes([0, 0, 2, 0, 3, 0, 1, 0, 3, 0, 2, 0, 4, 9]),      # duplicates and a tamper
        bytes([0, 0, 0, 0, 5, 0, 2, 0, 1, 0, 2, 0, 0, 0, 2, 0]),  # a loss, then steps
        bytes([1, 0, 1, 0, 2, 0]),                              # responder cannot send first
    ],
    # ratchet_pq_header: first byte even/odd picks the initiator's first or second chain;
    # then 3-byte patches (big-endian offset into the 2312-byte header, byte).
    "ratchet_pq_header": [
        bytes([0]),                                             # genuine, first chain
        bytes([1]),                                             # genuine, second chain
        bytes([0, 0x04, 0xc8, 0x01]),                           # a ciphertext for no key
        bytes([1, 0x04, 0xc8, 0x5a, 0x04, 0xc9, 0xa5]),         # ciphertext bytes changed
        bytes([0, 0x00, 0x28, 0xff, 0x00, 0x29, 0xff]),         # encapsulation key: 0xfff coefficient
        bytes([1, 0x00, 0x24, 0x00, 0x00, 0x27, 0x05]),         # counter n changed
        bytes([0, 0x00, 0x00, 0x00]),                           # dh changed
    ],
    # The same scripts on the post-quantum ratchet.
    "ratchet_pq_session": [
        bytes([0, 0, 2, 0, 1, 0, 2, 0]),                        # ping, pong: two KEM steps
        bytes([0, 0, 0, 0, 0, 0, 2, 2, 2, 0, 2, 0]),            # three, out of order
        bytes([0, 0, 2, 0, 3, 0, 1, 0, 3, 0, 2, 0, 4, 9]),      # duplicates and a tamper
        bytes([0, 0, 0, 0, 5, 0, 2, 0, 1, 0, 2, 0, 0, 0, 2, 0]),  # a loss, then steps
        bytes([0, 0, 0, 0, 5, 0, 2, 0, 1, 0, 1, 0, 5, 0, 2, 0, 0, 0, 2, 0]),  # chain heads lost
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
