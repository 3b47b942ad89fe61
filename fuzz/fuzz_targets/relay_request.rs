//! Fuzz target `relay_request`: the invariants are documented on `quietwire::fuzzing::relay_request`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    quietwire::fuzzing::relay_request(data);
});
