//! What statistics are grouped by, over which reports and which dates (SPEC §7 `group_by`,
//! §7.2 the oversight datasets).

use chrono::NaiveDate;

use super::code_enum;

code_enum!(
    /// An opioid outcome measure (issue 12), counted per month of `occurred_on`.
    Measure {
        HighDoseOpioid => ("high_dose_opioid", "Incidents with a high-dose opioid"),
        OpioidHarm => ("opioid_harm", "Opioid incidents with moderate harm or worse"),
        OstSeriousHarm => ("ost_serious_harm", "Opioid substitution treatment incidents with severe harm or death"),
        AllIncidents => ("all_incidents", "All incidents"),
    }
);

/// A drug of opioid substitution treatment (methadone, buprenorphine other than the pain
/// patches, diamorphine), by its catalogue entry.
pub fn is_ost(name: &str, patch: Option<&str>) -> bool {
    let n = name.to_lowercase();
    n.starts_with("methadone")
        || n.starts_with("diamorphine")
        || (n.starts_with("buprenorphine") && patch.is_none())
}

/// What a statistic is grouped by.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum GroupBy {
    Month,
    Category,
    Schedule,
    Sector,
    Harm,
    Drug,
    Kind,
    Status,
    /// The online service, by the registrable domain of its web address.
    OnlineService,
    /// The overseas prescriber's country (ISO 3166-1 alpha-2).
    PrescriberCountry,
    CbpmIssue,
    CbpmPrescriberType,
    CbpmSetting,
    /// The NHS England region of the LIN area holding the report.
    Region,
    /// The LIN area holding the report.
    Area,
}

impl GroupBy {
    pub const ALL: &'static [GroupBy] = &[
        GroupBy::Month,
        GroupBy::Category,
        GroupBy::Schedule,
        GroupBy::Sector,
        GroupBy::Harm,
        GroupBy::Drug,
        GroupBy::Kind,
        GroupBy::Status,
        GroupBy::OnlineService,
        GroupBy::PrescriberCountry,
        GroupBy::CbpmIssue,
        GroupBy::CbpmPrescriberType,
        GroupBy::CbpmSetting,
        GroupBy::Region,
        GroupBy::Area,
    ];

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.iter().copied().find(|g| g.code() == s)
    }

    pub fn code(self) -> &'static str {
        match self {
            GroupBy::Month => "month",
            GroupBy::Category => "category",
            GroupBy::Schedule => "schedule",
            GroupBy::Sector => "sector",
            GroupBy::Harm => "harm",
            GroupBy::Drug => "drug",
            GroupBy::Kind => "kind",
            GroupBy::Status => "status",
            GroupBy::OnlineService => "online_service",
            GroupBy::PrescriberCountry => "prescriber_country",
            GroupBy::CbpmIssue => "cbpm_issue",
            GroupBy::CbpmPrescriberType => "cbpm_prescriber_type",
            GroupBy::CbpmSetting => "cbpm_setting",
            GroupBy::Region => "region",
            GroupBy::Area => "area",
        }
    }

    /// The reports a grouping counts: the oversight groupings count only their dataset.
    pub fn population(self) -> Population {
        match self {
            GroupBy::OnlineService | GroupBy::PrescriberCountry => Population::OnlineSupply,
            GroupBy::CbpmIssue | GroupBy::CbpmPrescriberType | GroupBy::CbpmSetting => {
                Population::Cbpm
            }
            _ => Population::All,
        }
    }

    /// Every code, for the message of a 422.
    pub fn codes_text() -> String {
        let codes: Vec<&str> = Self::ALL.iter().map(|g| g.code()).collect();
        match codes.split_last() {
            Some((last, rest)) => format!("{} or {last}", rest.join(", ")),
            None => String::new(),
        }
    }
}

/// Which reports are counted.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Population {
    #[default]
    All,
    /// Reports of online prescribing from outside the UK (the incident or concern category).
    OnlineSupply,
    /// Reports about cannabis-based products for medicinal use: the incident category, or
    /// CBPM details given on a report.
    Cbpm,
}

impl Population {
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "" | "all" => Some(Population::All),
            "online" => Some(Population::OnlineSupply),
            "cbpm" => Some(Population::Cbpm),
            _ => None,
        }
    }

    /// This population, or `other` where this is all reports.
    pub fn or(self, other: Population) -> Population {
        if self == Population::All { other } else { self }
    }

    pub fn code(self) -> &'static str {
        match self {
            Population::All => "all",
            Population::OnlineSupply => "online",
            Population::Cbpm => "cbpm",
        }
    }
}

/// Reports submitted from `from` to `to` inclusive (UK dates); either end open.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Period {
    pub from: Option<NaiveDate>,
    pub to: Option<NaiveDate>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn opioid_substitution_treatment_is_methadone_buprenorphine_and_diamorphine() {
        assert!(is_ost("Methadone hydrochloride", None));
        assert!(is_ost("Buprenorphine (sublingual)", None));
        assert!(is_ost("Buprenorphine with naloxone", None));
        assert!(is_ost("Diamorphine hydrochloride", None));
        assert!(!is_ost(
            "Buprenorphine 7-day transdermal patch",
            Some("buprenorphine_7day")
        ));
        assert!(!is_ost("Morphine sulfate", None));
        assert_eq!(Measure::parse("opioid_harm"), Some(Measure::OpioidHarm));
    }

    #[test]
    fn codes_round_trip_and_oversight_groupings_count_their_dataset() {
        for g in GroupBy::ALL {
            assert_eq!(GroupBy::parse(g.code()), Some(*g));
        }
        assert_eq!(GroupBy::parse("colour"), None);
        assert_eq!(
            GroupBy::OnlineService.population(),
            Population::OnlineSupply
        );
        assert_eq!(GroupBy::CbpmSetting.population(), Population::Cbpm);
        assert_eq!(GroupBy::Drug.population(), Population::All);
        assert!(GroupBy::codes_text().ends_with("cbpm_setting, region or area"));
        for p in [Population::All, Population::OnlineSupply, Population::Cbpm] {
            assert_eq!(Population::parse(p.code()), Some(p));
        }
    }
}
