//! The file_log receiver on real files: rotation by rename, copytruncate and
//! truncation, deletion while open, files that appear later, symlinks,
//! UTF-16, gzip, multi-line with the flush timer, `max_log_size`, container
//! logs with partial lines, and SIGKILLs while a writer rotates.
//!
//! Each test writes lines with unique ids, runs the real binary with the
//! file exporter (`format: proto`) and waits, with bounded timeouts, until
//! the expected set of bodies arrived; duplicates are counted.

use ferrotel_core::pdata::{Signal, Telemetry, common::any_value};
use ferrotel_e2e::{Collector, ferrotel_bin, read_proto_file, wait_until};
use std::collections::BTreeMap;
use std::fs::{self, OpenOptions};
use std::io::Write;
use std::path::Path;
use std::time::Duration;

/// One log record as the test sees it.
#[derive(Debug, Clone)]
struct Record {
    body: String,
    attributes: BTreeMap<String, String>,
    resource: BTreeMap<String, String>,
    time: u64,
}

fn text(v: &Option<ferrotel_core::pdata::common::AnyValue>) -> String {
    match v.as_ref().and_then(|v| v.value.as_ref()) {
        Some(any_value::Value::StringValue(s)) => s.clone(),
        Some(any_value::Value::IntValue(i)) => i.to_string(),
        Some(other) => format!("{other:?}"),
        None => String::new(),
    }
}

fn records(path: &Path) -> Vec<Record> {
    let mut out = Vec::new();
    for t in read_proto_file(path, Signal::Logs) {
        let Telemetry::Logs(rls) = t else { continue };
        for rl in rls {
            let resource: BTreeMap<_, _> = rl
                .resource
                .iter()
                .flat_map(|r| &r.attributes)
                .map(|kv| (kv.key.clone(), text(&kv.value)))
                .collect();
            for r in rl.scope_logs.into_iter().flat_map(|s| s.log_records) {
                out.push(Record {
                    body: text(&r.body),
                    attributes: r
                        .attributes
                        .iter()
                        .map(|kv| (kv.key.clone(), text(&kv.value)))
                        .collect(),
                    resource: resource.clone(),
                    time: r.time_unix_nano,
                });
            }
        }
    }
    out
}

fn append(path: &Path, lines: impl IntoIterator<Item = String>) {
    let mut f = OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .unwrap();
    let mut buf = String::new();
    for l in lines {
        buf.push_str(&l);
        buf.push('\n');
    }
    f.write_all(buf.as_bytes()).unwrap();
}

fn ids(prefix: &str, range: std::ops::Range<u32>) -> Vec<String> {
    range.map(|i| format!("{prefix}-{i}")).collect()
}

/// Waits until the bodies that start with `prefix` are exactly `want`
/// (as a set) and returns how many copies arrived in all.
fn wait_for(out: &Path, prefix: &str, want: &[String]) -> usize {
    let mut seen = 0;
    let ok = wait_until(Duration::from_secs(20), || {
        let got: Vec<String> = records(out)
            .into_iter()
            .map(|r| r.body)
            .filter(|b| b.starts_with(prefix))
            .collect();
        seen = got.len();
        let mut set: Vec<_> = got.clone();
        set.sort();
        set.dedup();
        let mut expected = want.to_vec();
        expected.sort();
        set == expected
    });
    assert!(
        ok,
        "{prefix}: expected {} bodies, saw {seen} copies",
        want.len()
    );
    seen
}

fn config(receivers: &str, names: &str) -> String {
    format!(
        r#"
receivers:
{receivers}
exporters:
  file: {{path: '{{dir}}/out.bin', format: proto}}
service:
  telemetry: {{metrics: {{level: none}}}}
  pipelines:
    logs: {{receivers: [{names}], exporters: [file]}}
"#
    )
}

#[test]
fn rotation_by_rename_copytruncate_and_truncation_loses_nothing() {
    let logs = tempfile::tempdir().unwrap();
    let app = logs.path().join("app.log");
    append(&app, ids("pre", 0..5));
    let c = Collector::start(&config(
        &format!(
            "  file_log:\n    include: ['{}/*.log']\n    poll_interval: 50ms",
            logs.path().display()
        ),
        "file_log",
    ));
    let out = c.path("out.bin");
    // start_at: end, so what was there before is skipped.
    std::thread::sleep(Duration::from_millis(300));
    append(&app, ids("a", 0..100));
    assert_eq!(wait_for(&out, "a-", &ids("a", 0..100)), 100);

    // Rename rotation; the writer still writes a little to the old file.
    let mut old = OpenOptions::new().append(true).open(&app).unwrap();
    fs::rename(&app, logs.path().join("app.log.1")).unwrap();
    append(&app, ids("b", 0..50));
    for l in ids("late", 0..10) {
        writeln!(old, "{l}").unwrap();
    }
    drop(old);
    assert_eq!(wait_for(&out, "b-", &ids("b", 0..50)), 50);
    assert_eq!(wait_for(&out, "late-", &ids("late", 0..10)), 10);

    // copytruncate: copy, truncate, go on writing.
    fs::copy(&app, logs.path().join("app.log.2")).unwrap();
    OpenOptions::new()
        .write(true)
        .open(&app)
        .unwrap()
        .set_len(0)
        .unwrap();
    append(&app, ids("c", 0..30));
    assert_eq!(wait_for(&out, "c-", &ids("c", 0..30)), 30);

    // `> app.log` and a new first line that is longer than the old content.
    OpenOptions::new()
        .write(true)
        .open(&app)
        .unwrap()
        .set_len(0)
        .unwrap();
    append(&app, ids("d-longer-than-before", 0..40));
    assert_eq!(
        wait_for(&out, "d-", &ids("d-longer-than-before", 0..40)),
        40
    );
    assert!(
        records(&out).iter().all(|r| !r.body.starts_with("pre-")),
        "start_at: end skips old lines"
    );
    assert_eq!(
        records(&out)[0]
            .attributes
            .get("log.file.name")
            .map(String::as_str),
        Some("app.log")
    );
}

fn open_deleted_files(pid: u32) -> usize {
    fs::read_dir(format!("/proc/{pid}/fd"))
        .map(|d| {
            d.filter_map(|e| fs::read_link(e.ok()?.path()).ok())
                .filter(|l| l.to_string_lossy().ends_with("(deleted)"))
                .count()
        })
        .unwrap_or(0)
}

#[test]
fn deleted_new_and_symlinked_files() {
    let logs = tempfile::tempdir().unwrap();
    let elsewhere = tempfile::tempdir().unwrap();
    let doomed = logs.path().join("doomed.log");
    append(&doomed, ids("first", 0..3));
    let target = elsewhere.path().join("real-target.txt");
    append(&target, ids("sym", 0..5));
    std::os::unix::fs::symlink(&target, logs.path().join("link.log")).unwrap();
    let c = Collector::start(&config(
        &format!(
            "  file_log:\n    include: ['{}/*.log']\n    start_at: beginning\n    poll_interval: 100ms\n    include_file_name_resolved: true",
            logs.path().display()
        ),
        "file_log",
    ));
    let out = c.path("out.bin");
    assert_eq!(wait_for(&out, "sym-", &ids("sym", 0..5)), 5);
    let sym = records(&out)
        .into_iter()
        .find(|r| r.body == "sym-0")
        .unwrap();
    assert_eq!(sym.attributes["log.file.name"], "link.log");
    assert_eq!(sym.attributes["log.file.name_resolved"], "real-target.txt");

    // Written and deleted at once: what was written still arrives, and the
    // descriptor is let go.
    wait_for(&out, "first-", &ids("first", 0..3));
    append(&doomed, ids("last-words", 0..20));
    fs::remove_file(&doomed).unwrap();
    assert_eq!(wait_for(&out, "last-words-", &ids("last-words", 0..20)), 20);
    assert!(
        wait_until(Duration::from_secs(5), || open_deleted_files(c.pid()) == 0),
        "a deleted file is still held open"
    );

    // A file that appears later is read from its first line.
    append(&logs.path().join("new.log"), ids("new", 0..25));
    assert_eq!(wait_for(&out, "new-", &ids("new", 0..25)), 25);
}

#[test]
fn utf16_gzip_multiline_and_max_log_size() {
    let logs = tempfile::tempdir().unwrap();
    let d = logs.path().display();
    let utf16: Vec<u8> = "ütf16-0\nütf16-1\n"
        .encode_utf16()
        .flat_map(|u| u.to_le_bytes())
        .collect();
    fs::write(logs.path().join("w.txt"), utf16).unwrap();
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all(ids("gz", 0..50).join("\n").as_bytes())
        .unwrap();
    gz.write_all(b"\n").unwrap();
    fs::write(logs.path().join("old.log.gz"), gz.finish().unwrap()).unwrap();
    let receivers = format!(
        "  file_log/utf16: {{include: ['{d}/w.txt'], start_at: beginning, encoding: utf-16le, poll_interval: 100ms}}
  file_log/gz: {{include: ['{d}/*.gz'], start_at: beginning, compression: gzip, poll_interval: 100ms}}
  file_log/ml:
    include: ['{d}/java.log']
    start_at: beginning
    poll_interval: 100ms
    force_flush_period: 300ms
    max_log_size: 64
    multiline: {{line_start_pattern: 'ml-\\d+'}}"
    );
    let c = Collector::start(&config(
        &receivers,
        "file_log/utf16, file_log/gz, file_log/ml",
    ));
    let out = c.path("out.bin");
    wait_for(
        &out,
        "ütf16-",
        &["ütf16-0".to_string(), "ütf16-1".to_string()],
    );
    assert_eq!(wait_for(&out, "gz-", &ids("gz", 0..50)), 50);
    // Two stack traces; the second has no successor, so only the flush
    // timer sends it. A 100-byte line is cut at 64.
    let long = "x".repeat(100);
    append(
        &logs.path().join("java.log"),
        [
            "ml-1 boom".to_string(),
            "  at a".into(),
            "  at b".into(),
            "ml-2 bang".into(),
            "  at c".into(),
            format!("ml-3 {long}"),
        ],
    );
    let want = vec![
        "ml-1 boom\n  at a\n  at b".to_string(),
        "ml-2 bang\n  at c".into(),
        format!("ml-3 {}", &long[..59]),
        "x".repeat(41),
    ];
    let ok = wait_until(Duration::from_secs(10), || {
        let got: Vec<String> = records(&out)
            .into_iter()
            .map(|r| r.body)
            .filter(|b| b.starts_with("ml-") || b.starts_with('x'))
            .collect();
        got == want
    });
    assert!(
        ok,
        "multi-line entries: {:?}",
        records(&out).iter().map(|r| &r.body).collect::<Vec<_>>()
    );
}

#[test]
fn container_logs_with_partial_lines() {
    let pods = tempfile::tempdir().unwrap();
    let cri_dir = pods
        .path()
        .join("shop_cart-5d8f_7f0e9a52-1111-2222-3333-444455556666/cart");
    let docker_dir = pods
        .path()
        .join("shop_web-1_0a0b0c0d-aaaa-bbbb-cccc-ddddeeeeffff/nginx");
    fs::create_dir_all(&cri_dir).unwrap();
    fs::create_dir_all(&docker_dir).unwrap();
    let c = Collector::start(&config(
        &format!(
            "  file_log:\n    include: ['{}/*/*/*.log']\n    start_at: beginning\n    include_file_path: true\n    poll_interval: 100ms\n    operators: [{{type: container}}]",
            pods.path().display()
        ),
        "file_log",
    ));
    append(
        &cri_dir.join("3.log"),
        [
            "2026-11-28T01:02:03.000000001Z stdout P cri-long part one,".to_string(),
            "2026-11-28T01:02:03.000000002Z stdout F  part two".into(),
            "2026-11-28T01:02:04Z stderr F cri-short".into(),
        ],
    );
    append(
        &docker_dir.join("0.log"),
        [
            r#"{"log":"docker-long part one,","stream":"stdout","time":"2026-11-28T01:02:03.5Z"}"#
                .to_string(),
            r#"{"log":" part two\n","stream":"stdout","time":"2026-11-28T01:02:03.5Z"}"#.into(),
        ],
    );
    let out = c.path("out.bin");
    wait_for(
        &out,
        "cri-",
        &["cri-long part one, part two".into(), "cri-short".into()],
    );
    wait_for(&out, "docker-", &["docker-long part one, part two".into()]);
    let all = records(&out);
    let cri = all.iter().find(|r| r.body.starts_with("cri-long")).unwrap();
    assert_eq!(cri.time, 1_795_827_723_000_000_001);
    assert_eq!(cri.attributes["log.iostream"], "stdout");
    assert_eq!(cri.resource["k8s.namespace.name"], "shop");
    assert_eq!(cri.resource["k8s.pod.name"], "cart-5d8f");
    assert_eq!(
        cri.resource["k8s.pod.uid"],
        "7f0e9a52-1111-2222-3333-444455556666"
    );
    assert_eq!(cri.resource["k8s.container.name"], "cart");
    assert_eq!(cri.resource["k8s.container.restart_count"], "3");
    let short = all.iter().find(|r| r.body == "cri-short").unwrap();
    assert_eq!(short.attributes["log.iostream"], "stderr");
    let docker = all.iter().find(|r| r.body.starts_with("docker-")).unwrap();
    assert_eq!(docker.resource["k8s.container.name"], "nginx");
}

/// The writer produces numbered lines with rename rotation while the
/// collector is SIGKILLed and restarted; every sequence number arrives.
#[test]
fn sigkill_while_rotating_loses_nothing() {
    let work = tempfile::tempdir().unwrap();
    let w = work.path().display();
    let entries = 60_000u64;
    let writer_bin = ferrotel_bin().with_file_name("ferrotel-logwriter");
    fs::create_dir_all(work.path().join("logs")).unwrap();
    let mut writer = std::process::Command::new(&writer_bin)
        .args([
            "--path",
            &format!("{w}/logs/app.log"),
            "--entries",
            &entries.to_string(),
        ])
        .args([
            "--rate",
            "6",
            "--rotate",
            "rename",
            "--rotate-bytes",
            "2000000",
            "--keep",
            "100",
        ])
        .stdout(std::process::Stdio::null())
        .spawn()
        .expect("spawn ferrotel-logwriter (cargo build -p ferrotel-logwriter)");
    let config = format!(
        r#"
extensions:
  file_storage: {{directory: '{w}/state'}}
receivers:
  file_log: {{include: ['{w}/logs/app.log*'], start_at: beginning, poll_interval: 50ms, storage: file_storage}}
processors:
  batch: {{timeout: 50ms}}
exporters:
  file: {{path: '{w}/out-{{run}}.bin', format: proto}}
service:
  extensions: [file_storage]
  telemetry: {{metrics: {{level: none}}}}
  pipelines:
    logs: {{receivers: [file_log], processors: [batch], exporters: [file]}}
"#
    );
    fs::create_dir_all(work.path().join("state")).unwrap();
    let mut run = 0;
    let mut kills = 0;
    loop {
        run += 1;
        let c = Collector::start(&config.replace("{run}", &run.to_string()));
        let done = writer.try_wait().unwrap().is_some();
        if done && kills >= 3 {
            // The last run reads to the end and is left running.
            let seen = wait_until(Duration::from_secs(30), || {
                count(work.path()).0 as u64 >= entries
            });
            let (unique, copies) = count(work.path());
            println!(
                "runs={run} kills={kills} unique={unique} copies={copies} duplicates={}",
                copies - unique
            );
            assert!(seen, "only {unique} of {entries} sequence numbers arrived");
            assert_eq!(unique as u64, entries);
            drop(c);
            break;
        }
        std::thread::sleep(Duration::from_millis(400 + fastrand::u64(0..400)));
        c.signal("KILL");
        kills += 1;
        assert!(run < 40, "the writer never finished");
    }
    assert!(writer.wait().unwrap().success());
}

/// Distinct sequence numbers and all copies over every run's output.
fn count(dir: &Path) -> (usize, usize) {
    let mut seqs = std::collections::HashSet::new();
    let mut copies = 0;
    for e in fs::read_dir(dir).unwrap().flatten() {
        let name = e.file_name().to_string_lossy().into_owned();
        if !name.starts_with("out-") {
            continue;
        }
        for r in records(&e.path()) {
            if let Some(seq) = r
                .body
                .split("seq=")
                .nth(1)
                .and_then(|s| s.split(' ').next())
            {
                copies += 1;
                seqs.insert(seq.to_owned());
            }
        }
    }
    (seqs.len(), copies)
}

#[test]
fn a_thousand_files_with_few_descriptors() {
    let logs = tempfile::tempdir().unwrap();
    for i in 0..1000u32 {
        let dir = logs.path().join(format!("ns{}", i % 10));
        fs::create_dir_all(&dir).unwrap();
        append(
            &dir.join(format!("f{i}.log")),
            [format!("start-{i}-a"), format!("start-{i}-b")],
        );
    }
    let c = Collector::start(&config(
        &format!(
            "  file_log:\n    include: ['{}/**/*.log']\n    start_at: beginning\n    poll_interval: 50ms\n    max_concurrent_files: 64",
            logs.path().display()
        ),
        "file_log",
    ));
    let out = c.path("out.bin");
    // The most descriptors the collector held at any sampled moment.
    let done = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let sampler = {
        let done = done.clone();
        let fd_dir = format!("/proc/{}/fd", c.pid());
        std::thread::spawn(move || {
            let mut most = 0;
            while !done.load(std::sync::atomic::Ordering::Relaxed) {
                most = most.max(fs::read_dir(&fd_dir).map_or(0, |d| d.count()));
                std::thread::sleep(Duration::from_millis(2));
            }
            most
        })
    };
    let want: Vec<String> = (0..1000u32)
        .flat_map(|i| [format!("start-{i}-a"), format!("start-{i}-b")])
        .collect();
    assert_eq!(wait_for(&out, "start-", &want), 2000);
    done.store(true, std::sync::atomic::Ordering::Relaxed);
    let most = sampler.join().unwrap();
    // 64 files plus the process's own: runtime, sockets, inotify, output.
    assert!(
        most < 64 + 40,
        "{most} descriptors open for max_concurrent_files 64"
    );

    // Later lines in a tenth of the files arrive too.
    for i in (0..1000u32).step_by(10) {
        let path = logs
            .path()
            .join(format!("ns{}", i % 10))
            .join(format!("f{i}.log"));
        append(&path, [format!("later-{i}")]);
    }
    let later: Vec<String> = (0..1000u32)
        .step_by(10)
        .map(|i| format!("later-{i}"))
        .collect();
    assert_eq!(wait_for(&out, "later-", &later), 100);
}

#[test]
fn delete_after_read_removes_what_was_read() {
    let logs = tempfile::tempdir().unwrap();
    for i in 0..5u32 {
        append(
            &logs.path().join(format!("batch{i}.log")),
            ids(&format!("del{i}"), 0..50),
        );
    }
    let c = Collector::start(&config(
        &format!(
            "  file_log:\n    include: ['{}/*.log']\n    start_at: beginning\n    poll_interval: 50ms\n    delete_after_read: true",
            logs.path().display()
        ),
        "file_log",
    ));
    let out = c.path("out.bin");
    for i in 0..5u32 {
        let prefix = format!("del{i}");
        assert_eq!(
            wait_for(&out, &format!("{prefix}-"), &ids(&prefix, 0..50)),
            50
        );
    }
    assert!(
        wait_until(Duration::from_secs(5), || fs::read_dir(logs.path())
            .unwrap()
            .next()
            .is_none()),
        "read files are deleted"
    );
}

/// An entry an operator still holds (a recombine batch waiting for its next
/// first line) is not yet sent, so the checkpoint stops before it and a
/// SIGKILL does not lose it: the restarted collector reads it again.
#[test]
fn sigkill_while_recombine_holds_an_entry() {
    let work = tempfile::tempdir().unwrap();
    let w = work.path().display();
    fs::create_dir_all(work.path().join("state")).unwrap();
    let app = work.path().join("app.log");
    let config = format!(
        r#"
extensions:
  file_storage: {{directory: '{w}/state'}}
receivers:
  file_log:
    include: ['{app}']
    start_at: beginning
    poll_interval: 50ms
    storage: file_storage
    operators:
      - {{type: recombine, combine_field: body, is_first_entry: 'body matches "^start"', force_flush_period: 1h}}
exporters:
  file: {{path: '{w}/out-{{run}}.bin', format: proto}}
service:
  extensions: [file_storage]
  telemetry: {{metrics: {{level: none}}}}
  pipelines:
    logs: {{receivers: [file_log], exporters: [file]}}
"#,
        app = app.display()
    );
    let bodies = |run: u32| -> Vec<String> {
        records(&work.path().join(format!("out-{run}.bin")))
            .into_iter()
            .map(|r| r.body)
            .collect()
    };
    let first = Collector::start(&config.replace("{run}", "1"));
    append(
        &app,
        ["start 1", "more 1", "start 2", "more 2"].map(String::from),
    );
    assert!(wait_until(Duration::from_secs(10), || bodies(1) == ["start 1\nmore 1"]));
    // Long enough for the delivered entry's checkpoint to be written.
    std::thread::sleep(Duration::from_millis(500));
    first.signal("KILL");
    drop(first);

    let _second = Collector::start(&config.replace("{run}", "2"));
    append(&app, ["start 3".to_string()]);
    assert!(
        wait_until(Duration::from_secs(10), || bodies(2)
            .contains(&"start 2\nmore 2".to_string())),
        "the held entry was lost: {:?}",
        bodies(2)
    );
    assert!(
        !bodies(2).contains(&"start 1\nmore 1".to_string()),
        "delivered entries are not sent again"
    );
}
