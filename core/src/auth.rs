//! Authentication between clients, receivers and exporters, as the Go
//! collector's `configauth` and `extensionauth` shape it: an extension
//! (`bearertokenauth`, `basicauth`, `oidc`, `oauth2client`,
//! `headers_setter`) offers a server authenticator, a client one or both,
//! and a receiver's or exporter's `auth: {authenticator: <id>}` names the
//! extension to use. A server authenticator checks the headers of each
//! request before any data is read; a client authenticator gives the
//! headers each outgoing request carries.

use crate::component::{ComponentError, ComponentId, Extension, Host};
use crate::consumer::ClientInfo;
use async_trait::async_trait;
use http::HeaderMap;
use serde::Deserialize;
use std::sync::Arc;

/// `auth` of a server (receiver) endpoint: Go's `configauth.Config`.
#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(default)]
pub struct ServerAuthSettings {
    /// The id of the extension that authenticates requests.
    pub authenticator: String,
    /// Query parameters handed to the authenticator as headers (HTTP).
    pub request_params: Vec<String>,
}

/// `auth` of a client (exporter) connection.
#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(default)]
pub struct ClientAuthSettings {
    /// The id of the extension that gives each request its credentials.
    pub authenticator: String,
}

/// Checks the credentials of incoming requests.
#[async_trait]
pub trait ServerAuthenticator: Send + Sync {
    /// Checks a request's headers (gRPC metadata as headers). The error is
    /// the message clients get with their 401 or `Unauthenticated`.
    async fn authenticate(&self, headers: &HeaderMap) -> Result<(), String>;
}

/// Gives outgoing requests their credentials.
#[async_trait]
pub trait ClientAuthenticator: Send + Sync {
    /// Sets the headers of a request carrying data from `client` (its
    /// metadata is there when the receiver kept it, `include_metadata`);
    /// `headers` holds what the exporter already sets.
    async fn apply(&self, client: &ClientInfo, headers: &mut HeaderMap) -> Result<(), String>;
}

/// The extension named by a server's `auth`, resolved when it starts.
#[derive(Clone)]
pub struct ServerAuth(Arc<dyn Extension>);

impl ServerAuth {
    /// Checks a request.
    pub async fn authenticate(&self, headers: &HeaderMap) -> Result<(), String> {
        match self.0.server_authenticator() {
            Some(auth) => auth.authenticate(headers).await,
            None => Err("requested authenticator is not a server authenticator".into()),
        }
    }
}

/// The extension named by a client's `auth`, resolved when it starts.
#[derive(Clone)]
pub struct ClientAuth(Arc<dyn Extension>);

impl ClientAuth {
    /// Sets a request's credentials.
    pub async fn apply(&self, client: &ClientInfo, headers: &mut HeaderMap) -> Result<(), String> {
        match self.0.client_authenticator() {
            Some(auth) => auth.apply(client, headers).await,
            None => Err("requested authenticator is not a client authenticator".into()),
        }
    }
}

fn find<'a>(host: &'a Host, id: &str) -> Result<&'a Arc<dyn Extension>, ComponentError> {
    let wanted = ComponentId::parse(id).map_err(|e| -> ComponentError { e.to_string().into() })?;
    host.extensions
        .iter()
        .find(|(ext, _)| *ext == wanted)
        .map(|(_, ext)| ext)
        .ok_or_else(|| {
            format!("failed to resolve authenticator {id:?}: authenticator not found").into()
        })
}

impl Host {
    /// The server authenticator `settings` names, in Go's words when it is
    /// missing or of the wrong kind; `None` when `auth` names none.
    pub fn server_auth(
        &self,
        settings: Option<&ServerAuthSettings>,
    ) -> Result<Option<ServerAuth>, ComponentError> {
        let Some(settings) = settings.filter(|s| !s.authenticator.is_empty()) else {
            return Ok(None);
        };
        let ext = find(self, &settings.authenticator)?;
        if ext.server_authenticator().is_none() {
            return Err("requested authenticator is not a server authenticator".into());
        }
        Ok(Some(ServerAuth(ext.clone())))
    }

    /// The client authenticator `settings` names, as
    /// [`Host::server_auth`]. `grpc` picks Go's wording for the kind.
    pub fn client_auth(
        &self,
        settings: Option<&ClientAuthSettings>,
        grpc: bool,
    ) -> Result<Option<ClientAuth>, ComponentError> {
        let Some(settings) = settings.filter(|s| !s.authenticator.is_empty()) else {
            return Ok(None);
        };
        let ext = find(self, &settings.authenticator)?;
        if ext.client_authenticator().is_none() {
            let kind = if grpc { "gRPC" } else { "HTTP" };
            return Err(
                format!("requested authenticator is not a {kind} client authenticator").into(),
            );
        }
        Ok(Some(ClientAuth(ext.clone())))
    }
}
