//! The `nop` exporter: takes every batch and drops it.
//!
//! Mirrors the Go collector's `nopexporter`; useful as a sink in benchmarks
//! and for pipelines whose only purpose is a side effect.

use ferrotel_core::async_trait;
use ferrotel_core::component::{
    Component, ComponentConfig, ComponentError, CreateSettings, ExporterFactory, Metadata,
    SharedStage,
};
use ferrotel_core::consumer::{Batch, ConsumeError, Consumer};
use serde::Deserialize;
use std::sync::Arc;

/// The `nop` exporter has no settings.
#[derive(Debug, Default, Deserialize)]
pub struct Config {}

impl ComponentConfig for Config {}

struct NopFactory;

struct Nop;

/// The factory for the `nop` exporter.
pub fn factory() -> impl ExporterFactory {
    NopFactory
}

impl ExporterFactory for NopFactory {
    type Config = Config;

    fn metadata(&self) -> Metadata {
        ferrotel_core::metadata!()
    }

    fn create(&self, _set: CreateSettings, _config: Config) -> Result<SharedStage, ComponentError> {
        Ok(Arc::new(Nop))
    }
}

#[async_trait]
impl Consumer for Nop {
    fn persists_before_ack(&self) -> bool {
        false
    }

    async fn consume(&self, _batch: Batch) -> Result<(), ConsumeError> {
        Ok(())
    }
}

impl Component for Nop {}
