/**
 * The demo's VENs: each simulated household or battery site behind its own VEN, in this process,
 * speaking OpenADR 2.0b to the gateway over real HTTP on loopback (pull), or, for the households
 * whose transport is XMPP while the demo runs its XMPP server, over XMPP through that server (the
 * gateway pushes to them; they send from their own JID). Households run the
 * household simulator on the demo clock (the EMS inside the VEN of those that have one); the
 * battery site is the VEN command's own `sim-site` (a household load and a SunSpec battery
 * simulator over Modbus TCP behind one meter).
 */
import { writeFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { createHouseholdSim, createVen, runVenCommand, type Ven } from '../ven/index.ts';
import { createXmppClient } from '../xmpp/index.ts';
import { createHouseholdDevice } from './household-device.ts';
import { createHouseholdEms, type HouseholdEms } from './household-ems.ts';
import { zonedMs, type Household } from './scenario.ts';
import { DemoError } from './errors.ts';
import type { DemoXmppServer } from './xmpp-server.ts';

export interface FleetMember {
  readonly customerId: string;
  readonly venName: string;
  readonly ven: Ven;
  readonly ems: HouseholdEms | undefined;
  readonly transport: 'http' | 'xmpp';
  stop(): Promise<void>;
}

export interface MemberContext {
  /** The VTN's base URL, as a VEN's --vtn-url. */
  readonly vtnUrl: string;
  /** The demo's XMPP server, when it runs one: households whose transport is XMPP connect through it. */
  readonly xmpp: DemoXmppServer | undefined;
  /** Where the VENs' outboxes and state live: DIR/NAME. */
  readonly dir: string;
  readonly clock: () => number;
  /** Runs already planned by the EMS, per VEN name and event (kept by the demo's state file). */
  readonly plans: Readonly<Record<string, Readonly<Record<string, Readonly<Record<string, number>>>>>>;
  readonly onPlan: (venName: string, eventId: string, starts: Readonly<Record<string, number>>) => void;
  readonly onEmsError: (venName: string, eventId: string, error: Error) => void;
}

/** Households ask nothing the device could refuse: they opt in and the EMS (if any) does what moving runs can. */
const HOUSEHOLD_OPT = { cannotDeliverTolerance: Number.POSITIVE_INFINITY } as const;

export async function startHousehold(h: Household, day: string, ctx: MemberContext): Promise<FleetMember> {
  const dayStartMs = zonedMs(day, '00:00');
  const planned = ctx.plans[h.venName] ?? {};
  // A restart in the middle of the day finds the runs where the EMS put them.
  const moved = Object.assign({}, ...Object.values(planned)) as Record<string, number>;
  const sim = createHouseholdSim({
    startMs: dayStartMs,
    fixedLoadW: h.fixedLoadW,
    appliances: h.appliances.map((a) => ({ id: a.id, powerW: a.powerW, durationSlots: a.durationSlots, startSlot: moved[a.id] ?? a.baselineStartSlot })),
    now: ctx.clock,
  });
  const xmpp = h.transport === 'xmpp' ? ctx.xmpp : undefined;
  const ven = await createVen({
    vtnUrl: xmpp === undefined ? ctx.vtnUrl : 'xmpp:',
    ...(xmpp === undefined
      ? {}
      : {
          xmpp: {
            // Dozens of SCRAM logins at once on a busy machine: more time for each step than the client's default 10 s.
            client: createXmppClient({ url: xmpp.url, jid: xmpp.jidOf(h.venName), resource: 'ven', tls: { ca: xmpp.caPem }, auth: { mechanism: 'SCRAM-SHA-1', password: xmpp.password }, timeoutMs: 60_000 }),
            vtnJid: xmpp.vtnFullJid,
          },
        }),
    venName: h.venName,
    device: createHouseholdDevice({ sim, contractPowerW: h.contractPowerW }),
    dataDir: join(ctx.dir, h.venName),
    clock: ctx.clock,
    opt: HOUSEHOLD_OPT,
  });
  await ven.start();
  const ems = h.ems
    ? createHouseholdEms({
        household: h,
        ven,
        dayStartMs,
        planned: Object.keys(planned),
        apply: (starts) => sim.applySchedule(starts),
        onPlan: (eventId, starts) => ctx.onPlan(h.venName, eventId, starts),
        onError: (eventId, e) => ctx.onEmsError(h.venName, eventId, e),
        now: ctx.clock,
      })
    : undefined;
  return { customerId: h.customerId, venName: h.venName, ven, ems, transport: xmpp === undefined ? 'http' : 'xmpp', stop: () => ven.stop() };
}

/** The battery site: `oadr-ledger ven --device sim-site` with a constant household load, on the demo clock. */
export async function startBatterySite(customerId: string, loadW: number, ctx: MemberContext): Promise<FleetMember> {
  const dir = join(ctx.dir, customerId);
  mkdirSync(dir, { recursive: true });
  const config = join(dir, 'ven.config.json');
  writeFileSync(config, `${JSON.stringify({ site: { loadW } })}\n`);
  const abort = new AbortController();
  let ven: Ven | undefined;
  let stderr = '';
  const exit = runVenCommand(['--vtn-url', ctx.vtnUrl, '--ven-name', customerId, '--device', 'sim-site', '--data-dir', dir, '--config', config], {
    signal: abort.signal,
    clock: ctx.clock,
    onStarted: (v) => void (ven = v),
    stdout: () => {},
    stderr: (s) => void (stderr += s),
  });
  const started = await Promise.race([exit.then(() => undefined), new Promise<Ven>((resolve) => {
    const check = setInterval(() => {
      if (ven !== undefined) {
        clearInterval(check);
        resolve(ven);
      }
    }, 20);
    void exit.finally(() => clearInterval(check));
  })]);
  if (started === undefined) throw new DemoError('NOT_READY', `the battery site's VEN did not start: ${stderr.trim()}`);
  return {
    customerId,
    venName: customerId,
    ven: started,
    ems: undefined,
    transport: 'http',
    async stop() {
      abort.abort();
      await exit;
    },
  };
}
