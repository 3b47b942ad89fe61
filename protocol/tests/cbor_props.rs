//! Property tests of the deterministic CBOR layer.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::collections::BTreeMap;

use proptest::prelude::*;
use quietwire::cbor::{self, Int, Limits, Value};

fn int() -> impl Strategy<Value = Int> {
    prop_oneof![
        any::<u64>().prop_map(Int::uint),
        any::<u64>().prop_map(Int::nint),
        (0u64..30).prop_map(Int::uint),
        (0u64..30).prop_map(Int::nint),
    ]
}

fn value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        int().prop_map(Value::Int),
        proptest::collection::vec(any::<u8>(), 0..40).prop_map(Value::Bytes),
        ".{0,20}".prop_map(Value::Text),
        any::<bool>().prop_map(Value::Bool),
    ];
    leaf.prop_recursive(6, 64, 8, |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..8).prop_map(Value::Array),
            proptest::collection::btree_map(int(), inner, 0..8)
                .prop_map(|m: BTreeMap<Int, Value>| Value::Map(m)),
        ]
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2000, ..ProptestConfig::default() })]

    /// encode then decode gives the same value, and the encoding is reproduced.
    #[test]
    fn encode_decode_round_trip(v in value()) {
        let bytes = cbor::encode(&v);
        let decoded = cbor::decode(&bytes, &Limits::DEFAULT).unwrap();
        prop_assert_eq!(&decoded, &v);
        prop_assert_eq!(cbor::encode(&decoded), bytes);
    }

    /// Whatever the decoder accepts, it re-encodes byte for byte: there is one encoding per value.
    #[test]
    fn accepted_input_is_canonical(bytes in proptest::collection::vec(any::<u8>(), 0..64)) {
        if let Ok(v) = cbor::decode(&bytes, &Limits::DEFAULT) {
            prop_assert_eq!(cbor::encode(&v), bytes);
        }
    }

    /// Mutating one byte of a valid encoding never yields a different input that decodes to
    /// the same value.
    #[test]
    fn no_two_encodings_of_one_value(v in value(), index in any::<prop::sample::Index>(), byte in any::<u8>()) {
        let bytes = cbor::encode(&v);
        let mut mutated = bytes.clone();
        let i = index.index(mutated.len());
        mutated[i] = byte;
        if mutated != bytes
            && let Ok(other) = cbor::decode(&mutated, &Limits::DEFAULT)
        {
            prop_assert_ne!(other, v);
        }
    }

    /// Any prefix of a valid encoding is rejected as truncated, never accepted.
    #[test]
    fn prefixes_are_truncated(v in value(), cut in any::<prop::sample::Index>()) {
        let bytes = cbor::encode(&v);
        let end = cut.index(bytes.len());
        let err = cbor::decode(&bytes[..end], &Limits::DEFAULT).unwrap_err();
        prop_assert_eq!(err.class(), quietwire::ErrorClass::CborTruncated);
    }
}
