// The server SDK, started by instrumentation.ts. The release is the one withSentryConfig injected at
// build time (SENTRY_RELEASE there, VERCEL_GIT_COMMIT_SHA on Vercel).
import * as Sentry from "@sentry/nextjs";

Sentry.init({
  dsn: process.env.CAIRN_DSN,
  tracesSampleRate: 0,
});
