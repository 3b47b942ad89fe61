//! The `xbk-stream` and `xbk-sections` groups: the chunk stream, padding, limits, section
//! order and the manifest.

// Generator code: it indexes files and tables it built itself, so an index out of range is a
// bug of the generator, and the panic fails generation loudly; the case tables are tuples.
#![allow(clippy::indexing_slicing, clippy::type_complexity)]

use quietwire::backup::{CHUNK_CT, DATA};
use sha2::{Digest, Sha256};

use super::build::{Cache, Spec};
use super::{DecodeTest, Edit, Ids};
use crate::seeds::seed32;

use super::large::*;
use crate::families::flags;

pub(super) fn stream_group(ids: &mut Ids, cache: &mut Cache) -> Result<Vec<DecodeTest>, String> {
    let base = recipe("base", Who::Key, None, base_sections());
    let file = cache.file(&base)?;
    let (o, _) = layout(&base, &file);
    let c = |s: usize, i: usize| chunk_at(&o, s, i);
    let ct = CHUNK_CT as u64;
    let mut t = T { ids, cache, tests: Vec::new() };
    let k = key_unlock;
    let st = &["Stream"];
    crate::rows! { t.add:
        "stream-no-chunks", "the input ends right after section 1's id", st, &base,
            vec![truncate(o[0] as u64 + 1)], k(), None, Some("backup.truncated");
        "stream-short-chunk", "a chunk shorter than 65552 bytes at the end", st, &base,
            vec![truncate(c(1, 0) + ct - 1)], k(), None, Some("backup.truncated");
        "stream-bad-tag-first", "the tag of the first chunk", &["Stream", "Released"], &base,
            vec![xor(c(1, 0) + ct - 1)], k(), None, Some("backup.chunk_auth");
        "stream-bad-tag-later", "the tag of section 2's third chunk: two chunks released",
            &["Stream", "Released"], &base, vec![xor(c(2, 2) + ct - 1)], k(), None,
            Some("backup.chunk_auth");
        "stream-bad-ciphertext", "a ciphertext byte of section 2's second chunk",
            &["Stream", "Released"], &base, vec![xor(c(2, 1) + 100)], k(), None,
            Some("backup.chunk_auth");
        "stream-reordered", "section 2's chunks 0 and 1 swapped", st, &base,
            swap(c(2, 0), c(2, 1), ct), k(), None, Some("backup.chunk_auth");
        "stream-duplicated", "section 2's chunk 0 twice", st, &base,
            vec![Edit { from: Some(c(2, 0)), length: Some(ct), ..ed("insertCopy", c(2, 1)) }], k(),
            None, Some("backup.chunk_auth");
        "stream-dropped", "section 2's chunk 1 removed", st, &base,
            vec![Edit { length: Some(ct), ..ed("delete", c(2, 1)) }], k(), None,
            Some("backup.chunk_auth");
        "stream-between-sections", "section 2's chunk 0 in place of section 4's", st, &base,
            vec![Edit { from: Some(c(2, 0)), length: Some(ct), ..ed("copy", c(4, 0)) }], k(), None,
            Some("backup.chunk_auth");
    }
    let other = recipe("base-other", Who::Key, None, base_sections());
    let other_file = t.cache.file(&other)?;
    let (oo, _) = layout(&other, &other_file);
    let spliced =
        other_file[chunk_at(&oo, 1, 0) as usize..chunk_at(&oo, 1, 0) as usize + CHUNK_CT].to_vec();
    crate::rows! { t.add:
        "stream-other-file",
            "section 1's chunk from another file with the same content and recovery key", st, &base,
            vec![Edit { bytes: Some(spliced), ..ed("replace", c(1, 0)) }], k(), None,
            Some("backup.chunk_auth");
    }
    crate::rows! { t.add:
        "stream-final-then-more", "a copy of section 1's final chunk after it", st, &base,
            vec![Edit { from: Some(c(1, 0)), length: Some(ct), ..ed("insertCopy", c(1, 1)) }], k(),
            None, Some("backup.section_order");
    }
    t.add(
        "stream-empty-final-appended",
        "a 16-byte empty final chunk after section 6",
        st,
        &base,
        vec![Edit {
            bytes: Some(seed32("backup/empty-tag")[..16].to_vec()),
            ..ed("insert", o[6] as u64)
        }],
        k(),
        None,
        Some("backup.section_order"),
    )?;
    // A missing final chunk: content of exactly two chunks ends in a third (used = 0).
    let mut multiple = base_sections();
    multiple[1] = stream("multiple", 2 * DATA as u64);
    let exact = recipe("exact", Who::Key, None, multiple);
    let ef = t.cache.file(&exact)?;
    let (eo, _) = layout(&exact, &ef);
    crate::rows! { t.add:
        "stream-missing-final", "content of exactly 2 × 65534 bytes without its final chunk", st,
            &exact, vec![Edit { length: Some(ct), ..ed("delete", chunk_at(&eo, 2, 2)) }], k(), None,
            Some("backup.chunk_auth");
    }
    // Truncation at and inside a chunk boundary of sections 1 to 6.
    for s in 1..=6usize {
        let start = c(s, 0);
        crate::rows! { t.add:
            &format!("stream-cut-at-{s}"),
                &format!("the input ends after section {s}'s first chunk"), &["Stream", "Released"],
                &base, vec![truncate(start + ct)], k(), None, Some("backup.truncated");
        }
        crate::rows! { t.add:
            &format!("stream-cut-inside-{s}"),
                &format!("the input ends inside section {s}'s first chunk"),
                &["Stream", "Released"], &base, vec![truncate(start + 1000)], k(), None,
                Some("backup.truncated");
        }
    }
    // Padding and the used field, in chunks sealed with the right key at the right place.
    let pd = &["Padding"];
    crate::rows! { t.add:
        "stream-used-65535", "used = 65535", pd, &base,
            vec![seal(c(1, 0), 1, 0, true, plain(65_535, b"x"))], k(), None, Some("backup.padding");
        "stream-nonzero-padding", "a non-zero byte after the content", pd, &base,
            vec![seal(c(1, 0), 1, 0, true, plain(2, b"abc"))], k(), None, Some("backup.padding");
        "stream-full-final", "a full chunk marked final", pd, &base,
            vec![seal(c(1, 0), 1, 0, true, plain(DATA as u16, &[]))], k(), None,
            Some("backup.padding");
    }
    let mut nine = base_sections();
    nine[1] = stream("nine", 8 * DATA as u64 + 1);
    let ninef = recipe("nine", Who::Key, None, nine);
    let nf = t.cache.file(&ninef)?;
    let (no, _) = layout(&ninef, &nf);
    crate::rows! { t.add:
        "stream-too-few-padding", "nine content chunks, final at the ninth instead of the tenth",
            pd, &ninef, vec![seal(chunk_at(&no, 2, 8), 2, 8, true, plain(1, b"x"))], k(), None,
            Some("backup.padding");
        "stream-padding-data", "a padding chunk (used must be 0) that carries a byte", pd, &ninef,
            vec![seal(chunk_at(&no, 2, 9), 2, 9, true, plain(1, b"x"))], k(), None,
            Some("backup.padding");
    }
    t.add(
        "stream-too-many-padding",
        "the tenth chunk not final, an eleventh final: the tenth must be final",
        pd,
        &ninef,
        vec![
            seal(chunk_at(&no, 2, 9), 2, 9, false, plain(0, b"")),
            Edit { bytes: Some(vec![0; CHUNK_CT]), ..ed("insert", chunk_at(&no, 2, 10)) },
            seal(chunk_at(&no, 2, 10), 2, 10, true, plain(0, b"")),
        ],
        k(),
        None,
        Some("backup.chunk_auth"),
    )?;
    // MAX_CHUNKS configured as 16: exactly 16 chunks pass, 17 and more do not.
    let cl = &["ChunkLimit"];
    let mut s16 = base_sections();
    s16[1] = stream("sixteen", 15 * DATA as u64 + 100);
    let r16 = recipe("sixteen", Who::Key, None, s16);
    t.spec(Spec {
        slug: "stream-max-16-exact".into(),
        comment: "16 chunks with MAX_CHUNKS = 16".into(),
        flags: flags(cl),
        export: Some(r16),
        unlock: k(),
        max_chunks: Some(16),
        hidden: Some("locked"),
        ..Spec::default()
    })?;
    let mut s17 = base_sections();
    s17[1] = stream("seventeen", 16 * DATA as u64 + 100);
    let r17 = recipe("seventeen", Who::Key, None, s17);
    t.spec(Spec {
        slug: "stream-max-16-over".into(),
        comment: "17 content chunks with MAX_CHUNKS = 16: refused before chunk 16 is read".into(),
        flags: flags(cl),
        export: Some(r17.clone()),
        unlock: k(),
        max_chunks: Some(16),
        expect: Some("backup.chunk_limit"),
        ..Spec::default()
    })?;
    let f17 = t.cache.file(&r17)?;
    let cut17 = chunk_at(&layout(&r17, &f17).0, 2, 16);
    t.spec(Spec {
        slug: "stream-max-16-over-cut".into(),
        comment: "the same cut right before chunk 16: the limit comes before the truncation".into(),
        flags: flags(cl),
        export: Some(r17.clone()),
        edits: vec![truncate(cut17)],
        unlock: k(),
        max_chunks: Some(16),
        expect: Some("backup.chunk_limit"),
        ..Spec::default()
    })?;
    // Counter boundaries: a section of 272 chunks crosses 0xff → 0x100.
    let mut big = base_sections();
    big[3] = stream("counter", 256 * DATA as u64 + 1);
    let rb = recipe("counter", Who::Key, None, big);
    let bf = t.cache.file(&rb)?;
    let (bo, _) = layout(&rb, &bf);
    crate::rows! { t.add:
        "stream-counter-256", "272 chunks in one section: the counter crosses a byte boundary", st,
            &rb, vec![], k(), None, None;
        "stream-counter-swap", "chunks 255 and 256 swapped", st, &rb,
            swap(chunk_at(&bo, 4, 255), chunk_at(&bo, 4, 256), ct), k(), None,
            Some("backup.chunk_auth");
    }
    Ok(t.tests)
}

fn manifest_bytes(counts: &[u64], digest: &[u8]) -> Vec<u8> {
    use quietwire::cbor::{self, Int, Value};
    cbor::encode(&Value::Map(
        [
            (Int::uint(1), Value::uint(1)),
            (Int::uint(2), Value::Array(counts.iter().map(|c| Value::uint(*c)).collect())),
            (Int::uint(3), Value::Bytes(digest.to_vec())),
        ]
        .into_iter()
        .collect(),
    ))
}

pub(super) fn sections(ids: &mut Ids, cache: &mut Cache) -> Result<Vec<DecodeTest>, String> {
    let base = recipe("pin", Who::Key, Some(PIN), {
        let mut s = base_sections();
        s[6] = stream("hidden", 100_000);
        s
    });
    let file = cache.file(&base)?;
    let (o, counts) = layout(&base, &file);
    let ct = CHUNK_CT as u64;
    let hidden_digest = Sha256::digest(&file[o[6]..o[7]]).to_vec();
    let mut t = T { ids, cache, tests: Vec::new() };
    let k = key_unlock;
    let sc = &["Sections"];
    let pin = Some(PIN);
    let sec3 = |n: u64| (o[2] as u64, 1 + n * ct);
    let (s3, l3) = sec3(counts[2]);
    crate::rows! { t.add:
        "sections-missing", "section 3 left out", sc, &base,
            vec![Edit { length: Some(l3), ..ed("delete", s3) }], k(), pin,
            Some("backup.section_order");
        "sections-duplicated", "section 3 twice", sc, &base,
            vec![Edit { from: Some(s3), length: Some(l3), ..ed("insertCopy", s3 + l3) }], k(), pin,
            Some("backup.section_order");
        "sections-swapped", "sections 3 and 5 swapped", sc, &base,
            swap(o[2] as u64, o[4] as u64, l3), k(), pin, Some("backup.section_order");
        "sections-unknown-id", "section id 9 in place of 3", sc, &base,
            vec![Edit { bytes: Some(vec![9]), ..ed("replace", s3) }], k(), pin,
            Some("backup.section_order");
        "sections-manifest-early", "id 8 in place of 3", sc, &base,
            vec![Edit { bytes: Some(vec![8]), ..ed("replace", s3) }], k(), pin,
            Some("backup.section_order");
        "sections-manifest-id-7", "the manifest's id byte is 7", sc, &base,
            vec![Edit { bytes: Some(vec![7]), ..ed("replace", o[7] as u64) }], k(), pin,
            Some("backup.section_order");
        "sections-no-manifest", "the input ends before the manifest", sc, &base,
            vec![truncate(o[7] as u64)], k(), pin, Some("backup.truncated");
        "sections-no-manifest-locked",
            "the same without the PIN: the last 65553 bytes are not a manifest", sc, &base,
            vec![truncate(o[7] as u64)], k(), None, Some("backup.section_order");
        "sections-trailing", "a byte after the manifest", sc, &base,
            vec![Edit { bytes: Some(vec![0]), ..ed("insert", file.len() as u64) }], k(), pin,
            Some("backup.trailing");
    }
    t.add(
        "sections-trailing-chunk",
        "a whole chunk after the manifest",
        sc,
        &base,
        vec![Edit {
            from: Some(o[7] as u64 + 1),
            length: Some(ct),
            ..ed("insertCopy", file.len() as u64)
        }],
        k(),
        pin,
        Some("backup.trailing"),
    )?;
    let m = o[7] as u64 + 1;
    let manifest = |c: &[u64], d: &[u8]| {
        let bytes = manifest_bytes(c, d);
        plain(bytes.len() as u16, &bytes)
    };
    let mut wrong = counts.clone();
    wrong[1] += 1;
    crate::rows! { t.add:
        "sections-manifest-valid-resealed",
            "the manifest sealed again with the same content: valid", sc, &base,
            vec![seal(m, 8, 0, true, manifest(&counts, &hidden_digest))], k(), pin, None;
        "sections-manifest-count", "a manifest whose count for section 2 is one too many", sc,
            &base, vec![seal(m, 8, 0, true, manifest(&wrong, &hidden_digest))], k(), pin,
            Some("backup.manifest_mismatch");
    }
    crate::rows! { t.add:
        "sections-manifest-digest", "a manifest with a wrong hidden digest", sc, &base,
            vec![seal(m, 8, 0, true, manifest(&counts, &[0; 32]))], k(), pin,
            Some("backup.manifest_mismatch");
        "sections-manifest-digest-locked", "the same without the PIN", sc, &base,
            vec![seal(m, 8, 0, true, manifest(&counts, &[0; 32]))], k(), None,
            Some("backup.manifest_mismatch");
    }
    crate::rows! { t.add:
        "sections-manifest-6", "a manifest of six counts", sc, &base,
            vec![seal(m, 8, 0, true, manifest(&counts[..6], &hidden_digest))], k(), pin,
            Some("schema.length");
        "sections-manifest-not-cbor", "manifest content that is not CBOR", sc, &base,
            vec![seal(m, 8, 0, true, plain(1, &[0xff]))], k(), pin, Some("cbor.malformed.break");
        "sections-manifest-empty", "empty manifest content", sc, &base,
            vec![seal(m, 8, 0, true, plain(0, b""))], k(), pin, Some("cbor.truncated");
        "sections-manifest-used-65534", "a manifest chunk with used = 65534", sc, &base,
            vec![seal(m, 8, 0, true, plain(DATA as u16, &[]))], k(), pin, Some("backup.padding");
        "sections-manifest-not-final", "the manifest chunk sealed as non-final", sc, &base,
            vec![seal(m, 8, 0, false, manifest(&counts, &hidden_digest))], k(), pin,
            Some("backup.chunk_auth");
    }
    for s in [7usize, 8] {
        let start = o[s - 1] as u64 + 1;
        let (at, what) = if s == 8 {
            (start, "right after the manifest's id byte")
        } else {
            (start + ct, "after the hidden section's first chunk")
        };
        crate::rows! { t.add:
            &format!("sections-cut-at-{s}"), &format!("the input ends {what} (with the PIN)"),
                &["Sections", "Released"], &base, vec![truncate(at)], k(), pin,
                Some("backup.truncated");
        }
        crate::rows! { t.add:
            &format!("sections-cut-inside-{s}"),
                &format!("the input ends inside section {s}'s first chunk (with the PIN)"),
                &["Sections", "Released"], &base, vec![truncate(start + 1000)], k(), pin,
                Some("backup.truncated");
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
    let base = recipe("base", Who::Key, None, base_sections());
    let file = cache.file(&base)?;
    let (o, _) = layout(&base, &file);
    let mut t = T { ids, cache, tests: Vec::new() };
    let content = seed32("backup/section-1");
    t.add(
        "stream-content-ends-non-final",
        "section 1's only chunk (its content ends there, n = 1) sealed as non-final: released, then section 2's id byte and chunk do not open as chunk 1 of section 1",
        &["Padding", "Released"],
        &base,
        vec![seal(
            chunk_at(&o, 1, 0),
            1,
            0,
            false,
            plain(content.len() as u16, &content),
        )],
        key_unlock(),
        None,
        Some("backup.chunk_auth"),
    )?;
    Ok(t.tests)
}
