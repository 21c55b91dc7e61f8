//! Dates and times in JSON, as chrono's `Serialize` writes them (`2026-11-29T14:42:50.486708Z`,
//! `2026-11-02`: RFC 3339, UTC as `Z`, as many fractional digits as needed of 0, 3, 6 or 9),
//! written into a small buffer and handed to the serializer as one string. chrono's own goes
//! through `fmt` and `collect_str`, so serde_json escapes the text piece by piece: with three
//! dates a case, that was a tenth of the service's time for a page of the case list (`perf`
//! under load). The text is the same to the byte (tests); a year outside 0 to 9999 or a leap
//! second is left to chrono.

use chrono::{DateTime, Datelike, NaiveDate, Timelike, Utc};
use serde::{Serialize, Serializer};

/// For `#[serde(serialize_with)]` on a `DateTime<Utc>`.
pub fn time<S: Serializer>(t: &DateTime<Utc>, s: S) -> Result<S::Ok, S::Error> {
    let mut buf = [0u8; 30];
    match write_time(t, &mut buf).and_then(|n| std::str::from_utf8(&buf[..n]).ok()) {
        Some(text) => s.serialize_str(text),
        None => t.serialize(s),
    }
}

/// For `#[serde(serialize_with)]` on an `Option<DateTime<Utc>>`.
pub fn time_opt<S: Serializer>(t: &Option<DateTime<Utc>>, s: S) -> Result<S::Ok, S::Error> {
    match t {
        Some(t) => time(t, s),
        None => s.serialize_none(),
    }
}

/// For `#[serde(serialize_with)]` on an `Option<NaiveDate>`.
pub fn date_opt<S: Serializer>(d: &Option<NaiveDate>, s: S) -> Result<S::Ok, S::Error> {
    let Some(d) = d else {
        return s.serialize_none();
    };
    let mut buf = [0u8; 10];
    match write_date(d, &mut buf).and_then(|n| std::str::from_utf8(&buf[..n]).ok()) {
        Some(text) => s.serialize_str(text),
        None => d.serialize(s),
    }
}

/// `YYYY-MM-DD` into `buf`, its length; `None` outside years 0 to 9999.
pub(crate) fn write_date(d: &NaiveDate, buf: &mut [u8; 10]) -> Option<usize> {
    let year = u32::try_from(d.year()).ok().filter(|y| *y <= 9999)?;
    digits(&mut buf[0..4], year);
    buf[4] = b'-';
    digits(&mut buf[5..7], d.month());
    buf[7] = b'-';
    digits(&mut buf[8..10], d.day());
    Some(10)
}

/// `YYYY-MM-DDTHH:MM:SS[.fff|.ffffff|.fffffffff]Z` into `buf`, its length; `None` outside
/// years 0 to 9999 and for a leap second.
pub(crate) fn write_time(t: &DateTime<Utc>, buf: &mut [u8; 30]) -> Option<usize> {
    let nanos = t.nanosecond();
    if nanos >= 1_000_000_000 {
        return None;
    }
    let mut date = [0u8; 10];
    write_date(&t.date_naive(), &mut date)?;
    buf[..10].copy_from_slice(&date);
    buf[10] = b'T';
    digits(&mut buf[11..13], t.hour());
    buf[13] = b':';
    digits(&mut buf[14..16], t.minute());
    buf[16] = b':';
    digits(&mut buf[17..19], t.second());
    let mut end = 19;
    let (value, width) = match nanos {
        0 => (0, 0),
        n if n % 1_000_000 == 0 => (n / 1_000_000, 3),
        n if n % 1_000 == 0 => (n / 1_000, 6),
        n => (n, 9),
    };
    if width > 0 {
        buf[end] = b'.';
        digits(&mut buf[end + 1..end + 1 + width], value);
        end += 1 + width;
    }
    buf[end] = b'Z';
    Some(end + 1)
}

/// `value` in decimal, right-aligned and zero-padded to fill `out`.
fn digits(out: &mut [u8], mut value: u32) {
    for b in out.iter_mut().rev() {
        *b = b'0' + (value % 10) as u8;
        value /= 10;
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use chrono::TimeZone;

    use super::*;

    #[derive(Serialize)]
    struct Ours {
        #[serde(serialize_with = "time")]
        t: DateTime<Utc>,
        #[serde(serialize_with = "time_opt")]
        o: Option<DateTime<Utc>>,
        #[serde(serialize_with = "date_opt")]
        d: Option<NaiveDate>,
    }

    #[derive(Serialize)]
    struct Chronos {
        t: DateTime<Utc>,
        o: Option<DateTime<Utc>>,
        d: Option<NaiveDate>,
    }

    fn same(t: DateTime<Utc>) {
        let d = Some(t.date_naive());
        for o in [Some(t), None] {
            let ours = serde_json::to_string(&Ours { t, o, d }).unwrap();
            let chronos = serde_json::to_string(&Chronos { t, o, d }).unwrap();
            assert_eq!(ours, chronos);
        }
        let ours = serde_json::to_string(&Ours {
            t,
            o: None,
            d: None,
        })
        .unwrap();
        assert!(ours.ends_with(r#""o":null,"d":null}"#), "{ours}");
    }

    #[test]
    fn dates_and_times_are_written_as_chrono_writes_them() {
        let base = Utc.with_ymd_and_hms(2026, 11, 29, 14, 42, 50).unwrap();
        for nanos in [
            0,
            1,
            999,
            1_000,
            486_708_000,
            486_000_000,
            100_000_000,
            123_456_789,
            999_999_999,
            5_000,
            7_000_000,
        ] {
            same(base + chrono::Duration::nanoseconds(nanos));
        }
        for (y, mo, d, h, mi, s) in [
            (0, 1, 1, 0, 0, 0),
            (9, 2, 3, 4, 5, 6),
            (999, 12, 31, 23, 59, 59),
            (1970, 1, 1, 0, 0, 0),
            (2024, 2, 29, 12, 0, 1),
            (9999, 12, 31, 23, 59, 59),
            // Outside what is written here: left to chrono, whose text it stays.
            (10000, 1, 1, 0, 0, 0),
            (-1, 6, 15, 8, 30, 0),
        ] {
            same(Utc.with_ymd_and_hms(y, mo, d, h, mi, s).unwrap());
        }
        // A leap second (chrono writes it as second 60): left to chrono.
        let leap = NaiveDate::from_ymd_opt(2016, 12, 31)
            .and_then(|d| d.and_hms_nano_opt(23, 59, 59, 1_500_000_000))
            .unwrap()
            .and_utc();
        same(leap);
        // Every millisecond and microsecond pattern of one second's worth, stepping by a prime.
        let mut n = 0u32;
        while n < 1_000_000_000 {
            same(base + chrono::Duration::nanoseconds(n.into()));
            n += 7_919_111;
        }
    }
}
