//! Fuzz target `mailbox_proof`: the invariants are documented on
//! `quietwire::fuzzing::mailbox_proof`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    quietwire::fuzzing::mailbox_proof(data);
});
