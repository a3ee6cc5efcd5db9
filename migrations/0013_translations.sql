-- Line translation (issue 20): what GitHub's compare API said about a pair of commits, so that
-- an incident's line recorded at one commit can be located at the commit the IDE has. Commits
-- are immutable, so nothing here expires: one compare call serves every incident of the pair,
-- for every caller who may read the repo (access is checked before anything is read here).
-- Failures (rate limits, unknown commits, timeouts) are never stored: an unpushed commit may
-- be pushed later.
create table comparisons (
    comparison_id   bigint generated always as identity primary key,
    repo_full_name  text not null,                 -- lowercase owner/name (not a project: commits belong to the repo)
    base_sha        text not null,                 -- 40 lowercase hex, as asked: compare/{base}...{head}
    head_sha        text not null,
    status          text not null check (status in ('ahead', 'behind', 'diverged', 'identical')),
    merge_base_sha  text not null,                 -- the files below run from here to head (three-dot semantics)
    complete        boolean not null,              -- false at GitHub's 300-file cap: an unlisted file may have changed too
    created_at      timestamptz not null default now(),
    unique (repo_full_name, base_sha, head_sha)
);
comment on table comparisons is 'GitHub compare results per (repo, base, head), kept forever; the files are in comparison_files';
comment on column comparisons.complete is 'when true, a file not in comparison_files is identical at merge base and head';

-- One row per file a comparison lists, plus rows learned later for files it could not list
-- (past the cap), each as the line mapper's `FileChange` (shared/src/linemap).
create table comparison_files (
    comparison_id  bigint not null references comparisons(comparison_id) on delete cascade,
    old_path       text,                           -- path at the merge base; null for a file added (or copied) since
    new_path       text,                           -- path at head; null for a removed file; differs from old_path on a rename
    change         jsonb,                          -- {"status": "modified", "hunks": [...]} | {"status": "added"} | {"status": "deleted"}; null until fetched
    source         text not null check (source in ('patch', 'contents', 'pending')),
    unique (comparison_id, old_path),
    unique (comparison_id, new_path)
);
comment on table comparison_files is 'per compared file: its paths on both sides and how its lines moved';
comment on column comparison_files.source is 'patch: from GitHub''s per-file patch; contents: both versions fetched and diffed in-process; pending: listed without a patch, not fetched yet';
comment on column comparisons.merge_base_sha is 'GitHub compares three-dot: comparison_files run from this commit to head_sha, not from base_sha';
comment on column comparison_files.old_path is 'path at the merge base; null for a file added or copied since';
comment on column comparison_files.new_path is 'path at head; null for a removed file; differs from old_path on a rename';
comment on column comparison_files.change is 'linemap::FileChange as JSON (modified with context-free hunks, added, deleted); null while pending';
