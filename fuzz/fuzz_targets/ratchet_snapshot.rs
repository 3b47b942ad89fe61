//! Fuzz target `ratchet_snapshot`: the invariants are documented on `quietwire::fuzzing::ratchet_snapshot`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    quietwire::fuzzing::ratchet_snapshot(data);
});
