//! Triage rules (SPEC §4 "Triage"): the status machine, the suggested priority, the NHS 5×5
//! risk matrix, and triage targets in working days.

use chrono::{DateTime, Datelike, NaiveDate, NaiveTime, TimeDelta, TimeZone, Utc, Weekday};
use chrono_tz::Europe::London;

use super::code_enum;
use super::report::{CaseStatus, Harm};

code_enum!(
    Priority {
        Low => ("low", "Low"),
        Medium => ("medium", "Medium"),
        High => ("high", "High"),
        Urgent => ("urgent", "Urgent"),
    }
);

impl Priority {
    pub fn rank(self) -> u8 {
        match self {
            Priority::Low => 0,
            Priority::Medium => 1,
            Priority::High => 2,
            Priority::Urgent => 3,
        }
    }
}

code_enum!(
    Outcome {
        NoFurtherAction => ("no_further_action", "No further action"),
        LocalLearning => ("local_learning", "Local learning"),
        ReferredToRegulator => ("referred_to_regulator", "Referred to a regulator"),
        ReferredToPolice => ("referred_to_police", "Referred to the police"),
        AlertCascaded => ("alert_cascaded", "Alert cascaded"),
        Duplicate => ("duplicate", "Duplicate of another case"),
        Other => ("other", "Other"),
    }
);

code_enum!(
    WellFounded {
        Yes => ("yes", "Yes"),
        No => ("no", "No"),
        Undetermined => ("undetermined", "Undetermined"),
    }
);

code_enum!(
    LinkRelation {
        Related => ("related", "Related"),
        DuplicateOf => ("duplicate_of", "Duplicate of"),
    }
);

/// Whether triage may move a case from `from` to `to` (closing, reopening and asking for
/// information have their own actions). The same status is no move at all.
pub fn triage_move_allowed(from: CaseStatus, to: CaseStatus) -> bool {
    use CaseStatus::*;
    matches!(
        (from, to),
        (New, InReview)
            | (InReview, Investigating)
            | (AwaitingInformation, InReview)
            | (Investigating, InReview)
    )
}

/// Whether a request for information may be made in this status.
pub fn can_request_information(s: CaseStatus) -> bool {
    matches!(
        s,
        CaseStatus::New | CaseStatus::InReview | CaseStatus::Investigating
    )
}

/// The priority the service suggests from what was reported: death or severe harm, urgent;
/// theft or diversion of a Schedule 2 drug, or moderate harm, high; Schedule 2 or 3 drugs,
/// or a concern about a person, medium; otherwise low.
pub fn suggest_priority(
    harm: Option<Harm>,
    schedules: &[String],
    categories: &[String],
    kind: &str,
) -> Priority {
    let sch2 = schedules.iter().any(|s| s == "2");
    let theft = categories.iter().any(|c| {
        matches!(
            c.as_str(),
            "theft_or_diversion"
                | "diversion_or_theft"
                | "fraudulent_attempt"
                | "forged_prescriptions"
        )
    });
    let impairment = categories.iter().any(|c| c == "impairment");
    match harm {
        Some(Harm::Death | Harm::Severe) => Priority::Urgent,
        _ if impairment => Priority::Urgent,
        _ if theft && (sch2 || kind == "person_concern") => Priority::High,
        Some(Harm::Moderate) => Priority::High,
        _ if sch2 || schedules.iter().any(|s| s == "3") || kind == "person_concern" => {
            Priority::Medium
        }
        _ => Priority::Low,
    }
}

/// The NHS 5×5 risk matrix: consequence × likelihood (each 1 to 5).
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
pub struct RiskGrade {
    pub consequence: u8,
    pub likelihood: u8,
    pub score: u8,
    /// `low` (1–3), `moderate` (4–6), `high` (8–12) or `extreme` (15–25).
    pub grade: &'static str,
}

pub fn risk_grade(consequence: u8, likelihood: u8) -> Option<RiskGrade> {
    if !(1..=5).contains(&consequence) || !(1..=5).contains(&likelihood) {
        return None;
    }
    let score = consequence * likelihood;
    let grade = match score {
        1..=3 => "low",
        4..=6 => "moderate",
        8..=12 => "high",
        _ => "extreme",
    };
    Some(RiskGrade {
        consequence,
        likelihood,
        score,
        grade,
    })
}

/// England and Wales bank holidays (gov.uk), 2024 to 2030. Later years count weekends only.
const BANK_HOLIDAYS: &[(i32, u32, u32)] = &[
    (2024, 1, 1),
    (2024, 3, 29),
    (2024, 4, 1),
    (2024, 5, 6),
    (2024, 5, 27),
    (2024, 8, 26),
    (2024, 12, 25),
    (2024, 12, 26),
    (2025, 1, 1),
    (2025, 4, 18),
    (2025, 4, 21),
    (2025, 5, 5),
    (2025, 5, 26),
    (2025, 8, 25),
    (2025, 12, 25),
    (2025, 12, 26),
    (2026, 1, 1),
    (2026, 4, 3),
    (2026, 4, 6),
    (2026, 5, 4),
    (2026, 5, 25),
    (2026, 8, 31),
    (2026, 12, 25),
    (2026, 12, 28),
    (2027, 1, 1),
    (2027, 3, 26),
    (2027, 3, 29),
    (2027, 5, 3),
    (2027, 5, 31),
    (2027, 8, 30),
    (2027, 12, 27),
    (2027, 12, 28),
    (2028, 1, 3),
    (2028, 4, 14),
    (2028, 4, 17),
    (2028, 5, 1),
    (2028, 5, 29),
    (2028, 8, 28),
    (2028, 12, 25),
    (2028, 12, 26),
    (2029, 1, 1),
    (2029, 3, 30),
    (2029, 4, 2),
    (2029, 5, 7),
    (2029, 5, 28),
    (2029, 8, 27),
    (2029, 12, 25),
    (2029, 12, 26),
    (2030, 1, 1),
    (2030, 4, 19),
    (2030, 4, 22),
    (2030, 5, 6),
    (2030, 5, 27),
    (2030, 8, 26),
    (2030, 12, 25),
    (2030, 12, 26),
];

pub fn is_working_day(d: NaiveDate) -> bool {
    !matches!(d.weekday(), Weekday::Sat | Weekday::Sun)
        && !BANK_HOLIDAYS.contains(&(d.year(), d.month(), d.day()))
}

/// `days` working days after `from` (UK time): the same time of day on the working day that
/// many working days later. Something arriving on a weekend or holiday starts the next
/// working day at 09:00.
pub fn add_working_days(from: DateTime<Utc>, days: u32) -> DateTime<Utc> {
    let local = from.with_timezone(&London);
    let mut date = local.date_naive();
    let mut time = local.time();
    if !is_working_day(date) {
        while !is_working_day(date) {
            date += TimeDelta::days(1);
        }
        time = NaiveTime::from_hms_opt(9, 0, 0).unwrap_or(time);
    }
    let mut left = days;
    while left > 0 {
        date += TimeDelta::days(1);
        if is_working_day(date) {
            left -= 1;
        }
    }
    London
        .from_local_datetime(&date.and_time(time))
        .earliest()
        .map(|t| t.with_timezone(&Utc))
        .unwrap_or(from + TimeDelta::days(i64::from(days)))
}

/// When triage is due: 1 working day for urgent, otherwise 2.
pub fn triage_due(submitted_at: DateTime<Utc>, priority: Priority) -> DateTime<Utc> {
    add_working_days(
        submitted_at,
        if priority == Priority::Urgent { 1 } else { 2 },
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use CaseStatus::*;

    #[test]
    fn the_status_machine_allows_only_the_documented_moves() {
        assert!(triage_move_allowed(New, InReview));
        assert!(triage_move_allowed(InReview, Investigating));
        assert!(triage_move_allowed(AwaitingInformation, InReview));
        assert!(!triage_move_allowed(New, Investigating));
        assert!(
            !triage_move_allowed(Closed, InReview),
            "reopening is its own action"
        );
        assert!(
            !triage_move_allowed(InReview, Closed),
            "closing is its own action"
        );
        assert!(!triage_move_allowed(InReview, New));
        assert!(can_request_information(InReview) && !can_request_information(Closed));
    }

    #[test]
    fn priorities_are_suggested_from_harm_schedule_and_category() {
        let s2 = vec!["2".to_string()];
        let theft = vec!["theft_or_diversion".to_string()];
        assert_eq!(
            suggest_priority(Some(Harm::Death), &[], &[], "incident"),
            Priority::Urgent
        );
        assert_eq!(
            suggest_priority(Some(Harm::None), &s2, &theft, "incident"),
            Priority::High
        );
        assert_eq!(
            suggest_priority(Some(Harm::Moderate), &[], &[], "incident"),
            Priority::High
        );
        assert_eq!(
            suggest_priority(Some(Harm::None), &s2, &[], "incident"),
            Priority::Medium
        );
        assert_eq!(
            suggest_priority(Some(Harm::None), &["4-1".into()], &[], "incident"),
            Priority::Low
        );
        assert_eq!(
            suggest_priority(None, &[], &["diversion_or_theft".into()], "person_concern"),
            Priority::High
        );
        assert_eq!(
            suggest_priority(None, &[], &["impairment".into()], "person_concern"),
            Priority::Urgent
        );
    }

    #[test]
    fn the_risk_matrix_grades_scores() {
        assert_eq!(risk_grade(1, 3).unwrap().grade, "low");
        assert_eq!(risk_grade(2, 3).unwrap().grade, "moderate");
        assert_eq!(risk_grade(4, 3).unwrap().grade, "high");
        assert_eq!(risk_grade(5, 5).unwrap().score, 25);
        assert_eq!(risk_grade(5, 5).unwrap().grade, "extreme");
        assert!(risk_grade(0, 3).is_none() && risk_grade(3, 6).is_none());
    }

    #[test]
    fn targets_skip_weekends_and_bank_holidays() {
        let t = |y, m, d, h| {
            London
                .with_ymd_and_hms(y, m, d, h, 0, 0)
                .unwrap()
                .with_timezone(&Utc)
        };
        // Friday 10:00 + 2 working days = Tuesday 10:00.
        assert_eq!(
            add_working_days(t(2026, 11, 20, 10), 2),
            t(2026, 11, 24, 10)
        );
        // Thursday before Christmas 2026: Fri 25 and Mon 28 are holidays.
        assert_eq!(
            add_working_days(t(2026, 12, 24, 15), 1),
            t(2026, 12, 29, 15)
        );
        // Saturday: from Monday 09:00.
        assert_eq!(add_working_days(t(2026, 11, 21, 14), 1), t(2026, 11, 24, 9));
        assert_eq!(
            triage_due(t(2026, 11, 23, 9), Priority::Urgent),
            t(2026, 11, 24, 9)
        );
    }
}
