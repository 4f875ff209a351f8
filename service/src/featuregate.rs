//! Feature gates: the process-wide switches `--feature-gates` sets, as Go's
//! `featuregate.GlobalRegistry()`.
//!
//! Only the gates whose behaviour ferrotel has are registered. A gate Go
//! knows and ferrotel does not is warned about and ignored rather than
//! refused (as Go refuses unknown gates), so that a Go command line keeps
//! working.

use std::fmt::Write;
use std::sync::atomic::{AtomicBool, Ordering};

/// Pipelines of the profiles signal (Go's `service.profilesSupport`).
pub const PROFILES_SUPPORT: &str = "service.profilesSupport";

struct Gate {
    id: &'static str,
    stage: &'static str,
    description: &'static str,
    from_version: &'static str,
    enabled: AtomicBool,
}

static GATES: [Gate; 1] = [Gate {
    id: PROFILES_SUPPORT,
    stage: "Alpha",
    description: "Controls whether profiles support can be enabled",
    from_version: "v0.112.0",
    enabled: AtomicBool::new(false),
}];

fn gate(id: &str) -> Option<&'static Gate> {
    GATES.iter().find(|g| g.id == id)
}

/// Applies one `--feature-gates` value (`a,+b,-c`: enable a and b, disable
/// c). Returns the ids ferrotel does not know; the others are applied.
pub fn apply(spec: &str) -> Vec<String> {
    let mut unknown = Vec::new();
    for item in spec.split(',').map(str::trim).filter(|s| !s.is_empty()) {
        let (id, on) = match item.as_bytes()[0] {
            b'-' => (&item[1..], false),
            b'+' => (&item[1..], true),
            _ => (item, true),
        };
        match gate(id) {
            Some(g) => g.enabled.store(on, Ordering::Relaxed),
            None => unknown.push(id.to_string()),
        }
    }
    unknown
}

/// Whether a registered gate is on (unregistered ones are off).
pub fn is_enabled(id: &str) -> bool {
    gate(id).is_some_and(|g| g.enabled.load(Ordering::Relaxed))
}

/// Every gate as (id, enabled, stage, description), for zpages' featurez.
pub fn all() -> Vec<(String, bool, String, String)> {
    GATES
        .iter()
        .map(|g| {
            (
                g.id.to_string(),
                g.enabled.load(Ordering::Relaxed),
                g.stage.to_string(),
                g.description.to_string(),
            )
        })
        .collect()
}

/// The `featuregate` command's table, laid out as Go's tabwriter does
/// (columns padded to the widest cell plus two spaces).
pub fn table() -> String {
    let rows: Vec<[String; 4]> =
        std::iter::once(["ID", "Enabled", "Stage", "Description"].map(String::from))
            .chain(
                all()
                    .into_iter()
                    .map(|(id, on, stage, description)| [id, on.to_string(), stage, description]),
            )
            .collect();
    let widths: Vec<usize> = (0..3)
        .map(|c| rows.iter().map(|r| r[c].len()).max().unwrap_or(0) + 2)
        .collect();
    let mut out = String::new();
    for row in &rows {
        for (cell, width) in row[..3].iter().zip(&widths) {
            let _ = write!(out, "{cell:width$}");
        }
        let _ = writeln!(out, "{}", row[3]);
    }
    out
}

/// The `featuregate <id>` command's details, or Go's error for an unknown id.
pub fn describe(id: &str) -> Result<String, String> {
    let g = gate(id).ok_or_else(|| format!("feature {id:?} not found"))?;
    Ok(format!(
        "Feature: {}\nEnabled: {}\nStage: {}\nDescription: {}\nFrom Version: {}\nTo Version: v<nil>\n",
        g.id,
        g.enabled.load(Ordering::Relaxed),
        g.stage,
        g.description,
        g.from_version
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_table_and_details_read_as_go_s() {
        assert_eq!(
            table(),
            "ID                       Enabled  Stage  Description\n\
             service.profilesSupport  false    Alpha  Controls whether profiles support can be enabled\n"
        );
        assert_eq!(
            describe(PROFILES_SUPPORT).unwrap(),
            "Feature: service.profilesSupport\nEnabled: false\nStage: Alpha\n\
             Description: Controls whether profiles support can be enabled\n\
             From Version: v0.112.0\nTo Version: v<nil>\n"
        );
        assert_eq!(describe("nope").unwrap_err(), "feature \"nope\" not found");
        assert_eq!(
            apply("pkg.translator.jaeger.EmitV1HttpConventions,-x"),
            ["pkg.translator.jaeger.EmitV1HttpConventions", "x"]
        );
    }
}
