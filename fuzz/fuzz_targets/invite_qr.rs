//! Fuzz target `invite_qr`: the invariants are documented on `quietwire::fuzzing::invite_qr`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    quietwire::fuzzing::invite_qr(data);
});
