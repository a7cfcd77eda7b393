/** What the ledger benchmarks share: the identities, the recordEnergy workload and how latencies are read. */
import { join } from 'node:path';
import { issueClientIdentity, loadOrCreateOrgs } from '../../ledger-bridge/index.ts';

/** The dev orgs under `dir/certs`, and the system operator and retailer client identities of Org1. */
export async function benchIdentities(dir: string) {
  const orgs = await loadOrCreateOrgs(join(dir, 'certs'));
  const org1 = orgs[0];
  if (!org1) throw new Error('no org');
  const operator = await issueClientIdentity(org1, 'dso', { ID: 'operator:dso' });
  const retailer = await issueClientIdentity(org1, 'retailer', { ID: 'utility:1234' });
  return { orgs, operator, retailer };
}

export const meterId = (i: number): string => `smartmeter:${String(i).padStart(8, '0')}`;

/** The `d`-th day before today (UTC calendar day), as the contract's `YYYY-MM-DD`. */
export function dayBefore(today: number, d: number): string {
  return new Date(today - (d + 1) * 86_400_000).toISOString().slice(0, 10);
}

/** A deterministic 96-slot profile (W) for meter `i`, as the JSON argument of recordEnergy. */
export const profile = (i: number): string => JSON.stringify(Array.from({ length: 96 }, (_, s) => 150 + ((i * 37 + s * 13) % 400)));

export const ms = (x: number): string => `${x.toFixed(1)} ms`;

export function percentile(sorted: readonly number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((sorted.length * p) / 100))] ?? NaN;
}

/** Runs `fn(0…n-1)` with at most `concurrency` calls in flight. */
export async function runConcurrent(n: number, concurrency: number, fn: (i: number) => Promise<unknown>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(concurrency, n) }, async () => {
      while (next < n) await fn(next++);
    }),
  );
}

/** The part of a `Ledger` the workload needs (embedded or through the Fabric connector). */
interface Submitter<I> {
  submit(identity: I, fn: string, args: readonly string[]): Promise<unknown>;
}

/**
 * Enables the retailer, enrols `meters` meters, and returns the generator of recordEnergy
 * submissions: transaction k records day `k % days` (before today) of meter `k / days`.
 */
export async function recordEnergyWorkload<I>(
  ledger: Submitter<I>,
  ids: { readonly operator: I; readonly retailer: I },
  o: { readonly meters: number; readonly days: number; readonly enrolConcurrency: number },
): Promise<() => Promise<unknown>> {
  await ledger.submit(ids.operator, 'enableRetailer', ['utility:1234']);
  await runConcurrent(o.meters, o.enrolConcurrency, (i) => ledger.submit(ids.retailer, 'enrolMeter', [meterId(i)]));
  const today = Date.now();
  let seq = 0;
  return () => {
    const k = seq++;
    return ledger.submit(ids.retailer, 'recordEnergy', [meterId(Math.floor(k / o.days)), dayBefore(today, k % o.days), profile(k)]);
  };
}

export interface OpenLoad {
  /** Submit → committed of every committed transaction, ms, ascending. */
  readonly latencies: readonly number[];
  readonly failures: number;
  readonly offered: number;
  /** From the first submission to the last answer. */
  readonly ms: number;
}

/** Starts `rate` transactions a second for `seconds` whatever happens to earlier ones (open load). */
export async function openLoad(next: () => Promise<unknown>, rate: number, seconds: number): Promise<OpenLoad> {
  const latencies: number[] = [];
  let failures = 0;
  const offered = Math.round(rate * seconds);
  const started = performance.now();
  const pending: Promise<void>[] = [];
  for (let i = 0; i < offered; i++) {
    const wait = started + (i * 1000) / rate - performance.now();
    if (wait > 1) await new Promise((r) => setTimeout(r, wait));
    const t = performance.now();
    pending.push(next().then(() => void latencies.push(performance.now() - t), () => void failures++));
  }
  await Promise.all(pending);
  latencies.sort((a, b) => a - b);
  return { latencies, failures, offered, ms: performance.now() - started };
}
