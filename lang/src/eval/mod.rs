//! The lazy evaluator.
//!
//! One [`Evaluator`] evaluates one configuration for one target: the prelude
//! (the device catalogue), the root file and everything it imports. Errors
//! stop evaluation with one diagnostic ([`Stop`]); syntax and scope problems
//! found while loading files are collected in [`Evaluator::diagnostics`].
//! Recursion depth and total work are bounded (E0211), so no input can
//! overflow the stack or hang.

pub mod builtins;
mod devices;
mod json;
mod ops;
pub mod scope;
pub mod value;

pub use json::to_json;
pub use value::*;

use crate::diag::{Diagnostic, FileId, Loc, SourceMap, Span};
use crate::path::{absolute, normalize};
use crate::syntax::{self, BindingKind, Expr, ExprKind, Module, Name, Param, StrPart};
use crate::target::Target;
use std::cell::{Cell, RefCell};
use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::rc::Rc;
use typed_arena::Arena;

#[derive(Debug, Clone)]
pub struct Options {
    pub target: Target,
    /// Configure-time key values from the command line (`--NAME=value`).
    pub keys: BTreeMap<String, String>,
    pub max_depth: usize,
    pub max_steps: u64,
    /// Texts to use instead of the disk for imported files (an editor's
    /// unsaved buffers), by absolute, normalised path.
    pub overlays: BTreeMap<PathBuf, String>,
}

impl Options {
    pub fn new(target: Target) -> Options {
        Options {
            target,
            keys: BTreeMap::new(),
            max_depth: 10_000,
            max_steps: 50_000_000,
            overlays: BTreeMap::new(),
        }
    }
}

/// Parsed files live in an arena owned by the caller, so values may borrow
/// them. Evaluators that share one arena (the targets of a matrix, the
/// requests of a language server) also share its parses: each file is
/// parsed and scope-checked once per distinct text.
#[derive(Default)]
pub struct ModuleArena {
    arena: Arena<Module>,
    cache: RefCell<HashMap<PathBuf, Parsed>>,
}

/// One cached parse: its text, module and diagnostics (against `file`).
struct Parsed {
    text: String,
    names: u64,
    module: *const Module,
    file: FileId,
    diagnostics: Vec<Diagnostic>,
}

impl ModuleArena {
    pub fn new() -> ModuleArena {
        ModuleArena::default()
    }

    /// The parse of `text` at `path` as file `file`, from the cache when the
    /// same text was parsed before under the same global names.
    fn parse(
        &self,
        path: &Path,
        text: &str,
        file: FileId,
        names: &[Name],
    ) -> (&Module, Vec<Diagnostic>) {
        let names_hash = {
            use std::hash::{Hash, Hasher};
            let mut sorted: Vec<&str> = names.iter().map(|n| &**n).collect();
            sorted.sort_unstable();
            let mut h = std::collections::hash_map::DefaultHasher::new();
            sorted.hash(&mut h);
            h.finish()
        };
        if let Some(c) = self.cache.borrow().get(path)
            && c.text == text
            && c.names == names_hash
        {
            // SAFETY: `module` points into `self.arena`, which never moves or
            // frees its items before it is dropped with `self`.
            let module = unsafe { &*c.module };
            let diagnostics = c
                .diagnostics
                .iter()
                .cloned()
                .map(|mut d| {
                    for l in &mut d.labels {
                        if l.loc.file == c.file {
                            l.loc.file = file;
                        }
                    }
                    d
                })
                .collect();
            return (module, diagnostics);
        }
        let parsed = syntax::parse(file, text);
        let broken = parsed.has_errors();
        let mut diagnostics = parsed.diagnostics;
        let module: &Module = self.arena.alloc(parsed.module);
        let mut found = scope::check(file, text, module, names);
        // Lints are noise while the file does not parse.
        if broken {
            found.retain(|d| d.is_error());
        }
        diagnostics.extend(found);
        self.cache.borrow_mut().insert(
            path.to_path_buf(),
            Parsed {
                text: text.to_string(),
                names: names_hash,
                module,
                file,
                diagnostics: diagnostics.clone(),
            },
        );
        (module, diagnostics)
    }
}

pub struct Evaluator<'a> {
    arena: &'a ModuleArena,
    pub options: Options,
    pub sources: RefCell<SourceMap>,
    /// Syntax, scope and lint diagnostics of every loaded file.
    pub diagnostics: RefCell<Vec<Diagnostic>>,
    /// Messages of `trace`, in order.
    pub traces: RefCell<Vec<String>>,
    /// Configure keys read with `key_value`, in order, each once.
    keys_read: RefCell<Vec<Rc<value::KeyDef>>>,
    modules: RefCell<HashMap<FileId, &'a Module>>,
    imports: RefCell<HashMap<PathBuf, (FileId, Thunk<'a>)>>,
    import_stack: RefCell<Vec<PathBuf>>,
    root: RefCell<Option<Env<'a>>>,
    root_dir: RefCell<Option<PathBuf>>,
    /// Recursive scopes form Rc cycles; they are cleared on drop.
    rec_scopes: RefCell<Vec<Env<'a>>>,
    depth: Cell<usize>,
    steps: Cell<u64>,
    target_seen: Cell<bool>,
}

impl Drop for Evaluator<'_> {
    fn drop(&mut self) {
        for s in self.rec_scopes.borrow().iter() {
            s.clear();
        }
    }
}

/// Decrements the depth counter when an evaluation frame ends.
struct DepthGuard<'e> {
    depth: &'e Cell<usize>,
}

impl Drop for DepthGuard<'_> {
    fn drop(&mut self) {
        self.depth.set(self.depth.get() - 1);
    }
}

impl<'a> Evaluator<'a> {
    pub fn new(arena: &'a ModuleArena, options: Options) -> Evaluator<'a> {
        Evaluator::with_sources(arena, options, SourceMap::new())
    }

    /// Reuses the file ids of an earlier run (one per target of a matrix),
    /// so that diagnostics of all runs refer to one source map.
    pub fn with_sources(
        arena: &'a ModuleArena,
        options: Options,
        sources: SourceMap,
    ) -> Evaluator<'a> {
        Evaluator {
            arena,
            options,
            sources: RefCell::new(sources),
            diagnostics: RefCell::new(Vec::new()),
            traces: RefCell::new(Vec::new()),
            keys_read: RefCell::new(Vec::new()),
            modules: RefCell::new(HashMap::new()),
            imports: RefCell::new(HashMap::new()),
            import_stack: RefCell::new(Vec::new()),
            root: RefCell::new(None),
            root_dir: RefCell::new(None),
            rec_scopes: RefCell::new(Vec::new()),
            depth: Cell::new(0),
            steps: Cell::new(0),
            target_seen: Cell::new(false),
        }
    }

    /// Whether anything so far looked at the target (`target`, `is_unix`, …
    /// forced other than as the choice of `match_impl`/`if_impl`). Until
    /// then, the values, diagnostics and traces are the same on every
    /// target, and one evaluation can serve a whole matrix.
    pub fn target_seen(&self) -> bool {
        self.target_seen.get()
    }

    /// The configure keys `key_value` has read so far (the resolver needs
    /// them: they are known keys, and their values shaped the graph).
    pub fn keys_read(&self) -> Vec<Rc<value::KeyDef>> {
        self.keys_read.borrow().clone()
    }

    pub(crate) fn note_key_read(&self, k: &Rc<value::KeyDef>) {
        let mut read = self.keys_read.borrow_mut();
        if !read.iter().any(|r| Rc::ptr_eq(r, k)) {
            read.push(k.clone());
        }
    }

    /// The global scope: builtins, then the prelude's attributes on top.
    fn root_env(&self) -> Env<'a> {
        if let Some(env) = self.root.borrow().as_ref() {
            return env.clone();
        }
        let env = builtins::root_scope();
        *self.root.borrow_mut() = Some(env.clone());
        env
    }

    /// Names visible at the top of every file (for the static scope check).
    pub fn root_names(&self) -> Vec<Name> {
        let env = self.root_env();
        let mut out = Vec::new();
        let mut cur = Some(env);
        while let Some(s) = cur {
            out.extend(s.vars.borrow().iter().map(|(n, _)| n.clone()));
            cur = s.parent.clone();
        }
        out
    }

    /// Evaluates the catalogue and makes its attributes global.
    pub fn load_prelude(&self, path: &Path, text: &str) -> Result<(), Stop> {
        let file = self.add_source(path, text);
        let module = self.module(file);
        let env = self.root_env();
        let expr = module.expr.as_ref().ok_or(Stop::Poison)?;
        let v = self.eval(expr, &env, file)?;
        let Value::Attrs(attrs) = v else {
            return Err(Diagnostic::error(
                "E0202",
                "the prelude must evaluate to an attribute set",
            )
            .label(Loc::new(file, expr.span), format!("this is {}", v.kind()))
            .into());
        };
        let vars = attrs
            .iter()
            .map(|(n, a)| (n.clone(), a.value.clone()))
            .collect();
        let scope = value::Scope::new(vars, Some(env));
        *self.root.borrow_mut() = Some(scope);
        Ok(())
    }

    /// Registers a file's text; parses and statically checks it.
    pub fn add_source(&self, path: &Path, text: &str) -> FileId {
        let known = self.sources.borrow().find(path);
        let file = match known {
            Some(id) if self.sources.borrow().get(id).text == text => id,
            _ => self.sources.borrow_mut().add(path, text),
        };
        let names = self.root_names();
        let (module, found) = self.arena.parse(path, text, file, &names);
        self.diagnostics.borrow_mut().extend(found);
        self.modules.borrow_mut().insert(file, module);
        file
    }

    pub fn module(&self, file: FileId) -> &'a Module {
        self.modules.borrow()[&file]
    }

    /// Evaluates a file given by its text (the root of a configuration).
    pub fn eval_root(&self, path: &Path, text: &str) -> (FileId, R<Value<'a>>) {
        let abs = absolute(path);
        if self.root_dir.borrow().is_none() {
            *self.root_dir.borrow_mut() = abs.parent().map(Path::to_path_buf);
        }
        let file = self.add_source(&abs, text);
        let thunk = Thunk::lazy(Lazy::Import {
            path: abs.clone(),
            loc: Loc::new(file, Span::default()),
        });
        self.imports.borrow_mut().insert(abs, (file, thunk.clone()));
        (file, self.force(&thunk))
    }

    fn enter(&self, loc: Loc) -> Result<DepthGuard<'_>, Stop> {
        let depth = self.depth.get() + 1;
        let steps = self.steps.get() + 1;
        self.steps.set(steps);
        // The depth limit assumes a large stack; on a small one (a test
        // thread, an embedding program) stop before it runs out.
        let low_stack = stacker::remaining_stack().is_some_and(|r| r < 256 * 1024);
        if depth > self.options.max_depth || low_stack {
            return Err(Diagnostic::error("E0211", "evaluation is too deep")
                .label(
                    loc,
                    format!(
                        "the depth limit of {} was reached here",
                        self.options.max_depth
                    ),
                )
                .help("this is usually a function that calls itself without end")
                .into());
        }
        if steps > self.options.max_steps {
            return Err(Diagnostic::error("E0211", "evaluation takes too long")
                .label(
                    loc,
                    format!(
                        "the limit of {} steps was reached here",
                        self.options.max_steps
                    ),
                )
                .help("configurations must evaluate quickly; look for exponential recursion")
                .into());
        }
        self.depth.set(depth);
        Ok(DepthGuard { depth: &self.depth })
    }

    /// Forces a thunk to weak head normal form.
    pub fn force(&self, t: &Thunk<'a>) -> R<Value<'a>> {
        let lazy = {
            let mut st = t.0.borrow_mut();
            match &*st {
                ThunkState::Done(v, _) => return Ok(v.clone()),
                ThunkState::Failed(s) => return Err(s.clone()),
                ThunkState::Forcing(origin) => return Err(self.infinite(origin.clone())),
                ThunkState::Pending(_) => {}
            }
            let origin = match &*st {
                ThunkState::Pending(Lazy::Expr { origin, .. }) => origin.clone(),
                _ => None,
            };
            match std::mem::replace(&mut *st, ThunkState::Forcing(origin)) {
                ThunkState::Pending(l) => l,
                _ => unreachable!("checked above"),
            }
        };
        let mut place = None;
        let result = match lazy {
            Lazy::Expr {
                expr,
                env,
                file,
                callee,
                ..
            } => {
                let r = self.eval(expr, &env, file);
                if let Ok(Value::Device(_)) = &r {
                    place = Some(Place::new(
                        Loc::new(file, expr.span),
                        callee,
                        name_place(expr, &env),
                    ));
                }
                r
            }
            Lazy::Apply { func, arg, loc } => self.apply(func, arg, loc),
            Lazy::Select { set, name, loc } => self
                .force(&set)
                .and_then(|s| self.select_one(s, &name, loc)),
            Lazy::Import { path, loc } => self.eval_import(&path, loc),
            Lazy::Target(c) => {
                self.target_seen.set(true);
                Ok(c.value(self.options.target))
            }
        };
        *t.0.borrow_mut() = match &result {
            Ok(v) => ThunkState::Done(v.clone(), place),
            Err(s) => ThunkState::Failed(s.clone()),
        };
        result
    }

    fn infinite(&self, origin: Option<(Name, Loc)>) -> Stop {
        let d = Diagnostic::error("E0204", "infinite recursion: a value depends on itself");
        match origin {
            Some((name, loc)) => d
                .label(loc, format!("`{name}` needs its own value to be computed"))
                .help("break the cycle: one of the values involved must not refer back to it"),
            None => d.help("a value refers to itself through a chain of bindings"),
        }
        .into()
    }

    /// Whether `file` is one of the user's own: under the root file's
    /// directory. The catalogue (`<stdlib>/…`) and files imported from
    /// outside the project are not.
    pub fn is_user_file(&self, file: FileId) -> bool {
        let root = self.root_dir.borrow();
        let Some(root) = root.as_ref() else {
            return false;
        };
        self.sources.borrow().get(file).path.starts_with(root)
    }

    /// Where a choice's branch written at `at` shows in the user's files:
    /// `at` itself, or, when the branch is a catalogue function's
    /// parameter (`by_platform`), the first place in the user's files its
    /// value came from.
    pub fn user_place(&self, at: Loc, from: Option<Rc<Place>>) -> Loc {
        if self.is_user_file(at.file) {
            return at;
        }
        from.and_then(|p| {
            p.chain()
                .into_iter()
                .find(|p| self.is_user_file(p.loc.file))
                .map(|p| p.loc)
        })
        .unwrap_or(at)
    }

    /// An error raised inside a function the user called from their own
    /// file, but in a file they did not write: shown at the call, with
    /// the places inside as secondary labels and a note.
    fn at_call(&self, d: Rc<Diagnostic>, call: Loc, callee: Option<&str>) -> Stop {
        let Some(inner) = d.labels.first().cloned() else {
            return Stop::Error(d);
        };
        if self.is_user_file(inner.loc.file) || !self.is_user_file(call.file) {
            return Stop::Error(d);
        }
        let name = callee.map_or("the function".to_string(), |c| format!("`{c}`"));
        let (file, line) = {
            let sources = self.sources.borrow();
            let f = sources.get(inner.loc.file);
            (f.name.clone(), f.line_col(inner.loc.span.start).0)
        };
        let mut d = (*d).clone();
        d.labels.insert(
            0,
            crate::diag::Label {
                loc: call,
                message: format!("the error arises in {name}, called here"),
            },
        );
        d.notes
            .push(format!("in {name}, {file}:{line}: {}", inner.message));
        Stop::Error(Rc::new(d))
    }

    pub fn loc(&self, file: FileId, span: Span) -> Loc {
        Loc::new(file, span)
    }

    fn lazy(&self, expr: &'a Expr, env: &Env<'a>, file: FileId) -> Thunk<'a> {
        self.lazy_arg(expr, env, file, None)
    }

    /// A thunk for `expr`, the argument of `callee` when it has a name.
    fn lazy_arg(
        &self,
        expr: &'a Expr,
        env: &Env<'a>,
        file: FileId,
        callee: Option<Name>,
    ) -> Thunk<'a> {
        // Literals need no thunk state machine.
        match &expr.kind {
            ExprKind::Int(n) => Thunk::value(Value::Int(*n)),
            ExprKind::Null => Thunk::value(Value::Null),
            ExprKind::Bool(b) => Thunk::value(Value::Bool(*b)),
            _ => Thunk::lazy(Lazy::Expr {
                expr,
                env: env.clone(),
                file,
                origin: None,
                callee,
            }),
        }
    }

    pub fn eval(&self, e: &'a Expr, env: &Env<'a>, file: FileId) -> R<Value<'a>> {
        let loc = Loc::new(file, e.span);
        let _guard = self.enter(loc)?;
        match &e.kind {
            ExprKind::Null => Ok(Value::Null),
            ExprKind::Bool(b) => Ok(Value::Bool(*b)),
            ExprKind::Int(n) => Ok(Value::Int(*n)),
            ExprKind::Str { parts, .. } => self.string(parts, env, file),
            ExprKind::Path(p) => Ok(Value::Path(Rc::new(self.resolve_path(file, p)))),
            // Every loaded file went through the static scope check, which
            // already reported an undefined name (E0201, with a suggestion).
            ExprKind::Var(name) => match value::Scope::lookup(env, name) {
                Some(t) => self.force(&t),
                None => Err(Stop::Poison),
            },
            ExprKind::Paren(inner) => self.eval(inner, env, file),
            ExprKind::List(items) => Ok(Value::List(Rc::new(
                items.iter().map(|i| self.lazy(i, env, file)).collect(),
            ))),
            ExprKind::Attrs { rec, bindings } => self.attrs(*rec, bindings, env, file),
            ExprKind::Select {
                target,
                path,
                default,
            } => {
                let mut v = self.eval(target, env, file)?;
                for attr in path {
                    let fallback = default.as_deref().map(|d| (d, env, file));
                    let at = Loc::new(file, target.span.to(attr.span));
                    match self.select_step(v, &attr.name, at, fallback)? {
                        Step::Found(next) => v = next,
                        Step::Default(d) => return Ok(d),
                    }
                }
                Ok(v)
            }
            ExprKind::HasAttr { target, path } => {
                // Only the sets along the path are forced, never the last value.
                let mut v = self.eval(target, env, file)?;
                for (i, attr) in path.iter().enumerate() {
                    let Value::Attrs(set) = v else {
                        return Ok(Value::Bool(false));
                    };
                    match set.get(&attr.name) {
                        Some(_) if i + 1 == path.len() => return Ok(Value::Bool(true)),
                        Some(a) => v = self.force(&a.value)?,
                        None => return Ok(Value::Bool(false)),
                    }
                }
                Ok(Value::Bool(true))
            }
            ExprKind::Apply { func, arg } => {
                let f = self.eval(func, env, file)?;
                let callee = callee_name(func);
                let a = self.lazy_arg(arg, env, file, callee.clone());
                let lambda = matches!(f, Value::Lambda(_));
                self.apply(f, a, loc).map_err(|s| match s {
                    Stop::Error(d) if lambda => self.at_call(d, loc, callee.as_deref()),
                    other => other,
                })
            }
            ExprKind::Unary { op, operand } => {
                let v = self.eval(operand, env, file)?;
                ops::unary(*op, v, loc, Loc::new(file, operand.span))
            }
            ExprKind::Binary {
                op,
                op_span,
                lhs,
                rhs,
            } => ops::binary(self, *op, Loc::new(file, *op_span), lhs, rhs, env, file),
            ExprKind::Let { bindings, body } => {
                let (scope, _) = self.rec_scope(bindings, env, file);
                self.eval(body, &scope, file)
            }
            ExprKind::If { cond, then, else_ } => {
                if self.bool(cond, env, file)? {
                    self.eval(then, env, file)
                } else {
                    self.eval(else_, env, file)
                }
            }
            ExprKind::Assert { cond, body } => {
                if self.bool(cond, env, file)? {
                    self.eval(body, env, file)
                } else {
                    Err(Diagnostic::error("E0208", "assertion failed")
                        .label(Loc::new(file, cond.span), "this condition is false")
                        .into())
                }
            }
            ExprKind::Lambda { param, body } => Ok(Value::Lambda(Rc::new(Closure {
                param,
                body,
                env: env.clone(),
                file,
            }))),
            ExprKind::Import(target) => {
                let v = self.eval(target, env, file)?;
                let path = match v {
                    Value::Path(p) => (*p).clone(),
                    other => {
                        return Err(Diagnostic::error(
                            "E0202",
                            format!("`import` expects a path, found {}", other.kind()),
                        )
                        .label(Loc::new(file, target.span), "not a path")
                        .help("write a path relative to this file: `import ./devices.unik`")
                        .into());
                    }
                };
                self.import(&path, loc)
            }
            ExprKind::Error => Err(Stop::Poison),
        }
    }

    pub fn bool(&self, e: &'a Expr, env: &Env<'a>, file: FileId) -> R<bool> {
        match self.eval(e, env, file)? {
            Value::Bool(b) => Ok(b),
            other => Err(Diagnostic::error(
                "E0202",
                format!("expected a bool, found {}", other.kind()),
            )
            .label(Loc::new(file, e.span), format!("this is {}", other.kind()))
            .into()),
        }
    }

    fn string(&self, parts: &'a [StrPart], env: &Env<'a>, file: FileId) -> R<Value<'a>> {
        let mut out = String::new();
        for p in parts {
            match p {
                StrPart::Lit(s) => out.push_str(s),
                StrPart::Interp(e) => match self.eval(e, env, file)? {
                    Value::Str(s) => out.push_str(&s),
                    Value::Int(n) => out.push_str(&n.to_string()),
                    Value::Path(p) => out.push_str(&self.display_path(&p)),
                    other => {
                        return Err(Diagnostic::error(
                            "E0202",
                            format!("cannot interpolate {} into a string", other.kind()),
                        )
                        .label(Loc::new(file, e.span), format!("this is {}", other.kind()))
                        .help("only strings, ints and paths can be interpolated; use `toString`")
                        .into());
                    }
                },
            }
        }
        Ok(Value::Str(out.into()))
    }

    /// A path as users see it: relative to the root file's directory.
    pub fn display_path(&self, p: &Path) -> String {
        let root = self.root_dir.borrow();
        let Some(root) = root.as_ref() else {
            return p.display().to_string();
        };
        relative(root, p)
    }

    fn resolve_path(&self, file: FileId, p: &str) -> PathBuf {
        let base = self.sources.borrow().get(file).path.clone();
        let dir = base.parent().map(Path::to_path_buf).unwrap_or_default();
        normalize(&dir.join(p))
    }

    /// A `let` (or `rec { }`) scope: every binding sees every other.
    fn rec_scope(
        &self,
        bindings: &'a [syntax::Binding],
        env: &Env<'a>,
        file: FileId,
    ) -> (Env<'a>, Attrs<'a>) {
        let scope = value::Scope::new(Vec::new(), Some(env.clone()));
        let set = self.build_attrs(bindings, &scope, env, file);
        scope.set_vars(
            set.iter()
                .map(|(name, attr)| (name.clone(), attr.value.clone()))
                .collect(),
        );
        self.rec_scopes.borrow_mut().push(scope.clone());
        (scope, set)
    }

    fn attrs(
        &self,
        rec: bool,
        bindings: &'a [syntax::Binding],
        env: &Env<'a>,
        file: FileId,
    ) -> R<Value<'a>> {
        if rec {
            let (_, set) = self.rec_scope(bindings, env, file);
            Ok(Value::Attrs(Rc::new(set)))
        } else {
            Ok(Value::Attrs(Rc::new(
                self.build_attrs(bindings, env, env, file),
            )))
        }
    }

    /// Builds the attributes of a binding list. Values (and `e` of
    /// `inherit (e)`) are evaluated in `inner`; a plain `inherit x` reads
    /// `x` from `outer`, as Nix does.
    fn build_attrs(
        &self,
        bindings: &'a [syntax::Binding],
        inner: &Env<'a>,
        outer: &Env<'a>,
        file: FileId,
    ) -> Attrs<'a> {
        // Nested paths (`a.b = 1; a.c = 2;`) are collected first, then turned
        // into attribute sets.
        enum Node<'a> {
            Leaf(Thunk<'a>, Loc),
            Set(BTreeMap<Name, Node<'a>>, Loc),
        }
        fn to_attrs<'a>(m: BTreeMap<Name, Node<'a>>) -> Attrs<'a> {
            m.into_iter()
                .map(|(n, node)| match node {
                    Node::Leaf(t, loc) => (
                        n,
                        Attr {
                            value: t,
                            loc: Some(loc),
                        },
                    ),
                    Node::Set(inner, loc) => (
                        n,
                        Attr {
                            value: Thunk::value(Value::Attrs(Rc::new(to_attrs(inner)))),
                            loc: Some(loc),
                        },
                    ),
                })
                .collect()
        }
        let mut top: BTreeMap<Name, Node<'a>> = BTreeMap::new();
        for b in bindings {
            match &b.kind {
                BindingKind::Attr { path, value } => {
                    let mut map = &mut top;
                    for (i, seg) in path.iter().enumerate() {
                        let loc = Loc::new(file, seg.span);
                        if i + 1 == path.len() {
                            let t = match &value.kind {
                                ExprKind::Int(_) | ExprKind::Null | ExprKind::Bool(_) => {
                                    self.lazy(value, inner, file)
                                }
                                _ => Thunk::lazy(Lazy::Expr {
                                    expr: value,
                                    env: inner.clone(),
                                    file,
                                    origin: Some((seg.name.clone(), loc)),
                                    callee: None,
                                }),
                            };
                            // A duplicate was reported by the scope check (E0212); first wins.
                            map.entry(seg.name.clone()).or_insert(Node::Leaf(t, loc));
                            break;
                        }
                        let entry = map
                            .entry(seg.name.clone())
                            .or_insert_with(|| Node::Set(BTreeMap::new(), loc));
                        match entry {
                            Node::Set(m, _) => map = m,
                            Node::Leaf(..) => break,
                        }
                    }
                }
                BindingKind::Inherit { from, names } => {
                    // `inherit (e) x;` evaluates e where the values are (it may
                    // use sibling bindings); a plain `inherit x;` reads outside.
                    let source = from.as_ref().map(|e| self.lazy(e, inner, file));
                    for n in names {
                        let loc = Loc::new(file, n.span);
                        let t = match &source {
                            Some(s) => Thunk::lazy(Lazy::Select {
                                set: s.clone(),
                                name: n.name.clone(),
                                loc,
                            }),
                            // Undefined names were reported by the scope check.
                            None => match value::Scope::lookup(outer, &n.name) {
                                Some(t) => t,
                                None => {
                                    Thunk(Rc::new(RefCell::new(ThunkState::Failed(Stop::Poison))))
                                }
                            },
                        };
                        top.entry(n.name.clone()).or_insert(Node::Leaf(t, loc));
                    }
                }
                BindingKind::Error => {
                    // The broken binding's name stays defined, as poison, so
                    // uses of it do not report a second, misleading error.
                    let src = self.sources.borrow().get(file).text.clone();
                    if let Some((name, span)) = syntax::error_binding_name(&src, b.span) {
                        let poison = Thunk(Rc::new(RefCell::new(ThunkState::Failed(Stop::Poison))));
                        top.entry(name)
                            .or_insert(Node::Leaf(poison, Loc::new(file, span)));
                    }
                }
            }
        }
        to_attrs(top)
    }

    fn select_step(
        &self,
        v: Value<'a>,
        name: &Name,
        at: Loc,
        fallback: Option<(&'a Expr, &Env<'a>, FileId)>,
    ) -> R<Step<'a>> {
        let Value::Attrs(set) = &v else {
            if let Some((d, env, file)) = fallback {
                return Ok(Step::Default(self.eval(d, env, file)?));
            }
            return Err(Diagnostic::error(
                "E0202",
                format!("cannot select `{name}` from {}", v.kind()),
            )
            .label(at, format!("this is {}, not an attribute set", v.kind()))
            .into());
        };
        match set.get(name) {
            Some(a) => Ok(Step::Found(self.force(&a.value)?)),
            None => match fallback {
                Some((d, env, file)) => Ok(Step::Default(self.eval(d, env, file)?)),
                None => Err(missing_attr(set, name, at)),
            },
        }
    }

    pub fn select_one(&self, v: Value<'a>, name: &Name, at: Loc) -> R<Value<'a>> {
        match self.select_step(v, name, at, None)? {
            Step::Found(v) | Step::Default(v) => Ok(v),
        }
    }

    /// Applies a function value to an argument.
    pub fn apply(&self, f: Value<'a>, arg: Thunk<'a>, loc: Loc) -> R<Value<'a>> {
        let _guard = self.enter(loc)?;
        match f {
            Value::Lambda(c) => {
                let scope = self.bind_param(&c, arg, loc)?;
                self.eval(c.body, &scope, c.file)
            }
            Value::Builtin(p) => {
                let mut args = p.args.clone();
                args.push(arg);
                if args.len() == p.builtin.arity() {
                    builtins::call(self, p.builtin, args, loc)
                } else {
                    Ok(Value::Builtin(Rc::new(Partial {
                        builtin: p.builtin,
                        args,
                    })))
                }
            }
            Value::Device(_) | Value::Type(_) => Err(Diagnostic::error(
                "E0202",
                format!("{} cannot be called like a function", f.kind()),
            )
            .label(loc, "called here")
            .help("apply a device to another with `$`: `main $ stack`")
            .into()),
            other => Err(
                Diagnostic::error("E0202", format!("{} is not a function", other.kind()))
                    .label(loc, format!("this calls {}", other.kind()))
                    .into(),
            ),
        }
    }

    fn bind_param(&self, c: &Closure<'a>, arg: Thunk<'a>, loc: Loc) -> R<Env<'a>> {
        let single = |vars| value::Scope::new(vars, Some(c.env.clone()));
        let (fields, ellipsis, bind) = match c.param {
            Param::Ident(id) => return Ok(single(vec![(id.name.clone(), arg)])),
            Param::Pattern {
                fields,
                ellipsis,
                bind,
                ..
            } => (fields, *ellipsis, bind),
        };
        let given = match self.force(&arg)? {
            Value::Attrs(s) => s,
            other => {
                return Err(Diagnostic::error(
                    "E0202",
                    format!(
                        "this function takes an attribute set, found {}",
                        other.kind()
                    ),
                )
                .label(loc, "called here")
                .label(
                    Loc::new(c.file, c.body.span.to(c.body.span)),
                    "the function",
                )
                .into());
            }
        };
        if !ellipsis
            && let Some(extra) = given
                .keys()
                .find(|k| !fields.iter().any(|f| &f.ident.name == *k))
        {
            let known: Vec<String> = fields
                .iter()
                .map(|f| format!("`{}`", f.ident.name))
                .collect();
            return Err(Diagnostic::error(
                "E0207",
                format!("unexpected argument `{extra}`"),
            )
            .label(loc, format!("`{extra}` is passed here"))
            .help(if known.is_empty() {
                "the function takes no attributes; add `...` to its pattern to ignore extra ones".to_string()
            } else {
                format!(
                    "the function takes {}; add `...` to its pattern to allow others",
                    known.join(", ")
                )
            })
            .into());
        }
        let scope = value::Scope::new(Vec::new(), Some(c.env.clone()));
        let mut vars = Vec::new();
        for f in fields {
            let t = match (given.get(&f.ident.name), &f.default) {
                (Some(a), _) => a.value.clone(),
                (None, Some(d)) => self.lazy(d, &scope, c.file),
                (None, None) => {
                    return Err(Diagnostic::error(
                        "E0207",
                        format!("missing argument `{}`", f.ident.name),
                    )
                    .label(loc, "called here without it")
                    .label(Loc::new(c.file, f.ident.span), "required by this pattern")
                    .help(format!(
                        "pass it (`{{ {} = …; }}`) or give it a default (`{} ? …`)",
                        f.ident.name, f.ident.name
                    ))
                    .into());
                }
            };
            vars.push((f.ident.name.clone(), t));
        }
        if let Some(b) = bind {
            vars.push((b.name.clone(), arg));
        }
        scope.set_vars(vars);
        if fields.iter().any(|f| f.default.is_some()) {
            self.rec_scopes.borrow_mut().push(scope.clone());
        }
        Ok(scope)
    }

    fn import(&self, path: &Path, loc: Loc) -> R<Value<'a>> {
        if self.import_stack.borrow().iter().any(|p| p == path) {
            let stack = self.import_stack.borrow();
            let start = stack.iter().position(|p| p == path).unwrap_or(0);
            let chain: Vec<String> = stack[start..]
                .iter()
                .chain(std::iter::once(&path.to_path_buf()))
                .map(|p| self.display_path(p))
                .collect();
            return Err(Diagnostic::error("E0206", "import cycle")
                .label(loc, "this import leads back to a file being imported")
                .note(format!("the cycle: {}", chain.join(" → ")))
                .help("move what both files need into a third file that both import")
                .into());
        }
        let cached = self.imports.borrow().get(path).map(|(_, t)| t.clone());
        let thunk = match cached {
            Some(t) => t,
            None => {
                let overlay = self.options.overlays.get(path).cloned();
                let text = overlay
                    .map(Ok)
                    .unwrap_or_else(|| std::fs::read_to_string(path));
                let text = text.map_err(|e| {
                    Stop::from(
                        Diagnostic::error(
                            "E0205",
                            format!(
                                "cannot import `{}`: {}",
                                self.display_path(path),
                                io_reason(&e)
                            ),
                        )
                        .label(loc, "imported here")
                        .help("paths are relative to the file that contains them"),
                    )
                })?;
                let file = self.add_source(path, &text);
                let t = Thunk::lazy(Lazy::Import {
                    path: path.to_path_buf(),
                    loc,
                });
                self.imports
                    .borrow_mut()
                    .insert(path.to_path_buf(), (file, t.clone()));
                t
            }
        };
        self.force(&thunk)
    }

    fn eval_import(&self, path: &Path, _loc: Loc) -> R<Value<'a>> {
        let file = self.imports.borrow().get(path).map(|(f, _)| *f);
        let file = match file {
            Some(f) => f,
            None => self.sources.borrow().find(path).ok_or(Stop::Poison)?,
        };
        let module = self.module(file);
        let expr = module.expr.as_ref().ok_or(Stop::Poison)?;
        self.import_stack.borrow_mut().push(path.to_path_buf());
        let env = self.root_env();
        let r = self.eval(expr, &env, file);
        self.import_stack.borrow_mut().pop();
        r
    }

    /// When a syntax error poisoned the file's value, evaluates each binding
    /// of its top-level `let` on its own, so that errors in the intact
    /// bindings are still reported. Poisoned bindings stay silent.
    pub fn salvage(&self, file: FileId) -> Vec<Diagnostic> {
        let Some(mut e) = self.module(file).expr.as_ref() else {
            return Vec::new();
        };
        while let ExprKind::Paren(inner) = &e.kind {
            e = inner;
        }
        let ExprKind::Let { bindings, .. } = &e.kind else {
            return Vec::new();
        };
        let env = self.root_env();
        let (_, set) = self.rec_scope(bindings, &env, file);
        let mut out: Vec<Diagnostic> = Vec::new();
        for attr in set.values() {
            let forced = self
                .force(&attr.value)
                .and_then(|v| json::to_json(self, &v));
            if let Err(Stop::Error(d)) = forced
                && !out.contains(&d)
            {
                out.push((*d).clone());
            }
        }
        out
    }

    /// Forces a value completely (every list element and attribute).
    pub fn deep_force(&self, v: &Value<'a>) -> R<()> {
        json::to_json(self, v).map(|_| ())
    }
}

/// The place of the value a plain name (in parentheses or not) holds.
pub(crate) fn name_place(expr: &Expr, env: &Env<'_>) -> Option<Rc<Place>> {
    let mut e = expr;
    while let ExprKind::Paren(inner) = &e.kind {
        e = inner;
    }
    match &e.kind {
        ExprKind::Var(name) => value::Scope::lookup(env, name)?.place(),
        _ => None,
    }
}

/// The name a function is called by: `f` in `f x`, `g` in `s.g x`, `f`
/// in `f x y` (the head of a curried call).
fn callee_name(func: &Expr) -> Option<Name> {
    let mut e = func;
    loop {
        match &e.kind {
            ExprKind::Paren(inner) => e = inner,
            ExprKind::Apply { func, .. } => e = func,
            ExprKind::Var(name) => return Some(name.clone()),
            ExprKind::Select { path, .. } => return path.last().map(|a| a.name.clone()),
            _ => return None,
        }
    }
}

enum Step<'a> {
    Found(Value<'a>),
    Default(Value<'a>),
}

pub(crate) fn missing_attr(set: &Attrs<'_>, name: &str, at: Loc) -> Stop {
    let names: Vec<&str> = set.keys().map(|k| &**k).collect();
    let mut d = Diagnostic::error("E0203", format!("attribute `{name}` is missing"))
        .label(at, format!("no attribute `{name}` here"));
    if let Some(near) = crate::suggest::nearest(name, names.iter().copied()) {
        d = d.help(format!("did you mean `{near}`?"));
    } else if names.is_empty() {
        d = d.help("the attribute set is empty");
    } else if names.len() <= 8 {
        d = d.help(format!(
            "available: {}",
            names
                .iter()
                .map(|n| format!("`{n}`"))
                .collect::<Vec<_>>()
                .join(", ")
        ));
    }
    d.into()
}

fn io_reason(e: &std::io::Error) -> String {
    match e.kind() {
        std::io::ErrorKind::NotFound => "no such file".into(),
        std::io::ErrorKind::PermissionDenied => "permission denied".into(),
        _ => e.to_string(),
    }
}

/// `p` relative to `base`, written `./x` or `../x`.
pub fn relative(base: &Path, p: &Path) -> String {
    let r = crate::path::relative(base, p);
    if r.is_absolute() {
        return r.display().to_string();
    }
    let parts: Vec<String> = r
        .components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect();
    match parts.first().map(String::as_str) {
        None | Some(".") => ".".into(),
        Some("..") => parts.join("/"),
        Some(_) => format!("./{}", parts.join("/")),
    }
}

#[cfg(test)]
mod cache_tests {
    use super::*;

    #[test]
    fn a_shared_arena_parses_each_text_once() {
        let arena = ModuleArena::new();
        let path = Path::new("/virtual/config.unik");
        let text = "let unused = 1; in 2";
        let first = Evaluator::new(&arena, Options::new(crate::Target::Unix));
        let (f1, v1) = first.eval_root(path, text);
        assert!(matches!(v1, Ok(Value::Int(2))));
        // A second evaluation with a source map where the file gets another id.
        let mut sources = SourceMap::new();
        sources.add("/virtual/other.unik", "1");
        let second = Evaluator::with_sources(&arena, Options::new(crate::Target::Hvt), sources);
        let (f2, v2) = second.eval_root(path, text);
        assert!(matches!(v2, Ok(Value::Int(2))));
        assert_ne!(f1, f2);
        assert!(
            std::ptr::eq(first.module(f1), second.module(f2)),
            "parsed once"
        );
        let warned = |ev: &Evaluator, f: FileId| {
            ev.diagnostics
                .borrow()
                .iter()
                .any(|d| d.code == "W0101" && d.primary().map(|l| l.file) == Some(f))
        };
        assert!(
            warned(&first, f1) && warned(&second, f2),
            "diagnostics follow the file id"
        );
        // A changed text is parsed again.
        let third = Evaluator::new(&arena, Options::new(crate::Target::Unix));
        let (f3, _) = third.eval_root(path, "3");
        assert!(!std::ptr::eq(first.module(f1), third.module(f3)));
    }
}
