//! An event's minified frames through their maps. The SDK names each map in
//! `debug_meta.images` (`{"type": "sourcemap", "code_file", "debug_id"}`, `code_file` being the
//! frame's `abs_path`, else its `filename`); a frame whose file is an image's `code_file` is looked
//! up in that image's map. Next.js server frames carry only `filename`
//! (`app:///_next/server/chunks/…`), hence both are tried. A map that is missing, or does not
//! parse, leaves its frames as they were: resolution never makes an event fail.

use std::sync::Arc;

use sqlx::PgPool;

use crate::event::{ErrorEvent, Frame};

use super::paths::source_path;
use super::resolve::{caller_names, Cached, MapCache, Original, ParsedMap};
use super::{store, DebugId, Limits};

/// Most images read from one event.
pub const MAX_IMAGES: usize = 256;

/// A `sourcemap` image of `debug_meta.images`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Image {
    pub code_file: String,
    pub debug_id: DebugId,
}

/// A `sourcemap` image from its `code_file` and `debug_id` (`None` when the id is no UUID).
pub fn image(code_file: &str, debug_id: &str) -> Option<Image> {
    Some(Image {
        code_file: code_file.to_owned(),
        debug_id: DebugId::parse(debug_id)?,
    })
}

/// A minified frame's position, as the event reported it.
#[derive(Debug, Clone, Copy)]
pub struct MinifiedFrame<'a> {
    pub abs_path: Option<&'a str>,
    pub filename: Option<&'a str>,
    pub line: Option<u32>,
    pub column: Option<u32>,
}

/// The image a frame points into: `abs_path` first, then `filename`.
pub fn image_for<'i>(images: &'i [Image], frame: &MinifiedFrame<'_>) -> Option<&'i Image> {
    [frame.abs_path, frame.filename]
        .into_iter()
        .flatten()
        .find_map(|file| images.iter().find(|i| i.code_file == file))
}

/// A frame resolved: its original position, and the function name its caller's call site gives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResolvedFrame {
    pub original: Original,
    pub function: Option<String>,
}

/// What resolving an event's frames gave.
#[derive(Debug, Default)]
pub struct Resolution {
    /// One entry per frame, in the order given (Sentry's: oldest call first).
    pub frames: Vec<Option<ResolvedFrame>>,
    /// Images whose map cairn does not have (yet): the incident waits for them.
    pub missing: Vec<Image>,
}

/// The positions of cairn's frames (oldest call first) as resolution reads them. The SDK names an
/// image by the frame's `abs_path`, else its `filename`: the very choice the Sentry reader made for
/// `file_path`, so matching `file_path` is matching what the SDK matched.
pub fn positions(frames: &[Frame]) -> Vec<MinifiedFrame<'_>> {
    frames
        .iter()
        .map(|f| MinifiedFrame {
            abs_path: f.file_path.as_deref(),
            filename: None,
            line: f.line_number,
            column: f.column_number,
        })
        .collect()
}

/// Puts each resolved frame (oldest call first, as `resolution` was made) on its original:
/// the repo-relative path (bundler prefixes, then the path rules), line and column, the function
/// its caller's call site names, and in-app as that path says (the bundle the SDK called in-app
/// may hold `node_modules`). Never the minified function name: it changes with every build and
/// would split one bug into an incident per deploy. Frames that did not resolve stay as they were.
pub fn apply(frames: &mut [Frame], resolution: &Resolution, repo_name: &str) {
    for (frame, resolved) in frames.iter_mut().zip(&resolution.frames) {
        let Some(resolved) = resolved else {
            continue;
        };
        let path = source_path(&resolved.original.source, repo_name);
        frame.file_path = Some(path.path);
        frame.in_app = Some(path.in_app);
        frame.module = None;
        frame.line_number = Some(resolved.original.line);
        frame.column_number = Some(resolved.original.column);
        frame.function = resolved.function.clone();
    }
}

/// Puts an event's minified frames on their originals (before it is grouped, so the fingerprint
/// is the original code's), through the uploaded maps of the images its `debug_meta` names; an
/// event without images is left alone. A database failure leaves the frames as sent (logged):
/// resolution never makes an event fail. Returns the images a frame points into whose map cairn
/// does not have (yet): the event's incident waits for them (`sourcemaps::late`).
pub async fn resolve_event(
    pool: &PgPool,
    cache: &MapCache,
    project_id: &str,
    repo_name: &str,
    ev: &mut ErrorEvent,
) -> Vec<Image> {
    if ev.debug_images.is_empty() || ev.frames.is_empty() {
        return Vec::new();
    }
    let minified = positions(&ev.frames);
    let limits = Limits::DEFAULT;
    let resolution = match resolve(
        pool,
        cache,
        project_id,
        &ev.debug_images,
        &minified,
        &limits,
    )
    .await
    {
        Ok(resolution) => resolution,
        Err(e) => {
            tracing::warn!(error = %e, project.id = project_id, "source maps unavailable; frames kept as sent");
            return Vec::new();
        }
    };
    apply(&mut ev.frames, &resolution, repo_name);
    resolution.missing
}

/// Resolves `frames` (oldest call first) through the maps of `images` for `project_id`.
pub async fn resolve(
    pool: &PgPool,
    cache: &MapCache,
    project_id: &str,
    images: &[Image],
    frames: &[MinifiedFrame<'_>],
    limits: &Limits,
) -> Result<Resolution, sqlx::Error> {
    let mut out = Resolution::default();
    let mut originals = Vec::with_capacity(frames.len());
    for frame in frames {
        let image = image_for(images, frame);
        let map = match image {
            Some(image) => map_for(pool, cache, project_id, &image.debug_id, limits).await?,
            None => None,
        };
        if let (Some(image), None) = (image, &map) {
            if !out.missing.contains(image) {
                out.missing.push(image.clone());
            }
        }
        let original = match (map, frame.line, frame.column) {
            (Some(map), Some(line), column) => map.lookup(line, column.unwrap_or(1)),
            _ => None,
        };
        originals.push(original);
    }
    let names = caller_names(&originals);
    out.frames = originals
        .into_iter()
        .zip(names)
        .map(|(original, function)| original.map(|original| ResolvedFrame { original, function }))
        .collect();
    Ok(out)
}

/// The parsed map of `id`: from the cache, else from the database, parsed off the async threads
/// and cached. A map that is not there, or does not parse, is `None` (and remembered briefly).
/// Requests that miss the same map at once share one load (`MapCache::loading`).
pub async fn map_for(
    pool: &PgPool,
    cache: &MapCache,
    project_id: &str,
    id: &DebugId,
    limits: &Limits,
) -> Result<Option<Arc<ParsedMap>>, sqlx::Error> {
    match cache.get(project_id, id) {
        Cached::Map(map) => return Ok(Some(map)),
        Cached::Missing => return Ok(None),
        Cached::Unknown => {}
    }
    let load = cache.loading(project_id, id);
    let map = load
        .get_or_try_init(|| load_map(pool, cache, project_id, id, limits))
        .await
        .cloned();
    cache.loaded(project_id, id, &load);
    map
}

/// [`map_for`]'s load: read, inflate, parse, cache (or remember the miss).
async fn load_map(
    pool: &PgPool,
    cache: &MapCache,
    project_id: &str,
    id: &DebugId,
    limits: &Limits,
) -> Result<Option<Arc<ParsedMap>>, sqlx::Error> {
    let Some(bytes) = store::load_map(pool, project_id, id, limits).await? else {
        cache.miss(project_id, id);
        return Ok(None);
    };
    let parsed = tokio::task::spawn_blocking(move || ParsedMap::parse(&bytes).ok())
        .await
        .ok()
        .flatten();
    match parsed {
        Some(map) => {
            let map = Arc::new(map);
            cache.insert(project_id, id, map.clone());
            Ok(Some(map))
        }
        None => {
            cache.miss(project_id, id);
            Ok(None)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ID: &str = "c941c6bd-3a1e-4b2f-9d3c-1f2e3d4c5b6a";

    /// The images of an event whose `debug_meta` is `meta`, as the Sentry reader keeps them.
    fn images_of(meta: serde_json::Value) -> Vec<Image> {
        let event = serde_json::json!({"message": "x", "debug_meta": meta});
        crate::sentry::event_from_json(event.to_string().as_bytes())
            .unwrap()
            .debug_images
    }

    #[test]
    fn frames_find_their_image_by_abs_path_then_filename() {
        let meta = serde_json::json!({"images": [
            {"type": "sourcemap", "code_file": "app:///_next/server/chunks/1.js", "debug_id": ID},
            {"type": "sourcemap", "code_file": "https://x.dev/_next/static/chunks/2.js", "debug_id": ID.to_uppercase()},
            {"type": "macho", "code_file": "/usr/lib/x", "debug_id": ID},
            {"type": "sourcemap", "code_file": "no-id.js"},
            {"type": "sourcemap", "code_file": "bad-id.js", "debug_id": "nope"},
        ]});
        let images = images_of(meta);
        assert_eq!(images.len(), 2);
        assert_eq!(images[1].debug_id.as_str(), ID);
        let frame = |abs_path, filename| MinifiedFrame {
            abs_path,
            filename,
            line: Some(1),
            column: Some(2),
        };
        let next = frame(None, Some("app:///_next/server/chunks/1.js"));
        assert_eq!(image_for(&images, &next), Some(&images[0]));
        let browser = frame(
            Some("https://x.dev/_next/static/chunks/2.js"),
            Some("/_next/static/chunks/2.js"),
        );
        assert_eq!(image_for(&images, &browser), Some(&images[1]));
        assert_eq!(image_for(&images, &frame(Some("other.js"), None)), None);
        assert!(images_of(serde_json::json!({"images": "x"})).is_empty());
        assert!(images_of(serde_json::Value::Null).is_empty());
    }

    #[test]
    fn resolved_frames_take_their_original_place_and_others_stay() {
        let minified = |line, function: &str| Frame {
            file_path: Some("app:///_next/server/chunks/1.js".into()),
            module: Some("chunks/1".into()),
            function: Some(function.into()),
            line_number: Some(line),
            column_number: Some(9),
            in_app: Some(true),
        };
        let mut frames = vec![minified(1, "a"), minified(2, "b"), minified(3, "c")];
        let original = |source: &str, line| Original {
            source: source.into(),
            line,
            column: 5,
            name: None,
        };
        let resolution = Resolution {
            frames: vec![
                Some(ResolvedFrame {
                    original: original("webpack://_N_E/./src/app/page.tsx", 12),
                    function: None,
                }),
                None,
                Some(ResolvedFrame {
                    original: original("webpack://_N_E/../node_modules/react/index.js", 40),
                    function: Some("render".into()),
                }),
            ],
            missing: Vec::new(),
        };
        let untouched = frames[1].clone();

        apply(&mut frames, &resolution, "acme/web");

        assert_eq!(frames[0].file_path.as_deref(), Some("src/app/page.tsx"));
        assert_eq!(
            (frames[0].line_number, frames[0].column_number),
            (Some(12), Some(5))
        );
        assert_eq!(
            (
                frames[0].function.as_deref(),
                frames[0].in_app,
                frames[0].module.as_deref()
            ),
            (None, Some(true), None)
        );
        assert_eq!(frames[1], untouched);
        assert_eq!(
            frames[2].file_path.as_deref(),
            Some("node_modules/react/index.js")
        );
        assert_eq!(
            (frames[2].function.as_deref(), frames[2].in_app),
            (Some("render"), Some(false))
        );
        let read = positions(&frames[1..2]);
        assert_eq!(
            (read[0].abs_path, read[0].line, read[0].column),
            (Some("app:///_next/server/chunks/1.js"), Some(2), Some(9))
        );
    }
}
