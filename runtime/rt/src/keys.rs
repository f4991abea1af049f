//! Runtime keys: boot arguments `--name=value` declared by generated code
//! and read by user code, e.g. `unik_rt::keys::int("port")`.
//!
//! Accepted forms: `--name=value`, `--name value`, and for booleans a bare
//! `--name` (true). `--help` or `-h` asks for the listing of keys.
//! One key is always declared: `logs` (see [`crate::reporter`]).

use alloc::collections::BTreeMap;
use alloc::format;
use alloc::string::{String, ToString};
use alloc::vec::Vec;
use core::cell::RefCell;
use core::fmt;

use crate::local::local_state;

/// The type of a key's values.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum KeyType {
    Int,
    Str,
    Bool,
}

impl fmt::Display for KeyType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            KeyType::Int => "int",
            KeyType::Str => "string",
            KeyType::Bool => "bool",
        })
    }
}

/// A key's value.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Value {
    Int(i64),
    Str(String),
    Bool(bool),
}

impl Value {
    pub fn key_type(&self) -> KeyType {
        match self {
            Value::Int(_) => KeyType::Int,
            Value::Str(_) => KeyType::Str,
            Value::Bool(_) => KeyType::Bool,
        }
    }

    fn parse(ty: KeyType, text: &str) -> Option<Value> {
        match ty {
            KeyType::Int => text.parse().ok().map(Value::Int),
            KeyType::Str => Some(Value::Str(text.to_string())),
            KeyType::Bool => match text {
                "true" => Some(Value::Bool(true)),
                "false" => Some(Value::Bool(false)),
                _ => None,
            },
        }
    }
}

impl fmt::Display for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Value::Int(i) => write!(f, "{i}"),
            Value::Str(s) => write!(f, "{s:?}"),
            Value::Bool(b) => write!(f, "{b}"),
        }
    }
}

/// Errors from declaring, parsing and reading keys.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum KeyError {
    /// A boot argument names no declared key.
    Unknown(String),
    /// A value that does not parse as the key's type.
    Invalid {
        name: String,
        value: String,
        expected: KeyType,
    },
    /// A key without default was not given.
    Missing(String),
    /// A non-boolean key given without a value.
    NoValue(String),
    /// An argument that is not `--name...`.
    Unexpected(String),
    Duplicate(String),
    /// A default of another type than the key.
    BadDefault(String),
    /// Reading a key as the wrong type.
    WrongType {
        name: String,
        declared: KeyType,
        requested: KeyType,
    },
    /// Reading a key that was never declared.
    NotDeclared(String),
    /// Reading keys before generated code installed them.
    NotInstalled,
}

impl fmt::Display for KeyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            KeyError::Unknown(n) => write!(f, "unknown key --{n} (see --help)"),
            KeyError::Invalid {
                name,
                value,
                expected,
            } => {
                write!(
                    f,
                    "invalid value {value:?} for --{name}: expected {expected}"
                )
            }
            KeyError::Missing(n) => write!(f, "required key --{n} has no value"),
            KeyError::NoValue(n) => write!(f, "--{n} needs a value"),
            KeyError::Unexpected(a) => write!(
                f,
                "unexpected argument {a:?}: boot arguments are --name=value"
            ),
            KeyError::Duplicate(n) => write!(f, "key {n} is declared twice"),
            KeyError::BadDefault(n) => write!(f, "default of key {n} has the wrong type"),
            KeyError::WrongType {
                name,
                declared,
                requested,
            } => {
                write!(f, "key {name} is a {declared}, read as a {requested}")
            }
            KeyError::NotDeclared(n) => write!(f, "key {n} is not declared"),
            KeyError::NotInstalled => f.write_str("runtime keys are not installed yet"),
        }
    }
}

#[derive(Clone, Debug)]
struct Spec {
    ty: KeyType,
    default: Option<Value>,
    doc: String,
}

/// Result of [`Keys::parse`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Parsed {
    Run,
    /// `--help` was given: print [`Keys::help`] and exit successfully.
    Help,
}

/// The key registry of one unikernel.
#[derive(Clone, Debug)]
pub struct Keys {
    specs: BTreeMap<String, Spec>,
    values: BTreeMap<String, Value>,
}

impl Default for Keys {
    fn default() -> Self {
        Self::new()
    }
}

impl Keys {
    /// A registry holding only the built-in `logs` key.
    pub fn new() -> Self {
        let mut keys = Keys {
            specs: BTreeMap::new(),
            values: BTreeMap::new(),
        };
        keys.specs.insert(
            "logs".to_string(),
            Spec {
                ty: KeyType::Str,
                default: Some(Value::Str("info".to_string())),
                doc: "log levels: LEVEL or SRC:LEVEL,... with LEVEL one of quiet, error, warning, info, debug"
                    .to_string(),
            },
        );
        keys
    }

    /// Declares a key; `default: None` makes it required.
    pub fn declare(
        &mut self,
        name: &str,
        ty: KeyType,
        default: Option<Value>,
        doc: &str,
    ) -> Result<(), KeyError> {
        if self.specs.contains_key(name) {
            return Err(KeyError::Duplicate(name.to_string()));
        }
        if default.as_ref().is_some_and(|d| d.key_type() != ty) {
            return Err(KeyError::BadDefault(name.to_string()));
        }
        let spec = Spec {
            ty,
            default,
            doc: doc.to_string(),
        };
        self.specs.insert(name.to_string(), spec);
        Ok(())
    }

    /// Parses boot arguments (program name excluded). A later occurrence of
    /// a key overrides an earlier one.
    pub fn parse<S: AsRef<str>>(&mut self, args: &[S]) -> Result<Parsed, KeyError> {
        let mut values = BTreeMap::new();
        let mut rest = args.iter().map(AsRef::as_ref);
        while let Some(arg) = rest.next() {
            if arg == "--help" || arg == "-h" {
                return Ok(Parsed::Help);
            }
            let Some(body) = arg.strip_prefix("--") else {
                return Err(KeyError::Unexpected(arg.to_string()));
            };
            let (name, inline) = match body.split_once('=') {
                Some((n, v)) => (n, Some(v)),
                None => (body, None),
            };
            let spec = self
                .specs
                .get(name)
                .ok_or_else(|| KeyError::Unknown(name.to_string()))?;
            let text = match (inline, spec.ty) {
                (Some(v), _) => v,
                (None, KeyType::Bool) => "true",
                (None, _) => rest
                    .next()
                    .ok_or_else(|| KeyError::NoValue(name.to_string()))?,
            };
            let value = Value::parse(spec.ty, text).ok_or_else(|| KeyError::Invalid {
                name: name.to_string(),
                value: text.to_string(),
                expected: spec.ty,
            })?;
            values.insert(name.to_string(), value);
        }
        for (name, spec) in &self.specs {
            if !values.contains_key(name) {
                let default = spec
                    .default
                    .clone()
                    .ok_or_else(|| KeyError::Missing(name.clone()))?;
                values.insert(name.clone(), default);
            }
        }
        if let Some(Value::Str(spec)) = values.get("logs") {
            crate::reporter::parse_spec(spec).map_err(|_| KeyError::Invalid {
                name: "logs".to_string(),
                value: spec.clone(),
                expected: KeyType::Str,
            })?;
        }
        self.values = values;
        Ok(Parsed::Run)
    }

    /// The `--help` text: one line per key with type, default and doc.
    pub fn help(&self) -> String {
        let mut out = String::from("Runtime keys (boot arguments --name=value):\n");
        for (name, spec) in &self.specs {
            let default = match &spec.default {
                Some(v) => format!("default {v}"),
                None => "required".to_string(),
            };
            out.push_str(&format!(
                "  --{name}={} ({default})\n      {}\n",
                spec.ty, spec.doc
            ));
        }
        out
    }

    /// Names of all declared keys, sorted.
    pub fn names(&self) -> Vec<String> {
        self.specs.keys().cloned().collect()
    }

    pub fn value(&self, name: &str, requested: KeyType) -> Result<&Value, KeyError> {
        let spec = self
            .specs
            .get(name)
            .ok_or_else(|| KeyError::NotDeclared(name.to_string()))?;
        if spec.ty != requested {
            return Err(KeyError::WrongType {
                name: name.to_string(),
                declared: spec.ty,
                requested,
            });
        }
        self.values.get(name).ok_or(KeyError::NotInstalled)
    }

    /// Makes these keys readable through [`int`], [`string`] and [`bool`]
    /// on this thread (the executor's), replacing earlier ones.
    pub fn install(self) {
        INSTALLED.with(|cell| *cell.borrow_mut() = Some(self));
    }
}

local_state!(INSTALLED: RefCell<Option<Keys>> = RefCell::new(None));

fn read<T>(name: &str, ty: KeyType, get: impl FnOnce(&Value) -> Option<T>) -> Result<T, KeyError> {
    INSTALLED.with(|cell| {
        let keys = cell.borrow();
        let keys = keys.as_ref().ok_or(KeyError::NotInstalled)?;
        let value = keys.value(name, ty)?;
        get(value).ok_or(KeyError::NotInstalled)
    })
}

/// The value of an installed `int` key.
pub fn int(name: &str) -> Result<i64, KeyError> {
    read(name, KeyType::Int, |v| match v {
        Value::Int(i) => Some(*i),
        _ => None,
    })
}

/// The value of an installed `string` key.
pub fn string(name: &str) -> Result<String, KeyError> {
    read(name, KeyType::Str, |v| match v {
        Value::Str(s) => Some(s.clone()),
        _ => None,
    })
}

/// The value of an installed `bool` key.
pub fn bool(name: &str) -> Result<bool, KeyError> {
    read(name, KeyType::Bool, |v| match v {
        Value::Bool(b) => Some(*b),
        _ => None,
    })
}
