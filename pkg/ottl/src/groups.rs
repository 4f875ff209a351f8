//! The two config forms of OTTL lists that the transform and filter
//! processors (and routing) share: a flat list of strings, whose context
//! is inferred, or a list of groups `{context, conditions, statements,
//! error_mode}`. Mixing the forms is an error, as in Go.

use super::ErrorMode;
use serde_yaml_ng::Value as Yaml;

/// One group of statements or conditions.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Group {
    /// `context:`; inferred from the paths when absent.
    pub context: Option<String>,
    /// `conditions:` (with statements: any must hold for them to run).
    pub conditions: Vec<String>,
    /// `statements:`.
    pub statements: Vec<String>,
    /// The group's own `error_mode`.
    pub error_mode: Option<ErrorMode>,
}

fn strings(v: &Yaml, key: &str) -> Result<Vec<String>, String> {
    match v {
        Yaml::Null => Ok(Vec::new()),
        Yaml::Sequence(items) => items
            .iter()
            .enumerate()
            .map(|(i, item)| match item {
                Yaml::String(s) => Ok(s.clone()),
                _ => Err(format!("{key}[{i}]: expected a string")),
            })
            .collect(),
        _ => Err(format!("{key}: expected a list of strings")),
    }
}

/// Reads the list under `key`; `items` is what a group holds
/// (`statements` for transform, `conditions` for filter).
pub fn parse(value: &Yaml, key: &str, items: &str) -> Result<Vec<Group>, String> {
    let list = match value {
        Yaml::Null => return Ok(Vec::new()),
        Yaml::Sequence(list) => list,
        _ => return Err(format!("invalid {key} type, expected: array")),
    };
    let flat: Vec<&Yaml> = list.iter().filter(|v| v.is_string()).collect();
    if !flat.is_empty() && flat.len() != list.len() {
        return Err(format!(
            "{key}: configuring multiple configuration styles is not supported, please use only Basic configuration or only Advanced configuration"
        ));
    }
    if !flat.is_empty() {
        let texts = strings(value, key)?;
        let mut group = Group::default();
        if items == "statements" {
            group.statements = texts;
        } else {
            group.conditions = texts;
        }
        return Ok(vec![group]);
    }
    list.iter()
        .enumerate()
        .map(|(i, item)| {
            let at = format!("{key}[{i}]");
            let Yaml::Mapping(m) = item else {
                return Err(format!(
                    "{at}: invalid {key} item: empty statement list items are not supported"
                ));
            };
            let mut group = Group::default();
            for (k, v) in m {
                let k = k.as_str().unwrap_or_default();
                match k {
                    "context" => {
                        group.context = Some(
                            v.as_str()
                                .ok_or_else(|| format!("{at}::context: expected a string"))?
                                .to_string(),
                        )
                    }
                    "conditions" => group.conditions = strings(v, &format!("{at}::conditions"))?,
                    "statements" if items == "statements" => {
                        group.statements = strings(v, &format!("{at}::statements"))?
                    }
                    "error_mode" => {
                        let mode = v
                            .as_str()
                            .ok_or_else(|| format!("{at}::error_mode: expected a string"))?;
                        group.error_mode = Some(
                            ErrorMode::parse(mode).map_err(|e| format!("{at}::error_mode: {e}"))?,
                        );
                    }
                    "shared_cache" => {
                        if v.as_bool() == Some(true) {
                            return Err(format!(
                                "{at}::shared_cache is not supported by ferrotel yet"
                            ));
                        }
                    }
                    other => return Err(format!("{at} has invalid keys: {other}")),
                }
            }
            Ok(group)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn yaml(s: &str) -> Yaml {
        serde_yaml_ng::from_str(s).unwrap()
    }

    #[test]
    fn both_forms() {
        assert_eq!(
            parse(
                &yaml(r#"["set(a, 1)", "set(b, 2)"]"#),
                "log_statements",
                "statements"
            )
            .unwrap(),
            vec![Group {
                statements: vec!["set(a, 1)".into(), "set(b, 2)".into()],
                ..Group::default()
            }]
        );
        let g = parse(
            &yaml("- context: log\n  conditions: [x]\n  statements: [y]\n  error_mode: ignore\n- statements: [z]"),
            "log_statements",
            "statements",
        )
        .unwrap();
        assert_eq!(g[0].context.as_deref(), Some("log"));
        assert_eq!(g[0].error_mode, Some(ErrorMode::Ignore));
        assert_eq!(g[1].statements, ["z"]);
        let c = parse(&yaml(r#"["a == 1"]"#), "log_conditions", "conditions").unwrap();
        assert_eq!(c[0].conditions, ["a == 1"]);
    }

    #[test]
    fn errors_name_the_key() {
        assert_eq!(
            parse(
                &yaml("- set(a, 1)\n- statements: [b]"),
                "log_statements",
                "statements"
            )
            .unwrap_err(),
            "log_statements: configuring multiple configuration styles is not supported, please use only Basic configuration or only Advanced configuration"
        );
        assert_eq!(
            parse(&yaml("- contxt: log"), "log_statements", "statements").unwrap_err(),
            "log_statements[0] has invalid keys: contxt"
        );
        assert_eq!(
            parse(
                &yaml("- error_mode: loud"),
                "trace_statements",
                "statements"
            )
            .unwrap_err(),
            "trace_statements[0]::error_mode: 'loud' is not a valid error mode"
        );
    }
}
