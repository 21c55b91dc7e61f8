//! Typed configuration, read once from the environment (SPEC §8).

use std::fmt;
use std::net::SocketAddr;
use std::path::PathBuf;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;

/// A secret that never prints itself.
#[derive(Clone)]
pub struct Secret<T>(T);

impl<T> Secret<T> {
    pub fn new(value: T) -> Self {
        Self(value)
    }
    pub fn expose(&self) -> &T {
        &self.0
    }
}

impl<T> fmt::Debug for Secret<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(…)")
    }
}

/// 32 bytes of key material.
pub type Key32 = Secret<[u8; 32]>;

#[derive(Clone, Debug)]
pub struct Config {
    pub database_url: Option<Secret<String>>,
    /// A streaming replica for heavy reads (`CDC_DATABASE_REPLICA_URL`).
    pub replica_url: Option<Secret<String>>,
    /// Reads leave the replica while it lags more than this (`CDC_REPLICA_MAX_LAG_MS`).
    pub replica_max_lag_ms: u32,
    pub bind: SocketAddr,
    /// The address people use to reach the service, without a trailing slash.
    pub public_url: String,
    pub identity_key: Option<Key32>,
    pub index_key: Option<Key32>,
    /// API requests per minute per token; 0 for no limit.
    pub api_rate_limit: u32,
    /// Sign-in attempts per minute per client address.
    pub signin_rate_limit: u32,
    pub smtp_url: Option<Secret<String>>,
    /// The sender of notification emails.
    pub mail_from: String,
    pub data_dir: PathBuf,
    pub log_format: LogFormat,
    pub db_max_connections: u32,
    /// Password for the seeded demo users (`demo` only); random when unset.
    pub demo_password: Option<Secret<String>>,
    /// Years a closed case's details are kept (`CDC_RETENTION_YEARS`, default 10).
    pub retention_years: u32,
    /// Years for a person-of-concern case closed as not well founded
    /// (`CDC_RETENTION_UNFOUNDED_YEARS`, default 2).
    pub retention_unfounded_years: u32,
    /// An opioid dose at or above this many mg oral morphine equivalent a day is "high dose"
    /// (`CDC_HIGH_DOSE_OME_MG`; 120 by Opioids Aware, 90 in NHS England's 2024/25 medicines
    /// optimisation opportunities).
    pub high_dose_ome_mg: f64,
    /// The organisation responsible for the personal data, named on the privacy notice
    /// (`CDC_CONTROLLER`, default NHS England, which holds the lead CDAO functions).
    pub controller: String,
    /// The email address of the controller's data protection officer, on the privacy notice
    /// (`CDC_PRIVACY_CONTACT`; unset, the notice says to ask the area's CDAO team).
    pub privacy_contact: Option<String>,
    /// The email address for accessibility problems, on the accessibility statement
    /// (`CDC_ACCESSIBILITY_CONTACT`; unset, the statement says to ask the area's CDAO team).
    pub accessibility_contact: Option<String>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LogFormat {
    Text,
    Json,
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("{name} is not valid: {reason}")]
    Invalid { name: &'static str, reason: String },
}

impl Config {
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_lookup(|name| std::env::var(name).ok().filter(|v| !v.is_empty()))
    }

    /// Builds the configuration from any lookup (tests pass a map).
    pub fn from_lookup(get: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let bind: SocketAddr = match get("CDC_BIND") {
            Some(v) => v.parse().map_err(|e| ConfigError::Invalid {
                name: "CDC_BIND",
                reason: format!("{e}; expected an address such as 127.0.0.1:8080"),
            })?,
            None => SocketAddr::from(([127, 0, 0, 1], 8080)),
        };
        let public_url = match get("CDC_PUBLIC_URL") {
            Some(v) => {
                let parsed = url::Url::parse(&v).map_err(|e| ConfigError::Invalid {
                    name: "CDC_PUBLIC_URL",
                    reason: e.to_string(),
                })?;
                if !matches!(parsed.scheme(), "http" | "https") {
                    return Err(ConfigError::Invalid {
                        name: "CDC_PUBLIC_URL",
                        reason: "must start with http:// or https://".into(),
                    });
                }
                v.trim_end_matches('/').to_string()
            }
            None => format!("http://{bind}"),
        };
        Ok(Self {
            database_url: get("DATABASE_URL").map(Secret::new),
            replica_url: match get("CDC_DATABASE_REPLICA_URL") {
                Some(v) => {
                    v.parse::<sqlx::postgres::PgConnectOptions>().map_err(|e| {
                        ConfigError::Invalid {
                            name: "CDC_DATABASE_REPLICA_URL",
                            reason: e.to_string(),
                        }
                    })?;
                    Some(Secret::new(v))
                }
                None => None,
            },
            replica_max_lag_ms: parse_num(&get, "CDC_REPLICA_MAX_LAG_MS", 2000)?,
            bind,
            public_url,
            identity_key: get("CDC_IDENTITY_KEY")
                .map(|v| parse_key("CDC_IDENTITY_KEY", &v))
                .transpose()?,
            index_key: get("CDC_INDEX_KEY")
                .map(|v| parse_key("CDC_INDEX_KEY", &v))
                .transpose()?,
            api_rate_limit: parse_num(&get, "CDC_API_RATE_LIMIT", 600)?,
            signin_rate_limit: parse_num(&get, "CDC_SIGNIN_RATE_LIMIT", 10)?.max(1),
            smtp_url: get("CDC_SMTP_URL").map(Secret::new),
            mail_from: get("CDC_MAIL_FROM")
                .unwrap_or_else(|| "CD Concerns <no-reply@cdconcerns.invalid>".to_string()),
            data_dir: get("CDC_DATA_DIR")
                .map(PathBuf::from)
                .unwrap_or_else(|| PathBuf::from(".cdconcerns")),
            log_format: match get("CDC_LOG_FORMAT").as_deref() {
                None | Some("text") => LogFormat::Text,
                Some("json") => LogFormat::Json,
                Some(other) => {
                    return Err(ConfigError::Invalid {
                        name: "CDC_LOG_FORMAT",
                        reason: format!("'{other}': expected text or json"),
                    });
                }
            },
            db_max_connections: parse_num(&get, "CDC_DB_MAX_CONNECTIONS", 32)?.max(2),
            demo_password: get("CDC_DEMO_PASSWORD").map(Secret::new),
            retention_years: parse_num(&get, "CDC_RETENTION_YEARS", 10)?,
            retention_unfounded_years: parse_num(&get, "CDC_RETENTION_UNFOUNDED_YEARS", 2)?,
            high_dose_ome_mg: match get("CDC_HIGH_DOSE_OME_MG") {
                None => crate::domain::ome::HIGH_DOSE_MG,
                Some(v) => match v.trim().parse::<f64>() {
                    Ok(mg) if mg.is_finite() && mg > 0.0 && mg <= 10_000.0 => mg,
                    _ => {
                        return Err(ConfigError::Invalid {
                            name: "CDC_HIGH_DOSE_OME_MG",
                            reason: format!(
                                "'{v}': expected mg of oral morphine equivalent a day, such as 120 or 90"
                            ),
                        });
                    }
                },
            },
            controller: match get("CDC_CONTROLLER") {
                Some(v) if v.trim().chars().any(char::is_control) || v.trim().len() > 200 => {
                    return Err(ConfigError::Invalid {
                        name: "CDC_CONTROLLER",
                        reason: "expected an organisation's name on one line".into(),
                    });
                }
                Some(v) => v.trim().to_string(),
                None => "NHS England".to_string(),
            },
            privacy_contact: contact(&get, "CDC_PRIVACY_CONTACT")?,
            accessibility_contact: contact(&get, "CDC_ACCESSIBILITY_CONTACT")?,
        })
    }

    /// The retention periods of case data.
    pub fn retention(&self) -> crate::domain::retention::Periods {
        crate::domain::retention::Periods {
            years: self.retention_years,
            unfounded_years: self.retention_unfounded_years,
        }
    }

    /// Whether people reach the service over https (cookies are then `Secure`, HSTS is sent).
    pub fn is_https(&self) -> bool {
        self.public_url.starts_with("https://")
    }
}

fn parse_num(
    get: &impl Fn(&str) -> Option<String>,
    name: &'static str,
    default: u32,
) -> Result<u32, ConfigError> {
    match get(name) {
        Some(v) => v.trim().parse().map_err(|_| ConfigError::Invalid {
            name,
            reason: format!("'{v}' is not a whole number"),
        }),
        None => Ok(default),
    }
}

/// An email address people can write to, shown on a public page.
fn contact(
    get: &impl Fn(&str) -> Option<String>,
    name: &'static str,
) -> Result<Option<String>, ConfigError> {
    get(name)
        .map(|v| {
            crate::domain::validation::parse_email(&v).ok_or_else(|| ConfigError::Invalid {
                name,
                reason: format!("'{v}' is not an email address"),
            })
        })
        .transpose()
}

pub fn parse_key(name: &'static str, value: &str) -> Result<Key32, ConfigError> {
    let bytes = B64.decode(value.trim()).map_err(|_| ConfigError::Invalid {
        name,
        reason: "not base64 (make one with: head -c 32 /dev/urandom | base64)".into(),
    })?;
    let key: [u8; 32] = bytes.try_into().map_err(|_| ConfigError::Invalid {
        name,
        reason: "must be exactly 32 bytes once base64-decoded".into(),
    })?;
    Ok(Secret::new(key))
}

pub fn encode_key(key: &[u8; 32]) -> String {
    B64.encode(key)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn cfg(pairs: &[(&str, &str)]) -> Result<Config, ConfigError> {
        let map: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        Config::from_lookup(|k| map.get(k).cloned())
    }

    #[test]
    fn defaults_are_documented_values() {
        let c = cfg(&[]).unwrap();
        assert_eq!(c.bind.to_string(), "127.0.0.1:8080");
        assert_eq!(c.public_url, "http://127.0.0.1:8080");
        assert_eq!(c.api_rate_limit, 600);
        assert_eq!((c.retention_years, c.retention_unfounded_years), (10, 2));
        assert!(!c.is_https());
        assert!(c.identity_key.is_none());
    }

    #[test]
    fn keys_must_be_32_bytes_of_base64() {
        assert!(cfg(&[("CDC_IDENTITY_KEY", "c2hvcnQ=")]).is_err());
        assert!(cfg(&[("CDC_INDEX_KEY", "not base64!")]).is_err());
        let good = encode_key(&[7u8; 32]);
        let c = cfg(&[("CDC_IDENTITY_KEY", &good)]).unwrap();
        assert_eq!(c.identity_key.unwrap().expose(), &[7u8; 32]);
    }

    #[test]
    fn secrets_do_not_print() {
        let c = cfg(&[("DATABASE_URL", "postgres://u:hunter2@h/db")]).unwrap();
        assert!(!format!("{c:?}").contains("hunter2"));
    }

    #[test]
    fn the_high_dose_threshold_is_120_mg_unless_set() {
        assert_eq!(cfg(&[]).unwrap().high_dose_ome_mg, 120.0);
        assert_eq!(
            cfg(&[("CDC_HIGH_DOSE_OME_MG", "90")])
                .unwrap()
                .high_dose_ome_mg,
            90.0
        );
        for bad in ["0", "-5", "ninety", "NaN", "1e9"] {
            assert!(cfg(&[("CDC_HIGH_DOSE_OME_MG", bad)]).is_err(), "{bad}");
        }
    }

    #[test]
    fn the_notices_contacts_are_email_addresses_and_the_controller_defaults_to_nhs_england() {
        let c = cfg(&[]).unwrap();
        assert_eq!(c.controller, "NHS England");
        assert_eq!((c.privacy_contact, c.accessibility_contact), (None, None));
        let c = cfg(&[
            ("CDC_CONTROLLER", "NHS England (North West)"),
            ("CDC_PRIVACY_CONTACT", "dpo@example.nhs.uk"),
            ("CDC_ACCESSIBILITY_CONTACT", "access@example.nhs.uk"),
        ])
        .unwrap();
        assert_eq!(c.controller, "NHS England (North West)");
        assert_eq!(c.privacy_contact.as_deref(), Some("dpo@example.nhs.uk"));
        assert_eq!(
            c.accessibility_contact.as_deref(),
            Some("access@example.nhs.uk")
        );
        for (name, bad) in [
            ("CDC_PRIVACY_CONTACT", "the DPO"),
            ("CDC_ACCESSIBILITY_CONTACT", "a@b\nc"),
            ("CDC_CONTROLLER", "two\nlines"),
        ] {
            assert!(cfg(&[(name, bad)]).is_err(), "{name}={bad}");
        }
    }

    #[test]
    fn https_public_url_is_detected() {
        let c = cfg(&[("CDC_PUBLIC_URL", "https://cd.example.nhs.uk/")]).unwrap();
        assert!(c.is_https());
        assert_eq!(c.public_url, "https://cd.example.nhs.uk");
        assert!(cfg(&[("CDC_PUBLIC_URL", "ftp://x")]).is_err());
    }
}
