//! Lookups over a flat map of value keys; dictionaries are implicit (every
//! proper prefix of a stored key).

use alloc::collections::BTreeMap;
use alloc::vec::Vec;
use core::ops::Bound;

use crate::devices::{EntryKind, Key, KvError};

/// Keys sort so that everything below `key` directly follows it.
fn below<'a, V>(map: &'a BTreeMap<Key, V>, key: &'a Key) -> impl Iterator<Item = (&'a Key, &'a V)> {
    map.range((Bound::Excluded(key), Bound::Unbounded))
        .take_while(move |(k, _)| k.starts_with(key))
}

pub(crate) fn exists<V>(map: &BTreeMap<Key, V>, key: &Key) -> Option<EntryKind> {
    if map.contains_key(key) {
        Some(EntryKind::Value)
    } else if key.is_root() || below(map, key).next().is_some() {
        Some(EntryKind::Dictionary)
    } else {
        None
    }
}

pub(crate) fn value<'a, V>(map: &'a BTreeMap<Key, V>, key: &Key) -> Result<&'a V, KvError> {
    match map.get(key) {
        Some(v) => Ok(v),
        None if exists(map, key).is_some() => Err(KvError::ValueExpected(key.clone())),
        None => Err(KvError::NotFound(key.clone())),
    }
}

pub(crate) fn list<V>(map: &BTreeMap<Key, V>, key: &Key) -> Result<Vec<(Key, EntryKind)>, KvError> {
    match exists(map, key) {
        None => return Err(KvError::NotFound(key.clone())),
        Some(EntryKind::Value) => return Err(KvError::DictionaryExpected(key.clone())),
        Some(EntryKind::Dictionary) => {}
    }
    let depth = key.segments().len();
    let mut out: Vec<(Key, EntryKind)> = Vec::new();
    for (k, _) in below(map, key) {
        let kind = if k.segments().len() == depth + 1 {
            EntryKind::Value
        } else {
            EntryKind::Dictionary
        };
        let name = &k.segments()[depth];
        if out.last().and_then(|(last, _)| last.basename()) != Some(name.as_str()) {
            out.push((key.child(name)?, kind));
        }
    }
    Ok(out)
}

/// Checks that storing a value at `key` conflicts with nothing.
pub(crate) fn check_set<V>(map: &BTreeMap<Key, V>, key: &Key) -> Result<(), KvError> {
    if key.is_root() {
        return Err(KvError::InvalidKey("/".into()));
    }
    if exists(map, key) == Some(EntryKind::Dictionary) {
        return Err(KvError::ValueExpected(key.clone()));
    }
    let mut up = key.parent();
    while let Some(p) = up {
        if map.contains_key(&p) {
            return Err(KvError::DictionaryExpected(p));
        }
        up = p.parent();
    }
    Ok(())
}

/// Removes `key` and everything below it.
pub(crate) fn remove<V>(map: &mut BTreeMap<Key, V>, key: &Key) {
    if key.is_root() {
        map.clear();
        return;
    }
    map.remove(key);
    let doomed: Vec<Key> = below(map, key).map(|(k, _)| k.clone()).collect();
    for k in doomed {
        map.remove(&k);
    }
}
