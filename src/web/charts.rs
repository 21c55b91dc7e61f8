//! Bar charts drawn on the server as SVG (no JavaScript, nothing from elsewhere).
//!
//! A chart is a picture of a table, never the only copy of its figures: every page that
//! shows one puts the data table beside it. The SVG is `role="img"` with a `<title>` and a
//! `<desc>` that sum the figures up in words, its axes are labelled in visible text, each
//! bar carries its count as text (so nothing is told by colour alone), and the colours are
//! the NHS palette. Labels go through askama, so they are escaped like any other text.

use askama::Template;

/// One bar: its label and count (`None`: suppressed, a count from 1 to 4 that is not shown).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Datum {
    pub label: String,
    pub count: Option<i64>,
}

impl Datum {
    pub fn new(label: impl Into<String>, count: Option<i64>) -> Self {
        Self {
            label: label.into(),
            count,
        }
    }
}

/// Which way the bars run.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Orientation {
    /// Bars grow to the right, one row per item: long category names stay readable.
    Horizontal,
    /// Columns along a time axis (months).
    Vertical,
}

/// What to draw and how to describe it.
pub struct ChartSpec<'a> {
    /// Unique on the page: the ids of `<title>` and `<desc>` derive from it.
    pub id: &'a str,
    pub title: &'a str,
    /// The axis along which the items are listed, e.g. "Category" or "Month".
    pub item_axis: &'a str,
    /// The axis of the counts, e.g. "Number of reports".
    pub count_axis: &'a str,
    /// The noun for one count in the description, e.g. "report".
    pub unit: &'a str,
    pub orientation: Orientation,
}

/// SVG markup made by `render`: already escaped, so a template may insert it as it is.
#[derive(Clone, Debug, Default)]
pub struct Svg(String);

impl Svg {
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Display for Svg {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

// The text was escaped by the chart's own template.
impl askama::filters::HtmlSafe for Svg {}

/// NHS colours (NHS identity guidelines).
const NHS_BLUE: &str = "#005eb8";
const NHS_DARK_GREY: &str = "#425563";
const NHS_TEXT: &str = "#212b32";
const NHS_GRID: &str = "#d8dde0";

pub struct Bar {
    /// The label, wrapped into at most two lines.
    pub lines: Vec<String>,
    pub x: i64,
    pub y: i64,
    pub w: i64,
    pub h: i64,
    /// Where the item's label goes.
    pub label_x: i64,
    pub label_y: i64,
    /// Where the count (or "fewer than 5") goes, and its anchor.
    pub count_x: i64,
    pub count_y: i64,
    pub count_text: String,
    pub suppressed: bool,
}

pub struct Tick {
    pub x1: i64,
    pub y1: i64,
    pub x2: i64,
    pub y2: i64,
    pub text_x: i64,
    pub text_y: i64,
    pub tick_text: String,
}

#[derive(Template)]
#[template(path = "stats/_bar_chart.html")]
struct ChartSvg<'a> {
    id: &'a str,
    title: &'a str,
    desc: String,
    width: i64,
    height: i64,
    horizontal: bool,
    bars: Vec<Bar>,
    ticks: Vec<Tick>,
    /// Baseline of the count axis.
    axis_x1: i64,
    axis_y1: i64,
    axis_x2: i64,
    axis_y2: i64,
    item_axis: &'a str,
    item_axis_x: i64,
    item_axis_y: i64,
    count_axis: &'a str,
    count_axis_x: i64,
    count_axis_y: i64,
    bar_colour: &'static str,
    text_colour: &'static str,
    muted_colour: &'static str,
    grid_colour: &'static str,
}

/// A "nice" step for about `want` intervals up to `max`: 1, 2 or 5 times a power of ten.
fn nice_step(max: i64, want: i64) -> i64 {
    let raw = (max.max(1) as f64) / (want.max(1) as f64);
    let mut step = 1_i64;
    loop {
        for m in [1, 2, 5] {
            let s = step * m;
            if (s as f64) >= raw {
                return s;
            }
        }
        step = step.saturating_mul(10);
        if step >= i64::MAX / 10 {
            return step;
        }
    }
}

/// Splits a label into at most two lines of about `width` characters, ending with "…" when
/// it is longer (the table beside the chart always has the whole label).
fn wrap(label: &str, width: usize) -> Vec<String> {
    let mut lines: Vec<String> = Vec::new();
    let mut current = String::new();
    for word in label.split_whitespace() {
        let needed = if current.is_empty() {
            word.chars().count()
        } else {
            current.chars().count() + 1 + word.chars().count()
        };
        if needed > width && !current.is_empty() {
            lines.push(std::mem::take(&mut current));
        }
        if !current.is_empty() {
            current.push(' ');
        }
        current.push_str(word);
    }
    if !current.is_empty() {
        lines.push(current);
    }
    if lines.len() > 2 {
        let mut second: String = lines[1..].join(" ");
        if second.chars().count() > width.saturating_sub(1) {
            second = second.chars().take(width.saturating_sub(1)).collect();
        }
        lines.truncate(1);
        lines.push(format!("{}…", second.trim_end()));
    }
    lines
        .into_iter()
        .map(|l| {
            if l.chars().count() > width + 4 {
                let cut: String = l.chars().take(width).collect();
                format!("{cut}…")
            } else {
                l
            }
        })
        .collect()
}

fn plural(n: i64, unit: &str) -> String {
    if n == 1 {
        format!("1 {unit}")
    } else {
        format!("{n} {unit}s")
    }
}

/// The words a screen reader hears for the chart: what it shows, the largest items, the
/// total, and what was suppressed.
pub fn describe(spec: &ChartSpec<'_>, data: &[Datum]) -> String {
    let shown: Vec<&Datum> = data.iter().filter(|d| d.count.is_some()).collect();
    let suppressed = data.len() - shown.len();
    let total: i64 = shown.iter().filter_map(|d| d.count).sum();
    let mut parts = vec![format!(
        "Bar chart of {} by {}, {} item{}.",
        spec.count_axis.to_lowercase(),
        spec.item_axis.to_lowercase(),
        data.len(),
        if data.len() == 1 { "" } else { "s" }
    )];
    let mut ranked = shown.clone();
    ranked.sort_by(|a, b| b.count.cmp(&a.count).then_with(|| a.label.cmp(&b.label)));
    let top: Vec<String> = ranked
        .iter()
        .take(3)
        .map(|d| format!("{}: {}", d.label, plural(d.count.unwrap_or(0), spec.unit)))
        .collect();
    if !top.is_empty() {
        parts.push(format!("Largest: {}.", top.join("; ")));
    }
    parts.push(format!("Total shown: {}.", plural(total, spec.unit)));
    if suppressed > 0 {
        parts.push(format!(
            "{suppressed} item{} with fewer than 5 {}s not shown.",
            if suppressed == 1 { "" } else { "s" },
            spec.unit
        ));
    }
    parts.push("The table that follows has every figure.".into());
    parts.join(" ")
}

/// Draws the chart. An empty `data` draws nothing (the page says there is nothing to show).
pub fn render(spec: &ChartSpec<'_>, data: &[Datum]) -> Svg {
    if data.is_empty() {
        return Svg::default();
    }
    let max = data
        .iter()
        .filter_map(|d| d.count)
        .max()
        .unwrap_or(0)
        .max(1);
    let step = nice_step(max, 4);
    let top = ((max + step - 1) / step).max(1) * step;
    let desc = describe(spec, data);
    let t = match spec.orientation {
        Orientation::Horizontal => horizontal(spec, data, step, top, desc),
        Orientation::Vertical => vertical(spec, data, step, top, desc),
    };
    match t.render() {
        Ok(s) => Svg(s),
        Err(e) => {
            tracing::error!(error = %e, "chart template");
            Svg::default()
        }
    }
}

fn count_text(c: Option<i64>) -> String {
    match c {
        Some(n) => n.to_string(),
        None => "fewer than 5".into(),
    }
}

fn horizontal<'a>(
    spec: &ChartSpec<'a>,
    data: &[Datum],
    step: i64,
    top: i64,
    desc: String,
) -> ChartSvg<'a> {
    const WIDTH: i64 = 720;
    const LABEL_W: i64 = 250;
    const RIGHT: i64 = 90;
    const HEAD: i64 = 34;
    const BAR: i64 = 20;
    let x0 = LABEL_W + 12;
    let wrapped: Vec<Vec<String>> = data.iter().map(|d| wrap(&d.label, 36)).collect();
    // Rows with a label on two lines need the room.
    let row_h: i64 = if wrapped.iter().any(|l| l.len() > 1) {
        42
    } else {
        34
    };
    let plot_w = WIDTH - x0 - RIGHT;
    let rows = i64::try_from(data.len()).unwrap_or(0);
    let plot_h = rows * row_h;
    let height = HEAD + plot_h + 52;
    let bars = data
        .iter()
        .zip(wrapped)
        .enumerate()
        .map(|(i, (d, lines))| {
            let i = i64::try_from(i).unwrap_or(0);
            let y = HEAD + i * row_h + (row_h - BAR) / 2;
            let w = d.count.map(|n| n * plot_w / top).unwrap_or(0);
            let label_y = if lines.len() > 1 {
                y + BAR / 2 - 3
            } else {
                y + BAR / 2 + 5
            };
            Bar {
                lines,
                x: x0,
                y,
                w: if d.count.is_some_and(|n| n > 0) {
                    w.max(2)
                } else {
                    0
                },
                h: BAR,
                label_x: LABEL_W,
                label_y,
                count_x: x0 + w + 6,
                count_y: y + BAR / 2 + 5,
                count_text: count_text(d.count),
                suppressed: d.count.is_none(),
            }
        })
        .collect();
    let mut ticks = Vec::new();
    let mut v = 0;
    while v <= top {
        let x = x0 + v * plot_w / top;
        ticks.push(Tick {
            x1: x,
            y1: HEAD - 4,
            x2: x,
            y2: HEAD + plot_h,
            text_x: x,
            text_y: HEAD + plot_h + 18,
            tick_text: v.to_string(),
        });
        v += step;
    }
    ChartSvg {
        id: spec.id,
        title: spec.title,
        desc,
        width: WIDTH,
        height,
        horizontal: true,
        bars,
        ticks,
        axis_x1: x0,
        axis_y1: HEAD - 4,
        axis_x2: x0,
        axis_y2: HEAD + plot_h,
        item_axis: spec.item_axis,
        item_axis_x: LABEL_W,
        item_axis_y: 18,
        count_axis: spec.count_axis,
        count_axis_x: x0 + plot_w / 2,
        count_axis_y: HEAD + plot_h + 42,
        bar_colour: NHS_BLUE,
        text_colour: NHS_TEXT,
        muted_colour: NHS_DARK_GREY,
        grid_colour: NHS_GRID,
    }
}

fn vertical<'a>(
    spec: &ChartSpec<'a>,
    data: &[Datum],
    step: i64,
    top: i64,
    desc: String,
) -> ChartSvg<'a> {
    const WIDTH: i64 = 720;
    const LEFT: i64 = 70;
    const RIGHT: i64 = 20;
    const HEAD: i64 = 40;
    const PLOT_H: i64 = 220;
    let n = i64::try_from(data.len()).unwrap_or(1).max(1);
    let plot_w = WIDTH - LEFT - RIGHT;
    let slot = plot_w / n;
    let bar_w = (slot * 7 / 10).clamp(2, 60);
    let base = HEAD + PLOT_H;
    // Labels of many months would collide: label every k-th one (the table has them all).
    let every = usize::try_from((n + 11) / 12).unwrap_or(1).max(1);
    let show_counts = n <= 16;
    let bars = data
        .iter()
        .enumerate()
        .map(|(i, d)| {
            let ii = i64::try_from(i).unwrap_or(0);
            let h = d.count.map(|c| c * PLOT_H / top).unwrap_or(0);
            let h = if d.count.is_some_and(|c| c > 0) {
                h.max(2)
            } else {
                0
            };
            let x = LEFT + ii * slot + (slot - bar_w) / 2;
            let centre = x + bar_w / 2;
            let lines = if i % every == 0 {
                wrap(&d.label, 10)
            } else {
                vec![]
            };
            Bar {
                lines,
                x,
                y: base - h,
                w: bar_w,
                h,
                label_x: centre,
                label_y: base + 18,
                count_x: centre,
                count_y: base - h - 6,
                count_text: if show_counts || d.count.is_none() {
                    if d.count.is_none() {
                        "<5".into()
                    } else {
                        count_text(d.count)
                    }
                } else {
                    String::new()
                },
                suppressed: d.count.is_none(),
            }
        })
        .collect();
    let mut ticks = Vec::new();
    let mut v = 0;
    while v <= top {
        let y = base - v * PLOT_H / top;
        ticks.push(Tick {
            x1: LEFT - 4,
            y1: y,
            x2: WIDTH - RIGHT,
            y2: y,
            text_x: LEFT - 8,
            text_y: y + 4,
            tick_text: v.to_string(),
        });
        v += step;
    }
    ChartSvg {
        id: spec.id,
        title: spec.title,
        desc,
        width: WIDTH,
        height: base + 70,
        horizontal: false,
        bars,
        ticks,
        axis_x1: LEFT,
        axis_y1: base,
        axis_x2: WIDTH - RIGHT,
        axis_y2: base,
        item_axis: spec.item_axis,
        item_axis_x: LEFT + plot_w / 2,
        item_axis_y: base + 62,
        count_axis: spec.count_axis,
        count_axis_x: LEFT,
        count_axis_y: 18,
        bar_colour: NHS_BLUE,
        text_colour: NHS_TEXT,
        muted_colour: NHS_DARK_GREY,
        grid_colour: NHS_GRID,
    }
}

// =============================================================================================
// XmR (statistical process control) charts
// =============================================================================================

/// One month of an XmR chart as drawn.
#[derive(Clone, Debug, PartialEq)]
pub struct XmrDatum {
    /// A short label for the axis, like "Jan 2026".
    pub label: String,
    /// `None`: suppressed (a count from 1 to 4 for an analyst).
    pub value: Option<i64>,
    pub mean: f64,
    pub upper: f64,
    pub lower: f64,
    /// The signal in words, if any ("run above the mean").
    pub signal: Option<String>,
    /// The limits are recalculated from this month (an improvement initiative started).
    pub phase_start: bool,
}

pub struct XmrMark {
    pub x: i64,
    pub y: i64,
    pub signal: bool,
}

pub struct XmrLine {
    pub x1: i64,
    pub y1: i64,
    pub x2: i64,
    pub y2: i64,
}

pub struct XmrLabel {
    pub x: i64,
    pub y: i64,
    pub text: String,
}

#[derive(Template)]
#[template(path = "stats/_xmr_chart.html")]
struct XmrSvg<'a> {
    id: &'a str,
    title: &'a str,
    desc: String,
    width: i64,
    height: i64,
    ticks: Vec<Tick>,
    /// The data line: runs of consecutive shown months, each a `points` attribute.
    paths: Vec<String>,
    marks: Vec<XmrMark>,
    means: Vec<XmrLine>,
    limits: Vec<XmrLine>,
    phases: Vec<XmrLine>,
    x_labels: Vec<XmrLabel>,
    axis_y: i64,
    left: i64,
    right_x: i64,
    count_axis: &'a str,
    legend_y: i64,
    data_colour: &'static str,
    signal_colour: &'static str,
    mean_colour: &'static str,
    limit_colour: &'static str,
    text_colour: &'static str,
    muted_colour: &'static str,
    grid_colour: &'static str,
}

const NHS_RED: &str = "#d5281b";
const NHS_MID_GREY: &str = "#768692";

fn number_words(x: f64) -> String {
    let r = (x * 10.0).round() / 10.0;
    if r.fract() == 0.0 {
        format!("{r:.0}")
    } else {
        format!("{r:.1}")
    }
}

/// The words a screen reader hears for an XmR chart.
pub fn describe_xmr(title: &str, unit: &str, data: &[XmrDatum]) -> String {
    let (Some(first), Some(last)) = (data.first(), data.last()) else {
        return format!("{title}: no months to show.");
    };
    let mut parts = vec![format!(
        "XmR chart of {} per month, {} month{} from {} to {}.",
        plural_noun(unit),
        data.len(),
        if data.len() == 1 { "" } else { "s" },
        first.label,
        last.label
    )];
    // One sentence per phase.
    let mut start = 0;
    for i in 1..=data.len() {
        if i == data.len() || data[i].phase_start {
            let p = &data[start];
            let from = if start == 0 {
                String::new()
            } else {
                format!("From {}: ", p.label)
            };
            parts.push(format!(
                "{from}mean {} a month, process limits {} to {}.",
                number_words(p.mean),
                number_words(p.lower),
                number_words(p.upper)
            ));
            start = i;
        }
    }
    let signals: Vec<String> = data
        .iter()
        .filter_map(|d| d.signal.as_ref().map(|s| format!("{} ({s})", d.label)))
        .collect();
    if signals.is_empty() {
        parts.push(
            "No signals: every month is within what the others would lead you to expect.".into(),
        );
    } else {
        parts.push(format!(
            "Signals in {}: {}.",
            signals.len(),
            signals.join("; ")
        ));
    }
    let hidden = data.iter().filter(|d| d.value.is_none()).count();
    if hidden > 0 {
        parts.push(format!(
            "{hidden} month{} with fewer than 5 not shown.",
            if hidden == 1 { "" } else { "s" }
        ));
    }
    parts.push("The table that follows has every figure.".into());
    parts.join(" ")
}

fn plural_noun(unit: &str) -> String {
    format!("{unit}s")
}

/// Draws an XmR chart: the monthly values joined by a line, the mean and process limits of
/// each phase, signals as squares (not only by colour), and where each phase starts.
pub fn render_xmr(id: &str, title: &str, count_axis: &str, unit: &str, data: &[XmrDatum]) -> Svg {
    if data.is_empty() {
        return Svg::default();
    }
    const WIDTH: i64 = 720;
    const LEFT: i64 = 60;
    const RIGHT: i64 = 20;
    const HEAD: i64 = 40;
    const PLOT_H: i64 = 220;
    let base = HEAD + PLOT_H;
    let max = data
        .iter()
        .map(|d| (d.value.unwrap_or(0) as f64).max(d.upper))
        .fold(1.0_f64, f64::max)
        .ceil() as i64;
    let step = nice_step(max, 4);
    let top = ((max + step - 1) / step).max(1) * step;
    let n = i64::try_from(data.len()).unwrap_or(1).max(1);
    let plot_w = WIDTH - LEFT - RIGHT;
    let slot = plot_w / n;
    let x = |i: usize| LEFT + i64::try_from(i).unwrap_or(0) * slot + slot / 2;
    let y = |v: f64| base - ((v * PLOT_H as f64) / top as f64).round() as i64;
    let mut paths = Vec::new();
    let mut current = Vec::new();
    let mut marks = Vec::new();
    for (i, d) in data.iter().enumerate() {
        if d.phase_start && !current.is_empty() {
            paths.push(std::mem::take(&mut current).join(" "));
        }
        match d.value {
            Some(v) => {
                let (px, py) = (x(i), y(v as f64));
                current.push(format!("{px},{py}"));
                marks.push(XmrMark {
                    x: px,
                    y: py,
                    signal: d.signal.is_some(),
                });
            }
            None => {
                if !current.is_empty() {
                    paths.push(std::mem::take(&mut current).join(" "));
                }
            }
        }
    }
    if !current.is_empty() {
        paths.push(current.join(" "));
    }
    // Phases: runs of months sharing their limits.
    let mut means = Vec::new();
    let mut limits = Vec::new();
    let mut phases = Vec::new();
    let mut start = 0;
    for i in 1..=data.len() {
        if i == data.len() || data[i].phase_start {
            let p = &data[start];
            let (x1, x2) = (x(start) - slot / 2 + 2, x(i - 1) + slot / 2 - 2);
            means.push(XmrLine {
                x1,
                y1: y(p.mean),
                x2,
                y2: y(p.mean),
            });
            for l in [p.upper, p.lower] {
                limits.push(XmrLine {
                    x1,
                    y1: y(l),
                    x2,
                    y2: y(l),
                });
            }
            if start > 0 {
                let px = x(start) - slot / 2;
                phases.push(XmrLine {
                    x1: px,
                    y1: HEAD - 10,
                    x2: px,
                    y2: base,
                });
            }
            start = i;
        }
    }
    let every = usize::try_from((n + 11) / 12).unwrap_or(1).max(1);
    let x_labels = data
        .iter()
        .enumerate()
        .filter(|(i, _)| i % every == 0)
        .map(|(i, d)| XmrLabel {
            x: x(i),
            y: base + 18,
            text: d.label.clone(),
        })
        .collect();
    let mut ticks = Vec::new();
    let mut v = 0;
    while v <= top {
        let ty = y(v as f64);
        ticks.push(Tick {
            x1: LEFT - 4,
            y1: ty,
            x2: WIDTH - RIGHT,
            y2: ty,
            text_x: LEFT - 8,
            text_y: ty + 4,
            tick_text: v.to_string(),
        });
        v += step;
    }
    let t = XmrSvg {
        id,
        title,
        desc: describe_xmr(title, unit, data),
        width: WIDTH,
        height: base + 64,
        ticks,
        paths,
        marks,
        means,
        limits,
        phases,
        x_labels,
        axis_y: base,
        left: LEFT,
        right_x: WIDTH - RIGHT,
        count_axis,
        legend_y: base + 48,
        data_colour: NHS_BLUE,
        signal_colour: NHS_RED,
        mean_colour: NHS_DARK_GREY,
        limit_colour: NHS_MID_GREY,
        text_colour: NHS_TEXT,
        muted_colour: NHS_DARK_GREY,
        grid_colour: NHS_GRID,
    };
    match t.render() {
        Ok(s) => Svg(s),
        Err(e) => {
            tracing::error!(error = %e, "chart template");
            Svg::default()
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn spec(o: Orientation) -> ChartSpec<'static> {
        ChartSpec {
            id: "chart-category",
            title: "Reports by category",
            item_axis: "Category",
            count_axis: "Number of reports",
            unit: "report",
            orientation: o,
        }
    }

    #[test]
    fn a_chart_is_an_image_with_a_title_a_description_and_labelled_axes() {
        let data = vec![
            Datum::new("Theft or diversion", Some(12)),
            Datum::new("Stock <discrepancy> & \"loss\"", Some(3)),
            Datum::new("CBPM", None),
        ];
        for o in [Orientation::Horizontal, Orientation::Vertical] {
            let svg = render(&spec(o), &data).to_string();
            assert!(svg.starts_with("<svg"), "{svg}");
            assert!(svg.contains(r#"role="img""#));
            assert!(
                svg.contains(r#"<title id="chart-category-title">Reports by category</title>"#)
            );
            assert!(svg.contains(r#"aria-labelledby="chart-category-title""#));
            assert!(svg.contains(r#"aria-describedby="chart-category-desc""#));
            assert!(svg.contains("Theft or diversion: 12 reports"));
            assert!(svg.contains("1 item with fewer than 5 reports not shown"));
            assert!(svg.contains(">Category<") && svg.contains(">Number of reports<"));
            assert!(
                svg.contains("&#60;discrepancy&#62;") || svg.contains("&lt;discrepancy&gt;"),
                "labels are escaped"
            );
            assert!(!svg.contains("<discrepancy>"));
            assert!(svg.contains("#005eb8"));
        }
        let h = render(&spec(Orientation::Horizontal), &data).to_string();
        assert!(
            h.contains(">fewer than 5<"),
            "suppressed values say so in words"
        );
        assert!(h.contains(">12<"), "each bar carries its count as text");
    }

    fn month(label: &str, value: Option<i64>, signal: Option<&str>, phase_start: bool) -> XmrDatum {
        XmrDatum {
            label: label.into(),
            value,
            mean: if label.starts_with("Apr") { 2.0 } else { 5.0 },
            upper: 8.0,
            lower: 1.0,
            signal: signal.map(str::to_string),
            phase_start,
        }
    }

    #[test]
    fn an_xmr_chart_is_an_image_described_in_words() {
        let data = vec![
            month("Jan 2026", Some(5), None, false),
            month("Feb 2026", Some(9), Some("outside the limits"), false),
            month("Mar 2026", None, None, false),
            month("Apr 2026", Some(2), None, true),
        ];
        let svg = render_xmr(
            "chart-spc",
            "High-dose opioid <incidents>",
            "Incidents",
            "incident",
            &data,
        )
        .to_string();
        assert!(svg.starts_with("<svg") && svg.contains(r#"role="img""#));
        assert!(svg.contains(r#"aria-labelledby="chart-spc-title""#));
        assert!(svg.contains("&#60;incidents&#62;") || svg.contains("&lt;incidents&gt;"));
        let desc = describe_xmr("T", "incident", &data);
        assert!(
            desc.contains("4 months from Jan 2026 to Apr 2026"),
            "{desc}"
        );
        assert!(
            desc.contains("mean 5 a month, process limits 1 to 8"),
            "{desc}"
        );
        assert!(desc.contains("From Apr 2026: mean 2 a month"), "{desc}");
        assert!(
            desc.contains("Signals in 1: Feb 2026 (outside the limits)"),
            "{desc}"
        );
        assert!(
            desc.contains("1 month with fewer than 5 not shown"),
            "{desc}"
        );
        // The signal is a square, the others circles; the new phase is marked.
        assert_eq!(
            svg.matches("<rect").count(),
            1 + 1,
            "one signal and the legend's"
        );
        assert!(svg.contains("Limits recalculated"));
        assert!(
            render_xmr("x", "T", "I", "incident", &[])
                .as_str()
                .is_empty()
        );
    }

    #[test]
    fn nothing_is_drawn_for_no_data() {
        assert!(
            render(&spec(Orientation::Horizontal), &[])
                .as_str()
                .is_empty()
        );
    }

    #[test]
    fn steps_and_labels_are_tidy() {
        assert_eq!(nice_step(12, 4), 5);
        assert_eq!(nice_step(3, 4), 1);
        assert_eq!(nice_step(1000, 4), 500);
        assert_eq!(nice_step(0, 4), 1);
        assert_eq!(wrap("Short", 36), vec!["Short"]);
        let long = wrap(
            "Lost, stolen or forged prescriptions or requisitions and some more words here to cut",
            36,
        );
        assert_eq!(long.len(), 2);
        assert!(long[1].ends_with('…'));
    }
}
