//! Unary and binary operators.

use super::Evaluator;
use super::value::*;
use crate::diag::{Diagnostic, FileId, Loc};
use crate::syntax::{BinOp, Expr, UnOp};
use std::rc::Rc;

pub fn unary<'a>(op: UnOp, v: Value<'a>, loc: Loc, operand: Loc) -> R<Value<'a>> {
    match (op, v) {
        (UnOp::Not, Value::Bool(b)) => Ok(Value::Bool(!b)),
        (UnOp::Neg, Value::Int(n)) => n.checked_neg().map(Value::Int).ok_or_else(|| {
            Diagnostic::error("E0210", "integer overflow")
                .label(loc, "negating this overflows a 64-bit integer")
                .into()
        }),
        (op, v) => Err(Diagnostic::error(
            "E0202",
            format!(
                "`{}` needs {}, found {}",
                if op == UnOp::Not { "!" } else { "-" },
                if op == UnOp::Not { "a bool" } else { "an int" },
                v.kind()
            ),
        )
        .label(operand, format!("this is {}", v.kind()))
        .into()),
    }
}

fn mismatch(op: BinOp, at: Loc, l: (&Value, Loc), r: (&Value, Loc), expected: &str) -> Stop {
    Diagnostic::error(
        "E0202",
        format!(
            "`{}` cannot combine {} and {}",
            op.symbol(),
            l.0.kind(),
            r.0.kind()
        ),
    )
    .label(at, format!("`{}` works on {expected}", op.symbol()))
    .label(l.1, format!("this is {}", l.0.kind()))
    .label(r.1, format!("this is {}", r.0.kind()))
    .into()
}

fn overflow(at: Loc, what: &str) -> Stop {
    Diagnostic::error("E0210", format!("integer {what}"))
        .label(at, format!("{what} here"))
        .into()
}

pub fn binary<'a>(
    ev: &Evaluator<'a>,
    op: BinOp,
    at: Loc,
    lhs: &'a Expr,
    rhs: &'a Expr,
    env: &Env<'a>,
    file: FileId,
) -> R<Value<'a>> {
    let lloc = Loc::new(file, lhs.span);
    let rloc = Loc::new(file, rhs.span);
    // Short-circuit operators evaluate the right side only when needed.
    if matches!(op, BinOp::And | BinOp::Or) {
        let l = ev.bool(lhs, env, file)?;
        return match (op, l) {
            (BinOp::And, false) => Ok(Value::Bool(false)),
            (BinOp::Or, true) => Ok(Value::Bool(true)),
            _ => ev.bool(rhs, env, file).map(Value::Bool),
        };
    }
    let l = ev.eval(lhs, env, file)?;
    let r = ev.eval(rhs, env, file)?;
    match op {
        BinOp::Add => match (&l, &r) {
            (Value::Int(a), Value::Int(b)) => a
                .checked_add(*b)
                .map(Value::Int)
                .ok_or_else(|| overflow(at, "overflow")),
            (Value::Str(a), Value::Str(b)) => Ok(Value::Str(format!("{a}{b}").into())),
            (Value::Str(a), Value::Path(b)) => {
                Ok(Value::Str(format!("{a}{}", ev.display_path(b)).into()))
            }
            (Value::Path(a), Value::Str(b)) => {
                let joined = format!("{}{}", a.display(), b);
                Ok(Value::Path(Rc::new(crate::path::normalize(
                    std::path::Path::new(&joined),
                ))))
            }
            _ => Err(mismatch(
                op,
                at,
                (&l, lloc),
                (&r, rloc),
                "ints, strings and paths",
            )),
        },
        BinOp::Sub | BinOp::Mul | BinOp::Div => {
            let (Value::Int(a), Value::Int(b)) = (&l, &r) else {
                return Err(mismatch(op, at, (&l, lloc), (&r, rloc), "ints"));
            };
            let v = match op {
                BinOp::Sub => a.checked_sub(*b),
                BinOp::Mul => a.checked_mul(*b),
                _ => {
                    if *b == 0 {
                        return Err(Diagnostic::error("E0210", "division by zero")
                            .label(rloc, "this is zero")
                            .into());
                    }
                    a.checked_div(*b)
                }
            };
            v.map(Value::Int).ok_or_else(|| overflow(at, "overflow"))
        }
        BinOp::Concat => match (&l, &r) {
            (Value::List(a), Value::List(b)) => {
                let mut v = (**a).clone();
                v.extend(b.iter().cloned());
                Ok(Value::List(Rc::new(v)))
            }
            _ => Err(mismatch(op, at, (&l, lloc), (&r, rloc), "lists")),
        },
        BinOp::Update => match (&l, &r) {
            (Value::Attrs(a), Value::Attrs(b)) => {
                let mut m = (**a).clone();
                for (k, v) in b.iter() {
                    m.insert(k.clone(), v.clone());
                }
                Ok(Value::Attrs(Rc::new(m)))
            }
            _ => Err(mismatch(op, at, (&l, lloc), (&r, rloc), "attribute sets")),
        },
        BinOp::Lt | BinOp::Le | BinOp::Gt | BinOp::Ge => {
            let ord = match (&l, &r) {
                (Value::Int(a), Value::Int(b)) => a.cmp(b),
                (Value::Str(a), Value::Str(b)) => a.cmp(b),
                (Value::Path(a), Value::Path(b)) => a.cmp(b),
                _ => return Err(mismatch(op, at, (&l, lloc), (&r, rloc), "ints or strings")),
            };
            Ok(Value::Bool(match op {
                BinOp::Lt => ord.is_lt(),
                BinOp::Le => ord.is_le(),
                BinOp::Gt => ord.is_gt(),
                _ => ord.is_ge(),
            }))
        }
        BinOp::Eq => equal(ev, &l, &r).map(Value::Bool),
        BinOp::Ne => equal(ev, &l, &r).map(|b| Value::Bool(!b)),
        BinOp::Arrow => match (&l, &r) {
            (Value::Type(a), Value::Type(b)) => {
                Ok(Value::Type(Rc::new(DevType::Fn(a.clone(), b.clone()))))
            }
            _ => {
                let bad = if matches!(l, Value::Type(_)) {
                    (&r, rloc)
                } else {
                    (&l, lloc)
                };
                Err(Diagnostic::error(
                    "E0305",
                    format!(
                        "malformed device type: `@->` needs device types, found {}",
                        bad.0.kind()
                    ),
                )
                .label(
                    bad.1,
                    format!("this is {}, not a device type", bad.0.kind()),
                )
                .help("device types are written like `console @-> stackv4 @-> job`")
                .into())
            }
        },
        BinOp::DevApp => match (&l, &r) {
            (Value::Device(f), Value::Device(x)) => Ok(Value::Device(Rc::new(Device {
                kind: DeviceKind::App {
                    func: f.clone(),
                    arg: x.clone(),
                    arg_loc: rloc,
                    arg_from: super::name_place(rhs, env),
                    func_from: super::name_place(lhs, env),
                },
                loc: at,
            }))),
            _ => {
                let bad = if matches!(l, Value::Device(_)) {
                    (&r, rloc)
                } else {
                    (&l, lloc)
                };
                Err(Diagnostic::error(
                    "E0202",
                    format!("`$` applies a device to a device, found {}", bad.0.kind()),
                )
                .label(bad.1, format!("this is {}, not a device", bad.0.kind()))
                .help("`$` connects devices: `main $ default_console`")
                .into())
            }
        },
        BinOp::And | BinOp::Or => unreachable!("handled above"),
    }
}

/// Structural equality; forces both sides as deep as needed. Functions are never equal.
pub fn equal<'a>(ev: &Evaluator<'a>, l: &Value<'a>, r: &Value<'a>) -> R<bool> {
    Ok(match (l, r) {
        (Value::Null, Value::Null) => true,
        (Value::Bool(a), Value::Bool(b)) => a == b,
        (Value::Int(a), Value::Int(b)) => a == b,
        (Value::Str(a), Value::Str(b)) => a == b,
        (Value::Path(a), Value::Path(b)) => a == b,
        (Value::List(a), Value::List(b)) => {
            if a.len() != b.len() {
                return Ok(false);
            }
            for (x, y) in a.iter().zip(b.iter()) {
                if !equal(ev, &ev.force(x)?, &ev.force(y)?)? {
                    return Ok(false);
                }
            }
            true
        }
        (Value::Attrs(a), Value::Attrs(b)) => {
            if a.len() != b.len() || a.keys().zip(b.keys()).any(|(x, y)| x != y) {
                return Ok(false);
            }
            for (x, y) in a.values().zip(b.values()) {
                if !equal(ev, &ev.force(&x.value)?, &ev.force(&y.value)?)? {
                    return Ok(false);
                }
            }
            true
        }
        (Value::Type(a), Value::Type(b)) => a == b,
        (Value::Device(a), Value::Device(b)) => Rc::ptr_eq(a, b),
        (Value::Package(a), Value::Package(b)) => a == b,
        (Value::Key(a), Value::Key(b)) => a == b,
        _ => false,
    })
}
