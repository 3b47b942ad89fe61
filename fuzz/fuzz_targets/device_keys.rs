//! Fuzz target `device_keys`: the invariants are documented on `quietwire::fuzzing::device_keys`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    quietwire::fuzzing::device_keys(data);
});
