//! Fuzz target `cbor_value`: the invariants are documented on `quietwire::fuzzing::cbor_value`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    quietwire::fuzzing::cbor_value(data);
});
