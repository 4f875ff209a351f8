//! The hash converters (`src/functions/hashes.rs`): SHA1, SHA256, SHA512,
//! MD5, FNV, Murmur3Hash, Murmur3Hash128, XXH3 and XXH128.

use super::{attr, logs, records, run, s};

#[test]
fn sha1_sha256_sha512_and_md5_write_lowercase_hex() {
    // Expected values are Go's crypto packages for the same inputs,
    // checked with `go run`.
    let mut data = logs();
    run(
        &mut data,
        &[
            r#"set(log.attributes["hash"], SHA256("a"))"#,
            r#"set(log.attributes["sha1"], SHA1("abc"))"#,
            r#"set(log.attributes["sha512"], SHA512("abc"))"#,
            r#"set(log.attributes["md5"], MD5("abc"))"#,
        ],
    );
    let a = &records(&data)[0].attributes;
    assert_eq!(
        attr(a, "hash"),
        Some(&s(
            "ca978112ca1bbdcafac231b39a23dc4da786eff8147c4e72b9807785afee48bb"
        ))
    );
    assert_eq!(
        attr(a, "sha1"),
        Some(&s("a9993e364706816aba3e25717850c26c9cd0d89d"))
    );
    assert_eq!(
        attr(a, "sha512"),
        Some(&s(
            "ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a2192992a274fc1a836ba3c23a3feebbd454d4423643ce80e2a9ac94fa54ca49f"
        ))
    );
    assert_eq!(attr(a, "md5"), Some(&s("900150983cd24fb0d6963f7d28e17f72")));
}

#[test]
fn fnv_is_the_64_bit_fnv_1a_as_a_signed_int() {
    let mut data = logs();
    run(
        &mut data,
        &[
            r#"set(log.attributes["fnv"], FNV("hello"))"#,
            r#"stringify_all(log.attributes)"#,
        ],
    );
    let a = &records(&data)[0].attributes;
    // FNV-1a 64 of "hello" as a signed int64, then stringified.
    assert_eq!(
        attr(a, "fnv"),
        Some(&s(&(0xa430d84680aabd0b_u64 as i64).to_string()))
    );
}

#[test]
fn murmur3_and_xxh3_converters_write_go_s_hex() {
    // Expected values from Go (twmb/murmur3, zeebo/xxh3 as pkg/ottl calls
    // them), checked with `go run`.
    let mut data = logs();
    run(
        &mut data,
        &[
            r#"set(log.attributes["m32"], Murmur3Hash("hello world"))"#,
            r#"set(log.attributes["m128"], Murmur3Hash128("hello world"))"#,
            r#"set(log.attributes["x64"], XXH3("hello world"))"#,
            r#"set(log.attributes["x128"], XXH128("hello world"))"#,
            r#"set(log.attributes["x128_long"], XXH128("The quick brown fox jumps over the lazy dog"))"#,
        ],
    );
    let a = &records(&data)[0].attributes;
    assert_eq!(attr(a, "m32"), Some(&s("0f8f925e")));
    assert_eq!(
        attr(a, "m128"),
        Some(&s("0e617feb46603f53b163eb607d4697ab"))
    );
    assert_eq!(attr(a, "x64"), Some(&s("d447b1ea40e6988b")));
    assert_eq!(
        attr(a, "x128"),
        Some(&s("df8d09e93f874900a99b8775cc15b6c7"))
    );
    assert_eq!(
        attr(a, "x128_long"),
        Some(&s("ddd650205ca3e7fa24a1cc2e3a8a7651"))
    );
}
