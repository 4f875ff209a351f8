//! The `basicauth` extension, as contrib's `basicauthextension` (v0.165):
//! with `htpasswd` (`file` and/or `inline`) it checks the `Authorization:
//! Basic ...` credentials of incoming requests; with `client_auth`
//! (`username`/`password`, or `username_file`/`password_file`) it sends
//! them. Password hashes are read as go-htpasswd reads them: bcrypt
//! (`$2a$`, `$2b$`, `$2y$`), Apache MD5 (`$apr1$`), `{SHA}` and plain
//! text. Passwords never reach logs or `print-config`.

mod htpasswd;

use base64::Engine;
use ferrotel_core::async_trait;
use ferrotel_core::auth::{ClientAuthenticator, ServerAuthenticator};
use ferrotel_core::component::{
    Component, ComponentConfig, ComponentError, CreateSettings, Extension, ExtensionFactory, Host,
    Metadata,
};
use ferrotel_core::config::Invalid;
use ferrotel_core::consumer::ClientInfo;
use http::{HeaderMap, HeaderValue};
use serde::Deserialize;
use std::sync::{Arc, RwLock};

/// A secret setting (Go's `configopaque.String`).
pub use ferrotel_core::config::Opaque as Secret;

/// `htpasswd`: where the server's users are.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct HtpasswdSettings {
    /// An htpasswd file.
    pub file: String,
    /// htpasswd lines, checked before the file's.
    pub inline: Secret,
}

/// `client_auth`: the credentials a client sends.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct ClientAuthSettings {
    /// The user.
    pub username: String,
    /// A file holding the user, read at start.
    pub username_file: String,
    /// The password.
    pub password: Secret,
    /// A file holding the password, read at start.
    pub password_file: String,
}

/// `basicauth` settings: one of the two sides.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct Config {
    /// Server side.
    pub htpasswd: Option<HtpasswdSettings>,
    /// Client side.
    pub client_auth: Option<ClientAuthSettings>,
}

impl ComponentConfig for Config {
    /// Go's checks and words.
    fn validate(&self) -> Result<(), Invalid> {
        match (&self.htpasswd, &self.client_auth) {
            (Some(_), Some(_)) => {
                Err("only one of `htpasswd` or `client_auth` can be specified".into())
            }
            (None, None) => Err("no credential source provided".into()),
            _ => Ok(()),
        }
    }
}

struct BasicAuthFactory;

/// The factory for the `basicauth` extension.
pub fn factory() -> impl ExtensionFactory {
    BasicAuthFactory
}

impl ExtensionFactory for BasicAuthFactory {
    type Config = Config;

    fn metadata(&self) -> Metadata {
        ferrotel_core::metadata!()
    }

    fn create(
        &self,
        _set: CreateSettings,
        config: Config,
    ) -> Result<Arc<dyn Extension>, ComponentError> {
        if let Some(h) = &config.htpasswd
            && h.file.is_empty()
            && h.inline.0.is_empty()
        {
            return Err("no credential source provided".into());
        }
        Ok(Arc::new(BasicAuth {
            config,
            users: RwLock::new(None),
            credentials: RwLock::new(None),
        }))
    }
}

struct BasicAuth {
    config: Config,
    /// The server's users, loaded at start.
    users: RwLock<Option<htpasswd::Users>>,
    /// The client's `Authorization` value, made at start.
    credentials: RwLock<Option<HeaderValue>>,
}

/// A setting given inline or in a file (trailing newline dropped).
fn inline_or_file(inline: &str, file: &str, what: &str) -> Result<String, ComponentError> {
    if file.is_empty() {
        return Ok(inline.to_string());
    }
    let text = std::fs::read_to_string(file)
        .map_err(|e| format!("failed to read {what} file {file}: {e}"))?;
    Ok(text.trim_end_matches(['\n', '\r']).to_string())
}

#[async_trait]
impl Component for BasicAuth {
    async fn start(&self, _host: &Host) -> Result<(), ComponentError> {
        if let Some(h) = &self.config.htpasswd {
            let mut text = h.inline.0.clone();
            if !h.file.is_empty() {
                let file = std::fs::read_to_string(&h.file)
                    .map_err(|e| format!("open htpasswd file: {e}"))?;
                text.push('\n');
                text.push_str(&file);
            }
            let users =
                htpasswd::Users::parse(&text).map_err(|e| format!("read htpasswd content: {e}"))?;
            *self.users.write().unwrap_or_else(|p| p.into_inner()) = Some(users);
        }
        if let Some(c) = &self.config.client_auth {
            let user = inline_or_file(&c.username, &c.username_file, "username")?;
            let password = inline_or_file(&c.password.0, &c.password_file, "password")?;
            if user.contains(':') {
                return Err("invalid authorization format".into());
            }
            let encoded =
                base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"));
            let value = HeaderValue::from_str(&format!("Basic {encoded}"))?;
            *self.credentials.write().unwrap_or_else(|p| p.into_inner()) = Some(value);
        }
        Ok(())
    }
}

/// The user and password of a `Basic` authorization value, with Go's
/// errors.
fn parse_basic(value: &[u8]) -> Result<(String, String), &'static str> {
    const PREFIX: &[u8] = b"Basic ";
    if value.len() < PREFIX.len() || !value[..PREFIX.len()].eq_ignore_ascii_case(PREFIX) {
        return Err("invalid authorization scheme prefix");
    }
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(&value[PREFIX.len()..])
        .map_err(|_| "invalid authorization format")?;
    let decoded = String::from_utf8(decoded).map_err(|_| "invalid authorization format")?;
    let (user, password) = decoded
        .split_once(':')
        .ok_or("invalid authorization format")?;
    Ok((user.to_string(), password.to_string()))
}

#[async_trait]
impl ServerAuthenticator for BasicAuth {
    async fn authenticate(&self, headers: &HeaderMap) -> Result<(), String> {
        let users = self.users.read().unwrap_or_else(|p| p.into_inner());
        let users = users.as_ref().ok_or("htpasswd not yet initialized")?;
        let value = headers
            .get(http::header::AUTHORIZATION)
            .map(HeaderValue::as_bytes)
            .filter(|v| !v.is_empty())
            .ok_or("no basic auth provided")?;
        let (user, password) = parse_basic(value)?;
        if users.verify(&user, &password) {
            Ok(())
        } else {
            Err("invalid credentials".into())
        }
    }
}

#[async_trait]
impl ClientAuthenticator for BasicAuth {
    async fn apply(&self, _client: &ClientInfo, headers: &mut HeaderMap) -> Result<(), String> {
        let credentials = self.credentials.read().unwrap_or_else(|p| p.into_inner());
        let value = credentials
            .clone()
            .ok_or("basic auth credentials are not loaded")?;
        headers.insert(http::header::AUTHORIZATION, value);
        Ok(())
    }
}

impl Extension for BasicAuth {
    fn server_authenticator(&self) -> Option<&dyn ServerAuthenticator> {
        self.config
            .htpasswd
            .is_some()
            .then_some(self as &dyn ServerAuthenticator)
    }

    fn client_authenticator(&self) -> Option<&dyn ClientAuthenticator> {
        self.config
            .client_auth
            .is_some()
            .then_some(self as &dyn ClientAuthenticator)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ferrotel_core::config::decode_component;

    async fn started(yaml: &str) -> BasicAuth {
        let value: serde_yaml_ng::Value = serde_yaml_ng::from_str(yaml).unwrap();
        let config: Config = decode_component(&value).unwrap();
        config.validate().unwrap();
        let auth = BasicAuth {
            config,
            users: RwLock::new(None),
            credentials: RwLock::new(None),
        };
        auth.start(&Host::default()).await.unwrap();
        auth
    }

    fn basic(credentials: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        let encoded = base64::engine::general_purpose::STANDARD.encode(credentials);
        h.insert(
            http::header::AUTHORIZATION,
            format!("Basic {encoded}").parse().unwrap(),
        );
        h
    }

    #[tokio::test]
    async fn htpasswd_users_are_checked_with_go_s_errors() {
        // The hashes of htpasswd.rs's test.
        let server = started(
            "htpasswd:\n  inline: |\n    alice:$2b$05$xaV.p.mN90iSuRvT7xePmeJRxAIGhdwlzgcPIW7At1dE.qN0p8Zvq\n    bob:$apr1$6dUtBoq$ebqYfMUgN01d8wQv2qJa3/\n    carol:plain\n",
        )
        .await;
        assert_eq!(server.authenticate(&basic("alice:secret")).await, Ok(()));
        assert_eq!(server.authenticate(&basic("bob:hunter2")).await, Ok(()));
        assert_eq!(server.authenticate(&basic("carol:plain")).await, Ok(()));
        assert_eq!(
            server.authenticate(&basic("carol:wrong")).await,
            Err("invalid credentials".into())
        );
        assert_eq!(
            server.authenticate(&HeaderMap::new()).await,
            Err("no basic auth provided".into())
        );
        let mut bearer = HeaderMap::new();
        bearer.insert(http::header::AUTHORIZATION, "Bearer x".parse().unwrap());
        assert_eq!(
            server.authenticate(&bearer).await,
            Err("invalid authorization scheme prefix".into())
        );
        let mut garbage = HeaderMap::new();
        garbage.insert(http::header::AUTHORIZATION, "Basic !!!".parse().unwrap());
        assert_eq!(
            server.authenticate(&garbage).await,
            Err("invalid authorization format".into())
        );
    }

    #[tokio::test]
    async fn clients_send_basic_credentials_and_sides_are_exclusive() {
        let client = started("client_auth: {username: u, password: p}").await;
        let mut headers = HeaderMap::new();
        client
            .apply(&ClientInfo::default(), &mut headers)
            .await
            .unwrap();
        assert_eq!(headers["authorization"], "Basic dTpw");
        assert!(client.server_authenticator().is_none());
        let both: serde_yaml_ng::Value =
            serde_yaml_ng::from_str("{htpasswd: {inline: 'a:b'}, client_auth: {username: u}}")
                .unwrap();
        let config: Config = decode_component(&both).unwrap();
        assert_eq!(
            config.validate().unwrap_err().to_string(),
            "only one of `htpasswd` or `client_auth` can be specified"
        );
        let config: Config = decode_component(&serde_yaml_ng::Value::Null).unwrap();
        assert_eq!(
            config.validate().unwrap_err().to_string(),
            "no credential source provided"
        );
        assert!(!format!("{:?}", client.config).contains("\"p\""));
    }
}
