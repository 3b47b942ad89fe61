//! Fuzz target `invite_link`: the invariants are documented on `quietwire::fuzzing::invite_link`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    quietwire::fuzzing::invite_link(data);
});
