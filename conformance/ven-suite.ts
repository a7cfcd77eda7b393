/**
 * A run against a VEN: the suite listens as its VTN (the VEN under test is pointed at it and
 * registers, pull or push), pushes through its recording client, and runs the VEN-side cases.
 */
import type { VenAdapter } from './adapters/adapter.ts';
import type { RunResult } from './case.ts';
import { createSimVtn, type AsVtn, type SimVtn } from './as-vtn.ts';
import { venCases } from './cases/ven-cases.ts';
import { createRecordingClient, createTape, startRecordingServer, type RecordingServer, type TapeSlot, type TlsMaterial } from './http-recorder.ts';
import { runSuite, type SuiteOptions } from './runner.ts';

export interface VenSuiteOptions extends SuiteOptions<AsVtn> {
  /** Where the suite listens as the VTN. */
  readonly listen: { readonly host: string; readonly port: number };
  readonly tls?: TlsMaterial | undefined;
  /** Overrides the transport address the VEN registers. */
  readonly pushUrl?: string | undefined;
  /** The market context the VEN serves (default http://MarketContext1, not known to the suite). */
  readonly marketContext?: string | undefined;
  readonly pollFreq?: string | undefined;
  readonly waitMs?: number | undefined;
  /** Makes the VEN send or cancel opts (the EiOpt cases); without one they are skipped. */
  readonly adapter?: VenAdapter | undefined;
  /** Called once the suite listens (with its URL): start the VEN under test here, or tell the operator to. */
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
  const sim = createSimVtn({ pollFreq: options.pollFreq });
  const server: RecordingServer = await startRecordingServer({ slot, host: options.listen.host, port: options.listen.port, handler: sim.handle, tls: options.tls });
  const client = createRecordingClient({ slot, tls: options.tls, timeoutMs: 10_000 });
  const ctx: AsVtn = {
    transport: options.transport,
    sim,
    client,
    url: server.url,
    pushUrl: options.pushUrl,
    marketContext: options.marketContext ?? 'http://MarketContext1',
    marketContextKnown: options.marketContext !== undefined,
    waitMs: options.waitMs ?? 8_000,
    adapter: options.adapter,
  };
  await options.onListening?.(server.url);
  return {
    url: server.url,
    sim,
    run: () =>
      runSuite(options, { side: 'ven', peer: server.url, cases: venCases, context: ctx, slot }),
    close: () => server.close(),
  };
}
