//! Fuzz target `session_snapshot`: the invariants are documented on `quietwire::fuzzing::session_snapshot`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    quietwire::fuzzing::session_snapshot(data);
});
