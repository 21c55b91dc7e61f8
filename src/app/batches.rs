//! Work that arrives together is written together: a queue read by a few writers, each of
//! which takes the first job waiting and every other one waiting with it (up to a batch's
//! most) and writes them as one.
//!
//! Used where PostgreSQL's cost is mostly per statement and per commit rather than per row
//! (new submissions, the audit events of views). Nobody waits for a batch to fill: a writer
//! that is free takes what is there, so a job alone is written at once. Each job carries its
//! own answer; the writer answers it only once its batch has committed.

use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::sync::Arc;

use futures_util::FutureExt;
use tokio::sync::{Mutex, mpsc};

use crate::error::{AppError, AppResult};

/// A queue of jobs and the writers reading it.
pub struct Batches<J> {
    queue: mpsc::Sender<J>,
}

/// How a queue is read.
pub struct Shape {
    /// How many writers read the queue (each holds a pooled connection while it writes).
    pub writers: usize,
    /// The most jobs one batch takes.
    pub max_batch: usize,
    /// Jobs waiting beyond this make the next one wait for room.
    pub queue: usize,
    /// What is written, for the log.
    pub what: &'static str,
}

impl<J: Send + 'static> Batches<J> {
    /// Starts the writers on the current runtime; they stop when the queue is dropped.
    pub fn start<W, F>(shape: Shape, write: W) -> Self
    where
        W: Fn(Vec<J>) -> F + Send + Sync + 'static,
        F: Future<Output = ()> + Send + 'static,
    {
        let (queue, waiting) = mpsc::channel(shape.queue);
        let waiting = Arc::new(Mutex::new(waiting));
        let write = Arc::new(write);
        for _ in 0..shape.writers {
            tokio::spawn(read(
                waiting.clone(),
                write.clone(),
                shape.max_batch,
                shape.what,
            ));
        }
        Self { queue }
    }

    /// Puts `job` in the queue (waiting for room if it is full).
    pub async fn send(&self, job: J) -> AppResult<()> {
        self.queue
            .send(job)
            .await
            .map_err(|_| AppError::Unavailable("the service is stopping".into()))
    }
}

async fn read<J, W, F>(
    waiting: Arc<Mutex<mpsc::Receiver<J>>>,
    write: Arc<W>,
    max_batch: usize,
    what: &'static str,
) where
    W: Fn(Vec<J>) -> F,
    F: Future<Output = ()>,
{
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
        if AssertUnwindSafe(write(batch)).catch_unwind().await.is_err() {
            tracing::error!(what, "a writer panicked; it goes on with the next batch");
        }
    }
}
