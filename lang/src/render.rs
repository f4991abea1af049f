//! Rendering of [`Diagnostic`]s: miette for people, JSON lines for tools.

use crate::diag::{Diagnostic, FileId, Severity, SourceMap};
use miette::{
    GraphicalReportHandler, GraphicalTheme, LabeledSpan, MietteError, MietteSpanContents,
    SourceCode, SourceSpan, SpanContents,
};
use std::fmt;

/// Human rendering options.
#[derive(Clone, Copy, Debug)]
pub struct HumanStyle {
    pub color: bool,
    pub unicode: bool,
    pub width: usize,
}

impl HumanStyle {
    /// Deterministic output for tests and pipes: no colour, ASCII art, 100 columns.
    pub fn plain() -> HumanStyle {
        HumanStyle {
            color: false,
            unicode: false,
            width: 100,
        }
    }
}

/// Renders one diagnostic the way miette draws it, with every label, `help:` and notes.
pub fn human(diag: &Diagnostic, sources: &SourceMap, style: HumanStyle) -> String {
    if diag.code.is_empty() && diag.labels.is_empty() {
        return plain(diag);
    }
    let theme = match (style.unicode, style.color) {
        (true, true) => GraphicalTheme::unicode(),
        (true, false) => GraphicalTheme::unicode_nocolor(),
        (false, true) => GraphicalTheme::ascii(),
        (false, false) => GraphicalTheme::none(),
    };
    let handler = GraphicalReportHandler::new_themed(theme)
        .with_width(style.width)
        .with_links(false)
        .with_context_lines(1);
    let mut out = String::new();
    let report = Report::new(diag, sources);
    if handler.render_report(&mut out, &report).is_err() {
        out = format!(
            "{}[{}]: {}\n",
            diag.severity.as_str(),
            diag.code,
            diag.message
        );
    }
    out
}

/// A diagnostic without a code or a place (a file could not be written, a
/// tool failed): the lines tools like cargo print for such failures.
fn plain(diag: &Diagnostic) -> String {
    let mut out = format!("{}: {}\n", diag.severity.as_str(), heading(diag));
    for n in &diag.notes {
        out.push_str(&format!("  = note: {n}\n"));
    }
    if let Some(h) = &diag.help {
        out.push_str(&format!("  = help: {h}\n"));
    }
    out
}

/// One JSON object, the fields of `cli.md`.
pub fn json(diag: &Diagnostic, sources: &SourceMap) -> serde_json::Value {
    let labels: Vec<serde_json::Value> = diag
        .labels
        .iter()
        .map(|l| {
            let file = sources.get(l.loc.file);
            let (line, column) = file.line_col(l.loc.span.start);
            serde_json::json!({
                "file": file.name,
                "start": l.loc.span.start,
                "end": l.loc.span.end,
                "line": line,
                "column": column,
                "message": l.message,
            })
        })
        .collect();
    serde_json::json!({
        "code": (!diag.code.is_empty()).then_some(diag.code),
        "severity": diag.severity.as_str(),
        "message": diag.message,
        "target": if diag.targets.is_empty() { serde_json::Value::Null } else { diag.targets.join(",").into() },
        "labels": labels,
        "help": diag.help,
        "notes": diag.notes,
    })
}

/// The message with the targets it concerns, as printed in headings.
fn heading(diag: &Diagnostic) -> String {
    match diag.targets.len() {
        0 => diag.message.clone(),
        1 => format!("{} (target {})", diag.message, diag.targets[0]),
        _ => format!("{} (targets {})", diag.message, diag.targets.join(", ")),
    }
}

/// miette wants one source per diagnostic: labels in the primary file stay on
/// the report, labels in other files become related reports of their own.
struct Report<'a> {
    diag: &'a Diagnostic,
    sources: &'a SourceMap,
    file: Option<FileId>,
    heading: String,
    related: Vec<Related<'a>>,
}

struct Related<'a> {
    sources: &'a SourceMap,
    file: FileId,
    labels: Vec<(u32, u32, String)>,
}

impl<'a> Report<'a> {
    fn new(diag: &'a Diagnostic, sources: &'a SourceMap) -> Report<'a> {
        let file = diag.primary().map(|l| l.file);
        let mut related: Vec<Related<'a>> = Vec::new();
        for l in &diag.labels {
            if Some(l.loc.file) == file {
                continue;
            }
            let entry = (l.loc.span.start, l.loc.span.end, l.message.clone());
            match related.iter_mut().find(|r| r.file == l.loc.file) {
                Some(r) => r.labels.push(entry),
                None => related.push(Related {
                    sources,
                    file: l.loc.file,
                    labels: vec![entry],
                }),
            }
        }
        Report {
            diag,
            sources,
            file,
            heading: heading(diag),
            related,
        }
    }
}

impl fmt::Debug for Report<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.heading)
    }
}
impl fmt::Display for Report<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.heading)
    }
}
impl std::error::Error for Report<'_> {}

impl miette::Diagnostic for Report<'_> {
    fn code<'b>(&'b self) -> Option<Box<dyn fmt::Display + 'b>> {
        (!self.diag.code.is_empty()).then(|| Box::new(self.diag.code) as Box<dyn fmt::Display>)
    }
    fn severity(&self) -> Option<miette::Severity> {
        Some(match self.diag.severity {
            Severity::Error => miette::Severity::Error,
            Severity::Warning => miette::Severity::Warning,
        })
    }
    fn help<'b>(&'b self) -> Option<Box<dyn fmt::Display + 'b>> {
        let mut parts: Vec<String> = Vec::new();
        if let Some(h) = &self.diag.help {
            parts.push(h.clone());
        }
        for n in &self.diag.notes {
            parts.push(format!("note: {n}"));
        }
        if parts.is_empty() {
            None
        } else {
            Some(Box::new(parts.join("\n")))
        }
    }
    fn source_code(&self) -> Option<&dyn SourceCode> {
        self.file.map(|f| self.sources.get(f) as &dyn SourceCode)
    }
    fn labels(&self) -> Option<Box<dyn Iterator<Item = LabeledSpan> + '_>> {
        let file = self.file?;
        Some(Box::new(
            self.diag
                .labels
                .iter()
                .filter(move |l| l.loc.file == file)
                .enumerate()
                .map(|(i, l)| {
                    let span = SourceSpan::from((l.loc.span.start as usize, l.loc.span.len()));
                    let text = (!l.message.is_empty()).then(|| l.message.clone());
                    if i == 0 {
                        LabeledSpan::new_primary_with_span(text, span)
                    } else {
                        LabeledSpan::new_with_span(text, span)
                    }
                }),
        ))
    }
    fn related<'b>(&'b self) -> Option<Box<dyn Iterator<Item = &'b dyn miette::Diagnostic> + 'b>> {
        if self.related.is_empty() {
            return None;
        }
        Some(Box::new(
            self.related.iter().map(|r| r as &dyn miette::Diagnostic),
        ))
    }
}

impl fmt::Debug for Related<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "in {}", self.sources.get(self.file).name)
    }
}
impl fmt::Display for Related<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "in {}", self.sources.get(self.file).name)
    }
}
impl std::error::Error for Related<'_> {}

impl miette::Diagnostic for Related<'_> {
    fn severity(&self) -> Option<miette::Severity> {
        Some(miette::Severity::Advice)
    }
    fn source_code(&self) -> Option<&dyn SourceCode> {
        Some(self.sources.get(self.file) as &dyn SourceCode)
    }
    fn labels(&self) -> Option<Box<dyn Iterator<Item = LabeledSpan> + '_>> {
        Some(Box::new(self.labels.iter().map(|(s, e, m)| {
            let text = (!m.is_empty()).then(|| m.clone());
            LabeledSpan::new_with_span(text, SourceSpan::from((*s as usize, (*e - *s) as usize)))
        })))
    }
}

/// Files render with their display name, so miette prints `[file:line:col]`.
impl SourceCode for crate::diag::SourceFile {
    fn read_span<'a>(
        &'a self,
        span: &SourceSpan,
        context_lines_before: usize,
        context_lines_after: usize,
    ) -> Result<Box<dyn SpanContents<'a> + 'a>, MietteError> {
        let inner = self
            .text
            .read_span(span, context_lines_before, context_lines_after)?;
        Ok(Box::new(MietteSpanContents::new_named(
            self.name.clone(),
            inner.data(),
            *inner.span(),
            inner.line(),
            inner.column(),
            inner.line_count(),
        )))
    }
}
