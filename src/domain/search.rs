//! What a search box's words may say about a person: the identifiers a CDAO types into the
//! case list's search (an NHS number, a registration number, a prescriber code, a name and
//! a date of birth), in the normal form their blind indexes were made from.
//!
//! Nothing here stores or logs the words: the service turns each candidate into its blind
//! index and matches only that.

use chrono::NaiveDate;

use super::identifiers::{
    NhsNumber, Register, Registration, normalise_name, normalise_prescriber_code,
};

/// Every (blind-index kind, normal form) the text could be. One text can be several things
/// (seven digits are a GMC number, a GPhC number and a prescriber code): each is looked up,
/// and only an index that some report holds matches. A text that is none of them gives none.
pub fn identifiers_in_query(q: &str) -> Vec<(&'static str, String)> {
    let q = q.trim();
    let mut out = Vec::new();
    if q.is_empty() || q.len() > 200 {
        return out;
    }
    if let Ok(n) = NhsNumber::parse(q) {
        out.push(("nhs_number", n.as_str().to_string()));
    }
    for &register in Register::ALL {
        if let Ok(r) = Registration::parse(register, q) {
            out.push((register.code(), r.number().to_string()));
        }
    }
    // A prescriber code has a digit: a word alone ("diazepam") is not looked up as one.
    if q.chars().any(|c| c.is_ascii_digit())
        && let Ok(code) = normalise_prescriber_code(q)
    {
        out.push(("prescriber_code", code));
    }
    if let Some((name, born)) = name_and_date_of_birth(q) {
        out.push(("name_and_date_of_birth", format!("{name}|{born}")));
    }
    out
}

/// A name followed by a date of birth: `Alan Price 03/09/1971`, `Alan Price 1971-09-03`,
/// `Alan Price 3 September 1971`, `Alan Price, 3 Sep 1971`. The name in its matching form.
fn name_and_date_of_birth(q: &str) -> Option<(String, NaiveDate)> {
    let words: Vec<&str> = q.split_whitespace().collect();
    let numeric = ["%d/%m/%Y", "%Y-%m-%d", "%d-%m-%Y", "%d.%m.%Y"];
    let spelt = ["%d %B %Y", "%d %b %Y"];
    let try_split = |n: usize, formats: &[&str]| -> Option<(String, NaiveDate)> {
        if words.len() <= n {
            return None;
        }
        let (name, date) = words.split_at(words.len() - n);
        let date = date.join(" ");
        let date = date.trim_start_matches(',').replace(',', "");
        let born = formats
            .iter()
            .find_map(|f| NaiveDate::parse_from_str(&date, f).ok())?;
        let name = normalise_name(name.join(" ").trim_end_matches(','));
        (!name.is_empty()).then_some((name, born))
    };
    try_split(1, &numeric).or_else(|| try_split(3, &spelt))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kinds(q: &str) -> Vec<&'static str> {
        identifiers_in_query(q)
            .into_iter()
            .map(|(k, _)| k)
            .collect()
    }

    #[test]
    fn an_nhs_number_is_found_however_it_is_spaced() {
        for q in ["943 476 5919", "943-476-5919", " 9434765919 "] {
            assert!(
                identifiers_in_query(q).contains(&("nhs_number", "9434765919".into())),
                "{q}"
            );
        }
        // A wrong check digit is not an NHS number.
        assert!(!kinds("943 476 5918").contains(&"nhs_number"));
    }

    #[test]
    fn registration_numbers_and_prescriber_codes_in_their_normal_form() {
        let found = identifiers_in_query("GMC 1234567");
        assert!(found.contains(&("gmc", "1234567".into())));
        let found = identifiers_in_query("2012345");
        assert!(found.contains(&("gmc", "2012345".into())));
        assert!(found.contains(&("gphc", "2012345".into())));
        assert!(found.contains(&("prescriber_code", "2012345".into())));
        assert!(identifiers_in_query("71a2998e").contains(&("nmc", "71A2998E".into())));
        assert!(identifiers_in_query("611 203").contains(&("prescriber_code", "611203".into())));
    }

    #[test]
    fn a_name_with_a_date_of_birth_in_the_forms_people_type() {
        let want = (
            "name_and_date_of_birth",
            "alan price|1971-09-03".to_string(),
        );
        for q in [
            "Dr Alan Price 03/09/1971",
            "Alan Price 1971-09-03",
            "alan price 3 September 1971",
            "Alan Price, 3 Sep 1971",
        ] {
            assert!(identifiers_in_query(q).contains(&want), "{q}");
        }
        // A date alone, or a name alone, is not a person.
        assert!(!kinds("03/09/1971").contains(&"name_and_date_of_birth"));
        assert!(!kinds("Alan Price").contains(&"name_and_date_of_birth"));
    }

    #[test]
    fn words_are_not_identifiers() {
        assert!(identifiers_in_query("diazepam missing from the ward").is_empty());
        assert!(identifiers_in_query("").is_empty());
    }
}
