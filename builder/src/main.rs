//! The `ferrotel-builder` command: `--config manifest.yaml` generates and
//! builds a distribution; `init` writes a starter manifest.

use clap::{Parser, Subcommand};
use ferrotel_builder::manifest::Manifest;
use ferrotel_builder::{Steps, compile, write_package};
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Parser)]
#[command(
    name = "ferrotel-builder",
    version,
    about = "Builds a ferrotel distribution from a manifest"
)]
struct Cli {
    /// The manifest.
    #[arg(long, value_name = "FILE")]
    config: Option<PathBuf>,
    /// Only build: the package is already written.
    #[arg(long)]
    skip_generate: bool,
    /// Only write the package; do not run cargo.
    #[arg(long)]
    skip_compilation: bool,
    /// Say each step and run cargo with --verbose.
    #[arg(long)]
    verbose: bool,
    #[command(subcommand)]
    command: Option<Cmd>,
}

#[derive(Subcommand)]
enum Cmd {
    /// Writes a starter manifest (an OTLP gateway) that builds from the
    /// ferrotel checkout this builder came from.
    Init {
        /// Where to write it.
        #[arg(long, default_value = "manifest.yaml")]
        output: PathBuf,
    },
}

const STARTER: &str = include_str!("starter.yaml");

fn main() -> ExitCode {
    let cli = Cli::parse();
    if let Some(Cmd::Init { output }) = cli.command {
        if output.exists() {
            eprintln!("{} exists; not overwriting it", output.display());
            return ExitCode::FAILURE;
        }
        // The workspace this builder was built from.
        let root = ferrotel_builder::manifest::builder_checkout();
        let starter = STARTER.replace("{root}", &root.to_string_lossy());
        if let Err(e) = std::fs::write(&output, starter) {
            eprintln!("cannot write {}: {e}", output.display());
            return ExitCode::FAILURE;
        }
        println!(
            "wrote {}; edit it, then run ferrotel-builder --config {0}",
            output.display()
        );
        return ExitCode::SUCCESS;
    }
    let Some(config) = cli.config else {
        eprintln!("missing --config <manifest.yaml> (or run `ferrotel-builder init`)");
        return ExitCode::from(2);
    };
    let steps = Steps {
        skip_generate: cli.skip_generate,
        skip_compilation: cli.skip_compilation,
        verbose: cli.verbose,
    };
    match run(&config, steps) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("Error: {e}");
            ExitCode::FAILURE
        }
    }
}

fn run(config: &std::path::Path, steps: Steps) -> Result<(), String> {
    let manifest = Manifest::load(config).map_err(|e| e.to_string())?;
    let cwd = std::env::current_dir().map_err(|e| format!("no working directory: {e}"))?;
    let out = ferrotel_builder::generate::normalize(&cwd.join(manifest.output_dir()));
    if !steps.skip_generate {
        write_package(&manifest, &cwd)
            .map_err(|e| format!("writing the package to {}: {e}", out.display()))?;
        if steps.verbose {
            eprintln!("generated {}", out.display());
        }
    }
    if steps.skip_compilation {
        println!("{}", out.display());
        return Ok(());
    }
    let binary = compile(&manifest, &out, steps.verbose)?;
    println!("{}", binary.display());
    Ok(())
}
