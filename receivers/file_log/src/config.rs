//! The receiver's configuration: the Go `filelog` keys, defaults and
//! validation messages.

use ferrotel_core::component::{ComponentConfig, ComponentId};

use ferrotel_core::config::{ByteSize, GoDuration};
use serde::Deserialize;
use std::collections::BTreeMap;

/// `receivers::file_log`.
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// Globs of the files to read (`**` crosses directories). Required.
    pub include: Vec<String>,
    /// Globs of matched files to leave alone.
    pub exclude: Vec<String>,
    /// Skip files not modified for this long.
    pub exclude_older_than: Option<GoDuration>,
    /// `beginning` or `end` (default): where to start in files found at
    /// start-up that have no checkpoint. Files that appear later are read
    /// from their beginning. A string as in Go, checked when the receiver
    /// is made.
    pub start_at: String,
    /// Entries that span lines.
    pub multiline: Option<MultilineConfig>,
    /// How long a partial entry at the end of a file waits for more data
    /// before it is sent as is. Default 500ms.
    pub force_flush_period: GoDuration,
    /// `utf-8` (default), `utf-16le`, `utf-16be`, `ascii` or `nop`.
    pub encoding: String,
    /// Keep spaces at the start of each entry.
    pub preserve_leading_whitespaces: bool,
    /// Keep spaces at the end of each entry.
    pub preserve_trailing_whitespaces: bool,
    /// Add `log.file.name`. Default true.
    pub include_file_name: bool,
    /// Add `log.file.path`.
    pub include_file_path: bool,
    /// Add `log.file.name_resolved` (after following symlinks).
    pub include_file_name_resolved: bool,
    /// Add `log.file.path_resolved`.
    pub include_file_path_resolved: bool,
    /// Add `log.file.owner.name`.
    pub include_file_owner_name: bool,
    /// Add `log.file.owner.group.name`.
    pub include_file_owner_group_name: bool,
    /// Add `log.file.record_number`.
    pub include_file_record_number: bool,
    /// How often to look for new files and new data. Default 200ms.
    pub poll_interval: GoDuration,
    /// How many leading bytes identify a file. Default 1kb.
    pub fingerprint_size: ByteSize,
    /// Accepted for compatibility; buffers here are sized by the reader.
    pub initial_buffer_size: ByteSize,
    /// Longer entries are split. Default 1MiB.
    pub max_log_size: ByteSize,
    /// Most files held open at once. Default 1024.
    pub max_concurrent_files: usize,
    /// Accepted for compatibility (Go reads files in batches; here every
    /// file is visited each poll).
    pub max_batches: i64,
    /// Delete each file once it has been read and acknowledged.
    pub delete_after_read: bool,
    /// Take a lock on each file while reading; not supported.
    pub acquire_fs_lock: bool,
    /// Attributes added to every entry.
    pub attributes: BTreeMap<String, serde_yaml_ng::Value>,
    /// Resource attributes added to every entry.
    pub resource: BTreeMap<String, serde_yaml_ng::Value>,
    /// The operator chain (stanza configuration), built when the receiver
    /// is made; only each operator's `type` is checked when decoding.
    pub operators: Vec<OperatorConfig>,
    /// The storage extension that keeps the read positions.
    pub storage: Option<String>,
    /// Header parsing; not supported.
    pub header: Option<serde_yaml_ng::Value>,
    /// What to do when the pipeline refuses data.
    pub retry_on_failure: RetryConfig,
    /// File ordering; not supported.
    pub ordering_criteria: Option<serde_yaml_ng::Value>,
    /// `""` or `gzip` (`auto`: gzip for names ending in `.gz`).
    pub compression: String,
}

impl Default for Config {
    fn default() -> Config {
        Config {
            include: Vec::new(),
            exclude: Vec::new(),
            exclude_older_than: None,
            start_at: "end".into(),
            multiline: None,
            force_flush_period: GoDuration::millis(500),
            encoding: "utf-8".into(),
            preserve_leading_whitespaces: false,
            preserve_trailing_whitespaces: false,
            include_file_name: true,
            include_file_path: false,
            include_file_name_resolved: false,
            include_file_path_resolved: false,
            include_file_owner_name: false,
            include_file_owner_group_name: false,
            include_file_record_number: false,
            poll_interval: GoDuration::millis(200),
            fingerprint_size: ByteSize(1024),
            initial_buffer_size: ByteSize(16 * 1024),
            max_log_size: ByteSize(1024 * 1024),
            max_concurrent_files: 1024,
            max_batches: 0,
            delete_after_read: false,
            acquire_fs_lock: false,
            attributes: BTreeMap::new(),
            resource: BTreeMap::new(),
            operators: Vec::new(),
            storage: None,
            header: None,
            retry_on_failure: RetryConfig::default(),
            ordering_criteria: None,
            compression: String::new(),
        }
    }
}

/// `multiline`: exactly one of the two patterns.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct MultilineConfig {
    /// A line matching this starts a new entry.
    pub line_start_pattern: String,
    /// A line matching this ends the current entry.
    pub line_end_pattern: String,
    /// Leave the matched pattern out of the entry.
    pub omit_pattern: bool,
}

/// `retry_on_failure`, with stanza's defaults (off; 1s, 30s, 5m).
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RetryConfig {
    /// Give up on refused data after `max_elapsed_time`. When off (the
    /// default) refused data is retried until taken: the file is the buffer.
    pub enabled: bool,
    /// First wait.
    pub initial_interval: GoDuration,
    /// Longest wait.
    pub max_interval: GoDuration,
    /// Give up after this long; 0 never gives up.
    pub max_elapsed_time: GoDuration,
}

impl Default for RetryConfig {
    fn default() -> RetryConfig {
        RetryConfig {
            enabled: false,
            initial_interval: GoDuration::secs(1),
            max_interval: GoDuration::secs(30),
            max_elapsed_time: GoDuration::secs(300),
        }
    }
}

/// The smallest `fingerprint_size` Go allows.
const MIN_FINGERPRINT_SIZE: u64 = 16;

/// How the bytes of a file are turned into text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Encoding {
    /// UTF-8; invalid sequences become U+FFFD.
    Utf8,
    /// UTF-16, little-endian.
    Utf16Le,
    /// UTF-16, big-endian.
    Utf16Be,
    /// 7-bit ASCII; other bytes become U+FFFD.
    Ascii,
    /// No decoding: bodies are bytes.
    Nop,
}

impl Encoding {
    /// Go's names, case-insensitive, with the aliases it accepts.
    pub fn parse(name: &str) -> Option<Encoding> {
        match name.to_ascii_lowercase().as_str() {
            "" | "utf-8" | "utf8" => Some(Encoding::Utf8),
            "utf-16le" | "utf16le" => Some(Encoding::Utf16Le),
            "utf-16be" | "utf16be" => Some(Encoding::Utf16Be),
            "ascii" | "us-ascii" => Some(Encoding::Ascii),
            "nop" => Some(Encoding::Nop),
            _ => None,
        }
    }
}

/// `compression`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Compression {
    /// Plain files.
    None,
    /// Every file is gzip.
    Gzip,
    /// Files whose names end in `.gz` are gzip.
    Auto,
}

impl Config {
    /// The encoding; [`Config::check`] has checked the name.
    pub fn encoding(&self) -> Encoding {
        Encoding::parse(&self.encoding).unwrap_or(Encoding::Utf8)
    }

    /// The compression. Go takes any name: `gzip` and `auto` decompress,
    /// anything else reads the files as they are.
    pub fn compression(&self) -> Compression {
        match self.compression.as_str() {
            "gzip" => Compression::Gzip,
            "auto" => Compression::Auto,
            _ => Compression::None,
        }
    }
}

/// One entry of `operators`, kept as written. Decoding checks its `type`
/// as pkg/stanza's registry does (`'operators[0]' unsupported type 'nope'`);
/// the rest is read when the chain is built.
#[derive(Debug, Clone)]
pub struct OperatorConfig(pub serde_yaml_ng::Value);

impl<'de> Deserialize<'de> for OperatorConfig {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<OperatorConfig, D::Error> {
        let value = serde_yaml_ng::Value::deserialize(d)?;
        let kind = value.get("type").map(crate::encode::scalar_text);
        match kind {
            None | Some(None) => Err(serde::de::Error::custom("missing required field 'type'")),
            Some(Some(t)) if t.is_empty() => {
                Err(serde::de::Error::custom("missing required field 'type'"))
            }
            Some(Some(t)) if !crate::operator::TYPES.contains(&t.as_str()) => {
                Err(serde::de::Error::custom(format!("unsupported type '{t}'")))
            }
            Some(Some(_)) => Ok(OperatorConfig(value)),
        }
    }
}

/// Go's filelog has no `Validate`: pkg/stanza checks its settings when it
/// builds the receiver, so `validate` passes and the collector's pipeline
/// build fails (`failed to create "filelog" receiver for data type "logs":
/// 'include' must be specified`). ferrotel checks at the same moment, with
/// the same words, through [`Config::check`] called by the factory.
impl ComponentConfig for Config {}

impl Config {
    /// Builds the operator chain.
    pub(crate) fn chain(&self) -> Result<crate::operator::Chain, String> {
        let raw: Vec<serde_yaml_ng::Value> = self.operators.iter().map(|o| o.0.clone()).collect();
        crate::operator::Chain::build(&raw).map_err(|e| e.to_string())
    }

    /// The checks pkg/stanza makes when it builds the receiver, in its
    /// order and words where Go has the setting.
    pub(crate) fn check(&self) -> Result<(), String> {
        if self.include.is_empty() {
            return Err("'include' must be specified".into());
        }
        for (key, patterns) in [("include", &self.include), ("exclude", &self.exclude)] {
            for p in patterns {
                crate::finder::Pattern::new(p).map_err(|e| format!("{key}: parse glob: {e}"))?;
            }
        }
        if self.fingerprint_size.0 < MIN_FINGERPRINT_SIZE {
            return Err(format!(
                "'fingerprint_size' must be at least {MIN_FINGERPRINT_SIZE} bytes"
            ));
        }
        if self.max_log_size.0 == 0 {
            return Err("'max_log_size' must be positive".into());
        }
        if self.max_concurrent_files < 1 {
            return Err("'max_concurrent_files' must be positive".into());
        }
        if self.max_batches < 0 {
            return Err("'max_batches' must not be negative".into());
        }
        if Encoding::parse(&self.encoding).is_none() {
            return Err(format!("unsupported encoding '{}'", self.encoding));
        }
        if self.delete_after_read && self.start_at == "end" {
            return Err("'delete_after_read' cannot be used with 'start_at: end'".into());
        }
        let unsupported = [
            ("header", self.header.is_some()),
            ("ordering_criteria", self.ordering_criteria.is_some()),
            ("acquire_fs_lock", self.acquire_fs_lock),
            ("include_file_owner_name", self.include_file_owner_name),
            (
                "include_file_owner_group_name",
                self.include_file_owner_group_name,
            ),
        ];
        if let Some((key, _)) = unsupported.iter().find(|(_, set)| *set) {
            return Err(format!(
                "{key}: not supported by ferrotel's file_log receiver yet"
            ));
        }
        if let Some(m) = &self.multiline {
            let (start, end) = (&m.line_start_pattern, &m.line_end_pattern);
            if self.encoding() == Encoding::Nop && !end.is_empty() {
                return Err("line_end_pattern should not be set when using nop encoding".into());
            }
            if self.encoding() == Encoding::Nop && !start.is_empty() {
                return Err("line_start_pattern should not be set when using nop encoding".into());
            }
            if !start.is_empty() && !end.is_empty() {
                return Err("only one of line_start_pattern or line_end_pattern can be set".into());
            }
            if let Some((which, pattern)) = [("end", end), ("start", start)]
                .into_iter()
                .find(|(_, p)| !p.is_empty())
            {
                ferrotel_goregex::compile_bytes(pattern)
                    .map_err(|e| format!("compile line {which} regex: {e}"))?;
                if matches!(self.encoding(), Encoding::Utf16Le | Encoding::Utf16Be) {
                    return Err(
                        "multiline: patterns need an ASCII-compatible encoding (not utf-16)".into(),
                    );
                }
            }
        }
        match self.start_at.as_str() {
            "beginning" | "end" => {}
            other => return Err(format!("invalid start_at location '{other}'")),
        }
        for (key, map) in [
            ("attributes", &self.attributes),
            ("resource", &self.resource),
        ] {
            for (k, v) in map {
                if crate::encode::scalar_text(v).is_none() {
                    return Err(format!("{key}::{k}: must be a string, number or boolean"));
                }
            }
        }
        if let Some(id) = &self.storage {
            ComponentId::parse(id).map_err(|e| format!("storage: {e}"))?;
        }
        self.chain()?;
        Ok(())
    }
}
