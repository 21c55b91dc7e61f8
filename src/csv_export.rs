//! Every CSV the service writes goes through this writer, which neutralises formula
//! injection: a cell starting with `=`, `+`, `-`, `@`, a tab or a carriage return is
//! prefixed with `'`, so a spreadsheet shows it as text instead of running it (OWASP
//! "CSV injection"; a CDAO opening an export in Excel must not run a reporter's formula).

use std::borrow::Cow;

/// A cell as it is safe to write.
pub fn neutralise(cell: &str) -> Cow<'_, str> {
    match cell.chars().next() {
        Some('=' | '+' | '-' | '@' | '\t' | '\r') => Cow::Owned(format!("'{cell}")),
        _ => Cow::Borrowed(cell),
    }
}

/// `csv::Writer` over a buffer, with every cell neutralised.
pub struct SafeWriter(csv::Writer<Vec<u8>>);

impl SafeWriter {
    pub fn new() -> Self {
        Self(csv::Writer::from_writer(Vec::new()))
    }

    pub fn write_record<I, T>(&mut self, record: I) -> csv::Result<()>
    where
        I: IntoIterator<Item = T>,
        T: AsRef<str>,
    {
        let cells: Vec<String> = record
            .into_iter()
            .map(|c| neutralise(c.as_ref()).into_owned())
            .collect();
        self.0.write_record(&cells)
    }

    pub fn into_inner(self) -> Result<Vec<u8>, String> {
        self.0.into_inner().map_err(|e| e.to_string())
    }
}

impl Default for SafeWriter {
    fn default() -> Self {
        Self::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formulas_become_text() {
        for bad in [
            "=1+1",
            "+44 161",
            "-2",
            "@SUM(A1)",
            "\tx",
            "\rx",
            "=HYPERLINK(\"http://x\")",
        ] {
            assert_eq!(neutralise(bad), format!("'{bad}"));
        }
        for good in [
            "CD-2026-000001",
            "",
            "a=b",
            "12",
            "2026-11-21T09:00:00+00:00",
        ] {
            assert_eq!(neutralise(good), good);
        }
        let mut w = SafeWriter::new();
        w.write_record(["name", "=cmd|' /C calc'!A0"]).unwrap();
        let out = String::from_utf8(w.into_inner().unwrap()).unwrap();
        assert_eq!(out, "name,'=cmd|' /C calc'!A0\n");
    }
}
