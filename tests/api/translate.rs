//! Line translation (issue 20) against real git repositories served by the fake GitHub: each
//! case checks the translated line against the line that holds the code at `at`.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use shared::domain::{CommitSha, RepoFullName};
use shared::linemap::LineState;
use shared::translate::{
    self, CallLimits, Limits, Located, OctocrabCommits, Position, Reason, Relation, Status,
    Subject, Translation, Translator,
};

use crate::fake_git::{Failure, GitRepo};
use crate::helpers::{sha, TestApp};

pub const REPO: &str = "acme/app";

/// `app/payments.py` at the first commit: the error is `ratio = 100 / amount`, line 10.
const PAYMENTS: &str = "import math


def fee(amount):
    return amount * 0.03


def charge(amount):
    total = amount + fee(amount)
    ratio = 100 / amount
    log(total)
    return ratio


def log(x):
    print(x)
";

/// A repository with one commit per kind of change, named in `c`.
pub struct History {
    pub repo: GitRepo,
    pub c: HashMap<&'static str, String>,
}

impl History {
    /// main: `initial` → `insert_above` (3 lines on top) → `edit` (the error line) → `rename`
    /// (to app/billing.py, one line added above) → `delete_line` → `delete_file`;
    /// `feature` branches off `insert_above` and inserts 5 lines under the import;
    /// `big` branches off `insert_above`, adds 310 files sorted before `app/` and 2 lines on
    /// top of payments.py.
    pub fn build() -> Self {
        let repo = GitRepo::init();
        let mut c = HashMap::new();
        repo.write("app/payments.py", PAYMENTS);
        repo.write(
            "app/main.py",
            "from app.payments import charge\n\ncharge(0)\n",
        );
        c.insert("initial", repo.commit("initial"));
        repo.write(
            "app/payments.py",
            &format!("# billing\n# fees\n# ratios\n{PAYMENTS}"),
        );
        c.insert("insert_above", repo.commit("insert above"));
        let edited = repo
            .read("app/payments.py")
            .replace("100 / amount", "100 / max(amount, 1)");
        repo.write("app/payments.py", &edited);
        c.insert("edit", repo.commit("edit the line"));
        repo.git(&["mv", "app/payments.py", "app/billing.py"]);
        let renamed = repo.read("app/billing.py").replacen(
            "import math\n",
            "import math\nimport logging\n",
            1,
        );
        repo.write("app/billing.py", &renamed);
        c.insert("rename", repo.commit("rename"));
        let without = repo
            .read("app/billing.py")
            .replace("    ratio = 100 / max(amount, 1)\n", "");
        repo.write("app/billing.py", &without);
        c.insert("delete_line", repo.commit("delete the line"));
        repo.git(&["rm", "-q", "app/billing.py"]);
        c.insert("delete_file", repo.commit("delete the file"));

        repo.checkout(&c["insert_above"], Some("feature"));
        let feature = repo.read("app/payments.py").replacen(
            "import math\n",
            "import math\n#1\n#2\n#3\n#4\n#5\n",
            1,
        );
        repo.write("app/payments.py", &feature);
        c.insert("feature", repo.commit("feature: five lines"));

        repo.checkout(&c["insert_above"], Some("big"));
        for i in 0..310 {
            repo.write(&format!("aaa/f{i:03}.txt"), &format!("file {i}\n"));
        }
        let big = format!("# big\n# change\n{}", repo.read("app/payments.py"));
        repo.write("app/payments.py", &big);
        c.insert("big", repo.commit("big: 310 files"));
        repo.checkout("main", None);
        Self { repo, c }
    }

    /// The commit named `name`.
    pub fn at(&self, name: &str) -> String {
        self.c[name].clone()
    }
}

fn translator(app: &TestApp, at: &str, timeout: Duration) -> Arc<Translator> {
    let limits = CallLimits {
        timeout,
        ..Default::default()
    };
    Arc::new(Translator {
        commits: Arc::new(OctocrabCommits::new(&app.github.url, limits)),
        pool: app.pool.clone(),
        token: "gho_translate".to_owned().into(),
        repo: RepoFullName::parse(REPO).unwrap(),
        at: CommitSha::parse(at).unwrap(),
        limits: Limits::default(),
    })
}

fn position(path: &str, line: u32, column: Option<u32>) -> Position {
    Position {
        file_path: Some(path.to_owned()),
        line_number: Some(line),
        column_number: column,
        in_app: true,
    }
}

fn subject(seen: &str, positions: Vec<Position>) -> Subject {
    Subject {
        seen: Some(CommitSha::parse(seen).unwrap()),
        positions,
    }
}

pub async fn served() -> (TestApp, History) {
    let app = TestApp::spawn().await;
    let history = tokio::task::spawn_blocking(History::build).await.unwrap();
    app.github.git.serve(REPO, &history.repo);
    (app, history)
}

async fn locate(app: &TestApp, at: &str, subjects: &[Subject]) -> (Vec<Located>, Translation) {
    let t = translator(app, at, Duration::from_secs(5));
    translate::locate(t, subjects).await.unwrap()
}

/// The error line of `PAYMENTS` at the first commit, with a column.
fn the_error(h: &History) -> Subject {
    let line = h
        .repo
        .line_of(&h.at("initial"), "app/payments.py", "100 / amount");
    subject(
        &h.at("initial"),
        vec![position("app/payments.py", line, Some(13))],
    )
}

#[tokio::test]
async fn lines_follow_insertions_edits_renames_and_deletions_ahead() {
    let (app, h) = served().await;
    let cases = [
        (
            "insert_above",
            "app/payments.py",
            Some("100 / amount"),
            LineState::Unchanged,
        ),
        (
            "edit",
            "app/payments.py",
            Some("100 / max(amount, 1)"),
            LineState::Changed,
        ),
        (
            "rename",
            "app/billing.py",
            Some("100 / max(amount, 1)"),
            LineState::Changed,
        ),
        // The nearest surviving line is the one above the gap.
        (
            "delete_line",
            "app/billing.py",
            Some("total = amount + fee"),
            LineState::Deleted,
        ),
        // Compared with the first commit, payments.py was removed (billing.py never existed).
        (
            "delete_file",
            "app/payments.py",
            None,
            LineState::FileDeleted,
        ),
    ];
    for (at, path, holds, state) in cases {
        let (located, translation) = locate(&app, &h.at(at), &[the_error(&h)]).await;
        let p = &located[0].positions[0];
        assert_eq!(located[0].relation, Relation::Ahead, "at {at}");
        assert_eq!(p.line_state, state, "at {at}");
        assert_eq!(p.file_path.as_deref(), Some(path), "at {at}");
        let expected = holds.map(|needle| h.repo.line_of(&h.at(at), path, needle));
        assert_eq!(p.line_number, expected, "at {at}");
        let column = (state == LineState::Unchanged).then_some(13);
        assert_eq!(
            p.column_number, column,
            "a column only on an unchanged line, at {at}"
        );
        let complete = Translation {
            status: Status::Complete,
            reason: None,
        };
        assert_eq!(translation, complete, "at {at}");
    }
}

#[tokio::test]
async fn a_commit_behind_maps_back_through_the_inverse_diff_and_the_rename() {
    let (app, h) = served().await;
    let seen = h.at("rename");
    let line = h
        .repo
        .line_of(&seen, "app/billing.py", "100 / max(amount, 1)");
    let fee = h
        .repo
        .line_of(&seen, "app/billing.py", "return amount * 0.03");
    let s = subject(
        &seen,
        vec![
            position("app/billing.py", line, Some(5)),
            position("app/billing.py", fee, Some(5)),
        ],
    );

    let (located, translation) = locate(&app, &h.at("insert_above"), &[s]).await;

    assert_eq!(located[0].relation, Relation::Behind);
    let [error, fee] = &located[0].positions[..] else {
        panic!()
    };
    assert_eq!(error.file_path.as_deref(), Some("app/payments.py"));
    assert_eq!(error.line_state, LineState::Changed);
    let at = h.at("insert_above");
    assert_eq!(
        error.line_number,
        Some(h.repo.line_of(&at, "app/payments.py", "100 / amount"))
    );
    assert_eq!(fee.line_state, LineState::Unchanged);
    assert_eq!(
        fee.line_number,
        Some(
            h.repo
                .line_of(&at, "app/payments.py", "return amount * 0.03")
        )
    );
    assert_eq!(fee.column_number, Some(5));
    assert_eq!(translation.status, Status::Complete);
}

#[tokio::test]
async fn a_diverged_branch_is_reached_through_the_merge_base() {
    let (app, h) = served().await;
    let seen = h.at("edit");
    let edited = h
        .repo
        .line_of(&seen, "app/payments.py", "100 / max(amount, 1)");
    let total = h
        .repo
        .line_of(&seen, "app/payments.py", "total = amount + fee");
    let s = subject(
        &seen,
        vec![
            position("app/payments.py", edited, None),
            position("app/payments.py", total, Some(9)),
        ],
    );
    let at = h.at("feature");

    let (located, _) = locate(&app, &at, &[s]).await;

    assert_eq!(located[0].relation, Relation::Diverged);
    let [edited, total] = &located[0].positions[..] else {
        panic!()
    };
    assert_eq!(
        edited.line_state,
        LineState::Changed,
        "edited on the other side of the merge base"
    );
    assert_eq!(
        edited.line_number,
        Some(h.repo.line_of(&at, "app/payments.py", "100 / amount"))
    );
    assert_eq!(total.line_state, LineState::Unchanged);
    assert_eq!(
        total.line_number,
        Some(
            h.repo
                .line_of(&at, "app/payments.py", "total = amount + fee")
        )
    );
    assert_eq!(total.column_number, Some(9));
}

#[tokio::test]
async fn a_comparison_past_githubs_300_files_falls_back_to_the_files_contents() {
    let (app, h) = served().await;
    let seen = h.at("insert_above");
    let line = h.repo.line_of(&seen, "app/payments.py", "100 / amount");
    let s = subject(&seen, vec![position("app/payments.py", line, None)]);
    let at = h.at("big");

    let (located, translation) = locate(&app, &at, &[s]).await;

    let p = &located[0].positions[0];
    assert_eq!(p.line_state, LineState::Unchanged);
    assert_eq!(
        p.line_number,
        Some(h.repo.line_of(&at, "app/payments.py", "100 / amount"))
    );
    assert_eq!(translation.status, Status::Complete);
    assert_eq!(app.github.git.calls("contents"), 2, "both versions, once");
    let (again, _) = locate(
        &app,
        &at,
        &[subject(
            &seen,
            vec![position("app/payments.py", line, None)],
        )],
    )
    .await;
    assert_eq!(again[0].positions[0], located[0].positions[0]);
    assert_eq!(
        app.github.git.calls("contents"),
        2,
        "the fetched file is cached with its comparison"
    );
}

#[tokio::test]
async fn a_file_whose_contents_cannot_be_fetched_leaves_the_listing_partial() {
    let (app, h) = served().await;
    app.github.git.fail(Some(Failure::ContentsError));
    let seen = h.at("insert_above");
    let line = h.repo.line_of(&seen, "app/payments.py", "100 / amount");
    let s = subject(&seen, vec![position("app/payments.py", line, None)]);

    let (located, translation) = locate(&app, &h.at("big"), &[s]).await;

    assert_eq!(
        located[0].relation,
        Relation::Ahead,
        "the comparison itself was had"
    );
    assert_eq!(located[0].positions[0].line_state, LineState::Unknown);
    assert_eq!(located[0].positions[0].line_number, Some(line));
    let partial = Translation {
        status: Status::Partial,
        reason: Some(Reason::GithubUnavailable),
    };
    assert_eq!(translation, partial);
}

#[tokio::test]
async fn one_comparison_serves_every_incident_of_a_pair_and_is_cached() {
    let (app, h) = served().await;
    let at = h.at("insert_above");
    let main_py = || subject(&h.at("edit"), vec![position("app/main.py", 3, None)]);
    let subjects = [
        the_error(&h),
        main_py(),
        the_error(&h),
        the_error(&h),
        main_py(),
    ];

    let (first, _) = locate(&app, &at, &subjects).await;
    let uncached = app.github.git.calls("compare");
    app.github.git.fail(Some(Failure::ServerError));
    let (again, translation) = locate(&app, &at, &subjects).await;

    // initial...insert_above (ahead); edit...insert_above (behind) and insert_above...edit.
    assert_eq!(
        uncached, 3,
        "one per distinct seen commit, two for the one behind"
    );
    assert_eq!(app.github.git.calls("compare"), 3);
    assert_eq!(again[1].relation, Relation::Behind);
    assert_eq!(again[1].positions[0].line_number, Some(3));
    assert_eq!(translation.status, Status::Complete, "from the cache");
    assert_eq!(first[2].positions, again[2].positions);
    assert_eq!(again[2].positions[0].line_number, Some(13));
}

#[tokio::test]
async fn github_failures_leave_incidents_untranslated_with_the_reason() {
    let (app, h) = served().await;
    let cases = [
        (Failure::RateLimited, Reason::RateLimited),
        (Failure::SecondaryRateLimit, Reason::RateLimited),
        (Failure::ServerError, Reason::GithubUnavailable),
    ];
    for (failure, reason) in cases {
        app.github.git.fail(Some(failure));
        let (located, translation) = locate(&app, &h.at("edit"), &[the_error(&h)]).await;
        assert_eq!(
            translation,
            Translation {
                status: Status::None,
                reason: Some(reason)
            }
        );
        assert_eq!(located[0].relation, Relation::Unknown);
        let p = &located[0].positions[0];
        assert_eq!(
            (p.line_state, p.line_number, p.column_number),
            (LineState::Unknown, Some(10), Some(13))
        );
    }
}

#[tokio::test]
async fn a_slow_github_is_given_up_on_within_the_budget() {
    let (app, h) = served().await;
    app.github.git.set_latency(Duration::from_millis(1500));
    let t = translator(&app, &h.at("edit"), Duration::from_millis(200));
    let started = std::time::Instant::now();

    let (located, translation) = translate::locate(t, &[the_error(&h)]).await.unwrap();

    assert!(
        started.elapsed() < Duration::from_millis(1000),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(
        translation,
        Translation {
            status: Status::None,
            reason: Some(Reason::GithubTimeout)
        }
    );
    assert_eq!(located[0].positions[0].line_state, LineState::Unknown);
}

#[tokio::test]
async fn an_unpushed_commit_is_reported_and_the_others_still_translate() {
    let (app, h) = served().await;
    let unpushed = sha("a local commit");
    let elsewhere = subject(&unpushed, vec![position("app/payments.py", 4, None)]);

    let (none, at_unknown) = locate(&app, &unpushed, &[the_error(&h)]).await;
    let (some, partly) = locate(&app, &h.at("insert_above"), &[the_error(&h), elsewhere]).await;

    assert_eq!(
        at_unknown,
        Translation {
            status: Status::None,
            reason: Some(Reason::UnknownCommit)
        }
    );
    assert_eq!(
        none[0].positions[0].line_number,
        Some(10),
        "the seen line, untranslated"
    );
    assert_eq!(
        partly,
        Translation {
            status: Status::Partial,
            reason: Some(Reason::UnknownCommit)
        }
    );
    assert_eq!(some[0].relation, Relation::Ahead);
    assert_eq!(some[0].positions[0].line_number, Some(13));
    assert_eq!(some[1].relation, Relation::Unknown);
}
