//! Fuzz target `ratchet_pq_header`: the invariants are documented on `quietwire::fuzzing::ratchet_pq_header`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    quietwire::fuzzing::ratchet_pq_header(data);
});
