//! The hash converters, each writing its digest as pkg/ottl does: `SHA1`,
//! `SHA256`, `SHA512` and `MD5` as lowercase hex of the digest (of a value
//! read as a string; nil when it is none), `FNV` as the 64-bit FNV-1a
//! value, `Murmur3Hash` and `Murmur3Hash128` as little-endian hex and
//! `XXH3` and `XXH128` as big-endian hex (of a string target).

use super::string_like;
use crate::context::Item;
use crate::go_values::{murmur3_32, murmur3_128};
use crate::registry::{Converter, Expression, Registry};
use crate::value::Value;
use std::borrow::Cow;

#[derive(Clone, Copy)]
enum Hash {
    Sha1,
    Sha256,
    Sha512,
    Md5,
    Fnv,
    Murmur3,
    Murmur3x128,
    Xxh3,
    Xxh128,
}

/// Registers the hash converters, by Go's names and parameter names.
pub(super) fn register(registry: &mut Registry) {
    let converters = [
        ("SHA1", Hash::Sha1, "value"),
        ("SHA256", Hash::Sha256, "value"),
        ("SHA512", Hash::Sha512, "value"),
        ("MD5", Hash::Md5, "value"),
        ("FNV", Hash::Fnv, "value"),
        ("Murmur3Hash", Hash::Murmur3, "target"),
        ("Murmur3Hash128", Hash::Murmur3x128, "target"),
        ("XXH3", Hash::Xxh3, "target"),
        ("XXH128", Hash::Xxh128, "target"),
    ];
    for (name, hash, param) in converters {
        registry.converter(name, move |call| {
            let args = call.bind(&[param], 1)?;
            let value = args.required(0)?;
            Ok(Box::new(HashOf { hash, value }))
        });
    }
}

struct HashOf {
    hash: Hash,
    value: Expression,
}

impl Converter for HashOf {
    fn call<'s>(&'s self, item: &'s Item<'_>) -> Result<Value<'s>, String> {
        let value = self.value.eval(item)?;
        let text = match self.hash {
            Hash::Sha1 | Hash::Sha256 | Hash::Sha512 | Hash::Md5 | Hash::Fnv => {
                let Some(s) = string_like(&value) else {
                    return Ok(Value::Nil);
                };
                match self.hash {
                    Hash::Sha1 => digest_hex::<sha1::Sha1>(s.as_bytes()),
                    Hash::Sha256 => sha256_hex(s.as_bytes()),
                    Hash::Sha512 => digest_hex::<sha2::Sha512>(s.as_bytes()),
                    Hash::Md5 => digest_hex::<md5::Md5>(s.as_bytes()),
                    _ => return Ok(Value::Int(fnv1a_64(s.as_bytes()) as i64)),
                }
            }
            Hash::Murmur3 | Hash::Murmur3x128 | Hash::Xxh3 | Hash::Xxh128 => {
                let data = value
                    .as_str()
                    .ok_or_else(|| format!("expected string but got {}", value.type_name()))?
                    .as_bytes();
                match self.hash {
                    Hash::Murmur3 => ferrotel_core::hex::encode(&murmur3_32(data).to_le_bytes()),
                    Hash::Murmur3x128 => {
                        let (h1, h2) = murmur3_128(data);
                        let mut both = [0u8; 16];
                        both[..8].copy_from_slice(&h1.to_le_bytes());
                        both[8..].copy_from_slice(&h2.to_le_bytes());
                        ferrotel_core::hex::encode(&both)
                    }
                    Hash::Xxh3 => {
                        ferrotel_core::hex::encode(&xxhash_rust::xxh3::xxh3_64(data).to_be_bytes())
                    }
                    _ => {
                        ferrotel_core::hex::encode(&xxhash_rust::xxh3::xxh3_128(data).to_be_bytes())
                    }
                }
            }
        };
        Ok(Value::Str(Cow::Owned(text)))
    }
}

/// 64-bit FNV-1a, as Go's `hash/fnv` `New64a`.
fn fnv1a_64(data: &[u8]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in data {
        h ^= u64::from(*b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    h
}

/// The SHA-256 of `data` as lowercase hex (also `replace_*`'s `SHA256`).
pub(super) fn sha256_hex(data: &[u8]) -> String {
    digest_hex::<sha2::Sha256>(data)
}

fn digest_hex<D: sha2::Digest>(data: &[u8]) -> String {
    ferrotel_core::hex::encode(&D::digest(data))
}
