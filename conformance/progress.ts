/** The progress line of a run on stderr while it runs (the summary at the end is report/summary.ts). */

/** One line, rewritten in place on a terminal: `[ 12/104 ####------] 3 failed  R402-…`. */
export function progressLine(done: number, total: number, running: string | undefined, failed: number): string {
  const width = 20;
  const filled = total === 0 ? width : Math.round((done / total) * width);
  const bar = '#'.repeat(filled) + '-'.repeat(width - filled);
  return `[${String(done).padStart(String(total).length)}/${total} ${bar}] ${failed} failed${running === undefined ? '' : `  ${running}`}`;
}
