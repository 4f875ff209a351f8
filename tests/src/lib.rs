//! Support for the end-to-end tests in `tests/`: start the real `ferrotel`
//! binary with a config, wait for it on conditions with bounded timeouts,
//! talk plain HTTP to it, and read what its file exporter wrote.
//!
//! The binary is the one `cargo build -p ferrotel` put next to the test
//! executable's directory; the README's test command builds it first.

use ferrotel_core::pdata::{Signal, Telemetry};
use std::collections::BTreeSet;
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::Mutex;
use std::time::{Duration, Instant};

pub mod go_collector;
pub mod resource_detection;

/// The workspace root.
pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("tests/ has a parent")
        .to_path_buf()
}

/// Where the test command installs peers (SDK clients, the Go collector):
/// `$FERROTEL_CACHE`, else `~/.cache/ferrotel`. It lives outside the
/// checkout so that CI's fresh clones reuse it.
pub fn cache_dir() -> PathBuf {
    match std::env::var_os("FERROTEL_CACHE") {
        Some(dir) => PathBuf::from(dir),
        None => PathBuf::from(std::env::var_os("HOME").unwrap_or_else(|| "/root".into()))
            .join(".cache/ferrotel"),
    }
}

/// The `ferrotel` binary of this build.
pub fn ferrotel_bin() -> PathBuf {
    if let Ok(p) = std::env::var("FERROTEL_BIN") {
        return PathBuf::from(p);
    }
    // Test executables live in target/<profile>/deps/.
    let exe = std::env::current_exe().expect("current exe");
    let bin = exe
        .parent()
        .and_then(Path::parent)
        .expect("target dir")
        .join("ferrotel");
    assert!(
        bin.exists(),
        "{} is missing: run `cargo build -p ferrotel` first (the README's test command does)",
        bin.display()
    );
    bin
}

/// A port that was free a moment ago and that this process has not handed
/// out before: the kernel may give the same ephemeral port to two binds in a
/// row once the first listener is dropped, and a test that asks for many
/// ports for one collector would then configure two receivers on one port.
pub fn free_port() -> u16 {
    static HANDED_OUT: Mutex<BTreeSet<u16>> = Mutex::new(BTreeSet::new());
    let mut handed_out = HANDED_OUT.lock().unwrap_or_else(|e| e.into_inner());
    loop {
        let port = TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .map(|a| a.port())
            .expect("bind an ephemeral port");
        if handed_out.insert(port) {
            return port;
        }
    }
}

/// Polls `check` every 20 ms until it holds or `timeout` passes.
pub fn wait_until(timeout: Duration, mut check: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + timeout;
    loop {
        if check() {
            return true;
        }
        if Instant::now() > deadline {
            return false;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// The Go collector built by `tests/go-oracle/build.sh` (the README's test
/// command runs it), the reference for compatibility tests.
pub fn oracle_bin() -> PathBuf {
    let p = cache_dir().join("go-oracle/otelcol-oracle/otelcol-oracle");
    assert!(
        p.exists(),
        "{} is missing: the README's test command builds the Go collector",
        p.display()
    );
    p
}

/// Runs `bin validate --config=path` with `env` set (a value of `None`
/// unsets the variable): (success, stderr).
pub fn validate_with_env(bin: &Path, path: &Path, env: &[(&str, Option<&str>)]) -> (bool, String) {
    validate_with(bin, path, env, &[])
}

/// `validate_with_env` with more arguments (`--feature-gates=...`).
pub fn validate_with(
    bin: &Path,
    path: &Path,
    env: &[(&str, Option<&str>)],
    args: &[&str],
) -> (bool, String) {
    let mut command = Command::new(bin);
    command
        .args(args)
        .arg("validate")
        .arg(format!("--config={}", path.display()));
    for (name, value) in env {
        match value {
            Some(v) => command.env(name, v),
            None => command.env_remove(name),
        };
    }
    let out = command.output().unwrap();
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// Runs `bin --config=path` until it exits, killed after `timeout`:
/// (exited with success, stderr). For configs that must fail at start.
pub fn run_until_exit(bin: &Path, path: &Path, timeout: Duration) -> (bool, String) {
    let mut child = Command::new(bin)
        .arg(format!("--config={}", path.display()))
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + timeout;
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break Some(status);
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            break None;
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let mut stderr = String::new();
    if let Some(mut pipe) = child.stderr.take() {
        let _ = pipe.read_to_string(&mut stderr);
    }
    (status.is_some_and(|s| s.success()), stderr)
}

/// The error lines of a failed run, without ferrotel's `(in file)` and
/// `hint:` lines and the log lines, to compare with Go's.
pub fn error_lines(stderr: &str) -> Vec<String> {
    stderr
        .lines()
        .filter(|l| {
            !l.is_empty()
                && !l.starts_with("20")
                && !l.starts_with("(in ")
                && !l.starts_with("hint: ")
        })
        .map(str::to_string)
        .collect()
}

/// A running collector process, killed on drop.
pub struct Collector {
    child: Child,
    /// Scratch directory holding the config, the log and any output files.
    pub dir: tempfile::TempDir,
    log_path: PathBuf,
}

impl Collector {
    /// Writes `config` (with `{dir}` replaced by the scratch directory) and
    /// starts the binary on it, waiting until it says it is ready.
    pub fn start(config: &str) -> Collector {
        let c = Collector::spawn(config, &[]);
        c.wait_for_log("Everything is ready", Duration::from_secs(20));
        c
    }

    /// Starts the binary with extra arguments and does not wait.
    pub fn spawn(config: &str, extra_args: &[&str]) -> Collector {
        Collector::spawn_bin(&ferrotel_bin(), config, extra_args)
    }

    /// Like [`Collector::start`], with environment variables set for it.
    pub fn start_with_env(config: &str, env: &[(&str, &str)]) -> Collector {
        let c = Collector::spawn_bin_env(&ferrotel_bin(), config, &[], env);
        c.wait_for_log("Everything is ready", Duration::from_secs(20));
        c
    }

    /// Like [`Collector::spawn`], for another distribution's binary.
    pub fn spawn_bin(bin: &Path, config: &str, extra_args: &[&str]) -> Collector {
        Collector::spawn_bin_env(bin, config, extra_args, &[])
    }

    fn spawn_bin_env(
        bin: &Path,
        config: &str,
        extra_args: &[&str],
        env: &[(&str, &str)],
    ) -> Collector {
        let dir = tempfile::tempdir().expect("temp dir");
        let config = config.replace("{dir}", &dir.path().display().to_string());
        let config_path = dir.path().join("config.yaml");
        std::fs::write(&config_path, config).expect("write config");
        let log_path = dir.path().join("collector.log");
        let log = std::fs::File::create(&log_path).expect("log file");
        let child = Command::new(bin)
            .arg(format!("--config={}", config_path.display()))
            .args(extra_args)
            .envs(env.iter().copied())
            .stdin(Stdio::null())
            .stdout(log.try_clone().expect("dup log"))
            .stderr(log)
            .spawn()
            .expect("spawn ferrotel");
        Collector {
            child,
            dir,
            log_path,
        }
    }

    /// The config file path, to rewrite before a reload.
    pub fn config_path(&self) -> PathBuf {
        self.dir.path().join("config.yaml")
    }

    /// A path in the scratch directory.
    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// Everything the process logged so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.log_path).unwrap_or_default()
    }

    /// Waits for `needle` in the log; panics with the log if it never comes.
    pub fn wait_for_log(&self, needle: &str, timeout: Duration) {
        if !wait_until(timeout, || self.log().contains(needle)) {
            panic!("collector never logged {needle:?}; log:\n{}", self.log());
        }
    }

    /// Counts occurrences of `needle` in the log.
    pub fn log_count(&self, needle: &str) -> usize {
        self.log().matches(needle).count()
    }

    /// Sends a Unix signal (`HUP`, `TERM`, `KILL`).
    pub fn signal(&self, name: &str) {
        let status = Command::new("kill")
            .arg(format!("-{name}"))
            .arg(self.child.id().to_string())
            .status()
            .expect("kill");
        assert!(status.success(), "kill -{name} failed");
    }

    /// The process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// True while the process runs.
    pub fn is_running(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(None))
    }

    /// SIGTERM, then waits (bounded) for the exit.
    pub fn stop(mut self) -> ExitStatus {
        self.signal("TERM");
        self.wait_exit()
    }

    /// Waits (bounded) for the process to exit by itself.
    pub fn wait_exit(&mut self) -> ExitStatus {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if let Ok(Some(status)) = self.child.try_wait() {
                return status;
            }
            assert!(
                Instant::now() < deadline,
                "collector did not stop; log:\n{}",
                self.log()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for Collector {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// An HTTP response, as far as the tests care.
#[derive(Debug)]
pub struct HttpResponse {
    /// Status code.
    pub status: u16,
    /// Header lines, lowercase names.
    pub headers: Vec<(String, String)>,
    /// Body.
    pub body: Vec<u8>,
}

impl HttpResponse {
    /// The first value of a header.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
}

/// One HTTP/1.1 request over a fresh connection.
pub fn http(
    method: &str,
    addr: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> std::io::Result<HttpResponse> {
    let mut stream = TcpStream::connect(addr)?;
    stream.set_read_timeout(Some(Duration::from_secs(30)))?;
    let mut head = format!(
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\nContent-Length: {}\r\n",
        body.len()
    );
    for (k, v) in headers {
        head.push_str(&format!("{k}: {v}\r\n"));
    }
    head.push_str("\r\n");
    stream.write_all(head.as_bytes())?;
    stream.write_all(body)?;
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw)?;
    let split = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .ok_or_else(|| std::io::Error::other("no header end"))?;
    let head = String::from_utf8_lossy(&raw[..split]).into_owned();
    let mut lines = head.lines();
    let status = lines
        .next()
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| std::io::Error::other("bad status line"))?;
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_string()))
        .collect();
    let mut body = raw[split + 4..].to_vec();
    if headers
        .iter()
        .any(|(k, v)| k == "transfer-encoding" && v.contains("chunked"))
    {
        body = dechunk(&body);
    }
    Ok(HttpResponse {
        status,
        headers,
        body,
    })
}

fn dechunk(mut data: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    while let Some(end) = data.windows(2).position(|w| w == b"\r\n") {
        let size =
            usize::from_str_radix(String::from_utf8_lossy(&data[..end]).trim(), 16).unwrap_or(0);
        if size == 0 {
            break;
        }
        out.extend_from_slice(&data[end + 2..end + 2 + size]);
        data = &data[end + 4 + size..];
    }
    out
}

/// POSTs an OTLP body.
pub fn post(addr: &str, path: &str, content_type: &str, body: &[u8]) -> HttpResponse {
    http("POST", addr, path, &[("Content-Type", content_type)], body).expect("http request")
}

/// Every request the file exporter wrote in `format: proto`.
pub fn read_proto_file(path: &Path, signal: Signal) -> Vec<Telemetry> {
    let bytes = std::fs::read(path).unwrap_or_default();
    let mut out = Vec::new();
    let mut rest = &bytes[..];
    while rest.len() >= 4 {
        let len = u32::from_be_bytes([rest[0], rest[1], rest[2], rest[3]]) as usize;
        if rest.len() < 4 + len {
            break;
        }
        out.push(
            Telemetry::decode_request(signal, &rest[4..4 + len]).expect("valid protobuf in file"),
        );
        rest = &rest[4 + len..];
    }
    out
}

/// Every complete line the file exporter wrote in `format: json` (a line
/// still being written is left for the next read).
pub fn read_json_file(path: &Path) -> Vec<serde_json::Value> {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let complete = text.rfind('\n').map_or("", |end| &text[..end]);
    complete
        .lines()
        .map(|l| serde_json::from_str(l).expect("valid JSON line"))
        .collect()
}

/// Merges a list of batches into one (for comparing what arrived).
pub fn merged(batches: Vec<Telemetry>, signal: Signal) -> Telemetry {
    let mut all = Telemetry::empty(signal);
    for b in batches {
        all.merge(b).expect("same signal");
    }
    all
}

/// The value of a Prometheus sample with all the given labels.
pub fn metric_value(text: &str, name: &str, labels: &[(&str, &str)]) -> Option<f64> {
    text.lines()
        .filter(|l| !l.starts_with('#'))
        .filter(|l| l.split(['{', ' ']).next() == Some(name))
        .find(|l| {
            labels
                .iter()
                .all(|(k, v)| l.contains(&format!("{k}=\"{v}\"")))
        })
        .and_then(|l| l.rsplit(' ').next())
        .and_then(|v| v.parse().ok())
}

/// gzip-compresses `data`.
pub fn gzip(data: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    e.write_all(data).expect("gzip");
    e.finish().expect("gzip")
}

/// A profiles export request as a profiler sends it: a dictionary (the
/// string, function, location and stack tables samples point into), one
/// resource with `service.name`, and one CPU profile with `samples` samples
/// on two stacks. `seed` makes the profile id and values distinct.
pub fn profiles_request(seed: u8, samples: usize) -> Vec<u8> {
    use opentelemetry_proto::tonic::collector::profiles::v1development::ExportProfilesServiceRequest;
    use opentelemetry_proto::tonic::common::v1::{
        AnyValue, InstrumentationScope, KeyValue, any_value,
    };
    use opentelemetry_proto::tonic::profiles::v1development as p;
    use opentelemetry_proto::tonic::resource::v1::Resource;
    use prost::Message;
    let strings = [
        "",
        "cpu",
        "nanoseconds",
        "main",
        "work",
        "main.go",
        "samples",
        "count",
    ];
    let dictionary = p::ProfilesDictionary {
        string_table: strings.iter().map(|s| s.to_string()).collect(),
        function_table: vec![
            p::Function::default(),
            p::Function {
                name_strindex: 3,
                filename_strindex: 5,
                ..Default::default()
            },
            p::Function {
                name_strindex: 4,
                filename_strindex: 5,
                ..Default::default()
            },
        ],
        location_table: vec![
            p::Location::default(),
            p::Location {
                lines: vec![p::Line {
                    function_index: 1,
                    line: 10,
                    column: 0,
                }],
                ..Default::default()
            },
            p::Location {
                lines: vec![p::Line {
                    function_index: 2,
                    line: 20,
                    column: 0,
                }],
                ..Default::default()
            },
        ],
        stack_table: vec![
            p::Stack::default(),
            p::Stack {
                location_indices: vec![1],
            },
            p::Stack {
                location_indices: vec![2, 1],
            },
        ],
        mapping_table: vec![p::Mapping::default()],
        link_table: vec![p::Link::default()],
        attribute_table: vec![p::KeyValueAndUnit::default()],
    };
    let profile = p::Profile {
        sample_type: Some(p::ValueType {
            type_strindex: 1,
            unit_strindex: 2,
        }),
        samples: (0..samples)
            .map(|i| p::Sample {
                stack_index: 1 + (i % 2) as i32,
                values: vec![10_000_000 * (i as i64 + i64::from(seed) + 1)],
                ..Default::default()
            })
            .collect(),
        time_unix_nano: 1_700_000_000_000_000_000 + u64::from(seed),
        duration_nano: 1_000_000_000,
        period_type: Some(p::ValueType {
            type_strindex: 1,
            unit_strindex: 2,
        }),
        period: 10_000_000,
        profile_id: vec![seed; 16],
        ..Default::default()
    };
    ExportProfilesServiceRequest {
        resource_profiles: vec![p::ResourceProfiles {
            resource: Some(Resource {
                attributes: vec![KeyValue {
                    key: "service.name".into(),
                    value: Some(AnyValue {
                        value: Some(any_value::Value::StringValue(format!("svc-{seed}"))),
                    }),
                    ..Default::default()
                }],
                ..Default::default()
            }),
            scope_profiles: vec![p::ScopeProfiles {
                scope: Some(InstrumentationScope {
                    name: "ferrotel.e2e".into(),
                    ..Default::default()
                }),
                profiles: vec![profile],
                ..Default::default()
            }],
            ..Default::default()
        }],
        dictionary: Some(dictionary),
    }
    .encode_to_vec()
}

/// A batch of `signal` that uses every field the OTLP model has: every
/// attribute value type, span events and links, every metric kind, log
/// bodies of several types. `seed` makes ids and values distinct. Profiles
/// are `profiles_request` with three samples.
pub fn sample(signal: Signal, seed: u8) -> Telemetry {
    use common::any_value::Value as V;
    use ferrotel_core::pdata::{common, logs, metrics, resource, trace};
    let kv = |k: &str, v: V| common::KeyValue {
        key: k.into(),
        value: Some(common::AnyValue { value: Some(v) }),
        ..Default::default()
    };
    let attrs = vec![
        kv("str", V::StringValue(format!("v{seed} \"quoted\" ü"))),
        kv("int", V::IntValue(-(i64::from(seed)) * 1_000_000_007)),
        kv("double", V::DoubleValue(f64::from(seed) + 0.25)),
        kv("bool", V::BoolValue(seed.is_multiple_of(2))),
        kv("bytes", V::BytesValue(vec![0, seed, 255])),
        kv(
            "array",
            V::ArrayValue(common::ArrayValue {
                values: vec![
                    common::AnyValue {
                        value: Some(V::IntValue(1)),
                    },
                    common::AnyValue {
                        value: Some(V::StringValue("two".into())),
                    },
                ],
            }),
        ),
        kv(
            "map",
            V::KvlistValue(common::KeyValueList {
                values: vec![kv("inner", V::BoolValue(true))],
            }),
        ),
    ];
    let resource = Some(resource::Resource {
        attributes: vec![kv("service.name", V::StringValue(format!("svc-{seed}")))],
        dropped_attributes_count: 1,
        ..Default::default()
    });
    let scope = Some(common::InstrumentationScope {
        name: "ferrotel.e2e".into(),
        version: "1.2.3".into(),
        attributes: vec![kv("scope.attr", V::StringValue("x".into()))],
        dropped_attributes_count: 0,
    });
    let t0 = 1_700_000_000_000_000_000u64 + u64::from(seed);
    let trace_id: Vec<u8> = (0..16).map(|i| i ^ seed).collect();
    let span_id: Vec<u8> = (0..8).map(|i| i + seed).collect();
    match signal {
        Signal::Profiles => Telemetry::Profiles(ferrotel_core::pdata::Profiles::new(
            bytes::Bytes::from(profiles_request(seed, 3)),
            3,
        )),
        Signal::Traces => Telemetry::Traces(vec![trace::ResourceSpans {
            resource,
            scope_spans: vec![trace::ScopeSpans {
                scope,
                spans: vec![trace::Span {
                    trace_id: trace_id.clone(),
                    span_id: span_id.clone(),
                    trace_state: "k=v".into(),
                    parent_span_id: vec![9; 8],
                    flags: 1,
                    name: format!("span-{seed}"),
                    kind: 3,
                    start_time_unix_nano: t0,
                    end_time_unix_nano: t0 + 1_000,
                    attributes: attrs.clone(),
                    dropped_attributes_count: 2,
                    events: vec![trace::span::Event {
                        time_unix_nano: t0 + 5,
                        name: "event".into(),
                        attributes: attrs.clone(),
                        dropped_attributes_count: 0,
                    }],
                    dropped_events_count: 3,
                    links: vec![trace::span::Link {
                        trace_id: trace_id.clone(),
                        span_id: vec![7; 8],
                        trace_state: String::new(),
                        attributes: vec![kv("link", V::IntValue(1))],
                        dropped_attributes_count: 0,
                        flags: 257,
                    }],
                    dropped_links_count: 0,
                    status: Some(trace::Status {
                        message: "oops".into(),
                        code: 2,
                    }),
                }],
                schema_url: "https://opentelemetry.io/schemas/1.21.0".into(),
            }],
            schema_url: "https://opentelemetry.io/schemas/1.21.0".into(),
        }]),
        Signal::Logs => Telemetry::Logs(vec![logs::ResourceLogs {
            resource,
            scope_logs: vec![logs::ScopeLogs {
                scope,
                log_records: vec![
                    logs::LogRecord {
                        time_unix_nano: t0,
                        observed_time_unix_nano: t0 + 1,
                        severity_number: 17,
                        severity_text: "ERROR".into(),
                        body: Some(common::AnyValue {
                            value: Some(V::StringValue(format!("line {seed}\nwith newline"))),
                        }),
                        attributes: attrs.clone(),
                        dropped_attributes_count: 0,
                        flags: 1,
                        trace_id: trace_id.clone(),
                        span_id: span_id.clone(),
                        event_name: "e2e.event".into(),
                    },
                    logs::LogRecord {
                        time_unix_nano: t0 + 2,
                        body: Some(common::AnyValue {
                            value: Some(V::KvlistValue(common::KeyValueList {
                                values: attrs.clone(),
                            })),
                        }),
                        ..Default::default()
                    },
                ],
                schema_url: String::new(),
            }],
            schema_url: String::new(),
        }]),
        Signal::Metrics => {
            use metrics::metric::Data;
            let metric = |name: &str, data| metrics::Metric {
                name: name.into(),
                description: "desc".into(),
                unit: "ms".into(),
                metadata: Vec::new(),
                data: Some(data),
            };
            let number = |v| metrics::NumberDataPoint {
                attributes: attrs.clone(),
                start_time_unix_nano: t0,
                time_unix_nano: t0 + 10,
                exemplars: vec![metrics::Exemplar {
                    filtered_attributes: vec![kv("f", V::IntValue(1))],
                    time_unix_nano: t0 + 3,
                    span_id: span_id.clone(),
                    trace_id: trace_id.clone(),
                    value: Some(metrics::exemplar::Value::AsDouble(1.5)),
                }],
                flags: 0,
                value: Some(v),
            };
            Telemetry::Metrics(vec![metrics::ResourceMetrics {
                resource,
                scope_metrics: vec![metrics::ScopeMetrics {
                    scope,
                    metrics: vec![
                        metric(
                            "gauge",
                            Data::Gauge(metrics::Gauge {
                                data_points: vec![number(
                                    metrics::number_data_point::Value::AsDouble(-2.5),
                                )],
                            }),
                        ),
                        metric(
                            "sum",
                            Data::Sum(metrics::Sum {
                                data_points: vec![number(
                                    metrics::number_data_point::Value::AsInt(
                                        i64::MAX - i64::from(seed),
                                    ),
                                )],
                                aggregation_temporality: 2,
                                is_monotonic: true,
                            }),
                        ),
                        metric(
                            "histogram",
                            Data::Histogram(metrics::Histogram {
                                data_points: vec![metrics::HistogramDataPoint {
                                    attributes: attrs.clone(),
                                    start_time_unix_nano: t0,
                                    time_unix_nano: t0 + 10,
                                    count: 6,
                                    sum: Some(21.0),
                                    bucket_counts: vec![1, 2, 3],
                                    explicit_bounds: vec![1.0, 5.0],
                                    exemplars: Vec::new(),
                                    flags: 0,
                                    min: Some(0.5),
                                    max: Some(9.0),
                                }],
                                aggregation_temporality: 1,
                            }),
                        ),
                        metric(
                            "exp_histogram",
                            Data::ExponentialHistogram(metrics::ExponentialHistogram {
                                data_points: vec![metrics::ExponentialHistogramDataPoint {
                                    attributes: attrs.clone(),
                                    start_time_unix_nano: t0,
                                    time_unix_nano: t0 + 10,
                                    count: 5,
                                    sum: Some(12.5),
                                    scale: 2,
                                    zero_count: 1,
                                    positive: Some(
                                        metrics::exponential_histogram_data_point::Buckets {
                                            offset: -1,
                                            bucket_counts: vec![1, 3],
                                        },
                                    ),
                                    negative: None,
                                    flags: 0,
                                    exemplars: Vec::new(),
                                    min: None,
                                    max: Some(4.0),
                                    zero_threshold: 0.001,
                                }],
                                aggregation_temporality: 2,
                            }),
                        ),
                        metric(
                            "summary",
                            Data::Summary(metrics::Summary {
                                data_points: vec![metrics::SummaryDataPoint {
                                    attributes: attrs.clone(),
                                    start_time_unix_nano: t0,
                                    time_unix_nano: t0 + 10,
                                    count: 10,
                                    sum: 99.5,
                                    quantile_values: vec![
                                        metrics::summary_data_point::ValueAtQuantile {
                                            quantile: 0.5,
                                            value: 7.0,
                                        },
                                        metrics::summary_data_point::ValueAtQuantile {
                                            quantile: 0.99,
                                            value: 20.0,
                                        },
                                    ],
                                    flags: 0,
                                }],
                            }),
                        ),
                    ],
                    schema_url: String::new(),
                }],
                schema_url: String::new(),
            }])
        }
    }
}
