//! Fuzz target `backup_confirm`: the invariants are documented on
//! `quietwire::backup::fuzzing::confirm`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    quietwire::backup::fuzzing::confirm(data);
});
