/**
 * Report rules: data report intervals in time order (R314), reportRequestID `0` only on metadata
 * reports and a top-level one only when answering a METADATA request (R311), reportRequestIDs
 * unique within their issuer (R322).
 */
import { reportIntervalSpans, type Payload, type ReportRequest } from '../../oadr/index.ts';
import type { Exchange, ExchangeCheck, Finding } from '../case.ts';
import { author, finding, readMessage } from './message.ts';

const payloadOf = (exchange: Exchange): Payload | undefined => readMessage(exchange)?.decoded?.payload;

/** R314: the intervals of a data report run oldest first. */
export const reportOrderCheck: ExchangeCheck = (exchange, index) => {
  const p = payloadOf(exchange);
  if (p?.type !== 'UpdateReport') return [];
  const out: Finding[] = [];
  for (const r of p.reports ?? []) {
    let spans;
    try {
      spans = reportIntervalSpans(r);
    } catch {
      continue; // a duration that cannot be measured: the payload rules report it
    }
    for (let i = 1; i < spans.length; i++) {
      const [a, b] = [spans[i - 1], spans[i]];
      if (a !== undefined && b !== undefined && b.startMs < a.startMs) {
        out.push(finding(index, ['R314'], `${author(exchange)} sent report ${r.reportSpecifierId} (request ${r.reportRequestId}) with intervals out of time order`, 'intervals oldest first', `interval ${i} starts at ${new Date(b.startMs).toISOString()}, before interval ${i - 1} at ${new Date(a.startMs).toISOString()}`));
      }
    }
  }
  return out;
};

const requestsOf = (p: Payload | undefined): readonly ReportRequest[] =>
  p?.type === 'CreateReport' || p?.type === 'RegisteredReport' ? (p.reportRequests ?? []) : [];

/** R311: `0` is the metadata reports' reportRequestID; a top-level one answers a METADATA request seen earlier. */
export const reportRequestIdCheck: ExchangeCheck = (exchange, index, exchanges) => {
  const p = payloadOf(exchange);
  const out: Finding[] = [];
  if (p?.type === 'UpdateReport') {
    for (const r of p.reports ?? []) {
      if (r.reportRequestId === '0') out.push(finding(index, ['R311'], `${author(exchange)} sent data report ${r.reportSpecifierId} with reportRequestID 0`, 'the reportRequestID of the request the report answers (0 is for metadata reports)', 'reportRequestID 0'));
    }
  }
  if (p?.type === 'RegisterReport') {
    for (const r of p.reports ?? []) {
      // Rules digest §10: absent, empty or 0 accepted per metadata report.
      if (r.reportRequestId !== '0' && r.reportRequestId !== '') out.push(finding(index, ['R311'], `${author(exchange)} sent metadata report ${r.reportSpecifierId} with reportRequestID ${r.reportRequestId}`, 'reportRequestID 0 in each metadata report', `reportRequestID ${r.reportRequestId}`));
    }
    const top = p.reportRequestId;
    if (top !== undefined && top !== '') {
      const asked = exchanges.slice(0, index).some((e) => e.direction !== exchange.direction && requestsOf(payloadOf(e)).some((rq) => rq.reportRequestId === top && rq.specifier.reportSpecifierId === 'METADATA'));
      if (!asked) out.push(finding(index, ['R311'], `${author(exchange)} sent oadrRegisterReport with a top-level reportRequestID no METADATA request asked for`, 'a top-level reportRequestID only when answering an oadrCreateReport for METADATA, equal to its reportRequestID', `reportRequestID ${top}`));
    }
  }
  return out;
};

/** R322: a reportRequestID names one request of its issuer: never two different requests. */
export const reportRequestUniqueCheck: ExchangeCheck = (exchange, index, exchanges) => {
  const mine = requestsOf(payloadOf(exchange));
  if (mine.length === 0) return [];
  const out: Finding[] = [];
  const seen = new Map<string, string>();
  exchanges.slice(0, index).forEach((e) => {
    if (e.direction === exchange.direction) for (const rq of requestsOf(payloadOf(e))) seen.set(rq.reportRequestId, JSON.stringify(rq.specifier));
  });
  const here = new Set<string>();
  for (const rq of mine) {
    const spec = JSON.stringify(rq.specifier);
    const earlier = seen.get(rq.reportRequestId);
    if (here.has(rq.reportRequestId) || (earlier !== undefined && earlier !== spec)) {
      out.push(finding(index, ['R322'], `${author(exchange)} used reportRequestID ${rq.reportRequestId} for two different report requests`, 'a reportRequestID unique within its issuer', `reportRequestID ${rq.reportRequestId} again, for ${rq.specifier.reportSpecifierId}`));
    }
    here.add(rq.reportRequestId);
  }
  return out;
};
