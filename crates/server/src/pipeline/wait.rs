//! Parking a request in a pool's wait queue until a credential can take it: a ticket taken at
//! the back, a look at the pool whenever a lease ends, a ticket leaves or the earliest cooldown
//! or ejection runs out (and at least once a second, so no missed wake-up can strand a
//! request), and a credential taken only on the ticket's turn. The ticket leaves exactly once,
//! from a drop guard, whether the request is served, gives up, or its client goes away. The
//! order and the bounds are the core ledger's; this module only waits.

use std::time::Duration;

use switchyard_core::pool::{Ask, Lease, Pool, Selection};
use switchyard_core::resilience::Ticket;
use tokio::time::Instant;

use super::now_std;

/// The longest a waiting request goes without looking at the pool: wake-ups cover slots that
/// free and tickets that leave, this covers whatever else may change (a limit that grows, an
/// operator's activation).
const LOOK_AGAIN: Duration = Duration::from_secs(1);

/// What waiting came to.
#[derive(Debug)]
pub(crate) enum Waited {
    Lease(Lease),
    /// The queue is off or full.
    Refused,
    /// Waited until `deadline` without a credential freeing up.
    TimedOut(Duration),
    /// No credential can ever serve (all invalid): waiting would not help.
    Hopeless,
}

/// Waits in `pool`'s queue for a credential matching `ask`, at most until `deadline`. With
/// `after_a_release`, the first look waits for a served request to end (or a second): the upstream just
/// refused a request for having too many at once, which no limit here knew yet, so trying
/// again before anything finished would only collect another refusal.
pub(crate) async fn for_credential(
    pool: &Pool,
    ask: &Ask<'_>,
    deadline: Instant,
    after_a_release: bool,
) -> Waited {
    let waiters = pool.waiters();
    let joined = Instant::now();
    let Ok(ticket) = waiters.enqueue(now_std()) else {
        return Waited::Refused;
    };
    let mut place = Place {
        pool,
        ticket,
        joined,
        served: false,
    };
    if after_a_release {
        let look_at = (Instant::now() + LOOK_AGAIN).min(deadline);
        tokio::select! {
            () = waiters.finished() => {}
            () = tokio::time::sleep_until(look_at) => {}
        }
    }
    loop {
        let notified = waiters.notified();
        tokio::pin!(notified);
        // Registered before the look, so a wake-up between the look and the await counts.
        notified.as_mut().enable();
        let mut look_at = Instant::now() + LOOK_AGAIN;
        if waiters.is_turn(ticket) {
            match pool.select_for(ask, now_std()) {
                Selection::Chosen(lease) => {
                    place.served = true;
                    return Waited::Lease(lease);
                }
                Selection::AllCoolingDown { until } => {
                    look_at = look_at.min(Instant::from_std(until));
                }
                Selection::AllBusy => {}
                Selection::NoneUsable => return Waited::Hopeless,
            }
        }
        if Instant::now() >= deadline {
            return Waited::TimedOut(joined.elapsed());
        }
        tokio::select! {
            () = &mut notified => {}
            () = tokio::time::sleep_until(look_at.min(deadline)) => {}
        }
    }
}

/// A ticket held while waiting; leaving the queue on drop wakes the next in line.
struct Place<'a> {
    pool: &'a Pool,
    ticket: Ticket,
    joined: Instant,
    served: bool,
}

impl Drop for Place<'_> {
    fn drop(&mut self) {
        self.pool
            .waiters()
            .leave(self.ticket, self.joined.elapsed(), self.served);
    }
}
