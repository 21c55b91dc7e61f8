//! The cursors of the lists that page newest first (cases, audit events, alerts): the time
//! and id of the last item shown, as `<microseconds>_<id>`, read back into the keyset the
//! next page starts after.

use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::domain::validation::FieldErrors;

/// The cursor that follows an item listed at `at` with this id.
pub fn encode(at: DateTime<Utc>, id: Uuid) -> String {
    format!("{}_{}", at.timestamp_micros(), id.simple())
}

/// The keyset a cursor stands for; `None` for one this service did not give out.
pub fn decode(cursor: &str) -> Option<(DateTime<Utc>, Uuid)> {
    let (micros, id) = cursor.split_once('_')?;
    Some((
        DateTime::from_timestamp_micros(micros.parse().ok()?)?,
        Uuid::parse_str(id).ok()?,
    ))
}

/// The `cursor` parameter of a list: `None` when there is none; for one this service did not
/// give out, `None` and an error on the field.
pub fn param(value: Option<&str>, errors: &mut FieldErrors) -> Option<(DateTime<Utc>, Uuid)> {
    let keyset = decode(value?);
    if keyset.is_none() {
        errors.add("cursor", "cursor is not one this service gave out");
    }
    keyset
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cursor_reads_back_to_its_item_and_nothing_else_reads() {
        let at = DateTime::from_timestamp_micros(1_795_000_000_123_456).unwrap();
        let id = Uuid::now_v7();
        assert_eq!(decode(&encode(at, id)), Some((at, id)));
        for bad in [
            "",
            "_",
            "12",
            "abc_def",
            "12_not-a-uuid",
            &format!("x_{}", id.simple()),
        ] {
            assert_eq!(decode(bad), None, "{bad}");
        }
    }
}
