//! Small cryptographic helpers: random secrets, hashes for stored tokens, and the
//! AES-256-GCM envelope used for every identity value kept at rest.

use aes_gcm::aead::{Aead, KeyInit, Payload};
use aes_gcm::{Aes256Gcm, Nonce};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, KeyInit as _, Mac};
use sha2::{Digest, Sha256};

use crate::config::Key32;

#[derive(Debug, thiserror::Error)]
pub enum CryptoError {
    #[error("the operating system's random number generator failed")]
    Random,
    #[error("a sealed value could not be opened (wrong key or altered data)")]
    Open,
    #[error("a value was sealed under key id {0}, which this service does not hold")]
    UnknownKey(i16),
}

pub fn random_bytes<const N: usize>() -> Result<[u8; N], CryptoError> {
    let mut buf = [0u8; N];
    getrandom::fill(&mut buf).map_err(|_| CryptoError::Random)?;
    Ok(buf)
}

/// A new secret token with 256 random bits, URL-safe, and the SHA-256 under which it is stored.
pub fn new_token(prefix: &str) -> Result<(String, Vec<u8>), CryptoError> {
    let token = format!("{prefix}{}", URL_SAFE_NO_PAD.encode(random_bytes::<32>()?));
    let hash = sha256(token.as_bytes());
    Ok((token, hash))
}

pub fn sha256(data: &[u8]) -> Vec<u8> {
    Sha256::digest(data).to_vec()
}

pub fn hmac_sha256(key: &[u8; 32], data: &[u8]) -> Vec<u8> {
    // A 32-byte key is always a valid HMAC key.
    match <Hmac<Sha256>>::new_from_slice(key) {
        Ok(mut mac) => {
            mac.update(data);
            mac.finalize().into_bytes().to_vec()
        }
        Err(_) => sha256(data),
    }
}

/// Seals identity values with AES-256-GCM. The key id is stored beside each value so that
/// keys can be rotated: new values use the current key, old ones stay readable.
#[derive(Clone)]
pub struct Sealer {
    current_id: i16,
    keys: Vec<(i16, Aes256Gcm)>,
}

impl std::fmt::Debug for Sealer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Sealer(key id {})", self.current_id)
    }
}

impl Sealer {
    pub fn new(key: &Key32) -> Self {
        Self {
            current_id: 1,
            keys: vec![(1, Aes256Gcm::new(key.expose().into()))],
        }
    }

    pub fn key_id(&self) -> i16 {
        self.current_id
    }

    /// Returns nonce || ciphertext. `context` binds the value to where it is stored, so a
    /// sealed value copied into another row or column does not open.
    pub fn seal(&self, plaintext: &[u8], context: &[u8]) -> Result<Vec<u8>, CryptoError> {
        let cipher = self.cipher(self.current_id)?;
        let nonce_bytes = random_bytes::<12>()?;
        let nonce = Nonce::from_slice(&nonce_bytes);
        let mut out = nonce_bytes.to_vec();
        let sealed = cipher
            .encrypt(
                nonce,
                Payload {
                    msg: plaintext,
                    aad: context,
                },
            )
            .map_err(|_| CryptoError::Open)?;
        out.extend_from_slice(&sealed);
        Ok(out)
    }

    pub fn open(&self, key_id: i16, sealed: &[u8], context: &[u8]) -> Result<Vec<u8>, CryptoError> {
        let cipher = self.cipher(key_id)?;
        if sealed.len() < 12 {
            return Err(CryptoError::Open);
        }
        let (nonce, body) = sealed.split_at(12);
        cipher
            .decrypt(
                Nonce::from_slice(nonce),
                Payload {
                    msg: body,
                    aad: context,
                },
            )
            .map_err(|_| CryptoError::Open)
    }

    fn cipher(&self, id: i16) -> Result<&Aes256Gcm, CryptoError> {
        self.keys
            .iter()
            .find(|(k, _)| *k == id)
            .map(|(_, c)| c)
            .ok_or(CryptoError::UnknownKey(id))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Secret;

    #[test]
    fn sealed_values_open_only_in_their_context() {
        let s = Sealer::new(&Secret::new([3u8; 32]));
        let sealed = s.seal(b"JBSWY3DPEHPK3PXP", b"users.totp:1").unwrap();
        assert!(!sealed.windows(4).any(|w| w == b"JBSW"));
        assert_eq!(
            s.open(1, &sealed, b"users.totp:1").unwrap(),
            b"JBSWY3DPEHPK3PXP"
        );
        assert!(s.open(1, &sealed, b"users.totp:2").is_err());
        assert!(s.open(2, &sealed, b"users.totp:1").is_err());
    }

    #[test]
    fn tokens_are_long_and_distinct() {
        let (a, ha) = new_token("cdc_").unwrap();
        let (b, _) = new_token("cdc_").unwrap();
        assert_ne!(a, b);
        assert!(a.len() >= 4 + 43);
        assert_eq!(ha, sha256(a.as_bytes()));
    }
}
