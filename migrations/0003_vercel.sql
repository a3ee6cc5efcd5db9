-- Vercel deployment webhooks: deployments learn their hook, their place in the state order and
-- their GitHub source; hooks learn their team; deliveries are deduplicated per hook; events
-- whose deployment is not yet known keep their location until the deployment says the commit.

-- Which hook reported a deployment: only that hook may update the row afterwards, so another
-- tenant's hook cannot rewrite a deployment it did not report.
alter table deployments add column hook_id text;
comment on column deployments.hook_id is 'vercel_hooks.hook_id of the hook that first reported this deployment; only it updates the row';

-- Deliveries arrive in any order; a state only replaces a lower one. Ranks: created 1;
-- error, canceled, succeeded 2 (terminal; between them the later webhook createdAt wins);
-- promoted 3. 0 for rows from before this migration.
alter table deployments add column state_rank smallint not null default 0;
comment on column deployments.state_rank is 'rank of state: created 1 < error/canceled/succeeded 2 < promoted 3; never lowered';
alter table deployments add column event_at timestamptz;
comment on column deployments.event_at is 'createdAt of the webhook that set state; breaks ties between states of equal rank';

alter table deployments add column name text;
comment on column deployments.name is 'Vercel project name as the deployment reports it';
alter table deployments add column vercel_project_id text;
comment on column deployments.vercel_project_id is 'Vercel project id (payload.project.id)';
alter table deployments add column team_id text;
comment on column deployments.team_id is 'Vercel team id (payload.team.id), null for personal accounts';
alter table deployments add column repo_full_name text;
comment on column deployments.repo_full_name is 'lowercase owner/name of the linked GitHub repo, null for non-GitHub deployments';
alter table deployments add column github_repo_id text;
comment on column deployments.github_repo_id is 'GitHub numeric repo id from meta.githubRepoId (survives renames)';

comment on column deployments.project_id is 'cairn project, set once when the hook owner administers the repo; null otherwise';
comment on column deployments.target is 'Vercel target as sent: production, staging or null (ingest maps non-production to preview)';
comment on column deployments.state is 'created, succeeded, error, canceled or promoted (see state_rank)';

-- Ingest resolves short SHAs and deployment ids within one project.
create index deployments_project_commit_idx on deployments(project_id, commit_sha);

-- A hook learns its Vercel team from its first delivery.
alter table vercel_hooks add column team_id text;
comment on column vercel_hooks.team_id is 'Vercel team id seen in deliveries (payload.team.id)';
alter table vercel_hooks add column last_delivery_at timestamptz;
comment on column vercel_hooks.last_delivery_at is 'when a signed delivery last arrived';
create index vercel_hooks_user_idx on vercel_hooks(user_id) where deleted_at is null;

-- Redelivery is deduplicated per hook: two hooks receiving the same Vercel event each process it.
alter table webhook_deliveries drop constraint webhook_deliveries_pkey;
alter table webhook_deliveries add primary key (hook_id, delivery_id);
comment on column webhook_deliveries.delivery_id is 'Vercel webhook event id; unique per hook';

-- The location of an event stored before its deployment was known (commit_sha null). When the
-- deployment arrives the event gets its commit, and this becomes its incident_commits row.
alter table incident_events add column pending_location jsonb;
comment on column incident_events.pending_location is 'top frame and frames of an event awaiting its deployment''s commit; cleared once filled in';
