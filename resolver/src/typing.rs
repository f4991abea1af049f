//! Typing of the whole device value, every branch of every `if_impl` and
//! `match_impl` included: `$` arguments (E0301), over-application (E0302),
//! well-formed types and implementations (E0305, E0202 for connect
//! templates). It also records, per implementation name, every target some
//! implementation of that name supports (for E0402's help), and every key
//! any branch declares (for E0601).

use crate::connect;
use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::rc::Rc;
use unik_lang::diag::{Diagnostic, FileId, Loc};
use unik_lang::eval::{DevType, Device, DeviceKind, ImplDef, TARGETS};

/// The extra fields of an `impl` the resolver understands.
pub struct ImplExtra {
    pub connect: Option<String>,
    pub params: BTreeMap<String, serde_json::Value>,
    pub embed: Option<String>,
    pub device: Option<(crate::model::HostDeviceKind, String)>,
}

pub struct Typer {
    memo: HashMap<*const Device, Option<Rc<DevType>>>,
    impls: HashMap<*const ImplDef, Option<Rc<ImplExtra>>>,
    pub diagnostics: Vec<Diagnostic>,
    /// Implementation name → targets where some implementation of it exists.
    pub available: BTreeMap<String, BTreeSet<String>>,
    /// Every key name declared by an implementation anywhere in the value.
    pub keys: BTreeSet<String>,
    reported: HashSet<(Loc, &'static str)>,
    /// Files of the catalogue: labels there would point at its helpers,
    /// not at the user's choice.
    catalogue: Vec<FileId>,
}

impl Typer {
    pub fn new(catalogue: Vec<FileId>) -> Typer {
        Typer {
            catalogue,
            memo: HashMap::new(),
            impls: HashMap::new(),
            diagnostics: Vec::new(),
            available: BTreeMap::new(),
            keys: BTreeSet::new(),
            reported: HashSet::new(),
        }
    }

    /// Adds a label unless it would point into the catalogue or repeat one.
    fn label(&self, d: Diagnostic, loc: Loc, message: String) -> Diagnostic {
        if self.catalogue.contains(&loc.file) || d.labels.iter().any(|l| l.loc == loc) {
            d
        } else {
            d.label(loc, message)
        }
    }

    fn report(&mut self, at: Loc, d: Diagnostic) {
        if self.reported.insert((at, d.code)) {
            self.diagnostics.push(d);
        }
    }

    /// The parsed extra fields of a checked implementation.
    pub fn extra(&self, def: &Rc<ImplDef>) -> Option<Rc<ImplExtra>> {
        self.impls.get(&Rc::as_ptr(def)).cloned().flatten()
    }

    /// The type of a device value, or `None` after an error in it.
    pub fn type_of(&mut self, d: &Rc<Device>) -> Option<Rc<DevType>> {
        let key = Rc::as_ptr(d);
        if let Some(t) = self.memo.get(&key) {
            return t.clone();
        }
        let t = self.compute(d);
        self.memo.insert(key, t.clone());
        t
    }

    fn compute(&mut self, d: &Rc<Device>) -> Option<Rc<DevType>> {
        match &d.kind {
            DeviceKind::Impl(def) => {
                self.check_impl(def);
                Some(def.ty.clone())
            }
            DeviceKind::App { func, arg, arg_loc } => {
                let tf = self.type_of(func);
                let ta = self.type_of(arg);
                let tf = tf?;
                match &*tf {
                    DevType::Base { name } => {
                        let head = head_impl(func);
                        let mut diag = Diagnostic::error(
                            "E0302",
                            format!("`$` applied to a device of type `{name}`, which takes no more arguments"),
                        )
                        .label(d.loc, "this `$` has nothing to apply to");
                        if let Some(h) = &head {
                            diag = diag.label(
                                h.ty_loc,
                                format!("`{}` is declared with type `{}` here", h.name, h.ty),
                            );
                        }
                        diag = diag.help(
                            "remove the extra argument, or give the functor one more parameter",
                        );
                        self.report(d.loc, diag);
                        None
                    }
                    DevType::Fn(param, result) => {
                        let ta = ta?;
                        if ta != *param {
                            let head = head_impl(func);
                            let mut diag = Diagnostic::error(
                                "E0301",
                                format!("device type mismatch: expected `{param}`, found `{ta}`"),
                            )
                            .label(*arg_loc, format!("this is `{ta}`"));
                            if let Some(h) = &head {
                                diag = diag.label(
                                    h.ty_loc,
                                    format!(
                                        "`{}` expects `{param}` here (its type is `{}`)",
                                        h.name, h.ty
                                    ),
                                );
                            }
                            if let DevType::Fn(..) = &*ta {
                                diag = diag.help("the argument is not fully applied: apply it to its own arguments with `$` first");
                            } else {
                                diag = diag.help(format!("pass a device of type `{param}`"));
                            }
                            self.report(*arg_loc, diag);
                        }
                        Some(result.clone())
                    }
                }
            }
            DeviceKind::If { then, else_, .. } => {
                let a = self.type_of(then);
                let b = self.type_of(else_);
                let (a, b) = (a?, b?);
                if a != b {
                    let diag = Diagnostic::error(
                        "E0301",
                        format!("the choices of `if_impl` have different types: `{a}` and `{b}`"),
                    )
                    .label(d.loc, format!("this `if_impl` chooses between `{a}` and `{b}`"))
                    .help("both devices are type-checked on every target, even the one not chosen; give them one type");
                    let diag = self.label(diag, then.loc, format!("this is `{a}`"));
                    let diag = self.label(diag, else_.loc, format!("this is `{b}`"));
                    self.report(d.loc, diag);
                    return None;
                }
                Some(a)
            }
            DeviceKind::Match { cases, default, .. } => {
                let td = self.type_of(default);
                let mut ok = true;
                let mut types = Vec::new();
                for (name, c) in cases {
                    types.push((name.clone(), c.clone(), self.type_of(c)));
                }
                let td = td?;
                for (name, c, t) in types {
                    match t {
                        Some(t) if t != td => {
                            let diag = Diagnostic::error(
                                "E0301",
                                format!("the case `{name}` of `match_impl` has type `{t}`, the default `{td}`"),
                            )
                            .label(d.loc, "every case of this `match_impl` must have one type")
                            .help("every case is type-checked on every target, even the ones not chosen");
                            let diag = self.label(diag, c.loc, format!("this is `{t}`"));
                            let diag =
                                self.label(diag, default.loc, format!("the default is `{td}`"));
                            self.report(d.loc, diag);
                            ok = false;
                        }
                        Some(_) => {}
                        None => ok = false,
                    }
                }
                ok.then_some(td)
            }
        }
    }

    fn check_impl(&mut self, def: &Rc<ImplDef>) {
        let key = Rc::as_ptr(def);
        if self.impls.contains_key(&key) {
            return;
        }
        self.impls.insert(key, None);
        let set = self.available.entry(def.name.to_string()).or_default();
        match &def.targets {
            None => set.extend(TARGETS.iter().map(|t| t.to_string())),
            Some(ts) => set.extend(ts.iter().map(|t| t.to_string())),
        }
        self.keys
            .extend(def.keys.iter().map(|k| k.name.to_string()));
        let (params, result) = def.ty.unfold();
        let mut ok = true;
        if let Some(p) = params.iter().find(|p| matches!(***p, DevType::Fn(..))) {
            let diag = Diagnostic::error(
                "E0305",
                format!("malformed device type `{}`: a parameter cannot be a functor (`{p}`)", def.ty),
            )
            .label(def.ty_loc, "declared here")
            .help("parameters are devices (`a @-> b @-> job`); write `(a @-> b)` only as a whole type, not as a parameter");
            self.report(def.ty_loc, diag);
            ok = false;
        }
        if def.foreign && !matches!(&*result, DevType::Base { name } if &**name == "job") {
            let diag = Diagnostic::error(
                "E0305",
                format!(
                    "a `foreign` job must have a type ending in `job`, found `{}`",
                    def.ty
                ),
            )
            .label(def.ty_loc, format!("this type ends in `{result}`"))
            .help(
                "write the job's type as `dev1 @-> dev2 @-> job`; define other devices with `impl`",
            );
            self.report(def.ty_loc, diag);
            ok = false;
        }
        for dep in &def.deps {
            match self.type_of(dep) {
                Some(t) if matches!(&*t, DevType::Fn(..)) => {
                    let diag = Diagnostic::error(
                        "E0303",
                        format!(
                            "a dependency of `{}` is not fully applied (type `{t}`)",
                            def.name
                        ),
                    )
                    .label(dep.loc, format!("this is `{t}`"))
                    .label(def.loc, "dependency of this implementation")
                    .help("apply the dependency to all its arguments with `$`");
                    self.report(dep.loc, diag);
                    ok = false;
                }
                Some(_) => {}
                None => ok = false,
            }
        }
        if def.foreign {
            let extra = ImplExtra {
                connect: None,
                params: BTreeMap::new(),
                embed: None,
                device: None,
            };
            if ok {
                self.impls.insert(key, Some(Rc::new(extra)));
            }
            return;
        }
        match parse_extra(def, params.len()) {
            Ok(extra) => {
                if ok {
                    self.impls.insert(key, Some(Rc::new(extra)));
                }
            }
            Err(msg) => {
                let diag = Diagnostic::error("E0202", format!("implementation `{}`: {msg}", def.name))
                    .label(def.loc, "in this implementation")
                    .help("see the book's \"Devices and targets\" chapter for the connect template format");
                self.report(def.loc, diag);
            }
        }
    }
}

/// The implementation at the head of an application spine, if it is one
/// (through the chosen branch of a choice).
pub fn head_impl(d: &Rc<Device>) -> Option<Rc<ImplDef>> {
    let mut cur = d.clone();
    loop {
        let next = match &cur.kind {
            DeviceKind::Impl(def) => return Some(def.clone()),
            DeviceKind::App { func, .. } => func.clone(),
            _ => cur.chosen()?.clone(),
        };
        cur = next;
    }
}

fn parse_extra(def: &ImplDef, arity: usize) -> Result<ImplExtra, String> {
    let connect = match def.extra.get("connect") {
        Some(serde_json::Value::String(s)) => s.clone(),
        _ => return Err("`connect` must be a string (a connect template)".into()),
    };
    let params = match def.extra.get("params") {
        None | Some(serde_json::Value::Null) => BTreeMap::new(),
        Some(serde_json::Value::Object(m)) => {
            m.iter().map(|(k, v)| (k.clone(), v.clone())).collect()
        }
        Some(_) => return Err("`params` must be an attribute set".into()),
    };
    let embed = match def.extra.get("embed") {
        None | Some(serde_json::Value::Null) => None,
        Some(serde_json::Value::String(s)) => Some(s.clone()),
        Some(_) => return Err("`embed` must be a directory (a path or a string)".into()),
    };
    let device = match def.extra.get("device") {
        None | Some(serde_json::Value::Null) => None,
        Some(serde_json::Value::Object(m)) => {
            let kind = match m.get("kind").and_then(|k| k.as_str()) {
                Some("net") => crate::model::HostDeviceKind::Net,
                Some("block") => crate::model::HostDeviceKind::Block,
                _ => return Err("`device.kind` must be \"net\" or \"block\"".into()),
            };
            let name = m
                .get("name")
                .and_then(|n| n.as_str())
                .ok_or("`device.name` must be a string")?;
            Some((kind, name.to_string()))
        }
        Some(_) => {
            return Err("`device` must be `{ kind = \"net\" | \"block\"; name = …; }`".into());
        }
    };
    let keys: Vec<String> = def.keys.iter().map(|k| k.name.to_string()).collect();
    let scope = connect::Scope {
        args: arity,
        deps: def.deps.len(),
        keys: &keys,
        params: &params,
        embed: embed.is_some(),
    };
    connect::validate(&connect, &scope).map_err(|e| format!("bad connect template: {e}"))?;
    Ok(ImplExtra {
        connect: Some(connect),
        params,
        embed,
        device,
    })
}
