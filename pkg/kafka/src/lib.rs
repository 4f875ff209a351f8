//! Kafka client settings shared by the `kafka` receiver and exporter, as
//! the Go collector shares `pkg/kafka/configkafka` (contrib v0.165): the
//! connection keys (`brokers`, `client_id`, `protocol_version`,
//! `dial_timeout`), `auth.sasl` and `tls`, their validation, and the
//! librdkafka settings they become. Each component declares these keys in
//! its own config struct (so unknown keys are still reported) and hands
//! them over as a [`Client`].

use ferrotel_core::config::{Invalid, Validate};
use rdkafka::ClientConfig;
use serde::Deserialize;
use std::time::Duration;

/// `auth`.
#[derive(Debug, Clone, Deserialize, Default)]
#[serde(default)]
pub struct Auth {
    /// SASL.
    pub sasl: Option<Sasl>,
    /// Not supported yet.
    pub kerberos: Option<serde_yaml_ng::Value>,
    /// Deprecated in Go in favour of the top-level `tls`; same meaning.
    pub tls: Option<Tls>,
    /// Deprecated plain-text credentials; not supported.
    pub plain_text: Option<serde_yaml_ng::Value>,
}

/// `auth::sasl`.
#[derive(Debug, Clone, Deserialize, Default)]
#[serde(default)]
pub struct Sasl {
    /// User.
    pub username: String,
    /// Password.
    pub password: ferrotel_core::config::Opaque,
    /// `PLAIN`, `SCRAM-SHA-256` or `SCRAM-SHA-512`.
    pub mechanism: String,
    /// Accepted for compatibility.
    pub version: Option<i32>,
    /// Not supported.
    pub aws_msk: Option<serde_yaml_ng::Value>,
}

/// TLS to the brokers.
#[derive(Debug, Clone, Deserialize, Default)]
#[serde(default)]
pub struct Tls {
    /// CA bundle.
    pub ca_file: String,
    /// Client certificate.
    pub cert_file: String,
    /// Client key.
    pub key_file: String,
    /// No TLS at all when true.
    pub insecure: bool,
    /// Skip verifying the broker's certificate.
    pub insecure_skip_verify: bool,
}

/// The connection keys of a receiver's or exporter's config.
pub struct Client<'a> {
    /// `brokers`.
    pub brokers: &'a [String],
    /// `client_id`.
    pub client_id: &'a str,
    /// `protocol_version`: librdkafka negotiates versions, so it is only
    /// checked to be a version.
    pub protocol_version: &'a str,
    /// `dial_timeout`.
    pub dial_timeout: Duration,
    /// `auth`.
    pub auth: &'a Auth,
    /// The top-level `tls`.
    pub tls: Option<&'a Tls>,
}

impl Validate for Auth {
    fn validate(&self) -> Result<(), Invalid> {
        for (key, set) in [
            ("kerberos", self.kerberos.is_some()),
            ("plain_text", self.plain_text.is_some()),
        ] {
            if set {
                return Err(Invalid::at(key, "not supported by ferrotel yet"));
            }
        }
        match &self.sasl {
            Some(sasl) => sasl.validate_at("sasl"),
            None => Ok(()),
        }
    }
}

impl Validate for Sasl {
    fn validate(&self) -> Result<(), Invalid> {
        if self.aws_msk.is_some() {
            return Err(Invalid::at("aws_msk", "not supported by ferrotel yet"));
        }
        match self.mechanism.as_str() {
            "PLAIN" | "SCRAM-SHA-256" | "SCRAM-SHA-512" => {}
            "" => return Err(Invalid::at("mechanism", "must be specified")),
            other => {
                return Err(Invalid::at(
                    "mechanism",
                    format!("{other:?} is not supported (PLAIN, SCRAM-SHA-256, SCRAM-SHA-512 are)"),
                ));
            }
        }
        if self.username.is_empty() {
            return Err(Invalid::at("username", "is required"));
        }
        if self.password.0.is_empty() {
            return Err(Invalid::at("password", "is required"));
        }
        Ok(())
    }
}

impl Client<'_> {
    /// Checks what serde cannot, in the Go collector's words where it has
    /// them.
    pub fn validate(&self) -> Result<(), Invalid> {
        if self.brokers.is_empty() {
            return Err("brokers must be specified".into());
        }
        if !self.protocol_version.is_empty()
            && !self
                .protocol_version
                .split('.')
                .all(|p| !p.is_empty() && p.chars().all(|c| c.is_ascii_digit()))
        {
            return Err(format!("invalid protocol version: {:?}", self.protocol_version).into());
        }
        self.auth.validate_at("auth")
    }

    /// The librdkafka settings for the connection: servers, client id,
    /// security protocol, SASL and TLS.
    pub fn rdkafka_config(&self) -> ClientConfig {
        let mut c = ClientConfig::new();
        c.set("bootstrap.servers", self.brokers.join(","))
            .set("client.id", self.client_id)
            .set(
                "socket.connection.setup.timeout.ms",
                self.dial_timeout.as_millis().max(1000).to_string(),
            );
        let tls = self.tls.or(self.auth.tls.as_ref()).filter(|t| !t.insecure);
        let protocol = match (&self.auth.sasl, tls) {
            (Some(_), Some(_)) => "SASL_SSL",
            (Some(_), None) => "SASL_PLAINTEXT",
            (None, Some(_)) => "SSL",
            (None, None) => "PLAINTEXT",
        };
        c.set("security.protocol", protocol);
        if let Some(sasl) = &self.auth.sasl {
            c.set("sasl.mechanisms", &sasl.mechanism)
                .set("sasl.username", &sasl.username)
                .set("sasl.password", &sasl.password.0);
        }
        if let Some(t) = tls {
            for (key, path) in [
                ("ssl.ca.location", &t.ca_file),
                ("ssl.certificate.location", &t.cert_file),
                ("ssl.key.location", &t.key_file),
            ] {
                if !path.is_empty() {
                    c.set(key, path);
                }
            }
            if t.insecure_skip_verify {
                c.set("enable.ssl.certificate.verification", "false");
            }
        }
        c
    }

    /// Reads the TLS files before librdkafka does, so a missing or broken
    /// one fails the start in Go's words (`failed to load TLS config:
    /// failed to load TLS config: failed to load CA CertPool File: ...`,
    /// the prefix twice as Go's kafka client writes it) instead of
    /// OpenSSL's.
    pub fn load_tls(&self) -> Result<(), String> {
        let Some(t) = self.tls.or(self.auth.tls.as_ref()).filter(|t| !t.insecure) else {
            return Ok(());
        };
        let settings = ferrotel_core::tls::TlsClientSettings {
            ca_file: t.ca_file.clone(),
            cert_file: t.cert_file.clone(),
            key_file: t.key_file.clone(),
            insecure_skip_verify: t.insecure_skip_verify,
            ..Default::default()
        };
        settings
            .build(&[])
            .map(drop)
            .map_err(|e| format!("failed to load TLS config: {e}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn client<'a>(brokers: &'a [String], auth: &'a Auth, tls: Option<&'a Tls>) -> Client<'a> {
        Client {
            brokers,
            client_id: "otel-collector",
            protocol_version: "2.1.0",
            dial_timeout: Duration::from_secs(10),
            auth,
            tls,
        }
    }

    #[test]
    fn security_protocol_follows_sasl_and_tls() {
        let brokers = vec!["a:9092".to_string(), "b:9092".to_string()];
        let sasl = Auth {
            sasl: Some(Sasl {
                username: "u".into(),
                password: ferrotel_core::config::Opaque("p".into()),
                mechanism: "SCRAM-SHA-512".into(),
                ..Sasl::default()
            }),
            ..Auth::default()
        };
        let tls = Tls {
            ca_file: "/ca.pem".into(),
            ..Tls::default()
        };
        let plain = Auth::default();
        let c = client(&brokers, &sasl, Some(&tls)).rdkafka_config();
        assert_eq!(c.get("security.protocol"), Some("SASL_SSL"));
        assert_eq!(c.get("bootstrap.servers"), Some("a:9092,b:9092"));
        assert_eq!(c.get("sasl.mechanisms"), Some("SCRAM-SHA-512"));
        assert_eq!(c.get("ssl.ca.location"), Some("/ca.pem"));
        let c = client(&brokers, &plain, None).rdkafka_config();
        assert_eq!(c.get("security.protocol"), Some("PLAINTEXT"));
        let insecure = Tls {
            insecure: true,
            ..Tls::default()
        };
        let c = client(&brokers, &sasl, Some(&insecure)).rdkafka_config();
        assert_eq!(c.get("security.protocol"), Some("SASL_PLAINTEXT"));
    }

    #[test]
    fn validation_names_the_key() {
        let brokers = vec!["a:9092".to_string()];
        let no_brokers: Vec<String> = Vec::new();
        let plain = Auth::default();
        assert_eq!(
            client(&no_brokers, &plain, None).validate(),
            Err("brokers must be specified".into())
        );
        let mut c = client(&brokers, &plain, None);
        c.protocol_version = "2.x";
        assert_eq!(
            c.validate(),
            Err("invalid protocol version: \"2.x\"".into())
        );
        let oauth = Auth {
            sasl: Some(Sasl {
                mechanism: "OAUTHBEARER".into(),
                ..Sasl::default()
            }),
            ..Auth::default()
        };
        let err = client(&brokers, &oauth, None)
            .validate()
            .unwrap_err()
            .to_string();
        assert!(
            err.starts_with("auth::sasl::mechanism: \"OAUTHBEARER\""),
            "{err}"
        );
        let kerberos = Auth {
            kerberos: Some(serde_yaml_ng::Value::Null),
            ..Auth::default()
        };
        assert_eq!(
            client(&brokers, &kerberos, None).validate(),
            Err(Invalid::at(
                "auth::kerberos",
                "not supported by ferrotel yet"
            ))
        );
    }
}
