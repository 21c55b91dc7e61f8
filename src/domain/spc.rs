//! Statistical process control: the XmR chart as NHS England's "Making Data Count" draws it.
//!
//! - **Limits.** The mean of the baseline points, and the mean moving range (the average of
//!   the absolute differences between consecutive points). The process limits are
//!   mean ± 2.66 × mean moving range; counts cannot be negative, so the lower limit is
//!   floored at 0.
//! - **Signals** ("special cause variation"), each point marked with at most one, in this
//!   order of precedence:
//!   - `outside_limits`: a point above the upper or below the lower limit;
//!   - `run_above` / `run_below`: 7 or more consecutive points above (or below) the mean —
//!     a point exactly on the mean ends a run — and every point of the run is marked;
//!   - `trend_up` / `trend_down`: 6 or more consecutive points each higher (or lower) than
//!     the one before — an equal value ends a trend — and every point of the trend is marked.
//! - **Phases.** When something changed on purpose (an improvement initiative), the limits are
//!   recalculated from the month it started: each phase has its own mean and limits, and the
//!   rules run within a phase. Whether a signal followed the change is judged against the
//!   limits of the phase before it ([`after_change`]).
//!
//! Pure arithmetic, no I/O: the worked examples below are its specification.

use chrono::{Datelike, NaiveDate};
use serde::Serialize;

/// The multiplier of the mean moving range (3 / d2, d2 = 1.128 for ranges of 2 points).
pub const SIGMA_FACTOR: f64 = 2.66;
/// Points on one side of the mean that make a run.
pub const RUN: usize = 7;
/// Consecutive points, each higher (or lower) than the last, that make a trend.
pub const TREND: usize = 6;

/// A special-cause signal.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Signal {
    OutsideLimits,
    RunAbove,
    RunBelow,
    TrendUp,
    TrendDown,
}

impl Signal {
    pub fn code(self) -> &'static str {
        match self {
            Signal::OutsideLimits => "outside_limits",
            Signal::RunAbove => "run_above",
            Signal::RunBelow => "run_below",
            Signal::TrendUp => "trend_up",
            Signal::TrendDown => "trend_down",
        }
    }

    /// What the signal means, in words for a page.
    pub fn describe(self) -> &'static str {
        match self {
            Signal::OutsideLimits => "a month outside the process limits",
            Signal::RunAbove => "7 or more months in a row above the mean",
            Signal::RunBelow => "7 or more months in a row below the mean",
            Signal::TrendUp => "6 or more months in a row, each higher than the last",
            Signal::TrendDown => "6 or more months in a row, each lower than the last",
        }
    }
}

/// The centre line and process limits of a phase.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Limits {
    pub mean: f64,
    pub upper: f64,
    pub lower: f64,
}

/// The limits of a baseline; `None` for no points. One point has no moving range, so its
/// limits are the point itself.
pub fn limits(baseline: &[f64]) -> Option<Limits> {
    if baseline.is_empty() {
        return None;
    }
    let n = baseline.len() as f64;
    let mean = baseline.iter().sum::<f64>() / n;
    let ranges: Vec<f64> = baseline.windows(2).map(|w| (w[1] - w[0]).abs()).collect();
    let mr = if ranges.is_empty() {
        0.0
    } else {
        ranges.iter().sum::<f64>() / ranges.len() as f64
    };
    Some(Limits {
        mean,
        upper: mean + SIGMA_FACTOR * mr,
        lower: (mean - SIGMA_FACTOR * mr).max(0.0),
    })
}

/// The signal at each point of `values` against `l`.
pub fn signals(values: &[f64], l: &Limits) -> Vec<Option<Signal>> {
    let mut out: Vec<Option<Signal>> = vec![None; values.len()];
    // Trends first, then runs, then points outside the limits: a later rule overwrites an
    // earlier one, so the precedence is outside > run > trend.
    mark_streaks(values, &mut out, TREND, |a, b| b > a, Signal::TrendUp);
    mark_streaks(values, &mut out, TREND, |a, b| b < a, Signal::TrendDown);
    mark_sides(values, &mut out, |v| v > l.mean, Signal::RunAbove);
    mark_sides(values, &mut out, |v| v < l.mean, Signal::RunBelow);
    for (i, v) in values.iter().enumerate() {
        if *v > l.upper || *v < l.lower {
            out[i] = Some(Signal::OutsideLimits);
        }
    }
    out
}

/// Marks every point of each stretch of at least `min` consecutive points where each step
/// from one point to the next satisfies `step`.
fn mark_streaks(
    values: &[f64],
    out: &mut [Option<Signal>],
    min: usize,
    step: impl Fn(f64, f64) -> bool,
    signal: Signal,
) {
    let mut start = 0;
    for i in 1..=values.len() {
        let continues = i < values.len() && step(values[i - 1], values[i]);
        if !continues {
            if i - start >= min {
                for s in &mut out[start..i] {
                    *s = Some(signal);
                }
            }
            start = i;
        }
    }
}

/// Marks every point of each stretch of at least [`RUN`] consecutive points on `side`.
fn mark_sides(
    values: &[f64],
    out: &mut [Option<Signal>],
    side: impl Fn(f64) -> bool,
    signal: Signal,
) {
    let mut start = 0;
    for i in 0..=values.len() {
        let on_side = i < values.len() && side(values[i]);
        if !on_side {
            if i - start >= RUN {
                for s in &mut out[start..i] {
                    *s = Some(signal);
                }
            }
            start = i + 1;
        }
    }
}

/// One point of an XmR chart.
#[derive(Clone, Debug, PartialEq)]
pub struct XmrPoint {
    pub value: f64,
    pub mean: f64,
    pub upper: f64,
    pub lower: f64,
    pub signal: Option<Signal>,
    /// The first point of a phase after the first (limits recalculated here).
    pub phase_start: bool,
}

/// The chart of `values`, with the limits recalculated at each index of `breaks` (the first
/// point of a new phase; out-of-range or repeated breaks are ignored).
pub fn xmr(values: &[f64], breaks: &[usize]) -> Vec<XmrPoint> {
    let mut cuts: Vec<usize> = breaks
        .iter()
        .copied()
        .filter(|b| *b > 0 && *b < values.len())
        .collect();
    cuts.sort_unstable();
    cuts.dedup();
    let mut bounds = vec![0];
    bounds.extend(cuts);
    bounds.push(values.len());
    let mut out = Vec::with_capacity(values.len());
    for (k, w) in bounds.windows(2).enumerate() {
        let phase = &values[w[0]..w[1]];
        let Some(l) = limits(phase) else { continue };
        for (i, (v, s)) in phase.iter().zip(signals(phase, &l)).enumerate() {
            out.push(XmrPoint {
                value: *v,
                mean: l.mean,
                upper: l.upper,
                lower: l.lower,
                signal: s,
                phase_start: k > 0 && i == 0,
            });
        }
    }
    out
}

/// What followed a change made before `values[start]`.
#[derive(Clone, Debug, PartialEq)]
pub struct ChangeVerdict {
    /// The mean of the months before the change (its phase) and from the change on.
    pub before_mean: f64,
    pub after_mean: f64,
    /// The first signal of the months from the change on, judged against the limits of the
    /// months before it, with the index of the month it is complete at.
    pub signal: Option<(Signal, usize)>,
}

/// Judges the months from `start` on against the limits of the `before` months that precede
/// it (`values[before_from..start]`). `None` when either side has no months.
pub fn after_change(values: &[f64], before_from: usize, start: usize) -> Option<ChangeVerdict> {
    if before_from >= start || start >= values.len() {
        return None;
    }
    let before = &values[before_from..start];
    let after = &values[start..];
    let l = limits(before)?;
    let marks = signals(after, &l);
    let signal = marks
        .iter()
        .enumerate()
        .find_map(|(i, s)| s.map(|s| (s, start + i)));
    // A run or trend is marked on all its points but is only complete at its last: report
    // the month by which it was established.
    let signal = signal.map(|(s, first)| match s {
        Signal::OutsideLimits => (s, first),
        Signal::RunAbove | Signal::RunBelow => (s, first + RUN - 1),
        Signal::TrendUp | Signal::TrendDown => (s, first + TREND - 1),
    });
    Some(ChangeVerdict {
        before_mean: l.mean,
        after_mean: after.iter().sum::<f64>() / after.len() as f64,
        signal,
    })
}

/// The first day of the month of `d`.
pub fn month_start(d: NaiveDate) -> NaiveDate {
    d.with_day(1).unwrap_or(d)
}

/// The first day of the month after the month of `d`.
pub fn next_month(d: NaiveDate) -> NaiveDate {
    let (y, m) = if d.month() == 12 {
        (d.year() + 1, 1)
    } else {
        (d.year(), d.month() + 1)
    };
    NaiveDate::from_ymd_opt(y, m, 1).unwrap_or(d)
}

/// The last day of the month of `d`.
pub fn month_end(d: NaiveDate) -> NaiveDate {
    next_month(d).pred_opt().unwrap_or(d)
}

/// `2026-01` for any day of January 2026.
pub fn month_key(d: NaiveDate) -> String {
    d.format("%Y-%m").to_string()
}

/// The first day of a month written `2026-01`.
pub fn parse_month(s: &str) -> Option<NaiveDate> {
    let s = s.trim();
    if s.len() != 7 {
        return None;
    }
    NaiveDate::parse_from_str(&format!("{s}-01"), "%Y-%m-%d").ok()
}

/// Every month from `from` to `to` inclusive (first days), at most `max` of the latest.
pub fn months_between(from: NaiveDate, to: NaiveDate, max: usize) -> Vec<NaiveDate> {
    let mut out = Vec::new();
    let mut m = month_start(from);
    let end = month_start(to);
    while m <= end {
        out.push(m);
        m = next_month(m);
    }
    if out.len() > max {
        out.drain(..out.len() - max);
    }
    out
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() < 1e-9
    }

    const L: Limits = Limits {
        mean: 10.0,
        upper: 16.0,
        lower: 4.0,
    };

    fn codes(v: &[Option<Signal>]) -> Vec<&'static str> {
        v.iter()
            .map(|s| s.map(Signal::code).unwrap_or("-"))
            .collect()
    }

    #[test]
    fn limits_are_the_mean_plus_or_minus_2_66_mean_moving_ranges() {
        // mean 55/5 = 11; moving ranges 2, 1, 2, 4: mean 2.25; 2.66 × 2.25 = 5.985.
        let l = limits(&[10.0, 12.0, 11.0, 13.0, 9.0]).unwrap();
        assert!(close(l.mean, 11.0));
        assert!(close(l.upper, 16.985));
        assert!(close(l.lower, 5.015));
    }

    #[test]
    fn the_lower_limit_is_floored_at_zero() {
        // mean 3; moving ranges 4, 4, 4: 3 − 10.64 < 0.
        let l = limits(&[1.0, 5.0, 1.0, 5.0]).unwrap();
        assert!(close(l.mean, 3.0));
        assert!(close(l.upper, 13.64));
        assert_eq!(l.lower, 0.0);
    }

    #[test]
    fn one_point_or_none() {
        assert_eq!(limits(&[]), None);
        assert_eq!(
            limits(&[4.0]),
            Some(Limits {
                mean: 4.0,
                upper: 4.0,
                lower: 4.0
            })
        );
    }

    #[test]
    fn a_point_beyond_either_limit_is_outside_the_limits() {
        assert_eq!(
            codes(&signals(&[10.0, 17.0, 9.0, 3.0, 16.0, 4.0], &L)),
            ["-", "outside_limits", "-", "outside_limits", "-", "-"],
            "on a limit is inside"
        );
    }

    #[test]
    fn seven_points_above_the_mean_are_a_run_and_six_are_not() {
        let seven = [11.0, 12.0, 11.0, 13.0, 11.0, 12.0, 11.0];
        assert_eq!(codes(&signals(&seven, &L)), ["run_above"; 7]);
        let six = [11.0, 12.0, 11.0, 13.0, 11.0, 12.0, 9.0];
        assert_eq!(codes(&signals(&six, &L)), ["-"; 7]);
        // Eight in a row: all eight are marked, and the point before is not.
        let eight = [9.0, 11.0, 12.0, 11.0, 13.0, 11.0, 12.0, 11.0, 12.0];
        let s = codes(&signals(&eight, &L));
        assert_eq!(s[0], "-");
        assert!(s[1..].iter().all(|c| *c == "run_above"));
    }

    #[test]
    fn seven_points_below_the_mean_are_a_run() {
        let seven = [9.0, 8.0, 9.0, 7.0, 9.0, 8.0, 9.0];
        assert_eq!(codes(&signals(&seven, &L)), ["run_below"; 7]);
    }

    #[test]
    fn a_point_on_the_mean_ends_a_run() {
        let broken = [11.0, 11.0, 11.0, 10.0, 11.0, 11.0, 11.0, 11.0];
        assert_eq!(codes(&signals(&broken, &L)), ["-"; 8]);
    }

    #[test]
    fn six_points_each_higher_than_the_last_are_a_trend_up_and_five_are_not() {
        let six = [5.0, 6.0, 7.0, 8.0, 9.0, 10.0];
        assert_eq!(codes(&signals(&six, &L)), ["trend_up"; 6]);
        let five = [5.0, 6.0, 7.0, 8.0, 9.0];
        assert_eq!(codes(&signals(&five, &L)), ["-"; 5]);
    }

    #[test]
    fn six_points_each_lower_than_the_last_are_a_trend_down() {
        let six = [15.0, 14.0, 13.0, 12.0, 11.0, 10.0];
        assert_eq!(codes(&signals(&six, &L)), ["trend_down"; 6]);
    }

    #[test]
    fn an_equal_value_ends_a_trend() {
        let flat = [5.0, 6.0, 7.0, 7.0, 8.0, 9.0, 10.0];
        assert_eq!(codes(&signals(&flat, &L)), ["-"; 7]);
    }

    #[test]
    fn outside_the_limits_takes_precedence_over_a_run_and_a_run_over_a_trend() {
        let s = signals(&[11.0, 12.0, 11.0, 17.0, 11.0, 12.0, 11.0], &L);
        assert_eq!(
            codes(&s),
            [
                "run_above",
                "run_above",
                "run_above",
                "outside_limits",
                "run_above",
                "run_above",
                "run_above"
            ]
        );
        // Seven rising points above the mean: a run and a trend; the run is shown.
        let s = signals(&[10.5, 11.0, 11.5, 12.0, 12.5, 13.0, 13.5], &L);
        assert_eq!(codes(&s), ["run_above"; 7]);
    }

    #[test]
    fn each_phase_has_its_own_limits() {
        let v = [10.0, 12.0, 11.0, 13.0, 9.0, 4.0, 5.0, 4.0, 6.0, 5.0];
        let chart = xmr(&v, &[5]);
        assert_eq!(chart.len(), 10);
        assert!(close(chart[0].mean, 11.0) && close(chart[4].upper, 16.985));
        // Second phase: mean 24/5 = 4.8; moving ranges 1, 1, 2, 1: mean 1.25.
        assert!(close(chart[5].mean, 4.8));
        assert!(close(chart[9].upper, 4.8 + 2.66 * 1.25));
        assert!(close(chart[9].lower, 4.8 - 2.66 * 1.25));
        assert!(chart[5].phase_start && !chart[0].phase_start && !chart[6].phase_start);
        assert!(chart.iter().all(|p| p.signal.is_none()));
        // Out-of-range and repeated breaks are ignored.
        assert_eq!(xmr(&v, &[0, 10, 99]), xmr(&v, &[]));
        assert_eq!(xmr(&v, &[5, 5]), chart);
        assert!(xmr(&[], &[]).is_empty());
    }

    #[test]
    fn a_change_is_judged_against_the_limits_before_it() {
        // Before: mean 11, lower limit 5.015; the first month after, 4, is below it.
        let v = [10.0, 12.0, 11.0, 13.0, 9.0, 4.0, 5.0, 4.0, 6.0, 5.0];
        let verdict = after_change(&v, 0, 5).unwrap();
        assert!(close(verdict.before_mean, 11.0));
        assert!(close(verdict.after_mean, 4.8));
        assert_eq!(verdict.signal, Some((Signal::OutsideLimits, 5)));
        // Seven months just under the old mean: a run, established at its seventh month.
        let mut w = vec![10.0, 12.0, 11.0, 13.0, 9.0];
        w.extend([10.0, 9.0, 10.0, 9.0, 10.0, 9.0, 10.0]);
        let verdict = after_change(&w, 0, 5).unwrap();
        assert_eq!(verdict.signal, Some((Signal::RunBelow, 11)));
        // No signal yet.
        let verdict = after_change(&w[..10], 0, 5).unwrap();
        assert_eq!(verdict.signal, None);
        assert_eq!(after_change(&v, 5, 5), None);
        assert_eq!(after_change(&v, 0, 10), None);
    }

    #[test]
    fn months() {
        let d = |s: &str| NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap();
        assert_eq!(month_start(d("2026-02-17")), d("2026-02-01"));
        assert_eq!(month_end(d("2026-02-17")), d("2026-02-28"));
        assert_eq!(month_end(d("2028-02-01")), d("2028-02-29"));
        assert_eq!(month_end(d("2026-12-31")), d("2026-12-31"));
        assert_eq!(next_month(d("2026-12-09")), d("2027-01-01"));
        assert_eq!(month_key(d("2026-01-31")), "2026-01");
        assert_eq!(parse_month("2026-01"), Some(d("2026-01-01")));
        assert_eq!(parse_month("2026-13"), None);
        assert_eq!(parse_month("2026-1"), None);
        let m = months_between(d("2025-11-20"), d("2026-02-02"), 24);
        assert_eq!(
            m,
            [
                d("2025-11-01"),
                d("2025-12-01"),
                d("2026-01-01"),
                d("2026-02-01")
            ]
        );
        assert_eq!(
            months_between(d("2025-11-20"), d("2026-02-02"), 2),
            [d("2026-01-01"), d("2026-02-01")]
        );
        assert!(months_between(d("2026-03-01"), d("2026-02-01"), 24).is_empty());
    }
}
