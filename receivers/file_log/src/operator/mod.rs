//! Stanza operators: the chain that turns read lines into structured
//! entries.

use crate::entry::Entry;
use ferrotel_core::config::Invalid;

/// Why an operator config was refused.
#[derive(Debug, Clone)]
pub(crate) struct OperatorError {
    /// Which operator (its index in the list), and the key.
    pub(crate) path: String,
    /// What is wrong.
    pub(crate) message: String,
}

impl OperatorError {
    /// As a config error under `key`.
    pub(crate) fn under_key(&self, key: &str) -> Invalid {
        if self.path.is_empty() {
            Invalid::at(key, self.message.clone())
        } else {
            Invalid::at(format!("{key}::{}", self.path), self.message.clone())
        }
    }
}

/// The operators, in order.
#[derive(Debug, Default)]
pub(crate) struct Chain {
    ops: Vec<()>,
}

impl Chain {
    /// Builds the chain from the `operators` list.
    pub(crate) fn build(raw: &[serde_yaml_ng::Value]) -> Result<Chain, OperatorError> {
        if raw.is_empty() {
            return Ok(Chain::default());
        }
        Err(OperatorError {
            path: String::new(),
            message: "operators are not supported yet".into(),
        })
    }

    /// True when entries pass through unchanged.
    pub(crate) fn is_empty(&self) -> bool {
        self.ops.is_empty()
    }

    /// Runs one entry through the chain; what comes out is pushed to `out`.
    pub(crate) fn process(&mut self, entry: Entry, out: &mut Vec<Entry>) {
        out.push(entry);
    }

    /// Emits what stateful operators hold.
    pub(crate) fn flush(&mut self, _out: &mut Vec<Entry>) {}
}
