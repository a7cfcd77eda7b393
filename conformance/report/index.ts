/**
 * The reports of a run: the terminal summary, JUnit XML, the self-contained HTML report, and the
 * run itself as JSON (every message in full).
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { RunResult } from '../case.ts';
import { renderHtml } from './html.ts';
import { renderJunit } from './junit.ts';

export { renderHtml } from './html.ts';
export { findingText, renderJunit } from './junit.ts';
export { prettyXml } from './pretty-xml.ts';
export { renderSummary, writeSummary, type SummaryOptions } from './summary.ts';

/** Where to write each report; a report without a path is not written. */
export interface ReportPaths {
  readonly junit?: string;
  readonly html?: string;
  readonly json?: string;
}

/** Writes the reports asked for (creating their folders) and returns the paths written. */
export async function writeReports(run: RunResult, paths: Readonly<ReportPaths>): Promise<string[]> {
  const jobs: [string | undefined, () => string][] = [
    [paths.junit, () => renderJunit(run)],
    [paths.html, () => renderHtml(run)],
    [paths.json, () => `${JSON.stringify(run, null, 2)}\n`],
  ];
  const written: string[] = [];
  for (const [path, render] of jobs) {
    if (path === undefined) continue;
    await mkdir(dirname(path), { recursive: true });
    await writeFile(path, render(), 'utf8');
    written.push(path);
  }
  return written;
}
