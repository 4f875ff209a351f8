//! ferrotel-builder turns a manifest into a ferrotel distribution: a Cargo
//! package that registers exactly the listed component crates and calls
//! the shared command line, then builds it. It is to ferrotel what ocb is
//! to the Go collector, and the official distributions in
//! `distributions/` are its output.

pub mod generate;
pub mod manifest;
mod ocb;

use manifest::Manifest;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// What `--config` asked for.
#[derive(Debug, Clone, Copy, Default)]
pub struct Steps {
    /// Do not write the package (it is there already).
    pub skip_generate: bool,
    /// Do not run `cargo build`.
    pub skip_compilation: bool,
    /// Say what is done and pass `--verbose` to Cargo.
    pub verbose: bool,
}

/// Writes the generated files into the output directory; returns it.
pub fn write_package(manifest: &Manifest, cwd: &Path) -> std::io::Result<PathBuf> {
    let out = generate::normalize(&cwd.join(manifest.output_dir()));
    for file in generate::package(manifest, cwd) {
        let path = out.join(&file.path);
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir)?;
        }
        // Unchanged files keep their mtime, so Cargo has nothing to redo.
        if std::fs::read_to_string(&path).ok().as_deref() != Some(file.contents.as_str()) {
            std::fs::write(&path, &file.contents)?;
        }
    }
    Ok(out)
}

/// Runs `cargo build` for the package in `out`, showing Cargo's progress;
/// a failure is explained in terms of the manifest where it can be.
pub fn compile(manifest: &Manifest, out: &Path, verbose: bool) -> Result<PathBuf, String> {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let mut cmd = Command::new(cargo);
    cmd.arg("build").current_dir(out).stderr(Stdio::piped());
    if !manifest.dist.debug_compilation {
        cmd.arg("--release");
    }
    if verbose {
        cmd.arg("--verbose");
        eprintln!("running {cmd:?} in {}", out.display());
    }
    let mut child = cmd.spawn().map_err(|e| format!("cannot run cargo: {e}"))?;
    // Cargo's progress goes on to the user while it is kept for diagnosis.
    let mut captured = String::new();
    if let Some(stderr) = child.stderr.take() {
        use std::io::{BufRead, BufReader};
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            eprintln!("{line}");
            captured.push_str(&line);
            captured.push('\n');
        }
    }
    let status = child
        .wait()
        .map_err(|e| format!("waiting for cargo: {e}"))?;
    if !status.success() {
        return Err(explain_failure(manifest, &captured));
    }
    let profile = if manifest.dist.debug_compilation {
        "debug"
    } else {
        "release"
    };
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| out.join("target"));
    Ok(target.join(profile).join(&manifest.dist.name))
}

/// Names the manifest entry behind a Cargo failure when it is one of the
/// usual ones: a crate Cargo cannot find, or a factory path that does not
/// resolve.
fn explain_failure(manifest: &Manifest, cargo_output: &str) -> String {
    for (_, c) in &manifest.components {
        let missing_crate = [
            format!("no matching package named `{}`", c.crate_name),
            format!("failed to load manifest for dependency `{}`", c.crate_name),
            format!("failed to get `{}` as a dependency", c.crate_name),
        ];
        if missing_crate
            .iter()
            .any(|m| cargo_output.contains(m.as_str()))
        {
            return format!(
                "component crate {} cannot be found where the manifest says ({:?})",
                c.crate_name, c.source
            );
        }
        let module = c.factory.rsplit_once("::").map_or("", |(m, _)| m);
        let unresolved = cargo_output.lines().any(|l| {
            (l.contains("error[E0425]") || l.contains("error[E0433]") || l.contains("error[E0432]"))
                && (l.contains(&c.factory) || (!module.is_empty() && l.contains(module)))
        });
        if unresolved {
            return format!(
                "component crate {} does not export `{}`; set `factory:` in its manifest entry to the function that returns its factory",
                c.crate_name, c.factory
            );
        }
    }
    "cargo build failed; its output is above".into()
}
