//! Deep forcing and the JSON form of values (`unikc eval --json`).

use super::Evaluator;
use super::value::*;
use crate::diag::Diagnostic;
use serde_json::{Map, Value as J, json};

/// Converts a value to JSON, forcing everything inside it. A value that
/// contains itself cannot be written out: E0204.
pub fn to_json<'a>(ev: &Evaluator<'a>, v: &Value<'a>) -> R<J> {
    let mut path = Vec::new();
    convert(ev, v, &mut path)
}

fn force_in<'a>(
    ev: &Evaluator<'a>,
    t: &Thunk<'a>,
    path: &mut Vec<*const std::cell::RefCell<ThunkState<'a>>>,
) -> R<J> {
    let p = t.ptr();
    if path.contains(&p) {
        return Err(Diagnostic::error(
            "E0204",
            "the value contains itself and cannot be fully evaluated",
        )
        .help("a list or attribute set refers to itself; print a part of it instead")
        .into());
    }
    let v = ev.force(t)?;
    path.push(p);
    let r = convert(ev, &v, path);
    path.pop();
    r
}

fn convert<'a>(
    ev: &Evaluator<'a>,
    v: &Value<'a>,
    path: &mut Vec<*const std::cell::RefCell<ThunkState<'a>>>,
) -> R<J> {
    Ok(match v {
        Value::Null => J::Null,
        Value::Bool(b) => J::Bool(*b),
        Value::Int(n) => json!(n),
        Value::Str(s) => J::String(s.to_string()),
        Value::Path(p) => J::String(ev.display_path(p)),
        Value::List(items) => {
            let mut out = Vec::with_capacity(items.len());
            for t in items.iter() {
                out.push(force_in(ev, t, path)?);
            }
            J::Array(out)
        }
        Value::Attrs(set) => {
            let mut out = Map::new();
            for (k, a) in set.iter() {
                out.insert(k.to_string(), force_in(ev, &a.value, path)?);
            }
            J::Object(out)
        }
        Value::Lambda(_) | Value::Builtin(_) => json!({"$type": "function"}),
        Value::Type(t) => json!({"$type": "type", "type": t.to_string()}),
        Value::Device(d) => device(d, ev.options.target),
        Value::Package(p) => package(p),
        Value::Key(k) => key(k),
        Value::Register(r) => json!({
            "$type": "register",
            "name": &*r.name,
            "jobs": r.jobs.iter().map(|d| device(d, ev.options.target)).collect::<Vec<_>>(),
            "reporter": r.reporter.as_ref().map(|d| device(d, ev.options.target)),
            "argv": r.argv.as_ref().map(|d| device(d, ev.options.target)),
        }),
    })
}

/// A device value as JSON, its choices as they are decided on `target`.
pub fn device(d: &Device, target: crate::Target) -> J {
    let device = |d: &Device| device(d, target);
    match &d.kind {
        DeviceKind::Impl(i) => json!({
            "$type": "device",
            "impl": &*i.name,
            "module": &*i.module,
            "type": i.ty.to_string(),
            "foreign": i.foreign,
        }),
        DeviceKind::App { func, arg, .. } => json!({
            "$type": "device",
            "apply": device(func),
            "to": device(arg),
        }),
        DeviceKind::If {
            cond, then, else_, ..
        } => json!({
            "$type": "device",
            "if": cond.on(target) == "true",
            "then": device(then),
            "else": device(else_),
        }),
        DeviceKind::Match {
            value,
            cases,
            default,
            ..
        } => {
            let mut m = Map::new();
            for (k, d, _) in cases {
                m.insert(k.to_string(), device(d));
            }
            json!({"$type": "device", "match": value.on(target), "cases": m, "default": device(default)})
        }
    }
}

pub fn package(p: &Package) -> J {
    json!({
        "$type": "package",
        "name": &*p.name,
        "min": p.min.as_deref(),
        "max": p.max.as_deref(),
        "features": p.features.iter().map(|f| &**f).collect::<Vec<_>>(),
        "pin": match &p.pin {
            None => J::Null,
            Some(Pin::Path(path)) => json!({"path": &**path}),
            Some(Pin::Git { url, rev }) => json!({"git": &**url, "rev": &**rev}),
        },
    })
}

pub fn key(k: &KeyDef) -> J {
    json!({
        "$type": "key",
        "name": &*k.name,
        "type": k.ty.as_str(),
        "default": k.default.as_ref().map(|d| match d {
            KeyValue::Int(n) => json!(n),
            KeyValue::Bool(b) => json!(b),
            KeyValue::Str(s) => json!(&**s),
        }),
        "stage": match k.stage { Stage::Configure => "configure", Stage::Runtime => "runtime" },
        "doc": &*k.doc,
        "values": k.values.iter().map(|v| &**v).collect::<Vec<_>>(),
    })
}
