//! Configs the Go collector v0.165 takes, through the Go oracle and
//! ferrotel side by side: each case must get the same outcome, accepted or
//! refused with the same error lines. They are the incompatibilities real
//! configs hit first: keys given no value or an unset `${env:X}`, stanza
//! operators without ids, settings Go's filelog checks only when it builds
//! the receiver, closed sets of values decoded with Go's words, TLS files
//! read when the collector starts rather than by `validate`.

use ferrotel_e2e::{
    error_lines, ferrotel_bin, oracle_bin, run_until_exit, validate_with, validate_with_env,
};
use std::time::Duration;

/// A config with a filelog receiver carrying `settings` (indented under
/// it) and a debug exporter.
fn filelog(settings: &str) -> String {
    format!(
        "receivers:\n  filelog:\n    include: [/tmp/ferrotel-compat.log]\n{settings}\nexporters: {{debug: }}\nservice: {{pipelines: {{logs: {{receivers: [filelog], exporters: [debug]}}}}}}\n"
    )
}

/// A config with an OTLP receiver and `exporter` (its YAML under
/// `exporters:`) as the one exporter of a logs pipeline.
fn exporter(name: &str, exporter: &str) -> String {
    format!(
        "receivers: {{otlp: {{protocols: {{grpc: }}}}}}\nexporters:\n{exporter}\nservice: {{pipelines: {{logs: {{receivers: [otlp], exporters: [{name}]}}}}}}\n"
    )
}

/// Runs every case through both collectors and reports each difference.
fn assert_same_outcomes(cases: &[(&str, String)]) {
    assert_same_outcomes_with(&[], cases);
}

/// `assert_same_outcomes` with command-line arguments for both.
fn assert_same_outcomes_with(args: &[&str], cases: &[(&str, String)]) {
    let dir = tempfile::tempdir().unwrap();
    // `123` reads as a number, so a string field must get the text.
    let env = [
        ("FERROTEL_COMPAT_NUMBER", Some("123")),
        ("FERROTEL_COMPAT_UNSET", None),
    ];
    let mut differences = Vec::new();
    for (name, yaml) in cases {
        let path = dir.path().join(format!("{name}.yaml"));
        std::fs::write(&path, yaml).unwrap();
        let (go_ok, go_err) = validate_with(&oracle_bin(), &path, &env, args);
        let (our_ok, our_err) = validate_with(&ferrotel_bin(), &path, &env, args);
        let (go, ours) = (error_lines(&go_err), error_lines(&our_err));
        if go_ok != our_ok || go != ours {
            differences.push(format!(
                "{name}:\n  Go ({}): {go:?}\n  ferrotel ({}): {ours:?}",
                if go_ok { "accepted" } else { "refused" },
                if our_ok { "accepted" } else { "refused" },
            ));
        }
    }
    println!("{} cases compared", cases.len());
    assert!(differences.is_empty(), "{}", differences.join("\n"));
}

#[test]
fn keys_without_values_and_unset_variables_decode_as_go_does() {
    let otlp = |settings: &str| {
        exporter(
            "otlp",
            &format!("  otlp:\n    endpoint: localhost:4317\n{settings}"),
        )
    };
    let otlp_http = |settings: &str| {
        exporter(
            "otlp_http",
            &format!("  otlp_http:\n    endpoint: http://localhost:4318\n{settings}"),
        )
    };
    let cases = [
        // Sections given no value keep their defaults; scalars take zero.
        (
            "sections_and_scalars_without_values",
            otlp("    tls:\n    retry_on_failure:\n    sending_queue:\n    headers:\n    compression:\n    timeout:"),
        ),
        (
            "receiver_endpoint_without_value",
            "receivers: {otlp: {protocols: {grpc: {endpoint: }}}}\nexporters: {debug: }\nservice: {pipelines: {logs: {receivers: [otlp], exporters: [debug]}}}\n".to_string(),
        ),
        (
            "unset_variables",
            otlp("    timeout: ${env:FERROTEL_COMPAT_UNSET}\n    headers:\n      a: ${env:FERROTEL_COMPAT_UNSET}\n    retry_on_failure:\n      enabled: ${env:FERROTEL_COMPAT_UNSET}\n      multiplier:"),
        ),
        (
            "number_text_into_a_string_and_a_number",
            otlp("    headers:\n      x: ${env:FERROTEL_COMPAT_NUMBER}\n    sending_queue:\n      queue_size: ${env:FERROTEL_COMPAT_NUMBER}"),
        ),
        // A zero that the setting refuses, refused in Go's words.
        ("queue_size_without_value", otlp_http("    sending_queue:\n      queue_size:")),
        ("queue_size_unset", otlp_http("    sending_queue:\n      queue_size: ${env:FERROTEL_COMPAT_UNSET}")),
        (
            "check_interval_without_value",
            "receivers: {otlp: {protocols: {grpc: }}}\nprocessors:\n  memory_limiter:\n    check_interval:\n    limit_mib: 100\nexporters: {debug: }\nservice: {pipelines: {logs: {receivers: [otlp], processors: [memory_limiter], exporters: [debug]}}}\n".to_string(),
        ),
        // A list given no value keeps its default (`localhost:9092`).
        (
            "kafka_brokers_without_value",
            exporter("kafka", "  kafka:\n    brokers:\n    logs: {topic: x}"),
        ),
        ("filelog_start_at_without_value", filelog("    start_at:")),
        ("filelog_encoding_without_value", filelog("    encoding:")),
        (
            "filelog_include_without_value",
            "receivers:\n  filelog:\n    include:\nexporters: {debug: }\nservice: {pipelines: {logs: {receivers: [filelog], exporters: [debug]}}}\n".to_string(),
        ),
    ];
    assert_same_outcomes(&cases);
}

#[test]
fn closed_sets_of_values_decode_with_go_s_words() {
    let debug =
        |verbosity: &str| exporter("debug", &format!("  debug:\n    verbosity: {verbosity}"));
    let cases = [
        ("debug_verbosity_without_value", debug("")),
        ("debug_verbosity_none", debug("NONE")),
        ("debug_verbosity_unknown", debug("Loud")),
        ("debug_verbosity_any_case", debug("Detailed")),
        (
            "otlp_http_encoding_without_value",
            exporter(
                "otlp_http",
                "  otlp_http:\n    endpoint: http://x:4318\n    encoding:",
            ),
        ),
        (
            "otlp_http_encoding_upper_case",
            exporter(
                "otlp_http",
                "  otlp_http:\n    endpoint: http://x:4318\n    encoding: JSON",
            ),
        ),
        (
            "file_format_without_value",
            exporter(
                "file",
                "  file:\n    path: /tmp/ferrotel-compat.json\n    format:",
            ),
        ),
        (
            "file_format_unknown",
            exporter(
                "file",
                "  file:\n    path: /tmp/ferrotel-compat.json\n    format: csv",
            ),
        ),
        (
            "tls_server_block_without_a_certificate",
            "receivers: {otlp: {protocols: {grpc: {tls: {min_version: '1.3'}}}}}\nexporters: {debug: }\nservice: {pipelines: {logs: {receivers: [otlp], exporters: [debug]}}}\n".to_string(),
        ),
        (
            "http_tls_server_block_without_a_certificate",
            "receivers: {otlp: {protocols: {http: {tls: {min_version: '1.3'}}}}}\nexporters: {debug: }\nservice: {pipelines: {logs: {receivers: [otlp], exporters: [debug]}}}\n".to_string(),
        ),
        (
            "grpc_tls_server_block_with_a_key_only",
            "receivers: {otlp: {protocols: {grpc: {tls: {key_file: /x.pem}}}}}\nexporters: {debug: }\nservice: {pipelines: {logs: {receivers: [otlp], exporters: [debug]}}}\n".to_string(),
        ),
        (
            "tls_server_block_with_a_certificate_only",
            "receivers: {otlp: {protocols: {http: {tls: {cert_file: /x.pem}}}}}\nexporters: {debug: }\nservice: {pipelines: {logs: {receivers: [otlp], exporters: [debug]}}}\n".to_string(),
        ),
        (
            "invalid_keys_sorted",
            exporter("debug", "  debug:\n    zeta: 1\n    alpha: 2"),
        ),
    ];
    assert_same_outcomes(&cases);
}

#[test]
fn filelog_checks_its_settings_when_it_is_built_as_stanza_does() {
    let cases = [
        ("start_at_unknown", filelog("    start_at: middle")),
        ("encoding_unknown", filelog("    encoding: latin9")),
        ("compression_any_name", filelog("    compression: zstd")),
        (
            "max_concurrent_files_one",
            filelog("    max_concurrent_files: 1"),
        ),
        (
            "max_concurrent_files_zero",
            filelog("    max_concurrent_files: 0"),
        ),
        (
            "fingerprint_size_small",
            filelog("    fingerprint_size: 10"),
        ),
        (
            "delete_after_read_at_end",
            filelog("    delete_after_read: true"),
        ),
        ("multiline_without_patterns", filelog("    multiline: {}")),
        (
            "multiline_both_patterns",
            filelog("    multiline: {line_start_pattern: a, line_end_pattern: b}"),
        ),
    ];
    assert_same_outcomes(&cases);
}

#[test]
fn stanza_operators_get_distinct_default_ids_and_go_s_errors() {
    let operators = |list: &str| filelog(&format!("    operators:\n{list}"));
    let cases = [
        (
            "repeated_default_ids",
            operators(
                "      - {type: move, from: body.a, to: body.b}\n      - {type: move, from: body.c, to: body.d}\n      - {type: move, from: body.e, to: body.f}",
            ),
        ),
        (
            "default_id_taken_by_a_given_one",
            operators(
                "      - {type: move, from: body.a, to: body.b}\n      - {type: noop, id: move1}\n      - {type: move, from: body.c, to: body.d}",
            ),
        ),
        (
            "repeated_given_ids",
            operators("      - {type: noop, id: a}\n      - {type: noop, id: a}"),
        ),
        ("unknown_type", operators("      - {type: nope}")),
        (
            "keys_no_operator_reads",
            operators("      - {type: move, from: body, to: attributes.x, bogus: 1}"),
        ),
        (
            "output_to_nowhere",
            operators("      - {type: noop, output: nowhere}"),
        ),
    ];
    assert_same_outcomes(&cases);
}

#[test]
fn tls_files_are_read_at_start_not_by_validate() {
    // A port nobody listens on keeps the receiver from clashing with others.
    let receiver = "receivers: {otlp: {protocols: {grpc: {endpoint: \"localhost:1\"}}}}";
    let pipeline = |exporter: &str| {
        format!(
            "service: {{telemetry: {{metrics: {{level: none}}}}, pipelines: {{logs: {{receivers: [otlp], exporters: [{exporter}]}}}}}}\n"
        )
    };
    let cases = [
        (
            "otlp_grpc_ca_file",
            format!("{receiver}\nexporters:\n  otlp:\n    endpoint: localhost:4317\n    tls: {{ca_file: /nonexistent/ca.pem}}\n{}", pipeline("otlp")),
        ),
        (
            "otlp_http_ca_file",
            format!("{receiver}\nexporters:\n  otlp_http:\n    endpoint: https://localhost:4318\n    tls: {{ca_file: /nonexistent/ca.pem}}\n{}", pipeline("otlp_http")),
        ),
        (
            "otlp_http_client_certificate",
            format!("{receiver}\nexporters:\n  otlp_http:\n    endpoint: https://localhost:4318\n    tls: {{cert_file: /nonexistent/c.pem, key_file: /nonexistent/k.pem}}\n{}", pipeline("otlp_http")),
        ),
        (
            "kafka_ca_file",
            format!("{receiver}\nexporters:\n  kafka:\n    brokers: [localhost:1]\n    tls: {{ca_file: /nonexistent/ca.pem}}\n{}", pipeline("kafka")),
        ),
        (
            "otlp_receiver_certificate",
            "receivers: {otlp: {protocols: {http: {endpoint: \"localhost:1\", tls: {cert_file: /nonexistent/c.pem, key_file: /nonexistent/k.pem}}}}}\nexporters: {debug: }\nservice: {telemetry: {metrics: {level: none}}, pipelines: {logs: {receivers: [otlp], exporters: [debug]}}}\n".to_string(),
        ),
    ];
    // `validate` takes every one, as Go's does.
    assert_same_outcomes(&cases);
    let dir = tempfile::tempdir().unwrap();
    for (name, yaml) in &cases {
        let path = dir.path().join(format!("{name}.yaml"));
        std::fs::write(&path, yaml).unwrap();
        let run = |bin: &std::path::Path| {
            let (ok, stderr) = run_until_exit(bin, &path, Duration::from_secs(20));
            assert!(!ok, "{name}: must fail at start:\n{stderr}");
            error_lines(&stderr)
                .into_iter()
                .filter(|l| l.starts_with("Error: "))
                .collect::<Vec<_>>()
        };
        let go = run(&oracle_bin());
        assert_eq!(go.len(), 1, "{name}: {go:?}");
        assert_eq!(run(&ferrotel_bin()), go, "{name}");
    }
}

/// The body and string attributes of every log record in an OTLP/JSON
/// file-exporter output, sorted.
fn records(path: &std::path::Path) -> Vec<(String, Vec<(String, String)>)> {
    let mut out = Vec::new();
    for request in ferrotel_e2e::read_json_file(path) {
        let resource_logs = request["resourceLogs"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        for rl in resource_logs {
            for sl in rl["scopeLogs"].as_array().cloned().unwrap_or_default() {
                for record in sl["logRecords"].as_array().cloned().unwrap_or_default() {
                    let body = record["body"]["stringValue"].as_str().unwrap_or_default();
                    let mut attributes: Vec<(String, String)> = record["attributes"]
                        .as_array()
                        .cloned()
                        .unwrap_or_default()
                        .iter()
                        .filter(|kv| kv["key"] != "log.file.name")
                        .map(|kv| {
                            let key = kv["key"].as_str().unwrap_or_default().to_string();
                            let value = kv["value"]["stringValue"].as_str().unwrap_or_default();
                            (key, value.to_string())
                        })
                        .collect();
                    attributes.sort();
                    out.push((body.to_string(), attributes));
                }
            }
        }
    }
    out.sort();
    out
}

/// Runs `bin` on `config` until its file exporter at `out` holds `want`
/// records (bounded), then stops it.
fn run_until_records(
    bin: &std::path::Path,
    config: &std::path::Path,
    out: &std::path::Path,
    want: usize,
) -> Vec<(String, Vec<(String, String)>)> {
    let mut child = std::process::Command::new(bin)
        .arg(format!("--config={}", config.display()))
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let done = ferrotel_e2e::wait_until(Duration::from_secs(30), || {
        out.exists() && records(out).len() >= want
    });
    let _ = child.kill();
    let _ = child.wait();
    assert!(done, "{} wrote {:?}", bin.display(), records(out));
    records(out)
}

#[test]
fn go_regular_expressions_parse_the_same_lines_as_in_go() {
    // Constructs RE2 takes and Rust's regex refuses or reads otherwise: a
    // group named by a digit, \Q..\E, an escaped `<`, octal, ASCII \d and
    // \w, a `{` that is no repetition (the usual JSON line start).
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("in.log");
    std::fs::write(
        &log,
        "12 [x] alpha <one> A\n{\"continued\":\n  true}\n٣4 [x] é <two> A\n{\"b\": 1}\n",
    )
    .unwrap();
    let config = |out: &std::path::Path| {
        format!(
            r#"
receivers:
  filelog:
    include: ['{log}']
    start_at: beginning
    multiline:
      line_start_pattern: '^{{|^\d'
    operators:
      - type: regex_parser
        regex: '^(?P<0>\d+) \Q[x]\E (?P<word>\w*)\W*\<(?P<tag>[^>]+)\> \101$'
        on_error: send_quiet
exporters:
  file: {{path: '{out}'}}
service:
  telemetry: {{metrics: {{level: none}}}}
  pipelines:
    logs: {{receivers: [filelog], exporters: [file]}}
"#,
            log = log.display(),
            out = out.display()
        )
    };
    let mut outputs = Vec::new();
    for (name, bin) in [("go", oracle_bin()), ("ferrotel", ferrotel_bin())] {
        let out = dir.path().join(format!("{name}.json"));
        let path = dir.path().join(format!("{name}.yaml"));
        std::fs::write(&path, config(&out)).unwrap();
        outputs.push(run_until_records(&bin, &path, &out, 3));
    }
    let (go, ours) = (&outputs[0], &outputs[1]);
    assert_eq!(ours, go);
    // The first line parsed, with Go's group names as keys.
    let parsed = go.iter().find(|(body, _)| body.starts_with("12 ")).unwrap();
    assert_eq!(
        parsed.1,
        [
            ("0".into(), "12".into()),
            ("tag".into(), "one".into()),
            ("word".into(), "alpha".into())
        ]
    );
}

#[test]
fn filter_and_retain_operators_keep_what_go_keeps() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("in.log");
    std::fs::write(
        &log,
        "{\"level\":\"debug\",\"msg\":\"noise\",\"x\":\"1\"}\n{\"level\":\"info\",\"msg\":\"kept\",\"x\":\"2\"}\n{\"level\":\"warn\",\"msg\":\"also\",\"y\":\"3\"}\n",
    )
    .unwrap();
    let config = |out: &std::path::Path| {
        format!(
            r#"
receivers:
  filelog:
    include: ['{log}']
    start_at: beginning
    operators:
      - type: json_parser
      - type: filter
        expr: 'attributes.level == "debug"'
      - type: retain
        fields: [attributes.msg, attributes.level]
exporters:
  file: {{path: '{out}'}}
service:
  telemetry: {{metrics: {{level: none}}}}
  pipelines:
    logs: {{receivers: [filelog], exporters: [file]}}
"#,
            log = log.display(),
            out = out.display()
        )
    };
    let mut outputs = Vec::new();
    for (name, bin) in [("go", oracle_bin()), ("ferrotel", ferrotel_bin())] {
        let out = dir.path().join(format!("{name}.json"));
        let path = dir.path().join(format!("{name}.yaml"));
        std::fs::write(&path, config(&out)).unwrap();
        outputs.push(run_until_records(&bin, &path, &out, 2));
    }
    assert_eq!(outputs[1], outputs[0]);
    let keys: Vec<Vec<&str>> = outputs[0]
        .iter()
        .map(|(_, attrs)| attrs.iter().map(|(k, _)| k.as_str()).collect())
        .collect();
    assert_eq!(keys, [["level", "msg"], ["level", "msg"]]);
}

#[test]
fn unknown_types_in_several_sections_are_all_reported_as_go_reports_them() {
    // The valid values differ (the two binaries have different components),
    // so they are cut off; the lines and their order must agree.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("several.yaml");
    std::fs::write(
        &path,
        "receivers: {hostmetrics: , otlp: {protocols: {grpc: }}}\nprocessors: {cumulativetodelta: }\nexporters: {prometheusremotewrite: , debug: }\nextensions: {zzz: }\nconnectors: {spanmetrics: }\nservice: {pipelines: {traces: {receivers: [otlp], exporters: [debug]}}}\n",
    )
    .unwrap();
    let lines = |bin: &std::path::Path| -> Vec<String> {
        let (ok, stderr) = validate_with_env(bin, &path, &[]);
        assert!(!ok);
        error_lines(&stderr)
            .into_iter()
            .map(|l| {
                l.split(" (valid values")
                    .next()
                    .unwrap_or_default()
                    .to_string()
            })
            .collect()
    };
    let go = lines(&oracle_bin());
    assert_eq!(go.len(), 6, "{go:?}");
    assert_eq!(lines(&ferrotel_bin()), go);
}

#[test]
fn a_port_already_taken_fails_the_start_in_go_s_words() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = taken.local_addr().unwrap().port();
    let dir = tempfile::tempdir().unwrap();
    let cases = [
        (
            "receiver",
            format!(
                "receivers: {{otlp: {{protocols: {{grpc: {{endpoint: 'localhost:{port}'}}}}}}}}\nexporters: {{debug: }}\nservice: {{telemetry: {{metrics: {{level: none}}}}, pipelines: {{logs: {{receivers: [otlp], exporters: [debug]}}}}}}\n"
            ),
        ),
        (
            "self_metrics",
            format!(
                "receivers: {{otlp: {{protocols: {{grpc: {{endpoint: 'localhost:1'}}}}}}}}\nexporters: {{debug: }}\nservice: {{telemetry: {{metrics: {{readers: [{{pull: {{exporter: {{prometheus: {{host: localhost, port: {port}}}}}}}}}]}}}}, pipelines: {{logs: {{receivers: [otlp], exporters: [debug]}}}}}}\n"
            ),
        ),
    ];
    for (name, yaml) in &cases {
        let path = dir.path().join(format!("{name}.yaml"));
        std::fs::write(&path, yaml).unwrap();
        let run = |bin: &std::path::Path| {
            let (ok, stderr) = run_until_exit(bin, &path, Duration::from_secs(20));
            assert!(!ok, "{name}: must fail at start:\n{stderr}");
            error_lines(&stderr)
                .into_iter()
                .filter(|l| l.starts_with("Error: "))
                .collect::<Vec<_>>()
        };
        let go = run(&oracle_bin());
        assert_eq!(go.len(), 1, "{name}: {go:?}");
        assert_eq!(run(&ferrotel_bin()), go, "{name}");
    }
    drop(taken);
}

#[test]
fn profiles_pipelines_need_the_gate_and_components_that_take_profiles() {
    let config = |receivers: &str, processors: &str, exporters: &str| {
        format!(
            "receivers:
  otlp: {{protocols: {{grpc: {{endpoint: '127.0.0.1:24317'}}, http: {{endpoint: '127.0.0.1:24318'}}}}}}
  zipkin: {{endpoint: '127.0.0.1:29411'}}
  filelog: {{include: [/tmp/ferrotel-compat.log]}}
processors: {{batch: , memory_limiter: {{check_interval: 1s, limit_mib: 100}}}}
exporters: {{debug: , nop: , otlp: {{endpoint: '127.0.0.1:1'}}, otlphttp: {{endpoint: 'http://127.0.0.1:1'}}}}
service:
  pipelines:
    profiles/in: {{receivers: {receivers}, processors: {processors}, exporters: {exporters}}}
"
        )
    };
    let cases = [
        (
            "otlp to every exporter",
            config("[otlp]", "[memory_limiter]", "[debug, nop, otlp, otlphttp]"),
        ),
        ("batch", config("[otlp]", "[batch]", "[debug]")),
        ("zipkin", config("[zipkin]", "[]", "[debug]")),
        ("filelog", config("[filelog]", "[]", "[nop]")),
    ];
    // Without the gate every profiles pipeline is refused, whatever it holds.
    assert_same_outcomes(&cases);
    assert_same_outcomes_with(&["--feature-gates=service.profilesSupport"], &cases);
}

#[test]
fn values_of_the_wrong_type_are_named_with_go_s_types() {
    let with_extension = |name: &str, yaml: &str| {
        format!(
            "extensions: {{{name}: {yaml}}}\nreceivers: {{otlp: {{protocols: {{grpc: }}}}}}\nexporters: {{nop: }}\nservice: {{extensions: [{name}], pipelines: {{traces: {{receivers: [otlp], exporters: [nop]}}}}}}\n"
        )
    };
    assert_same_outcomes(&[
        (
            "opaque from int",
            with_extension("bearertokenauth", "{token: 123}"),
        ),
        (
            "opaque from list",
            with_extension("bearertokenauth", "{token: [a]}"),
        ),
        (
            "string from map",
            with_extension("zpages", "{endpoint: {a: 1}}"),
        ),
        (
            "bool from string",
            with_extension("file_storage", "{fsync: yes-please}"),
        ),
        (
            "int from string",
            with_extension("pprof", "{block_profile_fraction: abc}"),
        ),
    ]);
}
