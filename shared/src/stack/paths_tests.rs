//! Tests of [`super`] (`paths.rs`).

use super::*;

#[test]
fn normalizes_paths() {
    let cases: &[(&str, &str, bool)] = &[
        ("/srv/checkout-api/app/payments.py", "app/payments.py", true),
        ("/var/task/src/x.js", "src/x.js", true),
        ("webpack:///./src/y.ts", "src/y.ts", true),
        ("webpack://checkout/./src/x.ts", "src/x.ts", true),
        (
            "webpack://_N_E/./src/app/page.tsx?abc1",
            "src/app/page.tsx",
            true,
        ),
        ("webpack:///src/z.ts", "src/z.ts", true),
        ("webpack:///webpack/bootstrap", "webpack/bootstrap", false),
        (
            "webpack:///./node_modules/react-dom/cjs/react-dom.js",
            "node_modules/react-dom/cjs/react-dom.js",
            false,
        ),
        (
            "webpack-internal:///(rsc)/./src/app/page.tsx",
            "src/app/page.tsx",
            true,
        ),
        ("webpack-internal:///./src/lib/db.ts", "src/lib/db.ts", true),
        // The browser SDK from Sentry's CDN wraps the app's callbacks: not the app's code.
        (
            "https://browser.sentry-cdn.com/8.45.0/bundle.tracing.min.js",
            "8.45.0/bundle.tracing.min.js",
            false,
        ),
        (
            "https://js.sentry-cdn.com/0123abcd.min.js",
            "0123abcd.min.js",
            false,
        ),
        (
            "https://sentry-cdn.com.evil.example/js/app.js",
            "js/app.js",
            true,
        ),
        ("file:///var/task/index.mjs", "index.mjs", true),
        (
            "file:///home/dev/checkout-api/src/server.mjs",
            "src/server.mjs",
            true,
        ),
        ("file:///C:/work/checkout-api/src/a.ts", "src/a.ts", true),
        ("app:///src/main.js", "src/main.js", true),
        ("async /app/src/handler.js", "src/handler.js", true),
        (
            "https://shop.example.com/static/js/main.abc123.js?v=2#x",
            "static/js/main.abc123.js",
            true,
        ),
        ("https://shop.example.com/app/main.js", "app/main.js", true),
        (
            "https://shop.example.com/_next/static/chunks/app/page-1f2e.js",
            "_next/static/chunks/app/page-1f2e.js",
            false,
        ),
        ("chrome-extension://abcdef/content.js", "content.js", false),
        (r"C:\work\checkout-api\src\a.ts", "src/a.ts", true),
        ("./src/../lib/./util.js", "lib/util.js", true),
        (
            "/vercel/path0/.next/server/app/page.js",
            ".next/server/app/page.js",
            false,
        ),
        (
            "app:///_next/server/app/api/checkout/route.js",
            "_next/server/app/api/checkout/route.js",
            false,
        ),
        (
            "app:///_next/server/chunks/ssr/123.js",
            "_next/server/chunks/ssr/123.js",
            false,
        ),
        (
            "/vercel/path1/src/app/api/route.ts",
            "src/app/api/route.ts",
            true,
        ),
        (
            "/app/node_modules/express/lib/router/layer.js",
            "node_modules/express/lib/router/layer.js",
            false,
        ),
        ("/usr/src/app/server.js", "server.js", true),
        ("/opt/app/main.py", "main.py", true),
        ("/home/site/wwwroot/app.py", "app.py", true),
        ("/workspace/cmd/api/main.go", "cmd/api/main.go", true),
        (
            "/app/checkout-api/models.py",
            "checkout-api/models.py",
            true,
        ),
        (
            "/srv/checkout-api/checkout-api/x.py",
            "checkout-api/x.py",
            true,
        ),
        ("/srv/other/checkout-api", "srv/other/checkout-api", true),
        (
            "node:internal/modules/cjs/loader",
            "node:internal/modules/cjs/loader",
            false,
        ),
        ("node:events", "node:events", false),
        (
            "/usr/lib/python3.11/json/decoder.py",
            "usr/lib/python3.11/json/decoder.py",
            false,
        ),
        (
            "/usr/local/lib/python3.12/site-packages/flask/app.py",
            "usr/local/lib/python3.12/site-packages/flask/app.py",
            false,
        ),
        (
            "/var/task/.venv/lib/python3.11/site-packages/x.py",
            ".venv/lib/python3.11/site-packages/x.py",
            false,
        ),
        (
            "/var/lang/lib/python3.12/json/decoder.py",
            "var/lang/lib/python3.12/json/decoder.py",
            false,
        ),
        (
            "/var/runtime/bootstrap.py",
            "var/runtime/bootstrap.py",
            false,
        ),
        (
            "<frozen importlib._bootstrap>",
            "<frozen importlib._bootstrap>",
            false,
        ),
        ("<string>", "<string>", false),
        (
            "/rustc/90b35a6239c3d8bdabc530a6a0816f7ff89a0aaf/library/std/src/panicking.rs",
            "rustc/90b35a6239c3d8bdabc530a6a0816f7ff89a0aaf/library/std/src/panicking.rs",
            false,
        ),
        (
            "/home/u/.cargo/registry/src/index.crates.io-6f17d22bba15001f/tokio-1.0.0/src/lib.rs",
            "home/u/.cargo/registry/src/index.crates.io-6f17d22bba15001f/tokio-1.0.0/src/lib.rs",
            false,
        ),
        (
            "/usr/local/go/src/runtime/panic.go",
            "usr/local/go/src/runtime/panic.go",
            false,
        ),
        (
            "/root/go/pkg/mod/github.com/gin-gonic/gin@v1.9.1/gin.go",
            "root/go/pkg/mod/github.com/gin-gonic/gin@v1.9.1/gin.go",
            false,
        ),
        ("java/lang/Thread.java", "java/lang/Thread.java", false),
        (
            "com/acme/checkout/Cart.java",
            "com/acme/checkout/Cart.java",
            true,
        ),
        (
            "/usr/local/bundle/gems/actionpack-7.1.0/lib/a.rb",
            "usr/local/bundle/gems/actionpack-7.1.0/lib/a.rb",
            false,
        ),
        (
            "/var/www/checkout-api/vendor/laravel/framework/src/x.php",
            "vendor/laravel/framework/src/x.php",
            false,
        ),
        ("", "", false),
    ];
    for (raw, want, in_app) in cases {
        let got = normalize_path(raw, "acme/checkout-api");
        assert_eq!((got.path.as_str(), got.in_app), (*want, *in_app), "{raw}");
    }
}

#[test]
fn repo_name_forms() {
    for repo in [
        "checkout-api",
        "acme/checkout-api",
        "Checkout-API",
        " checkout-api/ ",
    ] {
        assert_eq!(
            normalize_path("/srv/checkout-api/app/payments.py", repo).path,
            "app/payments.py",
            "{repo}"
        );
    }
    assert_eq!(
        normalize_path("/srv/checkout-api/app/payments.py", "").path,
        "srv/checkout-api/app/payments.py"
    );
}

#[test]
fn hostile_paths_do_not_panic() {
    let long = "a/".repeat(10_000);
    for raw in [
        "://",
        "webpack://",
        "webpack-internal:///(",
        "file://",
        "C:",
        "/..",
        "../../..",
        "?",
        "é:/x",
        long.as_str(),
        "\u{0}\u{ffff}",
    ] {
        let _ = normalize_path(raw, "r");
    }
}

#[test]
fn a_path_containing_native_code_is_still_made_repo_relative() {
    // Found by fuzzing (fuzz target `paths`): anything containing `[native code]` was returned
    // verbatim, leading `/` included.
    let got = normalize_path("/srv/checkout-api/ap[native code]", "acme/checkout-api");
    assert_eq!(got.path, "ap[native code]");
    assert!(!got.path.starts_with('/'));
    let native = normalize_path("[native code]", "acme/checkout-api");
    assert_eq!(
        (native.path.as_str(), native.in_app),
        ("[native code]", false)
    );
}

#[test]
fn modules_to_paths() {
    let cases: &[(&str, Option<&str>, Option<&str>)] = &[
        ("app.payments", None, Some("app/payments.py")),
        ("app.payments", Some("python"), Some("app/payments.py")),
        ("handler", Some("Python"), Some("handler.py")),
        ("__main__", None, None),
        ("app..x", None, None),
        ("1app.x", None, None),
        ("", None, None),
        (
            "com.acme.Cart$Item",
            Some("java"),
            Some("com/acme/Cart.java"),
        ),
        ("app.payments", Some("node"), None),
        ("java.lang.Thread", None, None),
        ("com.acme.Cart$Item", None, None),
        ("myapp.Models", Some("python"), Some("myapp/Models.py")),
        ("Handler", None, Some("Handler.py")),
    ];
    for (m, hint, want) in cases {
        assert_eq!(module_to_path(m, *hint).as_deref(), *want, "{m}");
    }
}
