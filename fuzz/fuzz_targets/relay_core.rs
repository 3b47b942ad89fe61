//! Fuzz target `relay_core`: the invariants are documented on `quietwire::fuzzing::relay_core`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    quietwire::fuzzing::relay_core(data);
});
