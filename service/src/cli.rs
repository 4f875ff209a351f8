//! The command line every distribution shares, after `otelcol`'s:
//! `--config` (repeatable), `--set`, `--feature-gates`, and the
//! `validate`, `components`, `print-config` and `featuregate` commands.

use crate::config;
use crate::featuregate;
use crate::logging;
use crate::runtime::{self, BuildInfo, RunSettings};
use clap::{Parser, Subcommand, ValueEnum};
use ferrotel_core::component::{Factories, Kind};
use ferrotel_core::pdata::Signal;
use std::fmt::Write;
use std::process::ExitCode;

/// The config run when no `--config` is given: OTLP in on localhost,
/// batched, printed by the debug exporter.
pub const DEFAULT_CONFIG: &str = "\
receivers:
  otlp:
    protocols:
      grpc:
        endpoint: localhost:4317
      http:
        endpoint: localhost:4318
processors:
  batch:
exporters:
  debug:
    verbosity: basic
service:
  pipelines:
    traces:
      receivers: [otlp]
      processors: [batch]
      exporters: [debug]
    metrics:
      receivers: [otlp]
      processors: [batch]
      exporters: [debug]
    logs:
      receivers: [otlp]
      processors: [batch]
      exporters: [debug]
";

#[derive(Parser, Debug)]
#[command(disable_version_flag = true)]
struct Cli {
    /// Locations of the config files: a path, or a URI (file:, env:, yaml:). Repeat to merge several.
    #[arg(long = "config", global = true)]
    config: Vec<String>,
    /// Set a config property, applied after the files: --set=processors.batch.timeout=2s
    #[arg(long = "set", global = true)]
    set: Vec<String>,
    /// Comma-separated feature gates to enable (+id or id) or disable (-id).
    #[arg(long = "feature-gates", global = true)]
    feature_gates: Vec<String>,
    /// Print the version and exit.
    #[arg(short = 'v', long = "version")]
    version: bool,
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Checks the config: loads it and creates every component without starting them.
    Validate,
    /// Lists the components compiled into this binary.
    Components,
    /// Prints the config after merging and expansion.
    PrintConfig {
        /// `redacted` hides values of keys that look like secrets.
        #[arg(long, value_enum, default_value_t = Mode::Redacted)]
        mode: Mode,
        /// Output format.
        #[arg(long, value_enum, default_value_t = Format::Yaml)]
        format: Format,
    },
    /// Lists feature gates.
    Featuregate {
        /// A gate id.
        id: Option<String>,
    },
}

#[derive(Clone, Copy, Debug, ValueEnum)]
enum Mode {
    Redacted,
    Unredacted,
}

#[derive(Clone, Copy, Debug, ValueEnum)]
enum Format {
    Yaml,
    Json,
}

/// Parses the command line and runs; the return value is the exit code.
pub fn run(build: BuildInfo, factories: Factories) -> ExitCode {
    let cli = Cli::parse();
    logging::init_logging();
    if cli.version {
        println!("{} version {}", build.command, build.version);
        return ExitCode::SUCCESS;
    }
    for gate in cli.feature_gates.iter().flat_map(|g| featuregate::apply(g)) {
        eprintln!(
            "warning: feature gate {gate:?} is not known to {}; ignored",
            build.command
        );
    }
    let uris = if cli.config.is_empty()
        && !matches!(
            cli.command,
            Some(Command::Components) | Some(Command::Featuregate { .. })
        ) {
        eprintln!(
            "No --config given: running the embedded default config (OTLP gRPC on localhost:4317 and HTTP on localhost:4318 -> batch -> debug). Print it with `{} print-config`.",
            build.command
        );
        vec![format!("yaml:{DEFAULT_CONFIG}")]
    } else {
        cli.config
    };
    let result = match cli.command {
        Some(Command::Components) => {
            print!("{}", components(&build, &factories));
            Ok(())
        }
        Some(Command::Featuregate { id }) => match id {
            Some(id) => featuregate::describe(&id).map(|text| print!("{text}")),
            None => {
                print!("{}", featuregate::table());
                Ok(())
            }
        },
        Some(Command::PrintConfig { mode, format }) => {
            print_config(&factories, &uris, &cli.set, mode, format)
        }
        Some(Command::Validate) => runtime().and_then(|rt| {
            rt.block_on(async { runtime::validate(&factories, &uris, &cli.set) })
                .map_err(|e| e.to_string())
        }),
        None => runtime().and_then(|rt| {
            rt.block_on(runtime::run(RunSettings {
                build,
                factories,
                uris,
                sets: cli.set,
            }))
            .map_err(|e| e.to_string())
        }),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("Error: {e}");
            ExitCode::FAILURE
        }
    }
}

fn runtime() -> Result<tokio::runtime::Runtime, String> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .thread_name("ferrotel")
        .build()
        .map_err(|e| format!("cannot start the runtime: {e}"))
}

/// The `components` listing, in the Go collector's YAML shape: sections in
/// Go's order, signals sorted by name, deprecated aliases not listed.
pub fn components(build: &BuildInfo, factories: &Factories) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "buildinfo:");
    let _ = writeln!(out, "    command: {}", build.command);
    let _ = writeln!(out, "    description: {}", build.description);
    let _ = writeln!(out, "    version: {}", build.version);
    for kind in Kind::ALL {
        let metadata = factories.metadata(kind);
        if metadata.is_empty() {
            let _ = writeln!(out, "{}: []", kind.section());
            continue;
        }
        let _ = writeln!(out, "{}:", kind.section());
        for m in metadata {
            let _ = writeln!(out, "    - name: {}", m.type_name);
            let _ = writeln!(out, "      module: {}", m.module);
            let _ = writeln!(out, "      stability:");
            if kind == Kind::Extension {
                let _ = writeln!(out, "        extension: {}", m.stability.as_str());
            }
            // Sorted by name, as Go prints its stability map, which leaves
            // profiles out.
            let mut signals: Vec<(String, &str)> = m
                .signals
                .iter()
                .filter(|(s, _)| *s != Signal::Profiles)
                .map(|(s, st)| (s.as_str().to_string(), st.as_str()))
                .chain(
                    m.connections
                        .iter()
                        .filter(|(from, _, _)| *from != Signal::Profiles)
                        .map(|(from, to, st)| (format!("{from}-to-{to}"), st.as_str())),
                )
                .collect();
            signals.sort_unstable();
            for (signal, stability) in signals {
                let _ = writeln!(out, "        {signal}: {stability}");
            }
        }
    }
    let _ = writeln!(out, "providers:");
    for scheme in ["env", "file", "yaml"] {
        let _ = writeln!(out, "    - scheme: {scheme}");
        let _ = writeln!(out, "      module: {}", ferrotel_core::module!());
    }
    out
}

fn print_config(
    factories: &Factories,
    uris: &[String],
    sets: &[String],
    mode: Mode,
    format: Format,
) -> Result<(), String> {
    let config = config::load(factories, uris, sets).map_err(|e| e.to_string())?;
    let mut merged = ferrotel_core::config::without_expansions(config.merged);
    if let Mode::Redacted = mode {
        redact(&mut merged);
    }
    let text = match format {
        Format::Yaml => serde_yaml_ng::to_string(&merged).map_err(|e| e.to_string())?,
        Format::Json => serde_json::to_string_pretty(&merged).map_err(|e| e.to_string())? + "\n",
    };
    print!("{text}");
    Ok(())
}

/// Replaces values of keys that name secrets with `[REDACTED]`. The Go
/// collector knows which fields are opaque from their types; ferrotel goes
/// by the key name, erring on the side of hiding.
fn redact(value: &mut serde_yaml_ng::Value) {
    const SECRET_WORDS: [&str; 6] = [
        "password",
        "secret",
        "token",
        "api_key",
        "apikey",
        "authorization",
    ];
    match value {
        serde_yaml_ng::Value::Mapping(m) => {
            for (k, v) in m.iter_mut() {
                let key = k.as_str().unwrap_or_default().to_ascii_lowercase();
                if SECRET_WORDS.iter().any(|w| key.contains(w)) && !v.is_mapping() && !v.is_null() {
                    *v = serde_yaml_ng::Value::String("[REDACTED]".into());
                } else {
                    redact(v);
                }
            }
        }
        serde_yaml_ng::Value::Sequence(items) => items.iter_mut().for_each(redact),
        _ => {}
    }
}
