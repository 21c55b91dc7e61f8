//! Evidence files on cases: the type is decided by the content, never by what the client
//! says; the file is sealed at rest; it is served only as a download, only to those who may
//! see the case.

use serde_json::json;
use uuid::Uuid;

use crate::access::{self, View};
use crate::app::db::cases as cdb;
use crate::audit::{self, Event};
use crate::error::{AppError, AppResult};
use crate::policy::{self, Actor};
use crate::state::AppState;

pub const MAX_BYTES: usize = 10 * 1024 * 1024;

/// The kinds of file accepted (SPEC §4 "Attachments"), judged in `domain::filetype`.
pub use crate::domain::filetype::Kind;

impl Kind {
    pub fn content_type(self) -> &'static str {
        match self {
            Kind::Pdf => "application/pdf",
            Kind::Png => "image/png",
            Kind::Jpeg => "image/jpeg",
            Kind::Text => "text/plain; charset=utf-8",
            Kind::Docx => "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
            Kind::Xlsx => "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        }
    }

    fn extensions(self) -> &'static [&'static str] {
        match self {
            Kind::Pdf => &["pdf"],
            Kind::Png => &["png"],
            Kind::Jpeg => &["jpg", "jpeg"],
            Kind::Text => &["txt", "text", "csv", "log"],
            Kind::Docx => &["docx"],
            Kind::Xlsx => &["xlsx"],
        }
    }
}

/// What the bytes are, judged by their content.
pub fn sniff(data: &[u8]) -> Option<Kind> {
    crate::domain::filetype::sniff(data).ok()
}

/// A safe file name: no path, no control characters, at most 120 characters.
pub fn clean_filename(name: &str) -> String {
    let base = name.rsplit(['/', '\\']).next().unwrap_or("");
    let cleaned: String = base
        .chars()
        .filter(|c| !c.is_control() && !matches!(c, '"' | '<' | '>' | ':' | '|' | '?' | '*'))
        .collect();
    let cleaned = cleaned.trim().trim_start_matches('.').to_string();
    cleaned.chars().take(120).collect()
}

/// Checks an upload; the field errors name `file`.
pub fn check(filename: &str, data: &[u8]) -> AppResult<(String, Kind)> {
    let name = clean_filename(filename);
    if data.is_empty() {
        return Err(AppError::validation("file", "The selected file is empty"));
    }
    if data.len() > MAX_BYTES {
        return Err(AppError::PayloadTooLarge);
    }
    let kind = crate::domain::filetype::sniff(data)
        .map_err(|refusal| AppError::validation("file", refusal.message()))?;
    let ext = name.rsplit_once('.').map(|(_, e)| e.to_lowercase());
    let name = match ext {
        Some(e) if kind.extensions().contains(&e.as_str()) => name,
        Some(_) => {
            return Err(AppError::validation(
                "file",
                "The file's name does not match what it contains: check you chose the right file",
            ));
        }
        None => {
            let stem = if name.is_empty() {
                "evidence".to_string()
            } else {
                name
            };
            format!("{stem}.{}", kind.extensions()[0])
        }
    };
    Ok((name, kind))
}

fn context(id: Uuid) -> Vec<u8> {
    format!("attachments.data_enc:{id}").into_bytes()
}

/// Adds evidence to a case (its reporter, or their organisation's CD lead).
pub async fn add(
    state: &AppState,
    actor: &Actor,
    case_id: Uuid,
    filename: &str,
    data: &[u8],
) -> AppResult<cdb::AttachmentInfo> {
    let case = access::case(actor, &state.db, case_id, state.now())
        .await?
        .reporting()?;
    let (name, kind) = check(filename, data)?;
    let id = Uuid::now_v7();
    let sealed = state.sealer.seal(data, &context(id))?;
    let size = i32::try_from(data.len()).map_err(|_| AppError::PayloadTooLarge)?;
    let now = state.now();
    let mut tx = state.db.begin().await?;
    cdb::insert_attachment(
        &mut tx,
        id,
        &case,
        actor.user_id,
        &name,
        kind.content_type(),
        size,
        &crate::crypto::sha256(data),
        state.sealer.key_id(),
        &sealed,
        now,
    )
    .await?;
    cdb::insert_event(
        &mut tx,
        &case,
        now,
        Some(actor.user_id),
        "attachment_added",
        "reporter",
        json!({"attachment_id": id}),
    )
    .await?;
    audit::record(
        &mut tx,
        now,
        Event::new(
            Some(actor.user_id),
            audit::action::ATTACHMENT_ADDED,
            "attachment",
            Some(id),
        )
        .case(case_id)
        .details(json!({"bytes": size})),
    )
    .await?;
    tx.commit().await?;
    Ok(cdb::AttachmentInfo {
        id,
        filename: name,
        content_type: kind.content_type().to_string(),
        size_bytes: size,
        uploaded_by: actor.user_id,
        created_at: now,
        holds_patient_data: false,
    })
}

/// Opens a file of a case its holder may download.
pub async fn open(
    state: &AppState,
    case: &impl access::CaseRef,
    id: Uuid,
) -> AppResult<(String, String, Vec<u8>)> {
    let a = cdb::attachment(&state.db, case, id)
        .await?
        .ok_or(AppError::NotFound)?;
    let data = state.sealer.open(a.key_id, &a.data_enc, &context(a.id))?;
    Ok((a.filename, a.content_type, data))
}

/// The file, for someone who may see the case (through a share: only the files it names);
/// the download is recorded.
pub async fn get(
    state: &AppState,
    actor: &Actor,
    case_id: Uuid,
    id: Uuid,
) -> AppResult<(String, String, Vec<u8>)> {
    let case = access::case(actor, &state.db, case_id, state.now()).await?;
    let details = match case.view() {
        View::Shared(t) if !t.attachment_ids.contains(&id) => return Err(AppError::NotFound),
        View::Shared(t) => json!({"purpose": "shared case review", "share_id": t.share_id}),
        _ => json!({"purpose": policy::identity_view_purpose(actor)}),
    };
    let file = open(state, &case, id).await?;
    audit::record_alone(
        &state.db,
        state.now(),
        Event::new(
            Some(actor.user_id),
            audit::action::ATTACHMENT_DOWNLOADED,
            "attachment",
            Some(id),
        )
        .case(case_id)
        .details(details),
    )
    .await?;
    Ok(file)
}

/// The holding team marks evidence as holding patient data (or not): such a file travels on
/// a share only with patient data.
pub async fn mark_patient_data(
    state: &AppState,
    actor: &Actor,
    case_id: Uuid,
    id: Uuid,
    holds: bool,
) -> AppResult<cdb::AttachmentInfo> {
    let now = state.now();
    let mut tx = state.db.begin().await?;
    let case = access::case_locked(actor, &mut tx, case_id, now)
        .await?
        .triage()?;
    if !cdb::mark_patient_data(&mut tx, &case, id, holds).await? {
        return Err(AppError::NotFound);
    }
    audit::record(
        &mut tx,
        now,
        Event::new(
            Some(actor.user_id),
            audit::action::ATTACHMENT_MARKED,
            "attachment",
            Some(id),
        )
        .case(case_id)
        .details(json!({"holds_patient_data": holds})),
    )
    .await?;
    tx.commit().await?;
    cdb::attachments(&state.db, &case)
        .await?
        .into_iter()
        .find(|a| a.id == id)
        .ok_or(AppError::NotFound)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn files_are_known_by_their_content() {
        assert_eq!(sniff(b"%PDF-1.7\n..."), Some(Kind::Pdf));
        assert_eq!(
            sniff(&[0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A, 0]),
            Some(Kind::Png)
        );
        assert_eq!(sniff(&[0xFF, 0xD8, 0xFF, 0xE0]), Some(Kind::Jpeg));
        assert_eq!(
            sniff(b"Running balance 28 tablets short\r\n"),
            Some(Kind::Text)
        );
        assert_eq!(
            sniff(&crate::domain::filetype::tests::docx()),
            Some(Kind::Docx)
        );
        assert_eq!(
            sniff(&crate::domain::filetype::tests::xlsx()),
            Some(Kind::Xlsx)
        );
        assert_eq!(sniff(b"PK\x03\x04 just a zip"), None);
        assert_eq!(sniff(b"MZ\x90\x00\x03 executable"), None);
        assert_eq!(sniff(&[0xC3, 0x28]), None);
    }

    #[test]
    fn names_must_match_contents() {
        assert_eq!(check("scan.PDF", b"%PDF-1.4").unwrap().0, "scan.PDF");
        assert!(check("notes.exe", b"%PDF-1.4").is_err());
        assert_eq!(
            check("../../etc/passwd", b"root:x:0:0").unwrap().0,
            "passwd.txt"
        );
        assert_eq!(check("", b"hello").unwrap().0, "evidence.txt");
        assert!(check("a.txt", b"").is_err());
    }
}
