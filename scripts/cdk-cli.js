#!/usr/bin/env node
// `npx cdk ...` runs this file (package.json "bin"): npx runs a project's own bin of that name before
// anything else, so it never offers to download a `cdk` package from the registry. It hands over to the
// AWS CDK CLI pinned in package.json, or says in one line what to run first.
const fs = require("node:fs");
const path = require("node:path");

const cli = path.join(__dirname, "..", "node_modules", "aws-cdk", "bin", "cdk");
if (!fs.existsSync(cli)) {
  console.error("The AWS CDK CLI is not installed in this checkout: run `make install` first.");
  process.exit(1);
}
// On Node 20 the CLI's AWS SDK warns on every run that SDK releases after January 2027 need Node 22; the CLI
// is pinned, so that is about a future upgrade, not this run (the SDK's own switch turns it off).
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= "true";
require(cli);
