//! The case list's JSON (`GET /api/v1/cases`), written field by field.
//!
//! serde_json escapes every string it writes, keys included, scanning each byte: for a page of
//! 50 cases (29 KB, most of it keys, ids and dates, none of which can need escaping) that was
//! a sixth of the service's time for the page (`perf` under load). Here keys, ids, dates,
//! numbers and booleans are written as they are, and only text is checked: written as it is
//! when nothing in it needs escaping, else by serde_json. The result is the same to the byte
//! as serde_json's writing of [`CaseList`] (its derived `Serialize` stays, for the OpenAPI
//! document and as the tests' reference).

use axum::response::{IntoResponse, Response};
use chrono::{DateTime, NaiveDate, Utc};
use uuid::Uuid;

use super::cases::CaseList;
use crate::app::reports::CaseTotal;
use crate::domain::rfc3339;
use crate::records::CaseSummary;

/// The case list as a response.
pub struct CaseListBody(pub CaseList);

impl IntoResponse for CaseListBody {
    fn into_response(self) -> Response {
        let mut body = Vec::with_capacity(600 * (self.0.items.len() + 1));
        let written = write(&self.0, &mut body);
        super::json::response(written, body)
    }
}

type Out = Vec<u8>;

/// `list` as serde_json writes it.
pub fn write(list: &CaseList, out: &mut Out) -> serde_json::Result<()> {
    out.extend_from_slice(b"{\"items\":[");
    for (i, c) in list.items.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        case(c, out)?;
    }
    out.extend_from_slice(b"],\"next_cursor\":");
    opt(out, list.next_cursor.as_deref(), text)?;
    out.extend_from_slice(b",\"total\":");
    match &list.total {
        CaseTotal::Exact(n) => out.extend_from_slice(n.to_string().as_bytes()),
        CaseTotal::More(s) => text(out, s)?,
    }
    out.push(b'}');
    Ok(())
}

/// One case: its fields in the order `CaseSummary` declares them (those it serializes).
fn case(c: &CaseSummary, out: &mut Out) -> serde_json::Result<()> {
    out.extend_from_slice(b"{\"id\":");
    id(out, &c.id)?;
    out.extend_from_slice(b",\"reference\":");
    text(out, &c.reference)?;
    out.extend_from_slice(b",\"kind\":");
    text(out, &c.kind)?;
    out.extend_from_slice(b",\"status\":");
    text(out, &c.status)?;
    out.extend_from_slice(b",\"organisation_id\":");
    id(out, &c.organisation_id)?;
    out.extend_from_slice(b",\"organisation_name\":");
    text(out, &c.organisation_name)?;
    out.extend_from_slice(b",\"area_id\":");
    id(out, &c.area_id)?;
    out.extend_from_slice(b",\"submitted_at\":");
    time(out, &c.submitted_at)?;
    out.extend_from_slice(b",\"occurred_on\":");
    opt(out, c.occurred_on.as_ref(), date)?;
    out.extend_from_slice(b",\"harm\":");
    opt(out, c.harm.as_deref(), text)?;
    out.extend_from_slice(b",\"categories\":");
    texts(out, &c.categories)?;
    out.extend_from_slice(b",\"schedules\":");
    texts(out, &c.schedules)?;
    out.extend_from_slice(if c.high_dose {
        b",\"high_dose\":true"
    } else {
        b",\"high_dose\":false"
    });
    out.extend_from_slice(b",\"priority\":");
    opt(out, c.priority.as_deref(), text)?;
    out.extend_from_slice(b",\"assignee_id\":");
    opt(out, c.assignee_id.as_ref(), id)?;
    out.extend_from_slice(b",\"sector\":");
    text(out, &c.sector)?;
    out.extend_from_slice(b",\"triage_due_at\":");
    opt(out, c.triage_due_at.as_ref(), time)?;
    out.extend_from_slice(b",\"suggested_priority\":");
    opt(out, c.suggested_priority.as_deref(), text)?;
    out.push(b'}');
    Ok(())
}

fn opt<T: ?Sized>(
    out: &mut Out,
    v: Option<&T>,
    write: fn(&mut Out, &T) -> serde_json::Result<()>,
) -> serde_json::Result<()> {
    match v {
        Some(v) => write(out, v),
        None => {
            out.extend_from_slice(b"null");
            Ok(())
        }
    }
}

/// A string: as it is when serde_json would not escape any of it (no quote, backslash or
/// control character), else as serde_json writes it.
fn text(out: &mut Out, s: &str) -> serde_json::Result<()> {
    if s.bytes().all(|b| b >= 0x20 && b != b'"' && b != b'\\') {
        quoted(out, s.as_bytes())
    } else {
        serde_json::to_writer(&mut *out, s)
    }
}

fn texts(out: &mut Out, items: &[String]) -> serde_json::Result<()> {
    out.push(b'[');
    for (i, s) in items.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        text(out, s)?;
    }
    out.push(b']');
    Ok(())
}

/// Text that needs no escaping, in quotes.
fn quoted(out: &mut Out, bytes: &[u8]) -> serde_json::Result<()> {
    out.push(b'"');
    out.extend_from_slice(bytes);
    out.push(b'"');
    Ok(())
}

fn id(out: &mut Out, u: &Uuid) -> serde_json::Result<()> {
    quoted(
        out,
        u.hyphenated()
            .encode_lower(&mut Uuid::encode_buffer())
            .as_bytes(),
    )
}

fn time(out: &mut Out, t: &DateTime<Utc>) -> serde_json::Result<()> {
    let mut buf = [0u8; 30];
    match rfc3339::write_time(t, &mut buf) {
        Some(n) => quoted(out, &buf[..n]),
        None => serde_json::to_writer(&mut *out, t),
    }
}

fn date(out: &mut Out, d: &NaiveDate) -> serde_json::Result<()> {
    let mut buf = [0u8; 10];
    match rfc3339::write_date(d, &mut buf) {
        Some(n) => quoted(out, &buf[..n]),
        None => serde_json::to_writer(&mut *out, d),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use chrono::TimeZone;

    use super::*;

    fn case(n: u32) -> CaseSummary {
        let at = Utc.with_ymd_and_hms(2026, 11, 29, 14, 42, 50).unwrap()
            + chrono::Duration::nanoseconds(i64::from(n) * 123_457_000);
        CaseSummary {
            id: Uuid::now_v7(),
            reference: format!("CD-2026-{n:06}"),
            kind: "incident".into(),
            status: "new".into(),
            organisation_id: Uuid::new_v4(),
            organisation_name: "Northbrook Community Pharmacy".into(),
            area_id: Uuid::new_v4(),
            submitted_at: at,
            occurred_on: NaiveDate::from_ymd_opt(2026, 11, 2),
            harm: Some("none".into()),
            categories: vec!["theft_or_diversion".into(), "stock_discrepancy".into()],
            schedules: vec!["2".into()],
            high_dose: n.is_multiple_of(2),
            priority: Some("high".into()),
            assignee_id: Some(Uuid::new_v4()),
            sector: "community_pharmacy".into(),
            triage_due_at: Some(at + chrono::Duration::days(2)),
            suggested_priority: Some("urgent".into()),
            drug_ids: vec![Uuid::new_v4()],
            subject_types: vec!["registered_professional".into()],
            holding: true,
        }
    }

    fn same(list: &CaseList) {
        let mut ours = Vec::new();
        write(list, &mut ours).unwrap();
        let serde = serde_json::to_vec(list).unwrap();
        assert_eq!(
            String::from_utf8(ours).unwrap(),
            String::from_utf8(serde).unwrap()
        );
    }

    #[test]
    fn the_list_is_written_as_serde_json_writes_it() {
        // Every field set, every optional field empty, and text that needs escaping.
        let mut bare = case(1);
        bare.occurred_on = None;
        bare.harm = None;
        bare.categories = vec![];
        bare.schedules = vec![];
        bare.priority = None;
        bare.assignee_id = None;
        bare.triage_due_at = None;
        bare.suggested_priority = None;
        bare.submitted_at = Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap();
        let mut odd = case(2);
        odd.organisation_name = "St \"Mary's\" \\ Pharmacy\n\t\u{1}\u{1f}\u{7f} Café – 東京".into();
        odd.reference = "CD-\u{0}".into();
        odd.categories = vec!["a\"b".into(), "".into(), "\\".into()];
        odd.kind = "\r".into();
        odd.submitted_at = Utc.with_ymd_and_hms(12026, 1, 1, 0, 0, 0).unwrap();
        odd.occurred_on = NaiveDate::from_ymd_opt(-5, 3, 1);
        for total in [
            CaseTotal::Exact(0),
            CaseTotal::Exact(1000),
            CaseTotal::More("1000+"),
        ] {
            for next_cursor in [None, Some("MjAyNi0xMS0yOVQ=_x\"y".to_string())] {
                same(&CaseList {
                    items: vec![],
                    next_cursor: next_cursor.clone(),
                    total: total.clone(),
                });
                same(&CaseList {
                    items: (0..60)
                        .map(case)
                        .chain([bare.clone(), odd.clone()])
                        .collect(),
                    next_cursor,
                    total: total.clone(),
                });
            }
        }
    }
}
