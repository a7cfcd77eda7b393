/**
 * The demo end to end, on the thesis's household pair only (`households: 0`) and a clock that runs
 * as fast as the machine allows: the gateway on a free loopback port with the embedded ledger, two
 * in-process VENs over real HTTP, the household EMS, settlement and the token table. The numbers
 * are checked against what the admin API reads from the ledger, and the tokens against the contract's
 * reward (docs/contract.md, eq. 4.10) computed from the baseline and the measured day the ledger holds.
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import { tempDataDir } from '../ledger-bridge/testing/embedded.ts';
import { silentLogger } from '../vtn/index.ts';
import { DEMO_STATE_FILE, runDemo, type DemoResult } from './index.ts';
import { THESIS_DAY, zonedMs } from './scenario.ts';

const ROOT = join(import.meta.dirname, '..');
const HOUSEHOLDS = ['household-1', 'household-2'] as const;
/** The event window 07:00–19:00: contract slots 28–75. */
const WINDOW = { first: 28, last: 75 };

interface Run {
  readonly lines: string[];
  readonly result: Promise<DemoResult>;
  /** Resolves with the line that matched. */
  waitFor(match: RegExp): Promise<string>;
  stop(): void;
}

/** A temp data directory, removed after the test once every demo started in it has stopped. */
function demoDir(t: TestContext, prefix: string): { dir: string; start: (stopAt?: RegExp) => Run } {
  const dir = tempDataDir(prefix);
  const runs: Run[] = [];
  t.after(async () => {
    for (const r of runs) {
      r.stop();
      await r.result.catch(() => {});
    }
    rmSync(dir, { recursive: true, force: true });
  });
  return {
    dir,
    start(stopAt) {
      const r = startDemo(dir, stopAt);
      runs.push(r);
      return r;
    },
  };
}

function startDemo(dataDir: string, stopAt?: RegExp): Run {
  const lines: string[] = [];
  const waiters: { match: RegExp; resolve: (line: string) => void }[] = [];
  let stop: () => void = () => {};
  const stopped = new Promise<void>((resolve) => (stop = resolve));
  const out = (text: string): void => {
    for (const line of text.split('\n').filter((l) => l !== '')) {
      lines.push(line);
      if (stopAt?.test(line) === true) stop();
      for (const w of waiters) if (w.match.test(line)) w.resolve(line);
    }
  };
  let err = '';
  const result = runDemo({ dataDir, port: 0, households: 0, speed: Number.POSITIVE_INFINITY, keepRunning: true, xmpp: 'on', stop: stopped, out, err: (s) => void (err += s), logger: silentLogger });
  return {
    lines,
    result: result.then((r) => {
      assert.equal(r.exitCode, 0, `the demo exited with ${r.exitCode}: ${err}`);
      return r;
    }),
    waitFor: (match) =>
      new Promise<string>((resolve, reject) => {
        const found = lines.find((l) => match.test(l));
        if (found !== undefined) return resolve(found);
        waiters.push({ match, resolve });
        void result.then(() => reject(new Error(`the demo ended without printing ${match}; it printed:\n${lines.join('\n')}\n${err}`)));
      }),
    stop,
  };
}

function admin(dataDir: string, url: string) {
  const token = readFileSync(join(dataDir, 'admin-token'), 'utf8').trim();
  return async <T>(path: string): Promise<T> => {
    const r = await fetch(`${url}/api/v1${path}`, { headers: { authorization: `Bearer ${token}` } });
    assert.equal(r.status, 200, `GET ${path}: ${r.status}`);
    return (await r.json()) as T;
  };
}

/** The gateway's origin from the `dashboard` line (its link carries the admin token as #token=). */
const urlOf = (line: string): string => line.replace(/^dashboard\s+/, '').replace(/\/(#token=.*)?$/, '');

interface Ledgered {
  readonly balanceMilli: number;
  readonly baselineW: readonly number[];
  readonly measuredW: readonly (number | null)[];
}

/** What the ledger holds for a household, through the admin API. */
async function ledgered(get: ReturnType<typeof admin>, customerId: string): Promise<Ledgered> {
  const tokens = await get<{ balance: { balanceMilli: number } }>(`/customers/${customerId}/tokens`);
  const baseline = await get<{ baseline: { found: boolean; values?: number[] } }>(`/customers/${customerId}/baseline?date=${THESIS_DAY}`);
  const energy = await get<{ slots: { watts: number | null; source: string }[] }>(`/customers/${customerId}/energy?date=${THESIS_DAY}`);
  assert.ok(baseline.baseline.found && baseline.baseline.values !== undefined, `a baseline for ${customerId}: ${JSON.stringify(baseline)}`);
  return { balanceMilli: tokens.balance.balanceMilli, baselineW: baseline.baseline.values, measuredW: energy.slots.map((s) => (s.source === 'measured' ? s.watts : null)) };
}

/** Eq. 4.10 over the event window: round(1000 · Σ H(B − P) · ((B − P) / 1000)²) milli-tokens. */
function reward(l: Ledgered): number {
  let sum = 0;
  for (let h = WINDOW.first; h <= WINDOW.last; h++) {
    const p = l.measuredW[h];
    assert.ok(p !== null && p !== undefined, `slot ${h} measured`);
    const d = (l.baselineW[h] ?? 0) - p;
    if (d > 0) sum += (d / 1000) ** 2;
  }
  return Math.round(1000 * sum);
}

let uninterrupted: Readonly<Record<string, number>> | undefined;

test('npm start, the thesis DR day: household 1 (EMS, HTTP pull) moves its runs out of 07:00–19:00 and earns more DR tokens than household 2 (over XMPP through the demo\'s Prosody); the token table is what the ledger says, and is the reward for what each delivered; a second start on the same data imports and creates nothing again', async (t) => {
  const { dir, start } = demoDir(t, 'oadr-demo-');
  const run = start();
  const url = urlOf(await run.waitFor(/^dashboard /));
  t.assert.equal(run.lines[0]?.startsWith('dashboard '), true, 'the dashboard URL comes first');
  t.assert.equal(run.lines[0], `dashboard     ${url}/#token=${encodeURIComponent(readFileSync(join(dir, 'admin-token'), 'utf8').trim())}`, 'a link that logs the dashboard in');
  await run.waitFor(/^done /);
  const get = admin(dir, url);
  assert.ok(run.lines.some((l) => /^xmpp +Prosody on xmpp:\/\/127\.0\.0\.1:\d+: 1 household speaks XMPP/.test(l)), run.lines.join('\n'));
  assert.ok(run.lines.some((l) => l.includes('2 VENs registered (1 over HTTP on loopback, 1 over XMPP)')), run.lines.join('\n'));
  const vens = await get<{ customerId?: string; transport: string }[]>('/vens');
  t.assert.deepEqual(HOUSEHOLDS.map((c) => vens.find((v) => v.customerId === c)?.transport), ['http-pull', 'xmpp'], 'one event, a pull VEN and an XMPP VEN');
  const [h1, h2] = await Promise.all(HOUSEHOLDS.map((c) => ledgered(get, c)));
  assert.ok(h1 !== undefined && h2 !== undefined);
  // The EMS moved the dishwasher (usually 10:30–12:45) and the kettle (17:00) out of the window:
  // household 1 draws only its fixed load there; household 2's washing machine runs 14:00–16:00.
  for (let h = 42; h <= 50; h++) assert.ok((h1.measuredW[h] ?? Infinity) < 500, `household 1 at slot ${h}: ${h1.measuredW[h]} W`);
  assert.ok((h1.measuredW[68] ?? Infinity) < 500, `household 1 at 17:00: ${h1.measuredW[68]} W`);
  for (let h = 56; h <= 63; h++) assert.ok((h2.measuredW[h] ?? 0) > 1900, `household 2 at slot ${h}: ${h2.measuredW[h]} W`);
  // Tokens paid for the reduction delivered against the baseline, per the contract.
  t.assert.equal(h1.balanceMilli, reward(h1));
  t.assert.equal(h2.balanceMilli, reward(h2));
  assert.ok(h1.balanceMilli > h2.balanceMilli && h1.balanceMilli > 0, `household 1 ${h1.balanceMilli} milli-tokens, household 2 ${h2.balanceMilli}`);
  const height = (await get<{ number: number }[]>('/ledger/blocks?limit=1'))[0]?.number;
  run.stop();
  const result = await run.result;
  t.assert.deepEqual(
    result.tokens.map((r) => [r.customerId, r.balanceMilli]),
    [['household-1', h1.balanceMilli], ['household-2', h2.balanceMilli]],
  );
  const table = run.lines.slice(run.lines.findIndex((l) => l.startsWith('tokens ')));
  for (const [c, l] of [['household-1', h1], ['household-2', h2]] as const) {
    assert.ok(table.some((line) => line.includes(c) && line.trim().endsWith((l.balanceMilli / 1000).toFixed(3))), `${c}'s row in\n${table.join('\n')}`);
  }
  uninterrupted = Object.fromEntries(result.tokens.map((r) => [r.customerId, r.balanceMilli]));

  // The second start: the store and the ledger say everything is done.
  const again = start();
  const url2 = urlOf(await again.waitFor(/^dashboard /));
  await again.waitFor(/^done /);
  assert.ok(!again.lines.some((l) => l.includes('meter history imported') || l.includes('VENs registered')), `nothing imported, no day run again:\n${again.lines.join('\n')}`);
  const get2 = admin(dir, url2);
  t.assert.equal((await get2<{ number: number }[]>('/ledger/blocks?limit=1'))[0]?.number, height, 'no block was added: no history imported, no event created, no tokens minted again');
  t.assert.equal((await get2<unknown[]>('/customers')).length, 2);
  t.assert.equal((await get2<unknown[]>('/events')).length, 1);
  again.stop();
  const second = await again.result;
  t.assert.deepEqual(second.tokens.map((r) => [r.customerId, r.balanceMilli]), result.tokens.map((r) => [r.customerId, r.balanceMilli]));
});

test('a DR day cut short (stopped at 12:00, the dishwasher already moved) continues on the next start from where it stopped and ends with the same tokens as a day run through', async (t) => {
  const { dir, start } = demoDir(t, 'oadr-demo-resume-');
  const first = start(/^\[1\/1\] 12:00 /);
  const stopped = await first.result;
  t.assert.equal(stopped.finished, false);
  assert.ok(first.lines.some((l) => l.startsWith('stopped ')), first.lines.join('\n'));
  const state = JSON.parse(readFileSync(join(dir, DEMO_STATE_FILE), 'utf8')) as { clockMs: number };
  assert.ok(state.clockMs >= zonedMs(THESIS_DAY, '12:00'), `the clock was kept: ${new Date(state.clockMs).toISOString()}`);

  const second = start();
  await second.waitFor(/^done /);
  assert.ok(second.lines.some((l) => l.includes('their history is on the ledger already')), second.lines.join('\n'));
  // The hourly lines of the second start begin after 12:00: the day continued, it did not start again.
  const hours = second.lines.flatMap((l) => /^\[1\/1\] (\d\d):00  /.exec(l)?.[1] ?? []);
  assert.ok(hours.length > 0 && hours.every((h) => Number(h) >= 12), `the day continued after 12:00:\n${second.lines.join('\n')}`);
  second.stop();
  const result = await second.result;
  t.assert.deepEqual(Object.fromEntries(result.tokens.map((r) => [r.customerId, r.balanceMilli])), uninterrupted ?? {});
});

test('Ctrl-C (SIGINT) on `npm start` mid-day stops the fleet and the gateway gracefully and exits 0', async (t) => {
  const dir = tempDataDir('oadr-demo-sigint-');
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const child = spawn(process.execPath, [join(ROOT, 'cli/run.ts'), 'start', '--data-dir', dir, '--port', '0', '--households', '0', '--speed', 'Infinity'], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  t.after(() => void (child.exitCode === null && child.kill('SIGKILL')));
  let stdout = '';
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => void (stderr += d.toString()));
  const exit = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  await new Promise<void>((resolve, reject) => {
    child.stdout.on('data', (d: Buffer) => {
      stdout += d.toString();
      if (/\[1\/1\] 0[1-9]:00 /.test(stdout)) resolve();
    });
    void exit.then(() => reject(new Error(`exited before the day ran: ${stdout}\n${stderr}`)));
  });
  child.kill('SIGINT');
  t.assert.equal(await exit, 0, stderr);
  assert.match(stdout, /^stopped .*npm start continues/m);
  const url = urlOf(stdout.split('\n').find((l) => l.startsWith('dashboard ')) ?? '');
  await assert.rejects(fetch(`${url}/api/v1/customers`), 'the gateway no longer listens');
  assert.match(stdout, /^xmpp +Prosody on /m);
  t.assert.equal(spawnSync('pgrep', ['-f', join(dir, 'xmpp')]).status, 1, "the demo's Prosody stopped with it");
});
