//! `cbor.json`: the deterministic CBOR decoder (spec/01-encoding.md).

use super::material::cases::{Cases, Named};
use super::{FlagDef, Ids, expect, file};
use crate::diag;
use crate::format::VectorFile;
use quietwire::cbor::{self, Limits};

crate::vector_record! {
    /// Decoder limits of a group.
    #[derive(Copy, Eq)]
    pub struct LimitsJson {
        /// Maximum input length.
        max_input: usize,
        /// Maximum nesting depth.
        max_depth: usize,
        /// Maximum string length.
        max_string: u64,
        /// Maximum array or map count.
        max_items: u64,
    }
}

impl From<LimitsJson> for Limits {
    fn from(l: LimitsJson) -> Limits {
        Limits {
            max_input: l.max_input,
            max_depth: l.max_depth,
            max_string: l.max_string,
            max_items: l.max_items,
        }
    }
}

impl From<Limits> for LimitsJson {
    fn from(l: Limits) -> LimitsJson {
        LimitsJson {
            max_input: l.max_input,
            max_depth: l.max_depth,
            max_string: l.max_string,
            max_items: l.max_items,
        }
    }
}

crate::vector_groups! {
    /// The groups of this family: decoding tests under one set of limits each.
    pub enum CborGroup {
        /// Decode `input`; valid inputs must re-encode to `input`.
        "cbor-decode" => Decode(CborTest) {
            /// Limits to decode with.
            limits: LimitsJson,
        },
    }
}

crate::vector_test! {
    /// One decoding test.
    pub struct CborTest {
        /// The input bytes.
        input: hex,
        /// Diagnostic notation of the decoded item (valid tests only).
        diagnostic: ?String,
    }
}

const FLAGS: &[FlagDef] = crate::flag_defs! {
    Canonical: Basic ["ENC-01", "ENC-10"]
        "A canonical item that must decode and re-encode to the same bytes.";
    Boundary: EdgeCase ["ENC-02"]
        "A value at the boundary between two head widths or at a type's extreme.";
    Truncated: Basic ["ENC-07"] "The input ends inside an item.";
    Trailing: Malleability ["ENC-07"] "Bytes after the top-level item must be rejected.";
    NonMinimal: Malleability ["ENC-02"] "A head argument not in its shortest form.";
    Indefinite: Malleability ["ENC-03"] "Indefinite-length items are not deterministic.";
    KeyOrder: Malleability ["ENC-04"] "Map keys out of bytewise order of their encodings.";
    DuplicateKey: Malleability ["ENC-04"] "A map key that occurs twice.";
    Unsupported: Defined ["ENC-05"]
        "Tags, floats and simple values other than booleans are outside the subset.";
    KeyType: Defined ["ENC-04"] "Map keys must be integers.";
    Reserved: Basic ["ENC-05"] "Reserved additional information or a stray break code.";
    Utf8: Basic ["ENC-06"] "Text strings must be valid UTF-8.";
    Limits: CanOfWorms ["ENC-08"] "Sizes and depth beyond the limits, rejected before allocating.";
    CheckOrder: Defined ["ENC-09"]
        "Several faults at once: the spec's check order decides the class.";
};

struct Builder {
    ids: Ids,
    tests: Vec<CborTest>,
    limits: Limits,
}

impl Cases<Vec<u8>> for Builder {
    /// A valid input must decode and re-encode to the same bytes.
    fn test(&mut self, n: Named<'_>, input: Vec<u8>, class: Option<&str>) -> Result<(), String> {
        let value = expect(&format!("cbor {}", n.slug), cbor::decode(&input, &self.limits), class)?;
        if value.as_ref().is_some_and(|v| cbor::encode(v) != input) {
            return Err(format!("cbor {}: does not round-trip", n.slug));
        }
        let head = n.head(&mut self.ids, class);
        self.tests.push(CborTest::new(head, input, value.as_ref().map(diag::diagnostic)));
        Ok(())
    }
}

impl Builder {
    fn finish(&mut self, comment: &str) -> CborGroup {
        let (comment, limits) = (comment.to_owned(), self.limits.into());
        CborGroup::Decode { comment, limits, tests: std::mem::take(&mut self.tests) }
    }
}

fn h(text: &str) -> Vec<u8> {
    hex::decode(text.replace(' ', "")).unwrap_or_default()
}

fn repeat(prefix: &str, byte: u8, n: usize, suffix: &str) -> Vec<u8> {
    let mut out = h(prefix);
    out.extend(std::iter::repeat_n(byte, n));
    out.extend(h(suffix));
    out
}

/// Generates `cbor.json`.
///
/// # Errors
/// If the decoder disagrees with an expectation written here.
pub fn generate() -> Result<VectorFile<CborGroup>, String> {
    let mut b = Builder { ids: Ids::default(), tests: Vec::new(), limits: Limits::DEFAULT };
    let c = &["Canonical"];
    let cb = &["Canonical", "Boundary"];
    crate::rows! { b.valid:
        "uint-0", "smallest unsigned integer", c, h("00");
        "uint-23", "largest immediate argument", cb, h("17");
        "uint-24", "smallest one-byte argument", cb, h("1818");
        "uint-255", "largest one-byte argument", cb, h("18ff");
        "uint-256", "smallest two-byte argument", cb, h("190100");
        "uint-65535", "largest two-byte argument", cb, h("19ffff");
        "uint-65536", "smallest four-byte argument", cb, h("1a00010000");
        "uint-4294967295", "largest four-byte argument", cb, h("1affffffff");
        "uint-4294967296", "smallest eight-byte argument", cb, h("1b0000000100000000");
        "uint-max", "2^64-1", cb, h("1bffffffffffffffff");
        "nint-minus-1", "-1", c, h("20");
        "nint-minus-24", "-24, largest immediate negative", cb, h("37");
        "nint-minus-25", "-25, one-byte argument", cb, h("3818");
        "nint-min", "-2^64", cb, h("3bffffffffffffffff");
        "bstr-empty", "empty byte string", c, h("40");
        "bstr-4", "four bytes", c, h("4401020304");
        "bstr-24", "byte string with a one-byte length", cb, repeat("5818", 0xaa, 24, "");
        "bstr-1000", "byte string with a two-byte length", c, repeat("5903e8", 0x55, 1000, "");
        "tstr-empty", "empty text string", c, h("60");
        "tstr-e-acute", "two-byte UTF-8 sequence", c, h("62c3a9");
        "tstr-four-byte-utf8", "four-byte UTF-8 sequence (U+1F512)", c, h("64f09f9492");
        "array-empty", "empty array", c, h("80");
        "array-nested", "[1, [2, 3], [4, 5]]", c, h("8301820203820405");
        "map-empty", "empty map", c, h("a0");
        "map-key-order", "keys 0, 23, 24, -1 in bytewise order of their encodings", cb,
            h("a400f417f51818602040");
        "map-negative-keys", "negative keys -1, -2, -25 in order", c, h("a3200021003818f5");
        "map-wide-key", "key 1000 with a two-byte argument after key 23", c, h("a217001903e800");
        "bool-false", "false", c, h("f4");
        "bool-true", "true", c, h("f5");
        "depth-16", "sixteen nested arrays: the deepest allowed", cb, repeat("", 0x81, 16, "00");
        "map-in-array", "a map inside an array", c, h("81a10182f4f5");
    }

    let t = &["Truncated"];
    let tr = &["Trailing"];
    let (nm, non_minimal) = (&["NonMinimal"], "cbor.noncanonical.integer");
    let (ind, indefinite) = (&["Indefinite"], "cbor.noncanonical.indefinite");
    let (ko, key_order) = (&["KeyOrder"], "cbor.noncanonical.key_order");
    let (dk, duplicate) = (&["DuplicateKey"], "cbor.noncanonical.duplicate_key");
    let (un, simple) = (&["Unsupported"], "cbor.unsupported.simple");
    let (kt, key_type) = (&["KeyType"], "cbor.unsupported.key_type");
    let (rs, reserved) = (&["Reserved"], "cbor.malformed.additional_info");
    let (u8f, utf8) = (&["Utf8"], "cbor.malformed.utf8");
    let lim = &["Limits"];
    let co = &["CheckOrder"];
    crate::rows! { b.invalid:
        // Truncated input and trailing bytes (ENC-07).
        "empty-input", "no bytes at all", t, h(""), "cbor.truncated";
        "truncated-uint8", "one-byte argument missing", t, h("18"), "cbor.truncated";
        "truncated-uint64", "eight-byte argument cut short", t, h("1b000000"), "cbor.truncated";
        "truncated-bstr", "byte string shorter than its length", t, h("430000"), "cbor.truncated";
        "truncated-tstr", "text string shorter than its length", t, h("6261"), "cbor.truncated";
        "truncated-array", "array with fewer items than its count", t, h("8200"), "cbor.truncated";
        "truncated-map", "map missing a value", t, h("a101"), "cbor.truncated";
        "truncated-nested", "inner array cut short", t, h("8181"), "cbor.truncated";
        "trailing-byte", "a second item after the first", tr, h("0000"), "cbor.trailing";
        "trailing-after-map", "a byte after a complete map", tr, h("a0ff"), "cbor.trailing";
        // Heads not in their shortest form (ENC-02).
        "nonminimal-uint8", "23 with a one-byte argument", nm, h("1817"), non_minimal;
        "nonminimal-uint16", "255 with a two-byte argument", nm, h("1900ff"), non_minimal;
        "nonminimal-uint32", "65535 with a four-byte argument", nm, h("1a0000ffff"), non_minimal;
        "nonminimal-uint64", "2^32-1 with an eight-byte argument", nm, h("1b00000000ffffffff"),
            non_minimal;
        "nonminimal-nint", "-24 with a one-byte argument", nm, h("3817"), non_minimal;
        "nonminimal-bstr-length", "length 1 with a one-byte argument", nm, h("580100"), non_minimal;
        "nonminimal-tstr-length", "length 0 with a two-byte argument", nm, h("790000"), non_minimal;
        "nonminimal-array-count", "count 1 with a one-byte argument", nm, h("980100"), non_minimal;
        "nonminimal-map-count", "count 1 with a one-byte argument", nm, h("b8010100"), non_minimal;
        "nonminimal-map-key", "key 1 with a one-byte argument", nm, h("a1180100"), non_minimal;
        "nonminimal-nested", "a non-minimal integer inside an array", nm, h("82001800"),
            non_minimal;
        // Indefinite lengths (ENC-03).
        "indefinite-bstr", "indefinite-length byte string", ind, h("5f4100ff"), indefinite;
        "indefinite-tstr", "indefinite-length text string", ind, h("7fff"), indefinite;
        "indefinite-array", "indefinite-length array", ind, h("9f00ff"), indefinite;
        "indefinite-map", "indefinite-length map", ind, h("bf0100ff"), indefinite;
        // Map keys out of order or repeated (ENC-04).
        "unsorted-uint-keys", "key 2 before key 1", ko, h("a202000100"), key_order;
        "unsorted-nint-first", "key -1 before key 1", ko, h("a220000100"), key_order;
        "unsorted-nint-keys", "key -2 before key -1", ko, h("a221002000"), key_order;
        "unsorted-by-length", "key 24 before key 23", ko, h("a218180017 00"), key_order;
        "duplicate-uint-key", "key 1 twice", dk, h("a201000100"), duplicate;
        "duplicate-nint-key", "key -1 twice", dk, h("a220002001"), duplicate;
        // Tags, floats and simple values outside the subset (ENC-05).
        "tag-0", "tag 0 (date string)", un, h("c060"), "cbor.unsupported.tag";
        "tag-bignum", "tag 2 (bignum)", un, h("c24101"), "cbor.unsupported.tag";
        "tag-self-describe", "tag 55799 (self-described CBOR)", un, h("d9d9f700"),
            "cbor.unsupported.tag";
        "float16", "half-precision zero", un, h("f90000"), "cbor.unsupported.float";
        "float32", "single-precision zero", un, h("fa00000000"), "cbor.unsupported.float";
        "float64", "double-precision zero", un, h("fb0000000000000000"), "cbor.unsupported.float";
        "simple-null", "null", un, h("f6"), simple;
        "simple-undefined", "undefined", un, h("f7"), simple;
        "simple-0", "simple value 0", un, h("e0"), simple;
        "simple-one-byte", "simple value 32 with a one-byte argument", un, h("f820"), simple;
        // Map keys that are not integers (ENC-04).
        "key-tstr", "text string key", kt, h("a1616100"), key_type;
        "key-bstr", "byte string key", kt, h("a14000"), key_type;
        "key-array", "array key", kt, h("a18000"), key_type;
        "key-bool", "boolean key", kt, h("a1f500"), key_type;
        "key-after-int", "a text key after an integer key", kt, h("a2010061610 0"), key_type;
        // Reserved additional information and stray breaks (ENC-05).
        "ai-28", "additional information 28", rs, h("1c"), reserved;
        "ai-29-nint", "additional information 29, negative integer", rs, h("3d"), reserved;
        "ai-30-bstr", "additional information 30, byte string", rs, h("5e"), reserved;
        "ai-31-uint", "additional information 31 on an unsigned integer", rs, h("1f"), reserved;
        "ai-31-nint", "additional information 31 on a negative integer", rs, h("3f"), reserved;
        "ai-31-tag", "additional information 31 on a tag", rs, h("df"), reserved;
        "break-alone", "a break code as the item", rs, h("ff"), "cbor.malformed.break";
        "break-in-array", "a break code inside a definite array", rs, h("81ff"),
            "cbor.malformed.break";
        // Invalid UTF-8 (ENC-06).
        "utf8-invalid-byte", "0xff is never UTF-8", u8f, h("61ff"), utf8;
        "utf8-overlong", "overlong encoding of '/'", u8f, h("62c0af"), utf8;
        "utf8-surrogate", "an encoded UTF-16 surrogate", u8f, h("63eda080"), utf8;
        "utf8-cut-sequence", "a two-byte sequence cut after one byte", u8f, h("61c3"), utf8;
        // Limits (ENC-08).
        "depth-17", "seventeen nested arrays", lim, repeat("", 0x81, 17, "00"), "cbor.limit.depth";
        "depth-17-maps", "maps nested seventeen deep", lim, h(&("a101".repeat(17) + "00")),
            "cbor.limit.depth";
        "array-count-huge", "an array claiming 2^64-1 items", lim, h("9bffffffffffffffff"),
            "cbor.limit.size";
        "bstr-length-huge", "a byte string claiming 2^64-1 bytes", lim, h("5bffffffffffffffff"),
            "cbor.limit.size";
        "map-count-huge", "a map claiming 2^32 pairs", lim, h("bb0000000100000000"),
            "cbor.limit.size";
        "array-count-1025", "one item over the item limit", lim, repeat("990401", 0x00, 1025, ""),
            "cbor.limit.size";
        "bstr-length-65537", "one byte over the string limit, content absent", lim, h("5a00010001"),
            "cbor.limit.size";
        // Several faults: the check order of ENC-09 decides.
        "order-float-before-truncation",
            "a float head with no argument bytes: the float check comes first", co, h("f9"),
            "cbor.unsupported.float";
        "order-tag-before-truncation", "a tag head with no content: the tag check comes first", co,
            h("d9"), "cbor.unsupported.tag";
        "order-indefinite-before-truncation", "an indefinite head alone", co, h("9f"), indefinite;
        "order-nonminimal-before-size", "a non-minimal length whose content is missing", co,
            h("5801"), non_minimal;
        "order-size-before-truncation", "a count over the item limit and over the input", co,
            h("990401"), "cbor.limit.size";
        "order-key-type-before-value", "a text key whose value is missing", co, h("a16161"),
            key_type;
    }
    let defaults = b.finish("Default limits of the generic decoder.");

    b.limits = Limits { max_input: 64, max_depth: 4, max_string: 16, max_items: 8 };
    crate::rows! { b.valid:
        "small-at-depth-limit", "four nested arrays with max_depth 4", cb, h("81818181 00");
        "small-at-string-limit", "a 16-byte string with max_string 16", cb,
            repeat("50", 0x11, 16, "");
        "small-at-item-limit", "eight items with max_items 8", cb, repeat("88", 0x00, 8, "");
        "small-at-input-limit", "a 64-byte input with max_input 64", cb,
            h(&format!("84{0}{0}{0}4e{1}", format!("4f{}", "22".repeat(15)), "22".repeat(14)));
    }
    crate::rows! { b.invalid:
        "small-over-depth", "five nested arrays", lim, h("8181818181 00"), "cbor.limit.depth";
        "small-over-string", "a 17-byte string", lim, repeat("51", 0x11, 17, ""), "cbor.limit.size";
        "small-over-items", "nine items", lim, repeat("89", 0x00, 9, ""), "cbor.limit.size";
        "small-over-map-items", "a map of nine pairs", lim,
            h("a9 0000 0100 0200 0300 0400 0500 0600 0700 0800"), "cbor.limit.size";
        "small-over-input", "a 65-byte input, rejected before parsing", lim,
            h(&format!("84{}", format!("4f{}", "22".repeat(15)).repeat(4))), "cbor.limit.input";
    }
    let small = b.finish("Small limits so that every limit can be crossed by a short input.");

    // Added later, so their ids follow every other test: the escapes of the diagnostic
    // notation (spec/15-test-vectors.md, text strings), under the default limits.
    b.limits = Limits::DEFAULT;
    let dn = &["Canonical"];
    for (slug, comment, text) in crate::tuples! {
        "text-quote-backslash",
            "a text string with a double quote and a backslash: written \\\" and \\\\", "a\"b\\c";
        "text-short-escapes",
            "U+0008, U+0009, U+000A, U+000C, U+000D: written \\b, \\t, \\n, \\f, \\r",
            "\u{8}\t\n\u{c}\r";
        "text-control-u-escapes",
            "U+0000, U+0001, U+000B, U+001B, U+001F: written \\u0000 ... \\u001f, lowercase hex",
            "\u{0}\u{1}\u{b}\u{1b}\u{1f}";
        "text-not-escaped",
            "the solidus, U+007F and non-ASCII characters are written as themselves", "/\u{7f}é🔒";
    } {
        let mut input = raw_text_head(text.len());
        input.extend_from_slice(text.as_bytes());
        b.valid(slug, comment, dn, input)?;
    }
    let diagnostic_escapes =
        b.finish("Diagnostic notation of text strings: every escape (default limits).");

    // ENC-08: a caller's depth limit above MAX_DEPTH (64) acts as 64.
    b.limits =
        Limits { max_input: 1 << 20, max_depth: 100_000, max_string: 1 << 20, max_items: 1 << 20 };
    crate::rows! { b.valid:
        "capped-depth-64", "64 nested arrays: the deepest nesting any decoder accepts", cb,
            h(&format!("{}00", "81".repeat(64)));
    }
    crate::rows! { b.invalid:
        "capped-depth-65", "65 nested arrays with max_depth 100000: the limit acts as 64", lim,
            h(&format!("{}00", "81".repeat(65))), "cbor.limit.depth";
        "capped-depth-5000",
            "5000 nested arrays with max_depth 100000: refused, never a stack overflow", lim,
            h(&format!("{}00", "81".repeat(5000))), "cbor.limit.depth";
    }
    let capped = b.finish("A depth limit above 64 acts as 64 (ENC-08).");

    Ok(file(
        "cbor",
        &[
            "Deterministic CBOR decoding (spec/01-encoding.md).",
            "Decode `input` with the group's limits. A valid input must decode and re-encode to exactly `input`;",
            "`diagnostic` shows the decoded item. An invalid input must be rejected with exactly `errorClass`.",
        ],
        FLAGS,
        vec![defaults, small, diagnostic_escapes, capped],
    ))
}

/// The head of a text string of `len` bytes.
fn raw_text_head(len: usize) -> Vec<u8> {
    crate::raw::head(3, len as u64)
}
