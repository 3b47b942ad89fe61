//! Fuzz target `did_key`: the invariants are documented on `quietwire::fuzzing::did_key`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    quietwire::fuzzing::did_key(data);
});
