/**
 * The runner: runs cases one at a time against the peer, each with a time-out and its own tape of
 * exchanges, applies the cross-cutting checks to every exchange, and turns what happened into a
 * `RunResult`. A case fails with findings, is skipped with a reason (its prerequisite could not be
 * arranged), or passes; the expected-fail list turns a documented deviation into `expected-fail`.
 */
import type { CaseResult, Exchange, ExchangeCheck, Family, Finding, RunResult, Side, Transport } from './case.ts';
import { createTape, PeerUnreachable, type TapeSlot } from './http-recorder.ts';

/** What a case may do besides talking to the peer: record a failure, skip, know it has been abandoned. */
export interface CaseControl {
  /** Records a failure of this case (the case goes on). `ruleIds` default to the case's. */
  fail(finding: Omit<Finding, 'ruleIds'> & { readonly ruleIds?: readonly string[] }): void;
  /** Records a failure unless `ok`. */
  check(ok: boolean, message: string, detail?: { readonly expected?: string; readonly actual?: string; readonly ruleIds?: readonly string[] }): void;
  /** Ends the case as skipped: its prerequisite cannot be arranged. */
  skip(reason: string): never;
  /** Aborted when the case's time is up; waits end early on it. */
  readonly signal: AbortSignal;
  /** The exchanges of this case so far. */
  readonly exchanges: readonly Exchange[];
}

/** A case: data (id, title, rules, family, transports) and one small function. */
export interface CaseSpec<C> {
  /** Starts with the rule ids as in the checklist, e.g. `R402+R403-pull-registration`. */
  readonly id: string;
  readonly title: string;
  readonly ruleIds: readonly string[];
  readonly family: Family;
  /** The transports the case applies to (default: every one). */
  readonly transports?: readonly Transport[];
  run(context: C, t: CaseControl): Promise<void>;
}

/** A documented deviation: the case is expected to fail, and why. */
export interface ExpectedFail {
  readonly id: string;
  readonly reason: string;
}

/** A peer's answer that does not let the case go on (wrong status, not OpenADR, wrong payload): the message is the finding. */
export class PeerMisbehaved extends Error {
  override readonly name = 'PeerMisbehaved';
}

/** Thrown by `t.skip`. */
export class CaseSkipped extends Error {
  override readonly name = 'CaseSkipped';
}

export interface RunOptions<C> {
  readonly side: Side;
  readonly transport: Transport;
  readonly peer: string;
  readonly tool: string;
  readonly cases: readonly CaseSpec<C>[];
  readonly context: C;
  /** The recorder's slot: the runner puts each case's tape in it. */
  readonly slot: TapeSlot;
  readonly checks?: readonly ExchangeCheck[] | undefined;
  /** Per case (default 20 s). */
  readonly caseTimeoutMs?: number | undefined;
  readonly expectedFail?: readonly ExpectedFail[] | undefined;
  /** Ids or rule ids (prefixes of the id also match); absent: every case. */
  readonly only?: readonly string[] | undefined;
  /** Called before each case starts and after each case ends (for the progress line). */
  readonly progress?: ((done: number, total: number, running: string | undefined, last: CaseResult | undefined) => void) | undefined;
  /** Called with the context and the case's control before a case runs (e.g. to start a fresh VEN). */
  readonly beforeEach?: ((context: C) => Promise<void>) | undefined;
  readonly now?: () => number;
}

/** The options both sides' suites take for their run (`runVtnSuite`, `startVenSuite`). */
export interface SuiteOptions<C> {
  readonly transport: Transport;
  readonly checks?: readonly ExchangeCheck[] | undefined;
  readonly only?: readonly string[] | undefined;
  readonly expectedFail?: readonly ExpectedFail[] | undefined;
  readonly caseTimeoutMs?: number | undefined;
  readonly tool?: string | undefined;
  readonly progress?: RunOptions<C>['progress'];
  /** Replaces the case list (tests of the runner). */
  readonly cases?: readonly CaseSpec<C>[] | undefined;
}

/** Runs a suite's cases (its own unless `options.cases`) with what the suite set up. */
export function runSuite<C>(options: Readonly<SuiteOptions<C>>, run: Pick<RunOptions<C>, 'side' | 'peer' | 'context' | 'slot' | 'beforeEach'> & { readonly cases: readonly CaseSpec<C>[] }): Promise<RunResult> {
  return runCases({
    ...run,
    transport: options.transport,
    tool: options.tool ?? 'oadr-ledger',
    cases: options.cases ?? run.cases,
    checks: options.checks,
    only: options.only,
    expectedFail: options.expectedFail,
    caseTimeoutMs: options.caseTimeoutMs,
    progress: options.progress,
  });
}

/** Whether `--only` selects the case: its id, one of its rule ids, or a prefix of its id. */
export function selected(c: { readonly id: string; readonly ruleIds: readonly string[] }, only: readonly string[] | undefined): boolean {
  if (only === undefined || only.length === 0) return true;
  // `R40` selects R40's cases, not R402's: a prefix ends at a separator unless it is itself a partial id.
  return only.some((o) => c.id === o || c.ruleIds.includes(o) || c.id.startsWith(`${o}-`) || c.id.startsWith(`${o}+`) || (o.includes('-') && c.id.startsWith(o)));
}

export async function runCases<C>(options: Readonly<RunOptions<C>>): Promise<RunResult> {
  const now = options.now ?? Date.now;
  const startedAt = now();
  const applies = (c: CaseSpec<C>): boolean => c.transports === undefined || c.transports.includes(options.transport);
  // Over XMPP the HTTP cases are listed as skipped, with the reason, so a run says what it did not check.
  const cases = options.cases.filter((c) => (applies(c) || options.transport === 'xmpp') && selected(c, options.only));
  const results: CaseResult[] = [];
  for (const spec of cases) {
    options.progress?.(results.length, cases.length, spec.id, results.at(-1));
    results.push(applies(spec) ? await runOne(spec, options, now) : notOverXmpp(spec, options, now()));
  }
  options.progress?.(results.length, cases.length, undefined, results.at(-1));
  return { side: options.side, transport: options.transport, peer: options.peer, tool: options.tool, startedAt, finishedAt: now(), cases: results };
}

async function runOne<C>(spec: CaseSpec<C>, options: Readonly<RunOptions<C>>, now: () => number): Promise<CaseResult> {
  const tape = createTape();
  options.slot.current = tape;
  const findings: Finding[] = [];
  const controller = new AbortController();
  const t: CaseControl = {
    fail: (f) => void findings.push({ ...f, ruleIds: f.ruleIds ?? spec.ruleIds }),
    check: (ok, message, d = {}) => {
      if (!ok) findings.push({ ruleIds: d.ruleIds ?? spec.ruleIds, message, ...(d.expected === undefined ? {} : { expected: d.expected }), ...(d.actual === undefined ? {} : { actual: d.actual }) });
    },
    skip: (reason) => {
      throw new CaseSkipped(reason);
    },
    signal: controller.signal,
    exchanges: tape.exchanges,
  };
  const startedAt = now();
  const timeoutMs = options.caseTimeoutMs ?? 20_000;
  let skipped: string | undefined;
  let timer: NodeJS.Timeout | undefined;
  try {
    await options.beforeEach?.(options.context);
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        controller.abort();
        reject(new CaseTimeout(`the case did not finish within ${timeoutMs} ms: the peer did not do what the case waited for`));
      }, timeoutMs);
      timer.unref();
    });
    await Promise.race([spec.run(options.context, t), timeout]);
  } catch (err) {
    if (err instanceof CaseSkipped) skipped = err.message;
    else if (err instanceof PeerUnreachable || err instanceof PeerMisbehaved || err instanceof CaseTimeout) findings.push({ ruleIds: spec.ruleIds, message: err.message });
    else findings.push({ ruleIds: spec.ruleIds, message: `the case could not go on: ${(err as Error).message ?? String(err)}` });
  } finally {
    clearTimeout(timer);
    controller.abort();
  }
  // The checks of every message, also for a skipped case (what was exchanged must still be right).
  for (const check of options.checks ?? []) {
    tape.exchanges.forEach((e, i) => {
      for (const f of check(e, i, tape.exchanges)) findings.push(f);
    });
  }
  const expected = options.expectedFail?.find((x) => x.id === spec.id);
  const base = { id: spec.id, title: spec.title, ruleIds: spec.ruleIds, side: options.side, family: spec.family, transport: options.transport, findings, exchanges: [...tape.exchanges], startedAt, durationMs: now() - startedAt };
  if (skipped !== undefined && findings.length === 0) return { ...base, outcome: 'skipped', reason: skipped };
  if (expected !== undefined) return { ...base, outcome: findings.length > 0 ? 'expected-fail' : 'unexpected-pass', reason: expected.reason };
  return { ...base, outcome: findings.length > 0 ? 'failed' : 'passed', ...(skipped === undefined ? {} : { reason: skipped }) };
}

/** Why a case of HTTP does not run over XMPP. */
function notOverXmppReason(spec: CaseSpec<unknown>): string {
  const only = spec.transports ?? [];
  if (only.length === 1 && only[0] === 'http-push') return 'a case of HTTP push: over XMPP the VTN pushes IQ sets, which the XMPP cases check';
  if (spec.family === 'poll' || (only.length === 1 && only[0] === 'http-pull')) return 'a case of HTTP pull: OpenADR over XMPP has no oadrPoll, the VTN pushes (R507)';
  if (spec.family === '2.0a') return 'the 2.0a profile has no XMPP binding';
  if (spec.family === 'security') return "checks the TLS of an HTTPS endpoint or XML signatures over HTTP; over XMPP TLS ends at the XMPP server";
  return `a case of ${only.join(' and ')} only: it checks HTTP itself (methods, headers, status codes, URLs)`;
}

function notOverXmpp<C>(spec: CaseSpec<C>, options: Readonly<RunOptions<C>>, at: number): CaseResult {
  return { id: spec.id, title: spec.title, ruleIds: spec.ruleIds, side: options.side, family: spec.family, transport: options.transport, outcome: 'skipped', reason: notOverXmppReason(spec as CaseSpec<unknown>), findings: [], exchanges: [], startedAt: at, durationMs: 0 };
}

class CaseTimeout extends Error {
  override readonly name = 'CaseTimeout';
}

/** Resolves after `ms`, or rejects when the case is abandoned. */
export function pause(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) {
      reject(new Error('the case was abandoned'));
      return;
    }
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(new Error('the case was abandoned'));
    };
    signal.addEventListener('abort', onAbort, { once: true });
  });
}

/** The rule ids an id starts with: `R402+R403-pull-registration` → R402, R403. */
export function ruleIdsOf(id: string): string[] {
  const head = id.split('-')[0] ?? id;
  return head.split('+').filter((s) => s !== '');
}

/** A case from its id (the rule ids come from it), title, family and function. */
export function defineCase<C>(id: string, title: string, family: Family, run: CaseSpec<C>['run'], transports?: readonly Transport[]): CaseSpec<C> {
  return { id, title, ruleIds: ruleIdsOf(id), family, run, ...(transports === undefined ? {} : { transports }) };
}
