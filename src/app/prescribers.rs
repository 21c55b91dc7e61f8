//! Everything reported about one prescriber (issue 12): for the lead CDAO team, inside their
//! own areas, every report naming a prescriber code or a registration number, every work
//! address reported for it and how many organisations reported it. Identifiers are matched
//! only through their blind indexes; the identities shown are opened from their seals, and
//! each report whose identity is shown is audited as viewed ("prescriber review"). Reports
//! held by other areas are only "held by the … CDAO team", through the correlation matches
//! and access requests of `crate::triage`, never a second mechanism.
//!
//! A prescriber code reported at [`SPREAD`] or more work addresses stands out (PINs have no
//! expiry and only one main work address, so a code turning up at many is worth a look):
//! the addresses are counted in SQL over their blind indexes, filled in from the sealed
//! identities the first time they are needed.

use std::collections::BTreeMap;

use serde_json::json;
use uuid::Uuid;

use crate::access::{self, AreaScope, View};
use crate::app::db;
use crate::audit::{self, Event};
use crate::domain::identifiers::{Register, Registration};
use crate::domain::oversight::{normalise_address, normalise_registration};
use crate::error::{AppError, AppResult};
use crate::policy::Actor;
use crate::state::AppState;

/// Work addresses at which a prescriber code stands out.
pub const SPREAD: i64 = 3;
/// The most reports one view lists.
const MAX_CASES: i64 = 200;
/// The most identities indexed in one request (the rest on the next).
const INDEX_BATCH: i64 = 500;
/// The blind-index kind of a work address.
const ADDRESS_INDEX: &str = "work_address";

/// An identifier the view is about.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    PrescriberCode,
    Register(Register),
    /// The registration of an overseas prescriber, given with an online supply.
    OverseasRegistration,
}

impl Kind {
    pub fn parse(code: &str) -> Option<Kind> {
        match code {
            "prescriber_code" => Some(Kind::PrescriberCode),
            crate::oversight::REGISTRATION_INDEX => Some(Kind::OverseasRegistration),
            other => Register::parse(other).map(Kind::Register),
        }
    }

    /// The blind-index kind (and the path segment).
    pub fn code(self) -> &'static str {
        match self {
            Kind::PrescriberCode => "prescriber_code",
            Kind::Register(r) => r.code(),
            Kind::OverseasRegistration => crate::oversight::REGISTRATION_INDEX,
        }
    }

    pub fn label(self) -> String {
        match self {
            Kind::PrescriberCode => "Prescriber code".into(),
            Kind::Register(r) => format!("{} number", r.acronym()),
            Kind::OverseasRegistration => "Overseas prescriber's registration".into(),
        }
    }

    /// (code, label) for the search form.
    pub fn options() -> Vec<(String, String)> {
        let mut o = vec![(
            Kind::PrescriberCode.code().to_string(),
            Kind::PrescriberCode.label(),
        )];
        o.extend(
            Register::ALL
                .iter()
                .map(|r| (r.code().to_string(), Kind::Register(*r).label())),
        );
        o.push((
            Kind::OverseasRegistration.code().to_string(),
            Kind::OverseasRegistration.label(),
        ));
        o
    }

    /// The identifier as it is indexed, or what is wrong with it.
    pub fn normalise(self, value: &str) -> Result<String, String> {
        match self {
            Kind::PrescriberCode => crate::domain::report::prescriber_code(value)
                .ok_or_else(|| "Prescriber code must be 3 to 20 letters and numbers".into()),
            Kind::Register(r) => Registration::parse(r, value.trim())
                .map(|p| p.number().to_string())
                .map_err(str::to_string),
            Kind::OverseasRegistration => {
                let n = normalise_registration(value);
                if n.is_empty() || n.len() > 100 {
                    Err("Enter the registration as it was reported".into())
                } else {
                    Ok(n)
                }
            }
        }
    }
}

/// What the search found: where its view is.
pub fn view_path(kind: Kind, digest: &[u8]) -> String {
    format!("/prescribers/{}/{}", kind.code(), hex::encode(digest))
}

/// The blind index of an identifier typed into the search, as the view's address.
pub fn search(state: &AppState, actor: &Actor, kind: &str, value: &str) -> AppResult<String> {
    let (kind, digest) = search_index(state, actor, kind, value)?;
    Ok(format!("/prescribers/{kind}/{digest}"))
}

/// The (kind, hex blind index) of an identifier typed into the search: 422 naming `kind` or
/// `identifier` when either is wrong.
pub fn search_index(
    state: &AppState,
    actor: &Actor,
    kind: &str,
    value: &str,
) -> AppResult<(String, String)> {
    access::cdao_areas(actor)?;
    let mut e = crate::domain::validation::FieldErrors::new();
    let kind = Kind::parse(kind.trim());
    if kind.is_none() {
        e.add("kind", "Select what kind of number it is");
    }
    let value = value.trim();
    if value.is_empty() {
        e.add(
            "identifier",
            "Enter the prescriber code or registration number",
        );
    }
    let Some(kind) = kind.filter(|_| !value.is_empty()) else {
        return Err(AppError::Validation(e.into_vec()));
    };
    match kind.normalise(value) {
        Ok(n) => Ok((
            kind.code().to_string(),
            hex::encode(crate::reports::blind_index(state, kind.code(), &n)),
        )),
        Err(message) => Err(AppError::validation("identifier", &message)),
    }
}

/// One report naming the prescriber.
#[derive(Debug, Clone)]
pub struct Reported {
    pub case_id: Uuid,
    pub reference: String,
    pub kind: String,
    pub status: String,
    pub submitted_at: chrono::DateTime<chrono::Utc>,
    pub organisation_name: String,
    pub area_name: String,
    pub categories: Vec<String>,
}

/// A possible match held by another area's team, and the report of the viewer's own an
/// access request would start from.
#[derive(Debug, Clone)]
pub struct HeldElsewhere {
    pub area_id: Uuid,
    pub area_name: String,
    pub via_case_id: Uuid,
    pub via_reference: String,
    /// `pending`, `approved` or `declined`: the team's request for it, if any.
    pub access_request: Option<String>,
}

#[derive(Debug, Clone)]
pub struct PrescriberView {
    pub kind: Kind,
    /// The identifier as reported (the first report's).
    pub identifier: Option<String>,
    pub names: Vec<String>,
    /// Distinct work addresses (as first written) and how many reports gave each.
    pub addresses: Vec<(String, usize)>,
    pub organisations: usize,
    pub reports: Vec<Reported>,
    /// Reported at [`SPREAD`] or more work addresses.
    pub spread: bool,
    pub held_elsewhere: Vec<HeldElsewhere>,
}

/// Everything reported about one identifier in the CDAO's own areas.
pub async fn view(
    state: &AppState,
    actor: &Actor,
    kind: &str,
    digest_hex: &str,
) -> AppResult<PrescriberView> {
    let areas = access::cdao_areas(actor)?;
    let kind = Kind::parse(kind).ok_or(AppError::NotFound)?;
    let digest = hex::decode(digest_hex).map_err(|_| AppError::NotFound)?;
    if digest.len() != 32 {
        return Err(AppError::NotFound);
    }
    let now = state.now();
    let hits =
        db::oversight::prescriber_hits(&state.db, &areas, kind.code(), &digest, MAX_CASES).await?;
    let mut ids: Vec<Uuid> = hits.iter().map(|h| h.case_id).collect();
    ids.dedup();
    let mut cases: Vec<access::VisibleCase> = access::visible_cases(actor, &state.db, &ids, now)
        .await?
        .into_iter()
        .filter(|c| *c.view() == View::Holding)
        .collect();
    cases.sort_by_key(|c| std::cmp::Reverse(c.row().submitted_at));
    let mut identifier = None;
    let mut names: Vec<String> = Vec::new();
    let mut addresses: BTreeMap<String, (String, usize)> = BTreeMap::new();
    let mut organisations: Vec<Uuid> = Vec::new();
    let mut reports = Vec::new();
    for case in &cases {
        let c = case.row();
        let persons: Vec<Uuid> = hits
            .iter()
            .filter(|h| h.case_id == c.id)
            .filter_map(|h| h.person_id)
            .collect();
        let mut shown = 0;
        if kind == Kind::OverseasRegistration {
            let r = crate::oversight::registration(state, &mut *state.db.acquire().await?, case)
                .await?;
            shown += usize::from(r.is_some());
            identifier = identifier.or(r);
        } else {
            for p in crate::disclosure::open_persons(state, &mut *state.db.acquire().await?, case)
                .await?
            {
                if !persons.contains(&p.id) {
                    continue;
                }
                shown += 1;
                let i = &p.identity;
                if identifier.is_none() {
                    identifier = match kind {
                        Kind::PrescriberCode => i.prescriber_code.clone(),
                        Kind::Register(r) => i
                            .registrations
                            .iter()
                            .find(|x| x.register == r.code())
                            .map(|x| x.number.clone()),
                        Kind::OverseasRegistration => None,
                    };
                }
                if !i.full_name.is_empty() && !names.contains(&i.full_name) {
                    names.push(i.full_name.clone());
                }
                let mut seen_here: Vec<String> = Vec::new();
                for a in &i.work_addresses {
                    let key = normalise_address(a);
                    if key.is_empty() || seen_here.contains(&key) {
                        continue;
                    }
                    seen_here.push(key.clone());
                    addresses.entry(key).or_insert_with(|| (a.clone(), 0)).1 += 1;
                }
            }
        }
        if !organisations.contains(&c.organisation_id) {
            organisations.push(c.organisation_id);
        }
        reports.push(Reported {
            case_id: c.id,
            reference: c.reference.clone(),
            kind: c.kind.clone(),
            status: c.status.clone(),
            submitted_at: c.submitted_at,
            organisation_name: c.organisation_name.clone(),
            area_name: c.area_name.clone(),
            categories: c
                .report
                .get("categories")
                .or_else(|| c.report.get("concern_categories"))
                .and_then(|v| serde_json::from_value(v.clone()).ok())
                .unwrap_or_default(),
        });
        if shown > 0 {
            audit::record_alone(
                &state.db,
                now,
                Event::new(
                    Some(actor.user_id),
                    audit::action::IDENTITY_VIEWED,
                    "case",
                    Some(c.id),
                )
                .case(c.id)
                .details(json!({"purpose": "prescriber review", "persons": shown})),
            )
            .await?;
        }
    }
    let held_elsewhere = held_elsewhere(state, actor, kind, &cases).await?;
    let spread = i64::try_from(addresses.len()).unwrap_or(i64::MAX) >= SPREAD;
    Ok(PrescriberView {
        kind,
        identifier,
        names,
        addresses: addresses.into_values().collect(),
        organisations: organisations.len(),
        reports,
        spread,
        held_elsewhere,
    })
}

/// Matches of the viewer's reports held by other areas' teams, on this kind of identifier:
/// the correlation of `crate::triage::matches`, one line per holding area.
async fn held_elsewhere(
    state: &AppState,
    actor: &Actor,
    kind: Kind,
    cases: &[access::VisibleCase],
) -> AppResult<Vec<HeldElsewhere>> {
    let mut out: Vec<HeldElsewhere> = Vec::new();
    // The newest reports are enough to find every area holding a match.
    for case in cases
        .iter()
        .filter(|c| c.row().kind == "person_concern")
        .take(20)
    {
        for m in crate::triage::matches(state, actor, case.id()).await?.items {
            if m.case_id.is_some() || !m.matched_on.iter().any(|k| k == kind.code()) {
                continue;
            }
            match out.iter_mut().find(|h| h.area_id == m.area_id) {
                Some(h) => {
                    // Prefer the report whose request is already made, so its state shows.
                    if h.access_request.is_none() && m.access_request.is_some() {
                        h.via_case_id = case.id();
                        h.via_reference = case.reference().to_string();
                        h.access_request = m.access_request;
                    }
                }
                None => out.push(HeldElsewhere {
                    area_id: m.area_id,
                    area_name: m.area_name,
                    via_case_id: case.id(),
                    via_reference: case.reference().to_string(),
                    access_request: m.access_request,
                }),
            }
        }
    }
    Ok(out)
}

/// Indexes the work addresses of persons with a prescriber code in `areas` (of these codes,
/// when given) not indexed yet, a batch at a time: each person is opened once, ever.
async fn index_addresses(
    state: &AppState,
    areas: &AreaScope,
    digests: Option<&[Vec<u8>]>,
) -> AppResult<()> {
    let pending =
        db::oversight::unindexed_prescribers(&state.db, areas, digests, INDEX_BATCH).await?;
    if pending.is_empty() {
        return Ok(());
    }
    let now = state.now();
    let mut tx = state.db.begin().await?;
    for (person_id, key_id, enc) in pending {
        let plain = state.sealer.open(
            key_id,
            &enc,
            &crate::disclosure::identity_context(person_id),
        )?;
        let identity: crate::domain::report::Identity =
            serde_json::from_slice(&plain).map_err(|e| AppError::Internal(e.into()))?;
        let mut digests: Vec<Vec<u8>> = identity
            .work_addresses
            .iter()
            .map(|a| normalise_address(a))
            .filter(|a| !a.is_empty())
            .map(|a| crate::reports::blind_index(state, ADDRESS_INDEX, &a))
            .collect();
        digests.sort();
        digests.dedup();
        db::oversight::index_addresses(&mut tx, person_id, &digests, now).await?;
    }
    tx.commit().await?;
    Ok(())
}

/// A prescriber code of the team's areas reported at many work addresses.
#[derive(Debug, Clone)]
pub struct Spread {
    pub addresses: i64,
    pub reports: i64,
    /// The prescriber view of the code.
    pub href: String,
}

/// Prescriber codes of the CDAO's areas reported at [`SPREAD`] or more work addresses (for
/// the dashboard): counts and a link only, no identity.
pub async fn spread_codes(state: &AppState, actor: &Actor) -> AppResult<Vec<Spread>> {
    let areas = access::cdao_areas(actor)?;
    index_addresses(state, &areas, None).await?;
    Ok(db::oversight::spread_codes(&state.db, &areas, None, SPREAD)
        .await?
        .into_iter()
        .map(|s| Spread {
            href: view_path(Kind::PrescriberCode, &s.digest),
            addresses: s.addresses,
            reports: s.cases,
        })
        .collect())
}

/// The prescriber codes of a case the CDAO team holds reported at [`SPREAD`] or more work
/// addresses in their areas (for the case page).
pub async fn spread_codes_of_case(
    state: &AppState,
    actor: &Actor,
    case_id: Uuid,
) -> AppResult<Vec<Spread>> {
    let case = access::case(actor, &state.db, case_id, state.now())
        .await?
        .triage()?;
    let areas = access::cdao_areas(actor)?;
    let digests: Vec<Vec<u8>> = db::oversight::case_prescriber_indexes(&state.db, &case)
        .await?
        .into_iter()
        .filter(|(k, _)| k == "prescriber_code")
        .map(|(_, d)| d)
        .collect();
    if digests.is_empty() {
        return Ok(vec![]);
    }
    // Only the persons sharing the case's codes: the case page opens no more than it needs.
    index_addresses(state, &areas, Some(&digests)).await?;
    Ok(
        db::oversight::spread_codes(&state.db, &areas, Some(&digests), SPREAD)
            .await?
            .into_iter()
            .map(|s| Spread {
                href: view_path(Kind::PrescriberCode, &s.digest),
                addresses: s.addresses,
                reports: s.cases,
            })
            .collect(),
    )
}

/// The prescriber view of a case's person (its prescriber code, else a registration, else
/// its overseas prescriber's registration): `None` when the case names none.
pub async fn path_for_case(
    state: &AppState,
    actor: &Actor,
    case_id: Uuid,
) -> AppResult<Option<String>> {
    let case = access::case(actor, &state.db, case_id, state.now())
        .await?
        .triage()?;
    Ok(db::oversight::case_prescriber_indexes(&state.db, &case)
        .await?
        .into_iter()
        .find_map(|(k, d)| Kind::parse(&k).map(|kind| view_path(kind, &d))))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_round_trip_and_normalise_as_the_reports_do() {
        for (code, _) in Kind::options() {
            assert_eq!(Kind::parse(&code).map(Kind::code), Some(code.as_str()));
        }
        assert_eq!(Kind::parse("passport"), None);
        assert_eq!(
            Kind::PrescriberCode.normalise(" ab-12 345 "),
            Ok("AB12345".to_string())
        );
        assert!(Kind::PrescriberCode.normalise("x").is_err());
        assert_eq!(
            Kind::Register(Register::Gmc).normalise(" 1234567 "),
            Ok("1234567".to_string())
        );
        assert!(Kind::Register(Register::Gphc).normalise("1234567").is_err());
        assert_eq!(
            Kind::OverseasRegistration.normalise("NMC-IN 778812"),
            Ok("NMCIN778812".to_string())
        );
        assert_eq!(
            view_path(Kind::PrescriberCode, &[0xab, 0x01]),
            "/prescribers/prescriber_code/ab01"
        );
    }
}
