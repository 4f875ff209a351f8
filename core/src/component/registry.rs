//! Type-erased factories and the registry a distribution fills.

use super::{
    Component, ComponentConfig, ComponentError, ConnectorFactory, CreateSettings, ExporterFactory,
    Extension, ExtensionFactory, Kind, Metadata, ProcessorFactory, ReceiverFactory, Routes,
    SharedStage, SignalConsumers,
};
use crate::config::{DecodeError, decode_component};
use crate::consumer::SharedConsumer;
use crate::pdata::Signal;
use serde_yaml_ng::Value;
use std::collections::BTreeMap;
use std::sync::Arc;

fn decode<C: ComponentConfig>(raw: &Value) -> Result<C, DecodeError> {
    let config: C = decode_component(raw)?;
    config.validate().map_err(DecodeError::Invalid)?;
    Ok(config)
}

/// A receiver factory whose config type is hidden.
pub trait AnyReceiverFactory: Send + Sync {
    /// Type, aliases, signals.
    fn metadata(&self) -> Metadata;
    /// Decodes and validates a raw config.
    fn validate(&self, raw: &Value) -> Result<(), DecodeError>;
    /// Decodes the config and creates the receiver.
    fn create(
        &self,
        set: CreateSettings,
        raw: &Value,
        next: SignalConsumers,
    ) -> Result<Box<dyn Component>, ComponentError>;
}

impl<F: ReceiverFactory> AnyReceiverFactory for F {
    fn metadata(&self) -> Metadata {
        ReceiverFactory::metadata(self)
    }
    fn validate(&self, raw: &Value) -> Result<(), DecodeError> {
        decode::<F::Config>(raw).map(drop)
    }
    fn create(
        &self,
        set: CreateSettings,
        raw: &Value,
        next: SignalConsumers,
    ) -> Result<Box<dyn Component>, ComponentError> {
        ReceiverFactory::create(self, set, decode(raw)?, next)
    }
}

/// A processor factory whose config type is hidden.
pub trait AnyProcessorFactory: Send + Sync {
    /// Type, aliases, signals.
    fn metadata(&self) -> Metadata;
    /// Decodes and validates a raw config.
    fn validate(&self, raw: &Value) -> Result<(), DecodeError>;
    /// Decodes the config and creates the processor for one pipeline.
    fn create(
        &self,
        set: CreateSettings,
        raw: &Value,
        signal: Signal,
        next: SharedConsumer,
    ) -> Result<SharedStage, ComponentError>;
}

impl<F: ProcessorFactory> AnyProcessorFactory for F {
    fn metadata(&self) -> Metadata {
        ProcessorFactory::metadata(self)
    }
    fn validate(&self, raw: &Value) -> Result<(), DecodeError> {
        decode::<F::Config>(raw).map(drop)
    }
    fn create(
        &self,
        set: CreateSettings,
        raw: &Value,
        signal: Signal,
        next: SharedConsumer,
    ) -> Result<SharedStage, ComponentError> {
        ProcessorFactory::create(self, set, decode(raw)?, signal, next)
    }
}

/// An exporter factory whose config type is hidden.
pub trait AnyExporterFactory: Send + Sync {
    /// Type, aliases, signals.
    fn metadata(&self) -> Metadata;
    /// Decodes and validates a raw config.
    fn validate(&self, raw: &Value) -> Result<(), DecodeError>;
    /// Decodes the config and creates the exporter.
    fn create(&self, set: CreateSettings, raw: &Value) -> Result<SharedStage, ComponentError>;
}

impl<F: ExporterFactory> AnyExporterFactory for F {
    fn metadata(&self) -> Metadata {
        ExporterFactory::metadata(self)
    }
    fn validate(&self, raw: &Value) -> Result<(), DecodeError> {
        decode::<F::Config>(raw).map(drop)
    }
    fn create(&self, set: CreateSettings, raw: &Value) -> Result<SharedStage, ComponentError> {
        ExporterFactory::create(self, set, decode(raw)?)
    }
}

/// A connector factory whose config type is hidden.
pub trait AnyConnectorFactory: Send + Sync {
    /// Type, aliases, signals.
    fn metadata(&self) -> Metadata;
    /// Decodes and validates a raw config.
    fn validate(&self, raw: &Value) -> Result<(), DecodeError>;
    /// Decodes the config and creates the connector for one pair of
    /// signals.
    fn create(
        &self,
        set: CreateSettings,
        raw: &Value,
        from: Signal,
        to: Signal,
        routes: Routes,
    ) -> Result<SharedStage, ComponentError>;
}

impl<F: ConnectorFactory> AnyConnectorFactory for F {
    fn metadata(&self) -> Metadata {
        ConnectorFactory::metadata(self)
    }
    fn validate(&self, raw: &Value) -> Result<(), DecodeError> {
        decode::<F::Config>(raw).map(drop)
    }
    fn create(
        &self,
        set: CreateSettings,
        raw: &Value,
        from: Signal,
        to: Signal,
        routes: Routes,
    ) -> Result<SharedStage, ComponentError> {
        ConnectorFactory::create(self, set, decode(raw)?, from, to, routes)
    }
}

/// An extension factory whose config type is hidden.
pub trait AnyExtensionFactory: Send + Sync {
    /// Type, aliases, stability.
    fn metadata(&self) -> Metadata;
    /// Decodes and validates a raw config.
    fn validate(&self, raw: &Value) -> Result<(), DecodeError>;
    /// Decodes the config and creates the extension.
    fn create(
        &self,
        set: CreateSettings,
        raw: &Value,
    ) -> Result<Arc<dyn Extension>, ComponentError>;
}

impl<F: ExtensionFactory> AnyExtensionFactory for F {
    fn metadata(&self) -> Metadata {
        ExtensionFactory::metadata(self)
    }
    fn validate(&self, raw: &Value) -> Result<(), DecodeError> {
        decode::<F::Config>(raw).map(drop)
    }
    fn create(
        &self,
        set: CreateSettings,
        raw: &Value,
    ) -> Result<Arc<dyn Extension>, ComponentError> {
        ExtensionFactory::create(self, set, decode(raw)?)
    }
}

/// Every factory a distribution was built with, by type.
#[derive(Clone, Default)]
pub struct Factories {
    /// Receivers by type.
    pub receivers: BTreeMap<&'static str, Arc<dyn AnyReceiverFactory>>,
    /// Processors by type.
    pub processors: BTreeMap<&'static str, Arc<dyn AnyProcessorFactory>>,
    /// Exporters by type.
    pub exporters: BTreeMap<&'static str, Arc<dyn AnyExporterFactory>>,
    /// Connectors by type.
    pub connectors: BTreeMap<&'static str, Arc<dyn AnyConnectorFactory>>,
    /// Extensions by type.
    pub extensions: BTreeMap<&'static str, Arc<dyn AnyExtensionFactory>>,
}

impl Factories {
    /// An empty registry.
    pub fn new() -> Factories {
        Factories::default()
    }

    /// Adds a receiver factory.
    pub fn receiver(mut self, f: impl ReceiverFactory) -> Self {
        self.receivers
            .insert(ReceiverFactory::metadata(&f).type_name, Arc::new(f));
        self
    }

    /// Adds a processor factory.
    pub fn processor(mut self, f: impl ProcessorFactory) -> Self {
        self.processors
            .insert(ProcessorFactory::metadata(&f).type_name, Arc::new(f));
        self
    }

    /// Adds an exporter factory.
    pub fn exporter(mut self, f: impl ExporterFactory) -> Self {
        self.exporters
            .insert(ExporterFactory::metadata(&f).type_name, Arc::new(f));
        self
    }

    /// Adds a connector factory.
    pub fn connector(mut self, f: impl ConnectorFactory) -> Self {
        self.connectors
            .insert(ConnectorFactory::metadata(&f).type_name, Arc::new(f));
        self
    }

    /// Adds an extension factory.
    pub fn extension(mut self, f: impl ExtensionFactory) -> Self {
        self.extensions
            .insert(ExtensionFactory::metadata(&f).type_name, Arc::new(f));
        self
    }

    /// The metadata of every factory of a kind, sorted by type.
    pub fn metadata(&self, kind: Kind) -> Vec<Metadata> {
        match kind {
            Kind::Receiver => self.receivers.values().map(|f| f.metadata()).collect(),
            Kind::Processor => self.processors.values().map(|f| f.metadata()).collect(),
            Kind::Exporter => self.exporters.values().map(|f| f.metadata()).collect(),
            Kind::Extension => self.extensions.values().map(|f| f.metadata()).collect(),
            Kind::Connector => self.connectors.values().map(|f| f.metadata()).collect(),
        }
    }

    /// Resolves a configured type to a registered one, following deprecated
    /// aliases. Returns the canonical type and whether an alias was used.
    pub fn resolve(&self, kind: Kind, configured: &str) -> Option<(&'static str, bool)> {
        self.metadata(kind).into_iter().find_map(|m| {
            if m.type_name == configured {
                Some((m.type_name, false))
            } else if m.deprecated_aliases.contains(&configured) {
                Some((m.type_name, true))
            } else {
                None
            }
        })
    }

    /// Every type name of a kind, aliases included, sorted: the list an
    /// `unknown type` error offers.
    pub fn valid_types(&self, kind: Kind) -> Vec<&'static str> {
        let mut all: Vec<_> = self
            .metadata(kind)
            .into_iter()
            .flat_map(|m| std::iter::once(m.type_name).chain(m.deprecated_aliases.iter().copied()))
            .collect();
        all.sort_unstable();
        all
    }
}
