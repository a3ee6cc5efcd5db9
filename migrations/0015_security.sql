-- Security hardening (issue 18, items 2, 5, 12).

-- Item 2: a browser sign-in is bound to the browser that started it. The login sets a cookie
-- holding a random value; only its SHA-256 is kept here, and the callback must present the
-- cookie. Rows made before this migration have none and are refused (they expire in ten
-- minutes anyway).
alter table oauth_states add column browser_hash bytea;
comment on column oauth_states.browser_hash is 'sha256 of the cookie value set on the browser that started the sign-in; the callback must present it';

-- Item 10: the sign-in routes count requests per client address per minute in the same table
-- (project_id holds `signin:login:<address>` or `signin:token:<address>`; retention sweeps
-- both kinds of rows after ten minutes).
comment on table rate_limit_windows is 'quota reserved per project per minute (CAIRN_RATE_LIMIT_PER_MINUTE), and sign-in requests per client address per minute (project_id signin:<route>:<address>)';

-- Item 12: a deployment belongs to the hook that reported it. Keyed by deployment id alone, the
-- first hook to name `dpl_X` owned it: any tenant could claim another's deployment id before
-- its real hook reported it, and the answer told whether the id existed elsewhere. Now each
-- hook has its own row per deployment id, so another tenant's row neither blocks nor shows.
-- (Keyed by the hook, not by the Vercel team id a delivery names: that id is whatever the
-- hook's owner signs, so it cannot separate tenants.)
alter table deployments drop constraint deployments_pkey;
create unique index deployments_hook_deployment_key on deployments (hook_id, deployment_id);
create index deployments_deployment_idx on deployments (deployment_id);
comment on table deployments is 'Vercel deployments and the commit each runs, one row per (reporting hook, deployment id): tenants never share a row';
comment on column deployments.hook_id is 'vercel_hooks.hook_id of the hook that reported this deployment; with deployment_id, the key of the row';

-- Item 5: events are scrubbed before they are stored (shared/src/scrub.rs), and end users' IP
-- addresses are removed unless the project opts in (PATCH /v1/projects/{id}).
alter table projects add column store_ip_addresses boolean not null default false;
comment on column projects.store_ip_addresses is 'keep end users'' IP addresses in stored events (user.ip_address, client-address headers); off unless an admin opts in';
comment on column incident_users.user_hash is 'HMAC-SHA256 of project id, '':'' and the end user''s id, email or IP, under a key derived from CAIRN_SECRET_KEY (never the id itself; unkeyed SHA-256 before migration 0015)';
comment on column incident_events.user_hash is 'the end user, hashed as incident_users.user_hash (keyed HMAC from migration 0015 on)';
