//! What an uploaded file is, judged by its content alone (pure: no I/O).
//!
//! - Plain text must be UTF-8 without markup: HTML, SVG and XML (a tag, a comment, a
//!   doctype or a processing instruction) are refused, since a browser or an office program
//!   opening "notes.txt" may still render them.
//! - DOCX and XLSX are read as zip archives: the central directory must list
//!   `[Content_Types].xml` and the main part (`word/document.xml`, `xl/workbook.xml`), and
//!   `[Content_Types].xml` must declare that part with the right content type. Macro-enabled
//!   documents (`vbaProject.bin`, `macroEnabled` types) are refused.

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Pdf,
    Png,
    Jpeg,
    Text,
    Docx,
    Xlsx,
}

/// Why a file was refused, in words for the person who chose it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Refusal {
    /// Not one of the accepted kinds at all.
    Unknown,
    /// Text containing HTML, SVG or XML markup.
    Markup,
    /// A zip that is not a well-formed Word or Excel document (or has macros).
    BadOffice,
}

impl Refusal {
    pub fn message(self) -> &'static str {
        match self {
            Refusal::Unknown => {
                "The selected file must be a PDF, PNG, JPEG, plain text, Word (DOCX) or Excel (XLSX) file"
            }
            Refusal::Markup => {
                "The selected text file contains web page or XML markup (such as HTML or SVG tags). Save it as plain text, or as a PDF, and try again"
            }
            Refusal::BadOffice => {
                "The selected file is not a valid Word (DOCX) or Excel (XLSX) document, or it contains macros. Save it again as a .docx or .xlsx without macros, or as a PDF"
            }
        }
    }
}

pub fn sniff(data: &[u8]) -> Result<Kind, Refusal> {
    if data.starts_with(b"%PDF-") {
        Ok(Kind::Pdf)
    } else if data.starts_with(&[0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A]) {
        Ok(Kind::Png)
    } else if data.starts_with(&[0xFF, 0xD8, 0xFF]) {
        Ok(Kind::Jpeg)
    } else if data.starts_with(b"PK\x03\x04") {
        office(data)
    } else {
        let text = std::str::from_utf8(data.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(data))
            .map_err(|_| Refusal::Unknown)?;
        let plain = text
            .chars()
            .all(|c| !c.is_control() || matches!(c, '\n' | '\r' | '\t' | '\x0C'));
        if !plain {
            Err(Refusal::Unknown)
        } else if has_markup(text) {
            Err(Refusal::Markup)
        } else {
            Ok(Kind::Text)
        }
    }
}

/// Whether text holds anything a browser or XML reader would treat as markup: `<!…`,
/// `<?…`, or a tag `<name …>` / `</name>` closed on the same line.
pub fn has_markup(text: &str) -> bool {
    let b = text.as_bytes();
    let mut i = 0;
    while let Some(off) = b[i..].iter().position(|&c| c == b'<') {
        let start = i + off;
        let rest = &b[start + 1..];
        match rest.first() {
            Some(b'!') | Some(b'?') => return true,
            Some(_) => {
                let name = rest.strip_prefix(b"/").unwrap_or(rest);
                if name.first().is_some_and(u8::is_ascii_alphabetic) {
                    let len = name
                        .iter()
                        .take_while(|c| {
                            c.is_ascii_alphanumeric() || matches!(c, b':' | b'-' | b'_' | b'.')
                        })
                        .count();
                    let after = &name[len..];
                    // `<b>`, `<br/>`, `<svg xmlns=…>`, `</p>`: the tag ends on this line.
                    let closes = after.first().is_some_and(|c| matches!(c, b'>' | b'/'))
                        || (after.first().is_some_and(u8::is_ascii_whitespace)
                            && after
                                .iter()
                                .take_while(|c| **c != b'\n' && **c != b'<')
                                .any(|c| *c == b'>'));
                    if closes {
                        return true;
                    }
                }
            }
            None => {}
        }
        i = start + 1;
    }
    false
}

fn u16_at(b: &[u8], at: usize) -> Option<usize> {
    b.get(at..at + 2)
        .map(|s| usize::from(u16::from_le_bytes([s[0], s[1]])))
}

fn u32_at(b: &[u8], at: usize) -> Option<usize> {
    b.get(at..at + 4)
        .and_then(|s| usize::try_from(u32::from_le_bytes([s[0], s[1], s[2], s[3]])).ok())
}

/// One entry of a zip's central directory.
struct Entry<'a> {
    name: &'a [u8],
    method: usize,
    compressed: usize,
    local_offset: usize,
}

/// The entries of a zip archive, from its end-of-central-directory record.
fn zip_entries(b: &[u8]) -> Option<Vec<Entry<'_>>> {
    // The EOCD record is in the last 22 + 65535 bytes.
    let from = b.len().saturating_sub(22 + 65_535);
    let eocd = (from..=b.len().checked_sub(22)?)
        .rev()
        .find(|&i| b.get(i..i + 4) == Some(b"PK\x05\x06"))?;
    let count = u16_at(b, eocd + 10)?;
    let mut at = u32_at(b, eocd + 16)?;
    let mut out = Vec::with_capacity(count);
    for _ in 0..count {
        if b.get(at..at + 4)? != b"PK\x01\x02" {
            return None;
        }
        let method = u16_at(b, at + 10)?;
        let compressed = u32_at(b, at + 20)?;
        let name_len = u16_at(b, at + 28)?;
        let extra_len = u16_at(b, at + 30)?;
        let comment_len = u16_at(b, at + 32)?;
        let local_offset = u32_at(b, at + 42)?;
        let name = b.get(at + 46..at + 46 + name_len)?;
        out.push(Entry {
            name,
            method,
            compressed,
            local_offset,
        });
        at += 46 + name_len + extra_len + comment_len;
    }
    Some(out)
}

/// The (inflated) bytes of one entry, at most 1 MiB.
fn zip_read(b: &[u8], e: &Entry<'_>) -> Option<Vec<u8>> {
    let at = e.local_offset;
    if b.get(at..at + 4)? != b"PK\x03\x04" {
        return None;
    }
    let name_len = u16_at(b, at + 26)?;
    let extra_len = u16_at(b, at + 28)?;
    let start = at + 30 + name_len + extra_len;
    let data = b.get(start..start.checked_add(e.compressed)?)?;
    match e.method {
        0 => Some(data.to_vec()).filter(|d| d.len() <= 1 << 20),
        8 => miniz_oxide::inflate::decompress_to_vec_with_limit(data, 1 << 20).ok(),
        _ => None,
    }
}

fn office(data: &[u8]) -> Result<Kind, Refusal> {
    let entries = zip_entries(data).ok_or(Refusal::BadOffice)?;
    let has = |n: &[u8]| entries.iter().any(|e| e.name == n);
    if entries.iter().any(|e| {
        e.name.ends_with(b"vbaProject.bin")
            || e.name.ends_with(b".bin") && e.name.starts_with(b"word/vba")
    }) {
        return Err(Refusal::BadOffice);
    }
    let types = entries
        .iter()
        .find(|e| e.name == b"[Content_Types].xml")
        .and_then(|e| zip_read(data, e))
        .ok_or(Refusal::BadOffice)?;
    let types = String::from_utf8_lossy(&types);
    if types.contains("macroEnabled") {
        return Err(Refusal::BadOffice);
    }
    let declares = |part: &str, ct: &str| {
        types.contains(&format!("PartName=\"{part}\"")) && types.contains(ct)
    };
    if has(b"word/document.xml")
        && declares(
            "/word/document.xml",
            "application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml",
        )
    {
        Ok(Kind::Docx)
    } else if has(b"xl/workbook.xml")
        && declares(
            "/xl/workbook.xml",
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml",
        )
    {
        Ok(Kind::Xlsx)
    } else {
        Err(Refusal::BadOffice)
    }
}

#[cfg(test)]
pub mod tests {
    use super::*;

    /// A stored (uncompressed) zip of the given files, as office programs would write one.
    pub fn zip(files: &[(&str, &[u8])]) -> Vec<u8> {
        let mut out = Vec::new();
        let mut central = Vec::new();
        for (name, body) in files {
            let offset = out.len() as u32;
            let n = name.len() as u16;
            let size = body.len() as u32;
            out.extend_from_slice(b"PK\x03\x04");
            out.extend_from_slice(&[20, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
            out.extend_from_slice(&0u32.to_le_bytes()); // crc (not checked)
            out.extend_from_slice(&size.to_le_bytes());
            out.extend_from_slice(&size.to_le_bytes());
            out.extend_from_slice(&n.to_le_bytes());
            out.extend_from_slice(&0u16.to_le_bytes());
            out.extend_from_slice(name.as_bytes());
            out.extend_from_slice(body);
            central.extend_from_slice(b"PK\x01\x02");
            central.extend_from_slice(&[20, 0, 20, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
            central.extend_from_slice(&0u32.to_le_bytes());
            central.extend_from_slice(&size.to_le_bytes());
            central.extend_from_slice(&size.to_le_bytes());
            central.extend_from_slice(&n.to_le_bytes());
            central.extend_from_slice(&[0; 12]);
            central.extend_from_slice(&offset.to_le_bytes());
            central.extend_from_slice(name.as_bytes());
        }
        let cd_offset = out.len() as u32;
        let cd_len = central.len() as u32;
        out.extend_from_slice(&central);
        out.extend_from_slice(b"PK\x05\x06\0\0\0\0");
        let count = files.len() as u16;
        out.extend_from_slice(&count.to_le_bytes());
        out.extend_from_slice(&count.to_le_bytes());
        out.extend_from_slice(&cd_len.to_le_bytes());
        out.extend_from_slice(&cd_offset.to_le_bytes());
        out.extend_from_slice(&0u16.to_le_bytes());
        out
    }

    pub fn docx() -> Vec<u8> {
        zip(&[
            ("[Content_Types].xml", br#"<?xml version="1.0"?><Types><Override PartName="/word/document.xml" ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/></Types>"#),
            ("word/document.xml", b"<w:document/>"),
        ])
    }

    pub fn xlsx() -> Vec<u8> {
        zip(&[
            ("[Content_Types].xml", br#"<Types><Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/></Types>"#),
            ("xl/workbook.xml", b"<workbook/>"),
        ])
    }

    #[test]
    fn text_with_markup_is_refused() {
        for markup in [
            "<html><body>hi</body></html>",
            "<!DOCTYPE html>",
            "<?xml version=\"1.0\"?><a/>",
            "<svg xmlns=\"http://www.w3.org/2000/svg\" onload=\"alert(1)\"></svg>",
            "notes\n<script>alert(1)</script>",
            "a <b>bold</b> claim",
            "line<br/>break",
            "<!-- comment -->",
            "<img src=x onerror=alert(1)>",
        ] {
            assert_eq!(sniff(markup.as_bytes()), Err(Refusal::Markup), "{markup}");
        }
        for plain in [
            "Running balance 28 tablets short\r\n",
            "dose <5 mg, then > 10 mg",
            "a < b and c > d on another\nline",
            "x<y",
            "email me <at> nhs",
        ] {
            // "<at> nhs" is a tag-like word: refused is acceptable, but plain prose with
            // comparisons must pass.
            if plain.contains("<at>") {
                continue;
            }
            assert_eq!(sniff(plain.as_bytes()), Ok(Kind::Text), "{plain}");
        }
    }

    #[test]
    fn office_files_are_read_as_zips() {
        assert_eq!(sniff(&docx()), Ok(Kind::Docx));
        assert_eq!(sniff(&xlsx()), Ok(Kind::Xlsx));
        // The old substring test's false friends.
        assert_eq!(
            sniff(b"PK\x03\x04....[Content_Types].xml....word/document.xml"),
            Err(Refusal::BadOffice)
        );
        let no_types = zip(&[("word/document.xml", b"<w:document/>")]);
        assert_eq!(sniff(&no_types), Err(Refusal::BadOffice));
        let wrong_type = zip(&[
            ("[Content_Types].xml", br#"<Types><Override PartName="/word/document.xml" ContentType="text/html"/></Types>"#),
            ("word/document.xml", b"<html/>"),
        ]);
        assert_eq!(sniff(&wrong_type), Err(Refusal::BadOffice));
        let macros = zip(&[
            ("[Content_Types].xml", br#"<Types><Override PartName="/word/document.xml" ContentType="application/vnd.ms-word.document.macroEnabled.main+xml"/></Types>"#),
            ("word/document.xml", b"<w:document/>"),
            ("word/vbaProject.bin", b"\0\0"),
        ]);
        assert_eq!(sniff(&macros), Err(Refusal::BadOffice));
        assert_eq!(sniff(b"PK\x03\x04 just a zip"), Err(Refusal::BadOffice));
        // Deflated parts are inflated.
        let types = br#"<Types><Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/></Types>"#;
        let deflated = miniz_oxide::deflate::compress_to_vec(types, 6);
        let mut z = zip(&[
            ("[Content_Types].xml", &deflated),
            ("xl/workbook.xml", b"<w/>"),
        ]);
        // Mark the first entry as deflated (method 8) in both headers.
        z[8] = 8;
        let cd = z.windows(4).position(|w| w == b"PK\x01\x02").unwrap();
        z[cd + 10] = 8;
        assert_eq!(sniff(&z), Ok(Kind::Xlsx));
    }

    #[test]
    fn other_kinds_are_known_by_their_first_bytes() {
        assert_eq!(sniff(b"%PDF-1.7\n..."), Ok(Kind::Pdf));
        assert_eq!(sniff(&[0xFF, 0xD8, 0xFF, 0xE0]), Ok(Kind::Jpeg));
        assert_eq!(sniff(b"MZ\x90\x00\x03 executable"), Err(Refusal::Unknown));
        assert_eq!(sniff(&[0xC3, 0x28]), Err(Refusal::Unknown));
    }
}
