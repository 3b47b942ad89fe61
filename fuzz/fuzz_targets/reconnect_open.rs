//! Fuzz target `reconnect_open`: the invariants are documented on
//! `quietwire::fuzzing::reconnect_open`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    quietwire::fuzzing::reconnect_open(data);
});
