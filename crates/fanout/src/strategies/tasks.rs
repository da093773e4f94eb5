//! What the task strategies share: waiting for every task of a `JoinSet`.

use crate::model::error_kind::ErrorKind;
use crate::model::tally::Tally;

/// Waits for every task; a task that panicked counts as its request's error.
pub(super) async fn join_all(mut tasks: tokio::task::JoinSet<()>, tally: &Tally) {
    while let Some(joined) = tasks.join_next().await {
        if joined.is_err() {
            tally.fail(ErrorKind::Panic);
        }
    }
}
