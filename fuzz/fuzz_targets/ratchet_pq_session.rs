//! Fuzz target `ratchet_pq_session`: the invariants are documented on `quietwire::fuzzing::ratchet_pq_session`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    quietwire::fuzzing::ratchet_pq_session(data);
});
