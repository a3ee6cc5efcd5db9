//! A realistic minified bundle and its source map for the maps scenario, generated
//! deterministically (no bundler needed offline): `modules` original TypeScript-like modules
//! (`src/…` and a share of `node_modules/…`), each of several functions, minified as a bundler
//! would (short local and function names, one statement after another, lines of about 64 KB),
//! with a mapping on every statement, identifier and call, names on renamed identifiers and
//! call sites, `sourcesContent` and a debug id in both files (as `sentry-cli sourcemaps inject`
//! leaves them). 600 modules make a 1.4 MB bundle and a map of about 5 MB.
//!
//! What events need is recorded too: positions inside each function (where an error may be
//! thrown) and the call sites of each function, so a stack can be a real chain of calls whose
//! resolution names each function by its caller's call site.

use sourcemap::SourceMapBuilder;

use crate::scenarios::mix;

/// A minified position (1-based, as Sentry frames carry it) and its original line (1-based).
#[derive(Clone, Copy, Debug)]
pub struct Site {
    pub line: u32,
    pub col: u32,
    pub src_line: u32,
}

/// One generated function.
pub struct Function {
    pub module: usize,
    /// Its name in the original source, and in the bundle.
    pub name: String,
    pub min_name: String,
    /// Positions inside its body.
    pub body: Vec<Site>,
    /// Where it is called: the site and the function the call is in.
    pub callers: Vec<(Site, usize)>,
}

/// A generated bundle.
pub struct Generated {
    pub debug_id: String,
    /// The minified file, with its `//# debugId=` comment.
    pub js: Vec<u8>,
    pub map: Vec<u8>,
    /// Each module's path as cairn should report it (repo-relative).
    pub paths: Vec<String>,
    pub functions: Vec<Function>,
    /// Functions an error may be thrown in: in-app and called from somewhere.
    pub tops: Vec<usize>,
    pub tokens: usize,
}

const VERBS: [&str; 20] = [
    "get", "set", "render", "handle", "load", "fetch", "update", "compute", "format", "parse",
    "validate", "create", "build", "resolve", "apply", "use", "map", "select", "reduce", "merge",
];
const NOUNS: [&str; 20] = [
    "Order", "Cart", "User", "Price", "Item", "Session", "Checkout", "Address", "Payment",
    "Invoice", "Product", "Review", "Search", "Filter", "Token", "Route", "Layout", "Modal",
    "Form", "Toast",
];
const VARS: [&str; 16] = [
    "props", "state", "items", "item", "total", "user", "order", "result", "value", "options",
    "response", "data", "config", "error", "event", "ctx",
];
const PROPS: [&str; 12] = [
    "items", "price", "qty", "id", "status", "currency", "visible", "name", "total", "length",
    "address", "lines",
];
const DIRS: [&str; 8] = [
    "components",
    "pages",
    "hooks",
    "lib",
    "store",
    "api",
    "features/checkout",
    "features/account",
];
const PACKAGES: [&str; 6] = ["react-dom", "react", "lodash", "axios", "zod", "date-fns"];

/// The `n`-th short identifier a minifier hands out (`a`, `b`, …, `aa`, `ab`, …).
fn short(mut n: usize) -> String {
    const FIRST: &[u8] = b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ$_";
    const REST: &[u8] = b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ$_0123456789";
    let mut s = String::new();
    s.push(FIRST[n % FIRST.len()] as char);
    n /= FIRST.len();
    while n > 0 {
        n -= 1;
        s.push(REST[n % REST.len()] as char);
        n /= REST.len();
    }
    s
}

/// A piece of a statement: mapped or not, named or not.
enum Piece {
    /// Unmapped text (original, minified).
    Raw(&'static str, &'static str),
    /// A mapped keyword or property, the same in both.
    Tok(String),
    /// A mapped local variable (index into the function's locals): renamed, with its name.
    Var(usize),
    /// A mapped call of function `f`: renamed, with its name; a call site.
    Call(usize),
}

/// Writes the minified file, the original module and the map side by side.
struct Out {
    min: String,
    line: u32,
    line_start: usize,
    orig: String,
    orig_line: u32,
    orig_line_start: usize,
    src: u32,
    b: SourceMapBuilder,
    tokens: usize,
}

impl Out {
    fn site(&self) -> Site {
        Site {
            line: self.line + 1,
            col: (self.min.len() - self.line_start) as u32 + 1,
            src_line: self.orig_line + 1,
        }
    }

    /// A mapping at the current positions, then both texts.
    fn tok(&mut self, orig: &str, min: &str, name: Option<&str>) -> Site {
        let site = self.site();
        let name = name.map(|n| self.b.add_name(n));
        let ocol = (self.orig.len() - self.orig_line_start) as u32;
        self.b.add_raw(
            site.line - 1,
            site.col - 1,
            self.orig_line,
            ocol,
            Some(self.src),
            name,
            false,
        );
        self.tokens += 1;
        self.orig.push_str(orig);
        self.min.push_str(min);
        site
    }

    fn raw(&mut self, orig: &str, min: &str) {
        self.orig.push_str(orig);
        self.min.push_str(min);
    }

    fn orig_line(&mut self, text: &str) {
        self.orig.push_str(text);
        self.orig.push('\n');
        self.orig_line += 1;
        self.orig_line_start = self.orig.len();
    }
}

/// A UUID (version 4 form) derived from `seed`: the bundle's debug id.
pub fn debug_id(seed: u64) -> String {
    let h = shared::crypto::sha256(format!("cairn-bench-map-{seed}").as_bytes());
    let x = hex_of(&h[..16]);
    format!(
        "{}-{}-4{}-a{}-{}",
        &x[..8],
        &x[8..12],
        &x[13..16],
        &x[17..20],
        &x[20..32]
    )
}

fn hex_of(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Generates a bundle of `modules` modules from `seed`.
pub fn generate(seed: u64, modules: usize) -> Generated {
    let mut r = mix(seed ^ 0x5eed);
    let mut next = |n: usize| -> usize {
        r = mix(r);
        (r % n.max(1) as u64) as usize
    };
    // First pass: modules, their functions and names (calls may go to any function).
    let mut names: Vec<(String, String, usize)> = Vec::new(); // (original, minified, module)
    let mut paths = Vec::with_capacity(modules);
    let mut sources = Vec::with_capacity(modules);
    for m in 0..modules {
        let noun = NOUNS[next(NOUNS.len())];
        let (source, path) = if m % 5 == 4 {
            let pkg = PACKAGES[next(PACKAGES.len())];
            let p = format!("node_modules/{pkg}/cjs/{noun}{m}.production.js");
            (format!("webpack://shop/../{p}"), p)
        } else {
            let p = format!(
                "src/{}/{noun}{}{m}.tsx",
                DIRS[next(DIRS.len())],
                NOUNS[next(NOUNS.len())]
            );
            (format!("webpack://shop/./{p}"), p)
        };
        sources.push(source);
        paths.push(path);
        for _ in 0..4 + next(11) {
            let orig = format!(
                "{}{}{}",
                VERBS[next(VERBS.len())],
                NOUNS[next(NOUNS.len())],
                NOUNS[next(NOUNS.len())]
            );
            names.push((orig, short(names.len() + 60), m));
        }
    }
    let id = debug_id(seed);
    let mut out = Out {
        min: String::with_capacity(modules * 2600),
        line: 0,
        line_start: 0,
        orig: String::new(),
        orig_line: 0,
        orig_line_start: 0,
        src: 0,
        b: SourceMapBuilder::new(Some("main.js")),
        tokens: 0,
    };
    let mut functions: Vec<Function> = names
        .iter()
        .map(|(orig, min, m)| Function {
            module: *m,
            name: orig.clone(),
            min_name: min.clone(),
            body: Vec::new(),
            callers: Vec::new(),
        })
        .collect();
    let mut f = 0;
    for (m, source) in sources.iter().enumerate() {
        out.src = out.b.add_source(source);
        out.orig.clear();
        out.orig_line = 0;
        out.orig_line_start = 0;
        for k in 0..3 {
            out.orig_line(&format!(
                "import {{ {} }} from \"../{}/{}\";",
                names[next(names.len())].0,
                DIRS[k + next(3)],
                NOUNS[next(NOUNS.len())]
            ));
        }
        out.orig_line("");
        while f < names.len() && names[f].2 == m {
            function(&mut out, &names, &mut functions, f, &mut next);
            f += 1;
        }
        let contents = std::mem::take(&mut out.orig);
        out.b.set_source_contents(out.src, Some(&contents));
        out.orig = contents;
        if out.min.len() - out.line_start > 64 * 1024 {
            out.min.push('\n');
            out.line += 1;
            out.line_start = out.min.len();
        }
    }
    let tokens = out.tokens;
    let mut map = Vec::new();
    // Writing a map to a Vec cannot fail.
    let _ = out.b.into_sourcemap().to_writer(&mut map);
    // `sentry-cli sourcemaps inject` adds the debug id to the map's top-level object.
    let mut with_id = format!("{{\"debugId\":\"{id}\",").into_bytes();
    with_id.extend_from_slice(&map[1..]);
    let mut js = out.min.into_bytes();
    js.extend_from_slice(
        format!("\n//# debugId={id}\n//# sourceMappingURL=main.js.map\n").as_bytes(),
    );
    let tops = (0..functions.len())
        .filter(|&i| !paths[functions[i].module].starts_with("node_modules/"))
        .filter(|&i| !functions[i].callers.is_empty() && !functions[i].body.is_empty())
        .collect();
    Generated {
        debug_id: id,
        js,
        map: with_id,
        paths,
        functions,
        tops,
        tokens,
    }
}

fn pick(next: &mut impl FnMut(usize) -> usize, list: &[&str]) -> String {
    list[next(list.len())].to_owned()
}

/// Emits function `f`: a JSDoc comment, its header, 3–10 statements, its end.
fn function(
    out: &mut Out,
    names: &[(String, String, usize)],
    functions: &mut [Function],
    f: usize,
    next: &mut impl FnMut(usize) -> usize,
) {
    let (orig, min, _) = &names[f];
    out.orig_line("/**");
    out.orig_line(&format!(
        " * {orig}: keeps the {} in step with the {}.",
        VARS[next(VARS.len())],
        VARS[next(VARS.len())]
    ));
    out.orig_line(" */");
    let locals: Vec<usize> = (0..6).map(|_| next(VARS.len())).collect();
    let var = |i: usize| (VARS[locals[i]], short(i));
    out.raw("export ", "");
    out.tok("function ", "function ", None);
    out.tok(orig, min, Some(orig));
    out.raw("(", "(");
    for p in 0..2 {
        if p > 0 {
            out.raw(", ", ",");
        }
        let (o, m) = var(p);
        out.tok(o, &m, Some(o));
    }
    out.raw(") {", "){");
    out.orig_line("");
    for _ in 0..3 + next(8) {
        let (a, b, c) = (next(6), next(6), next(6));
        let pieces: Vec<Piece> = match next(5) {
            0 => vec![
                Piece::Tok("const ".into()),
                Piece::Var(a),
                Piece::Raw(" = ", "="),
                Piece::Var(b),
                Piece::Raw(".", "."),
                Piece::Tok(pick(next, &PROPS)),
                Piece::Raw(".filter((", ".filter(("),
                Piece::Var(c),
                Piece::Raw(") => ", ")=>"),
                Piece::Var(c),
                Piece::Raw(".", "."),
                Piece::Tok(pick(next, &PROPS)),
                Piece::Raw(");", ");"),
            ],
            1 | 2 => vec![
                Piece::Tok("const ".into()),
                Piece::Var(a),
                Piece::Raw(" = ", "="),
                Piece::Tok("await ".into()),
                Piece::Call(next(names.len())),
                Piece::Raw("(", "("),
                Piece::Var(b),
                Piece::Raw(", ", ","),
                Piece::Var(c),
                Piece::Raw(".", "."),
                Piece::Tok(pick(next, &PROPS)),
                Piece::Raw(");", ");"),
            ],
            3 => vec![
                Piece::Tok("if ".into()),
                Piece::Raw("(!", "(!"),
                Piece::Var(a),
                Piece::Raw(".", "."),
                Piece::Tok(pick(next, &PROPS)),
                Piece::Raw(") ", ")"),
                Piece::Tok("return null;".into()),
            ],
            _ => vec![
                Piece::Var(a),
                Piece::Raw(".", "."),
                Piece::Tok(pick(next, &PROPS)),
                Piece::Raw(" = ", "="),
                Piece::Var(b),
                Piece::Raw(".", "."),
                Piece::Tok(pick(next, &PROPS)),
                Piece::Raw(" * ", "*"),
                Piece::Var(c),
                Piece::Raw(".", "."),
                Piece::Tok(pick(next, &PROPS)),
                Piece::Raw(";", ";"),
            ],
        };
        out.raw("  ", "");
        for piece in pieces {
            match piece {
                Piece::Raw(o, m) => out.raw(o, m),
                Piece::Tok(t) => {
                    let site = out.tok(&t, &t, None);
                    functions[f].body.push(site);
                }
                Piece::Var(i) => {
                    let (o, m) = var(i);
                    let site = out.tok(o, &m, Some(o));
                    functions[f].body.push(site);
                }
                Piece::Call(callee) => {
                    let (o, m, _) = &names[callee];
                    let site = out.tok(o, m, Some(o));
                    functions[f].body.push(site);
                    functions[callee].callers.push((site, f));
                }
            }
        }
        out.orig_line("");
    }
    out.tok("}", "}", None);
    out.orig_line("");
    out.orig_line("");
}

/// An artifact bundle as `sentry-cli sourcemaps upload` builds it: `manifest.json` and, per
/// bundle, the minified file and its map under `_/_/`, each with its debug id.
pub fn artifact_bundle(bundles: &[(&str, &Generated)], release: &str) -> Vec<u8> {
    use std::io::Write;
    let opts = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated);
    let mut files = serde_json::Map::new();
    let mut w = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    for (name, g) in bundles {
        let js = format!("_/_/static/js/{name}");
        let map = format!("{js}.map");
        files.insert(
            js.clone(),
            serde_json::json!({"type": "minified_source", "url": format!("~/static/js/{name}"),
                "headers": {"debug-id": g.debug_id, "Sourcemap": format!("{name}.map")}}),
        );
        files.insert(
            map.clone(),
            serde_json::json!({"type": "source_map", "url": format!("~/static/js/{name}.map"),
                "headers": {"debug-id": g.debug_id}}),
        );
        for (path, data) in [(&js, &g.js), (&map, &g.map)] {
            // Writing to memory cannot fail.
            let _ = w.start_file(path.as_str(), opts);
            let _ = w.write_all(data);
        }
    }
    let manifest = serde_json::json!({
        "org": "bench", "release": release, "files": files,
        "debug_id": debug_id(bundles.len() as u64 ^ 0xb0b),
    });
    let _ = w.start_file("manifest.json", opts);
    let _ = w.write_all(manifest.to_string().as_bytes());
    w.finish().map(|c| c.into_inner()).unwrap_or_default()
}
