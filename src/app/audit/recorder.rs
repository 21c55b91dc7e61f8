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
//! A page is answered only after its event has committed, so nothing is shown unrecorded;
//! `batches` says what happens when a batch fails.

use futures_util::FutureExt;
use futures_util::future::BoxFuture;
use serde_json::Value;
use sqlx::types::Json;
use sqlx::{PgConnection, PgPool};
use uuid::Uuid;

use super::{Appended, append};
use crate::app::batches::{Answers, Batches, Shape, Writer};
use crate::error::AppResult;

/// One writer: while it waits for a commit the next views gather, so batches grow with the
/// load. Measured on case pages at 32 clients: one writer served 10-12% more than two or three
/// (more commits of fewer events each). A batch takes up to 64.
const SHAPE: Shape = Shape {
    writers: 1,
    max_batch: 64,
    queue: 4096,
};

/// How views' events are appended: together by `audit_append_many`, alone by `audit_append`.
pub struct Views;

impl Writer for Views {
    type Job = Appended;
    type Out = Uuid;
    const WHAT: &'static str = "audit events of views";

    fn many<'a>(&'a self, conn: &'a mut PgConnection, events: &'a [Appended]) -> Answers<'a, Uuid> {
        async move {
            append_many(conn, events).await?;
            Ok(events.iter().map(|e| Ok(e.id)).collect())
        }
        .boxed()
    }

    fn one<'a>(
        &'a self,
        conn: &'a mut PgConnection,
        event: &'a Appended,
    ) -> BoxFuture<'a, Result<Uuid, sqlx::Error>> {
        append(conn, event).boxed()
    }
}

/// The queue of views' audit events (started on first use, by `AppState::recorder`).
pub struct Recorder {
    queue: Batches<Views>,
}

impl Recorder {
    /// Starts the writer on the current runtime; it stops when the recorder is dropped.
    pub fn start(pool: PgPool) -> Self {
        Self {
            queue: Batches::start(SHAPE, pool, Views),
        }
    }

    /// Appends `event` to the trail in a transaction of its own and returns its id once it
    /// is committed.
    pub async fn record(&self, event: Appended) -> AppResult<Uuid> {
        self.queue.write(event).await
    }
}

/// Appends the batch's events to the connection's chain in one statement, committed.
async fn append_many(conn: &mut PgConnection, events: &[Appended]) -> Result<(), sqlx::Error> {
    let c = super::Columns::of(events.iter());
    let appended = sqlx::query_scalar!(
        r#"SELECT audit_append_many($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) AS "n!""#,
        super::STRIPES,
        &c.ids,
        &c.at,
        &c.actor_ids as &[Option<Uuid>],
        &c.actions as &[&str],
        &c.subject_types as &[&str],
        &c.subject_ids as &[Option<Uuid>],
        &c.case_ids as &[Option<Uuid>],
        &c.details as &[Json<&Value>],
        &c.prefixes as &[&str],
        &c.middles as &[&str],
    )
    .fetch_one(conn)
    .await?;
    debug_assert_eq!(usize::try_from(appended).ok(), Some(events.len()));
    Ok(())
}
