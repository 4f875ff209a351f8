//! `ferrotel-logwriter`: writes log lines the way applications and
//! container runtimes do, so file_log can be tested and measured on real
//! files.
//!
//! Every entry carries `seq=<n>`, unique and increasing, so a test can check
//! that each one arrived. Formats: `nginx` (an access line padded to
//! `--line-bytes`, 512 by default), `json`, `java` (a six-line stack trace
//! per entry), `cri` (containerd/CRI-O lines, long messages split into `P`
//! partial lines) and `docker` (json-file). It writes at `--rate` MB/s or
//! flat out, and rotates every `--rotate-bytes` by renaming (`app.log` to
//! `app.log.1`, ...) or by copying and truncating, keeping `--keep` old
//! files. At the end it prints how many entries and bytes it wrote.

use clap::{Parser, ValueEnum};
use std::fs::{File, OpenOptions};
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

#[derive(Clone, Copy, Debug, ValueEnum)]
enum Format {
    Nginx,
    Json,
    Java,
    Cri,
    Docker,
}

#[derive(Clone, Copy, Debug, ValueEnum, PartialEq)]
enum Rotation {
    None,
    Rename,
    Copytruncate,
}

#[derive(Parser, Debug)]
#[command(version, about = "Writes log files for file_log tests and benchmarks")]
struct Args {
    /// The file to write.
    #[arg(long)]
    path: PathBuf,
    /// What the lines look like.
    #[arg(long, value_enum, default_value = "nginx")]
    format: Format,
    /// Entries to write.
    #[arg(long, default_value_t = 100_000)]
    entries: u64,
    /// The first sequence number.
    #[arg(long, default_value_t = 0)]
    first_seq: u64,
    /// Bytes per nginx line (including the newline).
    #[arg(long, default_value_t = 512)]
    line_bytes: usize,
    /// MB/s to write at; 0 writes flat out.
    #[arg(long, default_value_t = 0.0)]
    rate: f64,
    /// How to rotate.
    #[arg(long, value_enum, default_value = "none")]
    rotate: Rotation,
    /// Rotate after this many bytes.
    #[arg(long, default_value_t = 4 << 20)]
    rotate_bytes: u64,
    /// Rotated files to keep.
    #[arg(long, default_value_t = 5)]
    keep: u32,
    /// Append to the file instead of starting it anew.
    #[arg(long)]
    append: bool,
}

fn open(path: &Path, append: bool) -> std::io::Result<BufWriter<File>> {
    let file = OpenOptions::new()
        .create(true)
        .append(true)
        .truncate(false)
        .open(path)?;
    if !append {
        file.set_len(0)?;
    }
    Ok(BufWriter::with_capacity(256 << 10, file))
}

fn rotated(path: &Path, n: u32) -> PathBuf {
    let mut s = path.as_os_str().to_owned();
    s.push(format!(".{n}"));
    PathBuf::from(s)
}

/// Shifts `app.log.N` up by one, dropping the oldest.
fn shift(path: &Path, keep: u32) -> std::io::Result<()> {
    for n in (1..keep).rev() {
        let from = rotated(path, n);
        if from.exists() {
            std::fs::rename(&from, rotated(path, n + 1))?;
        }
    }
    Ok(())
}

const PATHS: [&str; 4] = [
    "/api/v1/users",
    "/index.html",
    "/static/app.js",
    "/api/v1/orders",
];

/// Appends one entry to `out`.
fn entry(format: Format, seq: u64, line_bytes: usize, out: &mut Vec<u8>) {
    let ts = "2026-11-28T01:02:03.456789012Z";
    match format {
        Format::Nginx => {
            let start = out.len();
            let path = PATHS[(seq % 4) as usize];
            let _ = write!(
                out,
                "10.0.{}.{} - - [28/Nov/2026:01:02:03 +0000] \"GET {path}?seq={seq} HTTP/1.1\" 200 {} \"-\" \"Mozilla/5.0 (X11; Linux x86_64)\" pad=",
                seq % 250,
                seq % 200,
                1000 + seq % 9000
            );
            while out.len() - start < line_bytes.saturating_sub(1) {
                out.push(b'x');
            }
            out.push(b'\n');
        }
        Format::Json => {
            let _ = writeln!(
                out,
                r#"{{"time":"{ts}","level":"info","seq":{seq},"msg":"request handled","path":"{}","status":200,"duration_ms":{}}}"#,
                PATHS[(seq % 4) as usize],
                seq % 97
            );
        }
        Format::Java => {
            let _ = writeln!(
                out,
                "2026-11-28 01:02:03.456 ERROR [main] c.e.Service - seq={seq} request failed\njava.lang.IllegalStateException: boom\n\tat com.example.Service.handle(Service.java:42)\n\tat com.example.Router.route(Router.java:17)\n\tat com.example.Server.serve(Server.java:88)\n\tat java.base/java.lang.Thread.run(Thread.java:1583)"
            );
        }
        Format::Cri => {
            // Every tenth message is long and split, as the runtime does at 16 KiB.
            let msg = format!("seq={seq} container says hello");
            if seq.is_multiple_of(10) {
                let _ = writeln!(out, "{ts} stdout P {msg} part-one ");
                let _ = writeln!(out, "{ts} stdout P part-two ");
                let _ = writeln!(out, "{ts} stdout F part-three");
            } else {
                let stream = if seq.is_multiple_of(3) {
                    "stderr"
                } else {
                    "stdout"
                };
                let _ = writeln!(out, "{ts} {stream} F {msg}");
            }
        }
        Format::Docker => {
            let _ = writeln!(
                out,
                r#"{{"log":"seq={seq} container says hello\n","stream":"stdout","time":"{ts}"}}"#
            );
        }
    }
}

fn main() -> std::io::Result<()> {
    let args = Args::parse();
    let mut out = open(&args.path, args.append)?;
    let mut written_in_file = if args.append {
        std::fs::metadata(&args.path).map_or(0, |m| m.len())
    } else {
        0
    };
    let started = Instant::now();
    let mut total = 0u64;
    let mut buf = Vec::with_capacity(64 << 10);
    let mut seq = args.first_seq;
    let end = args.first_seq + args.entries;
    while seq < end {
        buf.clear();
        // Write in chunks of about 64 KiB, as a buffered logger would.
        while seq < end && buf.len() < 64 << 10 {
            entry(args.format, seq, args.line_bytes, &mut buf);
            seq += 1;
        }
        out.write_all(&buf)?;
        total += buf.len() as u64;
        written_in_file += buf.len() as u64;
        if args.rotate != Rotation::None && written_in_file >= args.rotate_bytes {
            out.flush()?;
            shift(&args.path, args.keep)?;
            match args.rotate {
                Rotation::Rename => {
                    std::fs::rename(&args.path, rotated(&args.path, 1))?;
                    out = open(&args.path, false)?;
                }
                Rotation::Copytruncate => {
                    std::fs::copy(&args.path, rotated(&args.path, 1))?;
                    out.get_ref().set_len(0)?;
                }
                Rotation::None => {}
            }
            written_in_file = 0;
        }
        if args.rate > 0.0 {
            out.flush()?;
            let due = Duration::from_secs_f64(total as f64 / (args.rate * 1e6));
            if let Some(wait) = due.checked_sub(started.elapsed()) {
                std::thread::sleep(wait);
            }
        }
    }
    out.flush()?;
    let secs = started.elapsed().as_secs_f64();
    println!(
        "entries={} bytes={total} seconds={secs:.3} mb_per_s={:.1}",
        args.entries,
        total as f64 / 1e6 / secs.max(1e-9)
    );
    Ok(())
}
