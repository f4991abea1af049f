//! Runtime values of the evaluator.
//!
//! Language values borrow the syntax tree (`'a`) and are lazy: lists and
//! attribute sets hold [`Thunk`]s. Device-model values (types, devices,
//! packages, keys, registers) are plain data with no lifetime, so the
//! resolver can keep them after evaluation ends.

use crate::diag::{Diagnostic, Loc};
use crate::syntax::{Expr, Name, Param};
use crate::target::{Family, Target};
use std::cell::RefCell;
use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::path::PathBuf;
use std::rc::Rc;

/// Why evaluation stopped: a reported error, or a syntax error already
/// reported for an `Error` node (poison, never reported twice).
#[derive(Debug, Clone)]
pub enum Stop {
    Error(Rc<Diagnostic>),
    Poison,
}

impl From<Diagnostic> for Stop {
    fn from(d: Diagnostic) -> Stop {
        Stop::Error(Rc::new(d))
    }
}

pub type R<T> = Result<T, Stop>;

#[derive(Clone)]
pub enum Value<'a> {
    Null,
    Bool(bool),
    Int(i64),
    Str(Rc<str>),
    /// Absolute, lexically normalised.
    Path(Rc<PathBuf>),
    List(Rc<Vec<Thunk<'a>>>),
    Attrs(Rc<Attrs<'a>>),
    Lambda(Rc<Closure<'a>>),
    Builtin(Rc<Partial<'a>>),
    Type(Rc<DevType>),
    Device(Rc<Device>),
    Package(Rc<Package>),
    Key(Rc<KeyDef>),
    Register(Rc<Register>),
}

impl Value<'_> {
    /// The kind's name as error messages say it.
    pub fn kind(&self) -> &'static str {
        match self {
            Value::Null => "null",
            Value::Bool(_) => "a bool",
            Value::Int(_) => "an int",
            Value::Str(_) => "a string",
            Value::Path(_) => "a path",
            Value::List(_) => "a list",
            Value::Attrs(_) => "an attribute set",
            Value::Lambda(_) | Value::Builtin(_) => "a function",
            Value::Type(_) => "a device type",
            Value::Device(_) => "a device",
            Value::Package(_) => "a package",
            Value::Key(_) => "a key",
            Value::Register(_) => "a register",
        }
    }
}

/// An attribute set: sorted, each value with where its name was written.
pub type Attrs<'a> = BTreeMap<Name, Attr<'a>>;

#[derive(Clone)]
pub struct Attr<'a> {
    pub value: Thunk<'a>,
    pub loc: Option<Loc>,
}

/// A lexical scope frame. Small frames are searched linearly; large ones
/// (a `let` with thousands of bindings) through a hash index.
pub struct Scope<'a> {
    pub vars: RefCell<Vec<(Name, Thunk<'a>)>>,
    index: RefCell<HashMap<Name, usize>>,
    pub parent: Option<Env<'a>>,
}

pub type Env<'a> = Rc<Scope<'a>>;

/// Frames up to this size are searched linearly.
const LINEAR: usize = 16;

impl<'a> Scope<'a> {
    pub fn new(vars: Vec<(Name, Thunk<'a>)>, parent: Option<Env<'a>>) -> Env<'a> {
        let scope = Rc::new(Scope {
            vars: RefCell::new(Vec::new()),
            index: RefCell::new(HashMap::new()),
            parent,
        });
        scope.set_vars(vars);
        scope
    }

    /// Replaces the frame's variables (a recursive scope is filled after
    /// its thunks, which refer to it, are made).
    pub fn set_vars(&self, vars: Vec<(Name, Thunk<'a>)>) {
        let mut index = self.index.borrow_mut();
        index.clear();
        if vars.len() > LINEAR {
            for (i, (n, _)) in vars.iter().enumerate() {
                index.insert(n.clone(), i);
            }
        }
        *self.vars.borrow_mut() = vars;
    }

    pub fn clear(&self) {
        self.index.borrow_mut().clear();
        self.vars.borrow_mut().clear();
    }

    pub fn lookup(env: &Env<'a>, name: &str) -> Option<Thunk<'a>> {
        let mut cur = Some(env);
        while let Some(scope) = cur {
            let vars = scope.vars.borrow();
            let found = if vars.len() > LINEAR {
                scope.index.borrow().get(name).map(|&i| &vars[i].1)
            } else {
                vars.iter()
                    .rev()
                    .find(|(n, _)| &**n == name)
                    .map(|(_, t)| t)
            };
            if let Some(t) = found {
                return Some(t.clone());
            }
            cur = scope.parent.as_ref();
        }
        None
    }
}

pub struct Closure<'a> {
    pub param: &'a Param,
    pub body: &'a Expr,
    pub env: Env<'a>,
    pub file: crate::diag::FileId,
}

/// A builtin applied to fewer arguments than it takes.
pub struct Partial<'a> {
    pub builtin: super::builtins::Builtin,
    pub args: Vec<Thunk<'a>>,
}

/// A lazily computed value. Forcing a thunk that is being forced is
/// infinite recursion (E0204), detected by the `Forcing` state.
#[derive(Clone)]
pub struct Thunk<'a>(pub Rc<RefCell<ThunkState<'a>>>);

pub enum ThunkState<'a> {
    Pending(Lazy<'a>),
    Forcing(Option<(Name, Loc)>),
    /// The value, and for a device the place it was computed for.
    Done(Value<'a>, Option<Rc<Place>>),
    Failed(Stop),
}

/// Where a device value came from, newest first: the expression a thunk
/// was made for (an argument, a binding's value), then, when that
/// expression was a plain name, the place of the value the name held. So
/// `net` inside a catalogue function leads back to the argument the user
/// wrote, and errors found deep inside can be shown where the user can
/// fix them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Place {
    pub loc: Loc,
    /// The function this expression was an argument of (`f x` with `f` a
    /// name or `s.f`).
    pub callee: Option<Name>,
    pub from: Option<Rc<Place>>,
    /// How many places `from` holds; chains are cut at [`Place::MAX`] so
    /// deep recursion neither grows them without end nor drops them
    /// recursively.
    pub depth: u16,
}

impl Place {
    pub const MAX: u16 = 24;

    pub fn new(loc: Loc, callee: Option<Name>, from: Option<Rc<Place>>) -> Rc<Place> {
        let (from, depth) = match from {
            Some(f) if f.depth < Place::MAX => {
                let d = f.depth + 1;
                (Some(f), d)
            }
            _ => (None, 0),
        };
        Rc::new(Place {
            loc,
            callee,
            from,
            depth,
        })
    }

    /// This place and those it came from, newest first.
    pub fn chain(self: &Rc<Place>) -> Vec<&Place> {
        let mut out = vec![&**self];
        let mut cur = self.from.as_deref();
        while let Some(p) = cur {
            out.push(p);
            cur = p.from.as_deref();
        }
        out
    }
}

/// What a pending thunk will compute.
pub enum Lazy<'a> {
    Expr {
        expr: &'a Expr,
        env: Env<'a>,
        file: crate::diag::FileId,
        /// The binding this thunk is the value of, for E0204's message.
        origin: Option<(Name, Loc)>,
        /// The function this expression is an argument of, for [`Place`].
        callee: Option<Name>,
    },
    /// `f x`, created by builtins such as `map`.
    Apply {
        func: Value<'a>,
        arg: Thunk<'a>,
        loc: Loc,
    },
    /// `s.name`, created by `inherit (s) name`.
    Select {
        set: Thunk<'a>,
        name: Name,
        loc: Loc,
    },
    /// The top expression of an imported file.
    Import { path: PathBuf, loc: Loc },
    /// `target`, `is_unix`, …: forcing one records that the evaluation
    /// depends on the target (see [`crate::eval::Evaluator::target_seen`]).
    Target(TargetConst),
}

/// The global constants whose value is the target or a test of it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TargetConst {
    Target,
    IsUnix,
    IsSolo5,
    IsXen,
}

impl TargetConst {
    pub const ALL: [(&'static str, TargetConst); 4] = [
        ("target", TargetConst::Target),
        ("is_unix", TargetConst::IsUnix),
        ("is_solo5", TargetConst::IsSolo5),
        ("is_xen", TargetConst::IsXen),
    ];

    /// The constant's value on `target`.
    pub fn value<'a>(self, target: Target) -> Value<'a> {
        match self {
            TargetConst::Target => Value::Str(target.name().into()),
            TargetConst::IsUnix => Value::Bool(target.family() == Family::Unix),
            TargetConst::IsSolo5 => Value::Bool(target.family() == Family::Solo5),
            TargetConst::IsXen => Value::Bool(target.family() == Family::Xen),
        }
    }

    /// The value as `match_impl` compares it: the target name, or `true`/`false`.
    fn text(self, target: Target) -> &'static str {
        match self {
            TargetConst::Target => target.name(),
            _ => match self.value(target) {
                Value::Bool(true) => "true",
                _ => "false",
            },
        }
    }
}

/// What an `if_impl` or `match_impl` decides on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Choice {
    /// A value the configuration computed: a `match_impl` string (ints and
    /// bools written out), or `true`/`false` for `if_impl`.
    Fixed(Rc<str>),
    /// One of the target constants passed as it is (`match_impl target`,
    /// `if_impl is_unix`): decided per target, without the evaluation
    /// having looked at the target, so that one evaluation serves them all.
    Target(TargetConst),
}

impl Choice {
    /// The value decided on, on `target`.
    pub fn on(&self, target: Target) -> &str {
        match self {
            Choice::Fixed(v) => v,
            Choice::Target(c) => c.text(target),
        }
    }
}

impl<'a> Thunk<'a> {
    pub fn value(v: Value<'a>) -> Thunk<'a> {
        Thunk(Rc::new(RefCell::new(ThunkState::Done(v, None))))
    }
    /// Where the thunk's device value came from, once forced.
    pub fn place(&self) -> Option<Rc<Place>> {
        match &*self.0.borrow() {
            ThunkState::Done(_, p) => p.clone(),
            _ => None,
        }
    }
    pub fn lazy(l: Lazy<'a>) -> Thunk<'a> {
        Thunk(Rc::new(RefCell::new(ThunkState::Pending(l))))
    }
    pub fn ptr(&self) -> *const RefCell<ThunkState<'a>> {
        Rc::as_ptr(&self.0)
    }
}

// ------------------------------------------------------------------ device model

/// A device type: `console`, or a functor type `a @-> b`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum DevType {
    Base { name: Rc<str> },
    Fn(Rc<DevType>, Rc<DevType>),
}

impl DevType {
    /// Parameters and result: `a @-> b @-> job` is `([a, b], job)`.
    pub fn unfold(self: &Rc<DevType>) -> (Vec<Rc<DevType>>, Rc<DevType>) {
        let mut params = Vec::new();
        let mut t = self.clone();
        while let DevType::Fn(a, b) = &*t {
            params.push(a.clone());
            let next = b.clone();
            t = next;
        }
        (params, t)
    }
}

impl fmt::Display for DevType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DevType::Base { name } => f.write_str(name),
            DevType::Fn(a, b) => match &**a {
                DevType::Fn(..) => write!(f, "({a}) @-> {b}"),
                _ => write!(f, "{a} @-> {b}"),
            },
        }
    }
}

/// A device value: an implementation, an application, or a choice.
#[derive(Debug, Clone)]
pub struct Device {
    pub kind: DeviceKind,
    /// Where this value was written (the `impl`/`foreign` call, the `$`, …).
    pub loc: Loc,
}

#[derive(Debug, Clone)]
pub enum DeviceKind {
    Impl(Rc<ImplDef>),
    App {
        func: Rc<Device>,
        arg: Rc<Device>,
        /// Where the argument expression was written (E0301's label).
        arg_loc: Loc,
        /// Where the argument's and the function's values came from when
        /// they were written as names (see [`Place`]).
        arg_from: Option<Rc<Place>>,
        func_from: Option<Rc<Place>>,
    },
    /// `if_impl cond a b`: both kept, so both can be type-checked.
    If {
        cond: Choice,
        then: Rc<Device>,
        else_: Rc<Device>,
        /// Where the two devices were written.
        locs: [Loc; 2],
    },
    /// `match_impl value { case = d; …; default = d; }`.
    Match {
        value: Choice,
        /// Each case with where its device was written.
        cases: Vec<(Rc<str>, Rc<Device>, Loc)>,
        default: Rc<Device>,
        default_loc: Loc,
    },
}

impl Device {
    /// The branch an `If`/`Match` takes on `target` (None for others).
    pub fn chosen(&self, target: Target) -> Option<&Rc<Device>> {
        self.chosen_at(target).map(|(d, _)| d)
    }

    /// The branch an `If`/`Match` takes on `target`, and where it was written.
    pub fn chosen_at(&self, target: Target) -> Option<(&Rc<Device>, Loc)> {
        match &self.kind {
            DeviceKind::If {
                cond,
                then,
                else_,
                locs,
            } => Some(if cond.on(target) == "true" {
                (then, locs[0])
            } else {
                (else_, locs[1])
            }),
            DeviceKind::Match {
                value,
                cases,
                default,
                default_loc,
            } => Some(
                cases
                    .iter()
                    .find(|(c, _, _)| **c == *value.on(target))
                    .map(|(_, d, at)| (d, *at))
                    .unwrap_or((default, *default_loc)),
            ),
            _ => None,
        }
    }
}

/// `impl { … }` or `foreign NAME … TYPE`.
#[derive(Debug, Clone)]
pub struct ImplDef {
    pub name: Rc<str>,
    /// The Rust path: the runtime module, or the user's item for `foreign`.
    pub module: Rc<str>,
    pub ty: Rc<DevType>,
    /// `None` means every target.
    pub targets: Option<Vec<Target>>,
    pub packages: Vec<Rc<Package>>,
    pub keys: Vec<Rc<KeyDef>>,
    /// Data dependencies: initialised first, not functor arguments.
    pub deps: Vec<Rc<Device>>,
    pub doc: Rc<str>,
    pub foreign: bool,
    /// Every other field (e.g. `connect`), forced to plain data.
    pub extra: BTreeMap<String, serde_json::Value>,
    pub loc: Loc,
    /// Where the type expression was written, for E0301's second label.
    pub ty_loc: Loc,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Package {
    pub name: Rc<str>,
    pub min: Option<Rc<str>>,
    pub max: Option<Rc<str>>,
    pub features: Vec<Rc<str>>,
    pub pin: Option<Pin>,
    pub loc: Loc,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Pin {
    Path(Rc<str>),
    Git { url: Rc<str>, rev: Rc<str> },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum KeyType {
    Int,
    String,
    Bool,
}

impl KeyType {
    pub fn as_str(self) -> &'static str {
        match self {
            KeyType::Int => "int",
            KeyType::String => "string",
            KeyType::Bool => "bool",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Stage {
    Configure,
    Runtime,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeyValue {
    Int(i64),
    Str(Rc<str>),
    Bool(bool),
}

impl fmt::Display for KeyValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            KeyValue::Int(n) => write!(f, "{n}"),
            KeyValue::Str(s) => f.write_str(s),
            KeyValue::Bool(b) => write!(f, "{b}"),
        }
    }
}

impl KeyValue {
    /// Parses a command-line value for a key of type `ty`.
    pub fn parse(ty: KeyType, s: &str) -> Option<KeyValue> {
        match ty {
            KeyType::Int => s.parse().ok().map(KeyValue::Int),
            KeyType::Bool => match s {
                "true" => Some(KeyValue::Bool(true)),
                "false" => Some(KeyValue::Bool(false)),
                _ => None,
            },
            KeyType::String => Some(KeyValue::Str(s.into())),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyDef {
    pub name: Rc<str>,
    pub ty: KeyType,
    pub default: Option<KeyValue>,
    pub doc: Rc<str>,
    pub stage: Stage,
    /// The allowed values of a string key; empty means any string.
    pub values: Vec<Rc<str>>,
    pub loc: Loc,
}

impl KeyDef {
    /// Parses a command-line value, honouring `values`.
    pub fn parse(&self, s: &str) -> Option<KeyValue> {
        let v = KeyValue::parse(self.ty, s)?;
        if !self.values.is_empty() && !self.values.iter().any(|a| &**a == s) {
            return None;
        }
        Some(v)
    }

    /// What a valid value looks like, for messages.
    pub fn expected(&self) -> String {
        if self.values.is_empty() {
            self.ty.as_str().to_string()
        } else {
            format!("one of {}", self.values.join(", "))
        }
    }
}

#[derive(Debug, Clone)]
pub struct Register {
    pub name: Rc<str>,
    pub jobs: Vec<Rc<Device>>,
    pub reporter: Option<Rc<Device>>,
    pub argv: Option<Rc<Device>>,
    pub loc: Loc,
}
