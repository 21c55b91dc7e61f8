//! Passwords, second factors and credentials, without HTTP.

use std::sync::OnceLock;

use argon2::Argon2;
use argon2::password_hash::phc::PasswordHash;
use argon2::password_hash::{PasswordHasher, PasswordVerifier};
use chrono::{DateTime, TimeDelta, Utc};

use crate::crypto::{self, Sealer};
use crate::error::AppError;

pub const IDLE_TIMEOUT: TimeDelta = TimeDelta::minutes(30);
pub const ABSOLUTE_TIMEOUT: TimeDelta = TimeDelta::hours(12);
/// How long a signed-in-with-password session may wait for its second factor.
pub const MFA_PENDING_TIMEOUT: TimeDelta = TimeDelta::minutes(10);
pub const MAX_FAILED_ATTEMPTS: i32 = 5;
pub const LOCKOUT: TimeDelta = TimeDelta::minutes(15);
pub const INVITATION_VALIDITY: TimeDelta = TimeDelta::hours(72);
pub const MIN_PASSWORD_LEN: usize = 12;
pub const MAX_PASSWORD_LEN: usize = 256;

/// Hashes a password with Argon2id (m=19 MiB, t=2, p=1) off the async runtime.
pub async fn hash_password(password: String) -> Result<String, AppError> {
    tokio::task::spawn_blocking(move || -> Result<String, AppError> {
        let salt = crypto::random_bytes::<16>()?;
        Argon2::default()
            .hash_password_with_salt(password.as_bytes(), &salt)
            .map(|h: PasswordHash| h.to_string())
            .map_err(|e| AppError::Internal(anyhow::anyhow!("password hashing failed: {e}")))
    })
    .await
    .map_err(|e| AppError::Internal(e.into()))?
}

/// Verifies a password against a stored hash off the async runtime. With no stored hash
/// (an unknown email, an account without a password) it verifies against a dummy hash, so
/// the time taken says nothing about whether the account exists.
pub async fn verify_password(stored: Option<String>, password: String) -> Result<bool, AppError> {
    let has_stored = stored.is_some();
    let hash = match stored {
        Some(h) => h,
        None => dummy_hash().to_string(),
    };
    let ok = tokio::task::spawn_blocking(move || match PasswordHash::new(&hash) {
        Ok(parsed) => Argon2::default()
            .verify_password(password.as_bytes(), &parsed)
            .is_ok(),
        Err(_) => false,
    })
    .await
    .map_err(|e| AppError::Internal(e.into()))?;
    Ok(ok && has_stored)
}

fn dummy_hash() -> &'static str {
    static DUMMY: OnceLock<String> = OnceLock::new();
    DUMMY.get_or_init(|| {
        let salt = crypto::random_bytes::<16>().unwrap_or([7u8; 16]);
        Argon2::default()
            .hash_password_with_salt(b"not a real password", &salt)
            .map(|h: PasswordHash| h.to_string())
            .unwrap_or_default()
    })
}

/// Checks a new password; the message says what to change.
pub fn check_new_password(password: &str, confirm: &str, email: &str) -> Result<(), String> {
    let len = password.chars().count();
    if len < MIN_PASSWORD_LEN {
        return Err(format!(
            "Password must be {MIN_PASSWORD_LEN} characters or more"
        ));
    }
    if len > MAX_PASSWORD_LEN {
        return Err(format!(
            "Password must be {MAX_PASSWORD_LEN} characters or fewer"
        ));
    }
    let lower = password.to_lowercase();
    if let Some(local) = email.split('@').next()
        && local.len() >= 4
        && lower.contains(&local.to_lowercase())
    {
        return Err("Password must not contain your email address".into());
    }
    const COMMON: &[&str] = &[
        "password", "123456", "qwerty", "letmein", "welcome", "nhs12345",
    ];
    if COMMON.iter().any(|c| lower.contains(c)) && len < 20 {
        return Err("Password is too easy to guess: use three or more random words".into());
    }
    if password != confirm {
        return Err("Passwords do not match".into());
    }
    Ok(())
}

/// TOTP (RFC 6238: SHA-1, 6 digits, 30-second steps, one step of clock skew either way).
pub struct Totp(totp_rs::Totp);

impl Totp {
    pub fn from_secret(secret: &[u8], account: &str) -> Result<Self, AppError> {
        totp_rs::Builder::new()
            .with_secret(secret.to_vec())
            .with_account_name(account.replace(':', ""))
            .with_issuer(Some("CD Concerns"))
            .build()
            .map(Totp)
            .map_err(|e| AppError::Internal(anyhow::anyhow!("bad TOTP secret: {e:?}")))
    }

    pub fn new_secret() -> Result<Vec<u8>, AppError> {
        Ok(crypto::random_bytes::<20>()?.to_vec())
    }

    /// The time step a code matches, if it matches at `now`.
    pub fn check(&self, code: &str, now: DateTime<Utc>) -> Option<i64> {
        let code: String = code.chars().filter(|c| c.is_ascii_digit()).collect();
        if code.len() != 6 {
            return None;
        }
        let t = u64::try_from(now.timestamp()).ok()?;
        self.0.check(&code, t).and_then(|s| i64::try_from(s).ok())
    }

    pub fn code_at(&self, now: DateTime<Utc>) -> String {
        self.0
            .generate(u64::try_from(now.timestamp()).unwrap_or(0))
            .to_string()
    }

    pub fn secret_base32(&self) -> String {
        self.0.secret().to_base32()
    }

    pub fn url(&self) -> String {
        self.0.to_url().unwrap_or_default()
    }
}

pub fn totp_context(user_id: uuid::Uuid) -> Vec<u8> {
    format!("users.totp_secret_enc:{user_id}").into_bytes()
}

pub fn seal_totp(sealer: &Sealer, user_id: uuid::Uuid, secret: &[u8]) -> Result<Vec<u8>, AppError> {
    Ok(sealer.seal(secret, &totp_context(user_id))?)
}

pub fn open_totp(
    sealer: &Sealer,
    user_id: uuid::Uuid,
    key_id: i16,
    sealed: &[u8],
) -> Result<Vec<u8>, AppError> {
    Ok(sealer.open(key_id, sealed, &totp_context(user_id))?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn passwords_verify_only_against_their_hash() {
        let h = hash_password("correct horse battery".into()).await.unwrap();
        assert!(h.starts_with("$argon2id$"));
        assert!(
            verify_password(Some(h.clone()), "correct horse battery".into())
                .await
                .unwrap()
        );
        assert!(!verify_password(Some(h), "wrong".into()).await.unwrap());
        assert!(
            !verify_password(None, "not a real password".into())
                .await
                .unwrap()
        );
    }

    #[test]
    fn new_passwords_are_checked() {
        assert!(check_new_password("short", "short", "a@b.c").is_err());
        assert!(
            check_new_password(
                "jo.bloggs-is-me-1",
                "jo.bloggs-is-me-1",
                "jo.bloggs@nhs.net"
            )
            .is_err()
        );
        assert!(check_new_password("tulip lantern orbit", "tulip lantern orbi", "a@b.c").is_err());
        assert!(check_new_password("tulip lantern orbit", "tulip lantern orbit", "a@b.c").is_ok());
    }

    #[test]
    fn totp_codes_check_within_one_step() {
        let t = Totp::from_secret(&[1u8; 20], "x@y.z").unwrap();
        let now = DateTime::from_timestamp(1_800_000_000, 0).unwrap();
        let code = t.code_at(now);
        assert!(t.check(&code, now).is_some());
        assert!(t.check(&code, now + TimeDelta::seconds(30)).is_some());
        assert!(t.check(&code, now + TimeDelta::seconds(120)).is_none());
        assert!(t.check("12345", now).is_none());
        assert!(t.url().starts_with("otpauth://totp/"));
    }
}
