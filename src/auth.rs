//! Passwords, second factors and credentials, without HTTP.

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

/// Hashes a password with Argon2id (m=19 MiB, t=2, p=1) on the hashing pool.
pub async fn hash_password(password: String) -> Result<String, AppError> {
    let salt = crypto::random_bytes::<16>()?;
    hashing::run(move |memory| hashing::hash(memory, password.as_bytes(), &salt)).await
}

/// Verifies a password against a stored hash on the hashing pool. With no stored hash
/// (an unknown email, an account without a password) it verifies against a dummy hash, so
/// the time taken says nothing about whether the account exists.
pub async fn verify_password(stored: Option<String>, password: String) -> Result<bool, AppError> {
    let has_stored = stored.is_some();
    let hash = match stored {
        Some(h) => h,
        None => dummy_hash().await?,
    };
    let ok =
        hashing::run(move |memory| Ok(hashing::verify(memory, password.as_bytes(), &hash))).await?;
    Ok(ok && has_stored)
}

async fn dummy_hash() -> Result<String, AppError> {
    static DUMMY: tokio::sync::OnceCell<String> = tokio::sync::OnceCell::const_new();
    DUMMY
        .get_or_try_init(|| hash_password("not a real password".into()))
        .await
        .cloned()
}

/// Bounded Argon2 (issue 9, item 10). Every hash runs on one of a few dedicated threads, as
/// many as there are cores, each reusing one Argon2 memory block (19 MiB) for every hash it
/// computes. So at most `cores` hashes run at once (the rest wait their turn in the queue),
/// and a burst of sign-ins cannot make the allocator grow: the blocks are allocated once,
/// per worker, and no other thread ever holds one. (The blocking pool of tokio, which ran
/// these before, can grow to hundreds of threads, each keeping a malloc arena.)
pub mod hashing {
    use std::sync::mpsc::{Receiver, Sender, channel};
    use std::sync::{Arc, Mutex, OnceLock};

    use argon2::password_hash::phc::{Output, ParamsString, PasswordHash, Salt};
    use argon2::{Algorithm, Argon2, Block, Params, Version};

    use crate::error::AppError;

    /// Stored hashes with more memory than this are refused rather than computed.
    const MAX_BLOCKS: usize = 64 * 1024;

    type Job = Box<dyn FnOnce(&mut Vec<Block>) + Send>;

    struct Pool {
        tx: Mutex<Sender<Job>>,
    }

    /// How many hashes may run at once: the number of cores.
    pub fn workers() -> usize {
        std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(2)
            .clamp(1, 16)
    }

    fn pool() -> Result<&'static Pool, AppError> {
        static POOL: OnceLock<Option<Pool>> = OnceLock::new();
        POOL.get_or_init(|| {
            let (tx, rx) = channel::<Job>();
            let rx = Arc::new(Mutex::new(rx));
            for i in 0..workers() {
                let rx: Arc<Mutex<Receiver<Job>>> = rx.clone();
                let spawned = std::thread::Builder::new()
                    .name(format!("argon2-{i}"))
                    .spawn(move || {
                        let mut memory: Vec<Block> = Vec::new();
                        loop {
                            let job = match rx.lock() {
                                Ok(r) => r.recv(),
                                Err(_) => return,
                            };
                            match job {
                                Ok(job) => job(&mut memory),
                                Err(_) => return,
                            }
                        }
                    });
                if spawned.is_err() {
                    return None;
                }
            }
            Some(Pool { tx: Mutex::new(tx) })
        })
        .as_ref()
        .ok_or_else(|| AppError::Internal(anyhow::anyhow!("cannot start the hashing threads")))
    }

    /// Runs `f` on the pool with the worker's reusable memory, and waits for its answer.
    pub async fn run<T: Send + 'static>(
        f: impl FnOnce(&mut Vec<Block>) -> Result<T, AppError> + Send + 'static,
    ) -> Result<T, AppError> {
        let (reply, answer) = tokio::sync::oneshot::channel();
        let job: Job = Box::new(move |memory| {
            let _ = reply.send(f(memory));
        });
        pool()?
            .tx
            .lock()
            .map_err(|_| AppError::Internal(anyhow::anyhow!("hashing pool poisoned")))?
            .send(job)
            .map_err(|_| AppError::Internal(anyhow::anyhow!("hashing pool stopped")))?;
        answer
            .await
            .map_err(|_| AppError::Internal(anyhow::anyhow!("hashing job lost")))?
    }

    fn blocks(memory: &mut Vec<Block>, n: usize) -> &mut [Block] {
        if memory.len() < n {
            memory.resize(n, Block::default());
        }
        &mut memory[..n]
    }

    fn internal(e: impl std::fmt::Display) -> AppError {
        AppError::Internal(anyhow::anyhow!("password hashing failed: {e}"))
    }

    /// An Argon2id PHC string with the default parameters (m=19456 KiB, t=2, p=1).
    pub fn hash(memory: &mut Vec<Block>, password: &[u8], salt: &[u8]) -> Result<String, AppError> {
        let params = Params::DEFAULT;
        let argon = Argon2::new(Algorithm::Argon2id, Version::V0x13, params.clone());
        let mut out = [0u8; Params::DEFAULT_OUTPUT_LEN];
        argon
            .hash_password_into_with_memory(
                password,
                salt,
                &mut out,
                blocks(memory, params.block_count()),
            )
            .map_err(internal)?;
        let phc = PasswordHash {
            algorithm: Algorithm::Argon2id.ident(),
            version: Some(Version::V0x13.into()),
            params: ParamsString::try_from(&params).map_err(internal)?,
            salt: Some(Salt::new(salt).map_err(internal)?),
            hash: Some(Output::new(&out).map_err(internal)?),
        };
        Ok(phc.to_string())
    }

    /// Whether `password` matches the PHC string `stored` (compared in constant time).
    pub fn verify(memory: &mut Vec<Block>, password: &[u8], stored: &str) -> bool {
        let Ok(parsed) = PasswordHash::new(stored) else {
            return false;
        };
        let (Some(salt), Some(expected)) = (&parsed.salt, &parsed.hash) else {
            return false;
        };
        let Ok(algorithm) = Algorithm::try_from(parsed.algorithm.as_str()) else {
            return false;
        };
        let version = match parsed.version.map(Version::try_from) {
            None => Version::default(),
            Some(Ok(v)) => v,
            Some(Err(_)) => return false,
        };
        let Ok(params) = Params::try_from(&parsed) else {
            return false;
        };
        let n = params.block_count();
        if n > MAX_BLOCKS {
            return false;
        }
        let mut out = vec![0u8; expected.as_ref().len()];
        let argon = Argon2::new(algorithm, version, params);
        if argon
            .hash_password_into_with_memory(password, salt.as_ref(), &mut out, blocks(memory, n))
            .is_err()
        {
            return false;
        }
        Output::new(&out).is_ok_and(|o| &o == expected)
    }
}

/// What is wrong with a new password, and which field to point at.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PasswordProblem {
    /// `password` or `confirm`.
    pub field: &'static str,
    pub message: String,
}

fn problem(field: &'static str, message: impl Into<String>) -> PasswordProblem {
    PasswordProblem {
        field,
        message: message.into(),
    }
}

/// The least zxcvbn score a new password must reach (3: more than 10^8 guesses).
pub const MIN_STRENGTH: u8 = 3;

/// Checks a new password: 12 to 256 characters, not the person's email or name, hard to
/// guess by zxcvbn's estimate (common passwords, names, words, keyboard patterns, dates),
/// and typed twice alike. The message says what to do, in plain words.
pub fn check_new_password(
    password: &str,
    confirm: &str,
    email: &str,
    name: &str,
) -> Result<(), PasswordProblem> {
    let len = password.chars().count();
    if len < MIN_PASSWORD_LEN {
        return Err(problem(
            "password",
            format!("Password must be {MIN_PASSWORD_LEN} characters or more"),
        ));
    }
    if len > MAX_PASSWORD_LEN {
        return Err(problem(
            "password",
            format!("Password must be {MAX_PASSWORD_LEN} characters or fewer"),
        ));
    }
    let lower = password.to_lowercase();
    if let Some(local) = email.split('@').next()
        && local.len() >= 4
        && lower.contains(&local.to_lowercase())
    {
        return Err(problem(
            "password",
            "Password must not contain your email address",
        ));
    }
    let name_parts: Vec<String> = name
        .split(|c: char| !c.is_alphanumeric())
        .filter(|p| p.chars().count() >= 4)
        .map(str::to_lowercase)
        .collect();
    if !name_parts.is_empty() && name_parts.iter().all(|p| lower.contains(p.as_str())) {
        return Err(problem("password", "Password must not contain your name"));
    }
    let mut inputs: Vec<&str> = email.split(['@', '.']).filter(|p| !p.is_empty()).collect();
    inputs.extend(name.split_whitespace());
    inputs.extend(["nhs", "cdconcerns", "controlled", "drugs", "concerns"]);
    let estimate = zxcvbn::zxcvbn(password, &inputs);
    if (estimate.score() as u8) < MIN_STRENGTH {
        let why = estimate
            .feedback()
            .and_then(|f| f.warning())
            .map(|w| format!(" ({w})"))
            .unwrap_or_default();
        return Err(problem(
            "password",
            format!(
                "Password is too easy to guess{why}. Use three or four random words that are not a phrase, a name or a quote, for example words you pick from around you"
            ),
        ));
    }
    if password != confirm {
        return Err(problem("confirm", "Passwords do not match"));
    }
    Ok(())
}

/// Recovery codes: ten single-use codes shown once, each 12 characters of Crockford's base32
/// (no i, l, o or u; 60 bits), written as `ab3d-ef9h-jk2m`. Stored as SHA-256 over a
/// random 16-byte salt and the code (ASVS 2.6.2).
pub mod recovery {
    use crate::crypto;
    use crate::error::AppError;

    pub const COUNT: usize = 10;
    const ALPHABET: &[u8; 32] = b"0123456789abcdefghjkmnpqrstvwxyz";
    const LEN: usize = 12;

    pub fn generate() -> Result<Vec<String>, AppError> {
        let mut codes = Vec::with_capacity(COUNT);
        for _ in 0..COUNT {
            let bytes = crypto::random_bytes::<LEN>()?;
            // 32 symbols: the low 5 bits of each random byte pick one, without bias.
            let raw: String = bytes
                .iter()
                .map(|b| char::from(ALPHABET[usize::from(b & 31)]))
                .collect();
            codes.push(format!("{}-{}-{}", &raw[0..4], &raw[4..8], &raw[8..12]));
        }
        Ok(codes)
    }

    /// The code as it is hashed: lower case, without spaces or dashes; None if it cannot
    /// be a recovery code.
    pub fn normalise(input: &str) -> Option<String> {
        let s: String = input
            .chars()
            .filter(|c| !c.is_whitespace() && *c != '-')
            .flat_map(char::to_lowercase)
            .map(|c| match c {
                'o' => '0',
                'i' | 'l' => '1',
                c => c,
            })
            .collect();
        (s.len() == LEN && s.bytes().all(|b| ALPHABET.contains(&b))).then_some(s)
    }

    pub fn hash(salt: &[u8], normalised: &str) -> Vec<u8> {
        let mut data = salt.to_vec();
        data.extend_from_slice(normalised.as_bytes());
        crypto::sha256(&data)
    }
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
        let check = |p: &str, c: &str| check_new_password(p, c, "jo.bloggs@nhs.net", "Jo Bloggs");
        assert!(check("short", "short").is_err());
        assert!(check("jo.bloggs-is-me-1", "jo.bloggs-is-me-1").is_err());
        // Long but guessable: common passwords, keyboard patterns, repeats, the service's name.
        for weak in [
            "password1234",
            "qwertyuiop123",
            "aaaaaaaaaaaaaaaa",
            "Password123!",
            "nhs12345nhs12345",
            "jobloggs1980!!",
        ] {
            let e = check(weak, weak).unwrap_err();
            assert_eq!(e.field, "password", "{weak}");
        }
        let e = check("velvet harbour juniper cascade", "velvet harbour juniper").unwrap_err();
        assert_eq!(e.field, "confirm");
        assert!(
            check(
                "velvet harbour juniper cascade",
                "velvet harbour juniper cascade"
            )
            .is_ok()
        );
    }

    #[test]
    fn recovery_codes_are_random_and_read_leniently() {
        let codes = recovery::generate().unwrap();
        assert_eq!(codes.len(), recovery::COUNT);
        let mut unique = codes.clone();
        unique.sort();
        unique.dedup();
        assert_eq!(unique.len(), codes.len());
        let c = &codes[0];
        assert_eq!(c.len(), 14);
        let n = recovery::normalise(&c.to_uppercase().replace('-', " ")).unwrap();
        assert_eq!(n, c.replace('-', ""));
        assert!(recovery::normalise("123456").is_none());
        assert_eq!(
            recovery::normalise("OIL0-0000-0000").unwrap(),
            "011000000000"
        );
        assert_ne!(
            recovery::hash(b"salt-one", &n),
            recovery::hash(b"salt-two", &n)
        );
    }

    #[test]
    fn hashes_verify_on_the_pool_with_reused_memory() {
        let mut memory = Vec::new();
        let h = hashing::hash(&mut memory, b"velvet harbour", &[9u8; 16]).unwrap();
        assert!(h.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"));
        assert!(hashing::verify(&mut memory, b"velvet harbour", &h));
        assert!(!hashing::verify(&mut memory, b"velvet harbouR", &h));
        assert!(!hashing::verify(&mut memory, b"x", "$argon2id$nonsense"));
        assert_eq!(memory.len(), argon2::Params::DEFAULT.block_count());
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
