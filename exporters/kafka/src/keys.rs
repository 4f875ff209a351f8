//! Message keys and the partitions they map to, as the Go exporter makes
//! them, so that both collectors put the same data on the same partition.
//!
//! - A resource's key is pdata's `xhash.MapHash` (collector v1.71 /
//!   contrib v0.165) of its attributes: entries sorted by key, each written
//!   as `0xf4`, the key's length (uvarint) and bytes, then a typed value
//!   (`0xf7` + length-prefixed string, `0xf8`/`0xf9` bools, `0xfa` int and
//!   `0xfb` double as little-endian 8 bytes, `0xf6` + length-prefixed
//!   bytes, `0xfc … 0xfd` maps, `0xfe … 0xff` lists, `0xf5` empty); the
//!   16-byte key is xxHash64 of that, then xxHash64 of it with `0xf3`
//!   appended, both little-endian. No attributes hash to sixteen zero
//!   bytes. (contrib's older `pdatautil.MapHash` wrote no lengths; the
//!   e2e test against the Go collector caught the difference.)
//! - A trace's key is its trace id in lowercase hex.
//! - A keyed message goes to partition `|int32(FNV-1a-32(key)) % n|`,
//!   Sarama's hash partitioner, which the Go exporter's default
//!   `sticky_key` partitioner with the `sarama_compat` hasher reproduces.

use ferrotel_core::pdata::common::{AnyValue, KeyValue, any_value::Value};

/// The partition a keyed message goes to among `partitions`.
pub(crate) fn sarama_partition(key: &[u8], partitions: i32) -> i32 {
    let hash = key.iter().fold(0x811c_9dc5_u32, |h, b| {
        (h ^ u32::from(*b)).wrapping_mul(0x0100_0193)
    });
    // Sarama converts to int32 first, then takes the remainder.
    let p = (hash as i32) % partitions;
    p.abs()
}

/// contrib's `MapHash` of a resource's attributes.
pub(crate) fn attributes_hash(attributes: &[KeyValue]) -> [u8; 16] {
    if attributes.is_empty() {
        return [0; 16];
    }
    let mut buf = Vec::with_capacity(256);
    write_map(attributes, &mut buf);
    let first = xxhash_rust::xxh64::xxh64(&buf, 0);
    buf.push(0xf3);
    let second = xxhash_rust::xxh64::xxh64(&buf, 0);
    let mut out = [0; 16];
    out[..8].copy_from_slice(&first.to_le_bytes());
    out[8..].copy_from_slice(&second.to_le_bytes());
    out
}

fn write_map(attributes: &[KeyValue], buf: &mut Vec<u8>) {
    // Go sorts the entries by key (a repeated key is written once per
    // entry, each with its own value).
    let mut sorted: Vec<&KeyValue> = attributes.iter().collect();
    sorted.sort_by(|a, b| a.key.as_bytes().cmp(b.key.as_bytes()));
    for kv in sorted {
        buf.push(0xf4);
        length_prefixed(kv.key.as_bytes(), buf);
        write_value(kv.value.as_ref(), buf);
    }
}

fn length_prefixed(bytes: &[u8], buf: &mut Vec<u8>) {
    let mut n = bytes.len() as u64;
    while n >= 0x80 {
        buf.push((n as u8) | 0x80);
        n >>= 7;
    }
    buf.push(n as u8);
    buf.extend_from_slice(bytes);
}

fn write_value(value: Option<&AnyValue>, buf: &mut Vec<u8>) {
    match value.and_then(|v| v.value.as_ref()) {
        Some(Value::StringValue(s)) => {
            buf.push(0xf7);
            length_prefixed(s.as_bytes(), buf);
        }
        Some(Value::BoolValue(true)) => buf.push(0xf8),
        Some(Value::BoolValue(false)) => buf.push(0xf9),
        Some(Value::IntValue(i)) => {
            buf.push(0xfa);
            buf.extend_from_slice(&(*i as u64).to_le_bytes());
        }
        Some(Value::DoubleValue(d)) => {
            buf.push(0xfb);
            buf.extend_from_slice(&d.to_bits().to_le_bytes());
        }
        Some(Value::KvlistValue(m)) => {
            buf.push(0xfc);
            write_map(&m.values, buf);
            buf.push(0xfd);
        }
        Some(Value::ArrayValue(a)) => {
            buf.push(0xfe);
            for v in &a.values {
                write_value(Some(v), buf);
            }
            buf.push(0xff);
        }
        Some(Value::BytesValue(b)) => {
            buf.push(0xf6);
            length_prefixed(b, buf);
        }
        // Dictionary indexes belong to profiles, which carry no resources
        // to partition by; treated as empty.
        Some(Value::StringValueStrindex(_)) | None => buf.push(0xf5),
    }
}

/// A trace id as the Go exporter keys it: lowercase hex, or empty for the
/// all-zero (or malformed) id.
pub(crate) fn trace_id_key(id: &[u8]) -> Vec<u8> {
    if id.len() != 16 || id.iter().all(|b| *b == 0) {
        return Vec::new();
    }
    const HEX: &[u8; 16] = b"0123456789abcdef";
    id.iter()
        .flat_map(|b| [HEX[(b >> 4) as usize], HEX[(b & 15) as usize]])
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kv(key: &str, value: Value) -> KeyValue {
        KeyValue {
            key: key.into(),
            value: Some(AnyValue { value: Some(value) }),
            ..KeyValue::default()
        }
    }

    #[test]
    fn sarama_partitions_of_known_keys() {
        // FNV-1a-32 of "" is 0x811c9dc5, negative as int32: -2128831035.
        assert_eq!(sarama_partition(b"", 3), 2128831035 % 3);
        // "a" hashes to 0xe40c292c (negative as int32).
        let a = 0xe40c_292c_u32 as i32;
        assert_eq!(sarama_partition(b"a", 10), (a % 10).abs());
        for n in 1..20 {
            assert!((0..n).contains(&sarama_partition(b"trace-id", n)));
        }
    }

    #[test]
    fn attribute_hashes_ignore_order_and_see_types() {
        let a = [
            kv("service.name", Value::StringValue("api".into())),
            kv("n", Value::IntValue(1)),
        ];
        let b = [a[1].clone(), a[0].clone()];
        assert_eq!(attributes_hash(&a), attributes_hash(&b));
        let as_string = [
            kv("service.name", Value::StringValue("api".into())),
            kv("n", Value::StringValue("1".into())),
        ];
        assert_ne!(attributes_hash(&a), attributes_hash(&as_string));
        assert_eq!(attributes_hash(&[]), [0; 16]);
        // The byte stream for {"k": "v"} is f4 01 'k' f7 01 'v'.
        let one = attributes_hash(&[kv("k", Value::StringValue("v".into()))]);
        let stream = [0xf4, 1, b'k', 0xf7, 1, b'v'];
        assert_eq!(
            one[..8],
            xxhash_rust::xxh64::xxh64(&stream, 0).to_le_bytes()
        );
    }

    #[test]
    fn lengths_are_uvarints() {
        let mut buf = Vec::new();
        length_prefixed(&[7; 300], &mut buf);
        assert_eq!(&buf[..2], &[0xac, 0x02]);
        assert_eq!(buf.len(), 302);
    }

    #[test]
    fn trace_ids_are_lowercase_hex() {
        let id: Vec<u8> = (1..=16).collect();
        assert_eq!(
            trace_id_key(&id),
            b"0102030405060708090a0b0c0d0e0f10".to_vec()
        );
        assert!(trace_id_key(&[0; 16]).is_empty());
    }
}
