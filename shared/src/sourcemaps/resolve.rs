//! A minified position through its source map. Maps are parsed with Sentry's `sourcemap` crate:
//! regular maps, index maps (`sections`, as Turbopack writes them; flattened once at parse time)
//! and Hermes maps; `sourceRoot` is applied to `sources`; `debugId` and the legacy `debug_id`
//! are both read. Positions are 1-based on both sides (Sentry frames' `lineno`/`colno`), 0-based
//! only inside.
//!
//! A lookup finds the nearest mapping at or before the column **on the same line**: a frame past
//! the last mapping of its line is not attributed to the line before. The original function
//! name comes from the caller's frame ([`caller_names`]): the name a map records at a call
//! site is the callee's, which is how Sentry named JavaScript frames before scopes.
//!
//! Parsed maps are kept per instance by [`MapCache`] under a memory budget (least recently used
//! out first); a debug id with no map is remembered for a few seconds only, as maps arrive late.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use sourcemap::{DecodedMap, SourceMap};

use super::DebugId;

/// A parsed map, ready for lookups.
pub struct ParsedMap {
    map: SourceMap,
    debug_id: Option<DebugId>,
    cost: usize,
}

/// Where a minified position came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Original {
    /// The source as the map names it, `sourceRoot` applied (see `paths::source_path`).
    pub source: String,
    /// 1-based.
    pub line: u32,
    /// 1-based.
    pub column: u32,
    /// The name the map records at this position, if any (at a call site: the callee's name).
    pub name: Option<String>,
}

impl ParsedMap {
    /// Parses a map (regular, index or Hermes). Sources' contents are dropped: resolution never
    /// reads them, and they are often most of a map.
    pub fn parse(bytes: &[u8]) -> Result<Self, sourcemap::Error> {
        let decoded = sourcemap::decode_slice(bytes)?;
        let debug_id = decoded
            .debug_id()
            .and_then(|id| DebugId::parse(&id.to_string()));
        let mut map = match decoded {
            DecodedMap::Regular(map) => map,
            DecodedMap::Index(index) => index.flatten()?,
            DecodedMap::Hermes(hermes) => (*hermes).clone(),
        };
        for i in 0..map.get_source_count() {
            map.set_source_contents(i, None);
        }
        let strings: usize =
            map.sources().map(str::len).sum::<usize>() + map.names().map(str::len).sum::<usize>();
        // A token is a `sourcemap::RawToken` in the map's array (28 bytes in 9.x; 24 was
        // reckoned before, and the cache held more than its budget: docs/PERFORMANCE.md).
        let cost = map.get_token_count() as usize * std::mem::size_of::<sourcemap::RawToken>()
            + strings
            + 48 * (map.get_source_count() + map.get_name_count()) as usize
            + 256;
        Ok(Self {
            map,
            debug_id,
            cost,
        })
    }

    /// The map's own debug id (`debugId`, or the legacy `debug_id`), if it has one.
    pub fn debug_id(&self) -> Option<&DebugId> {
        self.debug_id.as_ref()
    }

    /// Bytes this map is reckoned to hold in memory (tokens, sources, names).
    pub fn cost(&self) -> usize {
        self.cost
    }

    /// The original position of the 1-based `line` and `column`; `None` when the map has no
    /// mapping at or before it on that line, or the mapping names no source.
    pub fn lookup(&self, line: u32, column: u32) -> Option<Original> {
        let (line0, col0) = (line.checked_sub(1)?, column.saturating_sub(1));
        let token = self.map.lookup_token(line0, col0)?;
        if token.get_dst_line() != line0 {
            return None;
        }
        let source = token.get_source()?;
        Some(Original {
            source: source.to_owned(),
            line: token.get_src_line().checked_add(1)?,
            column: token.get_src_col().checked_add(1)?,
            name: token
                .get_name()
                .filter(|n| !n.is_empty())
                .map(str::to_owned),
        })
    }
}

/// The original function name of each frame, from its caller's resolved position, for frames in
/// Sentry's order (oldest call first: frame `i`'s caller is frame `i - 1`). The oldest frame, and
/// any frame whose caller did not resolve or has no name there, get `None`.
pub fn caller_names(resolved: &[Option<Original>]) -> Vec<Option<String>> {
    (0..resolved.len())
        .map(|i| {
            let caller = resolved.get(i.checked_sub(1)?)?.as_ref()?;
            caller.name.clone()
        })
        .collect()
}

/// How long a debug id with no map is not asked for again: one lookup per second and id at most
/// for an app that never uploads its maps, and events that come a second after the upload are
/// resolved at ingest (before, they land in the incident that waited and was located, see
/// `sourcemaps::late`, or for that second in one of their own, located the same way).
const MISS_TTL: Duration = Duration::from_secs(1);
/// Most misses remembered.
const MAX_MISSES: usize = 10_000;

/// Parsed maps by `(project, debug id)`, under a budget of bytes. A map larger than the whole
/// budget is used once and not kept.
pub struct MapCache {
    budget: usize,
    inner: Mutex<Inner>,
}

#[derive(Default)]
struct Inner {
    used: usize,
    clock: u64,
    maps: HashMap<(String, DebugId), (Arc<ParsedMap>, u64)>,
    misses: HashMap<(String, DebugId), Instant>,
    /// Maps being loaded and parsed: the requests that miss meanwhile wait for that one load.
    loading: HashMap<(String, DebugId), Loading>,
}

/// One load of a map, shared by every request that wants it meanwhile (`None`: not there, or
/// not a map).
pub type Loading = Arc<tokio::sync::OnceCell<Option<Arc<ParsedMap>>>>;

/// What the cache knows of a debug id.
pub enum Cached {
    Map(Arc<ParsedMap>),
    /// Asked for lately and not found: do not ask the database again yet.
    Missing,
    Unknown,
}

impl MapCache {
    /// The default budget: 256 MiB, a quarter of a 1 GB Lambda.
    pub const DEFAULT_BUDGET: usize = 256 * 1024 * 1024;

    pub fn new(budget: usize) -> Self {
        Self {
            budget,
            inner: Mutex::default(),
        }
    }

    /// The load of `id` under way, or a new one (the caller then runs it): a new release's first
    /// errors come together, and each would otherwise load and parse the same map.
    pub fn loading(&self, project_id: &str, id: &DebugId) -> Loading {
        let Ok(mut inner) = self.inner.lock() else {
            return Loading::default();
        };
        inner
            .loading
            .entry((project_id.to_owned(), id.clone()))
            .or_default()
            .clone()
    }

    /// The load of `id` is over (its outcome is in the cache): the next miss starts another.
    pub fn loaded(&self, project_id: &str, id: &DebugId, load: &Loading) {
        if let Ok(mut inner) = self.inner.lock() {
            let key = (project_id.to_owned(), id.clone());
            if inner
                .loading
                .get(&key)
                .is_some_and(|l| Arc::ptr_eq(l, load))
            {
                inner.loading.remove(&key);
            }
        }
    }

    pub fn get(&self, project_id: &str, id: &DebugId) -> Cached {
        let Ok(mut inner) = self.inner.lock() else {
            return Cached::Unknown;
        };
        let key = (project_id.to_owned(), id.clone());
        inner.clock += 1;
        let now = inner.clock;
        if let Some((map, last)) = inner.maps.get_mut(&key) {
            *last = now;
            return Cached::Map(map.clone());
        }
        match inner.misses.get(&key) {
            Some(at) if at.elapsed() < MISS_TTL => Cached::Missing,
            _ => Cached::Unknown,
        }
    }

    /// Keeps `map`, evicting the least recently used maps until it fits.
    pub fn insert(&self, project_id: &str, id: &DebugId, map: Arc<ParsedMap>) {
        let Ok(mut inner) = self.inner.lock() else {
            return;
        };
        let key = (project_id.to_owned(), id.clone());
        inner.misses.remove(&key);
        if map.cost() > self.budget {
            return;
        }
        if let Some((old, _)) = inner.maps.remove(&key) {
            inner.used -= old.cost();
        }
        while inner.used + map.cost() > self.budget {
            let Some(oldest) = inner
                .maps
                .iter()
                .min_by_key(|(_, (_, last))| *last)
                .map(|(k, _)| k.clone())
            else {
                break;
            };
            if let Some((old, _)) = inner.maps.remove(&oldest) {
                inner.used -= old.cost();
            }
        }
        inner.clock += 1;
        let now = inner.clock;
        inner.used += map.cost();
        inner.maps.insert(key, (map, now));
    }

    /// Remembers that `id` has no (usable) map for now.
    pub fn miss(&self, project_id: &str, id: &DebugId) {
        if let Ok(mut inner) = self.inner.lock() {
            if inner.misses.len() >= MAX_MISSES {
                inner.misses.retain(|_, at| at.elapsed() < MISS_TTL);
                if inner.misses.len() >= MAX_MISSES {
                    inner.misses.clear();
                }
            }
            inner
                .misses
                .insert((project_id.to_owned(), id.clone()), Instant::now());
        }
    }

    /// Forgets that `id` was missing (a bundle just brought it).
    pub fn arrived(&self, project_id: &str, id: &DebugId) {
        if let Ok(mut inner) = self.inner.lock() {
            inner.misses.remove(&(project_id.to_owned(), id.clone()));
        }
    }

    /// Bytes of maps held.
    pub fn used(&self) -> usize {
        self.inner.lock().map(|i| i.used).unwrap_or(0)
    }
}

impl Default for MapCache {
    fn default() -> Self {
        Self::new(Self::DEFAULT_BUDGET)
    }
}

#[cfg(test)]
#[path = "resolve_tests.rs"]
mod tests;
