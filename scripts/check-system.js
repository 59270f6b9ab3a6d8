#!/usr/bin/env node
// Checks the system packages the MCU needs: ffmpeg (with libx264/libvpx/libopus), ffprobe and redis-server to run, and Debian's chromium for the
// browser tests (`node scripts/check-system.js test`).
// As root on Debian/Ubuntu it installs what is missing with apt-get; otherwise it stops and names what to install.
// Plain JavaScript with no dependencies: it runs before `npm install` has installed anything.
'use strict';
const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');

const has = (cmd) => spawnSync('sh', ['-c', 'command -v "$0"', cmd], { stdio: 'ignore' }).status === 0;
// ffprobe as the app finds it (libs/media's ffprobeCandidate): FFPROBE_PATH, else beside FFMPEG_PATH, else on PATH
const ffprobeElsewhere = () => {
  if (process.env.FFPROBE_PATH) return true;
  const ffmpeg = process.env.FFMPEG_PATH;
  return Boolean(ffmpeg && /[\\/]/.test(ffmpeg) && fs.existsSync(path.join(path.dirname(ffmpeg), 'ffprobe')));
};
const needed = [
  { bin: 'ffmpeg', pkg: 'ffmpeg', skip: () => Boolean(process.env.FFMPEG_PATH) },
  { bin: 'ffprobe', pkg: 'ffmpeg', skip: ffprobeElsewhere },
  // the embedded default runs its own redis-server; with REDIS_URL set, none is needed here
  { bin: 'redis-server', pkg: 'redis-server', skip: () => Boolean(process.env.REDIS_URL) && !process.argv.includes('test') },
];
if (process.argv.includes('test')) needed.push({ bin: 'chromium', pkg: 'chromium', skip: () => Boolean(process.env.CHROMIUM_PATH) });

const missing = [...new Set(needed.filter((n) => !n.skip() && !has(n.bin)).map((n) => n.pkg))];
if (missing.length === 0) process.exit(0);

const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;
const isDebian = fs.existsSync('/etc/debian_version') && has('apt-get');
if (!isRoot || !isDebian) {
  console.error(`\n[check-system] missing system packages: ${missing.join(', ')}.`);
  console.error(`[check-system] install them first, e.g.: sudo apt-get install -y ${missing.join(' ')}\n`);
  process.exit(1);
}
console.log(`[check-system] installing ${missing.join(', ')} with apt-get ...`);
const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
const run = (args) => spawnSync('apt-get', args, { stdio: 'inherit', env }).status === 0;
if (!run(['update']) || !run(['install', '-y', '--no-install-recommends', ...missing])) {
  console.error(`[check-system] apt-get could not install: ${missing.join(', ')}`);
  process.exit(1);
}
