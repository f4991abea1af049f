//! Connect templates: how a catalogue implementation is connected, as a
//! Rust expression with holes that codegen fills in.
//!
//! A template is a string such as
//! `unik_unix::block::connect({param:file})`. It must be an expression of
//! type `Result<T, E>` with `E: Display` (generated code wraps it in
//! `unik_unix::boot::device(name, …)?`). Holes:
//!
//! | hole | becomes |
//! |---|---|
//! | `{0}`, `{1}`, … | the variable of the N-th functor argument (a `&'static T`) |
//! | `{dep:N}` | the variable of the N-th data dependency (a `&'static T`) |
//! | `{key:NAME}` | the value of key NAME, declared by this implementation: an `i64`, `bool` or `&str` expression |
//! | `{param:NAME}` | the implementation's parameter NAME as a Rust literal (string, integer or bool) |
//! | `{embed}` | the generated `static &[(&str, &[u8])]` of the embedded directory |
//! | `{module}` | the implementation's `module` path |
//! | `{{`, `}}` | a literal `{` or `}` |

use std::fmt;

/// One piece of a parsed template.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Piece {
    Text(String),
    Arg(usize),
    Dep(usize),
    Key(String),
    Param(String),
    Embed,
    Module,
}

/// Why a template is malformed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TemplateError(pub String);

impl fmt::Display for TemplateError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for TemplateError {}

/// Splits a template into text and holes.
pub fn parse(template: &str) -> Result<Vec<Piece>, TemplateError> {
    let mut out = Vec::new();
    let mut text = String::new();
    let mut chars = template.char_indices().peekable();
    while let Some((i, c)) = chars.next() {
        match c {
            '{' if chars.peek().map(|&(_, c)| c) == Some('{') => {
                chars.next();
                text.push('{');
            }
            '}' if chars.peek().map(|&(_, c)| c) == Some('}') => {
                chars.next();
                text.push('}');
            }
            '}' => {
                return Err(TemplateError(format!(
                    "unmatched `}}` at byte {i} (write `}}}}` for a literal brace)"
                )));
            }
            '{' => {
                let mut hole = String::new();
                let mut closed = false;
                for (_, c) in chars.by_ref() {
                    if c == '}' {
                        closed = true;
                        break;
                    }
                    hole.push(c);
                }
                if !closed {
                    return Err(TemplateError(format!("unclosed `{{` at byte {i}")));
                }
                if !text.is_empty() {
                    out.push(Piece::Text(std::mem::take(&mut text)));
                }
                out.push(hole_piece(&hole)?);
            }
            c => text.push(c),
        }
    }
    if !text.is_empty() {
        out.push(Piece::Text(text));
    }
    Ok(out)
}

fn hole_piece(hole: &str) -> Result<Piece, TemplateError> {
    let index = |s: &str| {
        s.parse::<usize>()
            .map_err(|_| TemplateError(format!("`{{{hole}}}`: `{s}` is not an argument index")))
    };
    let name = |s: &str| {
        if !s.is_empty()
            && s.chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
        {
            Ok(s.to_string())
        } else {
            Err(TemplateError(format!("`{{{hole}}}`: `{s}` is not a name")))
        }
    };
    if hole == "embed" {
        return Ok(Piece::Embed);
    }
    if hole == "module" {
        return Ok(Piece::Module);
    }
    if let Some(n) = hole.strip_prefix("dep:") {
        return Ok(Piece::Dep(index(n)?));
    }
    if let Some(k) = hole.strip_prefix("key:") {
        return Ok(Piece::Key(name(k)?));
    }
    if let Some(p) = hole.strip_prefix("param:") {
        return Ok(Piece::Param(name(p)?));
    }
    if hole.chars().next().is_some_and(|c| c.is_ascii_digit()) {
        return Ok(Piece::Arg(index(hole)?));
    }
    Err(TemplateError(format!(
        "unknown hole `{{{hole}}}` (holes are {{N}}, {{dep:N}}, {{key:NAME}}, {{param:NAME}}, {{embed}}, {{module}})"
    )))
}

/// What a template may refer to; used to validate it.
pub struct Scope<'a> {
    pub args: usize,
    pub deps: usize,
    pub keys: &'a [&'a str],
    pub params: &'a serde_json::Map<String, serde_json::Value>,
    pub embed: bool,
}

/// Checks that every hole refers to something that exists.
pub fn validate(template: &str, scope: &Scope) -> Result<(), TemplateError> {
    validate_pieces(&parse(template)?, scope)
}

/// [`validate`] for an already parsed template.
pub fn validate_pieces(pieces: &[Piece], scope: &Scope) -> Result<(), TemplateError> {
    for p in pieces {
        match p {
            Piece::Text(_) => {}
            Piece::Arg(n) if *n >= scope.args => {
                return Err(TemplateError(format!(
                    "`{{{n}}}` refers to argument {n}, but the functor takes {}",
                    scope.args
                )));
            }
            Piece::Dep(n) if *n >= scope.deps => {
                return Err(TemplateError(format!(
                    "`{{dep:{n}}}` refers to dependency {n}, but there are {}",
                    scope.deps
                )));
            }
            Piece::Key(k) if !scope.keys.contains(&k.as_str()) => {
                return Err(TemplateError(format!(
                    "`{{key:{k}}}`: the implementation declares no key `{k}`"
                )));
            }
            Piece::Param(p) => match scope.params.get(p) {
                None => {
                    return Err(TemplateError(format!(
                        "`{{param:{p}}}`: the implementation has no parameter `{p}`"
                    )));
                }
                Some(v) if literal(v).is_none() => {
                    return Err(TemplateError(format!(
                        "`{{param:{p}}}`: parameters are strings, integers or bools"
                    )));
                }
                Some(_) => {}
            },
            Piece::Embed if !scope.embed => {
                return Err(TemplateError(
                    "`{embed}` needs an `embed` directory on the implementation".into(),
                ));
            }
            _ => {}
        }
    }
    Ok(())
}

/// A parameter as a Rust literal.
pub fn literal(v: &serde_json::Value) -> Option<String> {
    match v {
        // `Debug` of a str is a valid Rust string literal.
        serde_json::Value::String(s) => Some(format!("{s:?}")),
        serde_json::Value::Number(n) if n.is_i64() => Some(n.to_string()),
        serde_json::Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

/// What codegen supplies to fill a template's holes.
pub struct Fill<'a> {
    /// Variables of the functor arguments, in order.
    pub args: &'a [String],
    /// Variables of the data dependencies, in order.
    pub deps: &'a [String],
    /// The Rust expression for a key's value.
    pub key: &'a dyn Fn(&str) -> String,
    /// The name of the embedded-files static, if the node has one.
    pub embed: Option<&'a str>,
}

/// Renders a node's connect template. Fails only if `fill` does not match
/// the node (templates were validated by the resolver).
pub fn render(node: &crate::model::Node, fill: &Fill) -> Result<String, TemplateError> {
    let template = node
        .connect
        .as_deref()
        .ok_or_else(|| TemplateError(format!("`{}` has no connect template", node.impl_name)))?;
    let mut out = String::new();
    for p in parse(template)? {
        match p {
            Piece::Text(t) => out.push_str(&t),
            Piece::Arg(n) => out.push_str(
                fill.args
                    .get(n)
                    .ok_or_else(|| TemplateError(format!("no variable for argument {n}")))?,
            ),
            Piece::Dep(n) => out.push_str(
                fill.deps
                    .get(n)
                    .ok_or_else(|| TemplateError(format!("no variable for dependency {n}")))?,
            ),
            Piece::Key(k) => out.push_str(&(fill.key)(&k)),
            Piece::Param(p) => {
                let lit = node
                    .params
                    .get(&p)
                    .and_then(literal)
                    .ok_or_else(|| TemplateError(format!("no literal parameter `{p}`")))?;
                out.push_str(&lit);
            }
            Piece::Module => out.push_str(&node.module),
            Piece::Embed => out.push_str(
                fill.embed
                    .ok_or_else(|| TemplateError("no embedded-files static".into()))?,
            ),
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_every_hole_and_escapes() {
        let p =
            parse("{module}::f({0}, {dep:1}, {key:port}, {param:file}, {embed}) {{x}}").unwrap();
        assert_eq!(
            p,
            vec![
                Piece::Module,
                Piece::Text("::f(".into()),
                Piece::Arg(0),
                Piece::Text(", ".into()),
                Piece::Dep(1),
                Piece::Text(", ".into()),
                Piece::Key("port".into()),
                Piece::Text(", ".into()),
                Piece::Param("file".into()),
                Piece::Text(", ".into()),
                Piece::Embed,
                Piece::Text(") {x}".into()),
            ]
        );
    }

    #[test]
    fn rejects_malformed_templates() {
        assert!(parse("f({0)").is_err());
        assert!(parse("f(0})").is_err());
        assert!(parse("{what}").is_err());
        assert!(parse("{dep:x}").is_err());
    }

    #[test]
    fn literals_are_rust_literals() {
        assert_eq!(
            literal(&serde_json::json!("a\"b\\c")).unwrap(),
            r#""a\"b\\c""#
        );
        assert_eq!(literal(&serde_json::json!(42)).unwrap(), "42");
        assert_eq!(literal(&serde_json::json!([1])), None);
    }
}
