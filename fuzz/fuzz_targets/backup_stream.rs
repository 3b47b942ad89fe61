//! Fuzz target `backup_stream`: the invariants are documented on `quietwire::backup::fuzzing::stream`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    quietwire::backup::fuzzing::stream(data);
});
