//! A source map's `sources` entry made repo-relative. Bundlers name original files in their own
//! ways: webpack (`webpack://_N_E/./src/…`, `webpack:///./src/…`, as `@sentry/nextjs` uploads
//! them before its rewrite), `@sentry/nextjs` after it (`./src/…`), esbuild and rollup relative to
//! the map (`../src/…`), Turbopack (`[project]/src/…`, `turbopack:///[project]/src/…`, and its
//! own runtime under `[turbopack]/`). A source is a URL, so it is percent-decoded first: Turbopack
//! writes a Next.js dynamic segment `app/[slug]/page.tsx` as `app/%5Bslug%5D/page.tsx`, and
//! `@scope` packages as `%40scope`. The bundler prefix goes next; the rest is the stack path
//! rules' (`stack::paths::normalize_path`: schemes, `.`/`..` segments, deploy roots, the repo-name
//! segment, and `node_modules` and friends not in-app).

use crate::stack::paths::{normalize_path, NormalizedPath};

/// The repo-relative path of `source` (as the map names it, `sourceRoot` applied) for the
/// repository `repo_name`.
pub fn source_path(source: &str, repo_name: &str) -> NormalizedPath {
    let decoded = percent_decode(source.trim());
    let s = decoded.as_str();
    let s = strip_ci(s, "turbopack://").map_or(s, |r| r.trim_start_matches('/'));
    if s.starts_with("[turbopack]/") || s.starts_with("[turbopack-node]/") {
        return NormalizedPath {
            path: s.to_owned(),
            in_app: false,
        };
    }
    // Only at the start: `app/[project]/page.tsx` is a Next.js route segment, not Turbopack's root.
    let s = s.strip_prefix("[project]/").unwrap_or(s);
    normalize_path(s, repo_name)
}

/// `s` with its `%XX` escapes decoded; `s` itself when it has none, or when what they spell is
/// not UTF-8. A `%` that starts no escape (`100%.ts`) stays.
fn percent_decode(s: &str) -> String {
    if !s.contains('%') {
        return s.to_owned();
    }
    let bytes = s.as_bytes();
    let hex = |i: usize| bytes.get(i).and_then(|&b| (b as char).to_digit(16));
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if let (b'%', Some(hi), Some(lo)) = (bytes[i], hex(i + 1), hex(i + 2)) {
            out.push((hi * 16 + lo) as u8);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).unwrap_or_else(|_| s.to_owned())
}

fn strip_ci<'a>(s: &'a str, prefix: &str) -> Option<&'a str> {
    s.get(..prefix.len())
        .filter(|head| head.eq_ignore_ascii_case(prefix))
        .map(|_| &s[prefix.len()..])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bundler_sources_become_repo_relative() {
        let repo = "acme/checkout-web";
        for (source, path, in_app) in [
            (
                "webpack://_N_E/./src/app/page.tsx",
                "src/app/page.tsx",
                true,
            ),
            ("webpack:///./src/lib/cart.ts", "src/lib/cart.ts", true),
            (
                "webpack://_N_E/../node_modules/react/index.js",
                "node_modules/react/index.js",
                false,
            ),
            ("./src/app/api/route.ts", "src/app/api/route.ts", true),
            ("../src/util.ts", "src/util.ts", true),
            ("../../src/deep/util.ts", "src/deep/util.ts", true),
            (
                "../node_modules/lodash/get.js",
                "node_modules/lodash/get.js",
                false,
            ),
            ("[project]/src/app/page.tsx", "src/app/page.tsx", true),
            (
                "turbopack:///[project]/src/app/[project]/page.tsx",
                "src/app/[project]/page.tsx",
                true,
            ),
            (
                "[project]/node_modules/next/dist/server/x.js",
                "node_modules/next/dist/server/x.js",
                false,
            ),
            (
                "[turbopack]/browser/runtime/base.ts",
                "[turbopack]/browser/runtime/base.ts",
                false,
            ),
            (
                "src/app/[project]/page.tsx",
                "src/app/[project]/page.tsx",
                true,
            ),
            ("/vercel/path0/src/app/page.tsx", "src/app/page.tsx", true),
            ("file:///srv/checkout-web/src/x.ts", "src/x.ts", true),
            // Turbopack percent-encodes its sources (a dynamic segment, a scoped package).
            (
                "../../../app/api/carts/%5Bcart%5D/checkout/route.ts",
                "app/api/carts/[cart]/checkout/route.ts",
                true,
            ),
            (
                "../../../node_modules/%40sentry/core/src/client.ts",
                "node_modules/@sentry/core/src/client.ts",
                false,
            ),
            ("./src/caf%C3%A9.ts", "src/café.ts", true),
            ("./src/100%.ts", "src/100%.ts", true),
            ("./src/bad%FF.ts", "src/bad%FF.ts", true),
        ] {
            assert_eq!(
                source_path(source, repo),
                NormalizedPath {
                    path: path.into(),
                    in_app
                },
                "{source}"
            );
        }
    }
}
