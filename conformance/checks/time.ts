/**
 * R1 over every text value of a message: date-times in UTC with `Z` (no numeric offset, no zone
 * missing), durations without decimal components. Read from the XML tree (our decoder normalises
 * or refuses such values), or, for a body that is not XML, from the text between tags.
 */
import type { ExchangeCheck, Finding } from '../case.ts';
import { author, finding, readMessage, walk } from './message.ts';

const DATE_TIME = /^[+-]?\d{4,}-\d{2}-\d{2}T\d{2}:\d{2}(?::\d{2}(?:\.\d*)?)?(Z|[+-]\d{2}:?\d{2}|)$/;
const DURATION = /^[+-]?P(?:[\d.,]+[YMWD])*(?:T(?:[\d.,]+[HMS])*)?$/;
const DECIMAL_COMPONENT = /\d[.,]\d*[YMWDHS]|[.,]\d+[YMWDHS]/;

/** What is wrong with one text value under R1, or undefined. */
function r1Problem(value: string): { expected: string; what: string } | undefined {
  const dt = DATE_TIME.exec(value);
  if (dt !== null) {
    const zone = dt[1] ?? '';
    if (zone === 'Z') return undefined;
    return { expected: 'a UTC date-time ending in Z, e.g. 2013-04-22T15:26:44.123Z', what: zone === '' ? 'a date-time without a zone' : `a date-time with the offset ${zone}` };
  }
  if (value.length > 1 && DURATION.test(value) && DECIMAL_COMPONENT.test(value)) {
    return { expected: 'a duration with whole components, e.g. PT90M rather than PT1.5H', what: 'a duration with a decimal component' };
  }
  return undefined;
}

/** R1: every date-time ends in Z; no decimal durations. */
export const timeCheck: ExchangeCheck = (exchange, index) => {
  const read = readMessage(exchange);
  if (read === undefined) return [];
  const out: Finding[] = [];
  const add = (where: string, value: string): void => {
    const problem = r1Problem(value);
    if (problem !== undefined) out.push(finding(index, ['R1'], `${author(exchange)} sent ${problem.what} in ${where}`, problem.expected, value));
  };
  if (read.root !== undefined) {
    for (const { element, parent } of walk(read.root)) {
      if (element.children.length === 0) add(parent === undefined ? element.qname : `${parent.qname}/${element.qname}`, element.text.trim());
    }
  } else {
    for (const m of exchange.body.matchAll(/>([^<>]+)</g)) add('the body', (m[1] ?? '').trim());
  }
  return out;
};
