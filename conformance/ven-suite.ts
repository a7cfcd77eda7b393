/**
 * A run against a VEN: the suite listens as its VTN (the VEN under test is pointed at it and
 * registers, pull or push), pushes through its recording client, and runs the VEN-side cases.
 * Over XMPP the suite is the VTN on its own JID (the VEN under test is given it as its VTN's JID).
 */
import type { VenAdapter } from './adapters/adapter.ts';
import type { RunResult } from './case.ts';
import { createSimVtn, type AsVtn, type SimVtn } from './as-vtn.ts';
import { venCases } from './cases/ven-cases.ts';
import { createRecordingClient, createTape, startRecordingServer, type RecordingServer, type TapeSlot, type TlsMaterial } from './http-recorder.ts';
import { runSuite, type SuiteOptions } from './runner.ts';
import { createXmppRecorder } from './xmpp-recorder.ts';
import type { XmppClient } from '../xmpp/index.ts';

export interface VenSuiteOptions extends SuiteOptions<AsVtn> {
  /** Where the suite listens as the VTN (HTTP). */
  readonly listen?: { readonly host: string; readonly port: number } | undefined;
  readonly tls?: TlsMaterial | undefined;
  /** Overrides the transport address the VEN registers. */
  readonly pushUrl?: string | undefined;
  /** The market context the VEN serves (default http://MarketContext1, not known to the suite). */
  readonly marketContext?: string | undefined;
  readonly pollFreq?: string | undefined;
  readonly waitMs?: number | undefined;
  /** Makes the VEN send or cancel opts (the EiOpt cases); without one they are skipped. */
  readonly adapter?: VenAdapter | undefined;
  /** For `transport: 'xmpp'`: the suite's connection (not started), logged in as the VTN's JID with a fixed resource. */
  readonly xmpp?: { readonly client: XmppClient } | undefined;
  /** Called once the suite listens (with its URL, `xmpp:JID` over XMPP): start the VEN under test here, or tell the operator to. */
  readonly onListening?: ((url: string) => void | Promise<void>) | undefined;
}

/** The suite's VTN, listening; `run` runs the cases (the VEN may register before or during the first case). */
export interface VenSuite {
  readonly url: string;
  readonly sim: SimVtn;
  run(): Promise<RunResult>;
  close(): Promise<void>;
}

export async function startVenSuite(options: Readonly<VenSuiteOptions>): Promise<VenSuite> {
  const slot: TapeSlot = { current: createTape() };
  const overXmpp = options.transport === 'xmpp';
  if (overXmpp && options.xmpp === undefined) throw new Error("an XMPP run needs the suite's XMPP connection (options.xmpp)");
  const sim = createSimVtn({ pollFreq: options.pollFreq, xmpp: overXmpp });
  const xmpp = overXmpp && options.xmpp !== undefined ? createXmppRecorder({ slot, client: options.xmpp.client, peerJid: () => sim.registration?.transportAddress ?? '', timeoutMs: 10_000 }) : undefined;
  xmpp?.onPayload((xml, from) => sim.handleXmpp(xml, from));
  const server: RecordingServer | undefined = overXmpp ? undefined : await startRecordingServer({ slot, host: options.listen?.host ?? '127.0.0.1', port: options.listen?.port ?? 0, handler: sim.handle, tls: options.tls });
  const url = xmpp === undefined ? (server?.url ?? '') : `xmpp:${await xmpp.start()}`;
  const client = createRecordingClient({ slot, tls: options.tls, timeoutMs: 10_000 });
  const ctx: AsVtn = {
    transport: options.transport,
    sim,
    client,
    xmpp,
    url,
    pushUrl: options.pushUrl,
    marketContext: options.marketContext ?? 'http://MarketContext1',
    marketContextKnown: options.marketContext !== undefined,
    waitMs: options.waitMs ?? 8_000,
    adapter: options.adapter,
  };
  await options.onListening?.(url);
  return {
    url,
    sim,
    run: () =>
      runSuite(options, { side: 'ven', peer: url, cases: venCases, context: ctx, slot }),
    close: async () => {
      await server?.close();
      await xmpp?.stop();
    },
  };
}
