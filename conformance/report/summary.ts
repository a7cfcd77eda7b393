/**
 * The terminal summary of a run: one row per case (id, rules, outcome, first finding or the
 * reason), the text of the rule each failure breaks, and the totals with the exit code. Colour
 * only when asked (`writeSummary` asks when the stream is a TTY).
 */
import { exitCodeOf, tally, type CaseResult, type Finding, type Outcome, type RunResult } from '../case.ts';
import { ruleText } from '../rules.ts';
import { OUTCOMES, firstLine, seconds } from './format.ts';

export interface SummaryOptions {
  /** ANSI colours on the outcome column and the totals; default false. */
  readonly color?: boolean;
  /** Widest line, in characters; default 120. */
  readonly width?: number;
}

const COLORS: Readonly<Record<Outcome, string>> = {
  passed: '\u001b[32m',
  failed: '\u001b[31m',
  skipped: '\u001b[33m',
  'expected-fail': '\u001b[36m',
  'unexpected-pass': '\u001b[35m',
};
const RESET = '\u001b[0m';

const clip = (s: string, n: number): string => (s.length <= n ? s : `${s.slice(0, Math.max(0, n - 1))}…`);

/** The finding a report leads with: the first on one of the case's own rules, else the first. */
export function leadFinding(c: CaseResult): Finding | undefined {
  return c.findings.find((f) => f.ruleIds.some((id) => c.ruleIds.includes(id))) ?? c.findings[0];
}

/** What the last column says about a case: its lead finding, or why it was skipped or expected to fail. */
export function noteOf(c: CaseResult): string {
  const f = leadFinding(c);
  if (c.outcome === 'failed' || c.outcome === 'unexpected-pass') {
    if (f !== undefined) return `${f.ruleIds.join('+')}: ${firstLine(f.message)}`;
    return c.outcome === 'unexpected-pass' ? `passed, but listed as an expected failure: ${c.reason ?? ''}` : '';
  }
  return c.reason === undefined ? '' : firstLine(c.reason);
}

export function renderSummary(run: RunResult, options: SummaryOptions = {}): string {
  const color = options.color === true;
  const width = options.width ?? 120;
  const paint = (outcome: Outcome, s: string): string => (color ? `${COLORS[outcome]}${s}${RESET}` : s);
  const rows = run.cases.map((c) => ({ c, id: c.id, rules: c.ruleIds.join('+'), outcome: c.outcome, note: noteOf(c) }));
  const idW = Math.min(40, Math.max(4, ...rows.map((r) => r.id.length)));
  const rulesW = Math.min(24, Math.max(5, ...rows.map((r) => r.rules.length)));
  const outW = Math.max(...OUTCOMES.map((o) => o.length));
  const noteW = Math.max(20, width - idW - rulesW - outW - 6);
  const lines: string[] = [];
  lines.push(`OpenADR 2.0b conformance: ${run.side.toUpperCase()} at ${run.peer} over ${run.transport} (${run.tool}), ${new Date(run.startedAt).toISOString()}, ${seconds(run.finishedAt - run.startedAt)}`);
  lines.push('');
  lines.push(`${'case'.padEnd(idW)}  ${'rules'.padEnd(rulesW)}  ${'outcome'.padEnd(outW)}  first finding / reason`);
  lines.push(`${'-'.repeat(idW)}  ${'-'.repeat(rulesW)}  ${'-'.repeat(outW)}  ${'-'.repeat(Math.min(noteW, 22))}`);
  for (const r of rows) {
    lines.push(`${clip(r.id, idW).padEnd(idW)}  ${clip(r.rules, rulesW).padEnd(rulesW)}  ${paint(r.outcome, r.outcome.padEnd(outW))}  ${clip(r.note, noteW)}`.trimEnd());
    if (r.outcome === 'failed') {
      for (const id of leadFinding(r.c)?.ruleIds ?? []) lines.push(`${' '.repeat(idW + 2)}${clip(`${id}: ${ruleText(id)}`, width - idW - 2)}`);
    }
  }
  const t = tally(run);
  lines.push('');
  const total = OUTCOMES.map((o) => paint(o, `${t[o]} ${o}`)).join(', ');
  lines.push(`${run.cases.length} cases: ${total}; exit code ${exitCodeOf(run)}`);
  return `${lines.join('\n')}\n`;
}

/** Writes the summary to `stream`, in colour when it is a terminal. */
export function writeSummary(run: RunResult, stream: NodeJS.WritableStream & { readonly isTTY?: boolean; readonly columns?: number }): void {
  stream.write(renderSummary(run, { color: stream.isTTY === true, ...(stream.columns === undefined ? {} : { width: stream.columns }) }));
}
