/** What the three reports share: the outcomes in display order, text helpers, escaping. */
import type { Outcome } from '../case.ts';

export const OUTCOMES: readonly Outcome[] = ['passed', 'failed', 'skipped', 'expected-fail', 'unexpected-pass'];

export const firstLine = (s: string): string => s.split('\n', 1)[0] ?? '';

export const seconds = (ms: number): string => `${(ms / 1000).toFixed(1)} s`;

/** Text safe in XML and HTML content and in double-quoted attributes; drops characters XML 1.0 cannot carry. */
export function escapeMarkup(s: string): string {
  return s
    .replace(/[^\t\n\r\u0020-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/gu, '\uFFFD')
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;');
}
