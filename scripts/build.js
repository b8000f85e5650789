#!/usr/bin/env node
/** `npm run build`: nest build (with the Swagger CLI plugin), then rewrite `src/...` imports to relative paths. */
'use strict';
const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');

const root = path.resolve(__dirname, '..');
const bin = (name) => path.join(root, 'node_modules', '.bin', name);
for (const [cmd, args] of [[bin('nest'), ['build']], [bin('tsc-alias'), ['-p', 'tsconfig.build.json']]]) {
  const r = spawnSync(cmd, args, { cwd: root, stdio: ['ignore', 2, 2] });
  if (r.status !== 0) process.exit(r.status ?? 1);
}
fs.writeFileSync(path.join(root, 'dist', '.build-stamp'), new Date().toISOString() + '\n');
