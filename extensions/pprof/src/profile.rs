//! The pprof `profile.proto` (github.com/google/pprof, proto/profile.proto)
//! as prost messages, and a CPU report written in it: one sample per
//! distinct stack with its count and CPU time, one location per frame
//! (inlined functions as its lines), gzipped as Go's
//! `/debug/pprof/profile` serves it.

use prost::Message;
use std::collections::HashMap;
use std::io::Write;
use std::time::UNIX_EPOCH;

#[derive(Clone, PartialEq, Message)]
pub(crate) struct Profile {
    #[prost(message, repeated, tag = "1")]
    sample_type: Vec<ValueType>,
    #[prost(message, repeated, tag = "2")]
    sample: Vec<Sample>,
    #[prost(message, repeated, tag = "4")]
    location: Vec<Location>,
    #[prost(message, repeated, tag = "5")]
    function: Vec<Function>,
    #[prost(string, repeated, tag = "6")]
    string_table: Vec<String>,
    #[prost(int64, tag = "9")]
    time_nanos: i64,
    #[prost(int64, tag = "10")]
    duration_nanos: i64,
    #[prost(message, optional, tag = "11")]
    period_type: Option<ValueType>,
    #[prost(int64, tag = "12")]
    period: i64,
}

#[derive(Clone, PartialEq, Message)]
struct ValueType {
    #[prost(int64, tag = "1")]
    r#type: i64,
    #[prost(int64, tag = "2")]
    unit: i64,
}

#[derive(Clone, PartialEq, Message)]
struct Sample {
    #[prost(uint64, repeated, tag = "1")]
    location_id: Vec<u64>,
    #[prost(int64, repeated, tag = "2")]
    value: Vec<i64>,
}

#[derive(Clone, PartialEq, Message)]
struct Location {
    #[prost(uint64, tag = "1")]
    id: u64,
    #[prost(uint64, tag = "3")]
    address: u64,
    #[prost(message, repeated, tag = "4")]
    line: Vec<Line>,
}

#[derive(Clone, PartialEq, Message)]
struct Line {
    #[prost(uint64, tag = "1")]
    function_id: u64,
    #[prost(int64, tag = "2")]
    line: i64,
}

#[derive(Clone, PartialEq, Message)]
struct Function {
    #[prost(uint64, tag = "1")]
    id: u64,
    #[prost(int64, tag = "2")]
    name: i64,
    #[prost(int64, tag = "3")]
    system_name: i64,
    #[prost(int64, tag = "4")]
    filename: i64,
}

/// Interns strings, functions and locations as the format wants.
#[derive(Default)]
struct Tables {
    strings: Vec<String>,
    string_ids: HashMap<String, i64>,
    functions: Vec<Function>,
    function_ids: HashMap<(String, String), u64>,
    locations: Vec<Location>,
    location_ids: HashMap<Vec<(u64, i64)>, u64>,
}

impl Tables {
    fn string(&mut self, s: &str) -> i64 {
        if let Some(id) = self.string_ids.get(s) {
            return *id;
        }
        let id = self.strings.len() as i64;
        self.strings.push(s.to_string());
        self.string_ids.insert(s.to_string(), id);
        id
    }

    fn function(&mut self, name: &str, system: &str, file: &str) -> u64 {
        let key = (system.to_string(), file.to_string());
        if let Some(id) = self.function_ids.get(&key) {
            return *id;
        }
        let id = self.functions.len() as u64 + 1;
        let function = Function {
            id,
            name: self.string(name),
            system_name: self.string(system),
            filename: self.string(file),
        };
        self.functions.push(function);
        self.function_ids.insert(key, id);
        id
    }

    fn location(&mut self, lines: Vec<(u64, i64)>, address: u64) -> u64 {
        if let Some(id) = self.location_ids.get(&lines) {
            return *id;
        }
        let id = self.locations.len() as u64 + 1;
        self.locations.push(Location {
            id,
            address,
            line: lines
                .iter()
                .map(|&(function_id, line)| Line { function_id, line })
                .collect(),
        });
        self.location_ids.insert(lines, id);
        id
    }
}

/// A CPU report as a gzipped pprof profile.
pub(crate) fn encode(report: &pprof::Report) -> std::io::Result<Vec<u8>> {
    let mut t = Tables::default();
    t.string("");
    let frequency = i64::from(report.timing.frequency.max(1));
    let period = 1_000_000_000 / frequency;
    let sample_type = vec![
        ValueType {
            r#type: t.string("samples"),
            unit: t.string("count"),
        },
        ValueType {
            r#type: t.string("cpu"),
            unit: t.string("nanoseconds"),
        },
    ];
    let period_type = Some(ValueType {
        r#type: t.string("cpu"),
        unit: t.string("nanoseconds"),
    });
    let mut samples = Vec::with_capacity(report.data.len());
    for (frames, count) in &report.data {
        let mut location_ids = Vec::with_capacity(frames.frames.len());
        // Frames run from the sampled function out, as pprof wants them.
        for frame in &frames.frames {
            let lines: Vec<(u64, i64)> = frame
                .iter()
                .map(|symbol| {
                    let function =
                        t.function(&symbol.name(), &symbol.sys_name(), &symbol.filename());
                    (function, i64::from(symbol.lineno()))
                })
                .collect();
            let address = frame
                .first()
                .and_then(|s| s.addr)
                .map_or(0, |a| a as usize as u64);
            location_ids.push(t.location(lines, address));
        }
        let count = *count as i64;
        samples.push(Sample {
            location_id: location_ids,
            value: vec![count, count * period],
        });
    }
    let profile = Profile {
        sample_type,
        sample: samples,
        location: t.locations,
        function: t.functions,
        time_nanos: report
            .timing
            .start_time
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos() as i64),
        duration_nanos: report.timing.duration.as_nanos() as i64,
        period_type,
        period,
        string_table: t.strings,
    };
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all(&profile.encode_to_vec())?;
    gz.finish()
}
