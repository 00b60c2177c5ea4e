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
require(cli);
