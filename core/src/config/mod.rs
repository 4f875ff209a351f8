//! What every component's config needs: strict decoding with the Go
//! collector's error texts ([`decode_component`], [`Invalid`]), Go's
//! duration and byte-size units, the self-metrics level, and closed sets of
//! values Go's config packages define ([`Compression`]). Loading the
//! whole collector config (URIs, `--set`, pipelines) is the service's job
//! (`ferrotel-service`), which components do not depend on.

mod compression;
mod decode;
pub(crate) mod go_value;
mod level;
mod opaque;
mod units;

pub use compression::Compression;
pub use decode::{DecodeError, Invalid, Validate, decode_component, decode_strict, decode_tree};
pub use go_value::{GoValue, expanded, from_go_value, without_expansions};
pub use level::MetricsLevel;
pub use opaque::Opaque;
/// For a protocol section (`protocols::grpc`): a key with no value enables
/// it with its defaults, as Go's `configoptional` does; an absent key
/// leaves it off (with `#[serde(default)]` on the holder).
pub fn present_means_enabled<'de, D, T>(d: D) -> Result<Option<T>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: serde::Deserialize<'de> + Default,
{
    Ok(Some(
        <Option<T> as serde::Deserialize>::deserialize(d)?.unwrap_or_default(),
    ))
}

pub use units::{ByteSize, GoDuration, format_go_duration, parse_byte_size, parse_go_duration};
