//! End-to-end acknowledgements.
//!
//! A receiver that wants to know when its data is safe attaches an
//! [`AckToken`] to the batch and keeps the [`Receipt`]. The token is shared
//! by every copy of the batch (fan-out clones it; the batch processor
//! carries the tokens of every batch it merged into each piece it sends).
//! The receipt resolves when the last copy lets go of the token, with the
//! worst outcome any holder recorded: permanent over retryable over
//! delivered.
//!
//! Letting go without recording anything counts as delivered: a stage that
//! accepted a batch (`consume` returned `Ok`) and then drops it on purpose,
//! as a filter does, has done its job. Stages that lose data they accepted
//! (a queue giving up, a buffer dropped at shutdown) record why with
//! [`Acks::settle`]. A stage whose `consume` fails has not accepted the
//! batch; its caller either keeps a copy to retry or gives up and settles.

use crate::consumer::ConsumeError;
use std::sync::{Arc, Mutex};
use tokio::sync::oneshot;

/// What a receiver needs before it counts its data as safe.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Guarantee {
    /// Taken by every exporter's queue, in memory or on disk. What a push
    /// receiver (OTLP) needs: its client keeps the data until answered.
    Accepted,
    /// Delivered, or written to a persistent queue. What a replaying
    /// receiver (files, Kafka) needs before it moves its checkpoint.
    Durable,
}

type Outcome = Result<(), ConsumeError>;

struct State {
    guarantee: Guarantee,
    worst: Mutex<Option<ConsumeError>>,
    done: Mutex<Option<oneshot::Sender<Outcome>>>,
}

impl Drop for State {
    fn drop(&mut self) {
        let worst = self
            .worst
            .get_mut()
            .unwrap_or_else(|p| p.into_inner())
            .take();
        if let Some(done) = self
            .done
            .get_mut()
            .unwrap_or_else(|p| p.into_inner())
            .take()
        {
            // The receiver may have stopped waiting; that is fine.
            let _ = done.send(worst.map_or(Ok(()), Err));
        }
    }
}

/// A claim on a receiver's answer, shared by every copy of a batch.
#[derive(Clone)]
pub struct AckToken(Arc<State>);

impl std::fmt::Debug for AckToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("AckToken").field(&self.0.guarantee).finish()
    }
}

/// Resolves when every holder of the matching token has let go.
#[derive(Debug)]
pub struct Receipt(oneshot::Receiver<Outcome>);

impl AckToken {
    /// A token and the receipt its receiver waits on.
    pub fn new(guarantee: Guarantee) -> (AckToken, Receipt) {
        let (tx, rx) = oneshot::channel();
        let state = State {
            guarantee,
            worst: Mutex::new(None),
            done: Mutex::new(Some(tx)),
        };
        (AckToken(Arc::new(state)), Receipt(rx))
    }

    /// What the receiver asked for.
    pub fn guarantee(&self) -> Guarantee {
        self.0.guarantee
    }

    fn record(&self, error: &ConsumeError) {
        let mut worst = self.0.worst.lock().unwrap_or_else(|p| p.into_inner());
        if worst
            .as_ref()
            .is_none_or(|w| w.severity() < error.severity())
        {
            *worst = Some(error.clone());
        }
    }
}

impl Receipt {
    /// The worst outcome recorded by any holder.
    pub async fn outcome(self) -> Outcome {
        // The state always sends before it goes away; a closed channel
        // would mean it was leaked, which cannot count as delivered.
        self.0
            .await
            .unwrap_or_else(|_| Err(ConsumeError::retryable("acknowledgement lost")))
    }

    /// Waits for the outcome without giving up the receipt, so that a loop
    /// can wait on it among other things and keep it when interrupted.
    /// Not to be called again once it has returned.
    pub async fn wait(&mut self) -> Outcome {
        (&mut self.0)
            .await
            .unwrap_or_else(|_| Err(ConsumeError::retryable("acknowledgement lost")))
    }

    /// The outcome if it is known already, without waiting; for receivers
    /// that check many receipts in a loop of their own.
    pub fn try_outcome(&mut self) -> Option<Outcome> {
        match self.0.try_recv() {
            Ok(outcome) => Some(outcome),
            Err(oneshot::error::TryRecvError::Empty) => None,
            Err(oneshot::error::TryRecvError::Closed) => {
                Some(Err(ConsumeError::retryable("acknowledgement lost")))
            }
        }
    }
}

/// The tokens a batch carries.
#[derive(Clone, Debug, Default)]
pub struct Acks(Vec<AckToken>);

impl Acks {
    /// No tokens: nobody waits on this batch.
    pub fn none() -> Acks {
        Acks(Vec::new())
    }

    /// One token.
    pub fn one(token: AckToken) -> Acks {
        Acks(vec![token])
    }

    /// Takes over the tokens of a batch merged into this one.
    pub fn absorb(&mut self, other: Acks) {
        if self.0.is_empty() {
            self.0 = other.0;
        } else {
            self.0.extend(other.0);
        }
    }

    /// Splits off the tokens whose receivers need no more than `guarantee`.
    pub fn split_off(&mut self, guarantee: Guarantee) -> Acks {
        let (taken, kept) = std::mem::take(&mut self.0)
            .into_iter()
            .partition(|t| t.guarantee() == guarantee);
        self.0 = kept;
        Acks(taken)
    }

    /// Records an outcome for every token and lets go of them.
    pub fn settle(self, outcome: &Outcome) {
        if let Err(error) = outcome {
            for token in &self.0 {
                token.record(error);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn resolves_when_the_last_copy_goes_with_the_worst_outcome() {
        let (token, receipt) = AckToken::new(Guarantee::Accepted);
        let a = Acks::one(token);
        let b = a.clone();
        let c = a.clone();
        a.settle(&Ok(()));
        b.settle(&Err(ConsumeError::retryable("later")));
        let mut receipt = receipt;
        assert!(
            futures_util::FutureExt::now_or_never(&mut receipt.0).is_none(),
            "one copy is still held"
        );
        c.settle(&Err(ConsumeError::Permanent("bad".into())));
        assert_eq!(
            receipt.outcome().await,
            Err(ConsumeError::Permanent("bad".into()))
        );
    }

    #[tokio::test]
    async fn dropping_without_an_outcome_counts_as_delivered() {
        let (token, receipt) = AckToken::new(Guarantee::Durable);
        drop(Acks::one(token));
        assert_eq!(receipt.outcome().await, Ok(()));
    }

    #[test]
    fn split_off_takes_only_the_asked_guarantee() {
        let (a, _ra) = AckToken::new(Guarantee::Accepted);
        let (d, _rd) = AckToken::new(Guarantee::Durable);
        let mut acks = Acks::one(a);
        acks.absorb(Acks::one(d));
        let accepted = acks.split_off(Guarantee::Accepted);
        assert_eq!(accepted.0.len(), 1);
        assert_eq!(acks.0[0].guarantee(), Guarantee::Durable);
    }
}
