//! The collector runtime: what only a distribution's binary needs, kept
//! apart from the component API so that components never build it.
//!
//! It loads the config the Go collector's way ([`config`]: URIs, `--set`,
//! `${env:...}`, strict decoding, pipeline validation with Go's error
//! texts), builds the pipeline graph from the registered factories
//! ([`graph`]), runs it with signals and reload ([`runtime`]), and offers
//! the `otelcol` command line ([`cli`]). It mirrors Go's `otelcol`,
//! `service` and `confmap` packages. Components depend on `ferrotel-core`
//! only; a distribution's `main` calls [`cli::run`].

pub mod cli;
pub mod config;
pub mod featuregate;
pub mod graph;
mod logging;
mod observed;
pub mod runtime;

pub use runtime::BuildInfo;
