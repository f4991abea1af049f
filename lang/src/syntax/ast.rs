//! The syntax tree. Every node carries its byte span in the source file.

use crate::diag::Span;
use std::rc::Rc;

/// Interned-ish name: cheap to clone, shared by the evaluator's scopes.
pub type Name = Rc<str>;

/// One parsed file: its expression (absent when nothing parsed) and its comments.
#[derive(Debug, Clone)]
pub struct Module {
    pub expr: Option<Expr>,
    pub comments: Vec<Comment>,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Comment {
    pub span: Span,
    pub text: String,
    pub block: bool,
}

#[derive(Debug, Clone)]
pub struct Expr {
    pub span: Span,
    pub kind: ExprKind,
}

#[derive(Debug, Clone)]
pub struct Ident {
    pub span: Span,
    pub name: Name,
}

/// An attribute name: `a` or `"a-b"`.
#[derive(Debug, Clone)]
pub struct AttrName {
    pub span: Span,
    pub name: Name,
    pub quoted: bool,
}

#[derive(Debug, Clone)]
pub enum StrPart {
    Lit(String),
    Interp(Expr),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UnOp {
    Not,
    Neg,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum BinOp {
    Mul,
    Div,
    Add,
    Sub,
    Concat,
    Update,
    Lt,
    Le,
    Gt,
    Ge,
    Eq,
    Ne,
    And,
    Or,
    /// `a @-> b`, the functor type.
    Arrow,
    /// `f $ x`, device application.
    DevApp,
}

impl BinOp {
    pub fn symbol(self) -> &'static str {
        match self {
            BinOp::Mul => "*",
            BinOp::Div => "/",
            BinOp::Add => "+",
            BinOp::Sub => "-",
            BinOp::Concat => "++",
            BinOp::Update => "//",
            BinOp::Lt => "<",
            BinOp::Le => "<=",
            BinOp::Gt => ">",
            BinOp::Ge => ">=",
            BinOp::Eq => "==",
            BinOp::Ne => "!=",
            BinOp::And => "&&",
            BinOp::Or => "||",
            BinOp::Arrow => "@->",
            BinOp::DevApp => "$",
        }
    }

    /// Binding strength, higher binds tighter (language.md's table).
    pub fn precedence(self) -> u8 {
        match self {
            BinOp::Mul | BinOp::Div => 10,
            BinOp::Add | BinOp::Sub => 9,
            BinOp::Concat => 8,
            BinOp::Update => 7,
            BinOp::Lt | BinOp::Le | BinOp::Gt | BinOp::Ge => 6,
            BinOp::Eq | BinOp::Ne => 5,
            BinOp::And => 4,
            BinOp::Or => 3,
            BinOp::Arrow => 2,
            BinOp::DevApp => 1,
        }
    }

    pub fn right_assoc(self) -> bool {
        matches!(self, BinOp::Arrow | BinOp::Concat | BinOp::Update)
    }
}

#[derive(Debug, Clone)]
pub enum ExprKind {
    Null,
    Bool(bool),
    Int(i64),
    /// A string; `indented` for `''…''` (the parts are already de-indented).
    Str {
        parts: Vec<StrPart>,
        indented: bool,
    },
    Path(String),
    Var(Name),
    Paren(Box<Expr>),
    List(Vec<Expr>),
    Attrs {
        rec: bool,
        bindings: Vec<Binding>,
    },
    Select {
        target: Box<Expr>,
        path: Vec<AttrName>,
        default: Option<Box<Expr>>,
    },
    HasAttr {
        target: Box<Expr>,
        path: Vec<AttrName>,
    },
    Apply {
        func: Box<Expr>,
        arg: Box<Expr>,
    },
    Unary {
        op: UnOp,
        operand: Box<Expr>,
    },
    Binary {
        op: BinOp,
        op_span: Span,
        lhs: Box<Expr>,
        rhs: Box<Expr>,
    },
    Let {
        bindings: Vec<Binding>,
        body: Box<Expr>,
    },
    If {
        cond: Box<Expr>,
        then: Box<Expr>,
        else_: Box<Expr>,
    },
    Assert {
        cond: Box<Expr>,
        body: Box<Expr>,
    },
    Lambda {
        param: Param,
        body: Box<Expr>,
    },
    Import(Box<Expr>),
    /// A piece that did not parse; its diagnostic was already reported.
    Error,
}

#[derive(Debug, Clone)]
pub struct Binding {
    pub span: Span,
    pub kind: BindingKind,
}

#[derive(Debug, Clone)]
pub enum BindingKind {
    /// `a.b.c = value;`
    Attr { path: Vec<AttrName>, value: Expr },
    /// `inherit x y;` or `inherit (e) x y;`
    Inherit {
        from: Option<Expr>,
        names: Vec<AttrName>,
    },
    /// A binding that did not parse.
    Error,
}

#[derive(Debug, Clone)]
pub enum Param {
    Ident(Ident),
    Pattern {
        fields: Vec<PatField>,
        ellipsis: bool,
        /// `args@{ … }` (`bind_first`) or `{ … }@args`.
        bind: Option<Ident>,
        bind_first: bool,
    },
}

#[derive(Debug, Clone)]
pub struct PatField {
    pub ident: Ident,
    pub default: Option<Expr>,
}

impl Expr {
    pub fn new(span: Span, kind: ExprKind) -> Expr {
        Expr { span, kind }
    }

    /// Visits direct sub-expressions (for analyses that walk the tree).
    pub fn children(&self) -> Vec<&Expr> {
        let mut out: Vec<&Expr> = Vec::new();
        match &self.kind {
            ExprKind::Null
            | ExprKind::Bool(_)
            | ExprKind::Int(_)
            | ExprKind::Path(_)
            | ExprKind::Var(_)
            | ExprKind::Error => {}
            ExprKind::Str { parts, .. } => {
                for p in parts {
                    if let StrPart::Interp(e) = p {
                        out.push(e);
                    }
                }
            }
            ExprKind::Paren(e) | ExprKind::Import(e) => out.push(e),
            ExprKind::List(items) => out.extend(items.iter()),
            ExprKind::Attrs { bindings, .. } => push_bindings(&mut out, bindings),
            ExprKind::Select {
                target, default, ..
            } => {
                out.push(target);
                if let Some(d) = default {
                    out.push(d);
                }
            }
            ExprKind::HasAttr { target, .. } => out.push(target),
            ExprKind::Apply { func, arg } => {
                out.push(func);
                out.push(arg);
            }
            ExprKind::Unary { operand, .. } => out.push(operand),
            ExprKind::Binary { lhs, rhs, .. } => {
                out.push(lhs);
                out.push(rhs);
            }
            ExprKind::Let { bindings, body } => {
                push_bindings(&mut out, bindings);
                out.push(body);
            }
            ExprKind::If { cond, then, else_ } => {
                out.push(cond);
                out.push(then);
                out.push(else_);
            }
            ExprKind::Assert { cond, body } => {
                out.push(cond);
                out.push(body);
            }
            ExprKind::Lambda { param, body } => {
                if let Param::Pattern { fields, .. } = param {
                    out.extend(fields.iter().filter_map(|f| f.default.as_ref()));
                }
                out.push(body);
            }
        }
        out
    }
}

fn push_bindings<'a>(out: &mut Vec<&'a Expr>, bindings: &'a [Binding]) {
    for b in bindings {
        match &b.kind {
            BindingKind::Attr { value, .. } => out.push(value),
            BindingKind::Inherit { from: Some(e), .. } => out.push(e),
            _ => {}
        }
    }
}
