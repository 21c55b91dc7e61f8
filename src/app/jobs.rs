//! Background work inside the service: sending notifications from the outbox, and reminders
//! for alerts not acknowledged in time. Work is taken with `FOR UPDATE SKIP LOCKED`, so any
//! number of instances can run these loops and no notification is sent twice.

use std::time::Duration;

use chrono::{DateTime, TimeDelta, Utc};
use lettre::message::{Mailbox, header::ContentType};
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};

use crate::app::db::shares as sdb;
use crate::state::AppState;

pub const MAX_ATTEMPTS: i32 = 8;

/// Where notifications go: an SMTP server, or (no `CDC_SMTP_URL`) the log, without content.
#[derive(Clone)]
pub enum Mailer {
    Smtp {
        transport: AsyncSmtpTransport<Tokio1Executor>,
        from: Mailbox,
    },
    /// `CDC_SMTP_URL=file:///some/dir`: each message is written to a file there (for
    /// development and the browser tests, which read the reset links from it).
    Dir(std::path::PathBuf),
    Log,
}

impl Mailer {
    pub fn from_config(config: &crate::config::Config) -> anyhow::Result<Self> {
        match &config.smtp_url {
            None => Ok(Mailer::Log),
            Some(url) if url.expose().starts_with("file://") => Ok(Mailer::Dir(
                url.expose().trim_start_matches("file://").into(),
            )),
            Some(url) => {
                let transport = AsyncSmtpTransport::<Tokio1Executor>::from_url(url.expose())?
                    .timeout(Some(Duration::from_secs(20)))
                    .build();
                let from: Mailbox = config.mail_from.parse()?;
                Ok(Mailer::Smtp { transport, from })
            }
        }
    }

    pub(crate) async fn send(&self, to: &str, subject: &str, body: String) -> Result<(), String> {
        match self {
            Mailer::Dir(dir) => {
                let name = format!("{}.eml", uuid::Uuid::now_v7());
                let text = format!("To: {to}\nSubject: {subject}\n\n{body}");
                tokio::fs::create_dir_all(dir)
                    .await
                    .map_err(|e| e.to_string())?;
                tokio::fs::write(dir.join(name), text)
                    .await
                    .map_err(|e| e.to_string())
            }
            Mailer::Log => {
                // No address and no content: only that a notification would have gone.
                tracing::info!(
                    notification.subject = subject,
                    "notification (no SMTP configured)"
                );
                Ok(())
            }
            Mailer::Smtp { transport, from } => {
                let to: Mailbox = to.parse().map_err(|e| format!("bad address: {e}"))?;
                let msg = Message::builder()
                    .from(from.clone())
                    .to(to)
                    .subject(subject)
                    .header(ContentType::TEXT_PLAIN)
                    .body(body)
                    .map_err(|e| e.to_string())?;
                transport
                    .send(msg)
                    .await
                    .map(|_| ())
                    .map_err(|e| e.to_string())
            }
        }
    }
}

/// The text of each kind of notification: no names, no drugs, no descriptions, no references.
fn compose(kind: &str, base: &str) -> (&'static str, String) {
    match kind {
        "new_alert" => (
            "You have a new alert in CD Concerns",
            format!("You have a new alert in CD Concerns.\n\nSign in to read it: {base}/alerts\n"),
        ),
        "alert_reminder" => (
            "An alert in CD Concerns is waiting for acknowledgement",
            format!(
                "An alert for your organisation in CD Concerns has not been acknowledged yet.\n\nSign in to see it: {base}/alerts\n"
            ),
        ),
        "alert_reply" => (
            "The controlled drugs team has replied on an alert in CD Concerns",
            format!(
                "The NHS England controlled drugs team has replied on an alert your organisation received.\n\nSign in to read it: {base}/alerts\n"
            ),
        ),
        "information_requested" => (
            "The controlled drugs team has asked about your report",
            format!(
                "The NHS England controlled drugs team has asked for more information about a report you made.\n\nSign in to answer: {base}/reports\n"
            ),
        ),
        "case_outcome" => (
            "The outcome of an alert in CD Concerns has changed",
            format!(
                "The controlled drugs team has recorded an outcome on an alert your organisation received. You may need to correct your own records.\n\nSign in to see it: {base}/alerts\n"
            ),
        ),
        "person_removed" => (
            "A record in an alert in CD Concerns was removed",
            format!(
                "The controlled drugs team has removed a person record entered in error from an alert your organisation received. You may need to correct your own records.\n\nSign in to see it: {base}/alerts\n"
            ),
        ),
        "erasure_awaiting_approval" => (
            "A removal in CD Concerns is waiting for your approval",
            format!(
                "A colleague has asked to remove a person record entered in error; a second CDAO must approve it.\n\nSign in to review it: {base}/\n"
            ),
        ),
        "case_shared_with_team" => (
            "A case has been shared with your team in CD Concerns",
            format!(
                "Another area's controlled drugs team has shared a case with your team in answer to its access request.\n\nSign in to read it: {base}/cases\n"
            ),
        ),
        "access_request_received" => (
            "An access request in CD Concerns is waiting for your team",
            format!(
                "Another area's controlled drugs team has asked to see a case your team holds.\n\nSign in to decide: {base}/access-requests\n"
            ),
        ),
        _ => (
            "A share in CD Concerns is waiting for your approval",
            format!(
                "A colleague's share in CD Concerns needs a second CDAO's approval.\n\nSign in to review it: {base}/\n"
            ),
        ),
    }
}

/// Sends due notifications one at a time, each leased before its mail goes: the lease (the
/// row made due again only after `LEASE`) commits first, the mail goes, then the row is marked
/// sent. Instances take rows with `FOR UPDATE SKIP LOCKED`, so two never send the same one; an
/// instance killed mid-batch leaves at most the one it was sending, which comes back only
/// after the lease (sent twice only if it died between the mail leaving and the mark).
pub async fn send_due(state: &AppState, mailer: &Mailer) -> Result<usize, sqlx::Error> {
    let mut sent = 0;
    for _ in 0..BATCH {
        let now = state.now();
        let mut tx = state.db.begin().await?;
        let Some(n) = crate::app::db::outbox::take_due(&mut tx, now, 1)
            .await?
            .into_iter()
            .next()
        else {
            break;
        };
        // Only ever to someone who may still see what it is about.
        let allowed = n.user_active
            && match n.kind.as_str() {
                "new_alert" | "alert_reminder" | "alert_reply" => match n.subject_id {
                    Some(alert) => {
                        sdb::may_see_alert(&mut tx, alert, n.organisation_id, now).await?
                    }
                    None => false,
                },
                "case_outcome" | "person_removed" => match n.subject_id {
                    Some(alert) => {
                        sdb::may_know_of_alert(&mut tx, alert, n.organisation_id).await?
                    }
                    None => false,
                },
                _ => true,
            };
        if !allowed {
            crate::app::db::outbox::mark_failed(
                &mut tx,
                n.id,
                "recipient may no longer see it",
                None,
                now,
            )
            .await?;
            tx.commit().await?;
            continue;
        }
        crate::app::db::outbox::lease(&mut tx, n.id, now + LEASE).await?;
        tx.commit().await?;
        let (subject, body) = compose(&n.kind, &state.config.public_url);
        let result = mailer.send(&n.email, subject, body).await;
        let mut conn = state.db.acquire().await?;
        match result {
            Ok(()) => {
                crate::app::db::outbox::mark_sent(&mut conn, n.id, now).await?;
                sent += 1;
            }
            Err(e) => {
                let retry = (n.attempts + 1 < MAX_ATTEMPTS).then(|| backoff(now, n.attempts));
                tracing::warn!(notification.id = %n.id, attempts = n.attempts + 1, error = %e, "notification not sent");
                crate::app::db::outbox::mark_failed(&mut conn, n.id, &e, retry, now).await?;
            }
        }
    }
    Ok(sent)
}

/// Notifications sent per pass of the worker (every 2 s).
const BATCH: usize = 20;
/// How long a notification being sent is held back from the other instances.
const LEASE: TimeDelta = TimeDelta::minutes(10);

/// 30 s, 1, 2, 4 … minutes.
fn backoff(now: DateTime<Utc>, attempts: i32) -> DateTime<Utc> {
    now + TimeDelta::seconds(30 * (1i64 << attempts.clamp(0, 10)))
}

/// Reminds member organisations of alerts past their acknowledgement target (then at most
/// once a working day).
pub async fn remind(state: &AppState) -> Result<usize, sqlx::Error> {
    let now = state.now();
    let mut tx = state.db.begin().await?;
    let due = sdb::take_due_reminders(&mut tx, now, now - TimeDelta::days(1)).await?;
    for (alert_id, org) in &due {
        let users = sdb::member_users(&mut tx, &[*org]).await?;
        crate::app::db::outbox::enqueue(&mut tx, "alert_reminder", &users, Some(*alert_id), now)
            .await?;
    }
    tx.commit().await?;
    Ok(due.len())
}

/// The loops, until the process ends.
pub async fn run(state: AppState, mailer: Mailer) {
    let mut tick = tokio::time::interval(Duration::from_secs(2));
    let mut n: u64 = 0;
    loop {
        tick.tick().await;
        if n.is_multiple_of(30)
            && let Err(e) = remind(&state).await
        {
            tracing::warn!(error = %e, "reminders failed");
        }
        if let Err(e) = send_due(&state, &mailer).await {
            tracing::warn!(error = %e, "sending notifications failed");
        }
        // Retention, once a day, on one instance (the job's row is taken with SKIP LOCKED).
        if n.is_multiple_of(150) {
            match crate::retention::run_if_due(&state).await {
                Ok(Some(r)) => tracing::info!(
                    cases = r.removed.cases,
                    waiting = r.waiting,
                    "retention run"
                ),
                Ok(None) => {}
                Err(e) => tracing::warn!(error = %e, "retention failed"),
            }
        }
        if let Err(e) = crate::accounts::send_notices(&state, &mailer).await {
            tracing::warn!(error = %e, "sending account notices failed");
        }
        n += 1;
    }
}
