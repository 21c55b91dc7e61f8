//! Oversight (issue 12): the overseas prescriber's sealed registration, improvement
//! initiatives, and what is reported about one prescriber.

use sqlx::PgPool;

use crate::access::{AreaScope, CaseRef};
use uuid::Uuid;

/// The sealed registration of a case's online supply: (key id, nonce || ciphertext).
pub async fn sealed_registration(
    db: impl sqlx::PgExecutor<'_>,
    case: &impl CaseRef,
) -> Result<Option<(i16, Vec<u8>)>, sqlx::Error> {
    let r = sqlx::query!(
        "SELECT online_registration_key_id, online_registration_enc FROM cases WHERE id = $1",
        case.case_id()
    )
    .fetch_optional(db)
    .await?;
    Ok(r.and_then(|r| r.online_registration_key_id.zip(r.online_registration_enc)))
}

#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct Initiative {
    pub id: Uuid,
    pub area_id: Uuid,
    pub area_name: String,
    pub measure: String,
    pub name: String,
    pub start_month: chrono::NaiveDate,
    pub change: String,
    pub created_at: chrono::DateTime<chrono::Utc>,
}

pub struct NewInitiative<'a> {
    pub id: Uuid,
    pub area_id: Uuid,
    pub measure: &'a str,
    pub name: &'a str,
    pub start_month: chrono::NaiveDate,
    pub change: &'a str,
    pub created_by: Uuid,
    pub created_at: chrono::DateTime<chrono::Utc>,
}

pub async fn insert_initiative(
    conn: &mut sqlx::PgConnection,
    i: &NewInitiative<'_>,
) -> Result<(), sqlx::Error> {
    sqlx::query!(
        "INSERT INTO improvement_initiatives (id, area_id, measure, name, start_month, change, created_by, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        i.id,
        i.area_id,
        i.measure,
        i.name,
        i.start_month,
        i.change,
        i.created_by,
        i.created_at
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// Initiatives of these areas for a measure, oldest first.
pub async fn initiatives(
    pool: &PgPool,
    areas: &[Uuid],
    measure: &str,
) -> Result<Vec<Initiative>, sqlx::Error> {
    sqlx::query_as!(
        Initiative,
        r#"SELECT i.id, i.area_id, a.name AS area_name, i.measure, i.name, i.start_month, i.change, i.created_at
           FROM improvement_initiatives i JOIN areas a ON a.id = i.area_id
           WHERE i.area_id = ANY($1) AND i.measure = $2
           ORDER BY i.start_month, i.created_at"#,
        areas,
        measure
    )
    .fetch_all(pool)
    .await
}

/// A report naming a prescriber identifier, inside the areas given.
pub struct PrescriberHit {
    pub case_id: Uuid,
    /// The person named (none for an overseas registration, which belongs to the report).
    pub person_id: Option<Uuid>,
}

/// Reports of `areas` naming the blind index (`kind`, `digest`), newest first.
pub async fn prescriber_hits(
    pool: &PgPool,
    areas: &AreaScope,
    kind: &str,
    digest: &[u8],
    limit: i64,
) -> Result<Vec<PrescriberHit>, sqlx::Error> {
    if kind == crate::oversight::REGISTRATION_INDEX {
        return sqlx::query_as!(
            PrescriberHit,
            r#"SELECT id AS case_id, NULL::uuid AS person_id FROM cases
               WHERE online_registration_digest = $1 AND area_id = ANY($2)
               ORDER BY submitted_at DESC LIMIT $3"#,
            digest,
            areas.ids(),
            limit
        )
        .fetch_all(pool)
        .await;
    }
    sqlx::query_as!(
        PrescriberHit,
        r#"SELECT pi.case_id, pi.person_id AS "person_id?" FROM person_identifiers pi
           JOIN cases c ON c.id = pi.case_id
           WHERE pi.kind = $1 AND pi.digest = $2 AND pi.area_id = ANY($3)
           ORDER BY c.submitted_at DESC LIMIT $4"#,
        kind,
        digest,
        areas.ids(),
        limit
    )
    .fetch_all(pool)
    .await
}

/// The prescriber identifiers of a case's persons (kind, blind index), and its overseas
/// registration's.
pub async fn case_prescriber_indexes(
    pool: &PgPool,
    case: &impl CaseRef,
) -> Result<Vec<(String, Vec<u8>)>, sqlx::Error> {
    let rows = sqlx::query!(
        r#"SELECT kind AS "kind!", digest AS "digest!" FROM person_identifiers
           WHERE case_id = $1 AND kind IN ('prescriber_code', 'gmc', 'gphc', 'nmc', 'hcpc', 'gdc')
           UNION ALL
           SELECT 'online_registration', online_registration_digest FROM cases
           WHERE id = $1 AND online_registration_digest IS NOT NULL"#,
        case.case_id()
    )
    .fetch_all(pool)
    .await?;
    let mut out: Vec<(String, Vec<u8>)> = rows.into_iter().map(|r| (r.kind, r.digest)).collect();
    // Prescriber codes first: the identifier the prescriber view is about.
    out.sort_by_key(|(k, _)| k != "prescriber_code");
    out.dedup();
    Ok(out)
}

/// Sealed identities of persons with a prescriber code in `areas` (only these codes' blind
/// indexes, when given) whose work addresses are not indexed yet: (person id, key id,
/// nonce || ciphertext).
pub async fn unindexed_prescribers(
    pool: &PgPool,
    areas: &AreaScope,
    digests: Option<&[Vec<u8>]>,
    limit: i64,
) -> Result<Vec<(Uuid, i16, Vec<u8>)>, sqlx::Error> {
    let only = digests.is_some();
    let digests = digests.unwrap_or(&[]).to_vec();
    Ok(sqlx::query!(
        r#"SELECT DISTINCT p.id, p.key_id, p.identity_enc AS "identity_enc!"
           FROM person_identifiers pi
           JOIN persons p ON p.id = pi.person_id
           WHERE pi.kind = 'prescriber_code' AND pi.area_id = ANY($1)
             AND p.identity_enc IS NOT NULL
             AND (NOT $3 OR pi.digest = ANY($4))
             AND NOT EXISTS (SELECT 1 FROM prescriber_address_scans s WHERE s.person_id = p.id)
           LIMIT $2"#,
        areas.ids(),
        limit,
        only,
        &digests
    )
    .fetch_all(pool)
    .await?
    .into_iter()
    .map(|r| (r.id, r.key_id, r.identity_enc))
    .collect())
}

/// Records the blind indexes of a person's work addresses, once.
pub async fn index_addresses(
    conn: &mut sqlx::PgConnection,
    person_id: Uuid,
    digests: &[Vec<u8>],
    now: chrono::DateTime<chrono::Utc>,
) -> Result<(), sqlx::Error> {
    sqlx::query!(
        "INSERT INTO prescriber_addresses (person_id, address_digest)
         SELECT $1, d FROM unnest($2::bytea[]) AS d ON CONFLICT DO NOTHING",
        person_id,
        digests
    )
    .execute(&mut *conn)
    .await?;
    sqlx::query!(
        "INSERT INTO prescriber_address_scans (person_id, scanned_at) VALUES ($1, $2) ON CONFLICT DO NOTHING",
        person_id,
        now
    )
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// A prescriber code of `areas` reported at `min_addresses` or more work addresses.
pub struct SpreadCode {
    pub digest: Vec<u8>,
    pub addresses: i64,
    pub cases: i64,
}

/// Prescriber codes of `areas` (or only `digests`, when given) reported at
/// `min_addresses` or more distinct work addresses in those areas.
pub async fn spread_codes(
    pool: &PgPool,
    areas: &AreaScope,
    digests: Option<&[Vec<u8>]>,
    min_addresses: i64,
) -> Result<Vec<SpreadCode>, sqlx::Error> {
    let only = digests.is_some();
    let digests = digests.unwrap_or(&[]).to_vec();
    sqlx::query_as!(
        SpreadCode,
        r#"SELECT pi.digest AS "digest!", count(DISTINCT pa.address_digest) AS "addresses!",
                  count(DISTINCT pi.case_id) AS "cases!"
           FROM person_identifiers pi
           JOIN prescriber_addresses pa ON pa.person_id = pi.person_id
           WHERE pi.kind = 'prescriber_code' AND pi.area_id = ANY($1)
             AND (NOT $2 OR pi.digest = ANY($3))
           GROUP BY pi.digest
           HAVING count(DISTINCT pa.address_digest) >= $4
           ORDER BY 2 DESC, 3 DESC
           LIMIT 50"#,
        areas.ids(),
        only,
        &digests,
        min_addresses
    )
    .fetch_all(pool)
    .await
}
