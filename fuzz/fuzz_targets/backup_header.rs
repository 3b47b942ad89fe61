//! Fuzz target `backup_header`: the invariants are documented on `quietwire::backup::fuzzing::header`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    quietwire::backup::fuzzing::header(data);
});
