//! Fuzz target `safety_qr`: the invariants are documented on `quietwire::fuzzing::safety_qr`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    quietwire::fuzzing::safety_qr(data);
});
