//! Delivery guarantees under faults, checked by unique log record ids.
//!
//! A "front" ferrotel receives OTLP/HTTP from the test (which acts as a
//! client that retries until answered 200, like an SDK) and exports through
//! a persistent sending queue (`file_storage`) to a "back" ferrotel that
//! writes what it gets to a file. Every test waits on conditions with
//! bounded timeouts and asserts exact sets of ids: everything a client saw
//! acknowledged arrives at least once; duplicates are counted and printed.

use ferrotel_core::pdata::{Signal, Telemetry, common, logs};
use ferrotel_e2e::{Collector, free_port, http, metric_value, read_proto_file, wait_until};
use std::collections::{BTreeMap, BTreeSet};
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// An export request with one log record per id, each body `id-<n>` padded
/// to `body_len` bytes.
fn logs_request(ids: Range<u64>, body_len: usize) -> Vec<u8> {
    let records = ids
        .map(|id| {
            let mut body = format!("id-{id} ");
            body.extend(std::iter::repeat_n(
                'x',
                body_len.saturating_sub(body.len()),
            ));
            logs::LogRecord {
                body: Some(common::AnyValue {
                    value: Some(common::any_value::Value::StringValue(body)),
                }),
                ..Default::default()
            }
        })
        .collect();
    Telemetry::Logs(vec![logs::ResourceLogs {
        scope_logs: vec![logs::ScopeLogs {
            log_records: records,
            ..Default::default()
        }],
        ..Default::default()
    }])
    .encode_request()
}

/// The id in a record's body (`id-<n> ...`).
fn record_id(record: &logs::LogRecord) -> u64 {
    match &record.body {
        Some(common::AnyValue {
            value: Some(common::any_value::Value::StringValue(body)),
        }) => body
            .strip_prefix("id-")
            .and_then(|b| b.split(' ').next())
            .and_then(|n| n.parse().ok())
            .expect("an id in every body"),
        other => panic!("a body without an id: {other:?}"),
    }
}

/// How often each id was written by the given back ends.
fn received(backs: &[&Collector]) -> BTreeMap<u64, usize> {
    let mut seen = BTreeMap::new();
    for back in backs {
        for t in read_proto_file(&back.path("logs.pb"), Signal::Logs) {
            let Telemetry::Logs(resource_logs) = t else {
                unreachable!()
            };
            for record in resource_logs
                .iter()
                .flat_map(|r| &r.scope_logs)
                .flat_map(|s| &s.log_records)
            {
                *seen.entry(record_id(record)).or_insert(0) += 1;
            }
        }
    }
    seen
}

fn back(port: u16) -> Collector {
    Collector::start(&format!(
        "
receivers:
  otlp:
    protocols:
      http: {{endpoint: '127.0.0.1:{port}'}}
exporters:
  file: {{path: '{{dir}}/logs.pb', format: proto}}
service:
  telemetry: {{metrics: {{level: none}}}}
  pipelines:
    logs: {{receivers: [otlp], exporters: [file]}}
"
    ))
}

struct Front {
    port: u16,
    metrics: u16,
    back: u16,
    storage: PathBuf,
    batching: Batching,
}

/// Where the front merges requests.
#[derive(Clone, Copy, PartialEq)]
enum Batching {
    None,
    /// The batch processor (its tokens travel to the queue).
    Processor,
    /// `sending_queue::batch` (records are merged when read from disk).
    Queue,
}

impl Front {
    fn config(&self) -> String {
        let (processors, batch) = match self.batching {
            Batching::Processor => ("[batch]", "batch: {timeout: 20ms}"),
            _ => ("[]", ""),
        };
        let queue_batch = match self.batching {
            Batching::Queue => ", batch: {flush_timeout: 50ms, min_size: 1000}",
            _ => "",
        };
        format!(
            "
extensions:
  file_storage: {{directory: '{storage}', create_directory: true}}
receivers:
  otlp:
    protocols:
      http: {{endpoint: '127.0.0.1:{port}'}}
processors:
  {batch}
exporters:
  otlp_http:
    endpoint: http://127.0.0.1:{back}
    compression: none
    retry_on_failure: {{initial_interval: 50ms, max_interval: 300ms, max_elapsed_time: 0}}
    sending_queue: {{storage: file_storage, queue_size: 100000{queue_batch}}}
service:
  extensions: [file_storage]
  telemetry: {{metrics: {{readers: [{{pull: {{exporter: {{prometheus: {{host: '127.0.0.1', port: {metrics}}}}}}}}}]}}}}
  pipelines:
    logs: {{receivers: [otlp], processors: {processors}, exporters: [otlp_http]}}
",
            storage = self.storage.display(),
            port = self.port,
            back = self.back,
            metrics = self.metrics,
        )
    }

    fn start(&self) -> Collector {
        Collector::start(&self.config())
    }

    fn addr(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }
}

fn front(back: u16, storage: &Path, batching: Batching) -> Front {
    Front {
        port: free_port(),
        metrics: free_port(),
        back,
        storage: storage.to_path_buf(),
        batching,
    }
}

/// Sends until answered 200, as a client with retries would; the front may
/// be down or refusing in between. Returns how many answers were refusals.
fn send_until_acked(addr: &str, body: &[u8]) -> usize {
    let deadline = Instant::now() + Duration::from_secs(60);
    let mut refusals = 0;
    loop {
        match http(
            "POST",
            addr,
            "/v1/logs",
            &[("Content-Type", "application/x-protobuf")],
            body,
        ) {
            Ok(r) if r.status == 200 => return refusals,
            Ok(r) => {
                assert!(
                    matches!(r.status, 429 | 503),
                    "refusals must be retryable, got {} {}",
                    r.status,
                    String::from_utf8_lossy(&r.body)
                );
                refusals += 1;
            }
            Err(_) => {}
        }
        assert!(Instant::now() < deadline, "no 200 within 60s from {addr}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Waits until every id in `expected` was received; returns what was.
fn wait_for_ids(backs: &[&Collector], expected: &BTreeSet<u64>) -> BTreeMap<u64, usize> {
    let ok = wait_until(Duration::from_secs(60), || {
        let got = received(backs);
        expected.iter().all(|id| got.contains_key(id))
    });
    let got = received(backs);
    if !ok {
        let missing: Vec<_> = expected.iter().filter(|id| !got.contains_key(id)).collect();
        panic!(
            "{} of {} ids never arrived, e.g. {:?}",
            missing.len(),
            expected.len(),
            &missing[..missing.len().min(10)]
        );
    }
    got
}

fn duplicates(got: &BTreeMap<u64, usize>) -> usize {
    got.values().map(|n| n - 1).sum()
}

fn metrics_text(port: u16) -> String {
    http("GET", &format!("127.0.0.1:{port}"), "/metrics", &[], b"")
        .map(|r| String::from_utf8_lossy(&r.body).into_owned())
        .unwrap_or_default()
}

#[test]
fn backend_outage_and_a_crash_during_it_lose_nothing() {
    let storage = tempfile::tempdir().unwrap();
    let back_port = free_port();
    let back1 = back(back_port);
    let f = front(back_port, storage.path(), Batching::Queue);
    let mut front1 = f.start();
    let batch = 100;
    let total = 3000u64;
    let third = total / 3;
    for start in (0..third).step_by(batch) {
        send_until_acked(&f.addr(), &logs_request(start..start + batch as u64, 64));
    }
    let first: BTreeSet<u64> = (0..third).collect();
    wait_for_ids(&[&back1], &first);

    // The back end goes away; the front keeps accepting into its queue.
    back1.signal("KILL");
    for start in (third..2 * third).step_by(batch) {
        send_until_acked(&f.addr(), &logs_request(start..start + batch as u64, 64));
    }
    // The front dies during the outage and comes back on the same storage.
    front1.signal("KILL");
    front1.wait_exit();
    let front2 = f.start();
    for start in (2 * third..total).step_by(batch) {
        send_until_acked(&f.addr(), &logs_request(start..start + batch as u64, 64));
    }
    let back2 = back(back_port);
    let all: BTreeSet<u64> = (0..total).collect();
    let got = wait_for_ids(&[&back1, &back2], &all);
    eprintln!(
        "outage: {} ids sent, {} received, {} duplicates",
        total,
        got.len(),
        duplicates(&got)
    );
    assert_eq!(got.len() as u64, total, "nothing but the sent ids");
    assert!(
        front2
            .log()
            .contains("resuming what an earlier run had not delivered"),
        "{}",
        front2.log()
    );
}

#[test]
fn sigkill_at_random_moments_loses_nothing_acknowledged() {
    let storage = tempfile::tempdir().unwrap();
    let back_port = free_port();
    let back = back(back_port);
    let f = front(back_port, storage.path(), Batching::Processor);
    let acked = Arc::new(Mutex::new(BTreeSet::new()));
    let stop = Arc::new(AtomicBool::new(false));
    // Four clients, each with its own ids, sending as fast as answered.
    let clients: Vec<_> = (0..4u64)
        .map(|client| {
            let (acked, stop, addr) = (acked.clone(), stop.clone(), f.addr());
            std::thread::spawn(move || {
                let mut next = client * 1_000_000;
                while !stop.load(Ordering::Relaxed) {
                    let ids = next..next + 50;
                    send_until_acked(&addr, &logs_request(ids.clone(), 100));
                    acked.lock().unwrap().extend(ids);
                    next += 50;
                }
            })
        })
        .collect();
    let rounds = 12;
    for round in 0..rounds {
        let mut front = f.start();
        let before = acked.lock().unwrap().len();
        std::thread::sleep(Duration::from_millis(fastrand::u64(100..600)));
        front.signal("KILL");
        front.wait_exit();
        eprintln!(
            "round {round}: killed after {} more acknowledged records",
            acked.lock().unwrap().len() - before
        );
    }
    let last = f.start();
    stop.store(true, Ordering::Relaxed);
    for c in clients {
        c.join().unwrap();
    }
    let acked = acked.lock().unwrap().clone();
    assert!(acked.len() > 1000, "the clients made progress");
    let got = wait_for_ids(&[&back], &acked);
    eprintln!(
        "random kills: {rounds} rounds, {} acknowledged, {} received, {} duplicates",
        acked.len(),
        got.len(),
        duplicates(&got)
    );
    drop(last);
}

/// Positions of record frames in a queue segment (their magic `REC1`).
fn record_offsets(segment: &[u8]) -> Vec<usize> {
    segment
        .windows(4)
        .enumerate()
        .filter(|(_, w)| *w == b"REC1")
        .map(|(i, _)| i)
        .collect()
}

fn segment_files(storage: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for dir in std::fs::read_dir(storage).unwrap() {
        let dir = dir.unwrap().path();
        if dir.is_dir() {
            for f in std::fs::read_dir(&dir).unwrap() {
                let f = f.unwrap().path();
                if f.extension().is_some_and(|e| e == "seg")
                    && std::fs::metadata(&f).unwrap().len() > 0
                {
                    out.push(f);
                }
            }
        }
    }
    out.sort();
    out
}

#[test]
fn damaged_queue_records_are_skipped_counted_and_the_rest_delivered() {
    let storage = tempfile::tempdir().unwrap();
    let back_port = free_port();
    // No back end yet: everything stays queued.
    let f = front(back_port, storage.path(), Batching::None);
    let front1 = f.start();
    for request in 0..20u64 {
        send_until_acked(
            &f.addr(),
            &logs_request(request * 10..request * 10 + 10, 64),
        );
    }
    assert!(front1.stop().success());

    let segments = segment_files(storage.path());
    assert_eq!(segments.len(), 1, "{segments:?}");
    let mut bytes = std::fs::read(&segments[0]).unwrap();
    let offsets = record_offsets(&bytes);
    assert_eq!(offsets.len(), 20);
    // Flip a byte inside request 5, and tear the end of request 19.
    bytes[offsets[5] + 40] ^= 0x5a;
    bytes.truncate(bytes.len() - 5);
    std::fs::write(&segments[0], &bytes).unwrap();

    let back = back(back_port);
    let front2 = f.start();
    let expected: BTreeSet<u64> = (0..200)
        .filter(|id| !(50..60).contains(id) && *id < 190)
        .collect();
    let got = wait_for_ids(&[&back], &expected);
    assert!(
        wait_until(Duration::from_secs(10), || metric_value(
            &metrics_text(f.metrics),
            "otelcol_exporter_queue_damaged_records",
            &[("exporter", "otlp_http")]
        ) == Some(2.0)),
        "{}",
        metrics_text(f.metrics)
    );
    assert_eq!(
        got.keys().copied().collect::<BTreeSet<_>>(),
        expected,
        "exactly the undamaged records"
    );
    assert!(front2.log().contains("damaged"), "{}", front2.log());
}

/// A tmpfs mounted for the life of the value.
struct Tmpfs(tempfile::TempDir);

impl Tmpfs {
    fn mount(size: &str) -> Tmpfs {
        let dir = tempfile::tempdir().unwrap();
        let status = std::process::Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"])
            .arg(dir.path())
            .status()
            .expect("run mount");
        assert!(
            status.success(),
            "mounting a tmpfs needs root (CAP_SYS_ADMIN); this test simulates a full disk with one"
        );
        Tmpfs(dir)
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let _ = std::process::Command::new("umount")
            .arg(self.0.path())
            .status();
    }
}

#[test]
fn a_full_disk_is_refused_clearly_and_recovers_when_space_returns() {
    let tmpfs = Tmpfs::mount("1m");
    let back_port = free_port();
    let f = front(back_port, tmpfs.0.path(), Batching::None);
    let c = f.start();
    // 64 KB requests until the 1 MiB file system is full.
    let mut acked = BTreeSet::new();
    let mut next = 0u64;
    let refused = loop {
        let ids = next..next + 100;
        let r = http(
            "POST",
            &f.addr(),
            "/v1/logs",
            &[("Content-Type", "application/x-protobuf")],
            &logs_request(ids.clone(), 640),
        )
        .unwrap();
        if r.status != 200 {
            break r;
        }
        acked.extend(ids);
        next += 100;
        assert!(next < 10_000, "a 1 MiB disk never filled up");
    };
    assert_eq!(refused.status, 503, "retryable: the client keeps its data");
    assert!(refused.header("retry-after").is_some());
    let message = String::from_utf8_lossy(&refused.body);
    assert!(message.contains("No space left on device"), "{message}");
    assert!(c.log().contains("No space left on device"), "{}", c.log());
    assert!(!acked.is_empty());

    // Space returns once the back end takes the queued data.
    let back = back(back_port);
    wait_for_ids(&[&back], &acked);
    let ids = next..next + 100;
    send_until_acked(&f.addr(), &logs_request(ids.clone(), 640));
    acked.extend(ids);
    let got = wait_for_ids(&[&back], &acked);
    assert_eq!(got.len(), acked.len());
    drop(c);
}

/// An OTLP/HTTP back end that takes `delay` per request, to be slower than
/// the load; it records the ids it was sent.
struct SlowSink {
    runtime: tokio::runtime::Runtime,
    addr: String,
    delay_ms: Arc<std::sync::atomic::AtomicU64>,
    seen: Arc<Mutex<BTreeMap<u64, usize>>>,
}

impl SlowSink {
    fn start(delay: Duration) -> SlowSink {
        use ferrotel_core::http_server::{HttpServer, bind, response};
        use http_body_util::BodyExt;
        use prost::Message;
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .unwrap();
        let delay_ms = Arc::new(std::sync::atomic::AtomicU64::new(delay.as_millis() as u64));
        let seen = Arc::new(Mutex::new(BTreeMap::new()));
        let (d, s) = (delay_ms.clone(), seen.clone());
        let addr = runtime.block_on(async move {
            let listener = bind("127.0.0.1:0").await.unwrap();
            let server = HttpServer::start(listener, move |req, _| {
                let (d, s) = (d.clone(), s.clone());
                async move {
                    let body = req.into_body().collect().await.unwrap().to_bytes();
                    tokio::time::sleep(Duration::from_millis(d.load(Ordering::Relaxed))).await;
                    let request =
                        ferrotel_core::pdata::ExportLogsServiceRequest::decode(body).unwrap();
                    let mut seen = s.lock().unwrap();
                    for r in request
                        .resource_logs
                        .iter()
                        .flat_map(|r| &r.scope_logs)
                        .flat_map(|s| &s.log_records)
                    {
                        *seen.entry(record_id(r)).or_insert(0) += 1;
                    }
                    response(200, "application/x-protobuf", Vec::new())
                }
            });
            let addr = server.local_addr().to_string();
            std::mem::forget(server);
            addr
        });
        SlowSink {
            runtime,
            addr,
            delay_ms,
            seen,
        }
    }
}

/// A `/proc/<pid>/status` field in MiB (`VmRSS`, `RssAnon`).
fn status_mib(pid: u32, field: &str) -> f64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix(field)?.strip_prefix(':'))
        .and_then(|v| v.split_whitespace().next()?.parse::<f64>().ok())
        .map_or(0.0, |kib| kib / 1024.0)
}

#[test]
fn overload_is_refused_memory_stays_bounded_and_everything_accepted_is_delivered() {
    const LIMIT_MIB: f64 = 40.0;
    const MARGIN_MIB: f64 = 16.0;
    let sink = SlowSink::start(Duration::from_millis(100));
    let (port, metrics) = (free_port(), free_port());
    let c = Collector::start(&format!(
        "
receivers:
  otlp:
    protocols:
      http: {{endpoint: '127.0.0.1:{port}'}}
processors:
  memory_limiter: {{check_interval: 50ms, limit_mib: {LIMIT_MIB}, spike_limit_mib: 10}}
exporters:
  otlp_http:
    endpoint: http://{sink}
    compression: none
    retry_on_failure: {{initial_interval: 50ms, max_interval: 200ms, max_elapsed_time: 0}}
    sending_queue: {{queue_size: 100000, num_consumers: 2}}
service:
  telemetry: {{metrics: {{readers: [{{pull: {{exporter: {{prometheus: {{host: '127.0.0.1', port: {metrics}}}}}}}}}]}}}}
  pipelines:
    logs: {{receivers: [otlp], processors: [memory_limiter], exporters: [otlp_http]}}
",
        sink = sink.addr
    ));
    let addr = format!("127.0.0.1:{port}");
    let acked = Arc::new(Mutex::new(BTreeSet::new()));
    let refusals = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let stop = Arc::new(AtomicBool::new(false));
    // The sink drains 2 consumers x 10 requests/s x 100 KB = 2 MB/s; eight
    // clients offer far more than ten times that.
    let clients: Vec<_> = (0..8u64)
        .map(|client| {
            let (acked, refusals, stop, addr) =
                (acked.clone(), refusals.clone(), stop.clone(), addr.clone());
            std::thread::spawn(move || {
                let mut next = client * 1_000_000;
                while !stop.load(Ordering::Relaxed) {
                    let ids = next..next + 1000;
                    let refused = send_until_acked(&addr, &logs_request(ids.clone(), 100));
                    refusals.fetch_add(refused, Ordering::Relaxed);
                    acked.lock().unwrap().extend(ids);
                    next += 1000;
                }
            })
        })
        .collect();
    // The limiter bounds resident anonymous memory (heap and stacks); the
    // debug binary's mapped pages come on top of it in RSS.
    let (mut peak, mut peak_rss) = (0f64, 0f64);
    let until = Instant::now() + Duration::from_secs(6);
    while Instant::now() < until {
        peak = peak.max(status_mib(c.pid(), "RssAnon"));
        peak_rss = peak_rss.max(status_mib(c.pid(), "VmRSS"));
        std::thread::sleep(Duration::from_millis(10));
    }
    stop.store(true, Ordering::Relaxed);
    let stuck = clients.into_iter().filter_map(|c| c.join().err()).count();
    if stuck > 0 {
        let log = c.log();
        let tail: Vec<_> = log.lines().rev().take(30).collect();
        panic!(
            "{stuck} clients got no 200 after the load; anonymous memory now {:.1} MiB; the collector's last lines:\n{}",
            status_mib(c.pid(), "RssAnon"),
            tail.into_iter().rev().collect::<Vec<_>>().join("\n")
        );
    }
    // The load is over: let the sink catch up quickly.
    sink.delay_ms.store(0, Ordering::Relaxed);
    let acked = acked.lock().unwrap().clone();
    let refusals = refusals.load(Ordering::Relaxed);
    let text = metrics_text(metrics);
    let refused_records = metric_value(
        &text,
        "otelcol_processor_memory_limiter_refused_log_records",
        &[("processor", "memory_limiter")],
    )
    .unwrap_or(0.0);
    eprintln!(
        "overload: peak anonymous memory {peak:.1} MiB (limit {LIMIT_MIB} + margin {MARGIN_MIB}), peak RSS {peak_rss:.1} MiB, {} records accepted, {refusals} refusals, {refused_records} records refused by memory_limiter",
        acked.len()
    );
    assert!(refusals > 0, "clients were told to back off");
    assert!(refused_records > 0.0, "{text}");
    assert!(
        peak < LIMIT_MIB + MARGIN_MIB,
        "peak anonymous memory {peak:.1} MiB over {LIMIT_MIB} + {MARGIN_MIB}"
    );
    let delivered = wait_until(Duration::from_secs(60), || {
        let seen = sink.seen.lock().unwrap();
        acked.iter().all(|id| seen.contains_key(id))
    });
    let seen = sink.seen.lock().unwrap().len();
    eprintln!(
        "overload: anonymous memory after the queue drained {:.1} MiB",
        status_mib(c.pid(), "RssAnon")
    );
    assert!(
        delivered,
        "{} of {} accepted records delivered",
        seen,
        acked.len()
    );
    drop(c);
    drop(sink.runtime);
}
