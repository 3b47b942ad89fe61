//! Fuzz target `delivery_snapshot`: the invariants are documented on `quietwire::fuzzing::delivery_snapshot`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    quietwire::fuzzing::delivery_snapshot(data);
});
