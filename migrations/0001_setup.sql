-- cairn's first schema. Public identifiers are prefixed random strings (`proj_…`, `inc_…`,
-- `key_…`); secrets are stored only as SHA-256 hashes or AEAD ciphertext.

-- GitHub identities that signed in.
create table users (
    id            bigint generated always as identity primary key,
    github_id     bigint not null unique,          -- stable across login renames
    github_login  text   not null,
    github_email  text,
    avatar_url    text,
    created_at    timestamptz not null default now(),
    updated_at    timestamptz not null default now()
);
comment on table users is 'GitHub users who signed in to cairn';

-- cairn session tokens (`cairn_s_…`). Only sha256(token) is stored.
create table sessions (
    id                bigint generated always as identity primary key,
    token_hash        bytea  not null unique,      -- sha256 of the bearer token
    user_id           bigint not null references users(id) on delete cascade,
    github_token_enc  bytea  not null,             -- user's GitHub token, XChaCha20-Poly1305 (nonce || ciphertext)
    expires_at        timestamptz not null,
    last_used_at      timestamptz not null default now(),
    created_at        timestamptz not null default now()
);
comment on table sessions is 'signed-in sessions; the GitHub token is kept encrypted to re-check repo access';
create index sessions_user_idx on sessions(user_id);

-- OAuth web-flow states: single use, ten minutes.
create table oauth_states (
    state_hash     bytea primary key,              -- sha256 of the state sent to GitHub
    code_verifier  bytea not null,                 -- PKCE verifier, encrypted like GitHub tokens
    return_to      text,
    expires_at     timestamptz not null
);
comment on table oauth_states is 'pending GitHub OAuth sign-ins; a row is deleted when used';

-- Cache of what GitHub said a user may do on a repo (shared by all Lambda instances).
create table repo_access (
    user_id         bigint not null references users(id) on delete cascade,
    repo_full_name  text   not null,               -- lowercase owner/name
    permission      text   not null check (permission in ('none', 'read', 'write', 'admin')),
    checked_at      timestamptz not null default now(),
    primary key (user_id, repo_full_name)
);
comment on table repo_access is 'GitHub repo permission per user, trusted for a few minutes';

create table projects (
    project_id         text primary key,            -- public id, proj_…
    sentry_id          bigint generated always as identity unique, -- numeric id used in Sentry DSNs
    owner_id           bigint not null references users(id),
    repo_owner         text not null,
    repo_name          text not null,
    repo_full_name     text not null,               -- lowercase owner/name, unique among live projects
    platform           text,
    vercel_project_id  text,
    created_at         timestamptz not null default now(),
    deleted_at         timestamptz                  -- soft delete
);
comment on table projects is 'one project per GitHub repo; owns ingest keys and incidents';
create unique index projects_repo_live_idx on projects(repo_full_name) where deleted_at is null;

-- Ingest keys (`cairn_ik_…`): several per project so keys rotate without downtime.
create table ingest_keys (
    key_id      text primary key,                  -- public id, key_…
    project_id  text not null references projects(project_id),
    key_hash    bytea not null unique,             -- sha256 of the key; the key itself is shown once
    prefix      text not null,                     -- first characters, to recognise a key in lists
    created_by  bigint references users(id),
    created_at  timestamptz not null default now(),
    revoked_at  timestamptz
);
comment on table ingest_keys is 'per-project ingest keys, stored as hashes';
create index ingest_keys_project_idx on ingest_keys(project_id);

create table api_key_usage (
    key_id        text primary key references ingest_keys(key_id),
    project_id    text not null references projects(project_id),
    key_type      text not null default 'ingest',
    usage_count   bigint not null default 0,
    last_used_at  timestamptz
);
comment on table api_key_usage is 'usage per key, folded in from pending counts (no write to this row per event)';

-- Vercel deployments (filled by webhooks); ingest resolves a commit from a deployment id.
create table deployments (
    deployment_id  text primary key,               -- Vercel dpl_…
    project_id     text references projects(project_id),
    commit_sha     text,
    commit_ref     text,
    target         text,                           -- production / preview
    url            text,
    state          text,
    created_at     timestamptz not null default now(),
    updated_at     timestamptz not null default now()
);
comment on table deployments is 'deployments and the commit each runs';

create table incidents (
    incident_id       text primary key,            -- public id, inc_…
    project_id        text not null references projects(project_id),
    fingerprint       text not null,               -- grouping key, unique per project
    error_type        text,
    error_message     text not null,
    stack_trace       text,
    frames            jsonb not null default '[]', -- normalised frames, newest call first
    file_path         text,                        -- top in-app frame as first seen
    line_number       integer,
    column_number     integer,
    function          text,
    commit_sha        text,                        -- commit the incident was first seen at
    first_commit_sha  text,
    last_commit_sha   text,                        -- folded in from events
    deployment_id     text,
    environment       text,
    level             text not null default 'error',
    status            text not null default 'open' check (status in ('open', 'resolved')),
    occurred_at       timestamptz not null,        -- client time of the first event
    resolved_at       timestamptz,
    first_seen_at     timestamptz not null default now(),
    last_seen_at      timestamptz not null default now(),  -- folded in from events
    occurrence_count  bigint not null default 0,           -- folded in from events
    affected_users    bigint not null default 0,           -- folded in from events
    metadata          jsonb not null default '{}',
    unique (project_id, fingerprint)
);
comment on table incidents is 'errors grouped by fingerprint; counts are folded in from incident_counts_pending';
create index incidents_project_activity_idx on incidents(project_id, status, last_seen_at desc, incident_id desc);

-- One row per accepted event (append-only).
create table incident_events (
    id             bigint generated always as identity primary key,
    project_id     text not null references projects(project_id),
    incident_id    text not null references incidents(incident_id),
    event_id       text not null,                  -- client/SDK event id, unique per project: retries never double count
    received_at    timestamptz not null default now(),
    occurred_at    timestamptz not null,
    commit_sha     text,
    deployment_id  text,
    environment    text,
    release        text,
    user_hash      bytea,                          -- sha256 of the end-user id, never the id
    payload        jsonb not null,
    unique (project_id, event_id)
);
comment on table incident_events is 'accepted events; retention deletes old rows, incidents keep their counts';
create index incident_events_incident_idx on incident_events(incident_id, id desc);
create index incident_events_pending_deploy_idx on incident_events(deployment_id) where commit_sha is null;
create index incident_events_received_idx on incident_events(received_at);

-- Location of an incident as it was at each commit, so the IDE gets lines matching its checkout.
create table incident_commits (
    incident_id       text not null references incidents(incident_id),
    commit_sha        text not null,
    file_path         text,
    line_number       integer,
    column_number     integer,
    function          text,
    frames            jsonb not null default '[]',
    first_seen_at     timestamptz not null default now(),
    last_seen_at      timestamptz not null default now(),  -- folded in
    occurrence_count  bigint not null default 0,           -- folded in
    primary key (incident_id, commit_sha)
);
comment on table incident_commits is 'per incident and commit: location at that commit and counts';
create index incident_commits_commit_idx on incident_commits(commit_sha, incident_id);

create table incident_environments (
    incident_id  text not null references incidents(incident_id),
    environment  text not null,
    primary key (incident_id, environment)
);
comment on table incident_environments is 'environments an incident was seen in (for the environment filter)';

-- Affected end users per incident, hashed; affected_users counts rows here.
create table incident_users (
    incident_id  text not null references incidents(incident_id),
    user_hash    bytea not null,
    primary key (incident_id, user_hash)
);
comment on table incident_users is 'distinct end users (hashed) per incident';

-- Append-only queue of counts not yet folded into incidents, incident_commits and
-- api_key_usage. Ingest inserts here instead of updating one hot row per event; a folder
-- drains it in set-based batches with `for update skip locked`. Readers add what is still here.
create table incident_counts_pending (
    id           bigint generated always as identity primary key,
    incident_id  text not null,
    project_id   text not null,
    commit_sha   text,
    environment  text,
    key_id       text,
    seen_at      timestamptz not null,
    user_hash    bytea
);
comment on table incident_counts_pending is 'event counts waiting to be folded in (drained continuously)';
create index incident_counts_pending_incident_idx on incident_counts_pending(incident_id);

create table vercel_hooks (
    hook_id     text primary key,                  -- public id in the webhook URL, hook_…
    user_id     bigint not null references users(id),
    secret_enc  bytea not null,                    -- signing secret, encrypted (HMAC needs the plaintext)
    created_at  timestamptz not null default now(),
    deleted_at  timestamptz
);
comment on table vercel_hooks is 'connected Vercel teams (one signing secret each)';

create table webhook_deliveries (
    delivery_id  text primary key,                 -- Vercel webhook event id
    hook_id      text not null,
    event_type   text not null,
    received_at  timestamptz not null default now()
);
comment on table webhook_deliveries is 'Vercel deliveries seen: a redelivery is a no-op';

create table audit_log (
    id          bigint generated always as identity primary key,
    project_id  text,
    user_id     bigint references users(id),
    action      text not null,                     -- project.created, key.created, incident.resolved, …
    target      text,                              -- id of the object acted on
    details     jsonb not null default '{}',
    created_at  timestamptz not null default now()
);
comment on table audit_log is 'who did what, when';
create index audit_log_project_idx on audit_log(project_id, id desc);
