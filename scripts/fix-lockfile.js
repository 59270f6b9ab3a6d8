#!/usr/bin/env node
// npm 11 leaves per-platform optional packages (e.g. msgpackr-extract-darwin-arm64) out of package-lock.json when the
// registry it talks to serves no metadata for other platforms; `npm ci` then refuses the lock file as out of sync.
// This adds the missing entries back as optional (npm ci skips them on platforms where they do not apply).
// Runs after every `npm install` (postinstall); harmless when nothing is missing.
'use strict';
const fs = require('node:fs');
const path = require('node:path');

const file = path.join(__dirname, '..', 'package-lock.json');
if (!fs.existsSync(file)) process.exit(0);
const lock = JSON.parse(fs.readFileSync(file, 'utf8'));
const packages = lock.packages ?? {};
let added = 0;
for (const [key, entry] of Object.entries(packages)) {
  for (const [name, version] of Object.entries(entry.optionalDependencies ?? {})) {
    // resolution as node does it: next to the dependent first, then at the top
    const nested = `${key}/node_modules/${name}`;
    const top = `node_modules/${name}`;
    if (packages[nested] || packages[top]) continue;
    packages[top] = { version, optional: true };
    added++;
  }
}
if (added) {
  fs.writeFileSync(file, `${JSON.stringify(lock, null, 2)}\n`);
  console.log(`[fix-lockfile] added ${added} optional platform package(s) to package-lock.json`);
}
