//! TLS settings as the Go collector's `configtls` spells them, turned into
//! rustls configs (ring provider) for servers and clients.
//!
//! Server keys: `cert_file`/`cert_pem`, `key_file`/`key_pem`,
//! `client_ca_file` (require client certificates), `min_version`,
//! `max_version`. Client keys: `insecure` (plain text), `ca_file`/`ca_pem`
//! (else the system roots), `cert_file`/`key_file` (client certificate),
//! `insecure_skip_verify`, `server_name_override`, `min_version`,
//! `max_version`. `reload_interval`, `cipher_suites`,
//! `curve_preferences` and TPM settings are refused rather than ignored.

use crate::config::{GoDuration, Invalid, Validate};
use rustls::crypto::CryptoProvider;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName, UnixTime};
use rustls::{ClientConfig, RootCertStore, ServerConfig, SupportedProtocolVersion};
use serde::Deserialize;
use std::sync::Arc;

/// `tls` of a server (receiver) endpoint.
#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(default)]
pub struct TlsServerSettings {
    /// PEM certificate chain file.
    pub cert_file: String,
    /// PEM certificate chain, inline.
    pub cert_pem: String,
    /// PEM private key file.
    pub key_file: String,
    /// PEM private key, inline.
    pub key_pem: String,
    /// CA bundle that client certificates must chain to; setting it
    /// requires client certificates (mutual TLS).
    pub client_ca_file: String,
    /// Accepted for compatibility with Go configs; unused by servers.
    pub ca_file: String,
    /// Lowest TLS version: `1.2` (default) or `1.3`.
    pub min_version: String,
    /// Highest TLS version: `1.3` (default) or `1.2`.
    pub max_version: String,
    /// Not supported.
    pub cipher_suites: Vec<String>,
    /// Not supported.
    pub reload_interval: Option<GoDuration>,
}

/// `tls` of a client (exporter) connection.
#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(default)]
pub struct TlsClientSettings {
    /// Plain text instead of TLS.
    pub insecure: bool,
    /// Do not verify the server certificate (testing only).
    pub insecure_skip_verify: bool,
    /// CA bundle for the server certificate; system roots otherwise.
    pub ca_file: String,
    /// CA bundle, inline.
    pub ca_pem: String,
    /// Client certificate file for mutual TLS.
    pub cert_file: String,
    /// Client certificate, inline.
    pub cert_pem: String,
    /// Client key file.
    pub key_file: String,
    /// Client key, inline.
    pub key_pem: String,
    /// Name to verify the server certificate against instead of the host.
    pub server_name_override: String,
    /// Lowest TLS version: `1.2` (default) or `1.3`.
    pub min_version: String,
    /// Highest TLS version: `1.3` (default) or `1.2`.
    pub max_version: String,
    /// Also trust the system roots besides `ca_file`.
    pub include_system_ca_certs_pool: bool,
    /// Not supported.
    pub cipher_suites: Vec<String>,
    /// Not supported.
    pub reload_interval: Option<GoDuration>,
}

fn provider() -> Arc<CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

fn versions(min: &str, max: &str) -> Result<Vec<&'static SupportedProtocolVersion>, String> {
    let rank = |v: &str, default: u8| match v {
        "" => Ok(default),
        "1.2" => Ok(2),
        "1.3" => Ok(3),
        "1.0" | "1.1" => Err(format!(
            "TLS version {v:?} is not supported (use 1.2 or 1.3)"
        )),
        other => Err(format!("invalid TLS version {other:?}")),
    };
    let (lo, hi) = (rank(min, 2)?, rank(max, 3)?);
    if lo > hi {
        return Err(format!(
            "invalid TLS configuration: min_version {min} is greater than max_version {max}"
        ));
    }
    Ok([(2, &rustls::version::TLS12), (3, &rustls::version::TLS13)]
        .into_iter()
        .filter(|(r, _)| (lo..=hi).contains(r))
        .map(|(_, v)| v)
        .collect())
}

/// `os.ReadFile`'s error in Go's words: `open /x: no such file or directory`.
fn read(path: &str) -> Result<Vec<u8>, String> {
    std::fs::read(path).map_err(|e| {
        // Rust writes `No such file or directory (os error 2)`; Go's errno
        // text is the same sentence, lower-case and without the number.
        let text = e.to_string();
        let text = text.split(" (os error").next().unwrap_or_default();
        let mut chars = text.chars();
        let text: String = match chars.next() {
            Some(first) => first.to_lowercase().chain(chars).collect(),
            None => String::new(),
        };
        format!("open {path}: {text}")
    })
}

/// The PEM text of a setting given as a file or inline.
fn pem_text(file: &str, pem: &str) -> Result<Vec<u8>, String> {
    if file.is_empty() {
        Ok(pem.as_bytes().to_vec())
    } else {
        read(file)
    }
}

/// A certificate chain and its key, failing as Go's `configtls` does
/// (`failed to load TLS cert and key: open /x: no such file or directory`).
fn key_pair(
    cert_file: &str,
    cert_pem: &str,
    key_file: &str,
    key_pem: &str,
) -> Result<(Vec<CertificateDer<'static>>, PrivateKeyDer<'static>), String> {
    let failed = |e: String| format!("failed to load TLS cert and key: {e}");
    let cert_text = pem_text(cert_file, cert_pem).map_err(failed)?;
    let key_text = pem_text(key_file, key_pem).map_err(failed)?;
    let unreadable = |what: &str| {
        failed(format!(
            "failed to load TLS cert and key PEMs: tls: failed to find any PEM data in {what} input"
        ))
    };
    let certs: Vec<_> = CertificateDer::pem_slice_iter(&cert_text)
        .collect::<Result<_, _>>()
        .map_err(|_| unreadable("certificate"))?;
    if certs.is_empty() {
        return Err(unreadable("certificate"));
    }
    let key = PrivateKeyDer::from_pem_slice(&key_text).map_err(|_| unreadable("key"))?;
    Ok((certs, key))
}

/// Adds every certificate of `text` to `store`; false when there is none.
fn add_certs(store: &mut RootCertStore, text: &[u8]) -> bool {
    let certs: Vec<_> = CertificateDer::pem_slice_iter(text)
        .filter_map(Result::ok)
        .collect();
    let (added, _) = store.add_parsable_certificates(certs);
    added > 0
}

/// The roots a client trusts: `ca_file` or `ca_pem`, with the system's
/// when asked or when neither is given, failing in Go's words
/// (`failed to load CA CertPool File: failed to load cert /x: open ...`).
fn roots(file: &str, pem: &str, system: bool) -> Result<RootCertStore, String> {
    let mut store = RootCertStore::empty();
    if system || (file.is_empty() && pem.is_empty()) {
        for cert in rustls_native_certs::load_native_certs().certs {
            let _ = store.add(cert);
        }
    }
    if !file.is_empty() && !pem.is_empty() {
        return Err(
            "failed to load CA CertPool: provide either a CA file or the PEM-encoded string, but not both"
                .into(),
        );
    }
    if !file.is_empty() {
        let text = read(file).map_err(|e| {
            format!("failed to load CA CertPool File: failed to load cert {file}: {e}")
        })?;
        if !add_certs(&mut store, &text) {
            return Err("failed to load CA CertPool File: failed to parse cert".into());
        }
    } else if !pem.is_empty() && !add_certs(&mut store, pem.as_bytes()) {
        return Err("failed to load CA CertPool PEM: failed to parse cert".into());
    }
    Ok(store)
}

/// The CA bundle a server checks client certificates against.
fn client_roots(file: &str) -> Result<RootCertStore, String> {
    let text = read(file).map_err(|e| format!("failed to load CA {file}: {e}"))?;
    let mut store = RootCertStore::empty();
    if !add_certs(&mut store, &text) {
        return Err(format!("failed to parse CA {file}"));
    }
    Ok(store)
}

impl Validate for TlsServerSettings {
    /// Checks what can be checked without reading files.
    fn validate(&self) -> Result<(), Invalid> {
        // configtls's checks, in its words; those of its embedded `Config`
        // are placed under `config`, as Go's validation names them.
        let embedded = |message: &str| Invalid::at("config", message);
        if !self.cert_file.is_empty() && !self.cert_pem.is_empty() {
            return Err(embedded(
                "provide either certificate file or PEM, but not both",
            ));
        }
        if !self.key_file.is_empty() && !self.key_pem.is_empty() {
            return Err(embedded("provide either key file or PEM, but not both"));
        }
        let cert = !self.cert_file.is_empty() || !self.cert_pem.is_empty();
        let key = !self.key_file.is_empty() || !self.key_pem.is_empty();
        if cert != key {
            return Err(embedded(
                "TLS configuration must include both certificate and key (CertFile/CertPem and KeyFile/KeyPem)",
            ));
        }
        if !cert {
            return Err(
                "TLS configuration must include both certificate and key for server connections"
                    .into(),
            );
        }
        if !self.cipher_suites.is_empty() || self.reload_interval.is_some() {
            return Err(
                "cipher_suites and reload_interval are not supported by ferrotel yet".into(),
            );
        }
        Ok(versions(&self.min_version, &self.max_version).map(drop)?)
    }
}

impl TlsServerSettings {
    /// [`Validate::validate`] placed as Go places the errors of a server's
    /// `tls`: on `section`, the message naming `field` (`tls` for gRPC,
    /// `serverconfig::tls` for HTTP) and then `config` for the checks of
    /// the embedded settings.
    pub fn validate_in(&self, section: &str, field: &str) -> Result<(), Invalid> {
        self.validate().map_err(|e| {
            let message = if e.path.is_empty() {
                format!("{field}: {}", e.message)
            } else {
                format!("{field}: {}: {}", e.path, e.message)
            };
            Invalid::at(section, message)
        })
    }

    /// A rustls server config offering `alpn` protocols.
    pub fn build(&self, alpn: &[&[u8]]) -> Result<Arc<ServerConfig>, String> {
        let builder = ServerConfig::builder_with_provider(provider())
            .with_protocol_versions(&versions(&self.min_version, &self.max_version)?)
            .map_err(|e| e.to_string())?;
        let (certs, key) = key_pair(
            &self.cert_file,
            &self.cert_pem,
            &self.key_file,
            &self.key_pem,
        )
        .map_err(|e| format!("failed to load TLS config: {e}"))?;
        let builder = if self.client_ca_file.is_empty() {
            builder.with_no_client_auth()
        } else {
            let roots = Arc::new(client_roots(&self.client_ca_file)?);
            let verifier =
                rustls::server::WebPkiClientVerifier::builder_with_provider(roots, provider())
                    .build()
                    .map_err(|e| format!("client_ca_file: {e}"))?;
            builder.with_client_cert_verifier(verifier)
        };
        let mut config = builder
            .with_single_cert(certs, key)
            .map_err(|e| format!("tls: certificate and key do not fit: {e}"))?;
        config.alpn_protocols = alpn.iter().map(|p| p.to_vec()).collect();
        Ok(Arc::new(config))
    }
}

impl Validate for TlsClientSettings {
    /// Checks what can be checked without reading files.
    fn validate(&self) -> Result<(), Invalid> {
        if !self.cipher_suites.is_empty() || self.reload_interval.is_some() {
            return Err(
                "cipher_suites and reload_interval are not supported by ferrotel yet".into(),
            );
        }
        let cert = !self.cert_file.is_empty() || !self.cert_pem.is_empty();
        let key = !self.key_file.is_empty() || !self.key_pem.is_empty();
        if cert != key {
            return Err("client certificate and key must be given together".into());
        }
        Ok(versions(&self.min_version, &self.max_version).map(drop)?)
    }
}

impl TlsClientSettings {
    /// A rustls client config offering `alpn` protocols.
    pub fn build(&self, alpn: &[&[u8]]) -> Result<ClientConfig, String> {
        let builder = ClientConfig::builder_with_provider(provider())
            .with_protocol_versions(&versions(&self.min_version, &self.max_version)?)
            .map_err(|e| e.to_string())?;
        let builder = if self.insecure_skip_verify {
            builder
                .dangerous()
                .with_custom_certificate_verifier(Arc::new(NoVerification(provider())))
        } else {
            let roots = roots(
                &self.ca_file,
                &self.ca_pem,
                self.include_system_ca_certs_pool,
            )
            .map_err(|e| format!("failed to load TLS config: {e}"))?;
            builder.with_root_certificates(roots)
        };
        let mut config = if self.cert_file.is_empty() && self.cert_pem.is_empty() {
            builder.with_no_client_auth()
        } else {
            let (certs, key) = key_pair(
                &self.cert_file,
                &self.cert_pem,
                &self.key_file,
                &self.key_pem,
            )
            .map_err(|e| format!("failed to load TLS config: {e}"))?;
            builder
                .with_client_auth_cert(certs, key)
                .map_err(|e| format!("tls: client certificate and key do not fit: {e}"))?
        };
        config.alpn_protocols = alpn.iter().map(|p| p.to_vec()).collect();
        Ok(config)
    }
}

/// An HTTP(S) connector for clients: TCP with `TCP_NODELAY`, TLS for
/// `https://` URIs.
pub type ClientConnector =
    hyper_rustls::HttpsConnector<hyper_util::client::legacy::connect::HttpConnector>;

impl TlsClientSettings {
    /// A connector for `http://` and `https://` URIs. `http2_only` offers
    /// only `h2` in ALPN (gRPC). When `tls_used` is false no roots are
    /// loaded, since no handshake will happen.
    pub fn connector(&self, http2_only: bool, tls_used: bool) -> Result<ClientConnector, String> {
        let mut http = hyper_util::client::legacy::connect::HttpConnector::new();
        http.set_nodelay(true);
        http.enforce_http(false);
        let config = if tls_used {
            self.build(&[])?
        } else {
            ClientConfig::builder_with_provider(provider())
                .with_protocol_versions(&versions("", "")?)
                .map_err(|e| e.to_string())?
                .with_root_certificates(RootCertStore::empty())
                .with_no_client_auth()
        };
        let builder = hyper_rustls::HttpsConnectorBuilder::new()
            .with_tls_config(config)
            .https_or_http();
        let builder = if self.server_name_override.is_empty() {
            builder
        } else {
            let name = ServerName::try_from(self.server_name_override.clone())
                .map_err(|e| format!("tls::server_name_override: {e}"))?;
            builder.with_server_name_resolver(hyper_rustls::FixedServerNameResolver::new(name))
        };
        Ok(if http2_only {
            builder.enable_http2().wrap_connector(http)
        } else {
            builder.enable_all_versions().wrap_connector(http)
        })
    }
}

/// `insecure_skip_verify`: accepts any server certificate, still checking
/// the handshake signatures.
#[derive(Debug)]
struct NoVerification(Arc<CryptoProvider>);

impl rustls::client::danger::ServerCertVerifier for NoVerification {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<rustls::client::danger::ServerCertVerified, rustls::Error> {
        Ok(rustls::client::danger::ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &rustls::DigitallySignedStruct,
    ) -> Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &rustls::DigitallySignedStruct,
    ) -> Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<rustls::SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_follow_go_names() {
        assert_eq!(versions("", "").unwrap().len(), 2);
        assert_eq!(versions("1.3", "").unwrap().len(), 1);
        assert!(versions("1.3", "1.2").is_err());
        assert!(versions("1.0", "").is_err());
    }

    #[test]
    fn missing_files_are_named_in_go_s_words() {
        let s = TlsServerSettings {
            cert_file: "/nonexistent/cert.pem".into(),
            key_file: "/nonexistent/key.pem".into(),
            ..Default::default()
        };
        assert!(s.validate().is_ok());
        let err = s.build(&[]).unwrap_err();
        assert_eq!(
            err,
            "failed to load TLS config: failed to load TLS cert and key: open /nonexistent/cert.pem: no such file or directory"
        );
        assert_eq!(
            TlsServerSettings::default().validate().unwrap_err().message,
            "TLS configuration must include both certificate and key for server connections"
        );
    }
}
