//! Fuzz target `envelope`: the invariants are documented on `quietwire::fuzzing::envelope`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    quietwire::fuzzing::envelope(data);
});
