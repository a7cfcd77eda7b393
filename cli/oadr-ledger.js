#!/usr/bin/env node
// Entry point of the `oadr-ledger` command. Plain JavaScript on purpose: it must
// parse on any Node.js so that it can refuse an unsupported one with a clear message.
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const MIN = [22, 12, 0];
const have = process.versions.node.split('.').map(Number);
const older = (a, b) => a[0] !== b[0] ? a[0] < b[0] : a[1] !== b[1] ? a[1] < b[1] : a[2] < b[2];
if (older(have, MIN)) {
  process.stderr.write(
    `oadr-ledger needs Node.js ${MIN.join('.')} or newer (24 LTS recommended); this is ${process.version}.\n` +
    'Run it through npm (`npx oadr-ledger` or an npm script), which uses the Node 24 that `npm ci` installs, ' +
    'or install Node.js 24 LTS.\n');
  process.exit(2);
}
const main = fileURLToPath(new URL('./run.ts', import.meta.url));
if (process.features.typescript) {
  await import(main);
} else {
  // Node 22.12–22.17 strips types only behind a flag.
  const r = spawnSync(process.execPath, ['--experimental-strip-types', '--no-warnings=ExperimentalWarning', main, ...process.argv.slice(2)], { stdio: 'inherit' });
  process.exit(r.status ?? 1);
}
