//! Fuzz target `event`: the invariants are documented on `quietwire::fuzzing::event`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    quietwire::fuzzing::event(data);
});
