//! The assurance pack ties every claim to a test by name: the hazard log and safety case
//! (`docs/CLINICAL_SAFETY.md`), the DPIA (`docs/DPIA.md`), the DTAC answers (`docs/DTAC.md`)
//! and the ASVS reading they point to (`docs/SECURITY.md`). This test reads them, collects
//! every test and browser spec they cite, and fails when one no longer exists, so a renamed or
//! deleted test cannot leave a claim behind.
//!
//! What a document may cite, always inside backticks:
//! - an integration or unit test: `tests/api/<module>.rs::<name>`, or `src/<file>.rs::tests::<name>`
//!   (any module path between the file and the name); the file must hold `fn <name>` under
//!   those modules, marked `#[test]` or `#[tokio::test]`. `::<name>` alone, later on the same
//!   line, is another test of the file cited last;
//! - a browser spec: `tests/e2e/specs/<file>.test.mjs`, or with the title of one of its tests
//!   `tests/e2e/specs/<file>.test.mjs::<title>` (the title as written in `test('…'` or
//!   `describe('…'`);
//! - any other file of the repository (`src/app/access/mod.rs`, `scripts/fuzz-api.sh`), and relative
//!   links `[text](path)`: the file must exist.
//!
//! Besides, every hazard of the log (`| HAZ-nn |` rows) and every risk of the DPIA
//! (`| DPR-nn |` rows) must cite at least one test, and the log must hold at least 12 hazards.

use std::path::{Path, PathBuf};

const DOCUMENTS: &[&str] = &[
    "docs/CLINICAL_SAFETY.md",
    "docs/DPIA.md",
    "docs/DTAC.md",
    "docs/SECURITY.md",
];

/// Where a citation may point: the top-level folders of the repository.
const ROOTS: &[&str] = &[
    "src/",
    "tests/",
    "docs/",
    "scripts/",
    "migrations/",
    "templates/",
    "static/",
    "bench/",
    ".ci/",
];

#[derive(Debug, Clone, PartialEq, Eq)]
enum Citation {
    /// A Rust test: its file, the modules inside the file, its name.
    Test {
        file: String,
        modules: Vec<String>,
        name: String,
    },
    /// A browser spec file, and the title of one of its tests if cited.
    Spec { file: String, title: Option<String> },
    /// Any other file of the repository.
    File(String),
}

impl Citation {
    fn is_test(&self) -> bool {
        matches!(self, Citation::Test { .. } | Citation::Spec { .. })
    }
}

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The contents of every backtick code span of a line.
fn code_spans(line: &str) -> Vec<&str> {
    let mut spans = Vec::new();
    let mut rest = line;
    while let Some(start) = rest.find('`') {
        let after = &rest[start + 1..];
        let Some(end) = after.find('`') else { break };
        spans.push(&after[..end]);
        rest = &after[end + 1..];
    }
    spans
}

/// The targets of the relative Markdown links of a line (`[text](target)`).
fn link_targets(line: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut rest = line;
    while let Some(i) = rest.find("](") {
        let after = &rest[i + 2..];
        let Some(end) = after.find(')') else { break };
        let target = &after[..end];
        if !target.contains("://") && !target.starts_with('#') && !target.starts_with("mailto:") {
            out.push(target.split('#').next().unwrap_or(target));
        }
        rest = &after[end..];
    }
    out
}

fn is_identifier(s: &str) -> bool {
    !s.is_empty() && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// The citations of one line, reading `::name` as a further test of the file cited last.
fn citations_of_line(line: &str, last_file: &mut Option<String>) -> Vec<Citation> {
    let mut out = Vec::new();
    for span in code_spans(line) {
        let span = span.trim();
        if let Some(name) = span.strip_prefix("::") {
            let parts: Vec<&str> = name.split("::").collect();
            if let (Some(file), true) = (last_file.clone(), parts.iter().all(|p| is_identifier(p)))
            {
                let (name, modules) = parts.split_last().map_or(("", &[][..]), |(n, m)| (*n, m));
                out.push(Citation::Test {
                    file,
                    modules: modules.iter().map(|m| m.to_string()).collect(),
                    name: name.to_string(),
                });
            }
            continue;
        }
        if !ROOTS.iter().any(|r| span.starts_with(r))
            || (span.contains(' ') && !span.contains("::"))
        {
            continue;
        }
        if let Some((file, rest)) = span.split_once("::") {
            if file.starts_with("tests/e2e/") {
                out.push(Citation::Spec {
                    file: file.to_string(),
                    title: Some(rest.to_string()),
                });
                continue;
            }
            let parts: Vec<&str> = rest.split("::").collect();
            if file.ends_with(".rs") && parts.iter().all(|p| is_identifier(p)) {
                let (name, modules) = parts.split_last().map_or(("", &[][..]), |(n, m)| (*n, m));
                *last_file = Some(file.to_string());
                out.push(Citation::Test {
                    file: file.to_string(),
                    modules: modules.iter().map(|m| m.to_string()).collect(),
                    name: name.to_string(),
                });
            }
            continue;
        }
        // A path (possibly a folder, or with a trailing glob such as `domain::filetype::tests`
        // written as a path): only plain file and folder paths are checked.
        if span.contains('*') || span.contains('<') {
            continue;
        }
        if span.starts_with("tests/e2e/specs/") && span.ends_with(".mjs") {
            out.push(Citation::Spec {
                file: span.to_string(),
                title: None,
            });
        } else {
            if span.ends_with(".rs") {
                *last_file = Some(span.to_string());
            }
            out.push(Citation::File(span.trim_end_matches('/').to_string()));
        }
    }
    out
}

/// Why a citation does not hold, if it does not.
fn check(c: &Citation) -> Option<String> {
    match c {
        Citation::File(path) => {
            (!root().join(path).exists()).then(|| format!("`{path}`: no such file"))
        }
        Citation::Spec { file, title } => {
            let Ok(text) = std::fs::read_to_string(root().join(file)) else {
                return Some(format!("`{file}`: no such browser spec"));
            };
            let title = title.as_deref()?;
            let found = ["test(", "describe("].iter().any(|call| {
                ['\'', '"', '`']
                    .iter()
                    .any(|q| text.contains(&format!("{call}{q}{title}{q}")))
            });
            (!found).then(|| format!("`{file}::{title}`: no test or describe with this title"))
        }
        Citation::Test {
            file,
            modules,
            name,
        } => {
            let Ok(text) = std::fs::read_to_string(root().join(file)) else {
                return Some(format!("`{file}::{name}`: no such file{}", moved(file)));
            };
            // Each module opens after the one before it; the test is after the last.
            let mut from = 0;
            for m in modules {
                match text[from..].find(&format!("mod {m} {{")) {
                    Some(i) => from += i,
                    None => return Some(format!("`{file}::{name}`: no `mod {m}` in the file")),
                }
            }
            let Some(at) = find_fn(&text[from..], name) else {
                return Some(format!(
                    "`{file}::{}`: no `fn {name}` there",
                    path_of(modules, name)
                ));
            };
            (!is_marked_test(&text[..from + at])).then(|| {
                format!(
                    "`{file}::{}`: `fn {name}` is not marked as a test",
                    path_of(modules, name)
                )
            })
        }
    }
}

/// Where a file of the same name is now, if it moved (a hint for the message).
fn moved(file: &str) -> String {
    fn walk(dir: &Path, name: &std::ffi::OsStr, found: &mut Vec<PathBuf>) {
        let Ok(entries) = std::fs::read_dir(dir) else {
            return;
        };
        for e in entries.flatten() {
            let p = e.path();
            if p.is_dir() {
                walk(&p, name, found);
            } else if p.file_name() == Some(name) {
                found.push(p);
            }
        }
    }
    let Some(name) = Path::new(file).file_name() else {
        return String::new();
    };
    let mut found = Vec::new();
    for top in ["src", "tests"] {
        walk(&root().join(top), name, &mut found);
    }
    let names: Vec<String> = found
        .iter()
        .filter_map(|p| p.strip_prefix(root()).ok())
        .map(|p| p.to_string_lossy().into_owned())
        .collect();
    if names.is_empty() {
        String::new()
    } else {
        format!(" (moved? a file of that name is at {})", names.join(", "))
    }
}

fn path_of(modules: &[String], name: &str) -> String {
    let mut p = modules.join("::");
    if !p.is_empty() {
        p.push_str("::");
    }
    p.push_str(name);
    p
}

/// Where `fn name(` (or `fn name<`) starts, as a whole word.
fn find_fn(text: &str, name: &str) -> Option<usize> {
    let needle = format!("fn {name}");
    let mut start = 0;
    while let Some(i) = text[start..].find(&needle) {
        let at = start + i;
        let next = text[at + needle.len()..].chars().next();
        let before = text[..at].chars().next_back();
        if matches!(next, Some('(') | Some('<'))
            && !before.is_some_and(|c| c.is_ascii_alphanumeric() || c == '_')
        {
            return Some(at);
        }
        start = at + needle.len();
    }
    None
}

/// Whether the item that `before` ends with (a `fn` about to start) carries a test attribute:
/// the lines just above it, through doc comments and other attributes.
fn is_marked_test(before: &str) -> bool {
    // The fn's own line, up to `fn`, is not one of them.
    let above = &before[..before.rfind('\n').unwrap_or(0)];
    for line in above.lines().rev() {
        let l = line.trim();
        if l.starts_with("#[") && l.contains("test") {
            return true;
        }
        if l.starts_with("#[") || l.starts_with("///") || l.starts_with("//") {
            continue;
        }
        // Any other line ends the item's attributes.
        return false;
    }
    false
}

struct Read {
    citations: Vec<(usize, Citation)>,
    /// Rows whose first cell starts with a given prefix, and whether they cite a test.
    rows: Vec<(String, bool)>,
}

fn read(doc: &str, row_prefix: &str) -> Read {
    let text = std::fs::read_to_string(root().join(doc))
        .unwrap_or_else(|e| panic!("{doc} cannot be read: {e}"));
    let mut citations = Vec::new();
    let mut rows = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let mut last_file = None;
        let found = citations_of_line(line, &mut last_file);
        let base = Path::new(doc).parent().unwrap_or(Path::new(""));
        for target in link_targets(line) {
            let joined = base.join(target);
            let normal = normalise(&joined);
            citations.push((i + 1, Citation::File(normal)));
        }
        // A row of the log is one whose first cell is exactly its id (`HAZ-07`).
        if let Some(rest) = line.trim_start().strip_prefix('|') {
            let id = rest.split('|').next().unwrap_or("").trim();
            if id
                .strip_prefix(row_prefix)
                .is_some_and(|n| !n.is_empty() && n.chars().all(|c| c.is_ascii_digit()))
            {
                rows.push((id.to_string(), found.iter().any(Citation::is_test)));
            }
        }
        citations.extend(found.into_iter().map(|c| (i + 1, c)));
    }
    Read { citations, rows }
}

/// `docs/../src/x.rs` as `src/x.rs`.
fn normalise(p: &Path) -> String {
    let mut parts: Vec<String> = Vec::new();
    for c in p.components() {
        match c {
            std::path::Component::ParentDir => {
                parts.pop();
            }
            std::path::Component::CurDir => {}
            other => parts.push(other.as_os_str().to_string_lossy().into_owned()),
        }
    }
    parts.join("/")
}

#[test]
fn every_test_the_assurance_documents_cite_exists() {
    let mut broken = Vec::new();
    for doc in DOCUMENTS {
        let r = read(doc, "\u{0}");
        let tests = r.citations.iter().filter(|(_, c)| c.is_test()).count();
        assert!(
            tests > 0,
            "{doc} cites no test: has its citation format changed?"
        );
        for (line, c) in &r.citations {
            if let Some(why) = check(c) {
                broken.push(format!("{doc}:{line}: {why}"));
            }
        }
    }
    assert!(
        broken.is_empty(),
        "{} citation(s) point at nothing (rename the citation with the test, or restore the test):\n{}",
        broken.len(),
        broken.join("\n")
    );
}

#[test]
fn every_hazard_and_every_data_protection_risk_names_a_test() {
    // An id may head rows of several tables (the log, the residual risks): it is tested when
    // one of its rows cites a test.
    let by_id = |rows: Vec<(String, bool)>| {
        let mut m = std::collections::BTreeMap::<String, bool>::new();
        for (id, tested) in rows {
            *m.entry(id).or_default() |= tested;
        }
        m
    };
    let hazards = by_id(read("docs/CLINICAL_SAFETY.md", "HAZ-").rows);
    assert!(
        hazards.len() >= 12,
        "the hazard log holds {} hazards; DCB0129 work for this service found at least 12",
        hazards.len()
    );
    let risks = by_id(read("docs/DPIA.md", "DPR-").rows);
    assert!(
        !risks.is_empty(),
        "the DPIA lists no risks (`| DPR-nn |` rows)"
    );
    let untested: Vec<&String> = hazards
        .iter()
        .chain(&risks)
        .filter(|(_, tested)| !**tested)
        .map(|(id, _)| id)
        .collect();
    assert!(untested.is_empty(), "rows that cite no test: {untested:?}");
}

/// The reader itself, on lines written the ways the documents write them.
#[test]
fn citations_are_read_in_every_form_the_documents_use() {
    let mut last = None;
    let line = "| x | `tests/api/audit.rs::a_tampered_event_is_caught_and_named`, `::a_removed_event_breaks_the_chain_at_the_next_one`; \
                `src/domain/ome.rs::tests::the_high_dose_line_is_120_mg_inclusive`; \
                `tests/e2e/specs/01-sign-in.test.mjs::public pages (help, privacy, accessibility) have no axe violations`; \
                `tests/e2e/specs/02-roles.test.mjs`; `src/app/access/mod.rs`; `CDC_RETENTION_YEARS`; `cdconcerns audit verify` |";
    let c = citations_of_line(line, &mut last);
    assert_eq!(c.len(), 6, "{c:?}");
    assert_eq!(
        c[1],
        Citation::Test {
            file: "tests/api/audit.rs".into(),
            modules: vec![],
            name: "a_removed_event_breaks_the_chain_at_the_next_one".into()
        }
    );
    assert_eq!(
        c[2],
        Citation::Test {
            file: "src/domain/ome.rs".into(),
            modules: vec!["tests".into()],
            name: "the_high_dose_line_is_120_mg_inclusive".into()
        }
    );
    for ok in &c {
        assert_eq!(check(ok), None, "{ok:?}");
    }
    // What must fail: a missing test, a helper that is not a test, a missing module, a
    // missing title, a missing file.
    for bad in [
        "`tests/api/audit.rs::no_such_test`",
        "`tests/api/audit.rs::many_events`",
        "`src/domain/ome.rs::nope::the_high_dose_line_is_120_mg_inclusive`",
        "`tests/e2e/specs/01-sign-in.test.mjs::no such title`",
        "`tests/api/nothing.rs::a_test`",
        "`docs/NOTHING.md`",
    ] {
        let c = citations_of_line(bad, &mut None);
        assert_eq!(c.len(), 1, "{bad}: {c:?}");
        assert!(check(&c[0]).is_some(), "{bad} passed");
    }
    assert_eq!(
        link_targets("see [the security document](SECURITY.md#v4) and [NHS](https://nhs.uk)"),
        vec!["SECURITY.md"]
    );
}
