//! A batch's data in whichever form is cheapest: the export requests as
//! they arrived, or decoded.
//!
//! Receivers that get protobuf keep the request bytes after validating and
//! counting them with [`scan`](super::scan), so a pipeline that only
//! forwards (receiver, batch, OTLP or file exporter) never decodes or
//! re-encodes. Encoded requests merge by concatenation, since the
//! concatenation of two encoded export requests is the encoding of their
//! merge. The first stage that reads the structure decodes it once (the
//! result is cached); a stage that changes it turns the payload into its
//! decoded form.

use super::{Signal, Telemetry};
use bytes::{Bytes, BytesMut};
use std::sync::OnceLock;

/// Telemetry of one signal, encoded or decoded.
#[derive(Clone, Debug)]
pub struct Payload {
    signal: Signal,
    form: Form,
}

#[derive(Clone, Debug)]
enum Form {
    Decoded(Telemetry),
    Encoded {
        /// Export requests, each with its item count; every one has passed
        /// `scan`, so it decodes.
        requests: Vec<(Bytes, usize)>,
        /// The sum of the requests' counts.
        items: usize,
        decoded: OnceLock<Telemetry>,
    },
}

impl From<Telemetry> for Payload {
    fn from(t: Telemetry) -> Payload {
        Payload {
            signal: t.signal(),
            form: Form::Decoded(t),
        }
    }
}

impl Payload {
    /// An encoded export request that `scan` accepted with `items` items.
    pub fn encoded(signal: Signal, request: Bytes, items: usize) -> Payload {
        Payload {
            signal,
            form: Form::Encoded {
                requests: vec![(request, items)],
                items,
                decoded: OnceLock::new(),
            },
        }
    }

    /// Nothing, of a signal.
    pub fn empty(signal: Signal) -> Payload {
        Payload::from(Telemetry::empty(signal))
    }

    /// Which signal.
    pub fn signal(&self) -> Signal {
        self.signal
    }

    /// Spans, metric data points or log records, without decoding.
    pub fn item_count(&self) -> usize {
        match &self.form {
            Form::Decoded(t) => t.item_count(),
            Form::Encoded { items, .. } => *items,
        }
    }

    /// True while the payload is still the bytes that were received.
    pub fn is_encoded(&self) -> bool {
        matches!(self.form, Form::Encoded { .. })
    }

    /// The export requests an encoded payload is made of, each with its
    /// item count; `None` once decoded. Concatenated, any run of them is
    /// itself a valid request, which lets exporters cut by size without
    /// decoding.
    pub fn encoded_requests(&self) -> Option<&[(Bytes, usize)]> {
        match &self.form {
            Form::Encoded { requests, .. } => Some(requests),
            Form::Decoded(_) => None,
        }
    }

    /// The decoded data, decoding (once) if needed.
    pub fn telemetry(&self) -> &Telemetry {
        match &self.form {
            Form::Decoded(t) => t,
            Form::Encoded {
                requests, decoded, ..
            } => decoded.get_or_init(|| decode_all(self.signal, requests)),
        }
    }

    /// The decoded data for changing; the payload stays decoded afterwards.
    pub fn telemetry_mut(&mut self) -> &mut Telemetry {
        if let Form::Encoded {
            requests, decoded, ..
        } = &mut self.form
        {
            let t = decoded
                .take()
                .unwrap_or_else(|| decode_all(self.signal, requests));
            self.form = Form::Decoded(t);
        }
        match &mut self.form {
            Form::Decoded(t) => t,
            Form::Encoded { .. } => unreachable!("converted above"),
        }
    }

    /// The decoded data, taken out.
    pub fn into_telemetry(self) -> Telemetry {
        match self.form {
            Form::Decoded(t) => t,
            Form::Encoded {
                requests,
                mut decoded,
                ..
            } => decoded
                .take()
                .unwrap_or_else(|| decode_all(self.signal, &requests)),
        }
    }

    /// The payload as one encoded export request: the received bytes when
    /// there is one request, their concatenation when several, an encoding
    /// of the decoded data otherwise.
    pub fn encode_request(&self) -> Bytes {
        match &self.form {
            Form::Decoded(t) => Bytes::from(t.encode_request()),
            Form::Encoded { requests, .. } if requests.len() == 1 => requests[0].0.clone(),
            Form::Encoded { requests, .. } => {
                let mut out = BytesMut::with_capacity(requests.iter().map(|(b, _)| b.len()).sum());
                for (b, _) in requests {
                    out.extend_from_slice(b);
                }
                out.freeze()
            }
        }
    }

    /// Encoded size in bytes.
    pub fn encoded_len(&self) -> usize {
        match &self.form {
            Form::Decoded(t) => t.encoded_len(),
            Form::Encoded { requests, .. } => requests.iter().map(|(b, _)| b.len()).sum(),
        }
    }

    /// Appends `other`. Two encoded payloads stay encoded; otherwise both
    /// are decoded. A payload of another signal is returned as the error.
    pub fn merge(&mut self, other: Payload) -> Result<(), Payload> {
        if other.signal != self.signal {
            return Err(other);
        }
        // An empty decoded payload (a fresh batch) takes the other as it is.
        if matches!(&self.form, Form::Decoded(t) if t.is_empty()) {
            *self = other;
            return Ok(());
        }
        // Each profiles request has its own dictionary: they stay apart.
        if self.signal == Signal::Profiles {
            return if other.item_count() == 0 && other.encoded_len() == 0 {
                Ok(())
            } else {
                Err(other)
            };
        }
        match (&mut self.form, other.form) {
            (
                Form::Encoded {
                    requests,
                    items,
                    decoded,
                },
                Form::Encoded {
                    requests: more,
                    items: more_items,
                    ..
                },
            ) => {
                requests.extend(more);
                *items += more_items;
                // A cached decoding no longer covers everything.
                decoded.take();
            }
            (_, other_form) => {
                let other = Payload {
                    signal: other.signal,
                    form: other_form,
                };
                let mut merged =
                    std::mem::replace(self, Payload::empty(other.signal)).into_telemetry();
                let _ = merged.merge(other.into_telemetry());
                *self = Payload::from(merged);
            }
        }
        Ok(())
    }

    /// Removes and returns up to `max_items` items from the front. Encoded
    /// payloads give whole requests while they fit; a single request larger
    /// than `max_items` is decoded and split at item level.
    pub fn split_off_front(&mut self, max_items: usize) -> Payload {
        if let Form::Encoded {
            requests,
            items,
            decoded,
        } = &mut self.form
        {
            let mut taken = 0;
            let mut count = 0;
            for (_, n) in requests.iter() {
                if taken + n > max_items {
                    break;
                }
                taken += n;
                count += 1;
            }
            if count > 0 {
                let front: Vec<_> = requests.drain(..count).collect();
                decoded.take();
                *items -= taken;
                return Payload {
                    signal: self.signal,
                    form: Form::Encoded {
                        requests: front,
                        items: taken,
                        decoded: OnceLock::new(),
                    },
                };
            }
        }
        let signal = self.signal;
        let mut all = std::mem::replace(self, Payload::empty(signal)).into_telemetry();
        let front = all.split_off_front(max_items);
        *self = Payload::from(all);
        Payload::from(front)
    }
}

/// Decodes scanned requests. They decode by construction; should one not,
/// it is logged and dropped rather than taking the collector down.
fn decode_all(signal: Signal, requests: &[(Bytes, usize)]) -> Telemetry {
    if signal == Signal::Profiles {
        // Kept encoded; a profiles payload is one request (`merge`).
        return match requests {
            [(bytes, samples)] => {
                Telemetry::Profiles(super::Profiles::new(bytes.clone(), *samples))
            }
            _ => Telemetry::empty(signal),
        };
    }
    let mut all = Telemetry::empty(signal);
    for (bytes, _) in requests {
        match Telemetry::decode_request(signal, bytes) {
            Ok(t) => {
                let _ = all.merge(t);
            }
            Err(e) => {
                tracing::error!(error = %e, "a scanned request failed to decode; dropping it")
            }
        }
    }
    all
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pdata::synthetic_request;

    fn encoded(items: usize) -> Payload {
        let bytes = Bytes::from(synthetic_request(Signal::Logs, items).encode_request());
        let n = crate::pdata::scan(Signal::Logs, &bytes).unwrap();
        Payload::encoded(Signal::Logs, bytes, n)
    }

    #[test]
    fn encoded_payloads_merge_by_concatenation() {
        let mut a = encoded(3);
        a.merge(encoded(4)).unwrap();
        assert!(a.is_encoded());
        assert_eq!(a.item_count(), 7);
        let bytes = a.encode_request();
        assert_eq!(
            Telemetry::decode_request(Signal::Logs, &bytes)
                .unwrap()
                .item_count(),
            7
        );
        assert_eq!(a.telemetry().item_count(), 7);
    }

    #[test]
    fn mixed_merges_decode() {
        let mut a = encoded(2);
        a.merge(Payload::from(synthetic_request(Signal::Logs, 5)))
            .unwrap();
        assert!(!a.is_encoded());
        assert_eq!(a.item_count(), 7);
        assert_eq!(a.telemetry().item_count(), 7);
    }

    #[test]
    fn splitting_takes_whole_requests_then_items() {
        let mut a = encoded(3);
        a.merge(encoded(3)).unwrap();
        a.merge(encoded(3)).unwrap();
        let front = a.split_off_front(7);
        assert!(front.is_encoded());
        assert_eq!((front.item_count(), a.item_count()), (6, 3));
        let front = a.split_off_front(2);
        assert_eq!((front.item_count(), a.item_count()), (2, 1));
        assert_eq!(front.telemetry().item_count(), 2);
    }

    #[test]
    fn changing_data_recounts() {
        let mut a = encoded(3);
        let Telemetry::Logs(r) = a.telemetry_mut() else {
            unreachable!()
        };
        r[0].scope_logs[0].log_records.pop();
        assert_eq!(a.item_count(), 2);
        assert!(!a.is_encoded());
    }
}
