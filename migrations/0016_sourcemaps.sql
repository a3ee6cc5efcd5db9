-- Source maps uploaded by Sentry's own tools (issue 19): sentry-cli, the bundler plugins and
-- @sentry/nextjs upload through Sentry's chunk-upload/assemble protocol with an upload token;
-- events whose frames point into minified JavaScript are resolved through the maps at ingest.
-- Everything lives here, in PostgreSQL: chunks until their bundle is assembled, then each
-- artifact by (project, debug id, kind), compressed by cairn (deflate) before it is stored.

-- Upload tokens (`sntrys_…`, Sentry's org-token format). Only sha256(token) is stored.
create table upload_tokens (
    token_id      text primary key,                -- public id, utok_…
    project_id    text not null references projects(project_id),
    token_hash    bytea not null unique,           -- sha256 of the whole token; the token is shown once
    name          text,                            -- what its creator called it (e.g. "vercel")
    created_by    bigint references users(id),
    created_at    timestamptz not null default now(),
    last_used_at  timestamptz,
    revoked_at    timestamptz                      -- refused from this instant on
);
comment on table upload_tokens is 'per-project tokens that may only upload source maps, stored as hashes';
create index upload_tokens_project_idx on upload_tokens(project_id);

-- Chunks of bundles not assembled yet. Per project: a token never sees another project's chunks.
create table upload_chunks (
    project_id  text not null references projects(project_id),
    checksum    text not null,                     -- SHA-1 hex of the uncompressed chunk (checked on upload)
    data        bytea not null,                    -- the chunk, uncompressed (a slice of a zip: compressing again gains nothing)
    created_at  timestamptz not null default now(),
    primary key (project_id, checksum)
);
comment on table upload_chunks is 'uploaded chunks waiting for assemble; deleted when assembled or after a day';
-- Zip data does not compress: stored out of line without TOAST trying.
alter table upload_chunks alter column data set storage external;

-- One row per assembled bundle.
create table artifact_bundles (
    bundle_id        text primary key,             -- public id, bun_…
    project_id       text not null references projects(project_id),
    checksum         text not null,                -- SHA-1 hex of the whole zip, as the uploader computed it
    bundle_debug_id  uuid,                         -- the manifest's own debug_id, if any
    release          text,                         -- the uploader's release (a commit SHA on Vercel), if any
    dist             text,
    artifact_count   integer not null,
    created_at       timestamptz not null default now(),
    last_used_at     timestamptz not null default now(), -- bumped (at most daily) when a frame is resolved through it; retention goes by it
    unique (project_id, checksum)
);
comment on table artifact_bundles is 'assembled artifact bundles; retention deletes those unused for CAIRN_RETENTION_DAYS';

-- The files of bundles that resolution uses. A debug id uploaded again points at the newer bundle.
create table artifacts (
    project_id  text not null references projects(project_id),
    debug_id    uuid not null,                     -- from the manifest's debug-id header (= the map's debugId)
    kind        text not null check (kind in ('source_map', 'minified_source')),
    bundle_id   text not null references artifact_bundles(bundle_id) on delete cascade,
    url         text,                              -- the uploader's URL for the file (`~/app.js.map`)
    size        integer not null,                  -- bytes, uncompressed
    content     bytea not null,                    -- zlib-deflated by cairn
    primary key (project_id, debug_id, kind)
);
comment on table artifacts is 'source maps and minified sources by debug id, compressed';
alter table artifacts alter column content set storage external;
create index artifacts_bundle_idx on artifacts(bundle_id);

-- Incidents whose events named a debug id with no map yet: when a bundle brings that id, these
-- incidents are given their resolved location, and the waits are deleted. Stored payloads drop
-- `debug_meta`, so the frame file the id was reported for is kept here.
create table sourcemap_waits (
    project_id   text not null references projects(project_id),
    debug_id     uuid not null,
    incident_id  text not null references incidents(incident_id),
    code_file    text not null,                    -- the image's code_file: frames whose abs_path (else filename) is this
    created_at   timestamptz not null default now(),
    primary key (project_id, debug_id, incident_id)
);
comment on table sourcemap_waits is 'incidents waiting for a source map that was not uploaded yet';
create index sourcemap_waits_incident_idx on sourcemap_waits(incident_id);

-- Releases the uploaders create, finalize and deploy: answered so builds never fail, and kept
-- when named by a commit SHA (the release is the commit on Vercel).
create table releases (
    project_id    text not null references projects(project_id),
    version       text not null,
    commit_sha    text,                            -- full lowercase SHA when the version holds one
    created_at    timestamptz not null default now(),
    finalized_at  timestamptz,
    primary key (project_id, version)
);
comment on table releases is 'releases announced by upload tools (release create/finalize)';
