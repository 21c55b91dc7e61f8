//! Oversight (issue 12): the overseas prescriber's sealed registration, improvement
//! initiatives, and what is reported about one prescriber.

use sqlx::PgPool;
use uuid::Uuid;

/// The sealed registration of a case's online supply: (key id, nonce || ciphertext).
pub async fn sealed_registration(
    pool: &PgPool,
    case_id: Uuid,
) -> Result<Option<(i16, Vec<u8>)>, sqlx::Error> {
    let r = sqlx::query!(
        "SELECT online_registration_key_id, online_registration_enc FROM cases WHERE id = $1",
        case_id
    )
    .fetch_optional(pool)
    .await?;
    Ok(r.and_then(|r| r.online_registration_key_id.zip(r.online_registration_enc)))
}
