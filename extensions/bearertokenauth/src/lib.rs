//! The `bearertokenauth` extension, as contrib's `bearertokenauthextension`
//! (v0.165): one or more static tokens (`token`, `tokens`) or a file of
//! them (`filename`, one token per line, the first word of each), sent by
//! clients as `<scheme> <token>` in `header` (default `Authorization:
//! Bearer ...`) and checked by servers against every token. A token file
//! is read again whenever it changes, so tokens rotate without a restart.
//! Tokens never reach logs or `print-config` (the `token` keys are
//! redacted there).

use ferrotel_core::async_trait;
use ferrotel_core::auth::{ClientAuthenticator, ServerAuthenticator};
use ferrotel_core::component::{
    Component, ComponentConfig, ComponentError, CreateSettings, Extension, ExtensionFactory, Host,
    Metadata,
};
use ferrotel_core::config::{GoDuration, Invalid};
use ferrotel_core::consumer::ClientInfo;
use http::{HeaderMap, HeaderName, HeaderValue};
use serde::Deserialize;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, SystemTime};
use tokio::task::JoinHandle;

/// How often a token file is looked at for changes.
const FILE_CHECK_INTERVAL: Duration = Duration::from_millis(500);

/// A secret setting (Go's `configopaque.String`).
pub use ferrotel_core::config::Opaque as Secret;

/// `retry_on_failure` of a token file that is not there yet.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct FileRetry {
    /// Keep trying to read the file at start.
    pub enabled: bool,
    /// First wait.
    pub initial_interval: Option<GoDuration>,
    /// Longest wait.
    pub max_interval: Option<GoDuration>,
    /// Give up after this long.
    pub max_elapsed_time: Option<GoDuration>,
}

/// `bearertokenauth` settings.
#[derive(Debug, Clone, Deserialize)]
#[serde(default)]
pub struct Config {
    /// The header carrying the token. Default `Authorization`.
    pub header: String,
    /// Put before the token. Default `Bearer`; empty sends the bare token.
    pub scheme: String,
    /// One token.
    pub token: Secret,
    /// Several tokens: servers take any, clients send the first.
    pub tokens: Vec<Secret>,
    /// A file of tokens, one per line, read again when it changes.
    pub filename: String,
    /// Retry reading `filename` at start.
    pub retry_on_failure: FileRetry,
    /// Fail the start when `filename` cannot be read in time.
    pub wait_for_token_file: bool,
}

impl Default for Config {
    fn default() -> Config {
        Config {
            header: "Authorization".into(),
            scheme: "Bearer".into(),
            token: Secret::default(),
            tokens: Vec::new(),
            filename: String::new(),
            retry_on_failure: FileRetry::default(),
            wait_for_token_file: false,
        }
    }
}

impl ComponentConfig for Config {
    /// Go's checks, in its order and words.
    fn validate(&self) -> Result<(), Invalid> {
        if self.token.0.is_empty() && self.tokens.is_empty() && self.filename.is_empty() {
            return Err("no bearer token provided".into());
        }
        if !self.token.0.is_empty() && !self.tokens.is_empty() {
            return Err("either tokens or token should be provided, not both".into());
        }
        if (self.retry_on_failure.enabled || self.wait_for_token_file) && self.filename.is_empty() {
            return Err("requires filename to be set".into());
        }
        if self.wait_for_token_file && !self.retry_on_failure.enabled {
            return Err("wait_for_token_file requires retry_on_failure to be enabled".into());
        }
        HeaderName::from_bytes(self.header.as_bytes())
            .map_err(|_| Invalid::at("header", format!("invalid header name {:?}", self.header)))?;
        Ok(())
    }
}

struct BearerTokenFactory;

/// The factory for the `bearertokenauth` extension.
pub fn factory() -> impl ExtensionFactory {
    BearerTokenFactory
}

impl ExtensionFactory for BearerTokenFactory {
    type Config = Config;

    fn metadata(&self) -> Metadata {
        ferrotel_core::metadata!()
    }

    fn create(
        &self,
        _set: CreateSettings,
        config: Config,
    ) -> Result<Arc<dyn Extension>, ComponentError> {
        let header = HeaderName::from_bytes(config.header.as_bytes())?;
        let auth = BearerTokenAuth {
            header,
            values: Arc::new(RwLock::new(Vec::new())),
            watcher: Mutex::new(None),
            config,
        };
        if !auth.config.tokens.is_empty() {
            let tokens: Vec<String> = auth.config.tokens.iter().map(|t| t.0.clone()).collect();
            auth.set_tokens(&tokens);
        } else if auth.config.filename.is_empty() {
            auth.set_tokens(std::slice::from_ref(&auth.config.token.0));
        } else if !auth.config.token.0.is_empty() {
            tracing::warn!("a filename is specified. Configured token(s) is ignored!");
        }
        Ok(Arc::new(auth))
    }
}

struct BearerTokenAuth {
    config: Config,
    header: HeaderName,
    /// `<scheme> <token>` for every token, as sent and as checked.
    values: Arc<RwLock<Vec<String>>>,
    /// The task following the token file.
    watcher: Mutex<Option<JoinHandle<()>>>,
}

/// The header values for `tokens`, each prefixed by `scheme` unless empty.
fn authorization_values(scheme: &str, tokens: &[String]) -> Vec<String> {
    tokens
        .iter()
        .map(|t| {
            if scheme.is_empty() {
                t.clone()
            } else {
                format!("{scheme} {t}")
            }
        })
        .collect()
}

/// The tokens of a token file: the first word of each line.
fn file_tokens(text: &str) -> Vec<String> {
    text.lines()
        .filter_map(|l| l.split_whitespace().next())
        .map(str::to_string)
        .collect()
}

/// Compares without stopping at the first difference, so the time taken
/// does not tell how much of a guess was right.
fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

impl BearerTokenAuth {
    fn set_tokens(&self, tokens: &[String]) {
        let values = authorization_values(&self.config.scheme, tokens);
        *self.values.write().unwrap_or_else(|p| p.into_inner()) = values;
    }
}

/// What identifies a version of the token file.
fn stamp(path: &std::path::Path) -> Option<(SystemTime, u64)> {
    let meta = std::fs::metadata(path).ok()?;
    Some((meta.modified().ok()?, meta.len()))
}

#[async_trait]
impl Component for BearerTokenAuth {
    async fn start(&self, _host: &Host) -> Result<(), ComponentError> {
        if self.config.filename.is_empty() {
            return Ok(());
        }
        let path = PathBuf::from(&self.config.filename);
        let scheme = self.config.scheme.clone();
        let values = self.values.clone();
        let load = move |path: &std::path::Path| -> Result<(), std::io::Error> {
            let text = std::fs::read_to_string(path)?;
            *values.write().unwrap_or_else(|p| p.into_inner()) =
                authorization_values(&scheme, &file_tokens(&text));
            Ok(())
        };
        match load(&path) {
            Ok(()) => {}
            Err(e) if self.config.wait_for_token_file => {
                return Err(format!("failed to read token file {}: {e}", path.display()).into());
            }
            Err(e) => {
                tracing::error!(file = %path.display(), error = %e, "failed to read the token file")
            }
        }
        let task = tokio::spawn(async move {
            let mut last = stamp(&path);
            loop {
                tokio::time::sleep(FILE_CHECK_INTERVAL).await;
                let now = stamp(&path);
                if now.is_none() || now == last {
                    continue;
                }
                last = now;
                match load(&path) {
                    Ok(()) => tracing::info!(filename = %path.display(), "refresh token"),
                    Err(e) => {
                        tracing::error!(file = %path.display(), error = %e, "failed to read the token file")
                    }
                }
            }
        });
        *self.watcher.lock().unwrap_or_else(|p| p.into_inner()) = Some(task);
        Ok(())
    }

    async fn shutdown(&self) -> Result<(), ComponentError> {
        if let Some(task) = self
            .watcher
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .take()
        {
            task.abort();
        }
        Ok(())
    }
}

#[async_trait]
impl ServerAuthenticator for BearerTokenAuth {
    async fn authenticate(&self, headers: &HeaderMap) -> Result<(), String> {
        let given = headers
            .get(&self.header)
            .map(HeaderValue::as_bytes)
            .filter(|v| !v.is_empty())
            .ok_or_else(|| {
                format!(
                    "missing or empty authorization header: {}",
                    self.config.header
                )
            })?;
        let values = self.values.read().unwrap_or_else(|p| p.into_inner());
        if values.iter().any(|v| constant_time_eq(v.as_bytes(), given)) {
            Ok(())
        } else {
            Err("provided authorization does not match expected scheme or token".into())
        }
    }
}

#[async_trait]
impl ClientAuthenticator for BearerTokenAuth {
    async fn apply(&self, _client: &ClientInfo, headers: &mut HeaderMap) -> Result<(), String> {
        let values = self.values.read().unwrap_or_else(|p| p.into_inner());
        let first = values.first().ok_or("no bearer token available")?;
        let value = HeaderValue::from_str(first).map_err(|e| format!("invalid token: {e}"))?;
        headers.insert(self.header.clone(), value);
        Ok(())
    }
}

impl Extension for BearerTokenAuth {
    fn server_authenticator(&self) -> Option<&dyn ServerAuthenticator> {
        Some(self)
    }

    fn client_authenticator(&self) -> Option<&dyn ClientAuthenticator> {
        Some(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ferrotel_core::config::decode_component;

    fn auth(yaml: &str) -> BearerTokenAuth {
        let config: Config = decode_component(&serde_yaml_ng_value(yaml)).unwrap();
        config.validate().unwrap();
        let auth = BearerTokenAuth {
            header: HeaderName::from_bytes(config.header.as_bytes()).unwrap(),
            values: Arc::new(RwLock::new(Vec::new())),
            watcher: Mutex::new(None),
            config,
        };
        let tokens: Vec<String> = if auth.config.tokens.is_empty() {
            vec![auth.config.token.0.clone()]
        } else {
            auth.config.tokens.iter().map(|t| t.0.clone()).collect()
        };
        auth.set_tokens(&tokens);
        auth
    }

    fn serde_yaml_ng_value(yaml: &str) -> serde_yaml_ng::Value {
        serde_yaml_ng::from_str(yaml).unwrap()
    }

    fn headers(pairs: &[(&str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.insert(
                HeaderName::from_bytes(k.as_bytes()).unwrap(),
                v.parse().unwrap(),
            );
        }
        h
    }

    #[tokio::test]
    async fn servers_take_any_configured_token_and_refuse_others_in_go_s_words() {
        let a = auth("{tokens: [one, two]}");
        assert!(
            a.authenticate(&headers(&[("authorization", "Bearer two")]))
                .await
                .is_ok()
        );
        assert_eq!(
            a.authenticate(&headers(&[("authorization", "Bearer three")]))
                .await,
            Err("provided authorization does not match expected scheme or token".into())
        );
        assert_eq!(
            a.authenticate(&headers(&[])).await,
            Err("missing or empty authorization header: Authorization".into())
        );
        let custom = auth("{token: t, header: X-Api-Key, scheme: ''}");
        assert!(
            custom
                .authenticate(&headers(&[("x-api-key", "t")]))
                .await
                .is_ok()
        );
        let mut sent = HeaderMap::new();
        custom
            .apply(&ClientInfo::default(), &mut sent)
            .await
            .unwrap();
        assert_eq!(sent["x-api-key"], "t");
    }

    #[test]
    fn settings_are_checked_as_go_checks_them_and_tokens_stay_out_of_debug_output() {
        let refuse = |yaml: &str| {
            let config: Config = decode_component(&serde_yaml_ng_value(yaml)).unwrap();
            config.validate().unwrap_err().to_string()
        };
        assert_eq!(refuse("{}"), "no bearer token provided");
        assert_eq!(
            refuse("{token: a, tokens: [b]}"),
            "either tokens or token should be provided, not both"
        );
        assert_eq!(
            refuse("{token: a, wait_for_token_file: true}"),
            "requires filename to be set"
        );
        let config: Config = decode_component(&serde_yaml_ng_value("{token: s3cret}")).unwrap();
        assert!(!format!("{config:?}").contains("s3cret"));
        assert_eq!(file_tokens("a b\n\n  c\n"), ["a", "c"]);
    }
}
