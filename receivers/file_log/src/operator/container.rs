//! The `container` parser: docker json-file and CRI (containerd, CRI-O)
//! lines, partial lines merged, Kubernetes metadata from the file path.
//!
//! Docker splits long messages into entries whose `log` does not end in a
//! newline; CRI marks them `P` (partial) until an `F` (full). Either way the
//! pieces are joined, per file, into one entry. The body is the message;
//! `log.iostream` is the stream; CRI lines also get `logtag`. The time the
//! runtime wrote becomes the entry's timestamp. From
//! `/var/log/pods/<namespace>_<pod>_<uid>/<container>/<restart>.log` (read
//! from the `log.file.path` attribute, so `include_file_path: true` is
//! needed) come the resource attributes `k8s.namespace.name`,
//! `k8s.pod.name`, `k8s.pod.uid`, `k8s.container.name` and
//! `k8s.container.restart_count`.

use crate::entry::{Entry, Value};
use chrono::DateTime;
use regex::Regex;
use serde::Deserialize;
use std::collections::HashMap;
use std::time::{Duration, Instant};

#[derive(Deserialize)]
pub(crate) struct ContainerConfig {
    #[serde(default)]
    format: Option<String>,
    #[serde(default = "yes")]
    add_metadata_from_filepath: bool,
    #[serde(default)]
    max_log_size: Option<ferrotel_core::config::ByteSize>,
    #[serde(default)]
    parse_from: Option<String>,
    #[serde(default)]
    parse_to: Option<String>,
}

fn yes() -> bool {
    true
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Format {
    Auto,
    Docker,
    Cri,
}

/// A compiled `container` operator with its partial-line state.
#[derive(Debug)]
pub(crate) struct Container {
    format: Format,
    metadata: bool,
    path_re: Regex,
    max_log_size: usize,
    /// Partial messages per file, with when they started.
    partial: HashMap<String, (Instant, Entry)>,
}

const PATH_ATTRIBUTE: &str = "log.file.path";
/// How long a partial message waits for its end.
const PARTIAL_WAIT: Duration = Duration::from_secs(5);

fn parse_time(text: &str) -> Option<u64> {
    DateTime::parse_from_rfc3339(text)
        .ok()
        .and_then(|t| t.timestamp_nanos_opt())
        .map(|n| n.max(0) as u64)
}

impl Container {
    pub(crate) fn build(c: ContainerConfig) -> Result<Container, String> {
        let format = match c.format.as_deref().unwrap_or("") {
            "" | "auto" => Format::Auto,
            "docker" => Format::Docker,
            "crio" | "containerd" => Format::Cri,
            other => {
                return Err(format!(
                    "invalid format {other:?}: use docker, crio or containerd"
                ));
            }
        };
        if c.parse_from.as_deref().is_some_and(|f| f != "body")
            || c.parse_to.as_deref().is_some_and(|f| f != "attributes")
        {
            return Err(
                "container: only parse_from: body and parse_to: attributes are supported".into(),
            );
        }
        Ok(Container {
            format,
            metadata: c.add_metadata_from_filepath,
            path_re: Regex::new(
                r"^.*/(?P<namespace>[^_/]+)_(?P<pod_name>[^_/]+)_(?P<uid>[a-f0-9\-]+)/(?P<container_name>[^\._/]+)/(?P<restart_count>\d+)\.log$",
            )
            .expect("a valid pattern"),
            max_log_size: c.max_log_size.map_or(0, |s| s.0 as usize),
            partial: HashMap::new(),
        })
    }

    /// Parses one line; returns the entries it completes (none while a
    /// message is partial), or the entry back with the reason it failed.
    pub(crate) fn apply(&mut self, mut e: Entry) -> Result<Vec<Entry>, Box<(Entry, String)>> {
        let Some(line) = e.body.to_text().map(|t| t.into_owned()) else {
            return Err(Box::new((e, "container: body is not text".into())));
        };
        let format = match self.format {
            Format::Auto if line.starts_with('{') => Format::Docker,
            Format::Auto => Format::Cri,
            f => f,
        };
        let parsed = match format {
            Format::Docker => parse_docker(&line),
            _ => parse_cri(&line),
        };
        let Some(parsed) = parsed else {
            return Err(Box::new((
                e,
                format!("container: not a {format:?} log line"),
            )));
        };
        e.body = Value::Str(parsed.message);
        e.attributes
            .push(("log.iostream".into(), Value::Str(parsed.stream)));
        if let Some(tag) = parsed.tag {
            e.attributes.push(("logtag".into(), Value::Str(tag)));
        }
        if let Some(ts) = parsed.time {
            e.timestamp = ts;
        }
        if self.metadata
            && let Err(message) = self.add_metadata(&mut e)
        {
            return Err(Box::new((e, message)));
        }
        let source = match e.attributes.iter().find(|(k, _)| k == PATH_ATTRIBUTE) {
            Some((_, Value::Str(p))) => p.clone(),
            _ => String::new(),
        };
        let held = self.partial.remove(&source);
        let whole = match held {
            Some((since, mut first)) => {
                if let (Value::Str(acc), Value::Str(more)) = (&mut first.body, &e.body) {
                    acc.push_str(more);
                    if self.max_log_size > 0 && acc.len() > self.max_log_size {
                        let mut cut = self.max_log_size;
                        while !acc.is_char_boundary(cut) {
                            cut -= 1;
                        }
                        acc.truncate(cut);
                    }
                }
                if parsed.partial {
                    self.partial.insert(source, (since, first));
                    return Ok(Vec::new());
                }
                set_attr(
                    &mut first,
                    "logtag",
                    e.attributes
                        .iter()
                        .find(|(k, _)| k == "logtag")
                        .map(|(_, v)| v.clone()),
                );
                first
            }
            None if parsed.partial => {
                self.partial.insert(source, (Instant::now(), e));
                return Ok(Vec::new());
            }
            None => e,
        };
        Ok(vec![whole])
    }

    fn add_metadata(&self, e: &mut Entry) -> Result<(), String> {
        let path = match e.attributes.iter().find(|(k, _)| k == PATH_ATTRIBUTE) {
            Some((_, Value::Str(p))) => p.clone(),
            _ => {
                return Err(
                    "container: the log.file.path attribute is missing; set include_file_path: true or add_metadata_from_filepath: false"
                        .into(),
                );
            }
        };
        let caps = self
            .path_re
            .captures(&path)
            .ok_or_else(|| format!("container: {path} is not a /var/log/pods path"))?;
        for (group, key) in [
            ("namespace", "k8s.namespace.name"),
            ("pod_name", "k8s.pod.name"),
            ("uid", "k8s.pod.uid"),
            ("container_name", "k8s.container.name"),
            ("restart_count", "k8s.container.restart_count"),
        ] {
            if let Some(m) = caps.name(group) {
                set_map(&mut e.resource, key, Value::Str(m.as_str().to_owned()));
            }
        }
        Ok(())
    }

    /// The partial messages waiting for their end.
    pub(crate) fn held(&self) -> impl Iterator<Item = &Entry> {
        self.partial.values().map(|(_, e)| e)
    }

    /// Releases partial messages held longer than they should wait, or all.
    pub(crate) fn flush(&mut self, now: Option<Instant>) -> Vec<Entry> {
        let due: Vec<String> = self
            .partial
            .iter()
            .filter(|(_, (since, _))| now.is_none_or(|n| *since + PARTIAL_WAIT <= n))
            .map(|(k, _)| k.clone())
            .collect();
        due.into_iter()
            .filter_map(|k| self.partial.remove(&k).map(|(_, e)| e))
            .collect()
    }
}

fn set_map(map: &mut Vec<(String, Value)>, key: &str, value: Value) {
    match map.iter_mut().find(|(k, _)| k == key) {
        Some(slot) => slot.1 = value,
        None => map.push((key.to_owned(), value)),
    }
}

fn set_attr(e: &mut Entry, key: &str, value: Option<Value>) {
    if let Some(v) = value {
        set_map(&mut e.attributes, key, v);
    }
}

struct Parsed {
    message: String,
    stream: String,
    tag: Option<String>,
    time: Option<u64>,
    partial: bool,
}

fn parse_docker(line: &str) -> Option<Parsed> {
    #[derive(Deserialize)]
    struct Docker {
        log: String,
        #[serde(default)]
        stream: String,
        #[serde(default)]
        time: String,
    }
    let d: Docker = serde_json::from_str(line).ok()?;
    let partial = !d.log.ends_with('\n');
    let message = d.log.strip_suffix('\n').unwrap_or(&d.log).to_owned();
    Some(Parsed {
        message,
        stream: d.stream,
        tag: None,
        time: parse_time(&d.time),
        partial,
    })
}

fn parse_cri(line: &str) -> Option<Parsed> {
    let mut parts = line.splitn(4, ' ');
    let time = parts.next()?;
    let stream = parts.next()?;
    let tag = parts.next()?;
    let message = parts.next().unwrap_or("");
    if !matches!(stream, "stdout" | "stderr") {
        return None;
    }
    let ts = parse_time(time)?;
    Some(Parsed {
        message: message.to_owned(),
        stream: stream.to_owned(),
        partial: tag.split(':').any(|t| t == "P"),
        tag: Some(tag.to_owned()),
        time: Some(ts),
    })
}
