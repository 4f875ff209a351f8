//! Reading the Go collector's bbolt files, so that switching from the Go
//! collector keeps its state: a filelog receiver resumes where Go stopped
//! instead of reading every file again or skipping what Go had not sent.
//!
//! Go's `file_storage` keeps one bbolt database per component with every
//! key in a bucket named `default`. bbolt is a copy-on-write B+tree of
//! fixed-size pages; two meta pages at the start name the root of the
//! newest committed tree. Only reading is needed, so this walks that tree
//! from the valid meta page with the highest transaction id. The layout
//! (little-endian, as on every platform the collector ships for):
//!
//! - page header, 16 bytes: id u64, flags u16, count u16, overflow u32;
//! - meta, after the header: magic u32 `0xED0CDAED`, version u32 (2),
//!   page size u32, flags u32, root bucket {root page u64, sequence u64},
//!   freelist u64, page count u64, txid u64, checksum u64 (FNV-1a 64 of
//!   the 56 bytes before it);
//! - branch element, 16 bytes: pos u32, key size u32, child page u64;
//! - leaf element, 16 bytes: flags u32 (1 = a nested bucket), pos u32,
//!   key size u32, value size u32; `pos` counts from the element itself;
//! - a bucket's value: {root page u64, sequence u64}, and when the root is
//!   0 the bucket's single leaf page follows inline.

const MAGIC: u32 = 0xED0C_DAED;
const VERSION: u32 = 2;
const PAGE_HEADER: usize = 16;
const ELEMENT: usize = 16;
const BRANCH_PAGE: u16 = 0x01;
const LEAF_PAGE: u16 = 0x02;
const BUCKET_LEAF: u32 = 0x01;
/// The bucket Go's `file_storage` keeps every key in.
const DEFAULT_BUCKET: &[u8] = b"default";
/// Deeper trees than this are taken as a loop in a damaged file.
const MAX_DEPTH: usize = 64;

/// Whether `bytes` begin like a bbolt database.
pub(crate) fn is_bbolt(bytes: &[u8]) -> bool {
    u32_at(bytes, PAGE_HEADER) == Some(MAGIC)
}

/// The keys and values of the `default` bucket of a bbolt database (none
/// when it has no such bucket), or why the file could not be read.
pub(crate) fn default_bucket(bytes: &[u8]) -> Result<Vec<(String, Vec<u8>)>, String> {
    let db = Db::open(bytes)?;
    // A sound tree visits each page once; a damaged one could loop.
    let mut budget = 2 * (bytes.len() / db.page_size + 1);
    let mut top = Vec::new();
    db.collect(db.root, 0, &mut budget, &mut top)?;
    let Some(bucket) = top
        .into_iter()
        .find(|e| e.bucket && e.key == DEFAULT_BUCKET)
    else {
        return Ok(Vec::new());
    };
    let root = u64_at(bucket.value, 0).ok_or("bucket header is short")?;
    let mut entries = Vec::new();
    if root == 0 {
        let inline = bucket.value.get(16..).ok_or("inline bucket is short")?;
        Db::leaf(inline, &mut entries)?;
    } else {
        db.collect(root, 0, &mut budget, &mut entries)?;
    }
    entries
        .into_iter()
        .filter(|e| !e.bucket)
        .map(|e| {
            let key =
                String::from_utf8(e.key.to_vec()).map_err(|_| "a key is not UTF-8".to_string())?;
            Ok((key, e.value.to_vec()))
        })
        .collect()
}

struct Db<'a> {
    bytes: &'a [u8],
    page_size: usize,
    root: u64,
}

struct Element<'a> {
    key: &'a [u8],
    value: &'a [u8],
    bucket: bool,
}

impl<'a> Db<'a> {
    fn open(bytes: &'a [u8]) -> Result<Db<'a>, String> {
        let first = Meta::read(bytes).ok_or("not a bbolt file")?;
        let second = bytes
            .get(first.page_size..)
            .and_then(Meta::read)
            .filter(|m| m.valid);
        let meta = match (first.valid, second) {
            (true, Some(s)) if s.txid > first.txid => s,
            (true, _) => first,
            (false, Some(s)) => s,
            (false, None) => return Err("neither meta page is valid".into()),
        };
        Ok(Db {
            bytes,
            page_size: meta.page_size,
            root: meta.root,
        })
    }

    fn page(&self, id: u64) -> Result<&'a [u8], String> {
        let start = usize::try_from(id)
            .ok()
            .and_then(|i| i.checked_mul(self.page_size))
            .ok_or_else(|| format!("page {id} is out of range"))?;
        let header = self
            .bytes
            .get(start..start + PAGE_HEADER)
            .ok_or_else(|| format!("page {id} is past the end of the file"))?;
        let overflow = u32_at(header, 12).unwrap_or(0) as usize;
        let len = (overflow + 1) * self.page_size;
        Ok(self
            .bytes
            .get(start..start + len)
            .unwrap_or(&self.bytes[start..]))
    }

    /// Every leaf element under page `id`, in key order.
    fn collect(
        &self,
        id: u64,
        depth: usize,
        budget: &mut usize,
        out: &mut Vec<Element<'a>>,
    ) -> Result<(), String> {
        if depth > MAX_DEPTH || *budget == 0 {
            return Err("the tree loops; the file is damaged".into());
        }
        *budget -= 1;
        let page = self.page(id)?;
        let flags = u16_at(page, 8).unwrap_or(0);
        if flags & LEAF_PAGE != 0 {
            return Db::leaf(page, out);
        }
        if flags & BRANCH_PAGE == 0 {
            return Err(format!("page {id} is neither a branch nor a leaf"));
        }
        let count = u16_at(page, 10).unwrap_or(0) as usize;
        for i in 0..count {
            let at = PAGE_HEADER + i * ELEMENT;
            let child = u64_at(page, at + 8).ok_or("branch element is short")?;
            self.collect(child, depth + 1, budget, out)?;
        }
        Ok(())
    }

    fn leaf(page: &'a [u8], out: &mut Vec<Element<'a>>) -> Result<(), String> {
        let count = u16_at(page, 10).ok_or("leaf page is short")? as usize;
        for i in 0..count {
            let at = PAGE_HEADER + i * ELEMENT;
            let field = |n: usize| u32_at(page, at + 4 * n).ok_or("leaf element is short");
            let (flags, pos, ksize, vsize) = (field(0)?, field(1)?, field(2)?, field(3)?);
            let key_at = at + pos as usize;
            let value_at = key_at + ksize as usize;
            let key = page
                .get(key_at..value_at)
                .ok_or("a key runs past its page")?;
            let value = page
                .get(value_at..value_at + vsize as usize)
                .ok_or("a value runs past its page")?;
            out.push(Element {
                key,
                value,
                bucket: flags & BUCKET_LEAF != 0,
            });
        }
        Ok(())
    }
}

struct Meta {
    page_size: usize,
    root: u64,
    txid: u64,
    valid: bool,
}

impl Meta {
    fn read(page: &[u8]) -> Option<Meta> {
        let meta = page.get(PAGE_HEADER..PAGE_HEADER + 64)?;
        let page_size = u32_at(meta, 8)? as usize;
        let valid = u32_at(meta, 0)? == MAGIC
            && u32_at(meta, 4)? == VERSION
            && page_size >= 512
            && u64_at(meta, 56)? == fnv1a64(&meta[..56]);
        Some(Meta {
            page_size,
            root: u64_at(meta, 16)?,
            txid: u64_at(meta, 48)?,
            valid,
        })
    }
}

fn fnv1a64(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(*b)).wrapping_mul(0x0000_0100_0000_01b3)
    })
}

fn u16_at(b: &[u8], at: usize) -> Option<u16> {
    Some(u16::from_le_bytes(b.get(at..at + 2)?.try_into().ok()?))
}

fn u32_at(b: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_le_bytes(b.get(at..at + 4)?.try_into().ok()?))
}

fn u64_at(b: &[u8], at: usize) -> Option<u64> {
    Some(u64::from_le_bytes(b.get(at..at + 8)?.try_into().ok()?))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A Go 0.165 collector's `file_storage` file after its filelog
    /// receiver read a file of ten lines.
    const GO_FILE: &[u8] = include_bytes!("../testdata/receiver_filelog_go-0.165.bbolt");

    #[test]
    fn reads_the_default_bucket_of_a_go_collector_file() {
        assert!(is_bbolt(GO_FILE));
        let pairs = default_bucket(GO_FILE).unwrap();
        let keys: Vec<&str> = pairs.iter().map(|(k, _)| k.as_str()).collect();
        assert_eq!(keys, ["file_input.knownFiles"]);
        // The value is Go's protobuf checkpoint: one file, its first line.
        assert_eq!(pairs[0].1[0], 0x0a);
        assert!(pairs[0].1.windows(5).any(|w| w == b"go-0 "));
    }

    #[test]
    fn damaged_files_are_errors_not_panics() {
        assert!(!is_bbolt(b"FTKV0001"));
        for len in [0, 16, 20, 100, 4096, 4200, 8192, 12288, 16384, 20000] {
            let _ = default_bucket(&GO_FILE[..len.min(GO_FILE.len())]);
        }
        // Every byte of the meta pages and the first data pages, flipped.
        for at in (0..GO_FILE.len().min(20480)).step_by(7) {
            let mut bad = GO_FILE.to_vec();
            bad[at] ^= 0xff;
            let _ = default_bucket(&bad);
        }
    }
}
