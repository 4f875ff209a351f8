//! The `oauth2client` extension, as contrib's `oauth2clientauthextension`
//! (v0.165): the OAuth2 client credentials flow (RFC 6749 §4.4). The
//! extension asks `token_url` for an access token with `client_id` and
//! `client_secret` (inline or from `*_file`), `scopes` and
//! `endpoint_params`, keeps it until `expiry_buffer` (default 5m) before
//! it expires, and sends it as `Authorization: Bearer <token>` on every
//! exporter request. As Go's `oauth2` package does, the client's
//! credentials go in an HTTP Basic header first and in the form body if
//! the server refuses that. Tokens are fetched when a request needs one,
//! not at start, so a token server that is briefly down delays data
//! instead of failing the collector.

use base64::Engine;
use bytes::Bytes;
use ferrotel_core::async_trait;
use ferrotel_core::auth::ClientAuthenticator;
use ferrotel_core::component::{
    Component, ComponentConfig, ComponentError, CreateSettings, Extension, ExtensionFactory,
    Metadata,
};
use ferrotel_core::config::{GoDuration, Invalid};
use ferrotel_core::consumer::ClientInfo;
use ferrotel_core::tls::{ClientConnector, TlsClientSettings};
use http::{HeaderMap, HeaderValue};
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use serde::Deserialize;
use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};
use tokio::sync::Mutex;

/// A secret setting (Go's `configopaque.String`).
pub use ferrotel_core::config::Opaque as Secret;

/// One or several values of an `endpoint_params` key, as Go's
/// `url.Values` decodes them.
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub enum ParamValues {
    /// `key: value`.
    One(String),
    /// `key: [a, b]`.
    Many(Vec<String>),
}

/// `oauth2client` settings.
#[derive(Debug, Clone, Deserialize)]
#[serde(default)]
pub struct Config {
    /// The application's id.
    pub client_id: String,
    /// A file holding it, read when a token is fetched.
    pub client_id_file: String,
    /// The application's secret.
    pub client_secret: Secret,
    /// A file holding it, read when a token is fetched.
    pub client_secret_file: String,
    /// Extra form parameters of the token request.
    pub endpoint_params: BTreeMap<String, ParamValues>,
    /// The token endpoint.
    pub token_url: String,
    /// Scopes asked for, space-separated in the request.
    pub scopes: Vec<String>,
    /// TLS towards the token endpoint.
    pub tls: TlsClientSettings,
    /// Longest time for a token request; 0 leaves it unbounded.
    pub timeout: GoDuration,
    /// How long before expiry a token is fetched again. Default 5m.
    pub expiry_buffer: GoDuration,
    /// Only `client_credentials` (the default) is supported yet.
    pub grant_type: String,
}

impl Default for Config {
    fn default() -> Config {
        Config {
            client_id: String::new(),
            client_id_file: String::new(),
            client_secret: Secret::default(),
            client_secret_file: String::new(),
            endpoint_params: BTreeMap::new(),
            token_url: String::new(),
            scopes: Vec::new(),
            tls: TlsClientSettings::default(),
            timeout: GoDuration::secs(0),
            expiry_buffer: GoDuration::secs(300),
            grant_type: String::new(),
        }
    }
}

impl ComponentConfig for Config {
    /// Go's checks and words.
    fn validate(&self) -> Result<(), Invalid> {
        if self.client_id.is_empty() && self.client_id_file.is_empty() {
            return Err("no ClientID provided in the OAuth2 exporter configuration".into());
        }
        if self.client_secret.0.is_empty() && self.client_secret_file.is_empty() {
            return Err(
                "no ClientSecret provided in OAuth Client Credentials configuration".into(),
            );
        }
        if self.token_url.is_empty() {
            return Err("no TokenURL provided in OAuth Client Credentials configuration".into());
        }
        if !matches!(self.grant_type.as_str(), "" | "client_credentials") {
            return Err(Invalid::at(
                "grant_type",
                format!("{:?} is not supported by ferrotel yet", self.grant_type),
            ));
        }
        Ok(())
    }
}

struct OAuth2Factory;

/// The factory for the `oauth2client` extension.
pub fn factory() -> impl ExtensionFactory {
    OAuth2Factory
}

impl ExtensionFactory for OAuth2Factory {
    type Config = Config;

    fn metadata(&self) -> Metadata {
        ferrotel_core::metadata!()
    }

    fn create(
        &self,
        _set: CreateSettings,
        config: Config,
    ) -> Result<Arc<dyn Extension>, ComponentError> {
        let tls_used = config.token_url.starts_with("https://");
        let client =
            Client::builder(TokioExecutor::new()).build(config.tls.connector(false, tls_used)?);
        Ok(Arc::new(OAuth2Client {
            config,
            client,
            token: Mutex::new(None),
            credentials_in_body: AtomicBool::new(false),
        }))
    }
}

/// A token and when to stop using it.
struct Token {
    header: HeaderValue,
    refresh_at: Option<Instant>,
}

struct OAuth2Client {
    config: Config,
    client: Client<ClientConnector, Full<Bytes>>,
    /// The current token; the lock also keeps requests from asking for a
    /// new one at the same time.
    token: Mutex<Option<Token>>,
    /// Whether the server wants the client's credentials in the body
    /// rather than a Basic header (learnt on the first refusal).
    credentials_in_body: AtomicBool,
}

impl Component for OAuth2Client {}

/// Percent-encodes a form value (`application/x-www-form-urlencoded`).
fn form_encode(s: &str, out: &mut String) {
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                out.push(b as char)
            }
            b' ' => out.push('+'),
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
}

/// A setting given inline or in a file (surrounding space dropped).
fn inline_or_file(inline: &str, file: &str) -> Result<String, String> {
    if file.is_empty() {
        return Ok(inline.to_string());
    }
    std::fs::read_to_string(file)
        .map(|s| s.trim().to_string())
        .map_err(|e| format!("failed to read {file}: {e}"))
}

#[derive(Deserialize)]
struct TokenResponse {
    access_token: String,
    #[serde(default)]
    token_type: String,
    #[serde(default)]
    expires_in: Option<serde_json::Value>,
}

impl OAuth2Client {
    /// Asks the token endpoint for a token.
    async fn fetch(&self, in_body: bool) -> Result<(u16, Bytes), String> {
        let id = inline_or_file(&self.config.client_id, &self.config.client_id_file)?;
        let secret = inline_or_file(
            &self.config.client_secret.0,
            &self.config.client_secret_file,
        )?;
        let mut form = String::from("grant_type=client_credentials");
        let mut param = |key: &str, value: &str| {
            form.push('&');
            form_encode(key, &mut form);
            form.push('=');
            form_encode(value, &mut form);
        };
        if !self.config.scopes.is_empty() {
            param("scope", &self.config.scopes.join(" "));
        }
        for (key, values) in &self.config.endpoint_params {
            match values {
                ParamValues::One(v) => param(key, v),
                ParamValues::Many(vs) => vs.iter().for_each(|v| param(key, v)),
            }
        }
        if in_body {
            param("client_id", &id);
            param("client_secret", &secret);
        }
        let mut request = http::Request::post(&self.config.token_url).header(
            http::header::CONTENT_TYPE,
            "application/x-www-form-urlencoded",
        );
        if !in_body {
            // RFC 6749 §2.3.1: each part form-encoded before joining.
            let (mut user, mut password) = (String::new(), String::new());
            form_encode(&id, &mut user);
            form_encode(&secret, &mut password);
            let basic =
                base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"));
            request = request.header(http::header::AUTHORIZATION, format!("Basic {basic}"));
        }
        let request = request
            .body(Full::new(Bytes::from(form)))
            .map_err(|e| format!("oauth2: cannot fetch token: {e}"))?;
        let exchange = async {
            let response = self
                .client
                .request(request)
                .await
                .map_err(|e| format!("oauth2: cannot fetch token: {e}"))?;
            let status = response.status().as_u16();
            let body = response
                .into_body()
                .collect()
                .await
                .map_err(|e| format!("oauth2: cannot fetch token: {e}"))?
                .to_bytes();
            Ok((status, body))
        };
        match self.config.timeout.0 {
            d if d.is_zero() => exchange.await,
            d => tokio::time::timeout(d, exchange)
                .await
                .map_err(|_| "oauth2: cannot fetch token: timed out".to_string())?,
        }
    }

    /// A new token, trying the Basic header, then the body.
    async fn new_token(&self) -> Result<Token, String> {
        let in_body = self.credentials_in_body.load(Ordering::Relaxed);
        let (mut status, mut body) = self.fetch(in_body).await?;
        if !in_body && matches!(status, 400 | 401) {
            let (s, b) = self.fetch(true).await?;
            if (200..300).contains(&s) {
                self.credentials_in_body.store(true, Ordering::Relaxed);
            }
            (status, body) = (s, b);
        }
        if !(200..300).contains(&status) {
            return Err(format!(
                "oauth2: cannot fetch token: {status}\nResponse: {}",
                String::from_utf8_lossy(&body)
            ));
        }
        let parsed: TokenResponse =
            serde_json::from_slice(&body).map_err(|e| format!("oauth2: cannot parse json: {e}"))?;
        if parsed.access_token.is_empty() {
            return Err("oauth2: server response missing access_token".into());
        }
        let scheme =
            if parsed.token_type.is_empty() || parsed.token_type.eq_ignore_ascii_case("bearer") {
                "Bearer".to_string()
            } else {
                parsed.token_type.clone()
            };
        let header = HeaderValue::from_str(&format!("{scheme} {}", parsed.access_token))
            .map_err(|e| format!("oauth2: bad access_token: {e}"))?;
        let expires_in = match parsed.expires_in {
            Some(serde_json::Value::Number(n)) => n.as_u64(),
            Some(serde_json::Value::String(s)) => s.parse().ok(),
            _ => None,
        };
        let refresh_at = expires_in.filter(|s| *s > 0).map(|s| {
            let lifetime = Duration::from_secs(s).saturating_sub(self.config.expiry_buffer.0);
            Instant::now() + lifetime
        });
        Ok(Token { header, refresh_at })
    }
}

#[async_trait]
impl ClientAuthenticator for OAuth2Client {
    async fn apply(&self, _client: &ClientInfo, headers: &mut HeaderMap) -> Result<(), String> {
        let mut token = self.token.lock().await;
        let fresh = token
            .as_ref()
            .is_some_and(|t| t.refresh_at.is_none_or(|at| Instant::now() < at));
        if !fresh {
            *token = Some(self.new_token().await?);
        }
        if let Some(t) = token.as_ref() {
            headers.insert(http::header::AUTHORIZATION, t.header.clone());
        }
        Ok(())
    }
}

impl Extension for OAuth2Client {
    fn client_authenticator(&self) -> Option<&dyn ClientAuthenticator> {
        Some(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ferrotel_core::config::decode_component;

    #[test]
    fn settings_are_checked_as_go_checks_them_and_secrets_stay_out_of_debug_output() {
        let decode = |yaml: &str| -> Config {
            let value: serde_yaml_ng::Value = serde_yaml_ng::from_str(yaml).unwrap();
            decode_component(&value).unwrap()
        };
        let refuse = |yaml: &str| decode(yaml).validate().unwrap_err().to_string();
        assert_eq!(
            refuse("{}"),
            "no ClientID provided in the OAuth2 exporter configuration"
        );
        assert_eq!(
            refuse("{client_id: a}"),
            "no ClientSecret provided in OAuth Client Credentials configuration"
        );
        assert_eq!(
            refuse("{client_id: a, client_secret: b}"),
            "no TokenURL provided in OAuth Client Credentials configuration"
        );
        let config = decode(
            "{client_id: a, client_secret: hush, token_url: 'http://x/t', endpoint_params: {audience: api, resource: [r1, r2]}}",
        );
        config.validate().unwrap();
        assert_eq!(config.expiry_buffer, GoDuration::secs(300));
        assert!(!format!("{config:?}").contains("hush"));
        let mut out = String::new();
        form_encode("a b&c=d/é", &mut out);
        assert_eq!(out, "a+b%26c%3Dd%2F%C3%A9");
    }
}
