//! The registry of diagnostic codes: a one-line title and a long explanation
//! for each. The explanations are the pages of the book's error index
//! (`book/src/errors/`), so the book and `unikc explain` show one text.

/// One diagnostic code and its documentation.
#[derive(Debug)]
pub struct Code {
    /// `E0201`, `W0101`, …
    pub code: &'static str,
    pub title: &'static str,
    /// Markdown: what it means, an erroneous example, the fix, a corrected example.
    pub text: &'static str,
}

macro_rules! codes {
    ($($code:literal: $title:literal,)*) => {
        static CODES: &[Code] = &[$(
            Code {
                code: $code,
                title: $title,
                text: include_str!(concat!("../../../book/src/errors/", $code, ".md")),
            },
        )*];
    };
}

codes! {
    "E0001": "internal error: unikc refused to finish a step it got wrong",
    "E0101": "syntax error",
    "E0102": "unterminated string or comment",
    "E0103": "invalid escape or integer literal",
    "E0201": "undefined variable",
    "E0202": "value of the wrong kind",
    "E0203": "missing attribute",
    "E0204": "infinite recursion",
    "E0205": "import: file not found or unreadable",
    "E0206": "import cycle",
    "E0207": "function argument mismatch",
    "E0208": "assertion failed",
    "E0209": "`throw` raised by the configuration",
    "E0210": "division by zero or integer overflow",
    "E0211": "evaluation too deep",
    "E0212": "duplicate attribute or binding",
    "E0301": "device type mismatch at `$`",
    "E0302": "`$` applied to a fully applied device",
    "E0303": "registered job is not of type `job`",
    "E0304": "the file does not evaluate to a register",
    "E0305": "unknown device type or malformed type expression",
    "E0306": "duplicate name",
    "E0401": "unknown target",
    "E0402": "implementation not available on this target",
    "E0501": "invalid version or bound",
    "E0502": "version bounds cannot be satisfied together",
    "E0503": "conflicting pins for one package",
    "E0504": "`unik.lock` is out of date",
    "E0505": "`unik.lock` missing",
    "E0506": "`unik.lock` unreadable or tampered with",
    "E0601": "unknown key on the command line",
    "E0602": "invalid key value",
    "E0604": "required key has no value",
    "E0701": "required tool missing",
    "E0702": "the generated workspace failed to build",
    "E0703": "the user's crate is missing or does not match",
    "E0704": "a generated file was changed by hand",
    "E0705": "an embedded directory cannot be read",
    "E0706": "the bundled runtime does not satisfy the bounds",
    "E0707": "a host device name the target cannot use",
    "E0708": "urunc cannot run images of this target",
    "E0709": "the registry cannot be reached or refused the image",
    "W0101": "unused binding",
    "W0301": "deprecated device",
}

/// Every documented code, in code order.
pub fn all() -> &'static [Code] {
    CODES
}

/// The entry of an exact code such as `E0201`, ignoring ASCII case.
pub fn lookup(code: &str) -> Option<&'static Code> {
    CODES.iter().find(|c| c.code.eq_ignore_ascii_case(code))
}

#[cfg(test)]
mod tests;
