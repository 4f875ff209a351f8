//! The `headers_setter` extension, as contrib's `headerssetterextension`
//! (v0.165): a client authenticator that sets headers of each outgoing
//! request, from a static `value` or from the metadata of the client the
//! data came from (`from_context`, kept when the receiver has
//! `include_metadata: true`), falling back to `default_value`. `action` is
//! `insert` (only when absent), `update` (only when present), `upsert`
//! (the default) or `delete`. `from_attribute` reads the client's
//! authentication attributes, which ferrotel's authenticators do not set
//! yet, so it always gives `default_value`.

use ferrotel_core::async_trait;
use ferrotel_core::auth::ClientAuthenticator;
use ferrotel_core::component::{
    Component, ComponentConfig, ComponentError, CreateSettings, Extension, ExtensionFactory,
    Metadata,
};
use ferrotel_core::config::Invalid;
use ferrotel_core::consumer::ClientInfo;
use http::{HeaderMap, HeaderName, HeaderValue};
use serde::Deserialize;
use std::sync::Arc;

/// What to do with a header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// Set it when the request does not have it.
    Insert,
    /// Set it when the request has it.
    Update,
    /// Set it.
    Upsert,
    /// Remove it.
    Delete,
}

/// One entry of `headers`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct HeaderConfig {
    /// `insert`, `update`, `upsert` or `delete`; empty is `upsert`, with
    /// Go's warning.
    pub action: String,
    /// The header.
    pub key: Option<String>,
    /// A static value.
    pub value: Option<String>,
    /// The client metadata key to copy.
    pub from_context: Option<String>,
    /// The authentication attribute to copy.
    pub from_attribute: Option<String>,
    /// Used when the source has no value.
    pub default_value: Option<String>,
}

/// `headers_setter` settings.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct Config {
    /// The headers to set, in order.
    pub headers: Vec<HeaderConfig>,
}

impl ComponentConfig for Config {
    /// Go's checks and words.
    fn validate(&self) -> Result<(), Invalid> {
        if self.headers.is_empty() {
            return Err("missing headers configuration".into());
        }
        for header in &self.headers {
            if header.key.as_deref().is_none_or(str::is_empty) {
                return Err("missing header name".into());
            }
            if header.action == "delete" {
                continue;
            }
            let sources = [
                header.value.is_some(),
                header.from_context.is_some(),
                header.from_attribute.is_some(),
            ];
            match sources.iter().filter(|s| **s).count() {
                0 => {
                    return Err(
                        "missing header source, must be 'from_context', 'from_attribute' or 'value'"
                            .into(),
                    );
                }
                1 => {}
                _ => {
                    return Err(
                        "invalid header source, must either 'from_context', 'from_attribute' or 'value'"
                            .into(),
                    );
                }
            }
        }
        Ok(())
    }
}

/// Where a header's value comes from.
#[derive(Debug)]
enum Source {
    Static(String),
    Context { key: String, default: String },
    Attribute { default: String },
    None,
}

#[derive(Debug)]
struct Header {
    name: HeaderName,
    action: Action,
    source: Source,
}

struct HeadersSetterFactory;

/// The factory for the `headers_setter` extension.
pub fn factory() -> impl ExtensionFactory {
    HeadersSetterFactory
}

impl ExtensionFactory for HeadersSetterFactory {
    type Config = Config;

    fn metadata(&self) -> Metadata {
        ferrotel_core::metadata!()
    }

    fn create(
        &self,
        _set: CreateSettings,
        config: Config,
    ) -> Result<Arc<dyn Extension>, ComponentError> {
        let mut headers = Vec::with_capacity(config.headers.len());
        for h in config.headers {
            let key = h.key.unwrap_or_default();
            let name = HeaderName::from_bytes(key.as_bytes())
                .map_err(|_| format!("invalid header name {key:?}"))?;
            let action = match h.action.as_str() {
                "insert" => Action::Insert,
                "update" => Action::Update,
                "upsert" => Action::Upsert,
                "delete" => Action::Delete,
                _ => {
                    tracing::warn!(
                        "The action was not provided, using 'upsert'. In future versions, we'll require this to be explicitly set"
                    );
                    Action::Upsert
                }
            };
            let default = h.default_value.unwrap_or_default();
            let source = match (h.value, h.from_attribute, h.from_context) {
                (Some(v), _, _) => Source::Static(v),
                (None, Some(_), _) => Source::Attribute { default },
                (None, None, Some(key)) => Source::Context { key, default },
                (None, None, None) => Source::None,
            };
            headers.push(Header {
                name,
                action,
                source,
            });
        }
        Ok(Arc::new(HeadersSetter { headers }))
    }
}

struct HeadersSetter {
    headers: Vec<Header>,
}

impl Component for HeadersSetter {}

impl Source {
    /// The value for a request from `client`, as Go's sources give it.
    fn value(&self, client: &ClientInfo) -> Result<String, String> {
        Ok(match self {
            Source::Static(v) => v.clone(),
            Source::Attribute { default } => default.clone(),
            Source::None => String::new(),
            Source::Context { key, default } => {
                let values: Vec<&str> = client.get(key).collect();
                match values.as_slice() {
                    [] => default.clone(),
                    [one] => (*one).to_string(),
                    many => {
                        return Err(format!(
                            "{} source keys found in the context, can't determine which one to use",
                            many.len()
                        ));
                    }
                }
            }
        })
    }
}

#[async_trait]
impl ClientAuthenticator for HeadersSetter {
    async fn apply(&self, client: &ClientInfo, headers: &mut HeaderMap) -> Result<(), String> {
        for h in &self.headers {
            let value = h
                .source
                .value(client)
                .map_err(|e| format!("failed to determine the source: {e}"))?;
            let value =
                || HeaderValue::from_str(&value).map_err(|e| format!("header {}: {e}", h.name));
            match h.action {
                Action::Delete => {
                    headers.remove(&h.name);
                }
                Action::Insert if headers.contains_key(&h.name) => {}
                Action::Update if !headers.contains_key(&h.name) => {}
                _ => {
                    headers.insert(h.name.clone(), value()?);
                }
            }
        }
        Ok(())
    }
}

impl Extension for HeadersSetter {
    fn client_authenticator(&self) -> Option<&dyn ClientAuthenticator> {
        Some(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ferrotel_core::config::decode_component;

    fn setter(yaml: &str) -> Arc<dyn Extension> {
        let value: serde_yaml_ng::Value = serde_yaml_ng::from_str(yaml).unwrap();
        let config: Config = decode_component(&value).unwrap();
        config.validate().unwrap();
        factory_create(config)
    }

    fn factory_create(config: Config) -> Arc<dyn Extension> {
        let set = ferrotel_core::testing::settings("headers_setter");
        HeadersSetterFactory.create(set, config).unwrap()
    }

    #[tokio::test]
    async fn headers_come_from_values_and_client_metadata_with_go_s_actions() {
        let ext = setter(
            "headers:
  - {key: X-Scope-OrgID, from_context: tenant, default_value: anonymous, action: upsert}
  - {key: X-Static, value: s, action: insert}
  - {key: X-Only-If-There, value: u, action: update}
  - {key: X-Drop, action: delete}",
        );
        let auth = ext.client_authenticator().unwrap();
        let client = ClientInfo {
            addr: None,
            metadata: vec![("tenant".into(), "acme".into())],
        };
        let mut headers = HeaderMap::new();
        headers.insert("x-static", "kept".parse().unwrap());
        headers.insert("x-drop", "gone".parse().unwrap());
        auth.apply(&client, &mut headers).await.unwrap();
        assert_eq!(headers["x-scope-orgid"], "acme");
        assert_eq!(
            headers["x-static"], "kept",
            "insert leaves a present header"
        );
        assert!(!headers.contains_key("x-only-if-there"));
        assert!(!headers.contains_key("x-drop"));
        let mut headers = HeaderMap::new();
        auth.apply(&ClientInfo::default(), &mut headers)
            .await
            .unwrap();
        assert_eq!(headers["x-scope-orgid"], "anonymous");
        let two = ClientInfo {
            addr: None,
            metadata: vec![("tenant".into(), "a".into()), ("tenant".into(), "b".into())],
        };
        assert_eq!(
            auth.apply(&two, &mut HeaderMap::new()).await,
            Err("failed to determine the source: 2 source keys found in the context, can't determine which one to use".into())
        );
    }

    #[test]
    fn settings_are_checked_as_go_checks_them() {
        let refuse = |yaml: &str| {
            let value: serde_yaml_ng::Value = serde_yaml_ng::from_str(yaml).unwrap();
            let config: Config = decode_component(&value).unwrap();
            config.validate().unwrap_err().to_string()
        };
        assert_eq!(refuse("{}"), "missing headers configuration");
        assert_eq!(refuse("headers: [{value: x}]"), "missing header name");
        assert_eq!(
            refuse("headers: [{key: a}]"),
            "missing header source, must be 'from_context', 'from_attribute' or 'value'"
        );
        assert_eq!(
            refuse("headers: [{key: a, value: x, from_context: y}]"),
            "invalid header source, must either 'from_context', 'from_attribute' or 'value'"
        );
    }
}
