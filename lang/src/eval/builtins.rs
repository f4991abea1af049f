//! Standard builtins and the global scope.

use super::value::*;
use super::{Evaluator, devices, json};
use crate::diag::{Diagnostic, Loc};
use std::rc::Rc;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Builtin {
    ToString,
    Length,
    Map,
    Filter,
    Foldl,
    Elem,
    AttrNames,
    HasAttr,
    GetAttr,
    Throw,
    Trace,
    // The device model.
    Typ,
    Foreign,
    /// `foreign NAME { … } TYPE`: the options form takes one more argument.
    ForeignOpts,
    Impl,
    Package,
    Key,
    KeyValue,
    Register,
    IfImpl,
    MatchImpl,
}

/// Builtins visible by name, with their documentation (used by the LSP's hover).
pub const NAMED: &[(&str, Builtin, &str)] = &[
    (
        "toString",
        Builtin::ToString,
        "toString x: a string of an int, string, path, bool, null or list",
    ),
    (
        "length",
        Builtin::Length,
        "length list: the number of elements",
    ),
    (
        "map",
        Builtin::Map,
        "map f list: a new list of f applied to each element (lazily)",
    ),
    (
        "filter",
        Builtin::Filter,
        "filter pred list: the elements for which pred is true",
    ),
    (
        "foldl",
        Builtin::Foldl,
        "foldl f init list: f (… (f (f init x0) x1) …) xn, strict",
    ),
    (
        "elem",
        Builtin::Elem,
        "elem x list: whether x is (structurally) in the list",
    ),
    (
        "attrNames",
        Builtin::AttrNames,
        "attrNames set: the sorted attribute names",
    ),
    (
        "hasAttr",
        Builtin::HasAttr,
        "hasAttr name set: whether the set has the attribute",
    ),
    (
        "getAttr",
        Builtin::GetAttr,
        "getAttr name set: the attribute's value",
    ),
    (
        "throw",
        Builtin::Throw,
        "throw message: stops evaluation with error E0209",
    ),
    (
        "trace",
        Builtin::Trace,
        "trace message value: prints message, returns value",
    ),
    ("typ", Builtin::Typ, "typ NAME: declares a device type"),
    (
        "foreign",
        Builtin::Foreign,
        "foreign NAME [OPTIONS] TYPE: the user's Rust code as a device",
    ),
    (
        "main",
        Builtin::Foreign,
        "main NAME [OPTIONS] TYPE: alias of foreign",
    ),
    (
        "impl",
        Builtin::Impl,
        "impl { name; module; type; targets; packages; keys; connect; doc; }: a device implementation",
    ),
    (
        "package",
        Builtin::Package,
        "package NAME { min; max; features; pin; }: a crate dependency",
    ),
    (
        "key",
        Builtin::Key,
        "key NAME { type; default; doc; stage; }: a configure or runtime key",
    ),
    (
        "key_value",
        Builtin::KeyValue,
        "key_value KEY: the value of a configure key",
    ),
    (
        "register",
        Builtin::Register,
        "register NAME [ jobs ] or register NAME { jobs; reporter; argv; }",
    ),
    (
        "if_impl",
        Builtin::IfImpl,
        "if_impl COND A B: device A when COND, else B (both type-checked)",
    ),
    (
        "match_impl",
        Builtin::MatchImpl,
        "match_impl VALUE { CASE = device; …; default = device; }",
    ),
];

/// Constants of the global scope, with their documentation.
pub const CONSTANTS: &[(&str, &str)] = &[
    (
        "target",
        "the target being evaluated: unix, hvt, spt, virtio, muen, genode or xen",
    ),
    ("is_unix", "true on the unix target"),
    ("is_solo5", "true on hvt, spt, virtio, muen and genode"),
    ("is_xen", "true on the xen target"),
    ("job", "the device type of a runnable job"),
    ("builtins", "an attribute set of every builtin"),
];

impl Builtin {
    pub fn arity(self) -> usize {
        match self {
            Builtin::ToString
            | Builtin::Length
            | Builtin::AttrNames
            | Builtin::Throw
            | Builtin::Typ
            | Builtin::Impl
            | Builtin::KeyValue => 1,
            Builtin::Foldl | Builtin::IfImpl | Builtin::ForeignOpts => 3,
            _ => 2,
        }
    }

    pub fn name(self) -> &'static str {
        if self == Builtin::ForeignOpts {
            return "foreign";
        }
        NAMED
            .iter()
            .find(|(_, b, _)| *b == self)
            .map(|(n, _, _)| *n)
            .unwrap_or("builtin")
    }
}

pub fn root_scope<'a>() -> Env<'a> {
    let mut vars: Vec<(crate::syntax::Name, Thunk<'a>)> = Vec::new();
    let mut all = Attrs::new();
    for (name, b, _) in NAMED {
        let v = Thunk::value(Value::Builtin(Rc::new(Partial {
            builtin: *b,
            args: Vec::new(),
        })));
        vars.push(((*name).into(), v.clone()));
        all.insert(
            (*name).into(),
            Attr {
                value: v,
                loc: None,
            },
        );
    }
    // The target constants are computed when first forced, which marks the
    // evaluation as depending on the target.
    let constants = TargetConst::ALL
        .into_iter()
        .map(|(name, c)| (name, Thunk::lazy(Lazy::Target(c))))
        .chain([(
            "job",
            Thunk::value(Value::Type(Rc::new(DevType::Base { name: "job".into() }))),
        )]);
    for (name, t) in constants {
        vars.push((name.into(), t.clone()));
        all.insert(
            name.into(),
            Attr {
                value: t,
                loc: None,
            },
        );
    }
    vars.push(("builtins".into(), Thunk::value(Value::Attrs(Rc::new(all)))));
    Scope::new(vars, None)
}

fn type_error(b: Builtin, what: &str, found: &Value, loc: Loc) -> Stop {
    Diagnostic::error(
        "E0202",
        format!("`{}` expects {what}, found {}", b.name(), found.kind()),
    )
    .label(loc, format!("this passes {}", found.kind()))
    .into()
}

pub(super) fn string<'a>(ev: &Evaluator<'a>, b: Builtin, t: &Thunk<'a>, loc: Loc) -> R<Rc<str>> {
    match ev.force(t)? {
        Value::Str(s) => Ok(s),
        other => Err(type_error(b, "a string", &other, loc)),
    }
}

pub(super) fn list<'a>(
    ev: &Evaluator<'a>,
    b: Builtin,
    t: &Thunk<'a>,
    loc: Loc,
) -> R<Rc<Vec<Thunk<'a>>>> {
    match ev.force(t)? {
        Value::List(l) => Ok(l),
        other => Err(type_error(b, "a list", &other, loc)),
    }
}

pub(super) fn attrs<'a>(
    ev: &Evaluator<'a>,
    b: Builtin,
    t: &Thunk<'a>,
    loc: Loc,
) -> R<Rc<Attrs<'a>>> {
    match ev.force(t)? {
        Value::Attrs(a) => Ok(a),
        other => Err(type_error(b, "an attribute set", &other, loc)),
    }
}

fn to_string<'a>(ev: &Evaluator<'a>, v: &Value<'a>, loc: Loc) -> R<String> {
    Ok(match v {
        Value::Null => String::new(),
        Value::Bool(b) => b.to_string(),
        Value::Int(n) => n.to_string(),
        Value::Str(s) => s.to_string(),
        Value::Path(p) => ev.display_path(p),
        Value::List(items) => {
            let mut parts = Vec::new();
            for t in items.iter() {
                parts.push(to_string(ev, &ev.force(t)?, loc)?);
            }
            parts.join(" ")
        }
        Value::Type(t) => t.to_string(),
        other => {
            return Err(type_error(
                Builtin::ToString,
                "a printable value",
                other,
                loc,
            ));
        }
    })
}

pub fn call<'a>(ev: &Evaluator<'a>, b: Builtin, args: Vec<Thunk<'a>>, loc: Loc) -> R<Value<'a>> {
    match b {
        Builtin::ToString => {
            let v = ev.force(&args[0])?;
            Ok(Value::Str(to_string(ev, &v, loc)?.into()))
        }
        Builtin::Length => {
            let l = list(ev, b, &args[0], loc)?;
            Ok(Value::Int(l.len() as i64))
        }
        Builtin::Map => {
            let f = ev.force(&args[0])?;
            let l = list(ev, b, &args[1], loc)?;
            Ok(Value::List(Rc::new(
                l.iter()
                    .map(|x| {
                        Thunk::lazy(Lazy::Apply {
                            func: f.clone(),
                            arg: x.clone(),
                            loc,
                        })
                    })
                    .collect(),
            )))
        }
        Builtin::Filter => {
            let f = ev.force(&args[0])?;
            let l = list(ev, b, &args[1], loc)?;
            let mut out = Vec::new();
            for x in l.iter() {
                match ev.apply(f.clone(), x.clone(), loc)? {
                    Value::Bool(true) => out.push(x.clone()),
                    Value::Bool(false) => {}
                    other => {
                        return Err(type_error(b, "a predicate returning a bool", &other, loc));
                    }
                }
            }
            Ok(Value::List(Rc::new(out)))
        }
        Builtin::Foldl => {
            let f = ev.force(&args[0])?;
            let l = list(ev, b, &args[2], loc)?;
            let mut acc = ev.force(&args[1])?;
            for x in l.iter() {
                let partial = ev.apply(f.clone(), Thunk::value(acc), loc)?;
                acc = ev.apply(partial, x.clone(), loc)?;
            }
            Ok(acc)
        }
        Builtin::Elem => {
            let x = ev.force(&args[0])?;
            let l = list(ev, b, &args[1], loc)?;
            for y in l.iter() {
                if super::ops::equal(ev, &x, &ev.force(y)?)? {
                    return Ok(Value::Bool(true));
                }
            }
            Ok(Value::Bool(false))
        }
        Builtin::AttrNames => {
            let a = attrs(ev, b, &args[0], loc)?;
            Ok(Value::List(Rc::new(
                a.keys()
                    .map(|k| Thunk::value(Value::Str(k.clone())))
                    .collect(),
            )))
        }
        Builtin::HasAttr => {
            let n = string(ev, b, &args[0], loc)?;
            let a = attrs(ev, b, &args[1], loc)?;
            Ok(Value::Bool(a.contains_key(&n)))
        }
        Builtin::GetAttr => {
            let n = string(ev, b, &args[0], loc)?;
            let a = attrs(ev, b, &args[1], loc)?;
            match a.get(&n) {
                Some(v) => ev.force(&v.value),
                None => Err(super::missing_attr(&a, &n, loc)),
            }
        }
        Builtin::Throw => {
            let msg = string(ev, b, &args[0], loc)?;
            Err(
                Diagnostic::error("E0209", format!("the configuration raised an error: {msg}"))
                    .label(loc, "`throw` called here")
                    .into(),
            )
        }
        Builtin::Trace => {
            let msg = ev.force(&args[0])?;
            let text = match &msg {
                Value::Str(s) => s.to_string(),
                other => json::to_json(ev, other)?.to_string(),
            };
            ev.traces.borrow_mut().push(text);
            ev.force(&args[1])
        }
        _ => devices::call(ev, b, args, loc),
    }
}
