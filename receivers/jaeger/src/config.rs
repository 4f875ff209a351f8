//! `jaeger` receiver settings: Go's `protocols` (every one off unless
//! named, a named one with Go's default endpoint) and its checks, worded
//! as Go's.

use ferrotel_core::component::ComponentConfig;
use ferrotel_core::config::{ByteSize, GoDuration, Invalid, Validate};
use ferrotel_core::tls::TlsServerSettings;
use serde::{Deserialize, Deserializer};
use std::collections::BTreeMap;

/// `receivers::jaeger`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct Config {
    /// The transports to listen on.
    pub protocols: Protocols,
    /// Removed in Go (refused with its words): the extension took it over.
    pub remote_sampling: Option<serde_yaml_ng::Value>,
}

/// `protocols`: each off unless named; a key with no value (`grpc:`)
/// enables the protocol with its defaults.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct Protocols {
    /// `jaeger.api_v2.CollectorService` over gRPC.
    #[serde(deserialize_with = "ferrotel_core::config::present_means_enabled")]
    pub grpc: Option<GrpcConfig>,
    /// Thrift (binary protocol) bodies on `POST /api/traces`.
    #[serde(deserialize_with = "ferrotel_core::config::present_means_enabled")]
    pub thrift_http: Option<HttpConfig>,
    /// Agent datagrams in the Thrift binary protocol.
    #[serde(deserialize_with = "udp_binary")]
    pub thrift_binary: Option<UdpConfig>,
    /// Agent datagrams in the Thrift compact protocol.
    #[serde(deserialize_with = "udp_compact")]
    pub thrift_compact: Option<UdpConfig>,
}

/// `protocols::grpc` (`configgrpc.ServerConfig`).
#[derive(Debug, Clone, Deserialize)]
#[serde(default)]
pub struct GrpcConfig {
    /// `host:port`. Default `localhost:14250`.
    pub endpoint: String,
    /// Only `tcp`.
    pub transport: String,
    /// TLS; plain text when absent.
    pub tls: Option<TlsServerSettings>,
    /// Largest request in MiB. Default 4.
    pub max_recv_msg_size_mib: u64,
    /// Concurrent streams per connection; 0 for the default.
    pub max_concurrent_streams: u32,
    /// Pass request metadata downstream.
    pub include_metadata: bool,
    /// Accepted for compatibility.
    pub read_buffer_size: Option<ByteSize>,
    /// Accepted for compatibility.
    pub write_buffer_size: Option<ByteSize>,
    /// Accepted for compatibility.
    pub keepalive: Option<serde_yaml_ng::Value>,
    /// Not supported: refused at load.
    pub auth: Option<serde_yaml_ng::Value>,
}

impl Default for GrpcConfig {
    fn default() -> Self {
        GrpcConfig {
            endpoint: "localhost:14250".into(),
            transport: "tcp".into(),
            tls: None,
            max_recv_msg_size_mib: 4,
            max_concurrent_streams: 0,
            include_metadata: false,
            read_buffer_size: None,
            write_buffer_size: None,
            keepalive: None,
            auth: None,
        }
    }
}

/// `protocols::thrift_http` (`confighttp.ServerConfig`).
#[derive(Debug, Clone, Deserialize)]
#[serde(default)]
pub struct HttpConfig {
    /// `host:port`. Default `localhost:14268`.
    pub endpoint: String,
    /// TLS; plain text when absent.
    pub tls: Option<TlsServerSettings>,
    /// Largest body. Default 20 MiB.
    pub max_request_body_size: ByteSize,
    /// Pass request headers downstream.
    pub include_metadata: bool,
    /// Extra headers on every response.
    pub response_headers: BTreeMap<String, String>,
    /// Accepted; CORS headers are not sent.
    pub cors: Option<serde_yaml_ng::Value>,
    /// Accepted for compatibility.
    pub compression_algorithms: Option<Vec<String>>,
    /// Accepted for compatibility.
    pub read_timeout: Option<GoDuration>,
    /// Accepted for compatibility.
    pub read_header_timeout: Option<GoDuration>,
    /// Accepted for compatibility.
    pub write_timeout: Option<GoDuration>,
    /// Accepted for compatibility.
    pub idle_timeout: Option<GoDuration>,
    /// Accepted for compatibility.
    pub keepalive: Option<serde_yaml_ng::Value>,
    /// Not supported: refused at load.
    pub auth: Option<serde_yaml_ng::Value>,
}

impl Default for HttpConfig {
    fn default() -> Self {
        HttpConfig {
            endpoint: "localhost:14268".into(),
            tls: None,
            max_request_body_size: ByteSize(20 * 1024 * 1024),
            include_metadata: false,
            response_headers: BTreeMap::new(),
            cors: None,
            compression_algorithms: None,
            read_timeout: None,
            read_header_timeout: None,
            write_timeout: None,
            idle_timeout: None,
            keepalive: None,
            auth: None,
        }
    }
}

/// `protocols::thrift_binary` and `thrift_compact` (`ProtocolUDP`).
#[derive(Debug, Clone, Deserialize)]
#[serde(default)]
pub struct UdpConfig {
    /// `host:port`. Default `localhost:6832` (binary) or `localhost:6831`
    /// (compact), filled in when the section is read.
    pub endpoint: String,
    /// Datagrams waiting for a worker; more are dropped, as Go does. Default 1000.
    pub queue_size: usize,
    /// Largest datagram read. Default 65000.
    pub max_packet_size: ByteSize,
    /// Datagrams decoded at once. Default 10.
    pub workers: usize,
    /// The socket's receive buffer; 0 keeps the system's.
    pub socket_buffer_size: usize,
}

impl Default for UdpConfig {
    fn default() -> Self {
        UdpConfig {
            endpoint: String::new(),
            queue_size: 1000,
            max_packet_size: ByteSize(65_000),
            workers: 10,
            socket_buffer_size: 0,
        }
    }
}

fn udp_binary<'de, D: Deserializer<'de>>(d: D) -> Result<Option<UdpConfig>, D::Error> {
    udp_with_port(d, "localhost:6832")
}

fn udp_compact<'de, D: Deserializer<'de>>(d: D) -> Result<Option<UdpConfig>, D::Error> {
    udp_with_port(d, "localhost:6831")
}

/// The two UDP protocols share a type but not a default port. Go decodes
/// the section on its own (behind `configoptional`), so its errors are
/// nested and name the Go type, as here.
fn udp_with_port<'de, D: Deserializer<'de>>(
    d: D,
    default: &str,
) -> Result<Option<UdpConfig>, D::Error> {
    let mut c: UdpConfig = match Option::<serde_yaml_ng::Value>::deserialize(d)? {
        None | Some(serde_yaml_ng::Value::Null) => UdpConfig::default(),
        Some(section) => ferrotel_core::config::decode_tree(&section)
            .map_err(|e| serde::de::Error::custom(e.describe("jaegerreceiver.ProtocolUDP")))?,
    };
    if c.endpoint.is_empty() {
        c.endpoint = default.into();
    }
    Ok(Some(c))
}

/// Go's `net.SplitHostPort` and port check (`checkPortFromEndpoint`).
fn check_port(endpoint: &str) -> Result<(), String> {
    let port = split_port(endpoint)
        .map_err(|e| format!("endpoint is not formatted correctly: address {endpoint}: {e}"))?;
    let port: i64 = port.parse().map_err(|_| {
        format!("endpoint port is not a number: strconv.ParseInt: parsing {port:?}: invalid syntax")
    })?;
    if !(1..=65535).contains(&port) {
        return Err("port number must be between 1 and 65535".into());
    }
    Ok(())
}

/// The port of `host:port` or `[host]:port`, with Go's error words.
fn split_port(endpoint: &str) -> Result<&str, &'static str> {
    if let Some(rest) = endpoint.strip_prefix('[') {
        let (_, after) = rest.split_once(']').ok_or("missing ']' in address")?;
        return after.strip_prefix(':').ok_or("missing port in address");
    }
    let (host, port) = endpoint.rsplit_once(':').ok_or("missing port in address")?;
    if host.contains(':') {
        return Err("too many colons in address");
    }
    Ok(port)
}

impl ComponentConfig for Config {
    fn validate(&self) -> Result<(), Invalid> {
        let p = &self.protocols;
        if p.grpc.is_none()
            && p.thrift_http.is_none()
            && p.thrift_binary.is_none()
            && p.thrift_compact.is_none()
        {
            return Err("must specify at least one protocol when using the Jaeger receiver".into());
        }
        let endpoints = [
            ("gRPC", p.grpc.as_ref().map(|g| &g.endpoint)),
            ("Thrift HTTP", p.thrift_http.as_ref().map(|h| &h.endpoint)),
            (
                "Thrift UDP Binary",
                p.thrift_binary.as_ref().map(|u| &u.endpoint),
            ),
            (
                "Thrift UDP Compact",
                p.thrift_compact.as_ref().map(|u| &u.endpoint),
            ),
        ];
        for (name, endpoint) in endpoints {
            if let Some(e) = endpoint {
                check_port(e)
                    .map_err(|e| format!("invalid port number for the {name} endpoint: {e}"))?;
            }
        }
        if self.remote_sampling.is_some() {
            return Err("remote sampling config detected in the Jaeger receiver; use the `jaegerremotesampling` extension instead".into());
        }
        if let Some(g) = &p.grpc {
            if g.transport != "tcp" {
                return Err(Invalid::at(
                    "protocols::grpc::transport",
                    "only \"tcp\" is supported",
                ));
            }
            if g.auth.is_some() {
                return Err(Invalid::at(
                    "protocols::grpc::auth",
                    "auth is not supported by ferrotel's jaeger receiver yet",
                ));
            }
            if let Some(tls) = &g.tls {
                tls.validate_at("protocols::grpc::tls")?;
            }
        }
        if let Some(h) = &p.thrift_http {
            if h.auth.is_some() {
                return Err(Invalid::at(
                    "protocols::thrift_http::auth",
                    "auth is not supported by ferrotel's jaeger receiver yet",
                ));
            }
            if let Some(tls) = &h.tls {
                tls.validate_at("protocols::thrift_http::tls")?;
            }
        }
        Ok(())
    }
}
