//! Oral morphine equivalent (OME) of an opioid's daily dose, and the high-dose flag
//! (SPEC §4 and §7.1 `ome_mg_per_day` / `high_dose`; DOMAIN.md §5).
//!
//! Two ways to an OME, matching the drug catalogue (`drugs.ome_factor`, `drugs.patch`):
//! - most opioids: daily dose in mg × the drug's factor (BNF / Opioids Aware table: codeine,
//!   dihydrocodeine, tramadol 0.1; tapentadol 0.4; morphine 1; oxycodone 1.5; hydromorphone 5 …);
//! - transdermal patches: from the patch's strength in micrograms per hour, by the published
//!   tables, which are all 2.4 mg OME/day per microgram/hour.
//!
//! Pure: no I/O, std only. An OME is a prompt for review, not a conversion to prescribe by.

/// The daily OME at and above which harm rises without much more benefit (Opioids Aware;
/// OpenPrescribing's high-dose measure).
pub const HIGH_DOSE_MG: f64 = 120.0;

/// mg OME per day for each microgram per hour of every patch table below.
const MG_PER_DAY_PER_MICROGRAM_HOUR: f64 = 2.4;

/// Transdermal opioid patches, by `drugs.patch` code.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Patch {
    /// `fentanyl`: 72-hour fentanyl patches.
    Fentanyl,
    /// `buprenorphine_7day`: weekly buprenorphine patches (BuTrans and others).
    Buprenorphine7Day,
    /// `buprenorphine_4day`: twice-weekly buprenorphine patches (Transtec).
    Buprenorphine4Day,
}

impl Patch {
    pub const ALL: &'static [Patch] = &[
        Patch::Fentanyl,
        Patch::Buprenorphine7Day,
        Patch::Buprenorphine4Day,
    ];

    pub fn code(self) -> &'static str {
        match self {
            Patch::Fentanyl => "fentanyl",
            Patch::Buprenorphine7Day => "buprenorphine_7day",
            Patch::Buprenorphine4Day => "buprenorphine_4day",
        }
    }

    pub fn parse(code: &str) -> Option<Patch> {
        Patch::ALL.iter().copied().find(|p| p.code() == code)
    }

    /// The published table: (micrograms/hour, mg OME/day).
    pub fn table(self) -> &'static [(f64, f64)] {
        match self {
            Patch::Fentanyl => &[
                (12.0, 30.0),
                (25.0, 60.0),
                (50.0, 120.0),
                (75.0, 180.0),
                (100.0, 240.0),
            ],
            Patch::Buprenorphine7Day => &[(5.0, 12.0), (10.0, 24.0), (20.0, 48.0)],
            Patch::Buprenorphine4Day => &[(35.0, 84.0), (52.5, 126.0), (70.0, 168.0)],
        }
    }

    /// mg OME per day for a total patch strength in micrograms per hour (several patches
    /// worn together add up). A strength in the table gives the table's figure; any other
    /// is 2.4 mg/day per microgram/hour, the slope of every table. The one difference is the
    /// fentanyl "12" patch, which releases 12.5 micrograms/hour: the table gives it 30, not
    /// 28.8. `None` for a strength that is not a positive number.
    pub fn ome_mg_per_day(self, micrograms_per_hour: f64) -> Option<f64> {
        if !(micrograms_per_hour.is_finite() && micrograms_per_hour > 0.0) {
            return None;
        }
        let mg = self
            .table()
            .iter()
            .find(|(rate, _)| (rate - micrograms_per_hour).abs() < 1e-9)
            .map(|&(_, ome)| ome)
            .unwrap_or(micrograms_per_hour * MG_PER_DAY_PER_MICROGRAM_HOUR);
        Some(round_mg(mg))
    }
}

/// The OME in mg/day of one drug item, or `None` where none can be worked out.
///
/// - `patch` set (a `drugs.patch` code): from `patch_micrograms_per_hour` by the patch table;
///   `factor` and `daily_dose_mg` are ignored, since a patch has no per-mg factor. An unknown
///   code or a missing strength gives `None`.
/// - otherwise: `daily_dose_mg × factor`; `None` if either is missing.
///
/// Doses, factors and strengths must be positive, finite numbers; anything else gives `None`
/// rather than a misleading figure. The result is rounded to 0.1 mg, the precision shown on
/// a case, so the figure shown and the high-dose flag always agree (`0.1 × 1200` is exactly
/// 120, and 119.96 shows as 120.0 and is flagged).
pub fn ome_mg_per_day(
    factor: Option<f64>,
    patch: Option<&str>,
    daily_dose_mg: Option<f64>,
    patch_micrograms_per_hour: Option<f64>,
) -> Option<f64> {
    if let Some(code) = patch {
        return Patch::parse(code)?.ome_mg_per_day(patch_micrograms_per_hour?);
    }
    let (factor, dose) = (factor?, daily_dose_mg?);
    let positive = |x: f64| x.is_finite() && x > 0.0;
    (positive(factor) && positive(dose)).then(|| round_mg(factor * dose))
}

/// True at or above [`HIGH_DOSE_MG`] (120 mg OME/day).
pub fn is_high_dose(ome_mg_per_day: f64) -> bool {
    ome_mg_per_day >= HIGH_DOSE_MG
}

fn round_mg(mg: f64) -> f64 {
    (mg * 10.0).round() / 10.0
}

#[cfg(test)]
mod tests {
    use super::*;

    fn oral(factor: f64, dose: f64) -> Option<f64> {
        ome_mg_per_day(Some(factor), None, Some(dose), None)
    }

    fn patch(code: &str, rate: f64) -> Option<f64> {
        ome_mg_per_day(None, Some(code), None, Some(rate))
    }

    #[test]
    fn oral_doses_are_multiplied_by_the_drug_factor() {
        assert_eq!(oral(1.0, 60.0), Some(60.0)); // morphine
        assert_eq!(oral(0.1, 240.0), Some(24.0)); // codeine 60 mg qds
        assert_eq!(oral(0.1, 400.0), Some(40.0)); // tramadol maximum
        assert_eq!(oral(0.4, 500.0), Some(200.0)); // tapentadol maximum
        assert_eq!(oral(1.5, 80.0), Some(120.0)); // oxycodone 40 mg bd
        assert_eq!(oral(5.0, 24.0), Some(120.0)); // hydromorphone
        assert_eq!(oral(3.0, 30.0), Some(90.0)); // diamorphine SC
        assert_eq!(oral(40.0, 2.0), Some(80.0)); // buprenorphine sublingual
        assert_eq!(oral(0.1, 30.0), Some(3.0)); // not 3.0000000000000004
        assert_eq!(oral(0.1, 1200.0), Some(120.0));
        assert_eq!(oral(0.1, 12.8), Some(1.3)); // one Nurofen Plus tablet's codeine
        assert_eq!(oral(1.5, 79.97), Some(120.0)); // 119.955 shows as 120.0 ...
    }

    #[test]
    fn without_a_factor_or_a_dose_there_is_no_ome() {
        assert_eq!(ome_mg_per_day(None, None, Some(100.0), None), None); // methadone
        assert_eq!(ome_mg_per_day(Some(1.0), None, None, None), None);
        assert_eq!(ome_mg_per_day(None, None, None, None), None);
        // A strength without a patch kind is not enough either.
        assert_eq!(ome_mg_per_day(None, None, None, Some(25.0)), None);
    }

    #[test]
    fn nonsense_numbers_give_no_ome() {
        for bad in [0.0, -10.0, f64::NAN, f64::INFINITY, f64::NEG_INFINITY] {
            assert_eq!(oral(1.0, bad), None, "dose {bad}");
            assert_eq!(oral(bad, 10.0), None, "factor {bad}");
            assert_eq!(patch("fentanyl", bad), None, "rate {bad}");
        }
    }

    #[test]
    fn patches_follow_their_tables() {
        for p in Patch::ALL {
            assert_eq!(Patch::parse(p.code()), Some(*p));
            for &(rate, ome) in p.table() {
                assert_eq!(patch(p.code(), rate), Some(ome), "{} {rate}", p.code());
            }
        }
        assert_eq!(patch("fentanyl", 12.0), Some(30.0));
        assert_eq!(patch("fentanyl", 25.0), Some(60.0));
        assert_eq!(patch("fentanyl", 100.0), Some(240.0));
        assert_eq!(patch("buprenorphine_7day", 5.0), Some(12.0));
        assert_eq!(patch("buprenorphine_7day", 20.0), Some(48.0));
        assert_eq!(patch("buprenorphine_4day", 52.5), Some(126.0));
        assert_eq!(patch("buprenorphine_4day", 70.0), Some(168.0));
    }

    #[test]
    fn strengths_between_table_rows_are_interpolated() {
        assert_eq!(patch("fentanyl", 37.5), Some(90.0)); // 12.5 + 25 worn together
        assert_eq!(patch("fentanyl", 150.0), Some(360.0));
        assert_eq!(patch("fentanyl", 12.5), Some(30.0));
        assert_eq!(patch("buprenorphine_7day", 15.0), Some(36.0));
        assert_eq!(patch("buprenorphine_7day", 40.0), Some(96.0));
        assert_eq!(patch("buprenorphine_4day", 105.0), Some(252.0));
    }

    #[test]
    fn a_patch_ignores_any_oral_factor_or_dose() {
        assert_eq!(
            ome_mg_per_day(Some(1.0), Some("fentanyl"), Some(500.0), Some(25.0)),
            Some(60.0)
        );
        assert_eq!(
            ome_mg_per_day(None, Some("fentanyl"), Some(500.0), None),
            None
        );
        assert_eq!(
            ome_mg_per_day(Some(1.0), Some("morphine_patch"), Some(10.0), Some(25.0)),
            None
        );
        assert_eq!(Patch::parse("Fentanyl"), None);
    }

    #[test]
    fn the_high_dose_line_is_120_mg_inclusive() {
        assert_eq!(HIGH_DOSE_MG, 120.0);
        assert!(!is_high_dose(119.99));
        assert!(is_high_dose(120.0));
        assert!(is_high_dose(150.0));
        assert!(!is_high_dose(f64::NAN));
        assert!(is_high_dose(oral(0.1, 1200.0).unwrap()));
        assert!(is_high_dose(oral(1.5, 79.97).unwrap())); // ... and is flagged
        assert!(!is_high_dose(oral(1.5, 79.9).unwrap())); // 119.85 shows as 119.9
        assert!(is_high_dose(patch("fentanyl", 50.0).unwrap()));
        assert!(!is_high_dose(patch("buprenorphine_4day", 35.0).unwrap()));
        assert!(is_high_dose(patch("buprenorphine_4day", 52.5).unwrap()));
    }
}
