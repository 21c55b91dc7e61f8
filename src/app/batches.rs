//! Work that arrives together is written together: a queue read by a writer that takes the
//! first job waiting and every other one waiting with it (up to a batch's most) and writes
//! them in one statement.
//!
//! Used where PostgreSQL's cost is mostly per statement and per commit rather than per row
//! (new submissions, the audit events of views).
//!
//! - Nobody waits for a batch to fill: a writer that is free takes what is there, so a job
//!   alone is written at once, by the one-job statement.
//! - A job is answered only after its statement has committed.
//! - A batch's statement is all or nothing. If PostgreSQL refuses it (nothing of it was
//!   written), each job is written again on its own for its own answer, so one bad job cannot
//!   refuse the others. If the connection fails, whether it committed is not known, and
//!   writing again could write twice: each job is told the database did not answer.
//! - Each batch runs on one connection, so its audit events join one chain in turn.

use std::panic::AssertUnwindSafe;
use std::sync::Arc;

use futures_util::FutureExt;
use futures_util::future::BoxFuture;
use sqlx::{PgConnection, PgPool};
use tokio::sync::{Mutex, mpsc, oneshot};

use crate::error::{AppError, AppResult};

/// What [`Writer::many`] gives: each job's answer, in the jobs' order, or the batch's error.
pub type Answers<'a, T> = BoxFuture<'a, Result<Vec<Result<T, sqlx::Error>>, sqlx::Error>>;

/// What a queue writes, and how.
pub trait Writer: Send + Sync + 'static {
    type Job: Send + Sync + 'static;
    type Out: Send + 'static;
    /// What is written, for the log.
    const WHAT: &'static str;
    /// Writes every job in one statement, committed, and answers each, in the jobs' order.
    fn many<'a>(
        &'a self,
        conn: &'a mut PgConnection,
        jobs: &'a [Self::Job],
    ) -> Answers<'a, Self::Out>;
    /// Writes one job, committed.
    fn one<'a>(
        &'a self,
        conn: &'a mut PgConnection,
        job: &'a Self::Job,
    ) -> BoxFuture<'a, Result<Self::Out, sqlx::Error>>;
}

/// How a queue is read.
pub struct Shape {
    /// How many writers read the queue (each holds a pooled connection while it writes).
    pub writers: usize,
    /// The most jobs one batch takes.
    pub max_batch: usize,
    /// Jobs waiting beyond this make the next one wait for room.
    pub queue: usize,
}

type Answer<T> = oneshot::Sender<Result<T, sqlx::Error>>;
type Waiting<W> = (<W as Writer>::Job, Answer<<W as Writer>::Out>);

/// A queue of jobs and the writers reading it.
pub struct Batches<W: Writer> {
    queue: mpsc::Sender<Waiting<W>>,
}

impl<W: Writer> Batches<W> {
    /// Starts the writers on the current runtime; they stop when the queue is dropped.
    pub fn start(shape: Shape, pool: PgPool, writer: W) -> Self {
        let (queue, waiting) = mpsc::channel(shape.queue);
        let waiting = Arc::new(Mutex::new(waiting));
        let writer = Arc::new(writer);
        for _ in 0..shape.writers {
            tokio::spawn(read(
                waiting.clone(),
                pool.clone(),
                writer.clone(),
                shape.max_batch,
            ));
        }
        Self { queue }
    }

    /// Writes `job` with the others waiting at the same moment, and answers once it is
    /// committed.
    pub async fn write(&self, job: W::Job) -> AppResult<W::Out> {
        let (answer, answered) = oneshot::channel();
        self.queue
            .send((job, answer))
            .await
            .map_err(|_| AppError::Unavailable("the service is stopping".into()))?;
        // No answer means the writer dropped it: a bug (see `read`), not an outage.
        let out = answered
            .await
            .map_err(|_| AppError::Internal(anyhow::anyhow!("a writer of {} failed", W::WHAT)))?;
        Ok(out?)
    }
}

async fn read<W: Writer>(
    waiting: Arc<Mutex<mpsc::Receiver<Waiting<W>>>>,
    pool: PgPool,
    writer: Arc<W>,
    max_batch: usize,
) {
    loop {
        let mut batch = Vec::new();
        {
            let mut waiting = waiting.lock().await;
            let Some(first) = waiting.recv().await else {
                return;
            };
            batch.push(first);
            while batch.len() < max_batch {
                match waiting.try_recv() {
                    Ok(job) => batch.push(job),
                    Err(_) => break,
                }
            }
        }
        // A panic while writing (a bug) must not take the writer with it: the batch's
        // unanswered jobs get a 500 (their answers are dropped) and the writer goes on with
        // the next batch.
        if AssertUnwindSafe(write(&pool, &*writer, batch))
            .catch_unwind()
            .await
            .is_err()
        {
            tracing::error!(
                what = W::WHAT,
                "a writer panicked; it goes on with the next batch"
            );
        }
    }
}

async fn write<W: Writer>(pool: &PgPool, writer: &W, batch: Vec<Waiting<W>>) {
    let (jobs, answers): (Vec<_>, Vec<_>) = batch.into_iter().unzip();
    let not_answered = |answers: Vec<Answer<W::Out>>| {
        for answer in answers {
            let _ = answer.send(Err(sqlx::Error::PoolTimedOut));
        }
    };
    let mut conn = match pool.acquire().await {
        Ok(conn) => conn,
        Err(e) => {
            // No connection (sqlx's errors cannot be cloned): each is told the database did
            // not answer, as a request that could not take a connection itself is.
            tracing::warn!(error = %e, what = W::WHAT, "no connection for a batch");
            not_answered(answers);
            return;
        }
    };
    if jobs.len() > 1 {
        match writer.many(&mut conn, &jobs).await {
            Ok(outs) => {
                for (answer, out) in answers.into_iter().zip(outs) {
                    let _ = answer.send(out);
                }
                return;
            }
            // Refused, so nothing of the batch was written: each is tried alone below.
            Err(sqlx::Error::Database(_)) => {}
            Err(e) => {
                tracing::warn!(error = %e, what = W::WHAT, "a batch lost its connection");
                not_answered(answers);
                return;
            }
        }
    }
    for (job, answer) in jobs.iter().zip(answers) {
        let out = writer.one(&mut conn, job).await;
        let _ = answer.send(out);
    }
}
