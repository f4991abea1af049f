//! What names are worth, found by evaluating them: the bindings of a file's
//! top-level `let` chain, and the catalogue's globals. The evaluator keeps
//! `let` scopes private, so the file is evaluated with its last body
//! replaced by `{ inherit NAMES; }` (spans before the body are unchanged);
//! each name is then forced on its own, so one failing binding does not hide
//! the others.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::rc::Rc;
use unik_lang::Target;
use unik_lang::diag::Span;
use unik_lang::eval::{
    DevType, Device, DeviceKind, Evaluator, ImplDef, KeyDef, ModuleArena, Options, Package, Value,
};

/// The value of a name, as far as the editor cares.
#[derive(Clone, Debug)]
pub enum Info {
    /// A device value and the target it was evaluated for (its choices are
    /// decided per target).
    Device(Rc<Device>, Rc<str>),
    Type(Rc<DevType>),
    Key(Rc<KeyDef>),
    Package(Rc<Package>),
    Function,
    /// Another kind of value (`an int`, `a list`, …).
    Other(&'static str),
    /// Evaluating it failed (the diagnostics say why).
    Failed,
}

impl Info {
    fn of(v: &Value, target: &Rc<str>) -> Info {
        match v {
            Value::Device(d) => Info::Device(d.clone(), target.clone()),
            Value::Type(t) => Info::Type(t.clone()),
            Value::Key(k) => Info::Key(k.clone()),
            Value::Package(p) => Info::Package(p.clone()),
            Value::Lambda(_) | Value::Builtin(_) => Info::Function,
            other => Info::Other(other.kind()),
        }
    }

    /// The device type of a device value.
    pub fn device_type(&self) -> Option<Rc<DevType>> {
        match self {
            Info::Device(d, t) => device_type(d, t),
            _ => None,
        }
    }
}

/// Evaluation budget of one probe: far below the checker's, since it runs
/// on requests.
const STEPS: u64 = 2_000_000;

/// Evaluates `text` (the file at `path`) for `target` with the body span
/// replaced by `{ inherit NAMES; }` plus `extra` attributes
/// (`(name, expression)`), and returns each attribute's value. The `arena`
/// keeps the catalogue's parse between probes.
#[allow(clippy::too_many_arguments)]
pub fn run(
    path: &Path,
    text: &str,
    body: Span,
    names: &[&str],
    extra: &[(String, String)],
    target: &str,
    overlays: &BTreeMap<PathBuf, String>,
    arena: &ModuleArena,
) -> HashMap<String, Info> {
    let mut set = String::from("{ ");
    if !names.is_empty() {
        set.push_str("inherit ");
        set.push_str(&names.join(" "));
        set.push_str("; ");
    }
    for (name, expr) in extra {
        set.push_str(&format!("{name} = ({expr}); "));
    }
    set.push('}');
    let synth = format!(
        "{}{set}{}",
        &text[..body.start as usize],
        &text[body.end as usize..]
    );

    let mut out = HashMap::new();
    let name_of_target: Rc<str> = target.into();
    let Ok(target) = target.parse::<Target>() else {
        return out;
    };
    let mut options = Options::new(target);
    options.max_steps = STEPS;
    options.overlays = overlays.clone();
    let ev = Evaluator::new(arena, options);
    if unik_resolver::session::load_catalogue(&ev).is_err() {
        return out;
    }
    // A sibling path: imports resolve alike, and the arena's parse of the
    // real file (kept under its own path) is not replaced.
    let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("probe");
    let (_, v) = ev.eval_root(&path.with_file_name(format!(".{name}.probe")), &synth);
    let Ok(Value::Attrs(attrs)) = v else {
        return out;
    };
    for (name, attr) in attrs.iter() {
        let info = match ev.force(&attr.value) {
            Ok(v) => Info::of(&v, &name_of_target),
            Err(_) => Info::Failed,
        };
        out.insert(name.to_string(), info);
    }
    out
}

/// The type of a device value: its implementation's type minus the
/// arguments applied.
pub fn device_type(d: &Device, target: &str) -> Option<Rc<DevType>> {
    match &d.kind {
        DeviceKind::Impl(i) => Some(i.ty.clone()),
        DeviceKind::App { func, .. } => match &*device_type(func, target)? {
            DevType::Fn(_, result) => Some(result.clone()),
            DevType::Base { .. } => None,
        },
        DeviceKind::If { .. } | DeviceKind::Match { .. } => {
            device_type(d.chosen(target.parse().ok()?)?, target)
        }
    }
}

/// The implementation a device value applies (after choosing branches).
pub fn head_impl(d: &Device, target: &str) -> Option<Rc<ImplDef>> {
    match &d.kind {
        DeviceKind::Impl(i) => Some(i.clone()),
        DeviceKind::App { func, .. } => head_impl(func, target),
        _ => head_impl(d.chosen(target.parse().ok()?)?, target),
    }
}

/// Every implementation a device value uses: its own, its arguments' and
/// its dependencies', each once, in first-use order.
pub fn impls(d: &Device, target: &str) -> Vec<Rc<ImplDef>> {
    fn walk(d: &Device, target: &str, out: &mut Vec<Rc<ImplDef>>) {
        match &d.kind {
            DeviceKind::Impl(i) => {
                if !out.iter().any(|o| Rc::ptr_eq(o, i)) {
                    out.push(i.clone());
                    for dep in &i.deps {
                        walk(dep, target, out);
                    }
                }
            }
            DeviceKind::App { func, arg, .. } => {
                walk(func, target, out);
                walk(arg, target, out);
            }
            _ => {
                if let Some(c) = target.parse().ok().and_then(|t| d.chosen(t)) {
                    walk(c, target, out);
                }
            }
        }
    }
    let mut out = Vec::new();
    walk(d, target, &mut out);
    out
}

/// The implementations of a device that do not support `target`.
pub fn unsupported(d: &Device, target: &str) -> Vec<Rc<str>> {
    impls(d, target)
        .into_iter()
        .filter(|i| {
            i.targets
                .as_ref()
                .is_some_and(|ts| !ts.iter().any(|t| t.name() == target))
        })
        .map(|i| i.name.clone())
        .collect()
}

/// `>=1.0.0, <2.0.0` for a package's bounds, `*` without any.
pub fn bounds(p: &Package) -> String {
    match (&p.min, &p.max) {
        (Some(a), Some(b)) => format!(">={a}, <{b}"),
        (Some(a), None) => format!(">={a}"),
        (None, Some(b)) => format!("<{b}"),
        (None, None) => "*".into(),
    }
}
