/**
 * The terminal output of a run: one progress line on stderr while it runs, and the plain-text
 * summary table at the end (one function each, so another renderer can take their place).
 */
import { tally, type CaseResult, type RunResult } from './case.ts';

const MARK: Record<CaseResult['outcome'], string> = { passed: 'pass', failed: 'FAIL', skipped: 'skip', 'expected-fail': 'xfail', 'unexpected-pass': 'XPASS' };

/** One line, rewritten in place on a terminal: `[ 12/104 ####------] 3 failed  R402-…`. */
export function progressLine(done: number, total: number, running: string | undefined, failed: number): string {
  const width = 20;
  const filled = total === 0 ? width : Math.round((done / total) * width);
  const bar = '#'.repeat(filled) + '-'.repeat(width - filled);
  return `[${String(done).padStart(String(total).length)}/${total} ${bar}] ${failed} failed${running === undefined ? '' : `  ${running}`}`;
}

/** The summary table: one row per case (outcome, id, first finding or reason), then the counts. */
export function summaryTable(run: RunResult): string {
  const idWidth = Math.min(60, Math.max(4, ...run.cases.map((c) => c.id.length)));
  const rows = run.cases.map((c) => {
    const note = c.findings[0]?.message ?? c.reason ?? '';
    const more = c.findings.length > 1 ? ` (+${c.findings.length - 1} more)` : '';
    return `${MARK[c.outcome].padEnd(5)}  ${c.id.padEnd(idWidth)}  ${oneLine(note)}${more}`;
  });
  const t = tally(run);
  const seconds = ((run.finishedAt - run.startedAt) / 1000).toFixed(1);
  return [
    `OpenADR 2.0b conformance — ${run.side.toUpperCase()} at ${run.peer} over ${run.transport} (${run.tool})`,
    '',
    `${'result'.padEnd(5)}  ${'case'.padEnd(idWidth)}  note`,
    ...rows,
    '',
    `${run.cases.length} cases in ${seconds} s: ${t.passed} passed, ${t.failed} failed, ${t.skipped} skipped, ${t['expected-fail']} expected-fail, ${t['unexpected-pass']} unexpected-pass`,
    '',
  ].join('\n');
}

const oneLine = (s: string): string => {
  const flat = s.replace(/\s+/g, ' ').trim();
  return flat.length > 110 ? `${flat.slice(0, 107)}...` : flat;
};
