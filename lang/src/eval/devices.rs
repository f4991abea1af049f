//! The device-model builtins: `typ`, `foreign`/`main`, `impl`, `package`,
//! `key`, `key_value`, `register`, `if_impl`, `match_impl`. They build plain
//! data; what it means (typing, targets, bounds) is the resolver's job.

use super::builtins::{self, Builtin};
use super::value::*;
use super::{Evaluator, json};
use crate::diag::{Diagnostic, Loc};
use std::collections::BTreeMap;
use std::rc::Rc;

/// Where a not-yet-forced argument was written, if known.
fn loc_of(t: &Thunk<'_>) -> Option<Loc> {
    match &*t.0.borrow() {
        ThunkState::Pending(Lazy::Expr { expr, file, .. }) => Some(Loc::new(*file, expr.span)),
        _ => None,
    }
}

/// The target constant an argument is, when it is one written as it is
/// (`target`, `(is_unix)`, or a name bound to one), without forcing it.
fn target_const(t: &Thunk<'_>) -> Option<TargetConst> {
    let mut cur = t.clone();
    // A few hops cover `let t = target; in match_impl t { … }`.
    for _ in 0..8 {
        let next = match &*cur.0.borrow() {
            ThunkState::Pending(Lazy::Target(c)) => return Some(*c),
            ThunkState::Pending(Lazy::Expr { expr, env, .. }) => {
                let mut e = *expr;
                while let crate::syntax::ExprKind::Paren(inner) = &e.kind {
                    e = inner;
                }
                match &e.kind {
                    crate::syntax::ExprKind::Var(name) => Scope::lookup(env, name)?,
                    _ => return None,
                }
            }
            _ => return None,
        };
        cur = next;
    }
    None
}

/// The fields of an options set, with checks for unknown and missing ones.
struct Fields<'e, 'a> {
    ev: &'e Evaluator<'a>,
    set: Rc<Attrs<'a>>,
    what: &'static str,
    loc: Loc,
}

impl<'e, 'a> Fields<'e, 'a> {
    fn new(
        ev: &'e Evaluator<'a>,
        b: Builtin,
        t: &Thunk<'a>,
        what: &'static str,
        loc: Loc,
    ) -> R<Fields<'e, 'a>> {
        let at = loc_of(t).unwrap_or(loc);
        let set = builtins::attrs(ev, b, t, at)?;
        Ok(Fields {
            ev,
            set,
            what,
            loc: at,
        })
    }

    /// Rejects fields outside `known`.
    fn only(&self, known: &[&str]) -> R<()> {
        if let Some((k, a)) = self.set.iter().find(|(k, _)| !known.contains(&&***k)) {
            let mut d =
                Diagnostic::error("E0207", format!("unexpected field `{k}` in {}", self.what))
                    .label(a.loc.unwrap_or(self.loc), "not a known field");
            d = match crate::suggest::nearest(k, known.iter().copied()) {
                Some(near) => d.help(format!("did you mean `{near}`?")),
                None => d.help(format!("known fields: {}", known.join(", "))),
            };
            return Err(d.into());
        }
        Ok(())
    }

    fn loc(&self, name: &str) -> Loc {
        self.set.get(name).and_then(|a| a.loc).unwrap_or(self.loc)
    }

    fn get(&self, name: &str) -> R<Option<Value<'a>>> {
        match self.set.get(name) {
            Some(a) => self.ev.force(&a.value).map(Some),
            None => Ok(None),
        }
    }

    fn required(&self, name: &str) -> R<Value<'a>> {
        self.get(name)?.ok_or_else(|| {
            Diagnostic::error("E0207", format!("{} needs the field `{name}`", self.what))
                .label(self.loc, format!("`{name}` is missing here"))
                .into()
        })
    }

    fn wrong(&self, name: &str, expected: &str, found: &Value) -> Stop {
        Diagnostic::error(
            "E0202",
            format!(
                "field `{name}` of {} must be {expected}, found {}",
                self.what,
                found.kind()
            ),
        )
        .label(self.loc(name), format!("this is {}", found.kind()))
        .into()
    }

    fn string(&self, name: &str, v: Value<'a>) -> R<Rc<str>> {
        match v {
            Value::Str(s) => Ok(s),
            other => Err(self.wrong(name, "a string", &other)),
        }
    }

    fn opt_string(&self, name: &str) -> R<Option<Rc<str>>> {
        match self.get(name)? {
            None | Some(Value::Null) => Ok(None),
            Some(v) => self.string(name, v).map(Some),
        }
    }

    fn list_of<T>(
        &self,
        name: &str,
        f: impl Fn(Value<'a>) -> Option<T>,
        expected: &str,
    ) -> R<Vec<T>> {
        let Some(v) = self.get(name)? else {
            return Ok(Vec::new());
        };
        let Value::List(items) = v else {
            return Err(self.wrong(name, &format!("a list of {expected}"), &v));
        };
        let mut out = Vec::new();
        for t in items.iter() {
            let v = self.ev.force(t)?;
            let kind = v.kind();
            match f(v) {
                Some(x) => out.push(x),
                None => {
                    return Err(Diagnostic::error(
                        "E0202",
                        format!(
                            "field `{name}` of {} must be a list of {expected}, found {kind} in it",
                            self.what
                        ),
                    )
                    .label(
                        loc_of(t).unwrap_or(self.loc(name)),
                        format!("this is {kind}"),
                    )
                    .into());
                }
            }
        }
        Ok(out)
    }
}

fn dev_type<'a>(ev: &Evaluator<'a>, b: Builtin, t: &Thunk<'a>, loc: Loc) -> R<(Rc<DevType>, Loc)> {
    let at = loc_of(t).unwrap_or(loc);
    match ev.force(t)? {
        Value::Type(ty) => Ok((ty, at)),
        other => Err(Diagnostic::error(
            "E0305",
            format!(
                "`{}` expects a device type, found {}",
                b.name(),
                other.kind()
            ),
        )
        .label(at, format!("this is {}, not a device type", other.kind()))
        .help("device types look like `console @-> job`")
        .into()),
    }
}

fn device<'a>(ev: &Evaluator<'a>, b: Builtin, t: &Thunk<'a>, loc: Loc) -> R<Rc<Device>> {
    let at = loc_of(t).unwrap_or(loc);
    match ev.force(t)? {
        Value::Device(d) => Ok(d),
        other => Err(Diagnostic::error(
            "E0202",
            format!("`{}` expects a device, found {}", b.name(), other.kind()),
        )
        .label(at, format!("this is {}, not a device", other.kind()))
        .into()),
    }
}

fn is_rust_path(s: &str) -> bool {
    !s.is_empty()
        && s.split("::").all(|seg| {
            let mut c = seg.chars();
            c.next()
                .is_some_and(|f| f.is_ascii_alphabetic() || f == '_')
                && c.all(|x| x.is_ascii_alphanumeric() || x == '_')
        })
}

/// A pin's `path`: a path literal (already resolved against the file
/// that contains it) or a string (the resolver resolves it against the
/// file that declares the `package`).
fn pin_path<'a>(f: &Fields<'_, 'a>) -> R<Option<Rc<str>>> {
    match f.get("path")? {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Str(s)) => Ok(Some(s)),
        Some(Value::Path(p)) => match p.to_str() {
            Some(s) => Ok(Some(Rc::from(s))),
            None => Err(Diagnostic::error(
                "E0202",
                format!("the pinned path `{}` is not valid UTF-8", p.display()),
            )
            .label(f.loc("path"), "Cargo manifests can only name UTF-8 paths")
            .into()),
        },
        Some(other) => Err(Diagnostic::error(
            "E0202",
            format!(
                "field `path` of `pin` must be a path (`./crate`) or a string, found {}",
                other.kind()
            ),
        )
        .label(f.loc("path"), format!("this is {}", other.kind()))
        .help("name the directory holding the crate's Cargo.toml: `pin = { path = ./helper; }`")
        .into()),
    }
}

fn targets_field<'a>(f: &Fields<'_, 'a>) -> R<Option<Vec<crate::Target>>> {
    if f.set.get("targets").is_none() {
        return Ok(None);
    }
    let list = f.list_of(
        "targets",
        |v| match v {
            Value::Str(s) => Some(s),
            _ => None,
        },
        "target names",
    )?;
    let mut out = Vec::with_capacity(list.len());
    for t in &list {
        match t.parse() {
            Ok(target) => out.push(target),
            Err(()) => {
                return Err(
                    crate::target::unknown(t, Some((f.loc("targets"), "in this list"))).into(),
                );
            }
        }
    }
    Ok(Some(out))
}

fn packages_field<'a>(f: &Fields<'_, 'a>) -> R<Vec<Rc<Package>>> {
    f.list_of(
        "packages",
        |v| match v {
            Value::Package(p) => Some(p),
            _ => None,
        },
        "packages",
    )
}

fn keys_field<'a>(f: &Fields<'_, 'a>) -> R<Vec<Rc<KeyDef>>> {
    f.list_of(
        "keys",
        |v| match v {
            Value::Key(k) => Some(k),
            _ => None,
        },
        "keys",
    )
}

fn deps_field<'a>(f: &Fields<'_, 'a>) -> R<Vec<Rc<Device>>> {
    f.list_of(
        "deps",
        |v| match v {
            Value::Device(d) => Some(d),
            _ => None,
        },
        "devices",
    )
}

fn doc_field<'a>(f: &Fields<'_, 'a>) -> R<Rc<str>> {
    Ok(f.opt_string("doc")?.unwrap_or_else(|| "".into()))
}

pub fn call<'a>(ev: &Evaluator<'a>, b: Builtin, args: Vec<Thunk<'a>>, loc: Loc) -> R<Value<'a>> {
    match b {
        Builtin::Typ => {
            let name = builtins::string(ev, b, &args[0], loc)?;
            if !is_rust_path(&name) || name.contains("::") {
                return Err(Diagnostic::error(
                    "E0305",
                    format!("`{name}` is not a valid device type name"),
                )
                .label(
                    loc_of(&args[0]).unwrap_or(loc),
                    "type names are identifiers",
                )
                .into());
            }
            Ok(Value::Type(Rc::new(DevType::Base { name })))
        }
        Builtin::Foreign => {
            // `foreign NAME TYPE` or `foreign NAME { … } TYPE`.
            let second = ev.force(&args[1])?;
            if let Value::Attrs(_) = second {
                return Ok(Value::Builtin(Rc::new(Partial {
                    builtin: Builtin::ForeignOpts,
                    args,
                })));
            }
            foreign(ev, &args[0], None, &args[1], loc)
        }
        Builtin::ForeignOpts => foreign(ev, &args[0], Some(&args[1]), &args[2], loc),
        Builtin::Impl => {
            let f = Fields::new(ev, b, &args[0], "`impl`", loc)?;
            let name_v = f.required("name")?;
            let name = f.string("name", name_v)?;
            let module_v = f.required("module")?;
            let module = f.string("module", module_v)?;
            if !is_rust_path(&module) {
                return Err(
                    Diagnostic::error("E0202", format!("`{module}` is not a Rust path"))
                        .label(
                            f.loc("module"),
                            "the runtime module that implements this device",
                        )
                        .into(),
                );
            }
            let ty_thunk = f.set.get("type").map(|a| a.value.clone());
            let Some(ty_thunk) = ty_thunk else {
                f.required("type")?;
                unreachable!("required() fails on a missing field");
            };
            let (ty, _) = dev_type(ev, b, &ty_thunk, f.loc("type"))?;
            f.required("connect")?;
            let mut extra = BTreeMap::new();
            for (k, a) in f.set.iter() {
                if matches!(
                    &**k,
                    "name" | "module" | "type" | "targets" | "packages" | "keys" | "deps" | "doc"
                ) {
                    continue;
                }
                let v = ev.force(&a.value)?;
                extra.insert(k.to_string(), json::to_json(ev, &v)?);
            }
            Ok(Value::Device(Rc::new(Device {
                kind: DeviceKind::Impl(Rc::new(ImplDef {
                    name,
                    module,
                    ty,
                    targets: targets_field(&f)?,
                    packages: packages_field(&f)?,
                    keys: keys_field(&f)?,
                    deps: deps_field(&f)?,
                    doc: doc_field(&f)?,
                    foreign: false,
                    extra,
                    loc,
                    ty_loc: f.loc("type"),
                })),
                loc,
            })))
        }
        Builtin::Package => {
            let name = builtins::string(ev, b, &args[0], loc)?;
            let f = Fields::new(ev, b, &args[1], "`package`", loc)?;
            f.only(&["min", "max", "features", "pin"])?;
            let pin = match f.get("pin")? {
                None | Some(Value::Null) => None,
                Some(Value::Attrs(p)) => {
                    let pf = Fields {
                        ev,
                        set: p,
                        what: "`pin`",
                        loc: f.loc("pin"),
                    };
                    pf.only(&["path", "git", "rev"])?;
                    match (pin_path(&pf)?, pf.opt_string("git")?, pf.opt_string("rev")?) {
                        (Some(path), None, None) => Some(Pin::Path(path)),
                        (None, Some(url), Some(rev)) => Some(Pin::Git { url, rev }),
                        _ => {
                            return Err(Diagnostic::error(
                                "E0207",
                                "a pin is `{ path = …; }` or `{ git = …; rev = …; }`",
                            )
                            .label(f.loc("pin"), "this pin mixes or lacks fields")
                            .into());
                        }
                    }
                }
                Some(other) => return Err(f.wrong("pin", "an attribute set", &other)),
            };
            Ok(Value::Package(Rc::new(Package {
                name,
                min: f.opt_string("min")?,
                max: f.opt_string("max")?,
                features: f.list_of(
                    "features",
                    |v| match v {
                        Value::Str(s) => Some(s),
                        _ => None,
                    },
                    "strings",
                )?,
                pin,
                loc,
            })))
        }
        Builtin::Key => {
            let name = builtins::string(ev, b, &args[0], loc)?;
            let f = Fields::new(ev, b, &args[1], "`key`", loc)?;
            f.only(&["type", "default", "doc", "stage", "values"])?;
            let ty_v = f.required("type")?;
            let ty_s = f.string("type", ty_v)?;
            let ty = match &*ty_s {
                "int" => KeyType::Int,
                "string" => KeyType::String,
                "bool" => KeyType::Bool,
                other => {
                    return Err(
                        Diagnostic::error("E0602", format!("unknown key type `{other}`"))
                            .label(
                                f.loc("type"),
                                "key types are \"int\", \"string\" and \"bool\"",
                            )
                            .into(),
                    );
                }
            };
            let default = match f.get("default")? {
                None | Some(Value::Null) => None,
                Some(Value::Int(n)) if ty == KeyType::Int => Some(KeyValue::Int(n)),
                Some(Value::Bool(v)) if ty == KeyType::Bool => Some(KeyValue::Bool(v)),
                Some(Value::Str(s)) if ty == KeyType::String => Some(KeyValue::Str(s)),
                Some(other) => {
                    return Err(Diagnostic::error(
                        "E0602",
                        format!(
                            "the default of key `{name}` must be {}, found {}",
                            ty.as_str(),
                            other.kind()
                        ),
                    )
                    .label(f.loc("default"), format!("this is {}", other.kind()))
                    .label(
                        f.loc("type"),
                        format!("the key is declared `{}` here", ty.as_str()),
                    )
                    .into());
                }
            };
            let doc_v = f.required("doc")?;
            let doc = f.string("doc", doc_v)?;
            let stage = match f.opt_string("stage")?.as_deref() {
                None | Some("configure") => Stage::Configure,
                Some("runtime") => Stage::Runtime,
                Some(other) => {
                    return Err(
                        Diagnostic::error("E0202", format!("unknown key stage `{other}`"))
                            .label(f.loc("stage"), "stages are \"configure\" and \"runtime\"")
                            .into(),
                    );
                }
            };
            let values = f.list_of(
                "values",
                |v| match v {
                    Value::Str(s) => Some(s),
                    _ => None,
                },
                "strings",
            )?;
            if !values.is_empty() && ty != KeyType::String {
                return Err(Diagnostic::error(
                    "E0602",
                    format!(
                        "only string keys take `values`; `{name}` is {}",
                        ty.as_str()
                    ),
                )
                .label(f.loc("values"), "a list of allowed strings")
                .into());
            }
            if let Some(KeyValue::Str(d)) = &default
                && !values.is_empty()
                && !values.contains(d)
            {
                return Err(Diagnostic::error(
                    "E0602",
                    format!("the default of key `{name}` is not one of its values"),
                )
                .label(f.loc("default"), format!("`{d}` is not allowed"))
                .label(f.loc("values"), "the allowed values")
                .into());
            }
            Ok(Value::Key(Rc::new(KeyDef {
                name,
                ty,
                default,
                doc,
                stage,
                values,
                loc,
            })))
        }
        Builtin::KeyValue => {
            let at = loc_of(&args[0]).unwrap_or(loc);
            let k = match ev.force(&args[0])? {
                Value::Key(k) => k,
                other => {
                    return Err(Diagnostic::error(
                        "E0202",
                        format!("`key_value` expects a key, found {}", other.kind()),
                    )
                    .label(at, "not a key")
                    .into());
                }
            };
            ev.note_key_read(&k);
            if k.stage == Stage::Runtime {
                return Err(Diagnostic::error(
                    "E0202",
                    format!("`{}` is a runtime key: it has no value while configuring", k.name),
                )
                .label(at, "read here")
                .label(k.loc, "declared with stage = \"runtime\" here")
                .help("read runtime keys in the unikernel's code; use stage = \"configure\" to read it here")
                .into());
            }
            let value = match ev.options.keys.get(&*k.name) {
                Some(s) => k.parse(s).ok_or_else(|| {
                    Stop::from(
                        Diagnostic::error(
                            "E0602",
                            format!(
                                "invalid value `{s}` for key `{}`: expected {}",
                                k.name,
                                k.expected()
                            ),
                        )
                        .label(k.loc, "the key is declared here")
                        .help(format!(
                            "pass it as `--{}=<{}>`",
                            k.name,
                            k.expected()
                        )),
                    )
                })?,
                None => k.default.clone().ok_or_else(|| {
                    Stop::from(
                        Diagnostic::error("E0604", format!("key `{}` has no value", k.name))
                            .label(k.loc, "declared here without a default")
                            .label(at, "its value is needed here")
                            .help(format!("pass it as `--{}=<{}>`", k.name, k.ty.as_str())),
                    )
                })?,
            };
            Ok(match value {
                KeyValue::Int(n) => Value::Int(n),
                KeyValue::Bool(v) => Value::Bool(v),
                KeyValue::Str(s) => Value::Str(s),
            })
        }
        Builtin::Register => {
            let name = builtins::string(ev, b, &args[0], loc)?;
            let (jobs_t, reporter, argv) = match ev.force(&args[1])? {
                Value::List(_) => (args[1].clone(), None, None),
                Value::Attrs(_) => {
                    let f = Fields::new(ev, b, &args[1], "`register`", loc)?;
                    f.only(&["jobs", "reporter", "argv"])?;
                    let jobs = f.set.get("jobs").map(|a| a.value.clone());
                    let Some(jobs) = jobs else {
                        f.required("jobs")?;
                        unreachable!("required() fails on a missing field");
                    };
                    let dev = |n: &str| -> R<Option<Rc<Device>>> {
                        match f.set.get(n) {
                            Some(a) => device(ev, b, &a.value, f.loc(n)).map(Some),
                            None => Ok(None),
                        }
                    };
                    (jobs, dev("reporter")?, dev("argv")?)
                }
                other => {
                    return Err(Diagnostic::error(
                        "E0202",
                        format!("`register` expects a list of jobs, found {}", other.kind()),
                    )
                    .label(loc_of(&args[1]).unwrap_or(loc), "not a list")
                    .help("write `register \"name\" [ main $ … ]`")
                    .into());
                }
            };
            let items = builtins::list(ev, b, &jobs_t, loc)?;
            let mut jobs = Vec::new();
            for t in items.iter() {
                jobs.push(device(ev, b, t, loc)?);
            }
            Ok(Value::Register(Rc::new(Register {
                name,
                jobs,
                reporter,
                argv,
                loc,
            })))
        }
        Builtin::IfImpl => {
            let at = loc_of(&args[0]).unwrap_or(loc);
            let cond = match target_const(&args[0]) {
                Some(c @ (TargetConst::IsUnix | TargetConst::IsSolo5 | TargetConst::IsXen)) => {
                    Choice::Target(c)
                }
                _ => match ev.force(&args[0])? {
                    Value::Bool(v) => Choice::Fixed(if v { "true" } else { "false" }.into()),
                    other => {
                        return Err(Diagnostic::error(
                            "E0202",
                            format!("`if_impl` expects a bool condition, found {}", other.kind()),
                        )
                        .label(at, "not a bool")
                        .into());
                    }
                },
            };
            // Read before forcing: a forced argument no longer knows where it was written.
            let locs = [1, 2].map(|i| loc_of(&args[i]).unwrap_or(loc));
            let then = device(ev, b, &args[1], loc)?;
            let else_ = device(ev, b, &args[2], loc)?;
            let locs = [0, 1].map(|i| ev.user_place(locs[i], args[i + 1].place()));
            Ok(Value::Device(Rc::new(Device {
                kind: DeviceKind::If {
                    cond,
                    then,
                    else_,
                    locs,
                },
                loc,
            })))
        }
        Builtin::MatchImpl => {
            let at = loc_of(&args[0]).unwrap_or(loc);
            let value = match target_const(&args[0]) {
                Some(c) => Choice::Target(c),
                None => Choice::Fixed(match ev.force(&args[0])? {
                    Value::Str(s) => s,
                    Value::Int(n) => n.to_string().into(),
                    Value::Bool(v) => v.to_string().into(),
                    other => {
                        return Err(Diagnostic::error(
                            "E0202",
                            format!(
                                "`match_impl` matches a string, int or bool, found {}",
                                other.kind()
                            ),
                        )
                        .label(at, "cannot be matched")
                        .into());
                    }
                }),
            };
            let f = Fields::new(ev, b, &args[1], "`match_impl` cases", loc)?;
            let mut cases = Vec::new();
            let mut default = None;
            for (k, a) in f.set.iter() {
                let at = loc_of(&a.value).or(a.loc).unwrap_or(loc);
                let d = device(ev, b, &a.value, a.loc.unwrap_or(loc))?;
                let at = ev.user_place(at, a.value.place());
                if &**k == "default" {
                    default = Some((d, at));
                } else {
                    cases.push((k.clone(), d, at));
                }
            }
            let default = default.ok_or_else(|| {
                Stop::from(
                    Diagnostic::error("E0203", "`match_impl` needs a `default` case")
                        .label(f.loc, "these cases have no `default`")
                        .help("add `default = some_device;`"),
                )
            })?;
            let (default, default_loc) = default;
            Ok(Value::Device(Rc::new(Device {
                kind: DeviceKind::Match {
                    value,
                    cases,
                    default,
                    default_loc,
                },
                loc,
            })))
        }
        other => unreachable!("not a device builtin: {other:?}"),
    }
}

fn foreign<'a>(
    ev: &Evaluator<'a>,
    name_t: &Thunk<'a>,
    opts: Option<&Thunk<'a>>,
    ty_t: &Thunk<'a>,
    loc: Loc,
) -> R<Value<'a>> {
    let b = Builtin::Foreign;
    let name_loc = loc_of(name_t).unwrap_or(loc);
    let name = builtins::string(ev, b, name_t, loc)?;
    if !is_rust_path(&name) {
        return Err(
            Diagnostic::error("E0202", format!("`{name}` is not a Rust path"))
                .label(name_loc, "the job's Rust item, e.g. \"hello::Hello\"")
                .into(),
        );
    }
    let (ty, ty_loc) = dev_type(ev, b, ty_t, loc)?;
    let (packages, keys, deps, doc) = match opts {
        None => (Vec::new(), Vec::new(), Vec::new(), Rc::from("")),
        Some(t) => {
            let f = Fields::new(ev, b, t, "`foreign` options", loc)?;
            f.only(&["packages", "keys", "deps", "doc"])?;
            (
                packages_field(&f)?,
                keys_field(&f)?,
                deps_field(&f)?,
                doc_field(&f)?,
            )
        }
    };
    Ok(Value::Device(Rc::new(Device {
        kind: DeviceKind::Impl(Rc::new(ImplDef {
            name: name.clone(),
            module: name,
            ty,
            targets: None,
            packages,
            keys,
            deps,
            doc,
            foreign: true,
            extra: BTreeMap::new(),
            loc,
            ty_loc,
        })),
        loc,
    })))
}
