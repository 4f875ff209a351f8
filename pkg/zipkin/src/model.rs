//! The Zipkin v2 span model as zipkin-go (v0.4.3) holds it, with Go's
//! meaning of its zero values: a timestamp that was never set is not the
//! Unix epoch, an endpoint's addresses are `net.IP` bytes.

use std::collections::BTreeMap;
use std::net::{Ipv4Addr, Ipv6Addr};

/// One span (`model.SpanModel`).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Span {
    /// Trace id, high 64 bits.
    pub trace_id_high: u64,
    /// Trace id, low 64 bits.
    pub trace_id_low: u64,
    /// Span id.
    pub id: u64,
    /// Parent span id.
    pub parent_id: Option<u64>,
    /// Debug flag.
    pub debug: bool,
    /// Span name.
    pub name: String,
    /// `CLIENT`, `SERVER`, `PRODUCER`, `CONSUMER` or anything else.
    pub kind: String,
    /// Start, Unix nanoseconds; `None` is Go's zero `time.Time`.
    pub timestamp: Option<i64>,
    /// Duration in nanoseconds.
    pub duration: i64,
    /// Shared flag.
    pub shared: bool,
    /// The local endpoint.
    pub local_endpoint: Option<Endpoint>,
    /// The remote endpoint.
    pub remote_endpoint: Option<Endpoint>,
    /// Annotations.
    pub annotations: Vec<Annotation>,
    /// Tags (a Go map: no order).
    pub tags: BTreeMap<String, String>,
}

/// `model.Endpoint`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Endpoint {
    /// Service name.
    pub service_name: String,
    /// `net.IP` bytes (4 or 16), empty for nil.
    pub ipv4: Vec<u8>,
    /// `net.IP` bytes, empty for nil.
    pub ipv6: Vec<u8>,
    /// Port, 0 for none.
    pub port: u16,
}

impl Endpoint {
    /// `Endpoint.Empty()`.
    pub fn is_empty(&self) -> bool {
        self.service_name.is_empty()
            && self.port == 0
            && self.ipv4.is_empty()
            && self.ipv6.is_empty()
    }
}

/// `model.Annotation`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Annotation {
    /// Unix nanoseconds.
    pub timestamp: i64,
    /// Value.
    pub value: String,
}

/// `net.IP.String()`.
pub(crate) fn ip_string(ip: &[u8]) -> String {
    match ip.len() {
        0 => "<nil>".into(),
        4 => Ipv4Addr::new(ip[0], ip[1], ip[2], ip[3]).to_string(),
        16 => {
            let mut b = [0u8; 16];
            b.copy_from_slice(ip);
            let v6 = Ipv6Addr::from(b);
            match v6.to_ipv4_mapped() {
                Some(v4) => v4.to_string(),
                None => v6.to_string(),
            }
        }
        _ => format!("?{}", ferrotel_core::hex::encode(ip)),
    }
}

/// `net.ParseIP`: the 16-byte form, IPv4 addresses mapped.
pub(crate) fn parse_ip(s: &str) -> Option<Vec<u8>> {
    if let Ok(v4) = s.parse::<Ipv4Addr>() {
        return Some(v4.to_ipv6_mapped().octets().to_vec());
    }
    if s.contains('%') {
        return None;
    }
    s.parse::<Ipv6Addr>().ok().map(|v6| v6.octets().to_vec())
}

/// Go's `strconv.ParseUint(s, 16, 64)`: no sign, no prefix.
pub(crate) fn parse_hex_u64(s: &str) -> Result<u64, String> {
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(format!("strconv.ParseUint: parsing {s:?}: invalid syntax"));
    }
    u64::from_str_radix(s, 16)
        .map_err(|_| format!("strconv.ParseUint: parsing {s:?}: value out of range"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ip_text_as_go() {
        assert_eq!(ip_string(&parse_ip("10.0.0.1").unwrap()), "10.0.0.1");
        assert_eq!(ip_string(&parse_ip("::1").unwrap()), "::1");
        assert_eq!(
            ip_string(&parse_ip("2001:db8::68").unwrap()),
            "2001:db8::68"
        );
        assert_eq!(ip_string(&[1, 2, 3]), "?010203");
        assert!(parse_ip("1.2.3").is_none());
        assert!(parse_hex_u64("+1").is_err());
    }
}
