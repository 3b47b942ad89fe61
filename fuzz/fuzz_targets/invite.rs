//! Fuzz target `invite`: the invariants are documented on `quietwire::fuzzing::invite`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    quietwire::fuzzing::invite(data);
});
