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
