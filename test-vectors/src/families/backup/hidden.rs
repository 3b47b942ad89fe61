//! The `xbk-hidden` group: the hidden section with and without its PIN.

use quietwire::backup::{CHUNK_CT, DATA};

use super::build::{Cache, Spec, T};
use super::large::*;
use super::{DecodeTest, Ids, SectionContent};

pub(super) fn hidden(ids: &mut Ids, cache: &mut Cache) -> Result<Vec<DecodeTest>, String> {
    let with = |name: &str, hidden: SectionContent| with_section(name, Some(PIN), 6, hidden);
    let full = with("hidden-full", stream("hidden-full", 16 * DATA as u64 - 1));
    let emptyr = with("hidden-empty", empty());
    let over = with("hidden-over", stream("hidden-over", 16 * DATA as u64));
    let ff = cache.file(&full)?;
    let ef = cache.file(&emptyr)?;
    let of = cache.file(&over)?;
    if ff.len() != ef.len() || of.len() <= ff.len() {
        return Err("hidden: empty and full sections must have the same size".into());
    }
    let (o, _) = layout(&full, &ff);
    let (h0, end) = (o[6] as u64 + 1, ff.len() as u64);
    let mut t = T::new(ids, cache);
    let hd = &["Hidden"];
    for (slug, comment, e, pin, hidden) in crate::tuples! {
        "hidden-open", "the right PIN: the hidden records are released", &full, Some(PIN), "open";
        "hidden-locked", "no PIN: everything else restores", &full, None, "locked";
        "hidden-pin-mismatch",
            "a wrong PIN: everything else restores, the same plaintext as locked", &full,
            Some("1357"), "pin_mismatch";
        "hidden-empty-open", "no hidden content, the right PIN", &emptyr, Some(PIN), "open";
        "hidden-empty-locked", "no hidden content, no PIN: same length as a full section", &emptyr,
            None, "locked";
        "hidden-empty-pin-mismatch", "no hidden content, a wrong PIN", &emptyr, Some("1357"),
            "pin_mismatch";
        "hidden-over-1mib", "1048544 bytes of hidden content: 18 chunks, a visibly larger file",
            &over, Some(PIN), "open";
    } {
        let pin = pin.map(str::to_owned);
        let spec = Spec { pin, hidden: Some(hidden), ..Spec::export(e, vec![], key_unlock()) };
        t.spec(slug, comment, hd, spec)?;
    }
    let later = h0 + CHUNK_CT as u64 + 5;
    let manifest_again = copy("insertCopy", o[7] as u64, quietwire::backup::TAIL as u64, end);
    crate::rows! { t.add:
        "hidden-damaged-0-no-pin", "hidden chunk 0 damaged, no PIN: the manifest's digest", hd,
            &full, vec![xor(h0 + 5)], None, Some("backup.manifest_mismatch");
        "hidden-damaged-0-pin",
            "hidden chunk 0 damaged, right PIN: locked mode, then the manifest's digest", hd, &full,
            vec![xor(h0 + 5)], Some(PIN), Some("backup.manifest_mismatch");
        "hidden-damaged-later-pin", "a later hidden chunk damaged, right PIN",
            &["Hidden", "Released"], &full, vec![xor(later)], Some(PIN), Some("backup.chunk_auth");
        "hidden-damaged-later-no-pin", "a later hidden chunk damaged, no PIN", hd, &full,
            vec![xor(later)], None, Some("backup.manifest_mismatch");
        "hidden-trailing-locked",
            "a byte after the manifest, no PIN: the last 65553 bytes do not start with id 8", hd,
            &full, vec![put("insert", end, vec![8])], None, Some("backup.section_order");
        "hidden-manifest-twice-locked",
            "the manifest section twice, no PIN: the first is counted as hidden bytes", hd, &full,
            vec![manifest_again], None, Some("backup.manifest_mismatch");
        "hidden-short-locked", "hidden section cut to 15 chunks, no PIN", hd, &full,
            vec![delete(h0, CHUNK_CT as u64)], None, Some("backup.manifest_mismatch");
    }
    Ok(t.tests)
}
