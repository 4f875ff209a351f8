//! The `oidc` extension, as contrib's `oidcauthextension` (v0.165): a
//! server authenticator that takes `Authorization: Bearer <JWT>` and
//! checks the token against an OpenID Connect issuer. At start it reads
//! each issuer's discovery document (`<issuer_url>/.well-known/
//! openid-configuration`) and the key set at its `jwks_uri`; a token must
//! be signed by one of those keys (RSA, ECDSA or Ed25519 algorithms, as
//! Go's go-oidc takes), be issued by `issuer_url` for `audience` (unless
//! `ignore_audience`), and not be expired. A token whose key id is unknown
//! makes the key set be read again once, so keys the issuer rotates are
//! picked up. `username_claim` and `groups_claim` must be present when
//! set. Several issuers go under `providers`, chosen by the token's `iss`.

use bytes::Bytes;
use ferrotel_core::async_trait;
use ferrotel_core::auth::ServerAuthenticator;
use ferrotel_core::component::{
    Component, ComponentConfig, ComponentError, CreateSettings, Extension, ExtensionFactory, Host,
    Metadata,
};
use ferrotel_core::config::Invalid;
use ferrotel_core::tls::{ClientConnector, TlsClientSettings};
use http::HeaderMap;
use http_body_util::{BodyExt, Empty};
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use jsonwebtoken::jwk::JwkSet;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde::Deserialize;
use std::collections::HashMap;
use std::sync::{Arc, RwLock};
use std::time::Duration;

/// How long a request to the issuer may take, as Go's client allows.
const ISSUER_TIMEOUT: Duration = Duration::from_secs(5);

/// The algorithms Go's extension accepts.
const ALGORITHMS: [Algorithm; 10] = [
    Algorithm::RS256,
    Algorithm::RS384,
    Algorithm::RS512,
    Algorithm::PS256,
    Algorithm::PS384,
    Algorithm::PS512,
    Algorithm::ES256,
    Algorithm::ES384,
    Algorithm::EdDSA,
    Algorithm::HS256,
];

/// One issuer.
#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(default)]
pub struct ProviderConfig {
    /// The issuer, as in the tokens' `iss`.
    pub issuer_url: String,
    /// The `aud` tokens must carry.
    pub audience: String,
    /// Take tokens for any audience.
    pub ignore_audience: bool,
    /// Do not check `iss` (one provider only).
    pub ignore_issuer: bool,
    /// A CA bundle for the issuer's TLS certificate.
    pub issuer_ca_path: String,
    /// The claim naming the user; tokens without it are refused.
    pub username_claim: String,
    /// The claim listing the groups; tokens without it are refused.
    pub groups_claim: String,
    /// A JWKS file to use instead of the issuer's key set.
    pub public_keys_file: String,
}

/// `oidc` settings: one provider at the top level, more under
/// `providers`.
#[derive(Debug, Clone, Deserialize)]
#[serde(default)]
pub struct Config {
    /// The header carrying the token. Default `authorization`.
    pub attribute: String,
    /// The first provider's settings.
    #[serde(flatten)]
    pub provider: ProviderConfig,
    /// More providers.
    pub providers: Vec<ProviderConfig>,
}

impl Default for Config {
    fn default() -> Config {
        Config {
            attribute: "authorization".into(),
            provider: ProviderConfig::default(),
            providers: Vec::new(),
        }
    }
}

impl Config {
    /// Every provider, the top-level one first when set, as Go lists them.
    fn providers(&self) -> Vec<&ProviderConfig> {
        let top = (self.provider != ProviderConfig::default()).then_some(&self.provider);
        top.into_iter().chain(&self.providers).collect()
    }
}

impl ComponentConfig for Config {
    /// Go's checks and words.
    fn validate(&self) -> Result<(), Invalid> {
        let providers = self.providers();
        let mut seen = Vec::new();
        for p in &providers {
            if providers.len() > 1 && p.ignore_issuer {
                return Err(
                    "ignore_issuer cannot be true when multiple providers are configured".into(),
                );
            }
            if seen.contains(&&p.issuer_url) {
                return Err(format!("duplicate issuer URL found: {}", p.issuer_url).into());
            }
            seen.push(&p.issuer_url);
            if p.audience.is_empty() && !p.ignore_audience {
                return Err("no Audience provided for the OIDC configuration".into());
            }
            if p.issuer_url.is_empty() {
                return Err("no IssuerURL provided for the OIDC configuration".into());
            }
        }
        Ok(())
    }
}

struct OidcFactory;

/// The factory for the `oidc` extension.
pub fn factory() -> impl ExtensionFactory {
    OidcFactory
}

impl ExtensionFactory for OidcFactory {
    type Config = Config;

    fn metadata(&self) -> Metadata {
        ferrotel_core::metadata!()
    }

    fn create(
        &self,
        _set: CreateSettings,
        config: Config,
    ) -> Result<Arc<dyn Extension>, ComponentError> {
        let attribute = if config.attribute.is_empty() {
            "authorization".to_string()
        } else {
            config.attribute.clone()
        };
        Ok(Arc::new(Oidc {
            attribute,
            config,
            issuers: RwLock::new(HashMap::new()),
        }))
    }
}

/// What is known of one issuer.
struct Issuer {
    settings: ProviderConfig,
    jwks_uri: String,
    client: Option<Client<ClientConnector, Empty<Bytes>>>,
    keys: RwLock<JwkSet>,
}

struct Oidc {
    config: Config,
    attribute: String,
    /// By issuer URL, filled at start.
    issuers: RwLock<HashMap<String, Arc<Issuer>>>,
}

async fn get_json<T: serde::de::DeserializeOwned>(
    client: &Client<ClientConnector, Empty<Bytes>>,
    url: &str,
) -> Result<T, String> {
    let request = http::Request::get(url)
        .body(Empty::new())
        .map_err(|e| e.to_string())?;
    let exchange = async {
        let response = client.request(request).await.map_err(|e| e.to_string())?;
        let status = response.status();
        let body = response
            .into_body()
            .collect()
            .await
            .map_err(|e| e.to_string())?
            .to_bytes();
        if !status.is_success() {
            return Err(format!("{status}: {}", String::from_utf8_lossy(&body)));
        }
        serde_json::from_slice(&body)
            .map_err(|e| format!("failed to decode provider response: {e}"))
    };
    tokio::time::timeout(ISSUER_TIMEOUT, exchange)
        .await
        .map_err(|_| "timed out".to_string())?
}

#[derive(Deserialize)]
struct Discovery {
    issuer: String,
    jwks_uri: String,
}

impl Issuer {
    /// Reads the issuer's discovery document and key set, or the key
    /// file.
    async fn load(settings: &ProviderConfig) -> Result<Issuer, String> {
        if !settings.public_keys_file.is_empty() {
            let text = std::fs::read_to_string(&settings.public_keys_file).map_err(|e| {
                format!(
                    "failed to load JWKS file {:?}: could not read file: {e}",
                    settings.public_keys_file
                )
            })?;
            let keys: JwkSet = serde_json::from_str(&text).map_err(|e| {
                format!(
                    "failed to load JWKS file {:?}: failed to parse JWKS: {e}",
                    settings.public_keys_file
                )
            })?;
            return Ok(Issuer {
                settings: settings.clone(),
                jwks_uri: String::new(),
                client: None,
                keys: RwLock::new(keys),
            });
        }
        let tls = TlsClientSettings {
            ca_file: settings.issuer_ca_path.clone(),
            ..TlsClientSettings::default()
        };
        let connector = tls.connector(false, settings.issuer_url.starts_with("https://"))?;
        let client = Client::builder(TokioExecutor::new()).build(connector);
        let failed = |e: String| {
            format!(
                "failed to create OIDC provider for {:?}: {e}",
                settings.issuer_url
            )
        };
        let well_known = format!(
            "{}/.well-known/openid-configuration",
            settings.issuer_url.trim_end_matches('/')
        );
        let discovery: Discovery = get_json(&client, &well_known).await.map_err(failed)?;
        if discovery.issuer != settings.issuer_url && !settings.ignore_issuer {
            return Err(failed(format!(
                "oidc: issuer did not match the issuer returned by provider, expected {:?} got {:?}",
                settings.issuer_url, discovery.issuer
            )));
        }
        let keys: JwkSet = get_json(&client, &discovery.jwks_uri)
            .await
            .map_err(failed)?;
        Ok(Issuer {
            settings: settings.clone(),
            jwks_uri: discovery.jwks_uri,
            client: Some(client),
            keys: RwLock::new(keys),
        })
    }

    /// The key for a token's `kid`, reading the key set again once when
    /// it is not there (the issuer may have rotated its keys).
    async fn key(&self, kid: Option<&str>) -> Result<DecodingKey, String> {
        let find = |keys: &JwkSet| -> Option<DecodingKey> {
            let jwk = match kid {
                Some(kid) => keys.find(kid),
                None => keys.keys.first(),
            }?;
            DecodingKey::from_jwk(jwk).ok()
        };
        if let Some(key) = find(&self.keys.read().unwrap_or_else(|p| p.into_inner())) {
            return Ok(key);
        }
        if let Some(client) = &self.client {
            let fresh: JwkSet = get_json(client, &self.jwks_uri).await?;
            let found = find(&fresh);
            *self.keys.write().unwrap_or_else(|p| p.into_inner()) = fresh;
            if let Some(key) = found {
                return Ok(key);
            }
        }
        Err("failed to verify signature: failed to verify id token signature".into())
    }

    /// Checks a token and its claims.
    async fn verify(&self, token: &str) -> Result<(), String> {
        let header = jsonwebtoken::decode_header(token)
            .map_err(|e| format!("failed to verify token: oidc: malformed jwt: {e}"))?;
        if !ALGORITHMS[..9].contains(&header.alg) {
            return Err(format!(
                "failed to verify token: oidc: id token signed with unsupported algorithm, expected {:?} got {:?}",
                "RS256", header.alg
            ));
        }
        let key = self
            .key(header.kid.as_deref())
            .await
            .map_err(|e| format!("failed to verify token: {e}"))?;
        let mut validation = Validation::new(header.alg);
        validation.leeway = 0;
        if self.settings.ignore_audience {
            validation.validate_aud = false;
        } else {
            validation.set_audience(&[&self.settings.audience]);
        }
        if !self.settings.ignore_issuer {
            validation.set_issuer(&[&self.settings.issuer_url]);
        }
        validation.set_required_spec_claims(&["exp"]);
        let data = jsonwebtoken::decode::<serde_json::Map<String, serde_json::Value>>(
            token,
            &key,
            &validation,
        )
        .map_err(|e| {
            format!(
                "failed to verify token: {}",
                verify_error(&e, token, &self.settings)
            )
        })?;
        let claims = data.claims;
        if !self.settings.username_claim.is_empty() {
            match claims.get(&self.settings.username_claim) {
                None => {
                    return Err("failed to get subject from claims in the token: username claim from the OIDC configuration not found on the token returned by the OIDC provider".into());
                }
                Some(serde_json::Value::String(_)) => {}
                Some(_) => {
                    return Err("failed to get subject from claims in the token: the username returned by the OIDC provider isn't a regular string".into());
                }
            }
        }
        if !self.settings.groups_claim.is_empty()
            && !claims.contains_key(&self.settings.groups_claim)
        {
            return Err("failed to get groups from claims in the token: groups claim from the OIDC configuration not found on the token returned by the OIDC provider".into());
        }
        Ok(())
    }
}

/// go-oidc's words for why a token was refused.
fn verify_error(e: &jsonwebtoken::errors::Error, token: &str, settings: &ProviderConfig) -> String {
    use jsonwebtoken::errors::ErrorKind;
    match e.kind() {
        ErrorKind::ExpiredSignature => format!(
            "oidc: token is expired (Token Expiry: {})",
            ferrotel_core::pdata::go::time_string(expiry_of(token).saturating_mul(1_000_000_000))
        ),
        ErrorKind::InvalidAudience => format!(
            "oidc: expected audience {:?} got {}",
            settings.audience,
            audience_of(token)
        ),
        ErrorKind::InvalidIssuer => format!(
            "oidc: id token issued by a different provider, expected {:?}",
            settings.issuer_url
        ),
        ErrorKind::InvalidSignature => {
            "failed to verify signature: failed to verify id token signature".into()
        }
        ErrorKind::MissingRequiredClaim(claim) => format!("oidc: token has no {claim:?} claim"),
        _ => format!("oidc: malformed jwt: {e}"),
    }
}

/// Reads a token's claims without checking anything, for what is needed
/// before (the issuer) or after (the audience in an error) verifying it.
fn unverified() -> Validation {
    let mut validation = Validation::new(Algorithm::HS256);
    validation.insecure_disable_signature_validation();
    validation.validate_exp = false;
    validation.validate_aud = false;
    validation.required_spec_claims.clear();
    validation.algorithms = ALGORITHMS.to_vec();
    validation
}

/// A verified token's `aud`, as go-oidc prints it (`%q` of a string
/// list: `["a" "b"]`).
fn audience_of(token: &str) -> String {
    let audiences: Vec<String> = match unverified_claim(token, "aud") {
        Some(serde_json::Value::String(one)) => vec![format!("{one:?}")],
        Some(serde_json::Value::Array(many)) => many
            .iter()
            .filter_map(|a| a.as_str().map(|a| format!("{a:?}")))
            .collect(),
        _ => Vec::new(),
    };
    format!("[{}]", audiences.join(" "))
}

/// A token's `exp` in whole seconds, as go-oidc reads it (a fraction is
/// dropped) for its expiry error.
fn expiry_of(token: &str) -> u64 {
    unverified_claim(token, "exp")
        .and_then(|exp| exp.as_f64())
        .map_or(0, |exp| exp.max(0.0) as u64)
}

/// One claim of a token, read without checking the token.
fn unverified_claim(token: &str, name: &str) -> Option<serde_json::Value> {
    let mut claims = jsonwebtoken::decode::<serde_json::Map<String, serde_json::Value>>(
        token,
        &DecodingKey::from_secret(&[]),
        &unverified(),
    )
    .ok()?
    .claims;
    claims.remove(name)
}

/// The `iss` of a token, read before it is verified to pick the issuer.
fn unverified_issuer(token: &str) -> Result<String, String> {
    use jsonwebtoken::errors::ErrorKind;
    // go-jose's own words for what it refuses before decoding anything.
    if token.split('.').count() != 3 {
        return Err(
            "oidc: malformed jws: go-jose/go-jose: compact JWS format must have three parts".into(),
        );
    }
    #[derive(Deserialize)]
    struct Iss {
        #[serde(default)]
        iss: String,
    }
    match jsonwebtoken::decode::<Iss>(token, &DecodingKey::from_secret(&[]), &unverified()) {
        Ok(data) => Ok(data.claims.iss),
        Err(e) if matches!(e.kind(), ErrorKind::InvalidAlgorithm) => Ok(String::new()),
        Err(e) => Err(format!("oidc: malformed jws: {e}")),
    }
}

#[async_trait]
impl Component for Oidc {
    async fn start(&self, _host: &Host) -> Result<(), ComponentError> {
        let mut loaded = HashMap::new();
        let mut errors = Vec::new();
        for settings in self.config.providers() {
            match Issuer::load(settings).await {
                Ok(issuer) => {
                    loaded.insert(settings.issuer_url.clone(), Arc::new(issuer));
                }
                Err(e) => errors.push(e),
            }
        }
        if !errors.is_empty() {
            return Err(format!(
                "failed to get configuration from at least one configured auth server: {}",
                errors.join("; ")
            )
            .into());
        }
        *self.issuers.write().unwrap_or_else(|p| p.into_inner()) = loaded;
        Ok(())
    }
}

#[async_trait]
impl ServerAuthenticator for Oidc {
    async fn authenticate(&self, headers: &HeaderMap) -> Result<(), String> {
        let Some(value) = headers
            .get(self.attribute.as_str())
            .and_then(|v| v.to_str().ok())
            .filter(|v| !v.is_empty())
        else {
            tracing::warn!("Authentication failed: missing or empty header");
            return Err("authentication didn't succeed".into());
        };
        let parts: Vec<&str> = value.split(' ').collect();
        let [_, token] = parts.as_slice() else {
            return Err("invalid authorization header format".into());
        };
        let issuer_url =
            unverified_issuer(token).map_err(|e| format!("failed to parse the token: {e}"))?;
        let issuer = {
            let issuers = self.issuers.read().unwrap_or_else(|p| p.into_inner());
            issuers
                .get(&issuer_url)
                .cloned()
                .or_else(|| {
                    // One provider that ignores the issuer takes every token.
                    (issuers.len() == 1)
                        .then(|| issuers.values().next().cloned())
                        .flatten()
                        .filter(|i| i.settings.ignore_issuer)
                })
                .ok_or_else(|| {
                    format!(
                        "failed to resolve OIDC provider for the issuer {issuer_url:?}: no OIDC provider configured for the issuer {issuer_url:?}"
                    )
                })?
        };
        let result = issuer.verify(token).await;
        if let Err(e) = &result {
            tracing::warn!(issuer = %issuer_url, error = %e, "Authentication failed: token verification failed");
        }
        result
    }
}

impl Extension for Oidc {
    fn server_authenticator(&self) -> Option<&dyn ServerAuthenticator> {
        Some(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ferrotel_core::config::decode_component;

    fn refuse(yaml: &str) -> String {
        let value: serde_yaml_ng::Value = serde_yaml_ng::from_str(yaml).unwrap();
        let config: Config = decode_component(&value).unwrap();
        config.validate().unwrap_err().to_string()
    }

    #[test]
    fn settings_are_checked_as_go_checks_them() {
        assert_eq!(
            refuse("{issuer_url: 'http://i'}"),
            "no Audience provided for the OIDC configuration"
        );
        assert_eq!(
            refuse("{audience: a}"),
            "no IssuerURL provided for the OIDC configuration"
        );
        assert_eq!(
            refuse(
                "{issuer_url: 'http://i', audience: a, providers: [{issuer_url: 'http://i', audience: b}]}"
            ),
            "duplicate issuer URL found: http://i"
        );
        assert_eq!(
            refuse(
                "{providers: [{issuer_url: 'http://i', audience: a, ignore_issuer: true}, {issuer_url: 'http://j', audience: b}]}"
            ),
            "ignore_issuer cannot be true when multiple providers are configured"
        );
        assert!(unverified_issuer("not.a.jwt").is_err());
    }
}
