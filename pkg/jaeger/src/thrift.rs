//! A reader of the two Thrift wire protocols Jaeger clients speak: binary
//! (HTTP `/api/traces`, UDP 6832) and compact (UDP 6831). Only what
//! decoding structs needs: field headers, scalars, strings, lists, and
//! skipping whatever a reader does not know, bounded in depth.

/// Thrift value types, as one set for both protocols.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum TType {
    Bool,
    Byte,
    I16,
    I32,
    I64,
    Double,
    Binary,
    Struct,
    Map,
    Set,
    List,
    Uuid,
}

/// Which Thrift protocol a buffer is in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Protocol {
    /// `TBinaryProtocol`.
    Binary,
    /// `TCompactProtocol`.
    Compact,
}

/// How deep nested values may go before a buffer is refused.
const MAX_DEPTH: u32 = 64;

pub(crate) struct Reader<'a> {
    buf: &'a [u8],
    pos: usize,
    protocol: Protocol,
    /// Compact protocol: the last field id (ids are sent as deltas), one
    /// per open struct.
    last_ids: Vec<i16>,
    /// Compact protocol: a bool field's value travels in its header.
    pending_bool: Option<bool>,
}

pub(crate) type Result<T> = std::result::Result<T, String>;

impl<'a> Reader<'a> {
    pub(crate) fn new(buf: &'a [u8], protocol: Protocol) -> Reader<'a> {
        Reader {
            buf,
            pos: 0,
            protocol,
            last_ids: Vec::new(),
            pending_bool: None,
        }
    }

    fn bytes(&mut self, n: usize) -> Result<&'a [u8]> {
        let end = self
            .pos
            .checked_add(n)
            .filter(|&end| end <= self.buf.len())
            .ok_or_else(|| "EOF".to_string())?;
        let out = &self.buf[self.pos..end];
        self.pos = end;
        Ok(out)
    }

    fn byte(&mut self) -> Result<u8> {
        Ok(self.bytes(1)?[0])
    }

    fn varint(&mut self) -> Result<u64> {
        let mut value = 0u64;
        for shift in 0..10 {
            let b = self.byte()?;
            value |= u64::from(b & 0x7f) << (shift * 7);
            if b < 0x80 {
                return Ok(value);
            }
        }
        Err("variable-length integer is too long".into())
    }

    fn zigzag(&mut self) -> Result<i64> {
        let v = self.varint()?;
        Ok((v >> 1) as i64 ^ -((v & 1) as i64))
    }

    fn be_i32(&mut self) -> Result<i32> {
        let b = self.bytes(4)?;
        Ok(i32::from_be_bytes([b[0], b[1], b[2], b[3]]))
    }

    /// A message header: the method name (binary protocol, strict or not;
    /// compact protocol).
    pub(crate) fn message_begin(&mut self) -> Result<String> {
        match self.protocol {
            Protocol::Binary => {
                let first = self.be_i32()?;
                if first < 0 {
                    // Strict: version and type, name, sequence id.
                    if (first as u32) & 0xffff_0000 != 0x8001_0000 {
                        return Err("bad version in ReadMessageBegin".into());
                    }
                    let len = first_len(self.be_i32()?)?;
                    let name = self.string_with_len(len)?;
                    self.be_i32()?;
                    Ok(name)
                } else {
                    let name = self.string_with_len(first_len(first)?)?;
                    self.byte()?;
                    self.be_i32()?;
                    Ok(name)
                }
            }
            Protocol::Compact => {
                if self.byte()? != 0x82 {
                    return Err("bad protocol id in ReadMessageBegin".into());
                }
                if self.byte()? & 0x1f != 1 {
                    return Err("bad version in ReadMessageBegin".into());
                }
                self.varint()?;
                self.string()
            }
        }
    }

    pub(crate) fn struct_begin(&mut self) {
        self.last_ids.push(0);
    }

    pub(crate) fn struct_end(&mut self) {
        self.last_ids.pop();
    }

    /// The next field's id and type, `None` at the struct's end.
    pub(crate) fn field(&mut self) -> Result<Option<(i16, TType)>> {
        match self.protocol {
            Protocol::Binary => {
                let t = self.byte()?;
                if t == 0 {
                    return Ok(None);
                }
                let b = self.bytes(2)?;
                let id = i16::from_be_bytes([b[0], b[1]]);
                Ok(Some((id, binary_type(t)?)))
            }
            Protocol::Compact => {
                let header = self.byte()?;
                // Go's reader takes any header of type 0 as the end.
                if header & 0x0f == 0 {
                    return Ok(None);
                }
                let delta = header >> 4;
                let last = self.last_ids.last().copied().unwrap_or(0);
                let id = if delta == 0 {
                    self.zigzag()? as i16
                } else {
                    last.wrapping_add(i16::from(delta))
                };
                if let Some(l) = self.last_ids.last_mut() {
                    *l = id;
                }
                let t = match header & 0x0f {
                    1 => {
                        self.pending_bool = Some(true);
                        TType::Bool
                    }
                    2 => {
                        self.pending_bool = Some(false);
                        TType::Bool
                    }
                    other => compact_type(other)?,
                };
                Ok(Some((id, t)))
            }
        }
    }

    pub(crate) fn bool(&mut self) -> Result<bool> {
        if let Some(b) = self.pending_bool.take() {
            return Ok(b);
        }
        Ok(self.byte()? == 1)
    }

    pub(crate) fn i32(&mut self) -> Result<i32> {
        match self.protocol {
            Protocol::Binary => self.be_i32(),
            Protocol::Compact => Ok(self.zigzag()? as i32),
        }
    }

    pub(crate) fn i64(&mut self) -> Result<i64> {
        match self.protocol {
            Protocol::Binary => {
                let b = self.bytes(8)?;
                Ok(i64::from_be_bytes(b.try_into().map_err(|_| "EOF")?))
            }
            Protocol::Compact => self.zigzag(),
        }
    }

    pub(crate) fn double(&mut self) -> Result<f64> {
        let b: [u8; 8] = self.bytes(8)?.try_into().map_err(|_| "EOF")?;
        Ok(match self.protocol {
            Protocol::Binary => f64::from_be_bytes(b),
            Protocol::Compact => f64::from_le_bytes(b),
        })
    }

    fn length(&mut self) -> Result<usize> {
        let n = match self.protocol {
            Protocol::Binary => first_len(self.be_i32()?)?,
            Protocol::Compact => self.varint()? as usize,
        };
        if n > self.buf.len() - self.pos {
            return Err("EOF".into());
        }
        Ok(n)
    }

    pub(crate) fn binary(&mut self) -> Result<Vec<u8>> {
        let n = self.length()?;
        Ok(self.bytes(n)?.to_vec())
    }

    pub(crate) fn string(&mut self) -> Result<String> {
        let n = self.length()?;
        self.string_with_len(n)
    }

    fn string_with_len(&mut self, n: usize) -> Result<String> {
        // Go's thrift takes strings as bytes; invalid UTF-8 is replaced.
        Ok(String::from_utf8_lossy(self.bytes(n)?).into_owned())
    }

    /// A list (or set) header: element type and count.
    pub(crate) fn list(&mut self) -> Result<(TType, usize)> {
        let (t, n) = match self.protocol {
            Protocol::Binary => {
                let t = binary_type(self.byte()?)?;
                (t, first_len(self.be_i32()?)?)
            }
            Protocol::Compact => {
                let header = self.byte()?;
                let n = match header >> 4 {
                    15 => self.varint()? as usize,
                    n => usize::from(n),
                };
                (compact_type(header & 0x0f)?, n)
            }
        };
        // Every element takes at least a byte: a count beyond what is left
        // is a lie, refused before anything is allocated for it.
        if n > self.buf.len() - self.pos {
            return Err("EOF".into());
        }
        Ok((t, n))
    }

    /// Skips a value of type `t`.
    pub(crate) fn skip(&mut self, t: TType) -> Result<()> {
        self.skip_at(t, 0)
    }

    fn skip_at(&mut self, t: TType, depth: u32) -> Result<()> {
        if depth > MAX_DEPTH {
            return Err("depth limit exceeded".into());
        }
        match t {
            TType::Bool => {
                self.bool()?;
            }
            TType::Byte => {
                self.byte()?;
            }
            TType::I16 => match self.protocol {
                Protocol::Binary => {
                    self.bytes(2)?;
                }
                Protocol::Compact => {
                    self.varint()?;
                }
            },
            TType::I32 => {
                self.i32()?;
            }
            TType::I64 => {
                self.i64()?;
            }
            TType::Double => {
                self.bytes(8)?;
            }
            TType::Uuid => {
                self.bytes(16)?;
            }
            TType::Binary => {
                let n = self.length()?;
                self.bytes(n)?;
            }
            TType::Struct => {
                self.struct_begin();
                while let Some((_, ft)) = self.field()? {
                    self.skip_at(ft, depth + 1)?;
                }
                self.struct_end();
            }
            TType::List | TType::Set => {
                let (et, n) = self.list()?;
                for _ in 0..n {
                    self.skip_at(et, depth + 1)?;
                }
            }
            TType::Map => {
                let (kt, vt, n) = match self.protocol {
                    Protocol::Binary => {
                        let kt = binary_type(self.byte()?)?;
                        let vt = binary_type(self.byte()?)?;
                        (kt, vt, first_len(self.be_i32()?)?)
                    }
                    Protocol::Compact => {
                        let n = self.varint()? as usize;
                        if n == 0 {
                            return Ok(());
                        }
                        let kv = self.byte()?;
                        (compact_type(kv >> 4)?, compact_type(kv & 0x0f)?, n)
                    }
                };
                if n > self.buf.len() - self.pos {
                    return Err("EOF".into());
                }
                for _ in 0..n {
                    self.skip_at(kt, depth + 1)?;
                    self.skip_at(vt, depth + 1)?;
                }
            }
        }
        Ok(())
    }
}

fn first_len(n: i32) -> Result<usize> {
    usize::try_from(n).map_err(|_| "negative length".to_string())
}

fn binary_type(t: u8) -> Result<TType> {
    Ok(match t {
        2 => TType::Bool,
        3 => TType::Byte,
        4 => TType::Double,
        6 => TType::I16,
        8 => TType::I32,
        10 => TType::I64,
        11 => TType::Binary,
        12 => TType::Struct,
        13 => TType::Map,
        14 => TType::Set,
        15 => TType::List,
        16 => TType::Uuid,
        other => return Err(format!("Unknown data type {other}")),
    })
}

fn compact_type(t: u8) -> Result<TType> {
    Ok(match t {
        1 | 2 => TType::Bool,
        3 => TType::Byte,
        4 => TType::I16,
        5 => TType::I32,
        6 => TType::I64,
        7 => TType::Double,
        8 => TType::Binary,
        9 => TType::List,
        10 => TType::Set,
        11 => TType::Map,
        12 => TType::Struct,
        13 => TType::Uuid,
        other => return Err(format!("Unknown data type {other}")),
    })
}
