//! Fuzz target `delivery_outbox`: the invariants are documented on `quietwire::fuzzing::delivery_outbox`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    quietwire::fuzzing::delivery_outbox(data);
});
