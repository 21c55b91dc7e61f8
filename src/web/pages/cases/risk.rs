//! The risk matrix (consequence by likelihood) and its grades.

use crate::domain::triage::{self as rules};

pub struct MatrixCell {
    pub score: u8,
    pub grade_text: String,
    pub current: bool,
}

pub struct MatrixRow {
    pub likelihood_text: String,
    pub cells: Vec<MatrixCell>,
}

pub(super) const CONSEQUENCES: [&str; 5] =
    ["Negligible", "Minor", "Moderate", "Major", "Catastrophic"];
pub(super) const LIKELIHOODS: [&str; 5] =
    ["Rare", "Unlikely", "Possible", "Likely", "Almost certain"];

pub(super) fn grade_label(grade: &str) -> &'static str {
    match grade {
        "low" => "Low",
        "moderate" => "Moderate",
        "high" => "High",
        _ => "Extreme",
    }
}

pub(super) fn grade_colour(grade: &str) -> &'static str {
    match grade {
        "low" => "green",
        "moderate" => "yellow",
        "high" => "orange",
        _ => "red",
    }
}
pub(super) fn matrix(current: Option<(u8, u8)>) -> Vec<MatrixRow> {
    (1..=5u8)
        .rev()
        .map(|l| MatrixRow {
            likelihood_text: format!("{l} {}", LIKELIHOODS[usize::from(l - 1)]),
            cells: (1..=5u8)
                .map(|c| {
                    let g = rules::risk_grade(c, l);
                    MatrixCell {
                        score: c * l,
                        grade_text: g.map(|g| grade_label(g.grade)).unwrap_or("").into(),
                        current: current == Some((c, l)),
                    }
                })
                .collect(),
        })
        .collect()
}
