//! The content-free notices that tell a person their credentials changed.

use chrono::{DateTime, TimeDelta, Utc};

use super::notice;
use super::passwords::reset_context;
use crate::app::db::sessions as sdb;
use crate::error::AppResult;
use crate::state::AppState;

/// The text of a notice: what changed and when, and whom to tell if it was not them.
/// Content-free like every notification: no names, no case facts.
fn notice_text(
    kind: &str,
    at: DateTime<Utc>,
    base: &str,
    link: Option<&str>,
) -> (&'static str, String) {
    let when = at
        .with_timezone(&chrono_tz::Europe::London)
        .format("%-d %B %Y at %H:%M (UK time)")
        .to_string();
    let not_you = format!(
        "If this was not you, contact your CD Concerns administrator or the NHS England controlled drugs team at once, and reset your password: {base}/sign-in/forgotten\n"
    );
    match kind {
        notice::PASSWORD_RESET_LINK => (
            "Reset your CD Concerns password",
            format!(
                "Someone asked to reset the password of your CD Concerns account on {when}.\n\nTo choose a new password, open this link within 1 hour. It works once:\n{}\n\nIf you did not ask, ignore this email: your password has not changed.\n",
                link.unwrap_or("")
            ),
        ),
        notice::PASSWORD_CHANGED => (
            "Your CD Concerns password was changed",
            format!(
                "The password of your CD Concerns account was changed on {when}. Your other sessions and API tokens have ended.\n\n{not_you}"
            ),
        ),
        notice::PASSWORD_RESET => (
            "Your CD Concerns password was reset",
            format!(
                "The password of your CD Concerns account was reset with an emailed link on {when}. Your sessions and API tokens have ended.\n\n{not_you}"
            ),
        ),
        notice::MFA_RESET => (
            "Your CD Concerns second factor was reset",
            format!(
                "An administrator reset the second factor of your CD Concerns account on {when}. You will set up an authenticator app again when you next sign in.\n\n{not_you}"
            ),
        ),
        notice::RECOVERY_CODE_USED => (
            "A recovery code was used to sign in to CD Concerns",
            format!(
                "One of your recovery codes was used to sign in to your CD Concerns account on {when}. Each code works once; you can make new ones on your account page.\n\n{not_you}"
            ),
        ),
        _ => (
            "A new API token was made for your CD Concerns account",
            format!(
                "A new API token was made for your CD Concerns account on {when}. You can see and revoke your tokens on your account page: {base}/account\n\n{not_you}"
            ),
        ),
    }
}

/// Sends the notices that are due; returns how many were sent. Run by the worker loop of
/// `jobs`, taking work with SKIP LOCKED like the notification outbox.
pub async fn send_notices(state: &AppState, mailer: &crate::jobs::Mailer) -> AppResult<usize> {
    let now = state.now();
    let mut tx = state.db.begin().await?;
    let due = sdb::take_due_notices(&mut tx, now, 20).await?;
    let mut sent = 0;
    for n in due {
        if n.user_status == "disabled" {
            sdb::mark_notice(&mut tx, n.id, now, Err(("account disabled", None))).await?;
            continue;
        }
        let link = if n.kind == notice::PASSWORD_RESET_LINK {
            let taken = match n.reset_id {
                Some(id) => sdb::take_reset_link(&mut tx, id, now)
                    .await?
                    .map(|(key_id, sealed)| (id, key_id, sealed)),
                None => None,
            };
            let Some((id, key_id, sealed)) = taken else {
                sdb::mark_notice(&mut tx, n.id, now, Err(("link no longer valid", None))).await?;
                continue;
            };
            let token = state.sealer.open(key_id, &sealed, &reset_context(id))?;
            Some(format!(
                "{}/reset-password/{}",
                state.config.public_url,
                String::from_utf8_lossy(&token)
            ))
        } else {
            None
        };
        let (subject, body) = notice_text(
            &n.kind,
            n.created_at,
            &state.config.public_url,
            link.as_deref(),
        );
        match mailer.send(&n.email, subject, body).await {
            Ok(()) => {
                sdb::mark_notice(&mut tx, n.id, now, Ok(())).await?;
                sent += 1;
            }
            Err(e) => {
                // A reset link is not retried: its sealed copy is gone; the person asks again.
                let retry = (n.kind != notice::PASSWORD_RESET_LINK
                    && n.attempts + 1 < crate::jobs::MAX_ATTEMPTS)
                    .then(|| now + TimeDelta::seconds(30 * (1i64 << n.attempts.clamp(0, 10))));
                tracing::warn!(notice.id = %n.id, error = %e, "account notice not sent");
                sdb::mark_notice(&mut tx, n.id, now, Err((&e, retry))).await?;
            }
        }
    }
    tx.commit().await?;
    Ok(sent)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn notices_hold_no_names_and_say_what_to_do() {
        let now = DateTime::from_timestamp(1_800_000_000, 0).unwrap_or_default();
        for kind in [
            notice::PASSWORD_CHANGED,
            notice::PASSWORD_RESET,
            notice::MFA_RESET,
            notice::RECOVERY_CODE_USED,
            notice::TOKEN_CREATED,
        ] {
            let (subject, body) = notice_text(kind, now, "https://cd.example", None);
            assert!(subject.contains("CD Concerns"));
            assert!(body.contains("If this was not you"), "{kind}");
        }
        let (_, body) = notice_text(
            notice::PASSWORD_RESET_LINK,
            now,
            "https://cd.example",
            Some("https://cd.example/reset-password/abc"),
        );
        assert!(body.contains("/reset-password/abc") && body.contains("1 hour"));
    }
}
