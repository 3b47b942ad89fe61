//! The `xbk-stream` and `xbk-sections` groups: the chunk stream, padding, limits, section
//! order and the manifest.

use quietwire::backup::{CHUNK_CT, DATA};

use super::build::{Cache, Spec, T, sha256};
use super::large::*;
use super::{DecodeTest, Edit, Export, Ids};
use crate::seeds::seed32;

pub(super) fn stream_group(ids: &mut Ids, cache: &mut Cache) -> Result<Vec<DecodeTest>, String> {
    let base = basic("base", Who::Key);
    let o = cache.offsets(&base)?;
    let c = |s: usize, i: usize| chunk_at(&o, s, i);
    let ct = CHUNK_CT as u64;
    let other = basic("base-other", Who::Key);
    let other_file = cache.file(&other)?;
    let at = chunk_at(&cache.offsets(&other)?, 1, 0) as usize;
    let spliced = other_file[at..at + CHUNK_CT].to_vec();
    let empty_tag = seed32("backup/empty-tag")[..16].to_vec();
    // A missing final chunk: content of exactly two chunks ends in a third (used = 0).
    let exact = with_section("exact", None, 1, stream("multiple", 2 * DATA as u64));
    let eo = cache.offsets(&exact)?;
    let mut t = T::new(ids, cache);
    let (st, sr) = (&["Stream"], &["Stream", "Released"]);
    crate::rows! { t.add:
        "stream-no-chunks", "the input ends right after section 1's id", st, &base,
            vec![truncate(o[0] as u64 + 1)], None, Some("backup.truncated");
        "stream-short-chunk", "a chunk shorter than 65552 bytes at the end", st, &base,
            vec![truncate(c(1, 0) + ct - 1)], None, Some("backup.truncated");
        "stream-bad-tag-first", "the tag of the first chunk", sr, &base,
            vec![xor(c(1, 0) + ct - 1)], None, Some("backup.chunk_auth");
        "stream-bad-tag-later", "the tag of section 2's third chunk: two chunks released", sr,
            &base, vec![xor(c(2, 2) + ct - 1)], None, Some("backup.chunk_auth");
        "stream-bad-ciphertext", "a ciphertext byte of section 2's second chunk", sr, &base,
            vec![xor(c(2, 1) + 100)], None, Some("backup.chunk_auth");
        "stream-reordered", "section 2's chunks 0 and 1 swapped", st, &base,
            swap(c(2, 0), c(2, 1), ct), None, Some("backup.chunk_auth");
        "stream-duplicated", "section 2's chunk 0 twice", st, &base,
            vec![copy("insertCopy", c(2, 0), ct, c(2, 1))], None, Some("backup.chunk_auth");
        "stream-dropped", "section 2's chunk 1 removed", st, &base, vec![delete(c(2, 1), ct)],
            None, Some("backup.chunk_auth");
        "stream-between-sections", "section 2's chunk 0 in place of section 4's", st, &base,
            vec![copy("copy", c(2, 0), ct, c(4, 0))], None, Some("backup.chunk_auth");
        "stream-other-file",
            "section 1's chunk from another file with the same content and recovery key", st, &base,
            vec![put("replace", c(1, 0), spliced)], None, Some("backup.chunk_auth");
        "stream-final-then-more", "a copy of section 1's final chunk after it", st, &base,
            vec![copy("insertCopy", c(1, 0), ct, c(1, 1))], None, Some("backup.section_order");
        "stream-empty-final-appended", "a 16-byte empty final chunk after section 6", st, &base,
            vec![put("insert", o[6] as u64, empty_tag)], None, Some("backup.section_order");
        "stream-missing-final", "content of exactly 2 × 65534 bytes without its final chunk", st,
            &exact, vec![delete(chunk_at(&eo, 2, 2), ct)], None, Some("backup.chunk_auth");
    }
    // Truncation at and inside a chunk boundary of sections 1 to 6.
    for s in 1..=6usize {
        let start = c(s, 0);
        crate::rows! { t.add:
            &format!("stream-cut-at-{s}"),
                &format!("the input ends after section {s}'s first chunk"), sr, &base,
                vec![truncate(start + ct)], None, Some("backup.truncated");
            &format!("stream-cut-inside-{s}"),
                &format!("the input ends inside section {s}'s first chunk"), sr, &base,
                vec![truncate(start + 1000)], None, Some("backup.truncated");
        }
    }
    // Padding and the used field, in chunks sealed with the right key at the right place.
    let pd = &["Padding"];
    let nine = with_section("nine", None, 1, stream("nine", 8 * DATA as u64 + 1));
    let no = t.cache.offsets(&nine)?;
    let n = |i: usize| chunk_at(&no, 2, i);
    crate::rows! { t.add:
        "stream-used-65535", "used = 65535", pd, &base,
            vec![seal(c(1, 0), 1, 0, true, plain(65_535, b"x"))], None, Some("backup.padding");
        "stream-nonzero-padding", "a non-zero byte after the content", pd, &base,
            vec![seal(c(1, 0), 1, 0, true, plain(2, b"abc"))], None, Some("backup.padding");
        "stream-full-final", "a full chunk marked final", pd, &base,
            vec![seal(c(1, 0), 1, 0, true, plain(DATA as u16, &[]))], None, Some("backup.padding");
        "stream-too-few-padding", "nine content chunks, final at the ninth instead of the tenth",
            pd, &nine, vec![seal(n(8), 2, 8, true, plain(1, b"x"))], None, Some("backup.padding");
        "stream-padding-data", "a padding chunk (used must be 0) that carries a byte", pd, &nine,
            vec![seal(n(9), 2, 9, true, plain(1, b"x"))], None, Some("backup.padding");
        "stream-too-many-padding",
            "the tenth chunk not final, an eleventh final: the tenth must be final", pd, &nine,
            vec![
                seal(n(9), 2, 9, false, plain(0, b"")),
                put("insert", n(10), vec![0; CHUNK_CT]),
                seal(n(10), 2, 10, true, plain(0, b"")),
            ],
            None, Some("backup.chunk_auth");
    }
    // MAX_CHUNKS configured as 16: exactly 16 chunks pass, 17 and more do not.
    let cl = &["ChunkLimit"];
    let r16 = with_section("sixteen", None, 1, stream("sixteen", 15 * DATA as u64 + 100));
    let r17 = with_section("seventeen", None, 1, stream("seventeen", 16 * DATA as u64 + 100));
    let cut17 = chunk_at(&t.cache.offsets(&r17)?, 2, 16);
    let max16 = |e: &Export, edits: Vec<Edit>, expect: Option<&'static str>| Spec {
        max_chunks: Some(16),
        expect,
        hidden: expect.is_none().then_some("locked"),
        ..Spec::export(e, edits, key_unlock())
    };
    crate::rows! { t.spec:
        "stream-max-16-exact", "16 chunks with MAX_CHUNKS = 16", cl, max16(&r16, vec![], None);
        "stream-max-16-over",
            "17 content chunks with MAX_CHUNKS = 16: refused before chunk 16 is read", cl,
            max16(&r17, vec![], Some("backup.chunk_limit"));
        "stream-max-16-over-cut",
            "the same cut right before chunk 16: the limit comes before the truncation", cl,
            max16(&r17, vec![truncate(cut17)], Some("backup.chunk_limit"));
    }
    // Counter boundaries: a section of 272 chunks crosses 0xff → 0x100.
    let rb = with_section("counter", None, 3, stream("counter", 256 * DATA as u64 + 1));
    let bo = t.cache.offsets(&rb)?;
    crate::rows! { t.add:
        "stream-counter-256", "272 chunks in one section: the counter crosses a byte boundary", st,
            &rb, vec![], None, None;
        "stream-counter-swap", "chunks 255 and 256 swapped", st, &rb,
            swap(chunk_at(&bo, 4, 255), chunk_at(&bo, 4, 256), ct), None, Some("backup.chunk_auth");
    }
    Ok(t.tests)
}

fn manifest_bytes(counts: &[u64], digest: &[u8]) -> Vec<u8> {
    use quietwire::cbor::{self, Int, Value};
    cbor::encode(&Value::Map(std::collections::BTreeMap::from([
        (Int::uint(1), Value::uint(1)),
        (Int::uint(2), Value::Array(counts.iter().map(|c| Value::uint(*c)).collect())),
        (Int::uint(3), Value::Bytes(digest.to_vec())),
    ])))
}

pub(super) fn sections(ids: &mut Ids, cache: &mut Cache) -> Result<Vec<DecodeTest>, String> {
    let base = with_pin();
    let file = cache.file(&base)?;
    let (o, counts) = layout(&base, &file);
    let ct = CHUNK_CT as u64;
    let hidden_digest = sha256(&file[o[6]..o[7]]);
    let mut t = T::new(ids, cache);
    let sc = &["Sections"];
    let pin = Some(PIN);
    let (s3, l3) = (o[2] as u64, 1 + counts[2] * ct);
    let end = file.len() as u64;
    crate::rows! { t.add:
        "sections-missing", "section 3 left out", sc, &base, vec![delete(s3, l3)], pin,
            Some("backup.section_order");
        "sections-duplicated", "section 3 twice", sc, &base,
            vec![copy("insertCopy", s3, l3, s3 + l3)], pin, Some("backup.section_order");
        "sections-swapped", "sections 3 and 5 swapped", sc, &base,
            swap(o[2] as u64, o[4] as u64, l3), pin, Some("backup.section_order");
        "sections-unknown-id", "section id 9 in place of 3", sc, &base,
            vec![put("replace", s3, vec![9])], pin, Some("backup.section_order");
        "sections-manifest-early", "id 8 in place of 3", sc, &base,
            vec![put("replace", s3, vec![8])], pin, Some("backup.section_order");
        "sections-manifest-id-7", "the manifest's id byte is 7", sc, &base,
            vec![put("replace", o[7] as u64, vec![7])], pin, Some("backup.section_order");
        "sections-no-manifest", "the input ends before the manifest", sc, &base,
            vec![truncate(o[7] as u64)], pin, Some("backup.truncated");
        "sections-no-manifest-locked",
            "the same without the PIN: the last 65553 bytes are not a manifest", sc, &base,
            vec![truncate(o[7] as u64)], None, Some("backup.section_order");
        "sections-trailing", "a byte after the manifest", sc, &base,
            vec![put("insert", end, vec![0])], pin, Some("backup.trailing");
        "sections-trailing-chunk", "a whole chunk after the manifest", sc, &base,
            vec![copy("insertCopy", o[7] as u64 + 1, ct, end)], pin, Some("backup.trailing");
    }
    let m = o[7] as u64 + 1;
    let manifest = |c: &[u64], d: &[u8]| {
        let bytes = manifest_bytes(c, d);
        vec![seal(m, 8, 0, true, plain(bytes.len() as u16, &bytes))]
    };
    let content = |used: u16, data: &[u8]| vec![seal(m, 8, 0, true, plain(used, data))];
    let mut wrong = counts.clone();
    wrong[1] += 1;
    let mut not_final = manifest(&counts, &hidden_digest);
    not_final[0].last = Some(false);
    crate::rows! { t.add:
        "sections-manifest-valid-resealed",
            "the manifest sealed again with the same content: valid", sc, &base,
            manifest(&counts, &hidden_digest), pin, None;
        "sections-manifest-count", "a manifest whose count for section 2 is one too many", sc,
            &base, manifest(&wrong, &hidden_digest), pin, Some("backup.manifest_mismatch");
        "sections-manifest-digest", "a manifest with a wrong hidden digest", sc, &base,
            manifest(&counts, &[0; 32]), pin, Some("backup.manifest_mismatch");
        "sections-manifest-digest-locked", "the same without the PIN", sc, &base,
            manifest(&counts, &[0; 32]), None, Some("backup.manifest_mismatch");
        "sections-manifest-6", "a manifest of six counts", sc, &base,
            manifest(&counts[..6], &hidden_digest), pin, Some("schema.length");
        "sections-manifest-not-cbor", "manifest content that is not CBOR", sc, &base,
            content(1, &[0xff]), pin, Some("cbor.malformed.break");
        "sections-manifest-empty", "empty manifest content", sc, &base, content(0, b""), pin,
            Some("cbor.truncated");
        "sections-manifest-used-65534", "a manifest chunk with used = 65534", sc, &base,
            content(DATA as u16, &[]), pin, Some("backup.padding");
        "sections-manifest-not-final", "the manifest chunk sealed as non-final", sc, &base,
            not_final, pin, Some("backup.chunk_auth");
    }
    for s in [7usize, 8] {
        let start = o[s - 1] as u64 + 1;
        let (at, what) = if s == 8 {
            (start, "right after the manifest's id byte")
        } else {
            (start + ct, "after the hidden section's first chunk")
        };
        let sr = &["Sections", "Released"];
        crate::rows! { t.add:
            &format!("sections-cut-at-{s}"), &format!("the input ends {what} (with the PIN)"), sr,
                &base, vec![truncate(at)], pin, Some("backup.truncated");
            &format!("sections-cut-inside-{s}"),
                &format!("the input ends inside section {s}'s first chunk (with the PIN)"), sr,
                &base, vec![truncate(start + 1000)], pin, Some("backup.truncated");
        }
    }
    Ok(t.tests)
}

/// Content that ends in a chunk sealed as non-final where the final chunk belongs (XBK-18
/// step 5): the chunk is released, and the section fails at the next 65552 bytes, opened as
/// non-final only. A group of its own at the end of the file, so that the earlier tcIds stay
/// put.
pub(super) fn stream_non_final_end(
    ids: &mut Ids,
    cache: &mut Cache,
) -> Result<Vec<DecodeTest>, String> {
    let base = basic("base", Who::Key);
    let o = cache.offsets(&base)?;
    let content = seed32("backup/section-1");
    let mut t = T::new(ids, cache);
    let sealed = seal(chunk_at(&o, 1, 0), 1, 0, false, plain(content.len() as u16, &content));
    t.add(
        "stream-content-ends-non-final",
        "section 1's only chunk (its content ends there, n = 1) sealed as non-final: released, then section 2's id byte and chunk do not open as chunk 1 of section 1",
        &["Padding", "Released"],
        &base,
        vec![sealed],
        None,
        Some("backup.chunk_auth"),
    )?;
    Ok(t.tests)
}
