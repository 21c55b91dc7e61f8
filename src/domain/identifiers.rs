//! Identifiers of people named in a report, parsed at the edge ("parse, don't validate"):
//! NHS numbers, professional registrations, full names normalised for matching, and a scan of
//! free text for identifiers that belong in the protected identity fields (SPEC §4, §6;
//! DOMAIN.md §4.2).
//!
//! Pure: no I/O, nothing beyond std and serde. A value of [`NhsNumber`] or [`Registration`]
//! has been checked, so code below the handlers never re-checks a string. Their `Debug` output
//! hides the value, so a stray `{:?}` in a log line does not leak an identity.

use std::fmt;
use std::ops::Range;

use serde::{Deserialize, Serialize};

// ---------------------------------------------------------------------------------------------
// NHS number
// ---------------------------------------------------------------------------------------------

const NHS_EMPTY: &str = "Enter the NHS number";
const NHS_CHARACTERS: &str = "NHS number must only include numbers, spaces and hyphens";
const NHS_LENGTH: &str = "NHS number must be 10 digits, like 943 476 5919";
const NHS_INVALID: &str =
    "Enter a valid NHS number: it has 10 digits and the last one is a check digit";

/// A valid NHS number: 10 digits whose last is the modulus-11 check digit of the first nine.
///
/// All ten numbers made of one repeated digit (`000 000 0000` … `999 999 9999`) satisfy the
/// check digit (the weights 10…2 sum to 54 ≡ −1 mod 11, so the check of `ddddddddd` is `d`).
/// They are the usual placeholders typed for "unknown", and NHS data-quality checks commonly
/// reject them, so they are refused here too. Test-range numbers (`999 …`) are accepted, and
/// nothing here can tell whether a number was actually issued.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct NhsNumber(String);

impl NhsNumber {
    /// Parses what a person typed. Spaces and hyphens are ignored wherever they are (people
    /// write `943 476 5919`, `943-476-5919` or `9434765919`); anything else is refused.
    pub fn parse(input: &str) -> Result<NhsNumber, &'static str> {
        let input = input.trim();
        if input.is_empty() {
            return Err(NHS_EMPTY);
        }
        let mut digits = [0u8; 10];
        let mut n = 0usize;
        for c in input.chars() {
            match c {
                '0'..='9' => {
                    if let Some(slot) = digits.get_mut(n) {
                        *slot = c as u8 - b'0';
                    }
                    n += 1;
                }
                ' ' | '-' => {}
                _ => return Err(NHS_CHARACTERS),
            }
        }
        if n != 10 {
            return Err(NHS_LENGTH);
        }
        if !nhs_digits_valid(&digits) {
            return Err(NHS_INVALID);
        }
        Ok(NhsNumber(
            digits.iter().map(|d| char::from(b'0' + d)).collect(),
        ))
    }

    /// The 10 digits, without spaces: the form to store and to index.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// The check digit of the first nine digits: weights 10…2, `11 - sum mod 11`, where 11 means
/// 0 and 10 means that no valid number starts with these nine digits.
fn nhs_check_digit(first_nine: &[u8]) -> Option<u8> {
    let sum: u32 = first_nine
        .iter()
        .zip((2..=10u32).rev())
        .map(|(&x, w)| u32::from(x) * w)
        .sum();
    match 11 - sum % 11 {
        11 => Some(0),
        10 => None,
        c => u8::try_from(c).ok(),
    }
}

/// The check digit matches, and the number is not one digit repeated.
fn nhs_digits_valid(d: &[u8; 10]) -> bool {
    !d.iter().all(|&x| x == d[0]) && nhs_check_digit(&d[..9]) == Some(d[9])
}

impl fmt::Display for NhsNumber {
    /// `943 476 5919`: the 3-3-4 grouping people read back.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let s = &self.0;
        match (s.get(0..3), s.get(3..6), s.get(6..10)) {
            (Some(a), Some(b), Some(c)) => write!(f, "{a} {b} {c}"),
            _ => f.write_str(s),
        }
    }
}

impl fmt::Debug for NhsNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("NhsNumber(<redacted>)")
    }
}

impl TryFrom<String> for NhsNumber {
    type Error = &'static str;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        NhsNumber::parse(&value)
    }
}

impl From<NhsNumber> for String {
    fn from(value: NhsNumber) -> Self {
        value.0
    }
}

impl Serialize for NhsNumber {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for NhsNumber {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let s = String::deserialize(deserializer)?;
        NhsNumber::parse(&s).map_err(serde::de::Error::custom)
    }
}

// ---------------------------------------------------------------------------------------------
// Professional registers
// ---------------------------------------------------------------------------------------------

/// A UK professional register (SPEC §7.1 `register`: `gmc, gphc, nmc, hcpc, gdc`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Register {
    Gmc,
    Gphc,
    Nmc,
    Hcpc,
    Gdc,
}

impl Register {
    pub const ALL: &'static [Register] = &[
        Register::Gmc,
        Register::Gphc,
        Register::Nmc,
        Register::Hcpc,
        Register::Gdc,
    ];

    pub fn code(self) -> &'static str {
        match self {
            Register::Gmc => "gmc",
            Register::Gphc => "gphc",
            Register::Nmc => "nmc",
            Register::Hcpc => "hcpc",
            Register::Gdc => "gdc",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Register::Gmc => "General Medical Council (GMC)",
            Register::Gphc => "General Pharmaceutical Council (GPhC)",
            Register::Nmc => "Nursing and Midwifery Council (NMC)",
            Register::Hcpc => "Health and Care Professions Council (HCPC)",
            Register::Gdc => "General Dental Council (GDC)",
        }
    }

    /// The short name as the regulator writes it: `GMC`, `GPhC` ….
    pub fn acronym(self) -> &'static str {
        match self {
            Register::Gmc => "GMC",
            Register::Gphc => "GPhC",
            Register::Nmc => "NMC",
            Register::Hcpc => "HCPC",
            Register::Gdc => "GDC",
        }
    }

    /// Hint text for the number field, describing the expected format.
    pub fn hint(self) -> &'static str {
        match self {
            Register::Gmc => "7 digits, for example 1234567",
            Register::Gphc => {
                "7 digits, starting with 2 for a pharmacist or 5 for a pharmacy technician"
            }
            Register::Nmc => "2 numbers, a letter, 4 numbers and a letter, for example 71A2998E",
            Register::Hcpc => "the profession letters and 5 or 6 digits, for example PA12345",
            Register::Gdc => "up to 6 digits, for example 123456",
        }
    }

    pub fn parse(code: &str) -> Option<Register> {
        Register::ALL.iter().copied().find(|r| r.code() == code)
    }

    fn wrong_format(self) -> &'static str {
        match self {
            Register::Gmc => "GMC number must be 7 digits, for example 1234567",
            Register::Gphc => {
                "GPhC number must be 7 digits, starting with 2 for a pharmacist or 5 for a pharmacy technician"
            }
            Register::Nmc => {
                "NMC PIN must be 2 numbers, a letter, 4 numbers and a letter, for example 71A2998E"
            }
            Register::Hcpc => {
                "HCPC number must be the profession letters followed by 5 or 6 digits, for example PA12345"
            }
            Register::Gdc => "GDC number must be up to 6 digits, for example 123456",
        }
    }
}

impl fmt::Display for Register {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

/// The HCPC's profession codes, which start its registration numbers (`PA12345`,
/// `PYL123456`). [`Registration::parse`] accepts any 2 or 3 letters, so a profession added later
/// is not refused; the text scan uses this list to keep false alarms down.
#[rustfmt::skip]
pub const HCPC_PROFESSION_CODES: &[&str] = &[
    "AS", "BS", "CH", "CS", "DT", "HAD", "ODP", "OR", "OT", "PA", "PH", "PO", "PYL", "RA", "SL",
];

/// A registration with one of the professional regulators, in normal form (upper case, no
/// spaces or hyphens), checked against the register's number format.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct Registration {
    register: Register,
    number: String,
}

impl Registration {
    /// Normalises (trims, upper-cases, drops spaces and hyphens, and drops the register's own
    /// acronym if typed in front, as in `GMC 1234567`) and checks the format:
    /// GMC 7 digits; GPhC 7 digits starting with 2 (pharmacists) or 5 (pharmacy technicians);
    /// NMC `NNANNNNA`; HCPC 2–3 letters and 5–6 digits; GDC 1–6 digits.
    pub fn parse(register: Register, input: &str) -> Result<Registration, &'static str> {
        let mut number: String = input
            .trim()
            .chars()
            .filter(|c| !matches!(c, ' ' | '-'))
            .flat_map(char::to_uppercase)
            .collect();
        if number.is_empty() {
            return Err(match register {
                Register::Nmc => "Enter the NMC PIN",
                Register::Gmc => "Enter the GMC number",
                Register::Gphc => "Enter the GPhC number",
                Register::Hcpc => "Enter the HCPC number",
                Register::Gdc => "Enter the GDC number",
            });
        }
        let acronym = register.acronym().to_uppercase();
        if number.len() > acronym.len() && number.starts_with(&acronym) {
            number.replace_range(..acronym.len(), "");
        }
        let ok = match register {
            Register::Gmc => all_digits(&number) && number.len() == 7,
            Register::Gphc => {
                all_digits(&number)
                    && number.len() == 7
                    && (number.starts_with('2') || number.starts_with('5'))
            }
            Register::Nmc => is_nmc_pin(&number),
            Register::Hcpc => is_hcpc_number(&number),
            Register::Gdc => all_digits(&number) && (1..=6).contains(&number.len()),
        };
        if ok {
            Ok(Registration { register, number })
        } else {
            Err(register.wrong_format())
        }
    }

    pub fn register(&self) -> Register {
        self.register
    }

    /// The number in normal form, e.g. `1234567`, `71A2998E`, `PA12345`.
    pub fn number(&self) -> &str {
        &self.number
    }
}

impl fmt::Display for Registration {
    /// `GMC 1234567`, `GPhC 2012345`, `NMC 71A2998E`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.register.acronym(), self.number)
    }
}

impl fmt::Debug for Registration {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Registration")
            .field("register", &self.register)
            .field("number", &"<redacted>")
            .finish()
    }
}

#[derive(Serialize, Deserialize)]
struct RegistrationWire {
    register: Register,
    number: String,
}

impl Serialize for Registration {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        RegistrationWire {
            register: self.register,
            number: self.number.clone(),
        }
        .serialize(serializer)
    }
}

impl<'de> Deserialize<'de> for Registration {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let wire = RegistrationWire::deserialize(deserializer)?;
        Registration::parse(wire.register, &wire.number).map_err(serde::de::Error::custom)
    }
}

fn all_digits(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit())
}

/// `NNANNNNA`, e.g. `71A2998E`. Either case is accepted here; [`Registration::parse`]
/// upper-cases first.
fn is_nmc_pin(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() == 8
        && b[..2].iter().all(u8::is_ascii_digit)
        && b[2].is_ascii_alphabetic()
        && b[3..7].iter().all(u8::is_ascii_digit)
        && b[7].is_ascii_alphabetic()
}

/// 2–3 letters then 5–6 digits (`PA12345`, `PH123456`, `ODP12345`, `PYL123456`).
fn is_hcpc_number(s: &str) -> bool {
    let letters = s.bytes().take_while(u8::is_ascii_alphabetic).count();
    let rest = s.get(letters..).unwrap_or("");
    (2..=3).contains(&letters) && all_digits(rest) && (5..=6).contains(&rest.len())
}

// ---------------------------------------------------------------------------------------------
// Names
// ---------------------------------------------------------------------------------------------

/// A prescriber code in normal form (spaces and hyphens dropped, upper case): 3 to 20 letters
/// and numbers.
pub fn normalise_prescriber_code(input: &str) -> Result<String, &'static str> {
    let norm: String = input
        .chars()
        .filter(|c| !c.is_whitespace() && *c != '-')
        .collect::<String>()
        .to_uppercase();
    if norm.len() > 20 || norm.len() < 3 || !norm.chars().all(|c| c.is_ascii_alphanumeric()) {
        Err("Prescriber code must be 3 to 20 letters and numbers")
    } else {
        Ok(norm)
    }
}

/// Titles dropped from the start of a name before matching.
#[rustfmt::skip]
const TITLES: &[&str] = &[
    "dr", "doctor", "mr", "mrs", "ms", "miss", "mx", "prof", "professor", "sir", "dame", "rev",
    "revd", "reverend",
];

/// A full name in the form used for matching (the blind index over name + date of birth):
///
/// - lower case, with accents and other diacritics removed from Latin letters (`é` → `e`,
///   `ø` → `o`, `ß` → `ss`, `æ` → `ae` …);
/// - apostrophes removed, so `O'Brien`, `O’Brien` and `OBrien` match;
/// - hyphens, dots, commas and any other punctuation become a space, so `Smith-Jones` and
///   `Smith Jones` match, and so do `J.Smith` and `J Smith`;
/// - titles at the start (`Dr`, `Mrs`, `Prof Sir` …) removed, keeping at least one word;
/// - runs of white space collapsed to one space, none at either end.
///
/// Word order is kept: `Smith John` does not match `John Smith`. Sorting the words would also
/// merge different people (`John Paul` and `Paul John`), and matching must never depend on a
/// guess. Changing any rule here changes every stored index, so it needs a re-index.
pub fn normalise_name(name: &str) -> String {
    let mut folded = String::with_capacity(name.len());
    for c in name.chars() {
        if matches!(
            c,
            '\'' | '\u{2018}' | '\u{2019}' | '\u{02BC}' | '`' | '\u{00B4}'
        ) {
            continue;
        }
        for lower in c.to_lowercase() {
            // Combining accents (from decomposed input, or from lower-casing `İ`) are dropped.
            if ('\u{0300}'..='\u{036F}').contains(&lower) {
                continue;
            }
            match fold_latin(lower) {
                Some(ascii) => folded.push_str(ascii),
                None if lower.is_alphanumeric() => folded.push(lower),
                None => folded.push(' '),
            }
        }
    }
    let words: Vec<&str> = folded.split_whitespace().collect();
    let titles = words
        .iter()
        .take_while(|w| TITLES.contains(w))
        .count()
        .min(words.len().saturating_sub(1));
    words.get(titles..).unwrap_or(&[]).join(" ")
}

/// Lower-case Latin letters with diacritics, and ligatures, as plain ASCII.
fn fold_latin(c: char) -> Option<&'static str> {
    Some(match c {
        'à' | 'á' | 'â' | 'ã' | 'ä' | 'å' | 'ā' | 'ă' | 'ą' => "a",
        'æ' => "ae",
        'ç' | 'ć' | 'ĉ' | 'ċ' | 'č' => "c",
        'ď' | 'đ' | 'ð' => "d",
        'è' | 'é' | 'ê' | 'ë' | 'ē' | 'ĕ' | 'ė' | 'ę' | 'ě' => "e",
        'ĝ' | 'ğ' | 'ġ' | 'ģ' => "g",
        'ĥ' | 'ħ' => "h",
        'ì' | 'í' | 'î' | 'ï' | 'ĩ' | 'ī' | 'ĭ' | 'į' | 'ı' => "i",
        'ĵ' => "j",
        'ķ' => "k",
        'ĺ' | 'ļ' | 'ľ' | 'ŀ' | 'ł' => "l",
        'ñ' | 'ń' | 'ņ' | 'ň' => "n",
        'ò' | 'ó' | 'ô' | 'õ' | 'ö' | 'ø' | 'ō' | 'ŏ' | 'ő' => "o",
        'œ' => "oe",
        'ŕ' | 'ŗ' | 'ř' => "r",
        'ś' | 'ŝ' | 'ş' | 'š' | 'ș' => "s",
        'ß' => "ss",
        'ţ' | 'ť' | 'ŧ' | 'ț' => "t",
        'þ' => "th",
        'ù' | 'ú' | 'û' | 'ü' | 'ũ' | 'ū' | 'ŭ' | 'ů' | 'ű' | 'ų' => "u",
        'ŵ' => "w",
        'ý' | 'ÿ' | 'ŷ' => "y",
        'ź' | 'ż' | 'ž' => "z",
        _ => return None,
    })
}

// ---------------------------------------------------------------------------------------------
// Identifiers in free text
// ---------------------------------------------------------------------------------------------

/// What [`find_identifiers_in_text`] found.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum IdentifierKind {
    NhsNumber,
    Date,
    RegistrationNumber,
}

impl IdentifierKind {
    /// `nhs_number`, `date`, `registration_number`.
    pub fn code(self) -> &'static str {
        match self {
            IdentifierKind::NhsNumber => "nhs_number",
            IdentifierKind::Date => "date",
            IdentifierKind::RegistrationNumber => "registration_number",
        }
    }
}

/// An identifier-like stretch of a text.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Found {
    pub kind: IdentifierKind,
    /// Byte range of the identifier itself in the scanned text (for a labelled registration
    /// number, the number without its label: `1234567` in `GMC no. 1234567`).
    pub range: Range<usize>,
    /// True when the words just before it say what it is (`NHS no`, `DOB`, `born`,
    /// `GMC number` …): the page can word its warning more firmly.
    pub labelled: bool,
}

/// Finds what looks like an NHS number, a date (of birth, perhaps) or a professional
/// registration number in free text, for the "your description seems to contain …" warning.
///
/// - NHS numbers: 10 digits, together or grouped 3-3-4 by single spaces or hyphens, that pass
///   the check digit (and are not one digit repeated).
/// - Dates: `31/01/1970`, `31.1.70`, `31-01-1970`, `1970-01-31`, `31 Jan 1970`,
///   `31st of January, 1970`, `January 31, 1970`, checked against the calendar. Every date
///   is reported except expiry dates and version numbers (`exp 31/03/2027`, `version 2.3.26`);
///   `labelled` marks those introduced as a date of birth.
/// - Registration numbers: NMC PINs (`71A2998E`); HCPC numbers with a known profession code
///   (`PA12345`, `PH 123456`); any number of up to 8 digits right after a register's name
///   (`GMC 1234567`, `GDC no: 81234`); and a 7-digit number standing alone (GMC and GPhC
///   numbers are 7 digits) unless it is a quantity (`1000000 units`), money, part of a longer
///   figure or reference (`1,234,567`, `CRI/1234567/26`) or follows words such as `ref`,
///   `batch`, `invoice` or `phone`.
///
/// Results are in text order and never overlap.
pub fn find_identifiers_in_text(text: &str) -> Vec<Found> {
    let toks = tokens(text);
    let mut scan = Scan {
        text,
        toks: &toks,
        found: Vec::new(),
    };
    scan.nhs_numbers();
    scan.dates();
    scan.registrations();
    let mut found = scan.found;
    found.sort_by_key(|f| f.range.start);
    found
}

/// A maximal run of letters and digits.
#[derive(Clone, Copy, Debug)]
struct Tok<'a> {
    start: usize,
    end: usize,
    s: &'a str,
}

impl Tok<'_> {
    fn digits(&self) -> bool {
        all_digits(self.s)
    }
    fn digits_len(&self, lens: Range<usize>) -> bool {
        self.digits() && lens.contains(&self.s.len())
    }
    fn lower(&self) -> String {
        self.s.to_lowercase()
    }
}

fn tokens(text: &str) -> Vec<Tok<'_>> {
    let mut out = Vec::new();
    let mut start: Option<usize> = None;
    for (i, c) in text.char_indices() {
        match (c.is_alphanumeric(), start) {
            (true, None) => start = Some(i),
            (false, Some(s)) => {
                out.push(Tok {
                    start: s,
                    end: i,
                    s: text.get(s..i).unwrap_or(""),
                });
                start = None;
            }
            _ => {}
        }
    }
    if let Some(s) = start {
        out.push(Tok {
            start: s,
            end: text.len(),
            s: text.get(s..).unwrap_or(""),
        });
    }
    out
}

const MONTHS: [&str; 12] = [
    "january",
    "february",
    "march",
    "april",
    "may",
    "june",
    "july",
    "august",
    "september",
    "october",
    "november",
    "december",
];

/// Words after a number that make it a quantity, a dose or a duration, not an identifier.
#[rustfmt::skip]
const UNITS: &[&str] = &[
    "tablet", "tab", "capsule", "cap", "pill", "lozenge", "suppository", "suppositories", "mg", "g",
    "kg", "mcg", "microgram", "ug", "µg", "ng", "ml", "l", "litre", "liter", "patch", "patches",
    "ampoule", "amp", "vial", "unit", "iu", "dose", "sachet", "bottle", "box", "boxes", "pack",
    "packet", "strip", "blister", "item", "x", "hour", "hr", "h", "day", "week", "month", "year",
    "yr", "minute", "min", "second", "sec", "mmol", "mm", "cm", "m", "km", "mile", "pound", "gbp",
    "p", "pence", "percent", "per", "people", "patient",
];

/// Words shortly before a 7-digit number that make it some other reference.
#[rustfmt::skip]
const OTHER_REFERENCES: &[&str] = &[
    "ref", "reference", "crime", "cri", "cad", "incident", "datix", "lfpse", "batch", "lot",
    "order", "invoice", "po", "receipt", "account", "acct", "sort", "serial", "sku", "barcode",
    "tel", "telephone", "phone", "mobile", "fax", "case", "log", "job", "ticket", "claim", "policy",
    "ods", "urn", "ni", "passport", "licence", "license", "ward", "bed", "room",
];

/// Words just before a date that make it something other than a date of birth: an expiry
/// date (common in CD stock incidents) or a version number.
#[rustfmt::skip]
const NOT_BIRTH_DATES: &[&str] = &[
    "exp", "expiry", "expires", "expired", "expiring", "bbe", "version", "ver", "v", "issue",
    "section", "para", "paragraph", "clause",
];

/// Words that may sit between a register's name and its number (`GMC no. 1234567`).
#[rustfmt::skip]
const NUMBER_FILLERS: &[&str] = &[
    "no", "number", "num", "nbr", "reg", "registration", "registered", "pin", "id", "is", "code",
];

/// What the words before a number say it is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Label {
    /// `GMC`, `GPhC no.` …
    Register(Register),
    /// `registration number`, `reg no`, `PIN`, without saying which register.
    Registration,
}

struct Scan<'t, 'k> {
    text: &'t str,
    toks: &'k [Tok<'t>],
    found: Vec<Found>,
}

impl Scan<'_, '_> {
    fn tok(&self, i: usize) -> Option<Tok<'_>> {
        self.toks.get(i).copied()
    }

    fn gap(&self, a: usize, b: usize) -> &str {
        match (self.toks.get(a), self.toks.get(b)) {
            (Some(x), Some(y)) => self.text.get(x.end..y.start).unwrap_or(""),
            _ => "",
        }
    }

    fn free(&self, r: &Range<usize>) -> bool {
        self.found
            .iter()
            .all(|f| f.range.end <= r.start || r.end <= f.range.start)
    }

    fn push(&mut self, kind: IdentifierKind, range: Range<usize>, labelled: bool) {
        if self.free(&range) {
            self.found.push(Found {
                kind,
                range,
                labelled,
            });
        }
    }

    fn char_before(&self, at: usize) -> Option<char> {
        self.text.get(..at).and_then(|s| s.chars().next_back())
    }

    fn char_after(&self, at: usize) -> Option<char> {
        self.text.get(at..).and_then(|s| s.chars().next())
    }

    /// False when the bytes `range` continue a longer figure or reference on either side:
    /// `1.5`, `1,234`, `12/3456789`, `ABC/1234567`, `1234567-8`.
    fn isolated(&self, range: &Range<usize>) -> bool {
        let before = self.char_before(range.start);
        let before2 = before.and_then(|c| self.char_before(range.start - c.len_utf8()));
        let after = self.char_after(range.end);
        let after2 = after.and_then(|c| self.char_after(range.end + c.len_utf8()));
        let joins_before = match (before, before2) {
            (Some('/' | '\\' | '_'), Some(p)) => p.is_alphanumeric(),
            (Some('.' | ',' | ':' | '-' | '+'), Some(p)) => p.is_ascii_digit(),
            (Some(c), _) => c.is_alphanumeric(),
            _ => false,
        };
        let joins_after = match (after, after2) {
            (Some('/' | '\\' | '_'), Some(n)) => n.is_alphanumeric(),
            (Some('.' | ',' | ':' | '-'), Some(n)) => n.is_ascii_digit(),
            (Some('%'), _) => true,
            (Some(c), _) => c.is_alphanumeric(),
            _ => false,
        };
        !joins_before && !joins_after
    }

    /// True when the token after `last` is a unit (`28 tablets`, `5 mg`), or currency precedes
    /// `first` (`£1234567`).
    fn quantity(&self, first: usize, last: usize) -> bool {
        let unit_after = self.tok(last + 1).is_some_and(|next| {
            self.gap(last, last + 1).trim().is_empty() && is_unit(&next.lower())
        });
        let money_before = self.tok(first).is_some_and(|t| {
            self.text
                .get(..t.start)
                .and_then(|s| s.trim_end().chars().next_back())
                .is_some_and(|c| matches!(c, '£' | '$' | '€'))
        });
        unit_after || money_before
    }

    /// True when the (up to) three words before token `i` contain one of `cues`, each a
    /// sequence of lower-case words (`["d", "o", "b"]` matches `D.O.B.`).
    fn cue_before(&self, i: usize, cues: &[&[&str]]) -> bool {
        let words: Vec<String> = (i.saturating_sub(3)..i)
            .filter_map(|j| self.tok(j))
            .map(|t| t.lower())
            .collect();
        cues.iter().any(|cue| {
            !cue.is_empty()
                && words
                    .windows(cue.len())
                    .any(|w| w.iter().zip(cue.iter()).all(|(a, b)| a == b))
        })
    }

    fn nhs_numbers(&mut self) {
        for i in 0..self.toks.len() {
            let Some(t) = self.tok(i) else { continue };
            let mut candidate = None;
            if t.digits_len(3..4)
                && let (Some(b), Some(c)) = (self.tok(i + 1), self.tok(i + 2))
            {
                let (g1, g2) = (self.gap(i, i + 1), self.gap(i + 1, i + 2));
                if b.digits_len(3..4) && c.digits_len(4..5) && (g1 == " " || g1 == "-") && g1 == g2
                {
                    let digits = format!("{}{}{}", t.s, b.s, c.s);
                    candidate = Some((t.start..c.end, digits, i + 2));
                }
            }
            if candidate.is_none() && t.digits_len(10..11) {
                candidate = Some((t.start..t.end, t.s.to_string(), i));
            }
            let Some((range, digits, last)) = candidate else {
                continue;
            };
            if self.isolated(&range) && !self.quantity(i, last) && NhsNumber::parse(&digits).is_ok()
            {
                let labelled = self.cue_before(i, &[&["nhs"]]);
                self.push(IdentifierKind::NhsNumber, range, labelled);
            }
        }
    }

    fn dates(&mut self) {
        for i in 0..self.toks.len() {
            if let Some((range, last)) = self
                .numeric_date(i)
                .or_else(|| self.day_month_year(i))
                .or_else(|| self.month_day_year(i))
                && self.isolated(&range)
                && !self.quantity(i, last)
                && !self.words_before(i, 2, NOT_BIRTH_DATES)
            {
                let labelled = self.cue_before(
                    i,
                    &[
                        &["dob"],
                        &["d", "o", "b"],
                        &["born"],
                        &["birth"],
                        &["birthday"],
                    ],
                );
                self.push(IdentifierKind::Date, range, labelled);
            }
        }
    }

    /// `d/m/y`, `d.m.y`, `d-m-y` (two- or four-digit year; day-first, or month-first when only
    /// that reading is a real date) and `y-m-d`, `y/m/d`.
    fn numeric_date(&self, i: usize) -> Option<(Range<usize>, usize)> {
        let (a, b, c) = (self.tok(i)?, self.tok(i + 1)?, self.tok(i + 2)?);
        let (g1, g2) = (self.gap(i, i + 1), self.gap(i + 1, i + 2));
        if g1 != g2 || !matches!(g1, "/" | "." | "-") {
            return None;
        }
        let n = |t: Tok<'_>| t.s.parse::<u32>().ok();
        let ok = if a.digits_len(4..5) && b.digits_len(1..3) && c.digits_len(1..3) && g1 != "." {
            valid_date(n(c)?, n(b)?, n(a)?)
        } else if a.digits_len(1..3)
            && b.digits_len(1..3)
            && (c.digits_len(2..3) || c.digits_len(4..5))
        {
            let year = n(c)?;
            valid_date(n(a)?, n(b)?, year) || valid_date(n(b)?, n(a)?, year)
        } else {
            false
        };
        ok.then_some((a.start..c.end, i + 2))
    }

    /// `31 Jan 1970`, `31st January 1970`, `31st of Jan. 1970`, `31 January, 1970`.
    fn day_month_year(&self, i: usize) -> Option<(Range<usize>, usize)> {
        let day = self.tok(i).and_then(|t| day_number(t.s))?;
        let mut j = i + 1;
        if self.tok(j)?.lower() == "of" && self.gap(i, j).trim().is_empty() {
            j += 1;
        }
        if !short_gap(self.gap(j - 1, j)) {
            return None;
        }
        let month = month_number(&self.tok(j)?.lower())?;
        let year_tok = self.tok(j + 1)?;
        if !short_gap(self.gap(j, j + 1)) || !year_tok.digits_len(4..5) {
            return None;
        }
        let year = year_tok.s.parse().ok()?;
        let start = self.tok(i)?.start;
        valid_date(day, month, year).then_some((start..year_tok.end, j + 1))
    }

    /// `January 31, 1970`, `Jan 31st 1970`.
    fn month_day_year(&self, i: usize) -> Option<(Range<usize>, usize)> {
        let month = month_number(&self.tok(i)?.lower())?;
        let day = self.tok(i + 1).and_then(|t| day_number(t.s))?;
        let year_tok = self.tok(i + 2)?;
        if !short_gap(self.gap(i, i + 1))
            || !short_gap(self.gap(i + 1, i + 2))
            || !year_tok.digits_len(4..5)
        {
            return None;
        }
        let year = year_tok.s.parse().ok()?;
        let start = self.tok(i)?.start;
        valid_date(day, month, year).then_some((start..year_tok.end, i + 2))
    }

    fn registrations(&mut self) {
        for i in 0..self.toks.len() {
            let Some(t) = self.tok(i) else { continue };
            let upper = t.s.to_uppercase();

            // NMC PIN, in one piece.
            if is_nmc_pin(&upper) && self.isolated(&(t.start..t.end)) {
                let labelled = self.register_label_before(i).is_some();
                self.push(IdentifierKind::RegistrationNumber, t.start..t.end, labelled);
                continue;
            }

            // HCPC: a known profession code in capitals, joined to its digits or one space apart.
            if is_hcpc_number(&upper) && t.s == upper {
                let letters = upper.bytes().take_while(u8::is_ascii_alphabetic).count();
                if upper
                    .get(..letters)
                    .is_some_and(|p| HCPC_PROFESSION_CODES.contains(&p))
                    && self.isolated(&(t.start..t.end))
                {
                    self.push(IdentifierKind::RegistrationNumber, t.start..t.end, true);
                    continue;
                }
            }
            if HCPC_PROFESSION_CODES.contains(&t.s)
                && let Some(n) = self.tok(i + 1)
                && self.gap(i, i + 1) == " "
                && n.digits_len(5..7)
                && self.isolated(&(t.start..n.end))
                && !self.quantity(i + 1, i + 1)
            {
                self.push(IdentifierKind::RegistrationNumber, t.start..n.end, true);
                continue;
            }

            if !t.digits() {
                continue;
            }
            let range = t.start..t.end;
            if !self.isolated(&range) || self.quantity(i, i) {
                continue;
            }
            // A number right after a register's name (or "registration number").
            if let Some(label) = self.register_label_before(i) {
                let fits = match label {
                    Label::Register(Register::Gdc) => t.s.len() <= 6,
                    Label::Register(_) | Label::Registration => (4..=8).contains(&t.s.len()),
                };
                if fits {
                    self.push(IdentifierKind::RegistrationNumber, range, true);
                }
                continue;
            }
            // A 7-digit number on its own: a GMC or GPhC number, unless the words before it
            // say it is some other reference.
            if t.s.len() == 7 && !self.other_reference_before(i) {
                self.push(IdentifierKind::RegistrationNumber, range, false);
            }
        }
    }

    /// Looks back from token `i`, over at most two filler words (`no`, `number` …), for a
    /// register's name or a bare `registration number` / `reg no` / `PIN`.
    fn register_label_before(&self, i: usize) -> Option<Label> {
        let mut j = i;
        let mut fillers = 0;
        let mut generic = false;
        while j > 0 {
            let gap = self.gap(j - 1, j);
            if gap.len() > 4
                || gap
                    .chars()
                    .any(|c| !matches!(c, ' ' | ':' | '.' | '#' | '-' | '(' | ')'))
            {
                break;
            }
            let word = self.tok(j - 1)?.lower();
            let register = match word.as_str() {
                "gmc" => Some(Register::Gmc),
                "gphc" => Some(Register::Gphc),
                "nmc" => Some(Register::Nmc),
                "hcpc" => Some(Register::Hcpc),
                "gdc" => Some(Register::Gdc),
                _ => None,
            };
            if let Some(register) = register {
                return Some(Label::Register(register));
            }
            if !NUMBER_FILLERS.contains(&word.as_str()) || fillers == 2 {
                break;
            }
            generic |= matches!(word.as_str(), "registration" | "reg" | "pin" | "registered");
            fillers += 1;
            j -= 1;
        }
        generic.then_some(Label::Registration)
    }

    fn other_reference_before(&self, i: usize) -> bool {
        self.words_before(i, 3, OTHER_REFERENCES)
    }

    /// True when one of the `n` words before token `i` is in `words`.
    fn words_before(&self, i: usize, n: usize, words: &[&str]) -> bool {
        (i.saturating_sub(n)..i)
            .filter_map(|j| self.tok(j))
            .any(|t| words.contains(&t.lower().as_str()))
    }
}

fn is_unit(word: &str) -> bool {
    UNITS.contains(&word) || word.strip_suffix('s').is_some_and(|w| UNITS.contains(&w))
}

/// A gap between the words of a written date: spaces with at most a comma or a full stop.
fn short_gap(gap: &str) -> bool {
    !gap.is_empty()
        && gap.len() <= 3
        && gap.chars().any(char::is_whitespace)
        && gap
            .chars()
            .all(|c| c.is_whitespace() || c == ',' || c == '.')
}

/// A month's full name, its first three letters, or `sept`.
fn month_number(word: &str) -> Option<u32> {
    let index = MONTHS.iter().position(|m| {
        *m == word
            || (word.len() == 3 && m.starts_with(word))
            || (word == "sept" && *m == "september")
    })?;
    u32::try_from(index + 1).ok()
}

/// `1`, `31`, `1st`, `22nd`, `3rd`, `31st` (any case).
fn day_number(s: &str) -> Option<u32> {
    let digits = s.bytes().take_while(u8::is_ascii_digit).count();
    let (num, suffix) = s.split_at_checked(digits)?;
    if !(1..=2).contains(&num.len())
        || !["", "st", "nd", "rd", "th"].contains(&suffix.to_lowercase().as_str())
    {
        return None;
    }
    num.parse().ok()
}

/// A real calendar date; a two-digit year is any year ending in those digits, a four-digit
/// one must be 1900–2099.
fn valid_date(day: u32, month: u32, year: u32) -> bool {
    let full_year = match year {
        0..=99 => 2000 + year, // only the leap-year rule depends on it, and 19yy ≡ 20yy there
        1900..=2099 => year,
        _ => return false,
    };
    let leap = full_year % 4 == 0 && (full_year % 100 != 0 || full_year % 400 == 0);
    let days = match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if leap => 29,
        2 => 28,
        _ => return false,
    };
    (1..=days).contains(&day)
}

#[cfg(test)]
mod tests {
    use super::*;

    // Valid numbers, each worked out by hand from the modulus-11 rule.
    const VALID: &[&str] = &[
        "9434765919", // the NHS's own documentation example
        "4010232137",
        "4505577104",
        "6400000003",
        "9990000018", // a test-range number
        "4000000020", // 11 - (sum mod 11) = 11, so the check digit is 0
    ];

    #[test]
    fn nhs_numbers_with_the_right_check_digit_parse() {
        for n in VALID {
            assert_eq!(
                NhsNumber::parse(n).map(|x| x.as_str().to_string()),
                Ok(n.to_string())
            );
        }
    }

    #[test]
    fn nhs_numbers_may_be_typed_with_spaces_or_hyphens() {
        for typed in [
            "943 476 5919",
            "943-476-5919",
            "  9434765919 ",
            "943 476-5919",
            "9434 765 919",
        ] {
            let n = NhsNumber::parse(typed).unwrap();
            assert_eq!(n.as_str(), "9434765919", "{typed}");
            assert_eq!(n.to_string(), "943 476 5919");
        }
    }

    #[test]
    fn a_wrong_check_digit_is_refused() {
        assert_eq!(NhsNumber::parse("943 476 5918"), Err(NHS_INVALID));
        assert_eq!(NhsNumber::parse("943 476 5910"), Err(NHS_INVALID));
        // The NHS design system's hint example is not itself a valid number (its check
        // digit would be 7).
        assert_eq!(NhsNumber::parse("485 777 3456"), Err(NHS_INVALID));
        assert!(NhsNumber::parse("485 777 3457").is_ok());
        // A transposition, the error the check digit exists to catch.
        assert_eq!(NhsNumber::parse("934 476 5919"), Err(NHS_INVALID));
    }

    #[test]
    fn a_check_digit_of_ten_means_no_valid_number() {
        // 11 - (sum of 400000008 weighted mod 11) = 10: no final digit makes it valid.
        for last in 0..=9 {
            assert_eq!(
                NhsNumber::parse(&format!("400000008{last}")),
                Err(NHS_INVALID)
            );
        }
    }

    #[test]
    fn repeated_digits_pass_the_check_but_are_refused() {
        for d in 0..=9u8 {
            // Weights 10..2 sum to 54, which is -1 mod 11, so the check digit of ddddddddd is d.
            assert_eq!(nhs_check_digit(&[d; 9]), Some(d));
            let n = d.to_string().repeat(10);
            assert_eq!(NhsNumber::parse(&n), Err(NHS_INVALID), "{n}");
        }
    }

    #[test]
    fn nhs_number_input_errors_say_what_to_fix() {
        assert_eq!(NhsNumber::parse(""), Err(NHS_EMPTY));
        assert_eq!(NhsNumber::parse("   "), Err(NHS_EMPTY));
        assert_eq!(NhsNumber::parse("943 476 591"), Err(NHS_LENGTH));
        assert_eq!(NhsNumber::parse("943 476 59199"), Err(NHS_LENGTH));
        assert_eq!(NhsNumber::parse("943.476.5919"), Err(NHS_CHARACTERS));
        assert_eq!(NhsNumber::parse("NHS 9434765919"), Err(NHS_CHARACTERS));
        assert_eq!(
            NhsNumber::parse("９４３４７６５９１９"),
            Err(NHS_CHARACTERS)
        );
    }

    #[test]
    fn nhs_numbers_travel_as_ten_digits_and_are_checked_on_the_way_in() {
        let n = NhsNumber::parse("943 476 5919").unwrap();
        assert_eq!(serde_json::to_string(&n).unwrap(), "\"9434765919\"");
        let back: NhsNumber = serde_json::from_str("\"943 476 5919\"").unwrap();
        assert_eq!(back, n);
        assert!(serde_json::from_str::<NhsNumber>("\"9434765918\"").is_err());
        assert_eq!(format!("{n:?}"), "NhsNumber(<redacted>)");
        assert_eq!(String::from(n), "9434765919");
    }

    #[test]
    fn registers_have_codes_and_labels() {
        assert_eq!(Register::ALL.len(), 5);
        for r in Register::ALL {
            assert_eq!(Register::parse(r.code()), Some(*r));
            assert_eq!(
                serde_json::to_string(r).unwrap(),
                format!("\"{}\"", r.code())
            );
        }
        assert_eq!(Register::Gphc.code(), "gphc");
        assert_eq!(Register::Gmc.label(), "General Medical Council (GMC)");
        assert_eq!(
            Register::Gphc.label(),
            "General Pharmaceutical Council (GPhC)"
        );
        assert_eq!(Register::parse("GMC"), None);
    }

    fn reg(r: Register, s: &str) -> Result<String, &'static str> {
        Registration::parse(r, s).map(|x| x.number().to_string())
    }

    #[test]
    fn gmc_numbers_are_seven_digits() {
        assert_eq!(reg(Register::Gmc, "1234567"), Ok("1234567".into()));
        assert_eq!(reg(Register::Gmc, " 123 4567 "), Ok("1234567".into()));
        assert_eq!(reg(Register::Gmc, "GMC 1234567"), Ok("1234567".into()));
        assert_eq!(reg(Register::Gmc, "gmc-1234567"), Ok("1234567".into()));
        for bad in ["123456", "12345678", "123456A", "L123456"] {
            assert_eq!(
                reg(Register::Gmc, bad),
                Err("GMC number must be 7 digits, for example 1234567"),
                "{bad}"
            );
        }
        assert_eq!(reg(Register::Gmc, "  "), Err("Enter the GMC number"));
    }

    #[test]
    fn gphc_numbers_are_seven_digits_starting_with_2_or_5() {
        assert_eq!(reg(Register::Gphc, "2012345"), Ok("2012345".into()));
        assert_eq!(reg(Register::Gphc, "5012345"), Ok("5012345".into())); // pharmacy technician
        assert_eq!(reg(Register::Gphc, "GPhC 2012345"), Ok("2012345".into()));
        for bad in ["1012345", "9012345", "201234", "20123456"] {
            assert!(
                reg(Register::Gphc, bad)
                    .is_err_and(|e| e.starts_with("GPhC number must be 7 digits")),
                "{bad}"
            );
        }
    }

    #[test]
    fn nmc_pins_are_two_digits_a_letter_four_digits_and_a_letter() {
        assert_eq!(reg(Register::Nmc, "71A2998E"), Ok("71A2998E".into()));
        assert_eq!(reg(Register::Nmc, "71a2998e"), Ok("71A2998E".into()));
        assert_eq!(reg(Register::Nmc, "71A 2998E"), Ok("71A2998E".into()));
        assert_eq!(reg(Register::Nmc, "NMC 71A2998E"), Ok("71A2998E".into()));
        for bad in [
            "712998E",
            "71A2998",
            "71A29981",
            "A1A2998E",
            "71AB998E",
            "71A2998EE",
        ] {
            assert!(
                reg(Register::Nmc, bad).is_err_and(|e| e.starts_with("NMC PIN must be")),
                "{bad}"
            );
        }
        assert_eq!(reg(Register::Nmc, ""), Err("Enter the NMC PIN"));
    }

    #[test]
    fn hcpc_numbers_are_profession_letters_and_five_or_six_digits() {
        assert_eq!(reg(Register::Hcpc, "PA12345"), Ok("PA12345".into()));
        assert_eq!(reg(Register::Hcpc, "ph 123456"), Ok("PH123456".into()));
        assert_eq!(reg(Register::Hcpc, "ODP12345"), Ok("ODP12345".into()));
        assert_eq!(reg(Register::Hcpc, "PYL123456"), Ok("PYL123456".into()));
        assert_eq!(reg(Register::Hcpc, "HAD01234"), Ok("HAD01234".into()));
        assert_eq!(reg(Register::Hcpc, "HCPC PA12345"), Ok("PA12345".into()));
        for bad in [
            "P12345",
            "PA1234",
            "PA1234567",
            "ABCD12345",
            "12345",
            "PA12345X",
        ] {
            assert!(
                reg(Register::Hcpc, bad).is_err_and(|e| e.starts_with("HCPC number must")),
                "{bad}"
            );
        }
    }

    #[test]
    fn gdc_numbers_are_up_to_six_digits() {
        assert_eq!(reg(Register::Gdc, "81234"), Ok("81234".into()));
        assert_eq!(reg(Register::Gdc, "1"), Ok("1".into()));
        assert_eq!(reg(Register::Gdc, "GDC 123456"), Ok("123456".into()));
        for bad in ["1234567", "12A45"] {
            assert!(
                reg(Register::Gdc, bad).is_err_and(|e| e.starts_with("GDC number must")),
                "{bad}"
            );
        }
    }

    #[test]
    fn every_register_explains_its_format() {
        for r in Register::ALL {
            assert!(!r.hint().is_empty());
            let err = Registration::parse(*r, "?").unwrap_err();
            assert!(err.starts_with(r.acronym()), "{err}");
            assert!(err.contains("must be"), "{err}");
        }
    }

    #[test]
    fn registrations_display_and_travel_as_codes() {
        let r = Registration::parse(Register::Gphc, "201 2345").unwrap();
        assert_eq!(r.register(), Register::Gphc);
        assert_eq!(r.to_string(), "GPhC 2012345");
        assert_eq!(
            serde_json::to_string(&r).unwrap(),
            r#"{"register":"gphc","number":"2012345"}"#
        );
        let back: Registration =
            serde_json::from_str(r#"{"register":"gphc","number":"2012345"}"#).unwrap();
        assert_eq!(back, r);
        assert!(
            serde_json::from_str::<Registration>(r#"{"register":"gmc","number":"12"}"#).is_err()
        );
        assert!(
            serde_json::from_str::<Registration>(r#"{"register":"xyz","number":"1234567"}"#)
                .is_err()
        );
        assert!(!format!("{r:?}").contains("2012345"));
    }

    #[test]
    fn names_are_normalised_for_matching() {
        let same = |a: &str, b: &str| {
            assert_eq!(normalise_name(a), normalise_name(b), "{a} / {b}");
        };
        assert_eq!(
            normalise_name("  Dr  Siobhán   O'Brien-Smith "),
            "siobhan obrien smith"
        );
        same("O'Brien", "OBrien");
        same("O’Brien", "O'Brien");
        same("Smith-Jones", "Smith Jones");
        same("Smith–Jones", "smith jones");
        same("José Núñez", "Jose Nunez");
        same("Zoë Müller", "Zoe Muller");
        same("Søren Kierkegaard", "Soren Kierkegaard");
        same("Łukasz Wałęsa", "Lukasz Walesa");
        same("Ægir Straße", "aegir strasse");
        same("Mr. J. Smith", "J Smith");
        same("Prof Sir John Smith", "John Smith");
        same("Revd Dr Ann Lee", "ann lee");
        same("Mrs SMITH", "smith");
        assert_eq!(normalise_name("Jo.Smith"), "jo smith");
        assert_ne!(normalise_name("John Smith"), normalise_name("Smith John"));
        // A title is only dropped at the start, and a name is never emptied.
        assert_eq!(normalise_name("Miss"), "miss");
        assert_eq!(normalise_name("Dr Dame"), "dame");
        assert_eq!(normalise_name("Rose Miss"), "rose miss");
        assert_eq!(normalise_name(""), "");
        assert_eq!(normalise_name(" - . "), "");
        // Decomposed accents, and the dot that lower-casing a Turkish capital I leaves behind.
        same("Jose\u{301}", "José");
        same("İbrahim", "Ibrahim");
        // Other scripts are kept, lower-cased.
        assert_eq!(normalise_name("Δημήτρης"), "δημήτρης");
    }

    fn found(text: &str) -> Vec<(&'static str, &str, bool)> {
        find_identifiers_in_text(text)
            .into_iter()
            .map(|f| (f.kind.code(), &text[f.range.clone()], f.labelled))
            .collect()
    }

    #[test]
    fn nhs_numbers_are_found_in_text() {
        assert_eq!(
            found("Patient NHS no 943 476 5919 attended."),
            vec![("nhs_number", "943 476 5919", true)]
        );
        assert_eq!(
            found("ref 9434765919"),
            vec![("nhs_number", "9434765919", false)]
        );
        assert_eq!(
            found("(943-476-5919)"),
            vec![("nhs_number", "943-476-5919", false)]
        );
        // Wrong check digit, mixed separators, or part of a longer number: not NHS numbers.
        assert_eq!(found("943 476 5918"), vec![]);
        assert_eq!(found("943 476-5919"), vec![]);
        assert_eq!(found("19434765919"), vec![]);
        assert_eq!(found("0000000000"), vec![]);
    }

    #[test]
    fn dates_are_found_in_text() {
        assert_eq!(
            found("DOB 31/01/1970, seen 2.3.26"),
            vec![("date", "31/01/1970", true), ("date", "2.3.26", false)]
        );
        assert_eq!(found("born 1970-01-31"), vec![("date", "1970-01-31", true)]);
        assert_eq!(found("D.O.B. 1/2/80"), vec![("date", "1/2/80", true)]);
        assert_eq!(found("adobe 1/2/80"), vec![("date", "1/2/80", false)]);
        assert_eq!(found("on 1 Jan 1970"), vec![("date", "1 Jan 1970", false)]);
        assert_eq!(
            found("date of birth: 21st of September, 1984."),
            vec![("date", "21st of September, 1984", true)]
        );
        assert_eq!(
            found("January 31, 1970"),
            vec![("date", "January 31, 1970", false)]
        );
        assert_eq!(found("Sept. 9 2001"), vec![("date", "Sept. 9 2001", false)]);
        assert_eq!(found("29/02/2024"), vec![("date", "29/02/2024", false)]);
        assert_eq!(found("12/31/1999"), vec![("date", "12/31/1999", false)]); // month first
        // Not dates: impossible days, versions, strengths, fractions.
        assert_eq!(found("29/02/2023"), vec![]);
        assert_eq!(found("31/04/1970"), vec![]);
        assert_eq!(found("32 Jan 1970"), vec![]);
        assert_eq!(found("co-codamol 30/500"), vec![]);
        assert_eq!(found("patches 5/10/20 micrograms"), vec![]);
        assert_eq!(found("May 2020"), vec![]);
        assert_eq!(found("1 may 20"), vec![]);
        assert_eq!(found("1970-01-31-2"), vec![]);
        // Expiry dates and version numbers.
        assert_eq!(found("batch 2345678, exp 2027-03-31"), vec![]);
        assert_eq!(found("expired on 02/11/2026"), vec![]);
        assert_eq!(found("SOP version 2.3.26"), vec![]);
    }

    #[test]
    fn registration_numbers_are_found_in_text() {
        assert_eq!(
            found("Dr X, GMC 1234567, GPhC no. 2012345"),
            vec![
                ("registration_number", "1234567", true),
                ("registration_number", "2012345", true),
            ]
        );
        assert_eq!(
            found("his number is 1234567"),
            vec![("registration_number", "1234567", false)]
        );
        assert_eq!(
            found("NMC PIN 71A2998E."),
            vec![("registration_number", "71A2998E", true)]
        );
        assert_eq!(
            found("nurse 71a2998e"),
            vec![("registration_number", "71a2998e", false)]
        );
        assert_eq!(
            found("paramedic PA12345"),
            vec![("registration_number", "PA12345", true)]
        );
        assert_eq!(
            found("physio PH 123456"),
            vec![("registration_number", "PH 123456", true)]
        );
        assert_eq!(
            found("GDC no: 81234"),
            vec![("registration_number", "81234", true)]
        );
        assert_eq!(
            found("registration number 654321"),
            vec![("registration_number", "654321", true)]
        );
        assert_eq!(
            found("GMC number 123456"),
            vec![("registration_number", "123456", true)]
        );
    }

    #[test]
    fn quantities_and_other_references_are_not_identifiers() {
        for text in [
            "28 tablets of 30 mg",
            "1000000 units",
            "1234567 mg",
            "£1234567",
            "£ 1234567",
            "1,234,567 doses",
            "1234567.5",
            "Datix ref 1234567",
            "crime reference CRI/1234567/26",
            "batch 1234567",
            "phone 0161 496 0000",
            "call 07700 900123",
            "as 12345 items",
            "AS 12345 tablets",
            "reported to the GMC on 3 occasions",
            "12345678",
            "ABC1234567",
            "1234567%",
        ] {
            assert_eq!(found(text), vec![], "{text}");
        }
    }

    #[test]
    fn findings_are_in_order_and_ranges_are_byte_offsets() {
        let text = "Zoë, DOB 1/2/1980, NHS 943 476 5919, GMC 7654321.";
        let all = find_identifiers_in_text(text);
        let kinds: Vec<_> = all.iter().map(|f| f.kind).collect();
        assert_eq!(
            kinds,
            vec![
                IdentifierKind::Date,
                IdentifierKind::NhsNumber,
                IdentifierKind::RegistrationNumber
            ]
        );
        assert!(all.windows(2).all(|w| w[0].range.end <= w[1].range.start));
        assert_eq!(&text[all[0].range.clone()], "1/2/1980");
        assert_eq!(all[0].range, 10..18); // "ë" is two bytes
        let json = serde_json::to_value(&all[1]).unwrap();
        assert_eq!(
            json,
            serde_json::json!({"kind": "nhs_number", "range": {"start": 24, "end": 36}, "labelled": true})
        );
    }

    #[test]
    fn scanning_odd_text_never_panics() {
        for text in [
            "",
            " ",
            "1",
            "/",
            "é",
            "12/",
            "/12/12",
            "Jan",
            "31 Jan",
            "GMC",
            "GMC ",
            "ⅫⅫⅫ ١٢٣٤٥٦٧",
            "🙂 943 476 5919 🙂",
            "1st of",
            "of 1970",
        ] {
            let _ = find_identifiers_in_text(text);
        }
        assert_eq!(found("🙂 943 476 5919 🙂").len(), 1);
    }
}
