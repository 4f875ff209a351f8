//! Debug exporter
