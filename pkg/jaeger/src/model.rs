//! Jaeger's span model, one shape for what the Thrift and protobuf wires
//! carry, decoded from either.

use crate::thrift::{Protocol, Reader, Result, TType};

/// Spans of one process (Thrift `Batch`, protobuf `model.Batch`).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Batch {
    /// The process the spans come from.
    pub process: Option<Process>,
    /// The spans.
    pub spans: Vec<Span>,
}

/// A service and its tags.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Process {
    /// `serviceName`.
    pub service_name: String,
    /// Tags; `None` when the wire had no list (Go tells nil from empty).
    pub tags: Option<Vec<Tag>>,
}

/// One span.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Span {
    /// High and low halves of the trace id.
    pub trace_id: (u64, u64),
    /// The span id.
    pub span_id: u64,
    /// Thrift's `parentSpanId` (protobuf has references only).
    pub parent_span_id: u64,
    /// `operationName`.
    pub operation_name: String,
    /// Causal references.
    pub references: Vec<SpanRef>,
    /// Bit 1 sampled, bit 2 debug.
    pub flags: u32,
    /// Start, Unix nanoseconds.
    pub start_unix_nano: u64,
    /// End, Unix nanoseconds.
    pub end_unix_nano: u64,
    /// Tags.
    pub tags: Vec<Tag>,
    /// Logs.
    pub logs: Vec<Log>,
    /// A span's own process (protobuf only).
    pub process: Option<Process>,
}

/// A reference to another span.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct SpanRef {
    /// `CHILD_OF` (0), `FOLLOWS_FROM` (1), or a number neither names.
    pub ref_type: i32,
    /// High and low halves of the trace id.
    pub trace_id: (u64, u64),
    /// The span id.
    pub span_id: u64,
}

/// A timestamped set of fields.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Log {
    /// Unix nanoseconds.
    pub unix_nano: u64,
    /// The fields.
    pub fields: Vec<Tag>,
}

/// A typed key-value.
#[derive(Clone, Debug, PartialEq)]
pub struct Tag {
    /// The key.
    pub key: String,
    /// The value.
    pub value: TagValue,
}

/// A tag's value by its declared type.
#[derive(Clone, Debug, PartialEq)]
pub enum TagValue {
    /// `STRING`.
    Str(String),
    /// `BOOL`.
    Bool(bool),
    /// `LONG` / `INT64`.
    Long(i64),
    /// `DOUBLE` / `FLOAT64`.
    Double(f64),
    /// `BINARY`.
    Binary(Vec<u8>),
    /// A type number neither wire defines, as Go's `%q` prints it.
    Unknown(String),
}

/// Decodes a Thrift `Batch` struct, the body of an HTTP `/api/traces`
/// request (binary protocol).
pub fn thrift_batch(buf: &[u8], protocol: Protocol) -> std::result::Result<Batch, String> {
    let mut r = Reader::new(buf, protocol);
    read_batch(&mut r)
}

/// Decodes an agent datagram: an `Agent.emitBatch` call (one-way or not)
/// whose first argument is the batch. `emitZipkinBatch` and other methods
/// are refused with Go's words.
pub fn agent_datagram(buf: &[u8], protocol: Protocol) -> std::result::Result<Batch, String> {
    let mut r = Reader::new(buf, protocol);
    let name = r.message_begin()?;
    match name.as_str() {
        "emitBatch" => {}
        "emitZipkinBatch" => return Err("unsupported operation".into()),
        other => return Err(format!("Unknown function {other}")),
    }
    let mut batch = None;
    r.struct_begin();
    while let Some((id, t)) = r.field()? {
        match (id, t) {
            (1, TType::Struct) => batch = Some(read_batch(&mut r)?),
            _ => r.skip(t)?,
        }
    }
    r.struct_end();
    // Go hands a missing batch on as nil, which carries no spans.
    Ok(batch.unwrap_or_default())
}

/// Reads a struct field by field; `field` handles the known ids and says
/// whether it took the field (others are skipped).
fn read_struct(
    r: &mut Reader<'_>,
    mut field: impl FnMut(&mut Reader<'_>, i16, TType) -> Result<bool>,
) -> Result<()> {
    r.struct_begin();
    while let Some((id, t)) = r.field()? {
        if !field(r, id, t)? {
            r.skip(t)?;
        }
    }
    r.struct_end();
    Ok(())
}

fn read_list<T>(
    r: &mut Reader<'_>,
    element: TType,
    mut read: impl FnMut(&mut Reader<'_>) -> Result<T>,
) -> Result<Vec<T>> {
    let (t, n) = r.list()?;
    if t != element {
        for _ in 0..n {
            r.skip(t)?;
        }
        return Ok(Vec::new());
    }
    (0..n).map(|_| read(r)).collect()
}

/// Go's generated readers refuse a struct without a required field.
fn required(set: bool, name: &str) -> Result<()> {
    if set {
        Ok(())
    } else {
        Err(format!("Required field {name} is not set"))
    }
}

fn read_batch(r: &mut Reader<'_>) -> Result<Batch> {
    let mut batch = Batch::default();
    let (mut has_process, mut has_spans) = (false, false);
    read_struct(r, |r, id, t| {
        match (id, t) {
            (1, TType::Struct) => {
                batch.process = Some(read_process(r)?);
                has_process = true;
            }
            (2, TType::List) => {
                batch.spans = read_list(r, TType::Struct, read_span)?;
                has_spans = true;
            }
            _ => return Ok(false),
        }
        Ok(true)
    })?;
    required(has_process, "Process")?;
    required(has_spans, "Spans")?;
    Ok(batch)
}

fn read_process(r: &mut Reader<'_>) -> Result<Process> {
    let mut p = Process::default();
    let mut has_name = false;
    read_struct(r, |r, id, t| {
        match (id, t) {
            (1, TType::Binary) => {
                p.service_name = r.string()?;
                has_name = true;
            }
            (2, TType::List) => p.tags = Some(read_list(r, TType::Struct, read_tag)?),
            _ => return Ok(false),
        }
        Ok(true)
    })?;
    required(has_name, "ServiceName")?;
    Ok(p)
}

fn read_span(r: &mut Reader<'_>) -> Result<Span> {
    let mut s = Span::default();
    let (mut start, mut duration) = (0i64, 0i64);
    let mut seen = [false; 10];
    read_struct(r, |r, id, t| {
        match (id, t) {
            (1, TType::I64) => s.trace_id.1 = r.i64()? as u64,
            (2, TType::I64) => s.trace_id.0 = r.i64()? as u64,
            (3, TType::I64) => s.span_id = r.i64()? as u64,
            (4, TType::I64) => s.parent_span_id = r.i64()? as u64,
            (5, TType::Binary) => s.operation_name = r.string()?,
            (6, TType::List) => s.references = read_list(r, TType::Struct, read_span_ref)?,
            (7, TType::I32) => s.flags = r.i32()? as u32,
            (8, TType::I64) => start = r.i64()?,
            (9, TType::I64) => duration = r.i64()?,
            (10, TType::List) => s.tags = read_list(r, TType::Struct, read_tag)?,
            (11, TType::List) => s.logs = read_list(r, TType::Struct, read_log)?,
            _ => return Ok(false),
        }
        if (1..=9).contains(&id) {
            seen[id as usize] = true;
        }
        Ok(true)
    })?;
    for (id, name) in [
        (1, "TraceIdLow"),
        (2, "TraceIdHigh"),
        (3, "SpanId"),
        (4, "ParentSpanId"),
        (5, "OperationName"),
        (7, "Flags"),
        (8, "StartTime"),
        (9, "Duration"),
    ] {
        required(seen[id], name)?;
    }
    // Go: uint64(microseconds) * 1000, wrapping as Go's arithmetic does.
    s.start_unix_nano = (start as u64).wrapping_mul(1000);
    s.end_unix_nano = (start.wrapping_add(duration) as u64).wrapping_mul(1000);
    Ok(s)
}

fn read_span_ref(r: &mut Reader<'_>) -> Result<SpanRef> {
    let mut s = SpanRef::default();
    let mut seen = [false; 5];
    read_struct(r, |r, id, t| {
        match (id, t) {
            (1, TType::I32) => s.ref_type = r.i32()?,
            (2, TType::I64) => s.trace_id.1 = r.i64()? as u64,
            (3, TType::I64) => s.trace_id.0 = r.i64()? as u64,
            (4, TType::I64) => s.span_id = r.i64()? as u64,
            _ => return Ok(false),
        }
        seen[id as usize] = true;
        Ok(true)
    })?;
    for (id, name) in [
        (1, "RefType"),
        (2, "TraceIdLow"),
        (3, "TraceIdHigh"),
        (4, "SpanId"),
    ] {
        required(seen[id], name)?;
    }
    Ok(s)
}

fn read_log(r: &mut Reader<'_>) -> Result<Log> {
    let mut l = Log::default();
    let (mut has_ts, mut has_fields) = (false, false);
    read_struct(r, |r, id, t| {
        match (id, t) {
            (1, TType::I64) => {
                l.unix_nano = (r.i64()? as u64).wrapping_mul(1000);
                has_ts = true;
            }
            (2, TType::List) => {
                l.fields = read_list(r, TType::Struct, read_tag)?;
                has_fields = true;
            }
            _ => return Ok(false),
        }
        Ok(true)
    })?;
    required(has_ts, "Timestamp")?;
    required(has_fields, "Fields")?;
    Ok(l)
}

fn read_tag(r: &mut Reader<'_>) -> Result<Tag> {
    let mut key = None;
    let mut v_type = None;
    let (mut s, mut d, mut b, mut l, mut bin) = (String::new(), 0.0, false, 0, Vec::new());
    read_struct(r, |r, id, t| {
        match (id, t) {
            (1, TType::Binary) => key = Some(r.string()?),
            (2, TType::I32) => v_type = Some(r.i32()?),
            (3, TType::Binary) => s = r.string()?,
            (4, TType::Double) => d = r.double()?,
            (5, TType::Bool) => b = r.bool()?,
            (6, TType::I64) => l = r.i64()?,
            (7, TType::Binary) => bin = r.binary()?,
            _ => return Ok(false),
        }
        Ok(true)
    })?;
    let key = key.ok_or("Required field Key is not set")?;
    let v_type = v_type.ok_or("Required field VType is not set")?;
    let value = match v_type {
        0 => TagValue::Str(s),
        1 => TagValue::Double(d),
        2 => TagValue::Bool(b),
        3 => TagValue::Long(l),
        4 => TagValue::Binary(bin),
        // Thrift's generated String() of an unknown enum value.
        _ => TagValue::Unknown("\"<UNSET>\"".into()),
    };
    Ok(Tag { key, value })
}
