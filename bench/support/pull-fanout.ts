/**
 * The pull fan-out: `vens` pull VENs registered over HTTP with our VTN (a child process), each
 * polling once per 10 s interval, evenly spread (this process, one keep-alive client); one event for
 * all of them through the admin API; how long until the last VEN has its oadrDistributeEvent, and
 * the VTN's RSS per registered VEN. The fan-out of bench/vtn-poll.bench.ts and the in-run reference
 * of bench/xmpp-fanout.bench.ts.
 */
import { createEvent, drainAndCheck, fmt, isPayload, POLL_INTERVAL_MS, pollXml, post, registerVens, settledRss, SERVICE_PATH, startVtn } from './vtn-child.ts';

export interface PullFanoutOptions {
  readonly work: string;
  readonly vens: number;
  readonly pinCore?: number | undefined;
  readonly cpuProfDir?: string | undefined;
}

export interface PullFanoutResult {
  /** Every VEN had its event. */
  readonly all: boolean;
  /** From the create request to the last VEN's oadrDistributeEvent, ms. */
  readonly lastMs: number;
  /** The same from the stored event (the 201), ms. */
  readonly lastAfterStoredMs: number;
  readonly rssPerVenBytes: number;
  /** VENs that had their event. */
  readonly received: number;
}

export async function pullFanout(o: Readonly<PullFanoutOptions>): Promise<PullFanoutResult> {
  const FANOUT_VENS = o.vens;
  const vtn = await startVtn({ work: o.work, name: 'fanout', pinCore: o.pinCore, cpuProfDir: o.cpuProfDir });
  try {
    const pid = vtn.proc.pid as number;
    // Warm the VTN (code paths compiled, pools allocated) with 50 VENs first, so "RSS with 0" is a running VTN.
    const warm = await registerVens(vtn.base, 50, 'warm-');
    for (let i = 0; i < 20; i++) await drainAndCheck(vtn.base, warm);
    const rss0 = await settledRss(pid);
    const t0 = performance.now();
    const ids = await registerVens(vtn.base, FANOUT_VENS, 'fan-', 16);
    const regS = (performance.now() - t0) / 1000;
    const t1 = performance.now();
    await drainAndCheck(vtn.base, ids, 16);
    const drainS = (performance.now() - t1) / 1000;
    console.log(
      `  registered ${fmt(ids.length)} VENs over HTTP (oadrCreatePartyRegistration, 16 in flight) in ${fmt(regS, 1)} s (${fmt(ids.length / regS)}/s); ` +
        `their queues (the VTN's oadrRegisterReport) drained by polls in ${fmt(drainS, 1)} s`,
    );

    // Pollers: VEN i polls at phase i/N of every interval, as VENs started at random times would.
    const received = new Map<string, number>();
    let eventAt = Number.POSITIVE_INFINITY;
    let polls = 0;
    let pollErrors = 0;
    let stopped = false;
    const roundStart = performance.now();
    const inFlight = new Set<Promise<void>>();
    // A VEN polls again only once its previous poll is answered: a VTN starved of CPU gets fewer
    // polls instead of an unbounded pile of open requests in this process.
    const waiting = new Set<string>();
    let skipped = 0;
    const pollOne = async (venId: string): Promise<void> => {
      try {
        const r = await post(`${vtn.base}${SERVICE_PATH}/OadrPoll`, pollXml(venId));
        polls++;
        if (r.status !== 200) pollErrors++;
        else if (isPayload(r.body, 'oadrDistributeEvent') && !received.has(venId)) received.set(venId, performance.now() - eventAt);
      } catch {
        pollErrors++;
      }
    };
    const scheduler = (async () => {
      let k = 0;
      while (!stopped) {
        const due = roundStart + (k * POLL_INTERVAL_MS) / ids.length;
        const wait = due - performance.now();
        if (wait > 1) await new Promise((r) => setTimeout(r, wait));
        const venId = ids[k % ids.length] as string;
        if (waiting.has(venId)) skipped++;
        else {
          waiting.add(venId);
          const p = pollOne(venId).finally(() => waiting.delete(venId));
          inFlight.add(p);
          void p.finally(() => inFlight.delete(p));
        }
        k++;
      }
    })();
    // One full round without an event, then the event at a random phase of the next round.
    await new Promise((r) => setTimeout(r, POLL_INTERVAL_MS + Math.random() * POLL_INTERVAL_MS * 0.5));
    const perVen: Record<string, number> = {};
    for (const id of ids) perVen[id] = 1_000;
    eventAt = performance.now();
    const created = await createEvent(vtn.base, perVen);
    const createMs = performance.now() - eventAt;
    if (created.status !== 201) throw new Error(`creating the event failed: HTTP ${created.status} ${created.body.slice(0, 300)}`);
    const limit = performance.now() + 3 * POLL_INTERVAL_MS;
    while (received.size < ids.length && performance.now() < limit) await new Promise((r) => setTimeout(r, 50));
    stopped = true;
    await scheduler;
    await Promise.all(inFlight);
    const pollRate = polls / ((performance.now() - roundStart) / 1000);
    const rss1 = await settledRss(pid);
    const times = [...received.values()].sort((a, b) => a - b);
    const all = received.size === ids.length;
    const last = times[times.length - 1] ?? Number.NaN;
    // A VEN that polled just before the event was stored waits one whole interval: count from the 201.
    const lastAfterStored = last - createMs;
    console.log(`  event for all ${fmt(ids.length)} VENs created through POST /api/v1/events in ${fmt(createMs)} ms; pollers kept ${fmt(pollRate)} polls/s, ${pollErrors} errors${skipped > 0 ? `, ${fmt(skipped)} polls skipped (the VEN's previous poll still unanswered)` : ''}`);
    console.log(
      `  every VEN had its oadrDistributeEvent: ${all ? 'yes' : `NO (${fmt(received.size)} of ${fmt(ids.length)})`}; from the create request: p50 ${fmt((times[Math.floor(times.length / 2)] ?? 0) / 1000, 2)} s, ` +
        `last ${fmt(last / 1000, 2)} s; from the stored event (201): last ${fmt(lastAfterStored / 1000, 2)} s ` +
        `(poll interval ${POLL_INTERVAL_MS / 1000} s: ${all && lastAfterStored <= POLL_INTERVAL_MS ? 'within one interval' : 'NOT within one interval'})`,
    );
    console.log(
      `  RSS (lowest over 2 s, idle): ${fmt(rss0 / 2 ** 20, 1)} MiB with 50 warm-up VENs, ${fmt(rss1 / 2 ** 20, 1)} MiB with ${fmt(ids.length + 50)} VENs and the event → ${fmt((rss1 - rss0) / ids.length / 1024, 2)} KiB per registered VEN`,
    );
    return { all, lastMs: last, lastAfterStoredMs: lastAfterStored, rssPerVenBytes: (rss1 - rss0) / ids.length, received: received.size };
  } finally {
    await vtn.stop();
  }
}

