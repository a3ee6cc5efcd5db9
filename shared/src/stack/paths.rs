//! Repo-relative paths (docs/ARCHITECTURE.md, Ingest path): runtimes report absolute paths,
//! URLs and bundler names; the IDE needs the path inside the repository, plus whether the frame
//! is the application's own code (`in_app`).
//!
//! Rules, in order:
//! 1. strip an `async ` prefix, the query string and fragment (`?hash`, `#…`), turn `\` into `/`;
//! 2. strip URL schemes and bundler prefixes: `webpack-internal:///` (and a Next.js layer such as
//!    `(rsc)/`), `webpack://` (with its namespace, `webpack://appname/./src/x.ts` → `src/x.ts`),
//!    `file://`, `app:///`, and `scheme://host` for any other URL (`https://cdn/js/a.js` → `js/a.js`);
//!    a Windows drive (`C:/`) is dropped;
//! 3. resolve `.` and `..` segments;
//! 4. if the path starts with a known deploy root (`/var/task/`, `/vercel/path0/`, `/vercel/path1/`,
//!    `/app/`, `/usr/src/app/`, `/opt/app/`, `/home/site/wwwroot/`, `/workspace/`), strip it and
//!    stop: what follows is already repo-relative;
//! 5. otherwise, for an absolute filesystem path (not a URL's path), strip everything up to and including the **first**
//!    `/<repo name>/` segment (case-insensitive; `acme/checkout-api` and `checkout-api` both mean
//!    `checkout-api`). The first one, because a Python or Django project often has a package named
//!    like its repo (`/srv/mysite/mysite/settings.py` → `mysite/settings.py`), and the repo rule
//!    is not applied after a deploy root for the same reason (`/app/mysite/settings.py` →
//!    `mysite/settings.py`).
//!
//! The result never starts with `/`. `in_app` is decided on the whole path (before stripping).

/// A path made repo-relative, and whether it is the application's own code.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NormalizedPath {
    /// Repo-relative path with `/` separators and no leading `/` (or the runtime's own name for
    /// internals such as `node:internal/modules/cjs/loader` or `<frozen importlib._bootstrap>`).
    pub path: String,
    /// `false` for dependencies, runtimes, standard libraries and build output.
    pub in_app: bool,
}

/// Deploy roots whose content is the repository (rule 4 above), as path segments.
const DEPLOY_ROOTS: &[&[&str]] = &[
    &["var", "task"],
    &["vercel", "path0"],
    &["vercel", "path1"],
    &["app"],
    &["usr", "src", "app"],
    &["opt", "app"],
    &["home", "site", "wwwroot"],
    &["workspace"],
];

/// Longest path (in bytes) looked at; the rest is ignored.
const MAX_PATH: usize = 4096;

/// Makes `raw` (as a runtime reported it) repo-relative for the repository `repo_name`
/// (`name` or `owner/name`) and decides whether it is in-app. See the module docs for the rules.
pub fn normalize_path(raw: &str, repo_name: &str) -> NormalizedPath {
    let mut s = super::truncate_bytes(raw.trim(), MAX_PATH);
    while let Some(rest) = s.strip_prefix("async ") {
        s = rest.trim_start();
    }
    // Only the whole name: a path that merely contains `[native code]` is still a path, and
    // keeping it verbatim would keep its leading `/` (found by fuzzing).
    if s.starts_with("node:") || s.is_empty() || s == "native" || s == "[native code]" {
        return NormalizedPath {
            path: s.to_string(),
            in_app: false,
        };
    }
    if s.starts_with('<') && s.ends_with('>') {
        return NormalizedPath {
            path: s.to_string(),
            in_app: false,
        };
    }
    let s = s
        .split(['?', '#'])
        .next()
        .unwrap_or_default()
        .replace('\\', "/");
    let (body, scheme) = strip_scheme(&s);
    let mut body = body;
    // Windows drive: `C:/x` or `/C:/x` (from `file:///C:/x`).
    let trimmed = body.strip_prefix('/').unwrap_or(body);
    let b = trimmed.as_bytes();
    if b.len() >= 3 && b[0].is_ascii_alphabetic() && b[1] == b':' && b[2] == b'/' {
        body = &trimmed[2..];
    }
    // A URL's path is not a filesystem path: no deploy root or repo segment to strip.
    let absolute = body.starts_with('/') && !matches!(scheme, Scheme::Url | Scheme::Extension);
    let segments = resolve_segments(body);

    let mut in_app = !is_external(&segments, absolute) && !is_sentry_cdn(&s);
    if matches!(scheme, Scheme::Extension)
        || (matches!(scheme, Scheme::Webpack) && segments.first() == Some(&"webpack"))
    {
        in_app = false;
    }
    let rest = if absolute {
        strip_roots(&segments, repo_name)
    } else {
        &segments[..]
    };
    NormalizedPath {
        path: rest.join("/"),
        in_app,
    }
}

/// A URL on Sentry's CDN: the browser SDK loaded from `browser.sentry-cdn.com/<version>/…` (or
/// the Loader Script's `js.sentry-cdn.com`). Its frames are the SDK wrapping the app's callbacks,
/// never the app's code.
fn is_sentry_cdn(url: &str) -> bool {
    let Some((_, after)) = url.split_once("://") else {
        return false;
    };
    let host = after
        .split(['/', ':'])
        .next()
        .unwrap_or_default()
        .to_ascii_lowercase();
    host == "sentry-cdn.com" || host.ends_with(".sentry-cdn.com")
}

/// What kind of prefix `strip_scheme` removed.
#[derive(Clone, Copy)]
enum Scheme {
    None,
    Webpack,
    Extension,
    Url,
    Other,
}

/// Removes a URL scheme or bundler prefix; the body keeps a leading `/` only when it is an
/// absolute filesystem path (or a URL path, which is then treated like one).
fn strip_scheme(s: &str) -> (&str, Scheme) {
    if let Some(r) = strip_prefix_ci(s, "webpack-internal://") {
        let r = r.trim_start_matches('/');
        // Next.js layers: `(rsc)/`, `(ssr)/`, `(app-pages-browser)/`.
        let r = match r.strip_prefix('(').and_then(|x| x.split_once(")/")) {
            Some((_, after)) => after,
            None => r,
        };
        return (r, Scheme::Webpack);
    }
    if let Some(r) = strip_prefix_ci(s, "webpack://") {
        if let Some(r) = r.strip_prefix('/') {
            return (r.trim_start_matches('/'), Scheme::Webpack);
        }
        // `webpack://namespace/./src/x.ts`: drop the namespace.
        return match r.split_once('/') {
            Some((first, after)) if first != "." && first != ".." => (after, Scheme::Webpack),
            _ => (r, Scheme::Webpack),
        };
    }
    if let Some(r) = strip_prefix_ci(s, "file://") {
        // `file:///abs` keeps `/abs`; `file://host/abs` (rare) drops the host.
        let r = if r.starts_with('/') {
            r
        } else {
            r.find('/').map_or("", |i| &r[i..])
        };
        return (r, Scheme::Other);
    }
    if let Some(r) = strip_prefix_ci(s, "app://") {
        return (r.trim_start_matches('/'), Scheme::Other);
    }
    if let Some(idx) = s.find("://") {
        let scheme = &s[..idx];
        if !scheme.is_empty()
            && scheme
                .bytes()
                .all(|c| c.is_ascii_alphanumeric() || b"+.-".contains(&c))
        {
            let after = &s[idx + 3..];
            let path = after.find('/').map_or("", |i| &after[i..]);
            let kind = if scheme.to_ascii_lowercase().ends_with("-extension") {
                Scheme::Extension
            } else {
                Scheme::Url
            };
            return (path, kind);
        }
    }
    (s, Scheme::None)
}

fn strip_prefix_ci<'a>(s: &'a str, prefix: &str) -> Option<&'a str> {
    let head = s.get(..prefix.len())?;
    head.eq_ignore_ascii_case(prefix)
        .then(|| &s[prefix.len()..])
}

/// Splits on `/`, dropping empty and `.` segments and resolving `..` (a leading `..` is dropped).
fn resolve_segments(body: &str) -> Vec<&str> {
    let mut out: Vec<&str> = Vec::new();
    for seg in body.split('/') {
        match seg {
            "" | "." => {}
            ".." => {
                out.pop();
            }
            s => out.push(s),
        }
    }
    out
}

/// Strips a deploy root, or else everything up to and including the first repo-name segment.
fn strip_roots<'a, 'b>(segments: &'b [&'a str], repo_name: &str) -> &'b [&'a str] {
    for root in DEPLOY_ROOTS {
        if segments.len() > root.len() && segments.starts_with(root) {
            return &segments[root.len()..];
        }
    }
    let repo = repo_name
        .trim()
        .trim_matches('/')
        .rsplit('/')
        .next()
        .unwrap_or_default();
    if repo.is_empty() {
        return segments;
    }
    // `/<repo>/` needs something after it: the last segment is the file itself.
    let last = segments.len().saturating_sub(1);
    match segments[..last]
        .iter()
        .position(|s| s.eq_ignore_ascii_case(repo))
    {
        Some(i) => &segments[i + 1..],
        None => segments,
    }
}

fn starts_with_ci(segments: &[&str], prefix: &[&str]) -> bool {
    segments.len() >= prefix.len()
        && segments
            .iter()
            .zip(prefix)
            .all(|(a, b)| a.eq_ignore_ascii_case(b))
}

/// Dependencies, runtimes, standard libraries and build output.
fn is_external(seg: &[&str], absolute: bool) -> bool {
    const DEP_DIRS: &[&str] = &[
        "node_modules",
        "site-packages",
        "dist-packages",
        "gems",
        "vendor",
    ];
    if seg.is_empty() || seg.iter().any(|s| DEP_DIRS.contains(s) || *s == ".next") {
        return true;
    }
    let is_python_dir = |s: &str| {
        let l = s.to_ascii_lowercase();
        l.strip_prefix("python")
            .is_some_and(|v| v.starts_with(|c: char| c.is_ascii_digit()))
    };
    let lib = |s: &str| s.eq_ignore_ascii_case("lib") || s.eq_ignore_ascii_case("lib64");
    for w in seg.windows(2) {
        let external = (lib(w[0]) && is_python_dir(w[1])) // /usr/lib/python3.11/, venv lib
            || (is_python_dir(w[0]) && lib(w[1])) // C:/Python311/Lib/
            || (lib(w[0]) && w[1] == "ruby") // /usr/local/lib/ruby/3.2.0/
            || ((w[0] == ".cargo" || w[0] == "cargo") && (w[1] == "registry" || w[1] == "git"))
            || (w[0] == "pkg" && w[1] == "mod") // Go module cache
            // Next.js build output: client chunks, and `.next/server/` as @sentry/nextjs reports
            // it (`app:///_next/server/...`).
            || (w[0] == "_next" && (w[1] == "static" || w[1] == "server"));
        if external {
            return true;
        }
    }
    if absolute {
        const ROOTS: &[&[&str]] = &[
            &["rustc"],
            &["usr", "local", "go"],
            &["usr", "lib", "go"],
            &["var", "runtime"], // AWS Lambda runtime interface client
            &["var", "lang"],    // AWS Lambda language runtime
        ];
        if ROOTS.iter().any(|r| starts_with_ci(seg, r)) {
            return true;
        }
        if seg.len() > 2 && seg[0] == "usr" && seg[1] == "lib" && seg[2].starts_with("go-") {
            return true;
        }
    } else {
        if seg[0] == "$GOROOT" {
            return true;
        }
        // JVM: the Java parser makes `java/lang/Thread.java` from the class name.
        const JVM: &[&str] = &["java", "javax", "jdk", "sun", "kotlin", "scala"];
        let last = seg[seg.len() - 1];
        let jvm_file = [".java", ".kt", ".scala"].iter().any(|e| last.ends_with(e));
        if jvm_file && (JVM.contains(&seg[0]) || starts_with_ci(seg, &["com", "sun"])) {
            return true;
        }
    }
    false
}

/// A path for a module name, used when a frame's path is missing or relative.
///
/// With `python`: `app.payments` → `app/payments.py` (a package's `__init__.py` cannot be told
/// apart; `__main__` gives `None`). With no hint, the same, except that a name that looks like a
/// JVM class (last part capitalised, or a `$`: `java.lang.Thread`) gives `None` rather than a
/// made-up `.py` path. With `java`: the class `com.acme.Cart$Item` → `com/acme/Cart.java`.
/// Other platforms give `None`.
pub fn module_to_path(module: &str, platform_hint: Option<&str>) -> Option<String> {
    let module = module.trim();
    if module.is_empty() || module.len() > 512 {
        return None;
    }
    let ident = |s: &str| {
        !s.is_empty()
            && !s.starts_with(|c: char| c.is_ascii_digit())
            && s.chars().all(|c| c.is_alphanumeric() || c == '_')
    };
    let hint = platform_hint.map(|h| h.trim().to_ascii_lowercase());
    match hint.as_deref() {
        None | Some("python") => {
            if module == "__main__" || !module.split('.').all(ident) {
                return None;
            }
            let last = module.rsplit('.').next().unwrap_or_default();
            if hint.is_none()
                && module.contains('.')
                && last.starts_with(|c: char| c.is_uppercase())
            {
                return None;
            }
            Some(format!("{}.py", module.replace('.', "/")))
        }
        Some("java") => {
            let class = module.split('$').next().unwrap_or_default();
            if !class.split('.').all(ident) {
                return None;
            }
            Some(format!("{}.java", class.replace('.', "/")))
        }
        _ => None,
    }
}

#[cfg(test)]
#[path = "paths_tests.rs"]
mod tests;
