/**
 * What the conformance suite is made of and what a run produces: cases (data plus one small
 * function each, named with the rule ids they check), the messages exchanged with the peer under
 * test, the findings of the per-message checks, and the results the terminal summary, JUnit XML and
 * HTML reports are rendered from.
 */

/** The side under test: `vtn` — the suite plays one or several VENs; `ven` — the suite plays the VTN. */
export type Side = 'vtn' | 'ven';

/** How OpenADR payloads travel between the suite and the peer. */
export type Transport = 'http-pull' | 'http-push' | 'xmpp';
export const ALL_TRANSPORTS: readonly Transport[] = Object.freeze(['http-pull', 'http-push', 'xmpp']);
/** The transports of a case that checks HTTP itself (methods, headers, status codes, URLs, the HTTPS endpoint's TLS). */
export const HTTP_TRANSPORTS: readonly Transport[] = Object.freeze(['http-pull', 'http-push']);

/** The families a certification run covers; a case belongs to one. */
export type Family = 'registration' | 'event' | 'opt' | 'report' | 'poll' | 'general' | 'security' | '2.0a';

/**
 * `passed` and `failed` only for cases that ran; `skipped` when a prerequisite could not be arranged
 * (never counted as passed); `expected-fail` for a documented deviation that did fail (with its
 * reason); `unexpected-pass` when such a case passed (the deviation is gone: update the list).
 */
export type Outcome = 'passed' | 'failed' | 'skipped' | 'expected-fail' | 'unexpected-pass';

/** One message on the wire, as the suite saw it. */
export interface Exchange {
  /** Milliseconds since the epoch when it was sent or received. */
  readonly at: number;
  /** `sent` by the suite to the peer, or `received` from it. */
  readonly direction: 'sent' | 'received';
  readonly channel: 'http' | 'xmpp';
  /** HTTP requests: method and full URL. */
  readonly method?: string;
  readonly url?: string;
  /** HTTP responses: the status code. */
  readonly status?: number;
  /** Header names in lower case. */
  readonly headers: Readonly<Record<string, string>>;
  /** The body as text (decompressed when the peer gzipped it); '' for none. */
  readonly body: string;
  /** Set on a response: the index in the case's `exchanges` of the request it answers. */
  readonly answers?: number;
  /** What went wrong on the wire instead of a message: time-out, connection closed, TLS refused. */
  readonly error?: string;
}

/** Something a check found wrong, tied to the rule it breaks. */
export interface Finding {
  readonly ruleIds: readonly string[];
  /** What was wrong, in a sentence a vendor's engineer understands without our code. */
  readonly message: string;
  /** What the rule asks for instead. */
  readonly expected?: string;
  /** What the peer did. */
  readonly actual?: string;
  /** Index in the case's `exchanges` of the message at fault. */
  readonly exchange?: number;
}

/**
 * A cross-cutting check applied to every exchange of every case (no `schemaLocation`, UTC times,
 * interval uids from 0, Content-Length, …). `exchanges` is the case's whole list so far, for checks
 * that compare a message with earlier ones (modification numbers, report interval order).
 */
export type ExchangeCheck = (exchange: Exchange, index: number, exchanges: readonly Exchange[]) => readonly Finding[];

/** The result of one case. */
export interface CaseResult {
  /** Stable id: the rule ids and a short slug, e.g. `R402+R403-pull-registration`. */
  readonly id: string;
  readonly title: string;
  readonly ruleIds: readonly string[];
  readonly side: Side;
  readonly family: Family;
  readonly transport: Transport;
  readonly outcome: Outcome;
  /** Why it was skipped, or the documented reason of an expected failure. */
  readonly reason?: string;
  /** Empty for a pass; the case's own failures and those of the exchange checks. */
  readonly findings: readonly Finding[];
  readonly exchanges: readonly Exchange[];
  readonly startedAt: number;
  readonly durationMs: number;
}

/** A whole run, from which every report is rendered. */
export interface RunResult {
  readonly side: Side;
  readonly transport: Transport;
  /** The VTN's URL, or where the suite listened for the VEN. */
  readonly peer: string;
  /** `oadr-ledger <version>` that ran it. */
  readonly tool: string;
  readonly startedAt: number;
  readonly finishedAt: number;
  readonly cases: readonly CaseResult[];
}

/** Counts per outcome. */
export function tally(run: RunResult): Readonly<Record<Outcome, number>> {
  const counts: Record<Outcome, number> = { passed: 0, failed: 0, skipped: 0, 'expected-fail': 0, 'unexpected-pass': 0 };
  for (const c of run.cases) counts[c.outcome] += 1;
  return counts;
}

/** Exit code of `oadr-ledger conformance`: 0 only when cases ran and none failed or unexpectedly passed. */
export function exitCodeOf(run: RunResult): 0 | 1 {
  const t = tally(run);
  return t.failed === 0 && t['unexpected-pass'] === 0 && t.passed + t['expected-fail'] > 0 ? 0 : 1;
}
