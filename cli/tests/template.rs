//! `template.yaml` against the code: the routes API Gateway sends to each function are the
//! routes `cairn serve` answers, every function crate is deployed as a cargo-lambda function,
//! and every variable of `.env.sample` reaches the functions.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use yaml_rust2::{Yaml, YamlLoader};

/// Variables of `.env.sample` that mean nothing on Lambda.
const LOCAL_ONLY: &[&str] = &["CAIRN_ADDR"];

type Route = (String, String, String);

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_path_buf()
}

fn template() -> Yaml {
    let text = std::fs::read_to_string(root().join("template.yaml")).expect("template.yaml");
    let mut docs = YamlLoader::load_from_str(&text).expect("template.yaml is YAML");
    docs.remove(0)
}

/// `(logical id, resource)` of every `AWS::Serverless::Function`.
fn functions(t: &Yaml) -> Vec<(String, &Yaml)> {
    let resources = t["Resources"].as_hash().expect("Resources");
    resources
        .iter()
        .filter(|(_, r)| r["Type"].as_str() == Some("AWS::Serverless::Function"))
        .map(|(id, r)| (id.as_str().unwrap().to_owned(), r))
        .collect()
}

/// The crate a function resource deploys: `CodeUri: functions/<name>`.
fn crate_name(resource: &Yaml) -> String {
    let uri = resource["Properties"]["CodeUri"].as_str().expect("CodeUri");
    let name = uri.strip_prefix("functions/");
    name.unwrap_or_else(|| panic!("CodeUri {uri} is not functions/<name>"))
        .to_owned()
}

fn template_routes(t: &Yaml) -> BTreeSet<Route> {
    let mut out = BTreeSet::new();
    for (_, f) in functions(t) {
        let Some(events) = f["Properties"]["Events"].as_hash() else {
            continue;
        };
        for (_, e) in events
            .iter()
            .filter(|(_, e)| e["Type"].as_str() == Some("HttpApi"))
        {
            let p = &e["Properties"];
            let method = p["Method"].as_str().expect("Method").to_ascii_uppercase();
            let path = p["Path"].as_str().expect("Path").to_owned();
            let fresh = out.insert((crate_name(f), method.clone(), path.clone()));
            assert!(fresh, "{method} {path} is routed twice");
        }
    }
    out
}

/// The routes the functions' routers declare (`cairn::routes`).
fn owned(routes: impl IntoIterator<Item = (&'static str, String, String)>) -> BTreeSet<Route> {
    routes
        .into_iter()
        .map(|(f, m, p)| (f.to_owned(), m, p))
        .collect()
}

#[test]
fn template_routes_each_path_to_the_function_that_serves_it_locally() {
    let template = template_routes(&template());
    let local = owned(cairn::routes());

    let missing_from_template: Vec<_> = local.difference(&template).collect();
    let missing_locally: Vec<_> = template.difference(&local).collect();

    assert!(
        missing_from_template.is_empty(),
        "cairn serve answers routes template.yaml lacks: {missing_from_template:?}"
    );
    assert!(
        missing_locally.is_empty(),
        "template.yaml has routes cairn serve does not answer: {missing_locally:?}"
    );
    assert!(
        template.len() >= 20,
        "the parse found every route: {template:?}"
    );
}

#[test]
fn every_function_crate_is_deployed_as_an_arm64_cargo_lambda_function() {
    let t = template();
    let globals = &t["Globals"]["Function"];
    assert_eq!(globals["Runtime"].as_str(), Some("provided.al2023"));
    assert_eq!(globals["Handler"].as_str(), Some("bootstrap"));
    assert_eq!(
        globals["Architectures"],
        Yaml::Array(vec![Yaml::String("arm64".into())])
    );
    let deployed: BTreeSet<String> = functions(&t)
        .into_iter()
        .map(|(id, f)| {
            let name = crate_name(f);
            assert_eq!(
                f["Metadata"]["BuildMethod"].as_str(),
                Some("rust-cargolambda"),
                "{id}"
            );
            let binary = f["Metadata"]["BuildProperties"]["Binary"].as_str();
            let binary = binary.unwrap_or_else(|| panic!("{id}: BuildProperties.Binary"));
            let manifest =
                std::fs::read_to_string(root().join("functions").join(&name).join("Cargo.toml"))
                    .unwrap();
            assert!(
                manifest.contains(&format!("[[bin]]\nname = \"{binary}\"")),
                "{id}: {name} has no bin {binary}"
            );
            name
        })
        .collect();
    let crates: BTreeSet<String> = std::fs::read_dir(root().join("functions"))
        .unwrap()
        .map(|e| e.unwrap())
        .filter(|e| e.path().join("Cargo.toml").exists())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(
        deployed, crates,
        "one AWS::Serverless::Function per function crate"
    );
}

#[test]
fn every_variable_of_env_sample_reaches_the_functions() {
    let t = template();
    let mut set: BTreeSet<String> = BTreeSet::new();
    let mut add = |vars: &Yaml| {
        if let Some(h) = vars.as_hash() {
            set.extend(h.keys().filter_map(|k| k.as_str().map(str::to_owned)));
        }
    };
    add(&t["Globals"]["Function"]["Environment"]["Variables"]);
    for (_, f) in functions(&t) {
        add(&f["Properties"]["Environment"]["Variables"]);
    }
    let sample = std::fs::read_to_string(root().join(".env.sample")).unwrap();
    let missing: Vec<&str> = sample
        .lines()
        .filter(|l| !l.starts_with('#'))
        .filter_map(|l| l.split_once('=').map(|(k, _)| k.trim()))
        .filter(|k| !k.is_empty() && !LOCAL_ONLY.contains(k) && !set.contains(*k))
        .collect();
    assert!(
        missing.is_empty(),
        "variables of .env.sample missing from template.yaml: {missing:?}"
    );
}

#[test]
fn the_log_level_parameter_can_never_turn_on_trace_logging() {
    let t = template();
    let p = &t["Parameters"]["LogLevel"];
    let allowed: Vec<&str> = p["AllowedValues"]
        .as_vec()
        .expect("LogLevel has AllowedValues")
        .iter()
        .map(|v| v.as_str().expect("a string"))
        .collect();
    let default = p["Default"].as_str().unwrap();

    assert!(allowed.contains(&default), "{default} not allowed");
    for value in &allowed {
        // Every directive is `level` or `target=level`, the level at most debug: a bare target
        // (`lambda_runtime`) would mean trace.
        for directive in value.split(',') {
            let level = directive.rsplit_once('=').map_or(directive, |(_, l)| l);
            assert!(
                ["off", "error", "warn", "info", "debug"].contains(&level.trim()),
                "LogLevel {value:?} may enable trace ({directive:?})"
            );
        }
    }
}

#[test]
fn a_new_install_limits_ingest_by_default_and_zero_still_turns_it_off() {
    let t = template();
    let template_default = t["Parameters"]["RateLimitPerMinute"]["Default"]
        .as_i64()
        .expect("a number");
    let sample = std::fs::read_to_string(root().join(".env.sample")).unwrap();
    let sample_value: u32 = sample
        .lines()
        .find_map(|l| l.strip_prefix("CAIRN_RATE_LIMIT_PER_MINUTE="))
        .expect("in .env.sample")
        .trim()
        .parse()
        .unwrap();

    assert!(template_default > 0, "a new install limits ingest");
    assert_eq!(
        template_default,
        i64::from(shared::config::DEFAULT_RATE_LIMIT_PER_MINUTE)
    );
    assert_eq!(sample_value, shared::config::DEFAULT_RATE_LIMIT_PER_MINUTE);
    assert_eq!(
        t["Parameters"]["RateLimitPerMinute"]["MinValue"].as_i64(),
        Some(0)
    );
}
