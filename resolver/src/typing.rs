//! Typing of the whole device value, every branch of every `if_impl` and
//! `match_impl` included: `$` arguments (E0301), over-application (E0302),
//! well-formed types and implementations (E0305, E0202 for connect
//! templates). It also records, per implementation name, every target some
//! implementation of that name supports (for E0402's help), and every key
//! any branch declares (for E0601).

use crate::connect;
use rustc_hash::{FxHashMap, FxHashSet};
use std::rc::Rc;
use unik_lang::Target;
use unik_lang::diag::{Diagnostic, FileId, Loc};
use unik_lang::eval::{Choice, DevType, Device, DeviceKind, ImplDef, Place};

/// The extra fields of an `impl` the resolver understands.
pub struct ImplExtra<'d> {
    pub connect: Option<&'d str>,
    pub params: &'d serde_json::Map<String, serde_json::Value>,
    pub embed: Option<&'d str>,
    pub device: Option<(crate::model::HostDeviceKind, &'d str)>,
}

/// Stack kept free before recursing, and the size of each new segment.
pub const RED_ZONE: usize = 128 * 1024;
pub const STACK_STEP: usize = 4 * 1024 * 1024;

pub struct Typer {
    memo: FxHashMap<*const Device, Option<Rc<DevType>>>,
    /// Checked implementations: true when well-formed.
    impls: FxHashMap<*const ImplDef, bool>,
    pub diagnostics: Vec<Diagnostic>,
    /// Implementation name → targets where some implementation of it exists.
    available: FxHashMap<Rc<str>, u8>,
    /// Every key name declared by an implementation anywhere in the value.
    keys: FxHashSet<Rc<str>>,
    /// Parsed connect templates, shared by the implementations using one.
    templates: FxHashMap<String, Rc<Vec<connect::Piece>>>,
    reported: FxHashSet<(Loc, &'static str)>,
    /// Files of the catalogue: labels there would point at its helpers,
    /// not at the user's choice.
    catalogue: Vec<FileId>,
    /// The user's own files (under the configuration's directory): an
    /// error found elsewhere is shown at the place in them that led there.
    user: Vec<FileId>,
    /// The innermost place in the user's files the device being typed
    /// was written at.
    site: Option<Loc>,
    /// The target whose chosen branches errors name.
    target: Target,
    /// The choices made by the target (`match_impl target`, `if_impl
    /// is_unix`, …): targets that decide each alike have one graph.
    pub choices: Vec<Rc<Device>>,
}

impl Typer {
    pub fn new(catalogue: Vec<FileId>, user: Vec<FileId>, target: Target) -> Typer {
        Typer {
            catalogue,
            user,
            site: None,
            target,
            choices: Vec::new(),
            memo: FxHashMap::default(),
            impls: FxHashMap::default(),
            diagnostics: Vec::new(),
            available: FxHashMap::default(),
            keys: FxHashSet::default(),
            templates: FxHashMap::default(),
            reported: FxHashSet::default(),
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

    /// Where the user can fix a value used at `at` that came `from` the
    /// places given: `None` when `at` is in the user's files already.
    /// Else the first run of places in the user's files, newest first,
    /// gives the outermost one that was an argument (the call the user
    /// wrote), or the first of the run; with the function it was passed to.
    fn blame(&self, at: Loc, from: Option<&Rc<Place>>) -> Option<(Loc, Option<Rc<str>>)> {
        if self.user.contains(&at.file) {
            return None;
        }
        let chain = from.map(|p| p.chain()).unwrap_or_default();
        let start = chain.iter().position(|p| self.user.contains(&p.loc.file))?;
        let run: Vec<&Place> = chain[start..]
            .iter()
            .take_while(|p| self.user.contains(&p.loc.file))
            .copied()
            .collect();
        let pick = run
            .iter()
            .rev()
            .find(|p| p.callee.is_some())
            .unwrap_or(&run[0]);
        Some((pick.loc, pick.callee.clone()))
    }

    /// Reports `d`; one found outside the user's files that no place in
    /// them explains is shown at the user's device it arose in (`site`).
    fn report(&mut self, at: Loc, mut d: Diagnostic) {
        let mut at = at;
        if let (Some(site), Some(p)) = (self.site, d.primary())
            && !self.user.contains(&p.file)
        {
            d.labels.insert(
                0,
                unik_lang::diag::Label {
                    loc: site,
                    message: "the error arises in the device built here".into(),
                },
            );
            at = site;
        }
        if self.reported.insert((at, d.code)) {
            self.diagnostics.push(d);
        }
    }

    /// Targets where some implementation named `name` exists, in order.
    pub fn available(&self, name: &str) -> Vec<&'static str> {
        let mask = self.available.get(name).copied().unwrap_or(0);
        Target::NAMES
            .iter()
            .enumerate()
            .filter(|(i, _)| mask & (1 << i) != 0)
            .map(|(_, t)| *t)
            .collect()
    }

    /// Every key name an implementation anywhere in the value declares.
    pub fn key_names(&self) -> impl Iterator<Item = String> + '_ {
        self.keys.iter().map(|k| k.to_string())
    }

    /// Types `d` as written at `at` (a job of the register).
    pub fn type_at(&mut self, d: &Rc<Device>, at: Loc) -> Option<Rc<DevType>> {
        self.within(Some(at), |t| t.type_of(d))
    }

    /// Runs `f` with `site` set to `at` when that is in the user's files.
    fn within<T>(&mut self, at: Option<Loc>, f: impl FnOnce(&mut Typer) -> T) -> T {
        let saved = self.site;
        if let Some(at) = at
            && self.user.contains(&at.file)
        {
            self.site = Some(at);
        }
        let out = f(self);
        self.site = saved;
        out
    }

    /// Where a device written at `at`, its value coming `from`, shows in
    /// the user's files, if anywhere.
    fn site_of(&self, at: Loc, from: Option<&Rc<Place>>) -> Option<Loc> {
        if self.user.contains(&at.file) {
            return Some(at);
        }
        self.blame(at, from).map(|(l, _)| l)
    }

    /// The type of a device value, or `None` after an error in it.
    pub fn type_of(&mut self, d: &Rc<Device>) -> Option<Rc<DevType>> {
        let key = Rc::as_ptr(d);
        if let Some(t) = self.memo.get(&key) {
            return t.clone();
        }
        // Device values can nest as deep as the configuration builds them
        // (a fold of a million `$`); grow the stack instead of overflowing.
        let t = stacker::maybe_grow(RED_ZONE, STACK_STEP, || self.compute(d));
        self.memo.insert(key, t.clone());
        t
    }

    fn compute(&mut self, d: &Rc<Device>) -> Option<Rc<DevType>> {
        match &d.kind {
            DeviceKind::Impl(def) => {
                self.check_impl(def);
                Some(def.ty.clone())
            }
            DeviceKind::App {
                func,
                arg,
                arg_loc,
                arg_from,
                func_from,
            } => {
                let func_site = self.site_of(d.loc, func_from.as_ref());
                let arg_site = self.site_of(*arg_loc, arg_from.as_ref());
                let tf = self.within(func_site, |t| t.type_of(func));
                let ta = self.within(arg_site, |t| t.type_of(arg));
                let tf = tf?;
                match &*tf {
                    DevType::Base { name } => {
                        let head = head_impl(func, self.target);
                        let mut diag = Diagnostic::error(
                            "E0302",
                            format!(
                                "`$` applied to a device of type `{name}`, which takes no more arguments"
                            ),
                        );
                        let blame = self.blame(d.loc, func_from.as_ref());
                        if let Some((at, callee)) = &blame {
                            diag = diag.label(
                                *at,
                                match callee {
                                    Some(c) => format!(
                                        "`{c}` applies this `{name}` to one more device with `$`"
                                    ),
                                    None => format!(
                                        "this `{name}` is applied to one more device with `$`"
                                    ),
                                },
                            );
                        }
                        diag = diag.label(d.loc, "this `$` has nothing to apply to");
                        if let Some(h) = &head {
                            diag = diag.label(
                                h.ty_loc,
                                format!("`{}` is declared with type `{}` here", h.name, h.ty),
                            );
                        }
                        diag = diag.help(
                            "remove the extra argument, or give the functor one more parameter",
                        );
                        let key = blame.map_or(d.loc, |(at, _)| at);
                        self.report(key, diag);
                        None
                    }
                    DevType::Fn(param, result) => {
                        let ta = ta?;
                        if ta != *param {
                            let head = head_impl(func, self.target);
                            let mut diag = Diagnostic::error(
                                "E0301",
                                format!("device type mismatch: expected `{param}`, found `{ta}`"),
                            );
                            // The argument's own path first; if it never
                            // passed through the user's files, the
                            // function's (a functor the user passed).
                            let blame = self
                                .blame(*arg_loc, arg_from.as_ref())
                                .map(|b| (b, true))
                                .or_else(|| {
                                    func_from
                                        .as_ref()
                                        .and_then(|f| self.blame(*arg_loc, Some(f)))
                                        .map(|b| (b, false))
                                });
                            let into = head.as_ref().map(|h| h.name.clone());
                            if let Some(((at, callee), is_arg)) = &blame {
                                let into = into.as_deref().unwrap_or("a device");
                                let message = match (callee, is_arg) {
                                    (Some(c), true) => format!(
                                        "`{c}` needs a `{param}` here (it passes it to `{into}`), this is `{ta}`"
                                    ),
                                    (None, true) => format!(
                                        "this is `{ta}`, passed on to `{into}`, which needs a `{param}`"
                                    ),
                                    (Some(c), false) => format!(
                                        "`{c}` applies this to a `{ta}`, but it expects a `{param}`"
                                    ),
                                    (None, false) => format!(
                                        "this is applied to a `{ta}`, but it expects a `{param}`"
                                    ),
                                };
                                diag = diag.label(*at, message);
                            }
                            diag = diag.label(*arg_loc, format!("this is `{ta}`"));
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
                            } else if (param.to_string(), ta.to_string())
                                == ("stackv4v6".into(), "stackv4".into())
                            {
                                // mirage 4 moved its network devices to the dual stack.
                                diag = diag.help(
                                    "this takes the dual stack (`stackv4v6`): build it with `generic_stackv4v6` (`--ipv4-only=true` runs IPv4 alone), or pick the catalogue entry made for `stackv4`",
                                );
                            } else {
                                diag = diag.help(format!("pass a device of type `{param}`"));
                            }
                            let key = blame.map_or(*arg_loc, |((at, _), _)| at);
                            self.report(key, diag);
                        }
                        Some(result.clone())
                    }
                }
            }
            DeviceKind::If {
                cond,
                then,
                else_,
                locs,
            } => {
                if let Choice::Target(_) = cond {
                    self.choices.push(d.clone());
                }
                let a = self.type_of(then);
                let b = self.type_of(else_);
                let (a, b) = (a?, b?);
                if a != b {
                    let diag = Diagnostic::error(
                        "E0301",
                        format!("the choices of `if_impl` have different types: `{a}` and `{b}`"),
                    );
                    // Branches the user wrote, passed through a catalogue function.
                    let mut diag = diag;
                    for (at, t) in [(locs[0], &a), (locs[1], &b)] {
                        if !self.user.contains(&d.loc.file) && self.user.contains(&at.file) {
                            diag = diag.label(at, format!("this is `{t}`"));
                        }
                    }
                    let diag = diag
                    .label(d.loc, format!("this `if_impl` chooses between `{a}` and `{b}`"))
                    .help("both devices are type-checked on every target, even the one not chosen; give them one type");
                    let diag = self.label(diag, then.loc, format!("this is `{a}`"));
                    let diag = self.label(diag, else_.loc, format!("this is `{b}`"));
                    let key = diag.primary().unwrap_or(d.loc);
                    self.report(key, diag);
                    return None;
                }
                Some(a)
            }
            DeviceKind::Match {
                value,
                cases,
                default,
                ..
            } => {
                if let Choice::Target(_) = value {
                    self.choices.push(d.clone());
                }
                let td = self.type_of(default);
                let mut ok = true;
                let mut types = Vec::new();
                for (name, c, _) in cases {
                    types.push((name.clone(), c.clone(), self.type_of(c)));
                }
                let td = td?;
                let default_at = match &d.kind {
                    DeviceKind::Match { default_loc, .. } => *default_loc,
                    _ => d.loc,
                };
                for ((name, c, t), (_, _, case_at)) in types.into_iter().zip(cases) {
                    match t {
                        Some(t) if t != td => {
                            let mut diag = Diagnostic::error(
                                "E0301",
                                format!(
                                    "the case `{name}` of `match_impl` has type `{t}`, the default `{td}`"
                                ),
                            );
                            // A case the user wrote (`by_platform { … }`) is
                            // where to fix it.
                            if self.user.contains(&case_at.file) {
                                diag = diag.label(*case_at, format!("this is `{t}`"));
                                if self.user.contains(&default_at.file) {
                                    diag = diag.label(default_at, format!("the default is `{td}`"));
                                }
                            }
                            let diag = diag
                            .label(d.loc, "every case of this `match_impl` must have one type")
                            .help("every case is type-checked on every target, even the ones not chosen");
                            let diag = self.label(diag, c.loc, format!("this is `{t}`"));
                            let diag =
                                self.label(diag, default.loc, format!("the default is `{td}`"));
                            let key = diag.primary().unwrap_or(d.loc);
                            self.report(key, diag);
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
        self.impls.insert(key, false);
        let mask = match &def.targets {
            None => u8::MAX,
            Some(ts) => Target::ALL
                .iter()
                .enumerate()
                .filter(|(_, t)| ts.contains(t))
                .fold(0u8, |m, (i, _)| m | (1 << i)),
        };
        *self.available.entry(def.name.clone()).or_default() |= mask;
        for k in &def.keys {
            if !self.keys.contains(&k.name) {
                self.keys.insert(k.name.clone());
            }
        }
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
        match check_extra(def, params.len(), &mut self.templates) {
            Ok(()) => {
                self.impls.insert(key, ok);
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
/// (through the branch a choice takes on `target`).
pub fn head_impl(d: &Rc<Device>, target: Target) -> Option<Rc<ImplDef>> {
    let mut cur = d.clone();
    loop {
        let next = match &cur.kind {
            DeviceKind::Impl(def) => return Some(def.clone()),
            DeviceKind::App { func, .. } => func.clone(),
            _ => cur.chosen(target)?.clone(),
        };
        cur = next;
    }
}

static NO_PARAMS: std::sync::LazyLock<serde_json::Map<String, serde_json::Value>> =
    std::sync::LazyLock::new(serde_json::Map::new);

/// The fields of an implementation beyond the builtin ones, read in place.
pub fn extra_of(def: &ImplDef) -> Result<ImplExtra<'_>, String> {
    if def.foreign {
        return Ok(ImplExtra {
            connect: None,
            params: &NO_PARAMS,
            embed: None,
            device: None,
        });
    }
    let connect = match def.extra.get("connect") {
        Some(serde_json::Value::String(s)) => s.as_str(),
        _ => return Err("`connect` must be a string (a connect template)".into()),
    };
    let params = match def.extra.get("params") {
        None | Some(serde_json::Value::Null) => &*NO_PARAMS,
        Some(serde_json::Value::Object(m)) => m,
        Some(_) => return Err("`params` must be an attribute set".into()),
    };
    let embed = match def.extra.get("embed") {
        None | Some(serde_json::Value::Null) => None,
        Some(serde_json::Value::String(s)) => Some(s.as_str()),
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
            Some((kind, name))
        }
        Some(_) => {
            return Err("`device` must be `{ kind = \"net\" | \"block\"; name = …; }`".into());
        }
    };
    Ok(ImplExtra {
        connect: Some(connect),
        params,
        embed,
        device,
    })
}

/// Checks an implementation's extra fields and its connect template.
fn check_extra(
    def: &ImplDef,
    arity: usize,
    templates: &mut FxHashMap<String, Rc<Vec<connect::Piece>>>,
) -> Result<(), String> {
    let extra = extra_of(def)?;
    let Some(template) = extra.connect else {
        return Ok(());
    };
    let keys: Vec<&str> = def.keys.iter().map(|k| &*k.name).collect();
    let scope = connect::Scope {
        args: arity,
        deps: def.deps.len(),
        keys: &keys,
        params: extra.params,
        embed: extra.embed.is_some(),
    };
    let pieces = match templates.get(template) {
        Some(p) => p.clone(),
        None => {
            let p = Rc::new(
                connect::parse(template).map_err(|e| format!("bad connect template: {e}"))?,
            );
            templates.insert(template.to_string(), p.clone());
            p
        }
    };
    connect::validate_pieces(&pieces, &scope).map_err(|e| format!("bad connect template: {e}"))
}
