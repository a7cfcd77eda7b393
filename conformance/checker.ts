/**
 * The payload checker: the cross-cutting rules applied to every message of every case, each check
 * an `ExchangeCheck` in conformance/checks/. `payloadChecks` judges what the peer under test sends;
 * `allMessageChecks` judges both directions, for the suite's check of its own messages (a case that
 * sends a deliberately broken message to the peer is not run through it).
 */
import type { Exchange, ExchangeCheck, Finding } from './case.ts';
import { schemaLocationCheck, schemaVersionCheck } from './checks/envelope.ts';
import { createdDateTimeCheck, eventOrderCheck, signalCheck, signalPayloadCheck } from './checks/events.ts';
import { modificationNumberCheck } from './checks/history.ts';
import { httpCheck } from './checks/http.ts';
import { payloadRulesCheck } from './checks/payload-rules.ts';
import { reportOrderCheck, reportRequestIdCheck, reportRequestUniqueCheck } from './checks/reports.ts';
import { timeCheck } from './checks/time.ts';
import { xsdCheck } from './checks/xsd-check.ts';

export { prevalidateXsd } from './checks/xsd-check.ts';

/** Every check, applied to messages in both directions. */
export const allMessageChecks: readonly ExchangeCheck[] = Object.freeze([
  xsdCheck,
  schemaLocationCheck,
  schemaVersionCheck,
  timeCheck,
  payloadRulesCheck,
  signalCheck,
  signalPayloadCheck,
  createdDateTimeCheck,
  eventOrderCheck,
  modificationNumberCheck,
  reportOrderCheck,
  reportRequestIdCheck,
  reportRequestUniqueCheck,
  httpCheck,
]);

const fromPeer = (check: ExchangeCheck): ExchangeCheck => (exchange, index, exchanges) => (exchange.direction === 'received' ? check(exchange, index, exchanges) : []);

/** The checks applied to what the peer under test sends. */
export const payloadChecks: readonly ExchangeCheck[] = Object.freeze(allMessageChecks.map(fromPeer));

/** Runs `checks` over every exchange of a case, in order. */
export function checkExchanges(exchanges: readonly Exchange[], checks: readonly ExchangeCheck[] = payloadChecks): Finding[] {
  return exchanges.flatMap((exchange, index) => checks.flatMap((check) => check(exchange, index, exchanges)));
}
