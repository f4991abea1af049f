//! Global names: builtins, constants and the device catalogue, with what
//! each is on every target; and the files the editor opens for them (the
//! catalogue's `.unik` sources and the explanations of diagnostic codes,
//! written once to unikc's cache directory).

use super::probe::{self, Info};
use std::cell::RefCell;
use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::rc::Rc;
use unik_lang::Target;
use unik_lang::diag::Span;
use unik_lang::eval::ModuleArena;
use unik_lang::eval::builtins::{CONSTANTS, NAMED};
use unik_stdlib::Entry;

/// A global name.
pub enum Global<'c> {
    Builtin {
        doc: &'static str,
    },
    Constant {
        name: &'static str,
        doc: &'static str,
    },
    Entry(&'c Entry),
}

pub struct Catalogue {
    pub entries: Vec<Entry>,
    by_name: HashMap<String, usize>,
    /// Per target: every entry's value, and `__example_NAME` for examples.
    values: RefCell<HashMap<String, Rc<HashMap<String, Info>>>>,
    /// Where the catalogue sources were written, if they could be.
    pub stdlib_dir: Option<PathBuf>,
    /// Where the code explanations were written, if they could be.
    pub explain_dir: Option<PathBuf>,
}

/// Attribute name under which an entry's example is evaluated.
pub fn example_key(name: &str) -> String {
    format!("__example_{name}")
}

impl Catalogue {
    pub fn new() -> Catalogue {
        Catalogue::in_cache(unik_codegen::bundle::default_cache_dir().ok().as_deref())
    }

    /// The catalogue, with its files written under `cache`.
    pub fn in_cache(cache: Option<&Path>) -> Catalogue {
        let entries = unik_stdlib::entries();
        let by_name = entries
            .iter()
            .enumerate()
            .map(|(i, e)| (e.name.clone(), i))
            .collect();
        let stdlib_dir = cache.and_then(|c| write_stdlib(c).ok());
        let explain_dir = cache.and_then(|c| write_explanations(c).ok());
        Catalogue {
            entries,
            by_name,
            values: RefCell::new(HashMap::new()),
            stdlib_dir,
            explain_dir,
        }
    }

    pub fn lookup(&self, name: &str) -> Option<Global<'_>> {
        if let Some(&i) = self.by_name.get(name) {
            return Some(Global::Entry(&self.entries[i]));
        }
        if let Some((_, _, doc)) = NAMED.iter().find(|(n, _, _)| *n == name) {
            return Some(Global::Builtin { doc });
        }
        CONSTANTS
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(name, doc)| Global::Constant { name, doc })
    }

    /// Every global name.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.entries
            .iter()
            .map(|e| e.name.as_str())
            .chain(NAMED.iter().map(|(n, _, _)| *n))
            .chain(CONSTANTS.iter().map(|(n, _)| *n))
    }

    /// What every entry (and example) is on `target`, evaluated once.
    pub fn values(&self, target: &str, arena: &ModuleArena) -> Rc<HashMap<String, Info>> {
        if let Some(v) = self.values.borrow().get(target) {
            return v.clone();
        }
        let names: Vec<&str> = self.entries.iter().map(|e| e.name.as_str()).collect();
        let examples: Vec<(String, String)> = self
            .entries
            .iter()
            .filter_map(|e| Some((example_key(&e.name), e.example.clone()?)))
            .collect();
        let values = Rc::new(probe::run(
            Path::new("/<unikc-lsp>/catalogue.unik"),
            "null",
            Span::new(0, 4),
            &names,
            &examples,
            target,
            &BTreeMap::new(),
            arena,
        ));
        self.values
            .borrow_mut()
            .insert(target.to_string(), values.clone());
        values
    }

    /// The entry's value on every target.
    pub fn per_target(&self, name: &str, arena: &ModuleArena) -> Vec<(&'static str, Info)> {
        Target::NAMES
            .iter()
            .filter_map(|t| Some((*t, self.values(t, arena).get(name)?.clone())))
            .collect()
    }

    /// The materialised source of a catalogue file.
    pub fn source_path(&self, file: &str) -> Option<PathBuf> {
        Some(self.stdlib_dir.as_ref()?.join(file))
    }

    /// Where an entry is defined: its file and the span of its name.
    pub fn location(&self, entry: &Entry) -> Option<(PathBuf, Span)> {
        let path = self.source_path(entry.file)?;
        let (start, end) = entry.name_span;
        Some((path, Span::new(start, end)))
    }

    /// The explanation page of a code, as a file the editor can open.
    pub fn explanation(&self, code: &str) -> Option<PathBuf> {
        unik_lang::codes::lookup(code)?;
        Some(self.explain_dir.as_ref()?.join(format!("{code}.md")))
    }

    /// The catalogue file of a path inside the materialised directory.
    pub fn stdlib_file_of(&self, path: &Path) -> Option<&'static str> {
        let dir = self.stdlib_dir.as_ref()?;
        let name = path.strip_prefix(dir).ok()?.to_str()?;
        unik_stdlib::FILES
            .iter()
            .find(|(f, _)| *f == name)
            .map(|(f, _)| *f)
    }
}

/// FNV-1a: a stable digest naming the materialised directories, so a new
/// unikc never reads an older one's files.
fn digest<'t>(parts: impl Iterator<Item = &'t str>) -> String {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for p in parts {
        for b in p.bytes().chain([0xff]) {
            h ^= b as u64;
            h = h.wrapping_mul(0x0100_0000_01b3);
        }
    }
    format!("{h:016x}")
}

/// Writes `files` under `dir` unless they are there with this content.
fn write_all(dir: &Path, files: &[(String, &str)]) -> std::io::Result<()> {
    std::fs::create_dir_all(dir)?;
    for (name, text) in files {
        let path = dir.join(name);
        if std::fs::read_to_string(&path).is_ok_and(|t| t == *text) {
            continue;
        }
        // Write beside, then rename: another server may be reading it.
        let tmp = dir.join(format!(".{name}.{}", std::process::id()));
        std::fs::write(&tmp, text)?;
        std::fs::rename(&tmp, &path)?;
    }
    Ok(())
}

fn write_stdlib(cache: &Path) -> std::io::Result<PathBuf> {
    let files = unik_stdlib::FILES;
    let dir = cache
        .join("stdlib")
        .join(digest(files.iter().flat_map(|(n, t)| [*n, *t])));
    let list: Vec<(String, &str)> = files.iter().map(|(n, t)| (n.to_string(), *t)).collect();
    write_all(&dir, &list)?;
    Ok(dir)
}

fn write_explanations(cache: &Path) -> std::io::Result<PathBuf> {
    let codes = unik_lang::codes::all();
    let dir = cache
        .join("explain")
        .join(digest(codes.iter().flat_map(|c| [c.code, c.text])));
    let list: Vec<(String, &str)> = codes
        .iter()
        .map(|c| (format!("{}.md", c.code), c.text))
        .collect();
    write_all(&dir, &list)?;
    Ok(dir)
}
