//! The outbox (SPEC §12): sending the deliveries a scheduler has claimed, and when to try a
//! failed one again: after 1, 5, 15 and 60 minutes, then hourly, or after the server's
//! `Retry-After` when that is later, for up to 24 hours; then it has failed for good.

use super::runner::Work;
use super::store::{Delivery, DeliveryOutcome, Store};
use crate::clock::unix_seconds;
use std::time::SystemTime;

/// The waits after the first, second, third and fourth failed attempt; then hourly.
const BACKOFF_SECS: [i64; 4] = [60, 300, 900, 3600];
/// How long a delivery is tried before it has failed for good.
const GIVE_UP_AFTER_SECS: i64 = 24 * 3600;

/// What one attempt to send came to.
#[derive(Debug, Clone, PartialEq)]
pub enum Attempt {
    Delivered,
    /// Worth another try, not before `not_before` when the server said so.
    Retry {
        error: String,
        not_before: Option<i64>,
    },
    /// Trying again would not help.
    Failed(String),
    /// Quiet hours: not sent; wait until then.
    Held {
        until: i64,
    },
}

/// When to try again after `attempts` failed attempts of a delivery made at `created`; `None`
/// when the 24 hours are over. Pure.
pub fn next_attempt(attempts: i64, created: i64, now: i64, not_before: Option<i64>) -> Option<i64> {
    let wait = BACKOFF_SECS
        .get((attempts.max(1) - 1) as usize)
        .copied()
        .unwrap_or(3600);
    let at = (now + wait).max(not_before.unwrap_or(0));
    (at <= created + GIVE_UP_AFTER_SECS).then_some(at)
}

/// Sends each claimed delivery through `work` and records what became of it; a store error
/// is a warning (the claim expires and another pass sends it again).
pub fn send(store: &mut Store, work: &dyn Work, deliveries: Vec<Delivery>) {
    for delivery in deliveries {
        let attempt = work.send(&delivery);
        let now = unix_seconds(SystemTime::now());
        let outcome = match attempt {
            Attempt::Delivered => DeliveryOutcome::Sent,
            Attempt::Held { until } => DeliveryOutcome::Held { until },
            Attempt::Failed(error) => DeliveryOutcome::Failed { error },
            Attempt::Retry { error, not_before } => {
                match next_attempt(delivery.attempts + 1, delivery.created_at, now, not_before) {
                    Some(at) => DeliveryOutcome::Retry { at, error },
                    None => DeliveryOutcome::Failed {
                        error: format!("{error} (gave up after 24 hours)"),
                    },
                }
            }
        };
        if let DeliveryOutcome::Retry { error, .. } | DeliveryOutcome::Failed { error } = &outcome {
            crate::notice::warning(&format!(
                "job `{}`: delivery to `{}` failed: {error}",
                delivery.job, delivery.target
            ));
        }
        if let Err(error) = store.record_delivery(delivery.id, &outcome) {
            crate::notice::warning(&format!(
                "job `{}`: cannot record the delivery to `{}`: {error}",
                delivery.job, delivery.target
            ));
        }
    }
}

/// Claims and sends every delivery that is due now.
pub fn send_due(store: &mut Store, work: &dyn Work, now: i64) -> crate::error::Result<()> {
    let due = store.claim_due_deliveries(now)?;
    send(store, work, due);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retries_back_off_then_go_hourly_and_stop_after_a_day() {
        let created = 1_000_000;
        let waits: Vec<i64> = (1..=6)
            .map(|n| next_attempt(n, created, created, None).unwrap() - created)
            .collect();
        assert_eq!(waits, [60, 300, 900, 3600, 3600, 3600]);
        // A server's Retry-After that is later wins; an earlier one does not.
        assert_eq!(
            next_attempt(1, created, created, Some(created + 7200)),
            Some(created + 7200)
        );
        assert_eq!(
            next_attempt(1, created, created, Some(created + 5)),
            Some(created + 60)
        );
        // Past 24 hours it is given up.
        assert_eq!(
            next_attempt(30, created, created + 23 * 3600 + 1800, None),
            None
        );
        assert!(next_attempt(30, created, created + 22 * 3600, None).is_some());
    }
}
