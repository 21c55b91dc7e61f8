//! The structured facts the regulators' datasets need (issue 12, SPEC §7.2): how a drug was
//! prescribed online from outside the UK, and what a report about cannabis-based products for
//! medicinal use (CBPM) is about. Every field is optional and every failing field is named,
//! like `online_supply.prescriber_country`.
//!
//! The online service's name, its web address (kept as its registrable domain, so that counts
//! by service work whatever page was given) and the prescriber's country are not identities.
//! The prescriber's registration is: it is sealed apart from the report like every other
//! identity, and shown only to those who may see identities (SPEC §3).

use serde::{Deserialize, Serialize};

use super::code_enum;
use super::validation::FieldErrors;

code_enum!(
    FoundVia {
        SearchEngine => ("search_engine", "A search engine"),
        SocialMedia => ("social_media", "Social media"),
        Email => ("email", "An email"),
        MessagingApp => ("messaging_app", "A messaging app"),
        Other => ("other", "Another way"),
        NotKnown => ("not_known", "Not known"),
    }
);

code_enum!(
    SuppliedBy {
        Post => ("post", "By post"),
        Courier => ("courier", "By courier"),
        Collected => ("collected", "Collected in person"),
        NotKnown => ("not_known", "Not known"),
    }
);

code_enum!(
    CbpmProductType {
        Flower => ("flower", "Dried flower for vaporisation"),
        Oil => ("oil", "Oil"),
        Capsule => ("capsule", "Capsules"),
        Other => ("other", "Another product"),
        NotKnown => ("not_known", "Not known"),
    }
);

code_enum!(
    CbpmPrescriberType {
        GmcSpecialist => ("gmc_specialist", "A doctor on the GMC Specialist Register"),
        OtherDoctor => ("other_doctor", "Another doctor"),
        NonMedicalPrescriber => ("non_medical_prescriber", "A non-medical prescriber"),
        NotKnown => ("not_known", "Not known"),
    }
);

code_enum!(
    CbpmSetting {
        Nhs => ("nhs", "NHS"),
        IndependentClinic => ("independent_clinic", "An independent clinic"),
        OnlineClinic => ("online_clinic", "An online clinic"),
        NotKnown => ("not_known", "Not known"),
    }
);

code_enum!(
    CbpmIssue {
        OutsideGuidance => ("outside_guidance", "Prescribing outside guidance"),
        SupplyDispensing => ("supply_dispensing", "Supply or dispensing"),
        Diversion => ("diversion", "Diversion"),
        AdverseEffect => ("adverse_effect", "An adverse effect"),
        Advertising => ("advertising", "Advertising"),
        Other => ("other", "Something else"),
    }
);

/// `online_supply` as submitted.
#[derive(Debug, Default, Clone, Deserialize, utoipa::ToSchema)]
pub struct OnlineSupplyInput {
    /// The online service's name, as it calls itself.
    pub service_name: Option<String>,
    /// Any address of the service: kept as its registrable domain (`example-pharmacy.com`).
    pub web_address: Option<String>,
    /// ISO 3166-1 alpha-2, like `IN`.
    pub prescriber_country: Option<String>,
    /// The prescriber's regulator and registration number, if known (an identity).
    pub prescriber_registration: Option<String>,
    /// `search_engine`, `social_media`, `email`, `messaging_app`, `other` or `not_known`.
    pub found_via: Option<String>,
    /// `post`, `courier`, `collected` or `not_known`.
    pub supplied_by: Option<String>,
}

/// `cbpm` as submitted.
#[derive(Debug, Default, Clone, Deserialize, utoipa::ToSchema)]
pub struct CbpmInput {
    /// `flower`, `oil`, `capsule`, `other` or `not_known`.
    pub product_type: Option<String>,
    /// `gmc_specialist`, `other_doctor`, `non_medical_prescriber` or `not_known`.
    pub prescriber_type: Option<String>,
    /// `nhs`, `independent_clinic`, `online_clinic` or `not_known`.
    pub setting: Option<String>,
    /// `outside_guidance`, `supply_dispensing`, `diversion`, `adverse_effect`, `advertising` or `other`.
    pub issue: Option<String>,
}

/// How a drug was prescribed online from outside the UK, as kept.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, utoipa::ToSchema)]
pub struct OnlineSupply {
    pub service_name: Option<String>,
    /// The registrable domain of the service's web address.
    pub web_address: Option<String>,
    /// ISO 3166-1 alpha-2.
    pub prescriber_country: Option<String>,
    /// An identity: never kept in the report (it is sealed beside it) and present only where
    /// the reader may see identities.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prescriber_registration: Option<String>,
    pub found_via: Option<FoundVia>,
    pub supplied_by: Option<SuppliedBy>,
}

/// What a CBPM report is about, as kept.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, utoipa::ToSchema)]
pub struct Cbpm {
    pub product_type: Option<CbpmProductType>,
    pub prescriber_type: Option<CbpmPrescriberType>,
    pub setting: Option<CbpmSetting>,
    pub issue: Option<CbpmIssue>,
}

const WEB_ADDRESS_HELP: &str =
    "Enter the web address of the online service, like www.example-pharmacy.com";

/// The registrable domain of a web address (`https://shop.Example.co.uk/buy` →
/// `example.co.uk`), by the public suffix list built into the binary. Addresses that are not
/// of a public domain (IP addresses, `localhost`, a bare suffix, an unknown top-level
/// domain) are refused.
pub fn registrable_domain(value: &str) -> Result<String, &'static str> {
    let v = value.trim();
    if v.is_empty() || v.chars().count() > 500 || v.chars().any(char::is_whitespace) {
        return Err(WEB_ADDRESS_HELP);
    }
    let with_scheme = if v.contains("://") {
        v.to_string()
    } else {
        format!("https://{v}")
    };
    let url = url::Url::parse(&with_scheme).map_err(|_| WEB_ADDRESS_HELP)?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(WEB_ADDRESS_HELP);
    }
    let host = match url.host() {
        Some(url::Host::Domain(d)) => d.trim_end_matches('.').to_string(),
        _ => return Err(WEB_ADDRESS_HELP),
    };
    let known = psl::suffix(host.as_bytes()).is_some_and(|s| s.is_known());
    match psl::domain_str(&host) {
        Some(d) if known => Ok(d.to_string()),
        _ => Err(WEB_ADDRESS_HELP),
    }
}

fn optional_code<T>(
    e: &mut FieldErrors,
    field: &str,
    value: Option<&str>,
    parse: fn(&str) -> Option<T>,
    options: &[&str],
) -> Option<T> {
    let v = value.map(str::trim).filter(|v| !v.is_empty())?;
    let p = parse(v);
    if p.is_none() {
        let (last, rest) = options.split_last().unwrap_or((&"", &[]));
        e.add(field, format!("Choose {} or {last}", rest.join(", ")));
    }
    p
}

impl OnlineSupplyInput {
    /// The checked facts; `None` when nothing was given.
    pub fn parse(&self, e: &mut FieldErrors) -> Option<OnlineSupply> {
        let f = |name: &str| format!("online_supply.{name}");
        let service_name = e.optional_text(
            &f("service_name"),
            self.service_name.as_deref(),
            "the name of the online service",
            200,
        );
        let web_address = match self
            .web_address
            .as_deref()
            .map(str::trim)
            .filter(|v| !v.is_empty())
        {
            None => None,
            Some(v) => match registrable_domain(v) {
                Ok(d) => Some(d),
                Err(msg) => {
                    e.add(f("web_address"), msg);
                    None
                }
            },
        };
        let prescriber_country = match self
            .prescriber_country
            .as_deref()
            .map(str::trim)
            .filter(|v| !v.is_empty())
        {
            None => None,
            Some(v) => {
                let code = v.to_uppercase();
                match super::countries::name(&code) {
                    Some(_) => Some(code),
                    None => {
                        e.add(
                            f("prescriber_country"),
                            "Choose the prescriber's country from the list (an ISO 3166-1 alpha-2 code, like IN)",
                        );
                        None
                    }
                }
            }
        };
        let prescriber_registration = e.optional_text(
            &f("prescriber_registration"),
            self.prescriber_registration.as_deref(),
            "the prescriber's regulator and registration number",
            100,
        );
        let found_via = optional_code(
            e,
            &f("found_via"),
            self.found_via.as_deref(),
            FoundVia::parse,
            &[
                "search_engine",
                "social_media",
                "email",
                "messaging_app",
                "other",
                "not_known",
            ],
        );
        let supplied_by = optional_code(
            e,
            &f("supplied_by"),
            self.supplied_by.as_deref(),
            SuppliedBy::parse,
            &["post", "courier", "collected", "not_known"],
        );
        let o = OnlineSupply {
            service_name,
            web_address,
            prescriber_country,
            prescriber_registration,
            found_via,
            supplied_by,
        };
        (o != OnlineSupply::default()).then_some(o)
    }
}

impl CbpmInput {
    /// The checked facts; `None` when nothing was given.
    pub fn parse(&self, e: &mut FieldErrors) -> Option<Cbpm> {
        let c = Cbpm {
            product_type: optional_code(
                e,
                "cbpm.product_type",
                self.product_type.as_deref(),
                CbpmProductType::parse,
                &["flower", "oil", "capsule", "other", "not_known"],
            ),
            prescriber_type: optional_code(
                e,
                "cbpm.prescriber_type",
                self.prescriber_type.as_deref(),
                CbpmPrescriberType::parse,
                &[
                    "gmc_specialist",
                    "other_doctor",
                    "non_medical_prescriber",
                    "not_known",
                ],
            ),
            setting: optional_code(
                e,
                "cbpm.setting",
                self.setting.as_deref(),
                CbpmSetting::parse,
                &["nhs", "independent_clinic", "online_clinic", "not_known"],
            ),
            issue: optional_code(
                e,
                "cbpm.issue",
                self.issue.as_deref(),
                CbpmIssue::parse,
                &[
                    "outside_guidance",
                    "supply_dispensing",
                    "diversion",
                    "adverse_effect",
                    "advertising",
                    "other",
                ],
            ),
        };
        (c != Cbpm::default()).then_some(c)
    }
}

/// Summary-list rows (label, lines) of the facts, for pages. The registration appears only
/// if the reader may see it (it is absent otherwise).
pub fn online_supply_rows(o: &OnlineSupply) -> Vec<(String, Vec<String>)> {
    let or_not_known = |v: Option<String>| vec![v.unwrap_or_else(|| "Not known".into())];
    let mut rows = vec![
        (
            "Online service".to_string(),
            or_not_known(o.service_name.clone()),
        ),
        (
            "Web address".to_string(),
            or_not_known(o.web_address.clone()),
        ),
        (
            "Prescriber's country".to_string(),
            or_not_known(o.prescriber_country.as_deref().map(|c| {
                super::countries::name(c)
                    .map(|n| format!("{n} ({c})"))
                    .unwrap_or_else(|| c.to_string())
            })),
        ),
    ];
    if let Some(r) = &o.prescriber_registration {
        rows.push(("Prescriber's registration".to_string(), vec![r.clone()]));
    }
    rows.push((
        "How the person found it".to_string(),
        or_not_known(o.found_via.map(|v| v.label().to_string())),
    ));
    rows.push((
        "How it was supplied".to_string(),
        or_not_known(o.supplied_by.map(|v| v.label().to_string())),
    ));
    rows
}

pub fn cbpm_rows(c: &Cbpm) -> Vec<(String, Vec<String>)> {
    let or_not_known = |v: Option<&str>| vec![v.unwrap_or("Not known").to_string()];
    vec![
        (
            "CBPM product".to_string(),
            or_not_known(c.product_type.map(|v| v.label())),
        ),
        (
            "CBPM prescriber".to_string(),
            or_not_known(c.prescriber_type.map(|v| v.label())),
        ),
        (
            "CBPM setting".to_string(),
            or_not_known(c.setting.map(|v| v.label())),
        ),
        (
            "CBPM issue".to_string(),
            or_not_known(c.issue.map(|v| v.label())),
        ),
    ]
}

/// A work address as counted: lower case letters and digits, single spaces ("1 High St,
/// Salford" and "1 high st salford" are one address).
pub fn normalise_address(value: &str) -> String {
    value
        .chars()
        .map(|c| {
            if c.is_alphanumeric() {
                c.to_lowercase().next().unwrap_or(c)
            } else {
                ' '
            }
        })
        .collect::<String>()
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

/// A registration as matched: upper case letters and digits only.
pub fn normalise_registration(value: &str) -> String {
    value
        .chars()
        .filter(char::is_ascii_alphanumeric)
        .collect::<String>()
        .to_uppercase()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn web_addresses_are_kept_as_their_registrable_domain() {
        for (given, domain) in [
            (
                "https://www.Example-Pharmacy.com/buy?ref=1",
                "example-pharmacy.com",
            ),
            ("example-pharmacy.com", "example-pharmacy.com"),
            ("shop.example.co.uk", "example.co.uk"),
            ("http://a.b.meds-online.in/", "meds-online.in"),
            ("www.example.com.", "example.com"),
            ("bücher.de", "xn--bcher-kva.de"),
        ] {
            assert_eq!(registrable_domain(given), Ok(domain.to_string()), "{given}");
        }
        for bad in [
            "",
            "192.168.1.1",
            "http://[::1]/",
            "localhost",
            "co.uk",
            "example.notarealtld",
            "ftp://example.com",
            "not a web address",
        ] {
            assert!(registrable_domain(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn each_failing_field_is_named() {
        let mut e = FieldErrors::new();
        let o = OnlineSupplyInput {
            service_name: Some("x".repeat(201)),
            web_address: Some("localhost".into()),
            prescriber_country: Some("Narnia".into()),
            prescriber_registration: Some("y".repeat(101)),
            found_via: Some("carrier_pigeon".into()),
            supplied_by: Some("drone".into()),
        }
        .parse(&mut e);
        let fields: Vec<String> = e.into_vec().into_iter().map(|f| f.field).collect();
        assert_eq!(
            fields,
            [
                "online_supply.service_name",
                "online_supply.web_address",
                "online_supply.prescriber_country",
                "online_supply.prescriber_registration",
                "online_supply.found_via",
                "online_supply.supplied_by"
            ]
        );
        assert!(o.is_some_and(|o| o.web_address.is_none()));
        let mut e = FieldErrors::new();
        CbpmInput {
            product_type: Some("resin".into()),
            prescriber_type: Some("vet".into()),
            setting: Some("pub".into()),
            issue: Some("not_known".into()),
        }
        .parse(&mut e);
        let errors = e.into_vec();
        let fields: Vec<&str> = errors.iter().map(|f| f.field.as_str()).collect();
        assert_eq!(
            fields,
            [
                "cbpm.product_type",
                "cbpm.prescriber_type",
                "cbpm.setting",
                "cbpm.issue"
            ]
        );
        assert!(errors[3].message.contains("advertising or other"));
    }

    #[test]
    fn good_facts_parse_and_empty_ones_are_none() {
        let mut e = FieldErrors::new();
        let o = OnlineSupplyInput {
            service_name: Some(" MedsExpress ".into()),
            web_address: Some("https://www.medsexpress.example.in/order".into()),
            prescriber_country: Some("in".into()),
            prescriber_registration: Some("MCI 12345".into()),
            found_via: Some("social_media".into()),
            supplied_by: Some("post".into()),
        }
        .parse(&mut e)
        .unwrap();
        assert!(e.is_empty(), "{:?}", e.into_vec());
        assert_eq!(o.service_name.as_deref(), Some("MedsExpress"));
        assert_eq!(o.web_address.as_deref(), Some("example.in"));
        assert_eq!(o.prescriber_country.as_deref(), Some("IN"));
        assert_eq!(o.found_via, Some(FoundVia::SocialMedia));
        let json = serde_json::to_value(&o).unwrap();
        assert_eq!(json["found_via"], "social_media");
        assert_eq!(json["supplied_by"], "post");
        let mut e = FieldErrors::new();
        assert_eq!(OnlineSupplyInput::default().parse(&mut e), None);
        assert_eq!(
            CbpmInput {
                issue: Some(" ".into()),
                ..CbpmInput::default()
            }
            .parse(&mut e),
            None
        );
        let c = CbpmInput {
            product_type: Some("flower".into()),
            prescriber_type: Some("gmc_specialist".into()),
            setting: Some("online_clinic".into()),
            issue: Some("outside_guidance".into()),
        }
        .parse(&mut e)
        .unwrap();
        assert!(e.is_empty());
        assert_eq!(
            serde_json::to_value(&c).unwrap(),
            serde_json::json!({"product_type": "flower", "prescriber_type": "gmc_specialist",
                               "setting": "online_clinic", "issue": "outside_guidance"})
        );
    }

    #[test]
    fn the_registration_is_not_kept_unless_set() {
        let o = OnlineSupply {
            service_name: Some("S".into()),
            ..OnlineSupply::default()
        };
        let json = serde_json::to_value(&o).unwrap();
        assert!(json.get("prescriber_registration").is_none());
        assert!(json.get("web_address").is_some_and(|v| v.is_null()));
        assert_eq!(normalise_registration(" mci-12 345 "), "MCI12345");
        assert_eq!(
            normalise_address("1 High St,\n  Salford M1 1AA"),
            normalise_address("1 high st salford m1 1aa")
        );
        assert_ne!(
            normalise_address("1 High St"),
            normalise_address("2 High St")
        );
    }
}
