-- Issue 18: access follows the token, and projects follow GitHub's repository id.
--
-- The permission cache was keyed by user: a session made from a weaker token of the same user
-- (another OAuth app's, with no scope) read what the user's own session had been told, and its
-- `none` locked that session out. GitHub answers per token, so the cache is now per session
-- (each session holds exactly one GitHub token) and goes with it when it is signed out.
-- It is a cache: dropping the old rows loses nothing but a few GitHub calls.
drop table repo_access;

create table repo_access (
    session_id      bigint not null references sessions(id) on delete cascade,
    asked           text   not null,               -- what was asked: lowercase owner/name, or '#<id>' for a repository id
    github_repo_id  bigint,                        -- the repository GitHub answered about; null when it said no access to a name
    permission      text   not null check (permission in ('none', 'read', 'write', 'admin')),
    checked_at      timestamptz not null default now(),
    primary key (session_id, asked)
);
comment on table repo_access is 'what GitHub said one session''s token may do on a repo: only definite answers (200, 404), trusted for a few minutes (one minute for writes and admin actions)';
comment on column repo_access.asked is 'lowercase owner/name for a check by name, ''#<id>'' for a check by repository id';
comment on column repo_access.github_repo_id is 'GitHub''s id of the repo the answer is about; a check by id reuses any fresh row of the same id';
create index repo_access_repo_id_idx on repo_access(session_id, github_repo_id) where github_repo_id is not null;

-- A project belongs to a GitHub repository, not to a name: after a rename the project follows
-- the repo (its name is updated when GitHub reports the new one), and a repo created later
-- under the old name is another repo, with no access to this project. Projects made before
-- this migration have no id yet; the first access check that finds their repo by name on
-- GitHub records it.
alter table projects add column github_repo_id bigint;
comment on column projects.github_repo_id is 'GitHub''s numeric repository id, stable across renames and transfers; null only for projects made before migration 0014 until their first check';
comment on column projects.repo_full_name is 'lowercase owner/name as GitHub last reported it; a name, not an identity (see github_repo_id)';

-- One live project per repository; names are unique only among the projects whose repository
-- is not known yet (a renamed repo's old name may be reused by a new repo and its project).
drop index projects_repo_live_idx;
create unique index projects_repo_id_live_idx on projects(github_repo_id)
    where deleted_at is null and github_repo_id is not null;
create unique index projects_legacy_repo_live_idx on projects(repo_full_name)
    where deleted_at is null and github_repo_id is null;
create index projects_repo_full_name_idx on projects(repo_full_name) where deleted_at is null;
