//! Fuzz target `device_list`: the invariants are documented on `quietwire::fuzzing::device_list`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    quietwire::fuzzing::device_list(data);
});
