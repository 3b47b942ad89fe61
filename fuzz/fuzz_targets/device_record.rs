//! Fuzz target `device_record`: the invariants are documented on `quietwire::fuzzing::device_record`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    quietwire::fuzzing::device_record(data);
});
