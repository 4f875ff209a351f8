//! Read positions, stored as the Go receiver stores them.
//!
//! The storage key is `knownFiles`; its value is a JSON count followed by
//! one JSON object per file, each on its own line: `Fingerprint.first_bytes`
//! (base64), `Offset`, `RecordNum`, `FileAttributes` and the rest. The
//! Go receiver reads what is written here and this reads what it writes
//! (fields it does not know are ignored on both sides). ferrotel adds
//! `Device` and `Inode`, which tell apart files whose first bytes are the
//! same, empty files above all. The offset stored is the acknowledged one.

use base64::Engine;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// The storage key: Go scopes `knownFiles` by the id of its internal file
/// input operator, and a migrated Go store must be found under it.
pub(crate) const KNOWN_FILES_KEY: &str = "file_input.knownFiles";

/// One file's saved state.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub(crate) struct Known {
    /// The file's first bytes.
    #[serde(rename = "Fingerprint", default)]
    pub(crate) fingerprint: Fingerprint,
    /// Everything before this has been delivered.
    #[serde(rename = "Offset", default)]
    pub(crate) offset: u64,
    /// Entries read before `offset`.
    #[serde(rename = "RecordNum", default)]
    pub(crate) record_num: u64,
    /// The attributes its entries carry (`log.file.name`, ...).
    #[serde(rename = "FileAttributes", default)]
    pub(crate) file_attributes: BTreeMap<String, serde_json::Value>,
    /// Go's header state; ferrotel reads no headers.
    #[serde(rename = "HeaderFinalized", default)]
    pub(crate) header_finalized: bool,
    /// Go's `FileType` (`.gz` for compressed files).
    #[serde(rename = "FileType", default)]
    pub(crate) file_type: String,
    /// The device the file was on, when ferrotel saved it.
    #[serde(rename = "Device", default, skip_serializing_if = "Option::is_none")]
    pub(crate) device: Option<u64>,
    /// Its inode, when ferrotel saved it.
    #[serde(rename = "Inode", default, skip_serializing_if = "Option::is_none")]
    pub(crate) inode: Option<u64>,
}

/// `{"first_bytes": "<base64>"}`.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct Fingerprint(pub Vec<u8>);

impl Serialize for Fingerprint {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let mut m = s.serialize_map(Some(1))?;
        m.serialize_entry(
            "first_bytes",
            &base64::engine::general_purpose::STANDARD.encode(&self.0),
        )?;
        m.end()
    }
}

impl<'de> Deserialize<'de> for Fingerprint {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        struct Raw {
            #[serde(default)]
            first_bytes: Option<String>,
        }
        let raw = Option::<Raw>::deserialize(d)?;
        let bytes = match raw.and_then(|r| r.first_bytes) {
            Some(b64) => base64::engine::general_purpose::STANDARD
                .decode(b64)
                .map_err(serde::de::Error::custom)?,
            None => Vec::new(),
        };
        Ok(Fingerprint(bytes))
    }
}

/// The value stored under `knownFiles`.
pub(crate) fn encode(files: &[Known]) -> Vec<u8> {
    let mut out = Vec::with_capacity(64 + files.len() * 256);
    out.extend_from_slice(files.len().to_string().as_bytes());
    out.push(b'\n');
    for f in files {
        // Serializing plain data into a Vec cannot fail.
        if serde_json::to_writer(&mut out, f).is_ok() {
            out.push(b'\n');
        }
    }
    out
}

/// Go's protobuf form, the default since v0.156 (`MetadataList` in
/// contrib's `fileconsumer/internal/checkpoint/proto/checkpoint.proto`);
/// the flush and token-length states (fields 6 and 7) are not needed.
mod wire {
    #[derive(Clone, PartialEq, prost::Message)]
    pub(super) struct MetadataList {
        #[prost(message, repeated, tag = "1")]
        pub(super) metadata: Vec<Metadata>,
    }

    #[derive(Clone, PartialEq, prost::Message)]
    pub(super) struct Metadata {
        #[prost(message, optional, tag = "1")]
        pub(super) fingerprint: Option<Fingerprint>,
        #[prost(int64, tag = "2")]
        pub(super) offset: i64,
        #[prost(int64, tag = "3")]
        pub(super) record_num: i64,
        /// The attributes as a JSON object.
        #[prost(bytes = "vec", tag = "4")]
        pub(super) file_attributes: Vec<u8>,
        #[prost(bool, tag = "5")]
        pub(super) header_finalized: bool,
        #[prost(string, tag = "8")]
        pub(super) file_type: String,
    }

    #[derive(Clone, PartialEq, prost::Message)]
    pub(super) struct Fingerprint {
        #[prost(bytes = "vec", tag = "1")]
        pub(super) first_bytes: Vec<u8>,
    }
}

/// Reads a stored value, in Go's JSON form (what ferrotel writes) or its
/// protobuf form; the error says what was wrong with it.
pub(crate) fn decode(bytes: &[u8]) -> Result<Vec<Known>, String> {
    // A protobuf list starts with field 1's tag; JSON with the count.
    if bytes.first() == Some(&0x0a) {
        return decode_protobuf(bytes);
    }
    let mut stream = serde_json::Deserializer::from_slice(bytes).into_iter::<serde_json::Value>();
    let count = match stream.next() {
        None => return Ok(Vec::new()),
        Some(v) => v
            .map_err(|e| format!("read count: {e}"))?
            .as_u64()
            .ok_or("the count is not a number")?,
    };
    let mut files = Vec::with_capacity(count.min(100_000) as usize);
    for i in 0..count {
        let v = stream
            .next()
            .ok_or_else(|| format!("{count} files announced, {i} found"))?
            .map_err(|e| format!("read file {i}: {e}"))?;
        files.push(serde_json::from_value(v).map_err(|e| format!("decode file {i}: {e}"))?);
    }
    Ok(files)
}

fn decode_protobuf(bytes: &[u8]) -> Result<Vec<Known>, String> {
    use prost::Message;
    let list = wire::MetadataList::decode(bytes).map_err(|e| format!("protobuf: {e}"))?;
    list.metadata
        .into_iter()
        .enumerate()
        .map(|(i, m)| {
            let file_attributes = if m.file_attributes.is_empty() {
                BTreeMap::new()
            } else {
                serde_json::from_slice(&m.file_attributes)
                    .map_err(|e| format!("file {i}'s attributes: {e}"))?
            };
            Ok(Known {
                fingerprint: Fingerprint(m.fingerprint.map(|f| f.first_bytes).unwrap_or_default()),
                offset: u64::try_from(m.offset)
                    .map_err(|_| format!("file {i}: negative offset"))?,
                record_num: u64::try_from(m.record_num).unwrap_or(0),
                file_attributes,
                header_finalized: m.header_finalized,
                file_type: m.file_type,
                device: None,
                inode: None,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_and_reads_what_go_writes() {
        // The shape Go's checkpoint.Save writes (values from a real run).
        let go = concat!(
            "1\n",
            r#"{"Fingerprint":{"first_bytes":"aGVsbG8K"},"Offset":6,"RecordNum":1,"#,
            r#""FileAttributes":{"log.file.name":"a.log"},"HeaderFinalized":false,"#,
            r#""FlushState":{"LastDataChange":"2024-01-01T00:00:00Z","LastDataLength":0},"#,
            r#""TokenLenState":{"MinimumLength":0},"FileType":""}"#,
            "\n"
        );
        let files = decode(go.as_bytes()).unwrap();
        assert_eq!(files.len(), 1);
        assert_eq!(files[0].fingerprint.0, b"hello\n");
        assert_eq!((files[0].offset, files[0].record_num), (6, 1));
        assert_eq!(files[0].inode, None);
        let mut mine = files.clone();
        mine[0].inode = Some(42);
        assert_eq!(decode(&encode(&mine)).unwrap(), mine);
        assert_eq!(decode(b"").unwrap(), Vec::new());
        // The protobuf form, as a Go 0.165 collector stored it for a file
        // of ten 39-byte lines (bytes from its bbolt file, the 390-byte
        // fingerprint shortened to "go-0\n").
        let mut pb = vec![0x0a, 0x00];
        let mut meta = vec![0x0a, 0x07, 0x0a, 0x05];
        meta.extend_from_slice(b"go-0\n");
        meta.extend_from_slice(&[0x10, 0x86, 0x03, 0x18, 0x0a, 0x22, 0x1b]);
        meta.extend_from_slice(br#"{"log.file.name":"app.log"}"#);
        meta.extend_from_slice(&[
            0x32, 0x0a, 0x08, 0xe9, 0x9c, 0x9a, 0xdc, 0xf5, 0xbe, 0x85, 0xf6, 0x18, 0x3a, 0x00,
        ]);
        pb[1] = meta.len() as u8;
        pb.extend_from_slice(&meta);
        let files = decode(&pb).unwrap();
        assert_eq!(files.len(), 1);
        assert_eq!(files[0].fingerprint.0, b"go-0\n");
        assert_eq!((files[0].offset, files[0].record_num), (390, 10));
        assert_eq!(files[0].file_attributes["log.file.name"], "app.log");
        assert!(decode(&[0x0a, 0x7f, 0x01]).is_err());
        assert!(decode(b"2\n{}\n").is_err());
    }
}
