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
