/**
 * JUnit XML as Jenkins' JUnit plugin and GitLab's test reports read it: one `testsuite` per family,
 * one `testcase` per case; a failure carries every finding (rule ids, expected, actual); skipped
 * cases and expected failures are `skipped` with their reason; an unexpected pass is a failure.
 */
import type { CaseResult, Family, Finding, RunResult } from '../case.ts';
import { ruleText } from '../rules.ts';
import { escapeMarkup as esc, firstLine } from './format.ts';
import { leadFinding } from './summary.ts';

const secs = (ms: number): string => (ms / 1000).toFixed(3);

/** A finding as plain text: message, rules with their text, expected, actual, the exchange. */
export function findingText(f: Finding): string {
  const lines = [f.message];
  for (const id of f.ruleIds) lines.push(`  ${id}: ${ruleText(id)}`);
  if (f.expected !== undefined) lines.push(`  expected: ${f.expected}`);
  if (f.actual !== undefined) lines.push(`  actual:   ${f.actual.replace(/\n/g, '\n            ')}`);
  if (f.exchange !== undefined) lines.push(`  message #${f.exchange + 1} of the case`);
  return lines.join('\n');
}

function testcase(run: RunResult, c: CaseResult): string {
  const head = `    <testcase name="${esc(`${c.id}: ${c.title}`)}" classname="${esc(`conformance.${run.side}.${c.transport}.${c.family}`)}" time="${secs(c.durationMs)}"`;
  const first = leadFinding(c);
  switch (c.outcome) {
    case 'passed':
      return `${head}/>`;
    case 'skipped':
      return `${head}>\n      <skipped message="${esc(c.reason ?? 'skipped')}"/>\n    </testcase>`;
    case 'expected-fail':
      return `${head}>\n      <skipped message="${esc(`expected failure (documented deviation): ${c.reason ?? ''}`)}"/>\n    </testcase>`;
    case 'unexpected-pass': {
      const message = `passed, but it is listed as an expected failure (${c.reason ?? 'no reason given'}): remove it from the list`;
      return `${head}>\n      <failure message="${esc(message)}" type="unexpected-pass">${esc(message)}</failure>\n    </testcase>`;
    }
    case 'failed': {
      const message = first === undefined ? 'failed' : `${first.ruleIds.join('+')}: ${firstLine(first.message)}`;
      const type = first === undefined ? 'failure' : first.ruleIds.join('+');
      const body = c.findings.map(findingText).join('\n\n');
      return `${head}>\n      <failure message="${esc(message)}" type="${esc(type)}">${esc(body)}</failure>\n    </testcase>`;
    }
  }
}

export function renderJunit(run: RunResult): string {
  const families = new Map<Family, CaseResult[]>();
  for (const c of run.cases) families.set(c.family, [...(families.get(c.family) ?? []), c]);
  const count = (cases: readonly CaseResult[]) => ({
    tests: cases.length,
    failures: cases.filter((c) => c.outcome === 'failed' || c.outcome === 'unexpected-pass').length,
    skipped: cases.filter((c) => c.outcome === 'skipped' || c.outcome === 'expected-fail').length,
    time: secs(cases.reduce((n, c) => n + c.durationMs, 0)),
  });
  const all = count(run.cases);
  const timestamp = new Date(run.startedAt).toISOString().slice(0, 19);
  const out = [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<testsuites name="${esc(`OpenADR 2.0b conformance of the ${run.side.toUpperCase()} at ${run.peer}`)}" tests="${all.tests}" failures="${all.failures}" errors="0" time="${secs(run.finishedAt - run.startedAt)}">`,
  ];
  for (const [family, cases] of families) {
    const n = count(cases);
    out.push(`  <testsuite name="${esc(`${run.side}.${family}`)}" tests="${n.tests}" failures="${n.failures}" errors="0" skipped="${n.skipped}" time="${n.time}" timestamp="${timestamp}">`);
    out.push('    <properties>');
    for (const [name, value] of [['peer', run.peer], ['side', run.side], ['transport', run.transport], ['tool', run.tool]] as const) {
      out.push(`      <property name="${name}" value="${esc(value)}"/>`);
    }
    out.push('    </properties>');
    for (const c of cases) out.push(testcase(run, c));
    out.push('  </testsuite>');
  }
  out.push('</testsuites>');
  return `${out.join('\n')}\n`;
}
