//! Fuzz target `ratchet_session`: the invariants are documented on `quietwire::fuzzing::ratchet_session`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    quietwire::fuzzing::ratchet_session(data);
});
