/**
 * modificationNumber across the exchanges of one case (R5, R10): for an eventID, never lower than
 * one sent before, never the same with a different event, and a cancellation counts as a change.
 */
import type { OadrEvent } from '../../oadr/index.ts';
import type { Exchange, ExchangeCheck, Finding } from '../case.ts';
import { author, finding, readMessage } from './message.ts';

function eventsOf(exchange: Exchange): readonly OadrEvent[] {
  const p = readMessage(exchange)?.decoded?.payload;
  return p?.type === 'DistributeEvent' ? (p.events ?? []) : [];
}

/** The event without what R5 lets change under one modificationNumber: createdDateTime, eventStatus, currentValue. */
function content(e: OadrEvent): string {
  const { createdDateTime: _c, eventStatus: _s, ...descriptor } = e.descriptor;
  return JSON.stringify({ ...e, descriptor, signals: e.signals.map(({ currentValue: _v, ...s }) => s) });
}

export const modificationNumberCheck: ExchangeCheck = (exchange, index, exchanges) => {
  const events = eventsOf(exchange);
  if (events.length === 0) return [];
  const earlier = new Map<string, OadrEvent>(); // latest version of each eventID sent before, same sender
  exchanges.slice(0, index).forEach((e) => {
    if (e.direction === exchange.direction) for (const ev of eventsOf(e)) earlier.set(ev.descriptor.eventId, ev);
  });
  const out: Finding[] = [];
  for (const ev of events) {
    const id = ev.descriptor.eventId;
    const before = earlier.get(id);
    if (before === undefined) continue;
    const [was, is] = [before.descriptor.modificationNumber, ev.descriptor.modificationNumber];
    if (is < was) {
      out.push(finding(index, ['R5'], `${author(exchange)} sent event ${id} with a lower modificationNumber than before`, `modificationNumber ${was} or more`, `modificationNumber ${is}`));
    } else if (is === was && content(ev) !== content(before)) {
      out.push(finding(index, ['R5'], `${author(exchange)} changed event ${id} without raising its modificationNumber`, `modificationNumber ${was + 1} for the changed event`, `modificationNumber ${is} again, with different content`));
    } else if (is === was && ev.descriptor.eventStatus === 'cancelled' && before.descriptor.eventStatus !== 'cancelled') {
      out.push(finding(index, ['R10', 'R5'], `${author(exchange)} cancelled event ${id} without raising its modificationNumber`, `modificationNumber ${was + 1} with eventStatus cancelled`, `modificationNumber ${is} with eventStatus cancelled`));
    }
  }
  return out;
};
