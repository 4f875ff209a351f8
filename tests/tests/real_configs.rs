//! Real collector configs written by other people (the Helm chart's
//! examples, the OpenTelemetry demo, opentelemetry.io, the operator's e2e
//! tests, contrib's and the collector's examples, vendors' example repos),
//! kept as written in `tests/testdata/real-configs/` with their provenance in
//! that directory's README.
//!
//! Each config goes through `ferrotel validate` with a placeholder for every
//! environment variable it uses. When ferrotel refuses a component type it
//! does not have, the test takes that type out (its components, and their
//! ids in the pipelines; a pipeline left without receivers or exporters goes
//! too) and validates again, until the rest validates or fails for another
//! reason. [`EXPECTED`] says, per file, which types are missing and what the
//! rest does: validate (and, where it can run here, start and stop on
//! SIGTERM with exit 0), leave no pipeline, be refused the way Go v0.165
//! refuses it too, or be refused where Go would not — an incompatibility, a
//! bug to fix, listed so that it is seen and not hidden.
//!
//! `REAL_CONFIGS_PRINT=1` prints what each file does as a row of the table.

use ferrotel_e2e::{error_lines, ferrotel_bin, validate_with, wait_until, workspace_root};
use serde_yaml_ng::{Mapping, Value};
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

/// What a config does once its missing component types are taken out.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Rest {
    /// Validates, and starts and stops cleanly here.
    Starts,
    /// Validates; not started here: a config with missing types cannot run
    /// as written, and the others say why in a comment.
    Validates,
    /// Every pipeline needs a missing component: nothing left to check.
    NothingLeft,
    /// Refused, and Go v0.165 refuses it too (a stale or broken config):
    /// ferrotel's error contains this text.
    InvalidInGo(&'static str),
    /// Refused where Go would take it: a ferrotel incompatibility, a bug.
    /// ferrotel's error contains this text.
    Incompatible(&'static str),
}

use Rest::*;

/// (file, component types ferrotel does not have, what the rest does).
#[rustfmt::skip]
const EXPECTED: &[(&str, &[&str], Rest)] = &[
    ("collector-examples-k8s-otel-agent-conf.yaml", &[], Starts),
    ("collector-examples-k8s-otel-collector-conf.yaml", &[], Starts),
    ("collector-examples-local.yaml", &[], Starts),
    // Go: the same line (oracle, once prometheus is out)
    ("contrib-examples-demo.yaml", &["prometheus"], InvalidInGo("the logging exporter has been deprecated, use the debug exporter instead")),
    // Go: the same line (oracle); the directory exists where the example runs
    ("contrib-examples-fault-tolerant-logs.yaml", &[], InvalidInGo("directory must exist: stat /var/lib/otelcol/file_storage/receiver")),
    ("contrib-examples-kubernetes.yaml", &[], Starts),
    // Go validates it (oracle)
    ("contrib-examples-logline-filter-in.yaml", &[], Starts),
    // needs its TLS files (/etc/otel-collector.crt): Go fails at start the same way
    ("contrib-examples-secure-tracing.yaml", &[], Validates),
    ("demo-ebpf-profiling.yaml", &["profiling"], NothingLeft),
    // Go's filter (and resource_detection) processors take profiles; ferrotel's not yet
    ("demo-otelcol-config.yaml", &["http_check", "nginx", "docker_stats", "redis", "postgresql", "prometheus", "host_metrics", "gen_ai_normalizer", "span_metrics"], Incompatible("filter/sanitize_profiles: profiles: profiles are not supported by ferrotel's filter processor yet")),
    ("docs-configuration-1.yaml", &[], Starts),
    ("docs-configuration-2.yaml", &[], Starts),
    // Go reads the file (and here says: unable to read the file file:exporters.yaml)
    ("docs-configuration-3.yaml", &[], InvalidInGo("unable to read the file file:exporters.yaml: open exporters.yaml: no such file or directory")),
    ("docs-configuration-4.yaml", &[], Starts),
    ("docs-configuration-5.yaml", &["foo"], NothingLeft),
    ("docs-configuration-6.yaml", &[], Validates),
    ("docs-configuration-7.yaml", &[], Starts),
    // Go reads the file
    ("docs-configuration-8.yaml", &[], InvalidInGo("unable to read the file file:otlp-exporter.yaml: open otlp-exporter.yaml: no such file or directory")),
    ("docs-deploy-agent-1.yaml", &[], Starts),
    ("docs-deploy-agent-2.yaml", &["prometheusremotewrite"], NothingLeft),
    ("docs-deploy-agent-3.yaml", &[], Starts),
    ("docs-deploy-gateway-1.yaml", &["loadbalancing"], NothingLeft),
    ("docs-deploy-gateway-2.yaml", &["loadbalancing"], NothingLeft),
    ("docs-deploy-gateway-3.yaml", &["loadbalancing"], NothingLeft),
    ("docs-deploy-other-agent-to-gateway-1.yaml", &["host_metrics"], Validates),
    ("docs-deploy-other-agent-to-gateway-2.yaml", &["loadbalancing"], NothingLeft),
    ("docs-deploy-other-agent-to-gateway-3.yaml", &["tail_sampling"], Validates),
    ("docs-exporters-intro-1.yaml", &[], Starts),
    ("docs-extend-custom-component-connector-1.yaml", &["example"], NothingLeft),
    ("docs-extend-custom-component-receiver-1.yaml", &[], Starts),
    ("docs-extend-custom-component-receiver-2.yaml", &["tailtracer"], Validates),
    ("docs-languages-erlang-exporters-1.yaml", &[], Starts),
    ("docs-languages-python-distro-1.yaml", &[], Starts),
    ("docs-management-1.yaml", &["host_metrics"], NothingLeft),
    // Go: the same lines (oracle): service::telemetry::metrics::address is gone
    ("docs-platforms-faas-lambda-collector-1.yaml", &[], InvalidInGo("'migration.MetricsConfigV030' has invalid keys: address")),
    // Go: the same lines (oracle)
    ("docs-platforms-faas-lambda-collector-2.yaml", &["awsxray"], InvalidInGo("'migration.MetricsConfigV030' has invalid keys: address")),
    // Go: the same lines (oracle)
    ("docs-platforms-kubernetes-helm-collector-1.yaml", &["prometheus"], InvalidInGo("'migration.MetricsConfigV030' has invalid keys: address")),
    ("docs-platforms-kubernetes-operator-target-allocator-1.yaml", &["prometheus"], NothingLeft),
    // Go: the same lines (oracle): the top-level topic gave way to traces/metrics/logs::topic
    ("docs-resiliency-1.yaml", &[], InvalidInGo("'kafkaexporter.Config' has invalid keys: topic")),
    // Go: not checked (the oracle has no kafka receiver); the receiver's top-level topic went with the exporter's
    ("docs-resiliency-2.yaml", &[], InvalidInGo("'kafkareceiver.Config' has invalid keys: topic")),
    ("docs-scaling-1.yaml", &["loadbalancing"], NothingLeft),
    ("docs-troubleshooting-1.yaml", &[], Starts),
    ("docs-zero-code-obi-configure-collector-receiver-1.yaml", &["obi"], NothingLeft),
    ("docs-zero-code-obi-configure-collector-receiver-2.yaml", &["obi"], NothingLeft),
    ("docs-zero-code-obi-configure-collector-receiver-3.yaml", &["obi"], NothingLeft),
    ("docs-zero-code-obi-configure-collector-receiver-4.yaml", &["obi"], NothingLeft),
    ("elastic-architecture-kafka-1.yaml", &[], Starts),
    ("elastic-architecture-kafka-2.yaml", &["elasticsearch"], NothingLeft),
    ("elastic-architecture-kafka-3.yaml", &[], Starts),
    // Go validates the file_log receiver (oracle)
    ("grafana-lgtm-java-json-logging-logback.yaml", &["prometheus"], Validates),
    ("grafana-lgtm-java-json-logging-otlp.yaml", &["prometheus", "otlpjson"], Validates),
    // a profiles pipeline: validated with the gate, as the image runs Go
    ("grafana-lgtm-otelcol-config.yaml", &["prometheus"], Validates),
    ("helm-alternate-config.yaml", &["k8s_cluster", "k8s_attributes", "k8sobjects"], NothingLeft),
    ("helm-daemonset-and-deployment-agent.yaml", &["prometheus"], Validates),
    ("helm-daemonset-annotation-discovery-agent.yaml", &["prometheus", "receiver_creator", "k8s_observer"], Validates),
    ("helm-daemonset-cluster-metrics-agent.yaml", &["k8s_cluster", "prometheus", "k8s_leader_elector"], Validates),
    ("helm-daemonset-collector-logs-agent.yaml", &["prometheus"], Validates),
    ("helm-daemonset-hostmetrics-agent.yaml", &["hostmetrics", "prometheus"], Validates),
    ("helm-daemonset-kubernetes-objects-agent.yaml", &["k8sobjects", "prometheus", "k8s_leader_elector"], Validates),
    // Go validates it (it calls the API at start)
    ("helm-daemonset-resource-detection-agent.yaml", &["prometheus"], Validates),
    ("helm-deployment-cluster-metrics.yaml", &["k8s_cluster", "prometheus"], Validates),
    ("helm-deployment-only.yaml", &["prometheus"], Validates),
    ("helm-deployment-otlp-traces.yaml", &[], Starts),
    ("helm-internalTelemetryViaOTLP.yaml", &[], Starts),
    // Go: the same line (oracle): the chart's example names a processor it never defines
    ("helm-kubernetesAttributes.yaml", &["prometheus", "k8s_attributes"], InvalidInGo("references processor \"resource\" which is not configured")),
    ("newrelic-docker.yaml", &["docker_stats"], NothingLeft),
    ("newrelic-host-monitoring-k8s.yaml", &["hostmetrics", "metricstransform", "cumulativetodelta"], Validates),
    ("newrelic-internal-telemetry.yaml", &[], Starts),
    // Go: the same lines (oracle): $VAR without braces is not expanded
    ("newrelic-java-logs-in-context.yaml", &[], InvalidInGo("'verbosity' unknown metrics level \"$log_exporter_log_verbosity\"")),
    ("newrelic-nr-config.yaml", &["fluentforward", "cumulativetodelta"], Validates),
    ("newrelic-self-host-kafka.yaml", &["kafkametrics", "cumulativetodelta", "groupbyattrs", "metricstransform"], Validates),
    ("newrelic-statsd-k8s.yaml", &["statsd"], NothingLeft),
    ("operator-annotation-change.yaml", &[], Starts),
    ("operator-autoscale-simplest.yaml", &[], Starts),
    ("operator-collector-metrics-raw.yaml", &["prometheus"], NothingLeft),
    ("operator-env-config.yaml", &[], Starts),
    ("operator-filelog-receiver.yaml", &[], Starts),
    ("operator-health-check-extension.yaml", &[], Starts),
    ("operator-instrumentation-collector.yaml", &[], Starts),
    ("operator-instrumentation-initcontainer-collector.yaml", &[], Starts),
    ("operator-internal-metrics.yaml", &[], Starts),
    ("operator-k8sattributes.yaml", &["k8sattributes"], Validates),
    ("operator-kafka-exporter.yaml", &[], Starts),
    ("operator-kafka-receiver.yaml", &[], Starts),
    ("operator-lokistack.yaml", &["k8sattributes"], Validates),
    ("operator-monitoring.yaml", &[], Starts),
    // needs its TLS files (/certs/server.crt)
    ("operator-multi-cluster-otlp-receiver.yaml", &[], Validates),
    ("operator-networkpolicy.yaml", &["prometheus"], Validates),
    ("operator-opampbridge.yaml", &[], Starts),
    ("operator-resourcedetection.yaml", &[], Starts),
    ("operator-smoke-deletion.yaml", &["nop"], NothingLeft),
    ("operator-targetallocator-features.yaml", &["prometheus"], NothingLeft),
    // Go refuses it too (oracle), in other words: `receivers::otlp::protocols::grpc: tls: TLS configuration must include both certificate and key for server connections`
    ("operator-tls-profile-override.yaml", &[], InvalidInGo("receivers::otlp::protocols::grpc: tls: TLS configuration must include both certificate and key for server connections")),
    ("operator-versioned-configmaps.yaml", &[], Starts),
    ("signoz-devenv-otel-collector.yaml", &["prometheus", "signozspanmetrics", "clickhousetraces", "signozclickhousemetrics", "clickhouselogsexporter"], NothingLeft),
    // Go: the same lines (oracle)
    ("uptrace-config.yaml", &["hostmetrics", "httpcheck", "postgresql", "prometheus", "cumulativetodelta", "prometheusremotewrite"], InvalidInGo("'migration.MetricsConfigV030' has invalid keys: address")),
    // Go: the same lines (oracle)
    ("uptrace-docker.yaml", &["hostmetrics", "httpcheck", "postgresql", "prometheus", "prometheusremotewrite"], InvalidInGo("'migration.MetricsConfigV030' has invalid keys: address")),
    // Go: the same line (oracle)
    ("uptrace-redis-enterprise.yaml", &[], InvalidInGo("the logging exporter has been deprecated, use the debug exporter instead")),
];

/// The directory of the corpus.
fn corpus_dir() -> PathBuf {
    workspace_root().join("tests/testdata/real-configs")
}

/// The configs, sorted by name.
fn corpus() -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(corpus_dir())
        .expect("read the corpus directory")
        .map(|e| e.expect("dir entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "yaml"))
        .collect();
    files.sort();
    files
}

/// A plausible value for an environment variable, from its name.
fn placeholder(name: &str) -> &'static str {
    let n = name.to_ascii_uppercase();
    match n.as_str() {
        // debug exporter's verbosity
        "LOG_EXPORTER_LOG_VERBOSITY" => return "basic",
        // a boolean option of signoz's span metrics
        "LOW_CARDINAL_EXCEPTION_GROUPING" => return "false",
        _ => {}
    }
    if n.ends_with("_IP") {
        "127.0.0.1"
    } else if n.contains("PORT") {
        if n.contains("HTTP") {
            "4318"
        } else if n.contains("GRPC") {
            "4317"
        } else {
            "8080"
        }
    } else if n.contains("INTERVAL") {
        "60s"
    } else if n.contains("ENDPOINT") || n.ends_with("_URL") {
        "http://localhost:4318"
    } else if n.contains("BROKER") || n.ends_with("ADDRESSES") {
        "localhost:9092"
    } else if n.ends_with("_ADDR") {
        "localhost:8080"
    } else if n.ends_with("HOST") {
        "localhost"
    } else if n.contains("NAMESPACE") {
        "default"
    } else {
        // keys, tokens, passwords, names
        "placeholder"
    }
}

/// The environment for a config: a placeholder for each `${env:X}` or
/// `${X}` it uses; variables with a default (`${env:X:-default}`) are unset
/// so that the default applies.
fn env_for(text: &str) -> Vec<(String, Option<String>)> {
    let mut vars = BTreeMap::new();
    let mut rest = text;
    while let Some(start) = rest.find("${") {
        let inner = &rest[start + 2..];
        let Some(end) = inner.find('}') else { break };
        let reference = &inner[..end];
        rest = &inner[end..];
        let reference = reference.strip_prefix("env:").unwrap_or(reference);
        let (name, default) = match reference.split_once(":-") {
            Some((name, _)) => (name, true),
            None => (reference, false),
        };
        let is_name = !name.is_empty()
            && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
            && !name.starts_with(|c: char| c.is_ascii_digit());
        if !is_name {
            continue; // ${file:...} and other schemes
        }
        let value = (!default).then(|| placeholder(name).to_string());
        vars.insert(name.to_string(), value);
    }
    vars.into_iter().collect()
}

/// The configs with profiles pipelines come from deployments that run Go
/// with this gate (the demo sets it); for the others it changes nothing.
const GATES: &str = "--feature-gates=service.profilesSupport";

fn validate(path: &Path, env: &[(String, Option<String>)]) -> (bool, Vec<String>) {
    let env: Vec<(&str, Option<&str>)> = env
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_deref()))
        .collect();
    let (ok, stderr) = validate_with(&ferrotel_bin(), path, &env, &[GATES]);
    (ok, error_lines(&stderr))
}

/// `(kind, type)` of an unknown-type line:
/// `'exporters' unknown type: "x" for id: "x/y" (valid values: [...])`.
fn unknown_type(line: &str) -> Option<(String, String)> {
    let rest = line.strip_prefix('\'')?;
    let (kind, rest) = rest.split_once("' unknown type: \"")?;
    let (ty, rest) = rest.split_once('"')?;
    rest.starts_with(" for id: \"")
        .then(|| (kind.to_string(), ty.to_string()))
}

/// The first line of ferrotel's unmarshal errors, which names no component.
const DECODE_HEADER: &str = "Error: failed to get config: cannot unmarshal the configuration: decoding failed due to the following error(s):";

fn seq_mut<'a>(map: &'a mut Mapping, key: &str) -> Option<&'a mut Vec<Value>> {
    map.get_mut(key).and_then(Value::as_sequence_mut)
}

fn is_type(id: &str, ty: &str) -> bool {
    id.split('/').next() == Some(ty)
}

/// Takes the components of type `ty` out of section `kind` and their ids
/// out of the service; drops pipelines left without receivers or exporters
/// and connectors left on one side only. False when no pipeline is left.
fn remove_type(config: &mut Value, kind: &str, ty: &str) -> bool {
    let root = config.as_mapping_mut().expect("a config is a mapping");
    let mut ids = BTreeSet::new();
    if let Some(section) = root.get_mut(kind).and_then(Value::as_mapping_mut) {
        section.retain(|k, _| {
            let id = k.as_str().unwrap_or_default();
            if is_type(id, ty) {
                ids.insert(id.to_string());
                false
            } else {
                true
            }
        });
    }
    let Some(service) = root.get_mut("service").and_then(Value::as_mapping_mut) else {
        return false;
    };
    let drop_ids = |list: &mut Vec<Value>, ids: &BTreeSet<String>| {
        list.retain(|v| !ids.contains(v.as_str().unwrap_or_default()))
    };
    if kind == "extensions"
        && let Some(list) = seq_mut(service, "extensions")
    {
        drop_ids(list, &ids);
    }
    let roles: &[&str] = match kind {
        "receivers" => &["receivers"],
        "processors" => &["processors"],
        "exporters" => &["exporters"],
        "connectors" => &["receivers", "exporters"],
        _ => &[],
    };
    let Some(pipelines) = service.get_mut("pipelines").and_then(Value::as_mapping_mut) else {
        return false;
    };
    for pipeline in pipelines.values_mut() {
        if let Some(pipeline) = pipeline.as_mapping_mut() {
            for role in roles {
                if let Some(list) = seq_mut(pipeline, role) {
                    drop_ids(list, &ids);
                }
            }
        }
    }
    let mut connectors: BTreeSet<String> = root
        .get("connectors")
        .and_then(Value::as_mapping)
        .map(|m| {
            m.keys()
                .filter_map(|k| k.as_str().map(String::from))
                .collect()
        })
        .unwrap_or_default();
    loop {
        let service = root
            .get_mut("service")
            .and_then(Value::as_mapping_mut)
            .unwrap();
        let pipelines = service
            .get_mut("pipelines")
            .and_then(Value::as_mapping_mut)
            .unwrap();
        let before = pipelines.len();
        pipelines.retain(|_, p| {
            ["receivers", "exporters"].iter().all(|role| {
                p.get(role)
                    .and_then(Value::as_sequence)
                    .is_some_and(|l| !l.is_empty())
            })
        });
        let used = |role: &str, c: &str, pipelines: &Mapping| {
            pipelines.values().any(|p| {
                p.get(role)
                    .and_then(Value::as_sequence)
                    .is_some_and(|l| l.iter().any(|v| v.as_str() == Some(c)))
            })
        };
        let one_sided: BTreeSet<String> = connectors
            .iter()
            .filter(|c| used("receivers", c, pipelines) != used("exporters", c, pipelines))
            .cloned()
            .collect();
        for pipeline in pipelines.values_mut() {
            if let Some(pipeline) = pipeline.as_mapping_mut() {
                for role in ["receivers", "exporters"] {
                    if let Some(list) = seq_mut(pipeline, role) {
                        drop_ids(list, &one_sided);
                    }
                }
            }
        }
        let left = !pipelines.is_empty();
        if let Some(section) = root.get_mut("connectors").and_then(Value::as_mapping_mut) {
            section.retain(|k, _| !one_sided.contains(k.as_str().unwrap_or_default()));
        }
        connectors.retain(|c| !one_sided.contains(c));
        if !left {
            return false;
        }
        let service = root
            .get_mut("service")
            .and_then(Value::as_mapping_mut)
            .unwrap();
        let pipelines = service
            .get_mut("pipelines")
            .and_then(Value::as_mapping_mut)
            .unwrap();
        if pipelines.len() == before && one_sided.is_empty() {
            return true;
        }
    }
}

/// What ferrotel does with one config.
#[derive(Debug)]
struct Outcome {
    /// Types ferrotel refused as unknown, in the order it named them.
    missing: Vec<String>,
    /// The rest validated.
    validated: bool,
    /// No pipeline was left.
    nothing_left: bool,
    /// The error lines of the last refusal that was not about unknown types.
    error: Vec<String>,
}

fn check(path: &Path, scratch: &Path) -> Outcome {
    let text = std::fs::read_to_string(path).unwrap();
    let env = env_for(&text);
    let mut config: Value = serde_yaml_ng::from_str(&text).unwrap();
    let mut current = path.to_path_buf();
    let mut missing = Vec::new();
    let mut removed = BTreeSet::new();
    loop {
        let (ok, lines) = validate(&current, &env);
        if ok {
            return Outcome {
                missing,
                validated: true,
                nothing_left: false,
                error: vec![],
            };
        }
        let unknown: Vec<(String, String)> = lines.iter().filter_map(|l| unknown_type(l)).collect();
        let other: Vec<String> = lines
            .iter()
            .filter(|l| unknown_type(l).is_none() && l.as_str() != DECODE_HEADER)
            .cloned()
            .collect();
        if unknown.is_empty() || !other.is_empty() {
            return Outcome {
                missing,
                validated: false,
                nothing_left: false,
                error: lines,
            };
        }
        for (kind, ty) in unknown {
            assert!(
                removed.insert((kind.clone(), ty.clone())),
                "{}: {kind} type {ty:?} refused again after it was taken out",
                path.display()
            );
            if !missing.contains(&ty) {
                missing.push(ty.clone());
            }
            if !remove_type(&mut config, &kind, &ty) {
                return Outcome {
                    missing,
                    validated: false,
                    nothing_left: true,
                    error: vec![],
                };
            }
        }
        current = scratch.join(path.file_name().unwrap());
        std::fs::write(&current, serde_yaml_ng::to_string(&config).unwrap()).unwrap();
    }
}

fn expected(name: &str) -> Option<(&'static [&'static str], Rest)> {
    EXPECTED
        .iter()
        .find(|(f, _, _)| *f == name)
        .map(|(_, m, r)| (*m, *r))
}

/// The table row for an outcome, for `REAL_CONFIGS_PRINT=1`.
fn row(name: &str, o: &Outcome) -> String {
    let missing: Vec<String> = o.missing.iter().map(|m| format!("{m:?}")).collect();
    let rest = if o.validated {
        "Validates".to_string()
    } else if o.nothing_left {
        "NothingLeft".to_string()
    } else {
        let line = o
            .error
            .iter()
            .rfind(|l| l.as_str() != DECODE_HEADER)
            .cloned()
            .unwrap_or_default();
        format!("Incompatible({line:?})")
    };
    format!("    ({name:?}, &[{}], {rest}),", missing.join(", "))
}

#[test]
fn every_config_is_in_the_table_and_every_row_has_a_config() {
    let names: BTreeSet<String> = corpus()
        .iter()
        .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
        .collect();
    assert!(names.len() >= 40, "the corpus has {} configs", names.len());
    let rows: BTreeSet<String> = EXPECTED.iter().map(|(f, _, _)| f.to_string()).collect();
    let unlisted: Vec<_> = names.difference(&rows).collect();
    let stale: Vec<_> = rows.difference(&names).collect();
    assert!(
        unlisted.is_empty(),
        "configs without a row in EXPECTED: {unlisted:?}"
    );
    assert!(
        stale.is_empty(),
        "rows of EXPECTED without a config: {stale:?}"
    );
}

#[test]
fn each_config_validates_or_names_only_its_missing_components() {
    let scratch = tempfile::tempdir().unwrap();
    let print = std::env::var_os("REAL_CONFIGS_PRINT").is_some();
    let mut failures = Vec::new();
    let mut validating = 0;
    let mut blocked = 0;
    let mut invalid = 0;
    let mut incompatible = Vec::new();
    let mut blockers: BTreeMap<String, usize> = BTreeMap::new();
    let files = corpus();
    for path in &files {
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        let outcome = check(path, scratch.path());
        if print {
            println!("{}", row(&name, &outcome));
        }
        let Some((missing, rest)) = expected(&name) else {
            continue;
        };
        let got: BTreeSet<&str> = outcome.missing.iter().map(String::as_str).collect();
        let want: BTreeSet<&str> = missing.iter().copied().collect();
        if got != want {
            failures.push(format!(
                "{name}: ferrotel refuses the types {got:?} as unknown; the table says {want:?}"
            ));
        }
        let error = outcome.error.join("\n");
        let ok = match rest {
            Starts | Validates => outcome.validated,
            NothingLeft => outcome.nothing_left,
            InvalidInGo(text) | Incompatible(text) => {
                !outcome.validated && !outcome.nothing_left && error.contains(text)
            }
        };
        if !ok {
            failures.push(format!(
                "{name}: expected {rest:?} once {missing:?} are taken out, got: {}",
                if outcome.validated {
                    "it validates (update the table: a fix landed?)".to_string()
                } else if outcome.nothing_left {
                    "no pipeline left".to_string()
                } else {
                    error.clone()
                }
            ));
        }
        for m in &outcome.missing {
            *blockers.entry(m.clone()).or_default() += 1;
        }
        if !outcome.missing.is_empty() || rest == NothingLeft {
            blocked += 1;
        } else if matches!(rest, Starts | Validates) {
            validating += 1;
        }
        let after = if missing.is_empty() {
            String::new()
        } else {
            format!(" (once {missing:?} are taken out)")
        };
        match rest {
            InvalidInGo(_) => invalid += 1,
            Incompatible(text) => incompatible.push(format!("{name}{after}: {text}")),
            _ => {}
        }
    }
    let mut blockers: Vec<(String, usize)> = blockers.into_iter().collect();
    blockers.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    println!(
        "{} configs: {validating} validate as they are; {blocked} need component types ferrotel lacks; \
         {invalid} are refused by Go v0.165 too (after any missing types are taken out); \
         {} incompatibilities",
        files.len(),
        incompatible.len()
    );
    println!("missing types, by the number of configs they block:");
    for (ty, n) in &blockers {
        println!("  {n:3}  {ty}");
    }
    println!("incompatibilities:");
    for i in &incompatible {
        println!("  {i}");
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// Runs `ferrotel --config=path` until it is ready, a few seconds more, then
/// SIGTERM: Ok when it exits 0, Err with its log otherwise.
fn start_and_stop(path: &Path, env: &[(String, Option<String>)]) -> Result<(), String> {
    let dir = tempfile::tempdir().unwrap();
    let log_path = dir.path().join("collector.log");
    let log = std::fs::File::create(&log_path).unwrap();
    let mut command = Command::new(ferrotel_bin());
    command
        .arg(GATES)
        .arg(format!("--config={}", path.display()))
        .current_dir(dir.path())
        .stdin(Stdio::null())
        .stdout(log.try_clone().unwrap())
        .stderr(log);
    for (k, v) in env {
        match v {
            Some(v) => command.env(k, v),
            None => command.env_remove(k),
        };
    }
    let mut child = command.spawn().expect("spawn ferrotel");
    let read_log = || std::fs::read_to_string(&log_path).unwrap_or_default();
    let ready = wait_until(Duration::from_secs(20), || {
        read_log().contains("Everything is ready") || matches!(child.try_wait(), Ok(Some(_)))
    });
    let result = (|| {
        if !ready || !read_log().contains("Everything is ready") {
            return Err(format!("never got ready:\n{}", read_log()));
        }
        if wait_until(Duration::from_secs(3), || {
            matches!(child.try_wait(), Ok(Some(_)))
        }) {
            return Err(format!("exited by itself after starting:\n{}", read_log()));
        }
        let status = Command::new("kill")
            .args(["-TERM", &child.id().to_string()])
            .status()
            .unwrap();
        assert!(status.success());
        let mut exit = None;
        wait_until(Duration::from_secs(30), || {
            exit = child.try_wait().ok().flatten();
            exit.is_some()
        });
        match exit {
            Some(s) if s.success() => Ok(()),
            Some(s) => Err(format!("exited with {s} after SIGTERM:\n{}", read_log())),
            None => Err(format!("still running 30 s after SIGTERM:\n{}", read_log())),
        }
    })();
    let _ = child.kill();
    let _ = child.wait();
    result
}

#[test]
fn configs_that_can_run_here_start_and_stop_cleanly() {
    let mut failures = Vec::new();
    let mut started = 0;
    for path in corpus() {
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        if !matches!(expected(&name), Some((_, Starts))) {
            continue;
        }
        let env = env_for(&std::fs::read_to_string(&path).unwrap());
        match start_and_stop(&path, &env) {
            Ok(()) => started += 1,
            Err(e) => failures.push(format!("{name}: {e}")),
        }
    }
    println!("{started} configs started and stopped cleanly");
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
    assert!(started >= 30, "only {started} configs were started");
}
