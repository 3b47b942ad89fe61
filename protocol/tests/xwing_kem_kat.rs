//! The X-Wing KEM under the default suite's HPKE is standard X-Wing: the known answers of
//! draft-connolly-cfrg-xwing-kem (`spec/test-vectors.json` of the draft, copied to
//! `tests/data/xwing-kem-draft.json`), run through the same `hpke` crate types the `hpke`
//! module uses. The HPKE layer on top is checked against RFC 9180 in `src/hpke/tests.rs`.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use core::convert::Infallible;

use hpke::kem::XWing;
use hpke::{Deserializable, Kem, Serializable};
use rand_core::{TryCryptoRng, TryRng};

struct Fixed(Vec<u8>);

impl TryRng for Fixed {
    type Error = Infallible;
    fn try_next_u32(&mut self) -> Result<u32, Infallible> {
        panic!("unexpected next_u32")
    }
    fn try_next_u64(&mut self) -> Result<u64, Infallible> {
        panic!("unexpected next_u64")
    }
    fn try_fill_bytes(&mut self, dst: &mut [u8]) -> Result<(), Infallible> {
        let rest = self.0.split_off(dst.len());
        dst.copy_from_slice(&self.0);
        self.0 = rest;
        Ok(())
    }
}
impl TryCryptoRng for Fixed {}

fn field(v: &serde_json::Value, name: &str) -> Vec<u8> {
    hex::decode(v[name].as_str().unwrap()).unwrap()
}

#[test]
fn xwing_draft_known_answers() {
    let text = include_str!("data/xwing-kem-draft.json");
    let vectors: Vec<serde_json::Value> = serde_json::from_str(text).unwrap();
    assert_eq!(vectors.len(), 3);
    for v in &vectors {
        let sk = <XWing as Kem>::PrivateKey::from_bytes(&field(v, "sk")).unwrap();
        let pk = XWing::sk_to_pk(&sk);
        assert_eq!(pk.to_bytes().to_vec(), field(v, "pk"));
        // The pk passes the protocol's own X-Wing key validation.
        quietwire::keys::KemPublicKey::from_bytes(quietwire::suite::Suite::XWing, &field(v, "pk"))
            .unwrap();

        let mut rng = Fixed(field(v, "eseed"));
        let (ss, ct) = XWing::encap_with_rng(&pk, None, &mut rng).unwrap();
        assert!(rng.0.is_empty(), "encapsulation draws exactly eseed");
        assert_eq!(ct.to_bytes().to_vec(), field(v, "ct"));
        assert_eq!(ss.0.to_vec(), field(v, "ss"));

        let ct = <XWing as Kem>::EncappedKey::from_bytes(&field(v, "ct")).unwrap();
        let ss = XWing::decap(&sk, None, &ct).unwrap();
        assert_eq!(ss.0.to_vec(), field(v, "ss"));
    }
}
