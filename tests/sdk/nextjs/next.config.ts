// withSentryConfig as a user sets it for cairn (README "Source maps"): the upload token, the
// repo's owner and name as org and project, and cairn's URL as sentryUrl. A user writes the three
// literally; here tests/api/sourcemaps_nextjs.rs passes them, as its server's port changes.
import type { NextConfig } from "next";
import { withSentryConfig } from "@sentry/nextjs/config";

const nextConfig: NextConfig = {};

export default withSentryConfig(nextConfig, {
  authToken: process.env.SENTRY_AUTH_TOKEN,
  org: process.env.CAIRN_ORG,
  project: process.env.CAIRN_PROJECT,
  sentryUrl: process.env.CAIRN_URL,
  telemetry: false,
  silent: false,
});
