//! Component and pipeline ids: `type[/name]` and `signal[/name]`.

use crate::pdata::Signal;
use std::fmt;

/// A component id as written in config: `type[/name]`.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ComponentId {
    kind: String,
    name: Option<String>,
}

/// Why an id is malformed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IdError {
    /// The type part breaks `^[a-zA-Z][0-9a-zA-Z_]{0,62}$`.
    #[error("invalid character(s) in type {0:?}")]
    Type(String),
    /// The name part is empty or has spaces, control or symbol characters.
    #[error("invalid character(s) in name {0:?}")]
    Name(String),
}

fn valid_type(t: &str) -> bool {
    let mut chars = t.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_alphabetic())
        && t.len() <= 63
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

fn valid_name(n: &str) -> bool {
    // Go's rule is `^[^\pZ\pC\pS]+$`: no separators, controls or symbols.
    !n.is_empty()
        && n.chars().all(|c| {
            !(c.is_whitespace()
                || c.is_control()
                || matches!(c, '$' | '+' | '<' | '=' | '>' | '^' | '`' | '|' | '~'))
        })
}

impl ComponentId {
    /// Parses `type[/name]`.
    pub fn parse(s: &str) -> Result<ComponentId, IdError> {
        let (kind, name) = match s.split_once('/') {
            Some((k, n)) => (k.trim(), Some(n.trim())),
            None => (s.trim(), None),
        };
        if !valid_type(kind) {
            return Err(IdError::Type(kind.to_string()));
        }
        if let Some(n) = name
            && !valid_name(n)
        {
            return Err(IdError::Name(n.to_string()));
        }
        Ok(ComponentId {
            kind: kind.to_string(),
            name: name.map(str::to_string),
        })
    }

    /// An id with no name.
    pub fn new(kind: &str) -> ComponentId {
        ComponentId {
            kind: kind.to_string(),
            name: None,
        }
    }

    /// The component type (`otlp` in `otlp/2`).
    pub fn kind(&self) -> &str {
        &self.kind
    }

    /// The name after the slash, if any.
    pub fn name(&self) -> Option<&str> {
        self.name.as_deref()
    }

    /// The same id with another type, keeping the name (for aliases).
    pub fn with_kind(&self, kind: &str) -> ComponentId {
        ComponentId {
            kind: kind.to_string(),
            name: self.name.clone(),
        }
    }
}

impl fmt::Display for ComponentId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.name {
            Some(n) => write!(f, "{}/{}", self.kind, n),
            None => f.write_str(&self.kind),
        }
    }
}

/// A pipeline id: `traces|metrics|logs[/name]`.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct PipelineId {
    /// The signal it carries.
    pub signal: Signal,
    /// The name after the slash, if any.
    pub name: Option<String>,
}

impl PipelineId {
    /// Parses `signal[/name]`; the error is the Go collector's wording.
    pub fn parse(s: &str) -> Result<PipelineId, String> {
        let (sig, name) = match s.split_once('/') {
            Some((k, n)) => (k.trim(), Some(n.trim())),
            None => (s.trim(), None),
        };
        let signal = Signal::parse(sig).ok_or_else(|| format!("unknown signal {sig:?}"))?;
        if let Some(n) = name
            && !valid_name(n)
        {
            return Err(format!("invalid character(s) in name {n:?}"));
        }
        Ok(PipelineId {
            signal,
            name: name.map(str::to_string),
        })
    }
}

impl fmt::Display for PipelineId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.name {
            Some(n) => write!(f, "{}/{}", self.signal, n),
            None => write!(f, "{}", self.signal),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_parse_like_go() {
        let id = ComponentId::parse("otlp/in-1").unwrap();
        assert_eq!((id.kind(), id.name()), ("otlp", Some("in-1")));
        assert_eq!(id.to_string(), "otlp/in-1");
        assert!(ComponentId::parse("1otlp").is_err());
        assert!(ComponentId::parse("otlp/").is_err());
        assert!(ComponentId::parse("otlp/a b").is_err());
        assert!(ComponentId::parse("ot-lp").is_err());
        let p = PipelineId::parse("logs/foo").unwrap();
        assert_eq!(p.signal, Signal::Logs);
        assert_eq!(p.to_string(), "logs/foo");
        assert!(PipelineId::parse("profiles2").is_err());
    }
}
