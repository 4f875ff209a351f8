//! Lowercase hex, as Go's `encoding/hex` writes it, and its reading in
//! either case: trace and span ids in OTLP/JSON, the debug exporter and
//! ClickHouse columns, digests in OTTL and the attributes processor.

const DIGITS: &[u8; 16] = b"0123456789abcdef";

/// Appends the hex of `bytes` to `out`, two bytes per byte.
pub fn encode_to(out: &mut Vec<u8>, bytes: &[u8]) {
    out.reserve(bytes.len() * 2);
    for b in bytes {
        out.push(DIGITS[usize::from(b >> 4)]);
        out.push(DIGITS[usize::from(b & 15)]);
    }
}

/// Appends the hex of `bytes` to `out`.
pub fn push_str(out: &mut String, bytes: &[u8]) {
    out.reserve(bytes.len() * 2);
    for b in bytes {
        out.push(char::from(DIGITS[usize::from(b >> 4)]));
        out.push(char::from(DIGITS[usize::from(b & 15)]));
    }
}

/// The hex of `bytes` (Go's `hex.EncodeToString`).
pub fn encode(bytes: &[u8]) -> String {
    let mut out = String::new();
    push_str(&mut out, bytes);
    out
}

/// The bytes `text` spells in hex of either case, or `None` when its
/// length is odd or a character is not a hex digit.
pub fn decode(text: &[u8]) -> Option<Vec<u8>> {
    if !text.len().is_multiple_of(2) {
        return None;
    }
    let digit = |c: u8| char::from(c).to_digit(16).map(|d| d as u8);
    text.chunks_exact(2)
        .map(|pair| Some(digit(pair[0])? << 4 | digit(pair[1])?))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_and_refuses_what_is_not_hex() {
        let bytes = [0x00, 0x0f, 0xa5, 0xff];
        assert_eq!(encode(&bytes), "000fa5ff");
        let mut out = b"id=".to_vec();
        encode_to(&mut out, &bytes);
        assert_eq!(out, b"id=000fa5ff");
        assert_eq!(decode(b"000FA5ff").as_deref(), Some(&bytes[..]));
        assert_eq!(decode(b"abc"), None, "odd length");
        assert_eq!(decode(b"zz"), None);
        assert_eq!(decode(b"").as_deref(), Some(&[][..]));
    }
}
