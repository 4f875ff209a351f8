//! Nop exporter
