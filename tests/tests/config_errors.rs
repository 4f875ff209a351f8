//! `ferrotel validate` on broken configs: each error is worded as the Go
//! collector words it (see shared/reference/otelcol.md §1), names the file,
//! and exits non-zero. Snapshots keep the full text stable.

use ferrotel_e2e::ferrotel_bin;
use std::process::Command;

/// Runs `validate` on `yaml` and returns (success, stderr with the temp
/// path replaced by `<config>`).
fn validate(yaml: &str) -> (bool, String) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("config.yaml");
    std::fs::write(&path, yaml).unwrap();
    let out = Command::new(ferrotel_bin())
        .arg("validate")
        .arg(format!("--config={}", path.display()))
        .output()
        .unwrap();
    let stderr =
        String::from_utf8_lossy(&out.stderr).replace(&path.display().to_string(), "<config>");
    (out.status.success(), stderr)
}

const PIPELINE: &str = "
service:
  pipelines:
    traces:
      receivers: [otlp]
      exporters: [debug]
";

fn failing(yaml: &str, go_wording: &str) -> String {
    let (ok, stderr) = validate(yaml);
    assert!(!ok, "validate should fail for:\n{yaml}");
    assert!(
        stderr.contains(go_wording),
        "expected {go_wording:?} in:\n{stderr}"
    );
    assert!(
        stderr.contains("(in <config>)"),
        "the error should name the file:\n{stderr}"
    );
    stderr
}

#[test]
fn unknown_key_in_a_component() {
    let yaml = format!(
        "receivers: {{otlp: {{protocols: {{grpc: }}}}}}\nexporters:\n  debug:\n    verBosity: detailed\n{PIPELINE}"
    );
    insta::assert_snapshot!(failing(
        &yaml,
        "'exporters' error reading configuration for \"debug\": decoding failed due to the following error(s):\n\n'debugexporter.Config' has invalid keys: verBosity"
    ));
}

#[test]
fn unknown_nested_key_names_its_parent() {
    let yaml = format!(
        "receivers: {{otlp: {{protocols: {{grpc: {{endpoint: 'localhost:4317', foo: 1}}}}}}}}\nexporters: {{debug: }}\n{PIPELINE}"
    );
    insta::assert_snapshot!(failing(&yaml, "'protocols.grpc' has invalid keys: foo"));
}

#[test]
fn unknown_key_in_service_telemetry() {
    let (ok, stderr) = validate(&format!(
        "receivers: {{otlp: {{protocols: {{grpc: }}}}}}\nexporters: {{debug: }}\n{PIPELINE}  telemetry:\n    unknown: 1\n"
    ));
    assert!(!ok);
    assert!(
        stderr.contains("'service.telemetry' has invalid keys: unknown"),
        "{stderr}"
    );
    insta::assert_snapshot!(stderr);
}

#[test]
fn unknown_component_type() {
    let yaml = format!(
        "receivers: {{otlp: {{protocols: {{grpc: }}}}}}\nexporters: {{debug: , foo/bar: }}\n{PIPELINE}"
    );
    insta::assert_snapshot!(failing(
        &yaml,
        "unknown type: \"foo\" for id: \"foo/bar\" (valid values: ["
    ));
}

#[test]
fn removed_logging_exporter() {
    let yaml = format!(
        "receivers: {{otlp: {{protocols: {{grpc: }}}}}}\nexporters: {{logging: }}\n{PIPELINE}"
    );
    insta::assert_snapshot!(failing(
        &yaml,
        "the logging exporter has been deprecated, use the debug exporter instead"
    ));
}

#[test]
fn pipeline_references_an_unconfigured_processor() {
    let yaml = "receivers: {otlp: {protocols: {grpc: }}}\nexporters: {debug: }\nservice:\n  pipelines:\n    traces:\n      receivers: [otlp]\n      processors: [nop]\n      exporters: [debug]\n";
    insta::assert_snapshot!(failing(
        yaml,
        "service::pipelines::traces: references processor \"nop\" which is not configured"
    ));
}

#[test]
fn pipeline_references_an_unconfigured_receiver_and_exporter() {
    let yaml = "receivers: {otlp: {protocols: {grpc: }}}\nexporters: {debug: }\nservice:\n  pipelines:\n    logs/foo:\n      receivers: [otlp/2]\n      exporters: [debug]\n";
    failing(
        yaml,
        "service::pipelines::logs/foo: references receiver \"otlp/2\" which is not configured",
    );
    let yaml = "receivers: {otlp: {protocols: {grpc: }}}\nexporters: {debug: }\nservice:\n  pipelines:\n    logs:\n      receivers: [otlp]\n      exporters: [debug, file]\n";
    failing(
        yaml,
        "service::pipelines::logs: references exporter \"file\" which is not configured",
    );
}

#[test]
fn service_references_an_unconfigured_extension() {
    let yaml = format!(
        "receivers: {{otlp: {{protocols: {{grpc: }}}}}}\nexporters: {{debug: }}\n{PIPELINE}  extensions: [health_check]\n"
    );
    insta::assert_snapshot!(failing(
        &yaml,
        "service::extensions: references extension \"health_check\" which is not configured"
    ));
}

#[test]
fn pipeline_without_receiver_or_exporter() {
    let yaml = "receivers: {otlp: {protocols: {grpc: }}}\nexporters: {debug: }\nservice:\n  pipelines:\n    traces:\n      exporters: [debug]\n";
    failing(
        yaml,
        "service::pipelines::traces: must have at least one receiver",
    );
    let yaml = "receivers: {otlp: {protocols: {grpc: }}}\nexporters: {debug: }\nservice:\n  pipelines:\n    traces:\n      receivers: [otlp]\n";
    failing(
        yaml,
        "service::pipelines::traces: must have at least one exporter",
    );
}

#[test]
fn no_pipelines() {
    failing(
        "receivers: {otlp: {protocols: {grpc: }}}\nexporters: {debug: }\n",
        "service must have at least one pipeline",
    );
}

#[test]
fn component_validation_names_the_component() {
    let yaml = format!("receivers: {{otlp: {{protocols: }}}}\nexporters: {{debug: }}\n{PIPELINE}");
    insta::assert_snapshot!(failing(
        &yaml,
        "receivers::otlp::protocols: must specify at least one protocol when using the OTLP receiver"
    ));
    let yaml = format!(
        "receivers: {{otlp: {{protocols: {{grpc: }}}}}}\nexporters: {{debug: , otlp_grpc: }}\n{PIPELINE}"
    );
    failing(
        &yaml,
        "exporters::otlp_grpc: requires a non-empty \"endpoint\"",
    );
}

#[test]
fn bad_duration_names_the_key() {
    let yaml = format!(
        "receivers: {{otlp: {{protocols: {{grpc: }}}}}}\nprocessors: {{batch: {{timeout: 5 days}}}}\nexporters: {{debug: }}\n{PIPELINE}"
    );
    insta::assert_snapshot!(failing(&yaml, "'timeout' time: unknown unit"));
}

#[test]
fn missing_file() {
    let out = Command::new(ferrotel_bin())
        .args(["validate", "--config=/nonexistent/ferrotel.yaml"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("unable to read the file /nonexistent/ferrotel.yaml"),
        "{stderr}"
    );
}

#[test]
fn deprecated_alias_is_accepted_with_a_warning() {
    let yaml = "receivers: {otlp: {protocols: {grpc: }}}\nexporters: {otlp: {endpoint: 'localhost:4317', tls: {insecure: true}}, otlphttp: {endpoint: 'http://localhost:4318'}}\nservice:\n  pipelines:\n    traces:\n      receivers: [otlp]\n      exporters: [otlp, otlphttp]\n";
    let (ok, stderr) = validate(yaml);
    assert!(ok, "{stderr}");
    assert!(
        stderr.contains("\"otlp\" alias is deprecated; use \"otlp_grpc\" instead"),
        "{stderr}"
    );
    assert!(
        stderr.contains("\"otlphttp\" alias is deprecated; use \"otlp_http\" instead"),
        "{stderr}"
    );
}

#[test]
fn env_expansion_and_set_flags_apply_before_validation() {
    let dir = tempfile::tempdir().unwrap();
    let a = dir.path().join("a.yaml");
    let b = dir.path().join("b.yaml");
    std::fs::write(&a, "receivers: {otlp: {protocols: {grpc: {endpoint: '${env:FERROTEL_E2E_UNSET:-localhost:4317}'}}}}\nexporters: {debug: }\nprocessors: {batch: }\n").unwrap();
    std::fs::write(&b, "service:\n  pipelines:\n    traces:\n      receivers: [otlp]\n      processors: [batch]\n      exporters: [debug]\n").unwrap();
    let out = Command::new(ferrotel_bin())
        .args(["print-config", "--format=json"])
        .arg(format!("--config={}", a.display()))
        .arg(format!("--config=file:{}", b.display()))
        .arg("--set=processors.batch.timeout=2s")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        v["receivers"]["otlp"]["protocols"]["grpc"]["endpoint"],
        "localhost:4317"
    );
    assert_eq!(v["processors"]["batch"]["timeout"], "2s");
    assert_eq!(
        v["service"]["pipelines"]["traces"]["processors"][0],
        "batch"
    );
}

/// Processor and connector configs that cannot run: the OTTL statement
/// and function are named, and Go's words are kept.
#[test]
fn processor_and_connector_errors() {
    let receivers = "receivers: {otlp: {protocols: {grpc: }}}\nexporters: {debug: }\n";
    let cases = [
        (
            "transform: an undefined OTTL function",
            format!(
                "{receivers}processors:\n  transform:\n    log_statements: ['set(log.attributes[\"a\"], Frobnicate(log.body))']\nservice: {{pipelines: {{logs: {{receivers: [otlp], processors: [transform], exporters: [debug]}}}}}}\n"
            ),
            "undefined function \"Frobnicate\"",
        ),
        (
            "filter: a path the context lacks",
            format!(
                "{receivers}processors:\n  filter:\n    logs: {{log_record: ['span.name == \"x\"']}}\nservice: {{pipelines: {{logs: {{receivers: [otlp], processors: [filter], exporters: [debug]}}}}}}\n"
            ),
            "which the log context cannot reach",
        ),
        (
            "attributes: an action without a value",
            format!(
                "{receivers}processors:\n  attributes:\n    actions: [{{key: a, action: insert}}]\nservice: {{pipelines: {{traces: {{receivers: [otlp], processors: [attributes], exporters: [debug]}}}}}}\n"
            ),
            "Either field \"value\", \"from_attribute\", \"from_context\", or \"default_value\" must be specified",
        ),
        (
            "routing: an empty table",
            format!(
                "{receivers}connectors: {{routing: {{default_pipelines: [traces/b]}}}}\nservice: {{pipelines: {{traces/a: {{receivers: [otlp], exporters: [routing]}}, traces/b: {{receivers: [routing], exporters: [debug]}}}}}}\n"
            ),
            "invalid routing table: the routing table is empty",
        ),
        (
            "forward: used as a receiver only",
            format!(
                "{receivers}connectors: {{forward: }}\nservice: {{pipelines: {{traces: {{receivers: [otlp, forward], exporters: [debug]}}}}}}\n"
            ),
            "connector \"forward\" used as receiver in [traces] pipeline but not used in any supported exporter pipeline",
        ),
    ];
    let mut all = String::new();
    for (name, yaml, go_wording) in cases {
        all.push_str(&format!("## {name}\n{}\n", failing(&yaml, go_wording)));
    }
    insta::assert_snapshot!(all);
}
