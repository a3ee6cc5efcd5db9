use sourcemap::SourceMapBuilder;

use super::*;
use crate::sourcemaps::paths::source_path;

const ID: &str = "c941c6bd-3a1e-4b2f-9d3c-1f2e3d4c5b6a";

/// A map of a one-line bundle `function a(){throw new Error("x")}function b(){a()}b();` plus a
/// second line, built with the crate's own builder and written as JSON.
fn map_json(names: bool) -> serde_json::Value {
    let mut b = SourceMapBuilder::new(Some("app.js"));
    let name = |n: &'static str| names.then_some(n);
    b.add(0, 0, 0, 0, Some("../src/util.ts"), name("divide"), false);
    b.add(0, 13, 2, 10, Some("../src/util.ts"), None, false);
    b.add(0, 34, 5, 2, Some("../src/page.ts"), name("divide"), false);
    b.add(1, 5, 9, 0, Some("../src/page.ts"), None, false);
    let mut out = Vec::new();
    b.into_sourcemap().to_writer(&mut out).unwrap();
    serde_json::from_slice(&out).unwrap()
}

fn parse(v: &serde_json::Value) -> ParsedMap {
    ParsedMap::parse(&serde_json::to_vec(v).unwrap()).unwrap()
}

fn at(source: &str, line: u32, column: u32, name: Option<&str>) -> Option<Original> {
    Some(Original {
        source: source.into(),
        line,
        column,
        name: name.map(Into::into),
    })
}

#[test]
fn positions_resolve_to_the_nearest_mapping_on_their_line() {
    let map = parse(&map_json(true));
    assert_eq!(map.lookup(1, 14), at("../src/util.ts", 3, 11, None));
    assert_eq!(map.lookup(1, 20), at("../src/util.ts", 3, 11, None));
    assert_eq!(
        map.lookup(1, 35),
        at("../src/page.ts", 6, 3, Some("divide"))
    );
    assert_eq!(map.lookup(2, 6), at("../src/page.ts", 10, 1, None));
    // Line 2 before its first mapping is not line 1's last mapping; lines past the map are nothing.
    assert_eq!(map.lookup(2, 1), None);
    assert_eq!(map.lookup(7, 1), None);
    assert_eq!(map.lookup(0, 1), None);
}

#[test]
fn names_absent_from_the_map_are_none() {
    let map = parse(&map_json(false));
    assert_eq!(map.lookup(1, 35), at("../src/page.ts", 6, 3, None));
}

#[test]
fn function_names_come_from_the_callers_call_site() {
    let map = parse(&map_json(true));
    // Sentry's order: b() at the call of a (1:35), then a's throw (1:14).
    let resolved = vec![map.lookup(1, 35), map.lookup(1, 14)];
    assert_eq!(
        caller_names(&resolved),
        vec![None, Some("divide".to_owned())]
    );
    assert_eq!(caller_names(&[None, map.lookup(1, 14)]), vec![None, None]);
}

#[test]
fn source_root_is_applied_before_the_path_rules() {
    let mut v = map_json(true);
    v["sourceRoot"] = "webpack://_N_E/".into();
    v["sources"] = serde_json::json!(["./src/lib/util.ts", "./src/app/page.tsx"]);
    let got = parse(&v).lookup(1, 35).unwrap();
    assert_eq!(got.source, "webpack://_N_E/./src/app/page.tsx");
    assert_eq!(
        source_path(&got.source, "acme/web").path,
        "src/app/page.tsx"
    );
}

#[test]
fn debug_ids_are_read_in_both_spellings() {
    for key in ["debugId", "debug_id"] {
        let mut v = map_json(true);
        v[key] = ID.to_uppercase().into();
        assert_eq!(parse(&v).debug_id().map(DebugId::as_str), Some(ID), "{key}");
    }
    assert!(parse(&map_json(true)).debug_id().is_none());
}

#[test]
fn index_maps_resolve_through_their_sections() {
    let mut second = map_json(true);
    second["sources"] = serde_json::json!(["[project]/src/other.ts", "[project]/src/app/route.ts"]);
    let index = serde_json::json!({
        "version": 3, "file": "chunk.js", "debugId": ID,
        "sections": [
            {"offset": {"line": 0, "column": 0}, "map": map_json(true)},
            {"offset": {"line": 10, "column": 4}, "map": second},
        ]
    });
    let map = parse(&index);
    assert_eq!(map.debug_id().map(DebugId::as_str), Some(ID));
    assert_eq!(
        map.lookup(1, 35),
        at("../src/page.ts", 6, 3, Some("divide"))
    );
    // Line 11 is the second section's first line, shifted by its column offset of 4.
    assert_eq!(
        map.lookup(11, 39),
        at("[project]/src/app/route.ts", 6, 3, Some("divide"))
    );
    assert_eq!(
        map.lookup(12, 6),
        at("[project]/src/app/route.ts", 10, 1, None)
    );
    assert_eq!(
        source_path("[project]/src/app/route.ts", "acme/web").path,
        "src/app/route.ts"
    );
}

#[test]
fn bad_maps_are_errors_not_panics() {
    for bad in [
        &b"not json"[..],
        br#"{"version":3,"sources":["a.js"],"names":[],"mappings":"ACAA"}"#.as_slice(),
        br#"{"version":3,"sources":["a.js"],"names":[],"mappings":"AAAAC"}"#.as_slice(),
        br#"{"version":3,"sources":[],"names":[],"mappings":"AAAA"}"#.as_slice(),
        br#"{"version":3,"sections":[{"offset":{"line":0,"column":0},"url":"x.map"}]}"#.as_slice(),
    ] {
        assert!(
            ParsedMap::parse(bad).is_err(),
            "{}",
            String::from_utf8_lossy(bad)
        );
    }
}

#[test]
fn negative_positions_in_mappings_never_panic() {
    // Deltas that run the source line and column below zero.
    for mappings in ["AAFA", "AAAF", "FAAA;AAAA", "AAAA,DAAA"] {
        let json =
            format!(r#"{{"version":3,"sources":["a.js"],"names":[],"mappings":"{mappings}"}}"#);
        if let Ok(map) = ParsedMap::parse(json.as_bytes()) {
            for (line, col) in [(1, 1), (1, 100), (2, 1)] {
                let _ = map.lookup(line, col);
            }
        }
    }
}

#[test]
fn the_cache_keeps_recent_maps_under_its_budget() {
    let map = Arc::new(parse(&map_json(true)));
    let cost = map.cost();
    let cache = MapCache::new(cost * 2);
    let ids: Vec<DebugId> = (1..=3)
        .map(|i| DebugId::parse(&format!("{i:032x}")).unwrap())
        .collect();
    cache.insert("p", &ids[0], map.clone());
    cache.insert("p", &ids[1], map.clone());
    assert!(matches!(cache.get("p", &ids[0]), Cached::Map(_))); // ids[1] is now the oldest
    cache.insert("p", &ids[2], map.clone());
    assert!(matches!(cache.get("p", &ids[1]), Cached::Unknown));
    assert!(matches!(cache.get("p", &ids[0]), Cached::Map(_)));
    assert!(matches!(cache.get("other", &ids[0]), Cached::Unknown));
    assert_eq!(cache.used(), cost * 2);
    cache.miss("p", &ids[1]);
    assert!(matches!(cache.get("p", &ids[1]), Cached::Missing));
    cache.arrived("p", &ids[1]);
    assert!(matches!(cache.get("p", &ids[1]), Cached::Unknown));
    // Larger than the whole budget: not kept.
    let tiny = MapCache::new(cost - 1);
    tiny.insert("p", &ids[0], map);
    assert!(matches!(tiny.get("p", &ids[0]), Cached::Unknown));
    assert_eq!(tiny.used(), 0);
}

#[test]
fn requests_that_miss_one_map_at_once_share_its_load() {
    let cache = MapCache::new(1 << 20);
    let id = DebugId::parse(ID).unwrap();
    let first = cache.loading("p1", &id);
    let second = cache.loading("p1", &id);
    assert!(std::sync::Arc::ptr_eq(&first, &second));
    assert!(!std::sync::Arc::ptr_eq(&first, &cache.loading("p2", &id)));

    cache.loaded("p1", &id, &first);
    let next = cache.loading("p1", &id);
    assert!(
        !std::sync::Arc::ptr_eq(&first, &next),
        "a finished load is not reused"
    );
    // A late `loaded` of the old load leaves the new one in place.
    cache.loaded("p1", &id, &first);
    assert!(std::sync::Arc::ptr_eq(&next, &cache.loading("p1", &id)));
}
