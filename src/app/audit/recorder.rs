//! The audit events of views, recorded together.
//!
//! A case or alert page is shown only once its view's audit event is committed. Recorded one
//! by one, that event was a third of PostgreSQL's time for a page under load: a statement of
//! its own (executor start-up, the chain head locked, `audit_events`' indexes), a commit and
//! its wait for the write-ahead log, a round trip. So views go through a queue (see
//! `batches`): a writer takes the events waiting and appends them to its connection's chain
//! in one statement (`audit_append_many`, the function that appends a batch of submissions'
//! events), one commit for all, and then answers each page.
//!
//! - An event waits for no other: a free writer takes what is there at once.
//! - A page is answered only after its event has committed, so nothing is shown unrecorded.
//! - If PostgreSQL refuses a batch's statement (nothing of it was written), each event is
//!   appended again on its own, for its own answer. If the connection fails, each page is told
//!   the database did not answer, and nothing is appended twice.

use sqlx::{PgConnection, PgPool};
use tokio::sync::oneshot;
use uuid::Uuid;

use super::{Appended, append};
use crate::app::batches::{Batches, Shape};
use crate::error::{AppError, AppResult};

/// One writer: while it waits for a commit the next views gather, so batches grow with the
/// load. Measured on case pages at 32 clients: one writer served 10-12% more than two or three
/// (more commits of fewer events each). A batch takes up to 64.
const SHAPE: Shape = Shape {
    writers: 1,
    max_batch: 64,
    queue: 4096,
    what: "audit events of views",
};

struct Job {
    event: Appended,
    answer: oneshot::Sender<Result<Uuid, sqlx::Error>>,
}

/// The queue of views' audit events (started on first use, by `AppState::recorder`).
pub struct Recorder {
    queue: Batches<Job>,
}

impl Recorder {
    /// Starts the writers on the current runtime; they stop when the recorder is dropped.
    pub fn start(pool: PgPool) -> Self {
        Self {
            queue: Batches::start(SHAPE, move |batch| write(pool.clone(), batch)),
        }
    }

    /// Appends `event` to the trail in a transaction of its own and returns its id once it
    /// is committed.
    pub async fn record(&self, event: Appended) -> AppResult<Uuid> {
        let (answer, answered) = oneshot::channel();
        self.queue.send(Job { event, answer }).await?;
        let id = answered
            .await
            .map_err(|_| AppError::Internal(anyhow::anyhow!("a writer of audit events failed")))?;
        Ok(id?)
    }
}

async fn write(pool: PgPool, batch: Vec<Job>) {
    let mut conn = match pool.acquire().await {
        Ok(conn) => conn,
        Err(e) => {
            tracing::warn!(error = %e, "no connection for a batch of audit events");
            for job in batch {
                let _ = job.answer.send(Err(sqlx::Error::PoolTimedOut));
            }
            return;
        }
    };
    if batch.len() > 1 {
        match append_many(&mut conn, &batch).await {
            Ok(()) => {
                for job in batch {
                    let _ = job.answer.send(Ok(job.event.id));
                }
                return;
            }
            // Refused, so nothing of the batch was appended: each is tried alone below.
            Err(sqlx::Error::Database(_)) => {}
            // Whether it committed is not known: appending again could record a view twice.
            Err(e) => {
                tracing::warn!(error = %e, "a batch of audit events lost its connection");
                for job in batch {
                    let _ = job.answer.send(Err(sqlx::Error::PoolTimedOut));
                }
                return;
            }
        }
    }
    for job in batch {
        let r = append(&mut conn, &job.event).await;
        let _ = job.answer.send(r);
    }
}

/// Appends the batch's events to the connection's chain in one statement, committed.
async fn append_many(conn: &mut PgConnection, batch: &[Job]) -> Result<(), sqlx::Error> {
    let events: Vec<&Appended> = batch.iter().map(|j| &j.event).collect();
    let ids: Vec<Uuid> = events.iter().map(|a| a.id).collect();
    let at: Vec<_> = events.iter().map(|a| a.at).collect();
    let actor_ids: Vec<Option<Uuid>> = events.iter().map(|a| a.actor_id).collect();
    let actions: Vec<&str> = events.iter().map(|a| a.action).collect();
    let subject_types: Vec<&str> = events.iter().map(|a| a.subject_type).collect();
    let subject_ids: Vec<Option<Uuid>> = events.iter().map(|a| a.subject_id).collect();
    let case_ids: Vec<Option<Uuid>> = events.iter().map(|a| a.case_id).collect();
    let details: Vec<serde_json::Value> = events.iter().map(|a| a.details.clone()).collect();
    let prefixes: Vec<&str> = events.iter().map(|a| a.prefix.as_str()).collect();
    let middles: Vec<&str> = events.iter().map(|a| a.middle.as_str()).collect();
    let appended = sqlx::query_scalar!(
        r#"SELECT audit_append_many($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) AS "n!""#,
        super::STRIPES,
        &ids,
        &at,
        &actor_ids as &[Option<Uuid>],
        &actions as &[&str],
        &subject_types as &[&str],
        &subject_ids as &[Option<Uuid>],
        &case_ids as &[Option<Uuid>],
        &details,
        &prefixes as &[&str],
        &middles as &[&str],
    )
    .fetch_one(conn)
    .await?;
    debug_assert_eq!(usize::try_from(appended).ok(), Some(batch.len()));
    Ok(())
}
