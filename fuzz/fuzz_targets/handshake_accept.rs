//! Fuzz target `handshake_accept`: the invariants are documented on
//! `quietwire::fuzzing::handshake_accept`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    quietwire::fuzzing::handshake_accept(data);
});
