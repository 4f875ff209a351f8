//! Profiles, carried as the export request that brought them.
//!
//! The profiles signal is alpha in Go (behind `service.profilesSupport`)
//! and its protobuf (`v1development`) still changes between releases, so
//! ferrotel does not decode it: a receiver validates and counts a request
//! with [`scan`](super::scan) and keeps the bytes, and exporters send them
//! on unchanged. One request is one batch: every request has its own
//! dictionary (string, function and location tables that samples point
//! into), so two cannot be merged by concatenating them as the other
//! signals' requests are.

use bytes::Bytes;

/// One `ExportProfilesServiceRequest`, encoded, with its counts.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Profiles {
    request: Bytes,
    samples: usize,
}

impl Profiles {
    /// A request that `scan` accepted with `samples` samples.
    pub fn new(request: Bytes, samples: usize) -> Profiles {
        Profiles { request, samples }
    }

    /// The encoded `ExportProfilesServiceRequest`.
    pub fn request(&self) -> &Bytes {
        &self.request
    }

    /// Samples, which is what Go counts profiles by (`SampleCount()`).
    pub fn sample_count(&self) -> usize {
        self.samples
    }

    /// `ResourceProfiles` in the request.
    pub fn resource_count(&self) -> usize {
        super::wire::count_top_level(&self.request, 1)
    }

    /// True for the empty request.
    pub fn is_empty(&self) -> bool {
        self.request.is_empty()
    }
}
