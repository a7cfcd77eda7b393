/**
 * The payload rules our own VTN and VEN apply on receipt (`checkPayloadRules` in oadr/), turned into
 * findings: interval uids (R2, R101), durations that add up (R8, R102), no interval dtstart (R103),
 * signal types (R104, R116), SIMPLE levels (R9), one venID per target (R63), signal targets (R111),
 * x-eiNotification (R105), signalIDs (R107), requestIDs (R41, R42), eventResponses (R35),
 * registration fields (R402), metadata and data reports (R305, R313–R316, R331, R333, R338).
 */
import { checkPayloadRules } from '../../oadr/index.ts';
import type { ExchangeCheck } from '../case.ts';
import { ruleText } from '../rules.ts';
import { author, finding, payloadName, readMessage } from './message.ts';

/**
 * Left to other checks: R509 is read from the XML (schemaVersion before decoding), R311 in
 * reports.ts (which also accepts an empty per-report reportRequestID, rules digest §10).
 * 2.0a events have no x-eiNotification, so R105 applies to 2.0b only.
 */
const ELSEWHERE = new Set(['R509', 'R311']);
const ONLY_20B = new Set(['R105']);

/** R2→R101 and R8→R102 when the interval list is a baseline's. */
function ruleIdsOf(rule: string, where: string): string[] {
  if (!where.includes('.baseline')) return [rule];
  if (rule === 'R2') return ['R2', 'R101'];
  if (rule === 'R8') return ['R8', 'R102'];
  return [rule];
}

export const payloadRulesCheck: ExchangeCheck = (exchange, index) => {
  const read = readMessage(exchange);
  if (read?.decoded === undefined) return [];
  const name = payloadName(read);
  return checkPayloadRules(read.decoded)
    .filter((f) => !ELSEWHERE.has(f.rule) && (read.profile === '2.0b' || !ONLY_20B.has(f.rule)))
    .map((f) => finding(index, ruleIdsOf(f.rule, f.where), `${author(exchange)} sent ${name} that breaks ${f.rule} at ${f.where}`, ruleText(f.rule), f.message));
};
