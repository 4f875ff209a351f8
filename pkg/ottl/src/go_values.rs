//! Go's readings and checks of values that the OTTL converters reproduce:
//! `strconv.ParseInt`, `net.ParseCIDR`, `Time.Truncate`, the Luhn check,
//! base64 variants, and pkg/ottl's rules for `Sort` and `SliceToMap`.

use super::context::put;
use super::value::Value;
use ferrotel_core::pdata::common::{AnyValue, KeyValue, any_value};

/// The base64 variant OTTL names `variant` (Base64Encode) or `encoding`
/// (Decode).
pub(super) fn base64_engine(variant: &str) -> Option<base64::engine::GeneralPurpose> {
    use base64::engine::general_purpose as b64;
    Some(match variant {
        "base64" => b64::STANDARD,
        "base64-raw" => b64::STANDARD_NO_PAD,
        "base64-url" => b64::URL_SAFE,
        "base64-raw-url" => b64::URL_SAFE_NO_PAD,
        _ => return None,
    })
}

/// An IP as Go's `net.ParseIP` reads it, IPv4-mapped IPv6 as IPv4.
pub(super) fn parse_ip(s: &str) -> Option<std::net::IpAddr> {
    let ip: std::net::IpAddr = s.parse().ok()?;
    Some(match ip {
        std::net::IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, std::net::IpAddr::V4),
        v4 => v4,
    })
}

/// A network of Go's `net.ParseCIDR`.
pub(super) struct Cidr {
    network: std::net::IpAddr,
    prefix: u32,
}

impl Cidr {
    pub(super) fn parse(s: &str) -> Result<Cidr, String> {
        let bad = || format!("invalid CIDR address: {s}");
        let (address, prefix) = s.split_once('/').ok_or_else(bad)?;
        let network: std::net::IpAddr = address.parse().map_err(|_| bad())?;
        let max = if network.is_ipv4() { 32 } else { 128 };
        let prefix: u32 = prefix
            .parse()
            .ok()
            .filter(|p| *p <= max && !prefix.starts_with('+'))
            .ok_or_else(bad)?;
        Ok(Cidr { network, prefix })
    }

    pub(super) fn contains(&self, ip: std::net::IpAddr) -> bool {
        use std::net::IpAddr;
        let (net, ip, bits) = match (self.network, ip) {
            (IpAddr::V4(n), IpAddr::V4(i)) => {
                (u128::from(u32::from(n)), u128::from(u32::from(i)), 32)
            }
            (IpAddr::V6(n), IpAddr::V6(i)) => (u128::from(n), u128::from(i), 128),
            // Go's IPNet.Contains: an IPv4 never matches an IPv6 network,
            // nor the other way round (mapped addresses were made IPv4).
            _ => return false,
        };
        if self.prefix == 0 {
            return true;
        }
        let shift = bits - self.prefix;
        net >> shift == ip >> shift
    }
}

/// Go's `IsValidLuhn` check; a character that is not a digit is an error
/// as Go's `strconv.Atoi` reports it.
pub(super) fn luhn(digits: &str) -> Result<bool, String> {
    let digit = |c: char| {
        c.to_digit(10)
            .ok_or_else(|| format!("strconv.Atoi: parsing {:?}: invalid syntax", c.to_string()))
    };
    let mut chars = digits.chars().rev();
    let Some(check) = chars.next() else {
        return Ok(false);
    };
    let check = digit(check)?;
    let mut sum = 0;
    for (i, c) in chars.enumerate() {
        let mut n = digit(c)?;
        if i % 2 == 0 {
            n *= 2;
            if n > 9 {
                n -= 9;
            }
        }
        sum += n;
    }
    Ok((10 - sum % 10) % 10 == check)
}

/// `Sort`: by the elements' common type (ints; numbers as doubles when
/// mixed; strings, with bools and empties as their string forms), keeping
/// the elements themselves. A list holding maps, lists or bytes comes back
/// unsorted, as in Go.
pub(super) fn sort_list(items: &[AnyValue], descending: bool) -> Vec<AnyValue> {
    use any_value::Value as V;
    use std::cmp::Ordering;
    #[derive(PartialEq)]
    enum Common {
        Int,
        Double,
        Str,
    }
    let mut common = None;
    for item in items {
        let kind = match &item.value {
            Some(V::IntValue(_)) => Common::Int,
            Some(V::DoubleValue(_)) => Common::Double,
            Some(V::StringValue(_) | V::BoolValue(_)) | None => Common::Str,
            _ => return items.to_vec(),
        };
        common = Some(match (common, kind) {
            (None, k) => k,
            (Some(Common::Str), _) | (_, Common::Str) => Common::Str,
            (Some(a), b) if a == b => a,
            _ => Common::Double,
        });
    }
    /// What an element is compared by.
    enum Key {
        Int(i64),
        Double(f64),
        Str(String),
    }
    let key = |v: &AnyValue| match (&common, &v.value) {
        (Some(Common::Int), Some(V::IntValue(i))) => Key::Int(*i),
        (Some(Common::Double), Some(V::IntValue(i))) => Key::Double(*i as f64),
        (Some(Common::Double), Some(V::DoubleValue(d))) => Key::Double(*d),
        _ => {
            let mut out = String::new();
            ferrotel_core::pdata::go::as_string(v.value.as_ref(), &mut out);
            Key::Str(out)
        }
    };
    let mut keyed: Vec<(Key, AnyValue)> = items.iter().map(|v| (key(v), v.clone())).collect();
    keyed.sort_by(|(a, _), (b, _)| {
        let order = match (a, b) {
            (Key::Int(x), Key::Int(y)) => x.cmp(y),
            // Go's cmp.Compare puts NaN first.
            (Key::Double(x), Key::Double(y)) => match (x.is_nan(), y.is_nan()) {
                (true, true) => Ordering::Equal,
                (true, false) => Ordering::Less,
                (false, true) => Ordering::Greater,
                _ => x.partial_cmp(y).unwrap_or(Ordering::Equal),
            },
            (Key::Str(x), Key::Str(y)) => x.cmp(y),
            _ => Ordering::Equal,
        };
        if descending { order.reverse() } else { order }
    });
    keyed.into_iter().map(|(_, v)| v).collect()
}

/// `SliceToMap`: elements keyed by their index, or by the string at
/// `key_path` in each (map) element; the value is the element or what is
/// at `value_path`.
pub(super) fn slice_to_map(
    items: &[AnyValue],
    key_path: &Value<'_>,
    value_path: &Value<'_>,
) -> Result<Vec<KeyValue>, String> {
    use any_value::Value as V;
    let path = |p: &Value<'_>| -> Option<Vec<String>> {
        let Value::List(list) = p else {
            return None;
        };
        Some(
            list.iter()
                .filter_map(|v| match &v.value {
                    Some(V::StringValue(s)) => Some(s.clone()),
                    _ => None,
                })
                .collect(),
        )
    };
    let (key_path, value_path) = (path(key_path), path(value_path));
    fn extract<'v>(map: &'v [KeyValue], path: &[String]) -> Result<&'v AnyValue, String> {
        let missing = || {
            format!(
                "provided object does not contain the path {}",
                go_list(path)
            )
        };
        let (first, rest) = path
            .split_first()
            .ok_or("must provide at least one path item")?;
        let value = map
            .iter()
            .rev()
            .find(|kv| &kv.key == first)
            .and_then(|kv| kv.value.as_ref())
            .ok_or_else(missing)?;
        if rest.is_empty() {
            return Ok(value);
        }
        match &value.value {
            Some(V::KvlistValue(m)) => extract(&m.values, rest),
            _ => Err(missing()),
        }
    }
    let mut out: Vec<KeyValue> = Vec::with_capacity(items.len());
    for (i, item) in items.iter().enumerate() {
        let map = match (&item.value, key_path.is_some() || value_path.is_some()) {
            (Some(V::KvlistValue(m)), _) => Some(&m.values[..]),
            (_, false) => None,
            (other, true) => {
                return Err(format!(
                    "slice elements must be maps when using `key_path` or `value_path`, but could not cast element of type `{}` to a map",
                    pdata_type_name(other.as_ref())
                ));
            }
        };
        let key = match (&key_path, map) {
            (Some(p), Some(map)) => match &extract(map, p)
                .map_err(|e| format!("could not extract key from element {i}: {e}"))?
                .value
            {
                Some(V::StringValue(s)) => s.clone(),
                other => {
                    return Err(format!(
                        "element {i}: extracted key attribute is not of type string, got {:?}",
                        pdata_type_name(other.as_ref())
                    ));
                }
            },
            _ => i.to_string(),
        };
        let value = match (&value_path, map) {
            (Some(p), Some(map)) => extract(map, p)
                .map_err(|e| format!("could not extract value from element {i}: {e}"))?
                .clone(),
            _ => item.clone(),
        };
        put(&mut out, &key, Some(value));
    }
    Ok(out)
}

/// A list as Go's `%v` prints a `[]string`.
fn go_list(items: &[String]) -> String {
    format!("[{}]", items.join(" "))
}

/// pcommon's name of a value type.
fn pdata_type_name(v: Option<&any_value::Value>) -> &'static str {
    use any_value::Value as V;
    match v {
        None | Some(V::StringValueStrindex(_)) => "Empty",
        Some(V::StringValue(_)) => "Str",
        Some(V::BoolValue(_)) => "Bool",
        Some(V::IntValue(_)) => "Int",
        Some(V::DoubleValue(_)) => "Double",
        Some(V::ArrayValue(_)) => "Slice",
        Some(V::KvlistValue(_)) => "Map",
        Some(V::BytesValue(_)) => "Bytes",
    }
}

/// A random (version 4) UUID in its canonical form.
pub(super) fn uuid_v4() -> String {
    let mut bytes: [u8; 16] = fastrand::u128(..).to_be_bytes();
    bytes[6] = (bytes[6] & 0x0f) | 0x40;
    bytes[8] = (bytes[8] & 0x3f) | 0x80;
    let hex = ferrotel_core::hex::encode(&bytes);
    format!(
        "{}-{}-{}-{}-{}",
        &hex[..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..]
    )
}

/// A number as Go's `FloatLikeGetter` reads one; `None` for nil.
pub fn float_like(v: &Value<'_>) -> Result<Option<f64>, String> {
    Ok(Some(match v {
        Value::Nil => return Ok(None),
        Value::Float(f) => *f,
        Value::Int(i) => *i as f64,
        Value::Bool(b) => f64::from(u8::from(*b)),
        Value::Str(s) => s
            .parse()
            .map_err(|_| format!("strconv.ParseFloat: parsing {s:?}: invalid syntax"))?,
        other => return Err(format!("unsupported type: {}", other.type_name())),
    }))
}

/// A time operand, as Go's `TimeGetter` demands one.
pub(super) fn time_arg(v: Value<'_>) -> Result<i64, String> {
    match v {
        Value::Time(t) => Ok(t),
        other => Err(format!("expected time but got {}", other.type_name())),
    }
}

/// A duration operand, as Go's `DurationGetter` demands one.
pub(super) fn duration_arg(v: Value<'_>) -> Result<i64, String> {
    match v {
        Value::Duration(d) => Ok(d),
        other => Err(format!("expected duration but got {}", other.type_name())),
    }
}

/// Go's `Time.Truncate`: rounds down to a multiple of `d` counted from
/// Go's zero time (January 1, year 1), which differs from counting from
/// the Unix epoch for durations that do not divide a day.
pub(super) fn truncate_time(t: i64, d: i64) -> i64 {
    if d <= 0 {
        return t;
    }
    const EPOCH_SINCE_YEAR_ONE_NANOS: i128 = 62_135_596_800 * 1_000_000_000;
    let since_zero = i128::from(t) + EPOCH_SINCE_YEAR_ONE_NANOS;
    let truncated = t as i128 - since_zero.rem_euclid(i128::from(d));
    i64::try_from(truncated).unwrap_or(i64::MIN)
}

/// Go's `strconv.ParseInt(s, base, 64)`: base 0 reads a `0x`, `0o`, `0b`
/// or `0` prefix and allows underscores between digits.
pub(super) fn parse_int(s: &str, base: i64) -> Result<i64, String> {
    let syntax = || format!("strconv.ParseInt: parsing {s:?}: invalid syntax");
    if base == 1 || base > 36 {
        return Err(format!(
            "strconv.ParseInt: parsing {s:?}: invalid base {base}"
        ));
    }
    let (negative, unsigned) = match s.as_bytes().first() {
        Some(b'-') => (true, &s[1..]),
        Some(b'+') => (false, &s[1..]),
        _ => (false, s),
    };
    let (radix, digits) = if base == 0 {
        if !underscores_ok(unsigned) {
            return Err(syntax());
        }
        let cleaned = unsigned.replace('_', "");
        let lower = cleaned.to_ascii_lowercase();
        let (radix, prefix) = if lower.starts_with("0x") {
            (16, 2)
        } else if lower.starts_with("0o") {
            (8, 2)
        } else if lower.starts_with("0b") {
            (2, 2)
        } else if lower.len() > 1 && lower.starts_with('0') {
            (8, 1)
        } else {
            (10, 0)
        };
        (radix, cleaned[prefix..].to_string())
    } else {
        (base as u32, unsigned.to_string())
    };
    if digits.is_empty() || digits.starts_with(['+', '-']) {
        return Err(syntax());
    }
    let magnitude = u64::from_str_radix(&digits, radix).map_err(|e| match e.kind() {
        std::num::IntErrorKind::PosOverflow => {
            format!("strconv.ParseInt: parsing {s:?}: value out of range")
        }
        _ => syntax(),
    })?;
    let limit = if negative {
        1u64 << 63
    } else {
        (1u64 << 63) - 1
    };
    if magnitude > limit {
        return Err(format!(
            "strconv.ParseInt: parsing {s:?}: value out of range"
        ));
    }
    Ok(if negative {
        (magnitude as i64).wrapping_neg()
    } else {
        magnitude as i64
    })
}

/// Go's rule for `_` in base-0 literals: only between digits, or right
/// after a base prefix.
fn underscores_ok(s: &str) -> bool {
    let b = s.as_bytes();
    let (mut saw, mut i, mut hex) = (b'^', 0, false);
    if b.len() >= 2 && b[0] == b'0' && matches!(b[1] | 0x20, b'b' | b'o' | b'x') {
        (saw, i, hex) = (b'0', 2, b[1] | 0x20 == b'x');
    }
    for &c in &b[i..] {
        if c.is_ascii_digit() || (hex && c.is_ascii_hexdigit()) {
            saw = b'0';
        } else if c == b'_' {
            if saw != b'0' {
                return false;
            }
            saw = b'_';
        } else {
            if saw == b'_' {
                return false;
            }
            saw = b'!';
        }
    }
    saw != b'_'
}

/// MurmurHash3 x86_32 with seed 0 (twmb/murmur3's `Sum32`).
pub(super) fn murmur3_32(data: &[u8]) -> u32 {
    const C1: u32 = 0xcc9e_2d51;
    const C2: u32 = 0x1b87_3593;
    let mut h: u32 = 0;
    let mut blocks = data.chunks_exact(4);
    for block in &mut blocks {
        let mut k = u32::from_le_bytes([block[0], block[1], block[2], block[3]]);
        k = k.wrapping_mul(C1).rotate_left(15).wrapping_mul(C2);
        h ^= k;
        h = h.rotate_left(13).wrapping_mul(5).wrapping_add(0xe654_6b64);
    }
    let tail = blocks.remainder();
    let mut k: u32 = 0;
    for (i, b) in tail.iter().enumerate() {
        k |= u32::from(*b) << (8 * i);
    }
    if !tail.is_empty() {
        h ^= k.wrapping_mul(C1).rotate_left(15).wrapping_mul(C2);
    }
    h ^= data.len() as u32;
    h ^= h >> 16;
    h = h.wrapping_mul(0x85eb_ca6b);
    h ^= h >> 13;
    h = h.wrapping_mul(0xc2b2_ae35);
    h ^ (h >> 16)
}

/// MurmurHash3 x64_128 with seed 0 (twmb/murmur3's `Sum128`): (h1, h2).
pub(super) fn murmur3_128(data: &[u8]) -> (u64, u64) {
    const C1: u64 = 0x87c3_7b91_1142_53d5;
    const C2: u64 = 0x4cf5_ad43_2745_937f;
    fn fmix(mut k: u64) -> u64 {
        k ^= k >> 33;
        k = k.wrapping_mul(0xff51_afd7_ed55_8ccd);
        k ^= k >> 33;
        k = k.wrapping_mul(0xc4ce_b9fe_1a85_ec53);
        k ^ (k >> 33)
    }
    let (mut h1, mut h2) = (0u64, 0u64);
    let mut blocks = data.chunks_exact(16);
    for block in &mut blocks {
        let k1 = u64::from_le_bytes(block[..8].try_into().unwrap_or_default());
        let k2 = u64::from_le_bytes(block[8..].try_into().unwrap_or_default());
        h1 ^= k1.wrapping_mul(C1).rotate_left(31).wrapping_mul(C2);
        h1 = h1
            .rotate_left(27)
            .wrapping_add(h2)
            .wrapping_mul(5)
            .wrapping_add(0x52dc_e729);
        h2 ^= k2.wrapping_mul(C2).rotate_left(33).wrapping_mul(C1);
        h2 = h2
            .rotate_left(31)
            .wrapping_add(h1)
            .wrapping_mul(5)
            .wrapping_add(0x3849_5ab5);
    }
    let tail = blocks.remainder();
    let (mut k1, mut k2) = (0u64, 0u64);
    for (i, b) in tail.iter().enumerate() {
        if i < 8 {
            k1 |= u64::from(*b) << (8 * i);
        } else {
            k2 |= u64::from(*b) << (8 * (i - 8));
        }
    }
    if tail.len() > 8 {
        h2 ^= k2.wrapping_mul(C2).rotate_left(33).wrapping_mul(C1);
    }
    if !tail.is_empty() {
        h1 ^= k1.wrapping_mul(C1).rotate_left(31).wrapping_mul(C2);
    }
    let len = data.len() as u64;
    h1 ^= len;
    h2 ^= len;
    h1 = h1.wrapping_add(h2);
    h2 = h2.wrapping_add(h1);
    h1 = fmix(h1);
    h2 = fmix(h2);
    h1 = h1.wrapping_add(h2);
    h2 = h2.wrapping_add(h1);
    (h1, h2)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn murmur3_matches_twmb_murmur3() {
        // Go's twmb/murmur3 through pkg/ottl's encoding (little-endian
        // hex), from `go run`.
        let cases = [
            ("", "00000000", "00000000000000000000000000000000"),
            ("a", "b269253c", "897859f6655555855a890e51483ab5e6"),
            (
                "hello world",
                "0f8f925e",
                "0e617feb46603f53b163eb607d4697ab",
            ),
            (
                "The quick brown fox jumps over the lazy dog",
                "23f74f2e",
                "6c1b07bc7bbc4be347939ac4a93c437a",
            ),
            (
                "0123456789abcdef0123456789abcdefX",
                "9fe95f9d",
                "656b5b104abfcca208613a7d56e68b5d",
            ),
        ];
        for (input, m32, m128) in cases {
            assert_eq!(
                ferrotel_core::hex::encode(&murmur3_32(input.as_bytes()).to_le_bytes()),
                m32,
                "{input:?}"
            );
            let (h1, h2) = murmur3_128(input.as_bytes());
            let mut both = h1.to_le_bytes().to_vec();
            both.extend(h2.to_le_bytes());
            assert_eq!(ferrotel_core::hex::encode(&both), m128, "{input:?}");
        }
    }
}
