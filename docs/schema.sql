-- The schema as migrations/ leave it: pg_dump --schema-only of a freshly migrated database.
-- Generated, do not edit: after adding a migration run `cargo run -p cairn -- schema > docs/schema.sql`
-- (tests/api/schema.rs checks this copy). The design: docs/ARCHITECTURE.md.

--
-- PostgreSQL database dump
--


--
-- Name: cairn_ingest_raced(); Type: FUNCTION; Schema: public; Owner: -
--

CREATE FUNCTION public.cairn_ingest_raced() RETURNS boolean
    LANGUAGE plpgsql
    AS $$
begin
    raise exception 'ingest raced a concurrent write, retry' using errcode = 'serialization_failure';
end
$$;


--
-- Name: FUNCTION cairn_ingest_raced(); Type: COMMENT; Schema: public; Owner: -
--

COMMENT ON FUNCTION public.cairn_ingest_raced() IS 'aborts an ingest statement that raced a concurrent one';


--
-- Name: api_key_usage; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.api_key_usage (
    key_id text NOT NULL,
    project_id text NOT NULL,
    key_type text DEFAULT 'ingest'::text NOT NULL,
    usage_count bigint DEFAULT 0 NOT NULL,
    last_used_at timestamp with time zone
);


--
-- Name: TABLE api_key_usage; Type: COMMENT; Schema: public; Owner: -
--

COMMENT ON TABLE public.api_key_usage IS 'usage per key, folded in from pending counts (no write to this row per event)';


--
-- Name: artifact_bundles; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.artifact_bundles (
    bundle_id text NOT NULL,
    project_id text NOT NULL,
    checksum text NOT NULL,
    bundle_debug_id uuid,
    release text,
    dist text,
    artifact_count integer NOT NULL,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    last_used_at timestamp with time zone DEFAULT now() NOT NULL
);


--
-- Name: TABLE artifact_bundles; Type: COMMENT; Schema: public; Owner: -
--

COMMENT ON TABLE public.artifact_bundles IS 'assembled artifact bundles; retention deletes those unused for CAIRN_RETENTION_DAYS';


--
-- Name: artifacts; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.artifacts (
    project_id text NOT NULL,
    debug_id uuid NOT NULL,
    kind text NOT NULL,
    bundle_id text NOT NULL,
    url text,
    size integer NOT NULL,
    content bytea NOT NULL,
    CONSTRAINT artifacts_kind_check CHECK ((kind = ANY (ARRAY['source_map'::text, 'minified_source'::text])))
);
ALTER TABLE ONLY public.artifacts ALTER COLUMN content SET STORAGE EXTERNAL;


--
-- Name: TABLE artifacts; Type: COMMENT; Schema: public; Owner: -
--

COMMENT ON TABLE public.artifacts IS 'source maps and minified sources by debug id, compressed';


--
-- Name: audit_log; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.audit_log (
    id bigint NOT NULL,
    project_id text,
    user_id bigint,
    action text NOT NULL,
    target text,
    details jsonb DEFAULT '{}'::jsonb NOT NULL,
    created_at timestamp with time zone DEFAULT now() NOT NULL
);


--
-- Name: TABLE audit_log; Type: COMMENT; Schema: public; Owner: -
--

COMMENT ON TABLE public.audit_log IS 'who did what, when';


--
-- Name: audit_log_id_seq; Type: SEQUENCE; Schema: public; Owner: -
--

ALTER TABLE public.audit_log ALTER COLUMN id ADD GENERATED ALWAYS AS IDENTITY (
    SEQUENCE NAME public.audit_log_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1
);


--
-- Name: comparison_files; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.comparison_files (
    comparison_id bigint NOT NULL,
    old_path text,
    new_path text,
    change jsonb,
    source text NOT NULL,
    CONSTRAINT comparison_files_source_check CHECK ((source = ANY (ARRAY['patch'::text, 'contents'::text, 'pending'::text])))
);


--
-- Name: TABLE comparison_files; Type: COMMENT; Schema: public; Owner: -
--

COMMENT ON TABLE public.comparison_files IS 'per compared file: its paths on both sides and how its lines moved';


--
-- Name: COLUMN comparison_files.old_path; Type: COMMENT; Schema: public; Owner: -
--

COMMENT ON COLUMN public.comparison_files.old_path IS 'path at the merge base; null for a file added or copied since';


--
-- Name: COLUMN comparison_files.new_path; Type: COMMENT; Schema: public; Owner: -
--

COMMENT ON COLUMN public.comparison_files.new_path IS 'path at head; null for a removed file; differs from old_path on a rename';


--
-- Name: COLUMN comparison_files.change; Type: COMMENT; Schema: public; Owner: -
--

COMMENT ON COLUMN public.comparison_files.change IS 'linemap::FileChange as JSON (modified with context-free hunks, added, deleted); null while pending';


--
-- Name: COLUMN comparison_files.source; Type: COMMENT; Schema: public; Owner: -
--

COMMENT ON COLUMN public.comparison_files.source IS 'patch: from GitHub''s per-file patch; contents: both versions fetched and diffed in-process; pending: listed without a patch, not fetched yet';


--
-- Name: comparisons; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.comparisons (
    comparison_id bigint NOT NULL,
    repo_full_name text NOT NULL,
    base_sha text NOT NULL,
    head_sha text NOT NULL,
    status text NOT NULL,
    merge_base_sha text NOT NULL,
    complete boolean NOT NULL,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    CONSTRAINT comparisons_status_check CHECK ((status = ANY (ARRAY['ahead'::text, 'behind'::text, 'diverged'::text, 'identical'::text])))
);


--
-- Name: TABLE comparisons; Type: COMMENT; Schema: public; Owner: -
--

COMMENT ON TABLE public.comparisons IS 'GitHub compare results per (repo, base, head), kept forever; the files are in comparison_files';


--
-- Name: COLUMN comparisons.merge_base_sha; Type: COMMENT; Schema: public; Owner: -
--

COMMENT ON COLUMN public.comparisons.merge_base_sha IS 'GitHub compares three-dot: comparison_files run from this commit to head_sha, not from base_sha';


--
-- Name: COLUMN comparisons.complete; Type: COMMENT; Schema: public; Owner: -
--

COMMENT ON COLUMN public.comparisons.complete IS 'when true, a file not in comparison_files is identical at merge base and head';


--
-- Name: comparisons_comparison_id_seq; Type: SEQUENCE; Schema: public; Owner: -
--

ALTER TABLE public.comparisons ALTER COLUMN comparison_id ADD GENERATED ALWAYS AS IDENTITY (
    SEQUENCE NAME public.comparisons_comparison_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1
);


--
-- Name: deployments; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.deployments (
    deployment_id text NOT NULL,
    project_id text,
    commit_sha text,
    commit_ref text,
    target text,
    url text,
    state text,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    updated_at timestamp with time zone DEFAULT now() NOT NULL,
    hook_id text,
    state_rank smallint DEFAULT 0 NOT NULL,
    event_at timestamp with time zone,
    name text,
    vercel_project_id text,
    team_id text,
    repo_full_name text,
    github_repo_id text
);


--
-- Name: TABLE deployments; Type: COMMENT; Schema: public; Owner: -
--

COMMENT ON TABLE public.deployments IS 'Vercel deployments and the commit each runs, one row per (reporting hook, deployment id): tenants never share a row';


--
-- Name: COLUMN deployments.project_id; Type: COMMENT; Schema: public; Owner: -
--

COMMENT ON COLUMN public.deployments.project_id IS 'cairn project, set once when the hook owner administers the repo; null otherwise';


--
-- Name: COLUMN deployments.target; Type: COMMENT; Schema: public; Owner: -
--

COMMENT ON COLUMN public.deployments.target IS 'Vercel target as sent: production, staging or null (ingest maps non-production to preview)';


--
-- Name: COLUMN deployments.state; Type: COMMENT; Schema: public; Owner: -
--

COMMENT ON COLUMN public.deployments.state IS 'created, succeeded, error, canceled or promoted (see state_rank)';


--
-- Name: COLUMN deployments.hook_id; Type: COMMENT; Schema: public; Owner: -
--

COMMENT ON COLUMN public.deployments.hook_id IS 'vercel_hooks.hook_id of the hook that reported this deployment; with deployment_id, the key of the row';


--
-- Name: COLUMN deployments.state_rank; Type: COMMENT; Schema: public; Owner: -
--

COMMENT ON COLUMN public.deployments.state_rank IS 'rank of state: created 1 < error/canceled/succeeded 2 < promoted 3; never lowered';


--
-- Name: COLUMN deployments.event_at; Type: COMMENT; Schema: public; Owner: -
--

COMMENT ON COLUMN public.deployments.event_at IS 'createdAt of the webhook that set state; breaks ties between states of equal rank';


--
-- Name: COLUMN deployments.name; Type: COMMENT; Schema: public; Owner: -
--

COMMENT ON COLUMN public.deployments.name IS 'Vercel project name as the deployment reports it';


--
-- Name: COLUMN deployments.vercel_project_id; Type: COMMENT; Schema: public; Owner: -
--

COMMENT ON COLUMN public.deployments.vercel_project_id IS 'Vercel project id (payload.project.id)';


--
-- Name: COLUMN deployments.team_id; Type: COMMENT; Schema: public; Owner: -
--

COMMENT ON COLUMN public.deployments.team_id IS 'Vercel team id (payload.team.id), null for personal accounts';


--
-- Name: COLUMN deployments.repo_full_name; Type: COMMENT; Schema: public; Owner: -
--

COMMENT ON COLUMN public.deployments.repo_full_name IS 'lowercase owner/name of the linked GitHub repo, null for non-GitHub deployments';


--
-- Name: COLUMN deployments.github_repo_id; Type: COMMENT; Schema: public; Owner: -
--

COMMENT ON COLUMN public.deployments.github_repo_id IS 'GitHub numeric repo id from meta.githubRepoId (survives renames)';


--
-- Name: incident_commit_frames; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.incident_commit_frames (
    incident_id text NOT NULL,
    commit_sha text NOT NULL,
    frames jsonb DEFAULT '[]'::jsonb NOT NULL
);
ALTER TABLE ONLY public.incident_commit_frames ALTER COLUMN frames SET STATISTICS 0;


--
-- Name: TABLE incident_commit_frames; Type: COMMENT; Schema: public; Owner: -
--

COMMENT ON TABLE public.incident_commit_frames IS 'the frames of an incident as located at a commit, beside its incident_commits row (same key), which folds rewrite; written once, from the first event seen there';


--
-- Name: COLUMN incident_commit_frames.frames; Type: COMMENT; Schema: public; Owner: -
--

COMMENT ON COLUMN public.incident_commit_frames.frames IS 'normalised frames, newest call first (as incident_details.frames)';


--
-- Name: incident_commits; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.incident_commits (
    incident_id text NOT NULL,
    commit_sha text NOT NULL,
    file_path text,
    line_number integer,
    column_number integer,
    function text,
    first_seen_at timestamp with time zone DEFAULT now() NOT NULL,
    last_seen_at timestamp with time zone DEFAULT now() NOT NULL,
    occurrence_count bigint DEFAULT 0 NOT NULL,
    activity_at timestamp with time zone DEFAULT now() NOT NULL,
    project_id text NOT NULL
)
WITH (fillfactor='80');


--
-- Name: TABLE incident_commits; Type: COMMENT; Schema: public; Owner: -
--

COMMENT ON TABLE public.incident_commits IS 'per incident and commit: location at that commit and counts';


--
-- Name: COLUMN incident_commits.activity_at; Type: COMMENT; Schema: public; Owner: -
--

COMMENT ON COLUMN public.incident_commits.activity_at IS 'sort key at this commit: last_seen_at at one-minute resolution';


--
-- Name: COLUMN incident_commits.project_id; Type: COMMENT; Schema: public; Owner: -
--

COMMENT ON COLUMN public.incident_commits.project_id IS 'the incident''s project (copied: the list at a commit is one index range)';


--
-- Name: incident_counts_batches; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.incident_counts_batches (
    id bigint NOT NULL,
    seen_at timestamp with time zone NOT NULL,
    incident_ids text[] NOT NULL,
    commit_shas text[] NOT NULL,
    environments text[] NOT NULL,
    key_ids text[] NOT NULL,
    counts integer[] NOT NULL,
    user_incidents text[] NOT NULL,
    user_hashes bytea[] NOT NULL
);
ALTER TABLE ONLY public.incident_counts_batches ALTER COLUMN incident_ids SET COMPRESSION lz4;
ALTER TABLE ONLY public.incident_counts_batches ALTER COLUMN commit_shas SET COMPRESSION lz4;
ALTER TABLE ONLY public.incident_counts_batches ALTER COLUMN environments SET COMPRESSION lz4;
ALTER TABLE ONLY public.incident_counts_batches ALTER COLUMN key_ids SET COMPRESSION lz4;
ALTER TABLE ONLY public.incident_counts_batches ALTER COLUMN counts SET COMPRESSION lz4;
ALTER TABLE ONLY public.incident_counts_batches ALTER COLUMN user_incidents SET COMPRESSION lz4;
ALTER TABLE ONLY public.incident_counts_batches ALTER COLUMN user_hashes SET COMPRESSION lz4;


--
-- Name: TABLE incident_counts_batches; Type: COMMENT; Schema: public; Owner: -
--

COMMENT ON TABLE public.incident_counts_batches IS 'event counts waiting to be folded in, one row per ingest statement (drained continuously)';


--
-- Name: incident_counts_batches_id_seq; Type: SEQUENCE; Schema: public; Owner: -
--

ALTER TABLE public.incident_counts_batches ALTER COLUMN id ADD GENERATED ALWAYS AS IDENTITY (
    SEQUENCE NAME public.incident_counts_batches_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1
);


--
-- Name: incident_details; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.incident_details (
    incident_id text NOT NULL,
    stack_trace text,
    frames jsonb DEFAULT '[]'::jsonb NOT NULL,
    metadata jsonb DEFAULT '{}'::jsonb NOT NULL
);
ALTER TABLE ONLY public.incident_details ALTER COLUMN stack_trace SET STATISTICS 0;
ALTER TABLE ONLY public.incident_details ALTER COLUMN frames SET STATISTICS 0;
ALTER TABLE ONLY public.incident_details ALTER COLUMN metadata SET STATISTICS 0;


--
-- Name: TABLE incident_details; Type: COMMENT; Schema: public; Owner: -
--

COMMENT ON TABLE public.incident_details IS 'an incident''s documents, written once with the incident from the event that created it; kept apart from incidents, whose row every fold rewrites';


--
-- Name: COLUMN incident_details.incident_id; Type: COMMENT; Schema: public; Owner: -
--

COMMENT ON COLUMN public.incident_details.incident_id IS 'incidents.incident_id (no foreign key: the ingest statement writes both rows)';


--
-- Name: COLUMN incident_details.stack_trace; Type: COMMENT; Schema: public; Owner: -
--

COMMENT ON COLUMN public.incident_details.stack_trace IS 'the stack trace text as the runtime printed it, when the event sent text (at most 64 KiB)';


--
-- Name: COLUMN incident_details.frames; Type: COMMENT; Schema: public; Owner: -
--

COMMENT ON COLUMN public.incident_details.frames IS 'normalised frames, newest call first: [{file_path (repo-relative), line_number, column_number, function, in_app}]';


--
-- Name: COLUMN incident_details.metadata; Type: COMMENT; Schema: public; Owner: -
--

COMMENT ON COLUMN public.incident_details.metadata IS 'the event''s metadata object, with its tags under "tags" (at most 64 KiB of JSON, else {"truncated": true})';


--
-- Name: incident_environments; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.incident_environments (
    incident_id text NOT NULL,
    environment text NOT NULL
);


--
-- Name: TABLE incident_environments; Type: COMMENT; Schema: public; Owner: -
--

COMMENT ON TABLE public.incident_environments IS 'environments an incident was seen in (for the environment filter)';


--
-- Name: incident_events; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.incident_events (
    id bigint NOT NULL,
    project_id text NOT NULL,
    incident_id text NOT NULL,
    event_id text NOT NULL,
    received_at timestamp with time zone DEFAULT now() NOT NULL,
    occurred_at timestamp with time zone NOT NULL,
    commit_sha text,
    deployment_id text,
    environment text,
    release text,
    user_hash bytea,
    payload jsonb NOT NULL,
    pending_location jsonb
);
ALTER TABLE ONLY public.incident_events ALTER COLUMN payload SET STATISTICS 0;
ALTER TABLE ONLY public.incident_events ALTER COLUMN payload SET COMPRESSION lz4;
ALTER TABLE ONLY public.incident_events ALTER COLUMN pending_location SET STATISTICS 0;


--
-- Name: TABLE incident_events; Type: COMMENT; Schema: public; Owner: -
--

COMMENT ON TABLE public.incident_events IS 'accepted events; retention deletes old rows, incidents keep their counts';


--
-- Name: COLUMN incident_events.user_hash; Type: COMMENT; Schema: public; Owner: -
--

COMMENT ON COLUMN public.incident_events.user_hash IS 'the end user, hashed as incident_users.user_hash (keyed HMAC from migration 0015 on)';


--
-- Name: COLUMN incident_events.pending_location; Type: COMMENT; Schema: public; Owner: -
--

COMMENT ON COLUMN public.incident_events.pending_location IS 'top frame and frames of an event awaiting its deployment''s commit; cleared once filled in';


--
-- Name: incident_events_id_seq; Type: SEQUENCE; Schema: public; Owner: -
--

ALTER TABLE public.incident_events ALTER COLUMN id ADD GENERATED ALWAYS AS IDENTITY (
    SEQUENCE NAME public.incident_events_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1
);


--
-- Name: incident_users; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.incident_users (
    incident_id text NOT NULL,
    user_hash bytea NOT NULL
);


--
-- Name: TABLE incident_users; Type: COMMENT; Schema: public; Owner: -
--

COMMENT ON TABLE public.incident_users IS 'distinct end users (hashed) per incident';


--
-- Name: COLUMN incident_users.user_hash; Type: COMMENT; Schema: public; Owner: -
--

COMMENT ON COLUMN public.incident_users.user_hash IS 'HMAC-SHA256 of project id, '':'' and the end user''s id, email or IP, under a key derived from CAIRN_SECRET_KEY (never the id itself; unkeyed SHA-256 before migration 0015)';


--
-- Name: incidents; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.incidents (
    incident_id text NOT NULL,
    project_id text NOT NULL,
    fingerprint text NOT NULL,
    error_type text,
    error_message text NOT NULL,
    file_path text,
    line_number integer,
    column_number integer,
    function text,
    commit_sha text,
    first_commit_sha text,
    last_commit_sha text,
    deployment_id text,
    environment text,
    level text DEFAULT 'error'::text NOT NULL,
    status text DEFAULT 'open'::text NOT NULL,
    occurred_at timestamp with time zone NOT NULL,
    resolved_at timestamp with time zone,
    first_seen_at timestamp with time zone DEFAULT now() NOT NULL,
    last_seen_at timestamp with time zone DEFAULT now() NOT NULL,
    occurrence_count bigint DEFAULT 0 NOT NULL,
    affected_users bigint DEFAULT 0 NOT NULL,
    activity_at timestamp with time zone DEFAULT now() NOT NULL,
    CONSTRAINT incidents_status_check CHECK ((status = ANY (ARRAY['open'::text, 'resolved'::text])))
)
WITH (fillfactor='80');


--
-- Name: TABLE incidents; Type: COMMENT; Schema: public; Owner: -
--

COMMENT ON TABLE public.incidents IS 'errors grouped by fingerprint; counts are folded in from incident_counts_batches';


--
-- Name: COLUMN incidents.activity_at; Type: COMMENT; Schema: public; Owner: -
--

COMMENT ON COLUMN public.incidents.activity_at IS 'sort key of the lists: last_seen_at at one-minute resolution';


--
-- Name: ingest_keys; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.ingest_keys (
    key_id text NOT NULL,
    project_id text NOT NULL,
    key_hash bytea NOT NULL,
    prefix text NOT NULL,
    created_by bigint,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    revoked_at timestamp with time zone
);


--
-- Name: TABLE ingest_keys; Type: COMMENT; Schema: public; Owner: -
--

COMMENT ON TABLE public.ingest_keys IS 'per-project ingest keys, stored as hashes';


--
-- Name: oauth_states; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.oauth_states (
    state_hash bytea NOT NULL,
    code_verifier bytea NOT NULL,
    return_to text,
    expires_at timestamp with time zone NOT NULL,
    browser_hash bytea
);


--
-- Name: TABLE oauth_states; Type: COMMENT; Schema: public; Owner: -
--

COMMENT ON TABLE public.oauth_states IS 'pending GitHub OAuth sign-ins; a row is deleted when used';


--
-- Name: COLUMN oauth_states.browser_hash; Type: COMMENT; Schema: public; Owner: -
--

COMMENT ON COLUMN public.oauth_states.browser_hash IS 'sha256 of the cookie value set on the browser that started the sign-in; the callback must present it';


--
-- Name: projects; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.projects (
    project_id text NOT NULL,
    sentry_id bigint NOT NULL,
    owner_id bigint NOT NULL,
    repo_owner text NOT NULL,
    repo_name text NOT NULL,
    repo_full_name text NOT NULL,
    platform text,
    vercel_project_id text,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    deleted_at timestamp with time zone,
    github_repo_id bigint,
    store_ip_addresses boolean DEFAULT false NOT NULL
);


--
-- Name: TABLE projects; Type: COMMENT; Schema: public; Owner: -
--

COMMENT ON TABLE public.projects IS 'one project per GitHub repo; owns ingest keys and incidents';


--
-- Name: COLUMN projects.repo_full_name; Type: COMMENT; Schema: public; Owner: -
--

COMMENT ON COLUMN public.projects.repo_full_name IS 'lowercase owner/name as GitHub last reported it; a name, not an identity (see github_repo_id)';


--
-- Name: COLUMN projects.github_repo_id; Type: COMMENT; Schema: public; Owner: -
--

COMMENT ON COLUMN public.projects.github_repo_id IS 'GitHub''s numeric repository id, stable across renames and transfers; null only for projects made before migration 0014 until their first check';


--
-- Name: COLUMN projects.store_ip_addresses; Type: COMMENT; Schema: public; Owner: -
--

COMMENT ON COLUMN public.projects.store_ip_addresses IS 'keep end users'' IP addresses in stored events (user.ip_address, client-address headers); off unless an admin opts in';


--
-- Name: projects_sentry_id_seq; Type: SEQUENCE; Schema: public; Owner: -
--

ALTER TABLE public.projects ALTER COLUMN sentry_id ADD GENERATED ALWAYS AS IDENTITY (
    SEQUENCE NAME public.projects_sentry_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1
);


--
-- Name: rate_limit_windows; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.rate_limit_windows (
    project_id text NOT NULL,
    window_start timestamp with time zone NOT NULL,
    used bigint NOT NULL
);


--
-- Name: TABLE rate_limit_windows; Type: COMMENT; Schema: public; Owner: -
--

COMMENT ON TABLE public.rate_limit_windows IS 'quota reserved per project per minute (CAIRN_RATE_LIMIT_PER_MINUTE), and sign-in requests per client address per minute (project_id signin:<route>:<address>)';


--
-- Name: releases; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.releases (
    project_id text NOT NULL,
    version text NOT NULL,
    commit_sha text,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    finalized_at timestamp with time zone
);


--
-- Name: TABLE releases; Type: COMMENT; Schema: public; Owner: -
--

COMMENT ON TABLE public.releases IS 'releases announced by upload tools (release create/finalize)';


--
-- Name: repo_access; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.repo_access (
    session_id bigint NOT NULL,
    asked text NOT NULL,
    github_repo_id bigint,
    permission text NOT NULL,
    checked_at timestamp with time zone DEFAULT now() NOT NULL,
    CONSTRAINT repo_access_permission_check CHECK ((permission = ANY (ARRAY['none'::text, 'read'::text, 'write'::text, 'admin'::text])))
);


--
-- Name: TABLE repo_access; Type: COMMENT; Schema: public; Owner: -
--

COMMENT ON TABLE public.repo_access IS 'what GitHub said one session''s token may do on a repo: only definite answers (200, 404), trusted for a few minutes (one minute for writes and admin actions)';


--
-- Name: COLUMN repo_access.asked; Type: COMMENT; Schema: public; Owner: -
--

COMMENT ON COLUMN public.repo_access.asked IS 'lowercase owner/name for a check by name, ''#<id>'' for a check by repository id';


--
-- Name: COLUMN repo_access.github_repo_id; Type: COMMENT; Schema: public; Owner: -
--

COMMENT ON COLUMN public.repo_access.github_repo_id IS 'GitHub''s id of the repo the answer is about; a check by id reuses any fresh row of the same id';


--
-- Name: sessions; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.sessions (
    id bigint NOT NULL,
    token_hash bytea NOT NULL,
    user_id bigint NOT NULL,
    github_token_enc bytea NOT NULL,
    expires_at timestamp with time zone NOT NULL,
    last_used_at timestamp with time zone DEFAULT now() NOT NULL,
    created_at timestamp with time zone DEFAULT now() NOT NULL
);


--
-- Name: TABLE sessions; Type: COMMENT; Schema: public; Owner: -
--

COMMENT ON TABLE public.sessions IS 'signed-in sessions; the GitHub token is kept encrypted to re-check repo access';


--
-- Name: sessions_id_seq; Type: SEQUENCE; Schema: public; Owner: -
--

ALTER TABLE public.sessions ALTER COLUMN id ADD GENERATED ALWAYS AS IDENTITY (
    SEQUENCE NAME public.sessions_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1
);


--
-- Name: sourcemap_waits; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.sourcemap_waits (
    project_id text NOT NULL,
    debug_id uuid NOT NULL,
    incident_id text NOT NULL,
    code_file text NOT NULL,
    created_at timestamp with time zone DEFAULT now() NOT NULL
);


--
-- Name: TABLE sourcemap_waits; Type: COMMENT; Schema: public; Owner: -
--

COMMENT ON TABLE public.sourcemap_waits IS 'incidents waiting for a source map that was not uploaded yet';


--
-- Name: upload_chunks; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.upload_chunks (
    project_id text NOT NULL,
    checksum text NOT NULL,
    data bytea NOT NULL,
    created_at timestamp with time zone DEFAULT now() NOT NULL
);
ALTER TABLE ONLY public.upload_chunks ALTER COLUMN data SET STORAGE EXTERNAL;


--
-- Name: TABLE upload_chunks; Type: COMMENT; Schema: public; Owner: -
--

COMMENT ON TABLE public.upload_chunks IS 'uploaded chunks waiting for assemble; deleted when assembled or after a day';


--
-- Name: upload_tokens; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.upload_tokens (
    token_id text NOT NULL,
    project_id text NOT NULL,
    token_hash bytea NOT NULL,
    name text,
    created_by bigint,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    last_used_at timestamp with time zone,
    revoked_at timestamp with time zone
);


--
-- Name: TABLE upload_tokens; Type: COMMENT; Schema: public; Owner: -
--

COMMENT ON TABLE public.upload_tokens IS 'per-project tokens that may only upload source maps, stored as hashes';


--
-- Name: users; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.users (
    id bigint NOT NULL,
    github_id bigint NOT NULL,
    github_login text NOT NULL,
    github_email text,
    avatar_url text,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    updated_at timestamp with time zone DEFAULT now() NOT NULL
);


--
-- Name: TABLE users; Type: COMMENT; Schema: public; Owner: -
--

COMMENT ON TABLE public.users IS 'GitHub users who signed in to cairn';


--
-- Name: users_id_seq; Type: SEQUENCE; Schema: public; Owner: -
--

ALTER TABLE public.users ALTER COLUMN id ADD GENERATED ALWAYS AS IDENTITY (
    SEQUENCE NAME public.users_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1
);


--
-- Name: vercel_hooks; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.vercel_hooks (
    hook_id text NOT NULL,
    user_id bigint NOT NULL,
    secret_enc bytea NOT NULL,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    deleted_at timestamp with time zone,
    team_id text,
    last_delivery_at timestamp with time zone
);


--
-- Name: TABLE vercel_hooks; Type: COMMENT; Schema: public; Owner: -
--

COMMENT ON TABLE public.vercel_hooks IS 'connected Vercel teams (one signing secret each)';


--
-- Name: COLUMN vercel_hooks.team_id; Type: COMMENT; Schema: public; Owner: -
--

COMMENT ON COLUMN public.vercel_hooks.team_id IS 'Vercel team id seen in deliveries (payload.team.id)';


--
-- Name: COLUMN vercel_hooks.last_delivery_at; Type: COMMENT; Schema: public; Owner: -
--

COMMENT ON COLUMN public.vercel_hooks.last_delivery_at IS 'when a signed delivery last arrived';


--
-- Name: webhook_deliveries; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.webhook_deliveries (
    delivery_id text NOT NULL,
    hook_id text NOT NULL,
    event_type text NOT NULL,
    received_at timestamp with time zone DEFAULT now() NOT NULL
);


--
-- Name: TABLE webhook_deliveries; Type: COMMENT; Schema: public; Owner: -
--

COMMENT ON TABLE public.webhook_deliveries IS 'Vercel deliveries seen: a redelivery is a no-op';


--
-- Name: COLUMN webhook_deliveries.delivery_id; Type: COMMENT; Schema: public; Owner: -
--

COMMENT ON COLUMN public.webhook_deliveries.delivery_id IS 'Vercel webhook event id; unique per hook';


--
-- Name: api_key_usage api_key_usage_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.api_key_usage
    ADD CONSTRAINT api_key_usage_pkey PRIMARY KEY (key_id);


--
-- Name: artifact_bundles artifact_bundles_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.artifact_bundles
    ADD CONSTRAINT artifact_bundles_pkey PRIMARY KEY (bundle_id);


--
-- Name: artifact_bundles artifact_bundles_project_id_checksum_key; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.artifact_bundles
    ADD CONSTRAINT artifact_bundles_project_id_checksum_key UNIQUE (project_id, checksum);


--
-- Name: artifacts artifacts_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.artifacts
    ADD CONSTRAINT artifacts_pkey PRIMARY KEY (project_id, debug_id, kind);


--
-- Name: audit_log audit_log_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.audit_log
    ADD CONSTRAINT audit_log_pkey PRIMARY KEY (id);


--
-- Name: comparison_files comparison_files_comparison_id_new_path_key; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.comparison_files
    ADD CONSTRAINT comparison_files_comparison_id_new_path_key UNIQUE (comparison_id, new_path);


--
-- Name: comparison_files comparison_files_comparison_id_old_path_key; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.comparison_files
    ADD CONSTRAINT comparison_files_comparison_id_old_path_key UNIQUE (comparison_id, old_path);


--
-- Name: comparisons comparisons_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.comparisons
    ADD CONSTRAINT comparisons_pkey PRIMARY KEY (comparison_id);


--
-- Name: comparisons comparisons_repo_full_name_base_sha_head_sha_key; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.comparisons
    ADD CONSTRAINT comparisons_repo_full_name_base_sha_head_sha_key UNIQUE (repo_full_name, base_sha, head_sha);


--
-- Name: incident_commit_frames incident_commit_frames_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.incident_commit_frames
    ADD CONSTRAINT incident_commit_frames_pkey PRIMARY KEY (incident_id, commit_sha);


--
-- Name: incident_commits incident_commits_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.incident_commits
    ADD CONSTRAINT incident_commits_pkey PRIMARY KEY (incident_id, commit_sha);


--
-- Name: incident_counts_batches incident_counts_batches_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.incident_counts_batches
    ADD CONSTRAINT incident_counts_batches_pkey PRIMARY KEY (id);


--
-- Name: incident_details incident_details_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.incident_details
    ADD CONSTRAINT incident_details_pkey PRIMARY KEY (incident_id);


--
-- Name: incident_environments incident_environments_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.incident_environments
    ADD CONSTRAINT incident_environments_pkey PRIMARY KEY (incident_id, environment);


--
-- Name: incident_events incident_events_project_id_event_id_key; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.incident_events
    ADD CONSTRAINT incident_events_project_id_event_id_key UNIQUE (project_id, event_id);


--
-- Name: incident_users incident_users_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.incident_users
    ADD CONSTRAINT incident_users_pkey PRIMARY KEY (incident_id, user_hash);


--
-- Name: incidents incidents_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.incidents
    ADD CONSTRAINT incidents_pkey PRIMARY KEY (incident_id);


--
-- Name: incidents incidents_project_id_fingerprint_key; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.incidents
    ADD CONSTRAINT incidents_project_id_fingerprint_key UNIQUE (project_id, fingerprint);


--
-- Name: ingest_keys ingest_keys_key_hash_key; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.ingest_keys
    ADD CONSTRAINT ingest_keys_key_hash_key UNIQUE (key_hash);


--
-- Name: ingest_keys ingest_keys_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.ingest_keys
    ADD CONSTRAINT ingest_keys_pkey PRIMARY KEY (key_id);


--
-- Name: oauth_states oauth_states_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.oauth_states
    ADD CONSTRAINT oauth_states_pkey PRIMARY KEY (state_hash);


--
-- Name: projects projects_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.projects
    ADD CONSTRAINT projects_pkey PRIMARY KEY (project_id);


--
-- Name: projects projects_sentry_id_key; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.projects
    ADD CONSTRAINT projects_sentry_id_key UNIQUE (sentry_id);


--
-- Name: rate_limit_windows rate_limit_windows_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.rate_limit_windows
    ADD CONSTRAINT rate_limit_windows_pkey PRIMARY KEY (project_id, window_start);


--
-- Name: releases releases_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.releases
    ADD CONSTRAINT releases_pkey PRIMARY KEY (project_id, version);


--
-- Name: repo_access repo_access_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.repo_access
    ADD CONSTRAINT repo_access_pkey PRIMARY KEY (session_id, asked);


--
-- Name: sessions sessions_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.sessions
    ADD CONSTRAINT sessions_pkey PRIMARY KEY (id);


--
-- Name: sessions sessions_token_hash_key; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.sessions
    ADD CONSTRAINT sessions_token_hash_key UNIQUE (token_hash);


--
-- Name: sourcemap_waits sourcemap_waits_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.sourcemap_waits
    ADD CONSTRAINT sourcemap_waits_pkey PRIMARY KEY (project_id, debug_id, incident_id);


--
-- Name: upload_chunks upload_chunks_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.upload_chunks
    ADD CONSTRAINT upload_chunks_pkey PRIMARY KEY (project_id, checksum);


--
-- Name: upload_tokens upload_tokens_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.upload_tokens
    ADD CONSTRAINT upload_tokens_pkey PRIMARY KEY (token_id);


--
-- Name: upload_tokens upload_tokens_token_hash_key; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.upload_tokens
    ADD CONSTRAINT upload_tokens_token_hash_key UNIQUE (token_hash);


--
-- Name: users users_github_id_key; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.users
    ADD CONSTRAINT users_github_id_key UNIQUE (github_id);


--
-- Name: users users_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.users
    ADD CONSTRAINT users_pkey PRIMARY KEY (id);


--
-- Name: vercel_hooks vercel_hooks_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.vercel_hooks
    ADD CONSTRAINT vercel_hooks_pkey PRIMARY KEY (hook_id);


--
-- Name: webhook_deliveries webhook_deliveries_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.webhook_deliveries
    ADD CONSTRAINT webhook_deliveries_pkey PRIMARY KEY (hook_id, delivery_id);


--
-- Name: artifacts_bundle_idx; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX artifacts_bundle_idx ON public.artifacts USING btree (bundle_id);


--
-- Name: audit_log_project_idx; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX audit_log_project_idx ON public.audit_log USING btree (project_id, id DESC);


--
-- Name: deployments_deployment_idx; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX deployments_deployment_idx ON public.deployments USING btree (deployment_id);


--
-- Name: deployments_hook_deployment_key; Type: INDEX; Schema: public; Owner: -
--

CREATE UNIQUE INDEX deployments_hook_deployment_key ON public.deployments USING btree (hook_id, deployment_id);


--
-- Name: deployments_project_commit_idx; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX deployments_project_commit_idx ON public.deployments USING btree (project_id, commit_sha);


--
-- Name: incident_commits_activity_idx; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX incident_commits_activity_idx ON public.incident_commits USING btree (commit_sha, project_id, activity_at DESC, incident_id DESC);


--
-- Name: incident_events_incident_idx; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX incident_events_incident_idx ON public.incident_events USING btree (incident_id, id DESC);


--
-- Name: incident_events_pending_deploy_idx; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX incident_events_pending_deploy_idx ON public.incident_events USING btree (deployment_id) WHERE (commit_sha IS NULL);


--
-- Name: incident_events_received_brin; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX incident_events_received_brin ON public.incident_events USING brin (received_at);


--
-- Name: incidents_project_activity_idx; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX incidents_project_activity_idx ON public.incidents USING btree (project_id, status, activity_at DESC, incident_id DESC);


--
-- Name: ingest_keys_project_idx; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX ingest_keys_project_idx ON public.ingest_keys USING btree (project_id);


--
-- Name: projects_legacy_repo_live_idx; Type: INDEX; Schema: public; Owner: -
--

CREATE UNIQUE INDEX projects_legacy_repo_live_idx ON public.projects USING btree (repo_full_name) WHERE ((deleted_at IS NULL) AND (github_repo_id IS NULL));


--
-- Name: projects_repo_full_name_idx; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX projects_repo_full_name_idx ON public.projects USING btree (repo_full_name) WHERE (deleted_at IS NULL);


--
-- Name: projects_repo_id_live_idx; Type: INDEX; Schema: public; Owner: -
--

CREATE UNIQUE INDEX projects_repo_id_live_idx ON public.projects USING btree (github_repo_id) WHERE ((deleted_at IS NULL) AND (github_repo_id IS NOT NULL));


--
-- Name: repo_access_repo_id_idx; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX repo_access_repo_id_idx ON public.repo_access USING btree (session_id, github_repo_id) WHERE (github_repo_id IS NOT NULL);


--
-- Name: sessions_user_idx; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX sessions_user_idx ON public.sessions USING btree (user_id);


--
-- Name: sourcemap_waits_incident_idx; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX sourcemap_waits_incident_idx ON public.sourcemap_waits USING btree (incident_id);


--
-- Name: upload_tokens_project_idx; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX upload_tokens_project_idx ON public.upload_tokens USING btree (project_id);


--
-- Name: vercel_hooks_user_idx; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX vercel_hooks_user_idx ON public.vercel_hooks USING btree (user_id) WHERE (deleted_at IS NULL);


--
-- Name: api_key_usage api_key_usage_key_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.api_key_usage
    ADD CONSTRAINT api_key_usage_key_id_fkey FOREIGN KEY (key_id) REFERENCES public.ingest_keys(key_id);


--
-- Name: api_key_usage api_key_usage_project_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.api_key_usage
    ADD CONSTRAINT api_key_usage_project_id_fkey FOREIGN KEY (project_id) REFERENCES public.projects(project_id);


--
-- Name: artifact_bundles artifact_bundles_project_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.artifact_bundles
    ADD CONSTRAINT artifact_bundles_project_id_fkey FOREIGN KEY (project_id) REFERENCES public.projects(project_id);


--
-- Name: artifacts artifacts_bundle_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.artifacts
    ADD CONSTRAINT artifacts_bundle_id_fkey FOREIGN KEY (bundle_id) REFERENCES public.artifact_bundles(bundle_id) ON DELETE CASCADE;


--
-- Name: artifacts artifacts_project_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.artifacts
    ADD CONSTRAINT artifacts_project_id_fkey FOREIGN KEY (project_id) REFERENCES public.projects(project_id);


--
-- Name: audit_log audit_log_user_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.audit_log
    ADD CONSTRAINT audit_log_user_id_fkey FOREIGN KEY (user_id) REFERENCES public.users(id);


--
-- Name: comparison_files comparison_files_comparison_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.comparison_files
    ADD CONSTRAINT comparison_files_comparison_id_fkey FOREIGN KEY (comparison_id) REFERENCES public.comparisons(comparison_id) ON DELETE CASCADE;


--
-- Name: deployments deployments_project_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.deployments
    ADD CONSTRAINT deployments_project_id_fkey FOREIGN KEY (project_id) REFERENCES public.projects(project_id);


--
-- Name: incidents incidents_project_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.incidents
    ADD CONSTRAINT incidents_project_id_fkey FOREIGN KEY (project_id) REFERENCES public.projects(project_id);


--
-- Name: ingest_keys ingest_keys_created_by_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.ingest_keys
    ADD CONSTRAINT ingest_keys_created_by_fkey FOREIGN KEY (created_by) REFERENCES public.users(id);


--
-- Name: ingest_keys ingest_keys_project_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.ingest_keys
    ADD CONSTRAINT ingest_keys_project_id_fkey FOREIGN KEY (project_id) REFERENCES public.projects(project_id);


--
-- Name: projects projects_owner_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.projects
    ADD CONSTRAINT projects_owner_id_fkey FOREIGN KEY (owner_id) REFERENCES public.users(id);


--
-- Name: releases releases_project_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.releases
    ADD CONSTRAINT releases_project_id_fkey FOREIGN KEY (project_id) REFERENCES public.projects(project_id);


--
-- Name: repo_access repo_access_session_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.repo_access
    ADD CONSTRAINT repo_access_session_id_fkey FOREIGN KEY (session_id) REFERENCES public.sessions(id) ON DELETE CASCADE;


--
-- Name: sessions sessions_user_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.sessions
    ADD CONSTRAINT sessions_user_id_fkey FOREIGN KEY (user_id) REFERENCES public.users(id) ON DELETE CASCADE;


--
-- Name: sourcemap_waits sourcemap_waits_incident_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.sourcemap_waits
    ADD CONSTRAINT sourcemap_waits_incident_id_fkey FOREIGN KEY (incident_id) REFERENCES public.incidents(incident_id);


--
-- Name: sourcemap_waits sourcemap_waits_project_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.sourcemap_waits
    ADD CONSTRAINT sourcemap_waits_project_id_fkey FOREIGN KEY (project_id) REFERENCES public.projects(project_id);


--
-- Name: upload_chunks upload_chunks_project_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.upload_chunks
    ADD CONSTRAINT upload_chunks_project_id_fkey FOREIGN KEY (project_id) REFERENCES public.projects(project_id);


--
-- Name: upload_tokens upload_tokens_created_by_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.upload_tokens
    ADD CONSTRAINT upload_tokens_created_by_fkey FOREIGN KEY (created_by) REFERENCES public.users(id);


--
-- Name: upload_tokens upload_tokens_project_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.upload_tokens
    ADD CONSTRAINT upload_tokens_project_id_fkey FOREIGN KEY (project_id) REFERENCES public.projects(project_id);


--
-- Name: vercel_hooks vercel_hooks_user_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.vercel_hooks
    ADD CONSTRAINT vercel_hooks_user_id_fkey FOREIGN KEY (user_id) REFERENCES public.users(id);


--
-- PostgreSQL database dump complete
--
