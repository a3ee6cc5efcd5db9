// Built by esbuild (--bundle --minify --sourcemap, @sentry/node left external), then
// `sentry-cli sourcemaps inject` and `upload`; run with CAIRN_DSN and COMMIT_SHA.
const Sentry = require('@sentry/node');
const { average } = require('./math');

Sentry.init({
  dsn: process.env.CAIRN_DSN,
  release: process.env.COMMIT_SHA,
  environment: 'production',
});

function report(values) {
  try {
    return average(values, 0);
  } catch (e) {
    Sentry.captureException(e);
    return null;
  }
}

report([1, 2, 3]);
Sentry.flush(10000).then((ok) => process.exit(ok ? 0 : 1));
