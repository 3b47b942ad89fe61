//! Fuzz target `backup_unlock`: the invariants are documented on `quietwire::backup::fuzzing::unlock`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    quietwire::backup::fuzzing::unlock(data);
});
