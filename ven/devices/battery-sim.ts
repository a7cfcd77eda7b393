/**
 * A battery behind a SunSpec inverter, speaking real Modbus TCP: the test double for the SunSpec
 * driver, and a stand-in device for demos. Register map (sunspec-map.ts): `SunS` at the base
 * address (40000 by default), model 1 (common), 120 (nameplate), 103 (three-phase inverter, W for
 * metering), 124 (basic storage controls), end model.
 *
 * Physics, advanced in sub-steps of at most 100 ms:
 * - target: StorCtl_Mod bit 0 (CHARGE) adds InWRte % × WChaMax, bit 1 (DISCHARGE) subtracts
 *   OutWRte % × WChaMax (negative rates count as 0); mode 0 = normal operation = idle (the
 *   simulated site has no other load); clamped to [−maxDischargeW, maxChargeW];
 * - ramp: power moves toward the target at min(rampWPerS, WChaGra/WDisChaGra % WChaMax/s);
 * - SoC integrates power (no losses), clamped to [MinRsvPct, 100] %; at a limit the power in that
 *   direction is forced to 0;
 * - revert: InOutWRte_RvrtTms s after the last control write, StorCtl_Mod returns to 0.
 *
 * Time: `step(dtMs)` advances the physics explicitly; in addition, before every request and every
 * `state()`, the physics catches up with `clock()` (ms; default `Date.now`). Tests pass a clock
 * that stands still and drive time with `step` alone.
 *
 * The server does not own its socket logic: `handle(stream)` serves any duplex stream.
 * All unit ids are answered (the simulator is its own gateway).
 */
import net from 'node:net';
import type { Duplex } from 'node:stream';
import { ModbusFrameError } from './errors.ts';
import {
  encodeAdu,
  encodeResponse,
  exceptionFor,
  ExceptionCode,
  parseAdu,
  parseRequest,
  splitFrames,
  type ExceptionCodeValue,
  type ModbusRequest,
  type ModbusResponse,
} from './modbus-frame.ts';
import {
  ChargeStatus,
  Common,
  CommonStringSize,
  DerType,
  encodeString,
  fromInt16,
  Inverter,
  layoutModels,
  Nameplate,
  NotImplemented,
  Storage,
  StorCtlMode,
  SUNS_MARKER,
  toInt16,
  applyScale,
  type SunSpecLayout,
} from './sunspec-map.ts';

export interface BatterySimulatorOptions {
  /** Usable capacity, Wh. */
  readonly capacityWh: number;
  /** Initial state of charge, %. */
  readonly socPct: number;
  /** Hardware charge limit, W; also the initial WChaMax. */
  readonly maxChargeW: number;
  /** Hardware discharge limit, W (a magnitude). */
  readonly maxDischargeW: number;
  /** Hardware ramp limit, W/s. */
  readonly rampWPerS: number;
  /** Initial MinRsvPct, % (default 0). */
  readonly minReservePct?: number;
  /** Nominal battery voltage for InBatV / StorAval, V (default 400). */
  readonly batteryVoltageV?: number;
  /** Address of the `SunS` marker (default 40000; 0 and 50000 are the alternatives). */
  readonly baseAddress?: number;
  /** Listen address (default 127.0.0.1). */
  readonly host?: string;
  /** Listen port; 0 (default) picks a free one. */
  readonly port?: number;
  /** Milliseconds; default Date.now. */
  readonly clock?: () => number;
  /** Serial number in model 1 (default `SIM-0001`). */
  readonly serialNumber?: string;
}

/** Misbehaviours a test can switch on. */
export type BatteryFault =
  | 'none'
  /** Every request gets exception 04 (server device failure). */
  | 'server-failure'
  /** Writes are acknowledged but not stored (a read-back shows the old values). */
  | 'ignore-writes'
  /** Requests get no answer at all (the client times out). */
  | 'no-response';

export interface BatteryState {
  readonly socPct: number;
  /** Grid-side power, W: + charging, − discharging (model 103 W is the opposite sign). */
  readonly powerW: number;
  /** What the controls ask for after clamping, W, same sign. */
  readonly targetW: number;
  readonly storCtlMod: number;
  readonly chargeStatus: number;
  /** Simulated time elapsed, ms. */
  readonly elapsedMs: number;
}

export interface BatterySimulator {
  readonly host: string;
  readonly port: number;
  readonly layout: SunSpecLayout;
  /** Serves Modbus TCP on any duplex stream (a socket, or one end of a test pair). */
  handle(stream: Duplex): void;
  state(): BatteryState;
  /** Advances the physics by `dtMs` of simulated time. */
  step(dtMs: number): void;
  setFault(fault: BatteryFault): void;
  /** Direct register access for tests and diagnostics (no Modbus). */
  peek(address: number, count: number): number[];
  /** Stops listening and drops every connection. */
  close(): Promise<void>;
}

const MAX_SUBSTEP_MS = 100;

/** Scale factors the simulator publishes. */
const SF = {
  RATE: -2, // InOutWRte_SF: 0.01 %
  GRADIENT: -2, // WChaDisChaGra_SF: 0.01 %/s
  SOC: -1, // ChaState_SF, MinRsvPct_SF: 0.1 %
  AH: -1, // StorAval_SF
  VOLT: -1, // InBatV_SF, V_SF
  AMP: -2, // A_SF
  HZ: -2, // Hz_SF
} as const;

/** Smallest scale factor ≥ 0 that fits `value` into `max`. */
function fitScale(value: number, max: number): number {
  let sf = 0;
  while (Math.abs(value) / 10 ** sf > max) sf++;
  return sf;
}

function requirePositive(name: string, value: number, allowZero = false): void {
  if (!Number.isFinite(value) || value < 0 || (!allowZero && value === 0)) {
    throw new RangeError(`battery simulator option ${name} must be a ${allowZero ? 'non-negative' : 'positive'} number, got ${String(value)}`);
  }
}

export async function createBatterySimulator(options: Readonly<BatterySimulatorOptions>): Promise<BatterySimulator> {
  requirePositive('capacityWh', options.capacityWh);
  requirePositive('maxChargeW', options.maxChargeW);
  requirePositive('maxDischargeW', options.maxDischargeW);
  requirePositive('rampWPerS', options.rampWPerS);
  if (!(options.socPct >= 0 && options.socPct <= 100)) throw new RangeError(`battery simulator option socPct must be in [0, 100], got ${String(options.socPct)}`);
  const minReserveInit = options.minReservePct ?? 0;
  if (!(minReserveInit >= 0 && minReserveInit <= 100)) throw new RangeError(`battery simulator option minReservePct must be in [0, 100]`);
  const voltage = options.batteryVoltageV ?? 400;
  const clock = options.clock ?? Date.now;
  const base = options.baseAddress ?? 40000;

  const layout = layoutModels(base, [
    { id: Common.ID, length: Common.LENGTH },
    { id: Nameplate.ID, length: Nameplate.LENGTH },
    { id: Inverter.ID, length: Inverter.LENGTH },
    { id: Storage.ID, length: Storage.LENGTH },
  ]);
  const addressOf = (id: number): number => {
    const m = layout.models.find((x) => x.id === id);
    if (!m) throw new Error(`model ${id} not in layout`);
    return m.address;
  };
  const common = addressOf(Common.ID);
  const nameplate = addressOf(Nameplate.ID);
  const inverter = addressOf(Inverter.ID);
  const storage = addressOf(Storage.ID);

  const image = new Uint16Array(layout.size);
  const idx = (address: number): number => address - base;
  const get = (address: number): number => image[idx(address)] ?? 0;
  const set = (address: number, value: number): void => {
    image[idx(address)] = value;
  };
  const setI16 = (address: number, value: number): void => set(address, fromInt16(value));

  // --- static content -------------------------------------------------------------------------
  set(base, SUNS_MARKER[0]);
  set(base + 1, SUNS_MARKER[1]);
  for (const m of layout.models) {
    set(m.address, m.id);
    set(m.address + 1, m.length);
  }
  set(layout.end, 0xffff);
  set(layout.end + 1, 0);
  const strings: [number, number, string][] = [
    [Common.Mn, CommonStringSize.Mn, 'oadr-ledger'],
    [Common.Md, CommonStringSize.Md, 'battery-sim'],
    [Common.Opt, CommonStringSize.Opt, ''],
    [Common.Vr, CommonStringSize.Vr, '1.0.0'],
    [Common.SN, CommonStringSize.SN, options.serialNumber ?? 'SIM-0001'],
  ];
  for (const [offset, size, text] of strings) encodeString(text, size).forEach((r, i) => set(common + offset + i, r));
  set(common + Common.DA, 1);
  set(common + Common.Pad, 0x8000);

  const wSf = fitScale(Math.max(options.maxChargeW, options.maxDischargeW), 0x7fff);
  const wChaMaxSf = fitScale(options.maxChargeW, 0xfffe);
  const whSf = fitScale(options.capacityWh, 0xfffe);
  const ahRtg = options.capacityWh / voltage;

  // model 120 nameplate: everything "not implemented" except what a storage driver needs
  for (let o = 2; o < 2 + Nameplate.LENGTH; o++) set(nameplate + o, NotImplemented.UINT16);
  for (const sfPoint of [Nameplate.VARtg_SF, Nameplate.VArRtg_SF, Nameplate.ARtg_SF, Nameplate.PFRtg_SF, Nameplate.VArRtgQ1, Nameplate.VArRtgQ2, Nameplate.VArRtgQ3, Nameplate.VArRtgQ4, Nameplate.PFRtgQ1, Nameplate.PFRtgQ2, Nameplate.PFRtgQ3, Nameplate.PFRtgQ4]) {
    set(nameplate + sfPoint, NotImplemented.INT16);
  }
  set(nameplate + Nameplate.DERTyp, DerType.PV_STOR);
  set(nameplate + Nameplate.WRtg, Math.round(Math.max(options.maxChargeW, options.maxDischargeW) / 10 ** wSf));
  setI16(nameplate + Nameplate.WRtg_SF, wSf);
  set(nameplate + Nameplate.WHRtg, Math.round(options.capacityWh / 10 ** whSf));
  setI16(nameplate + Nameplate.WHRtg_SF, whSf);
  set(nameplate + Nameplate.AhrRtg, Math.round(ahRtg * 10));
  setI16(nameplate + Nameplate.AhrRtg_SF, -1);
  set(nameplate + Nameplate.MaxChaRte, Math.round(options.maxChargeW / 10 ** wSf));
  setI16(nameplate + Nameplate.MaxChaRte_SF, wSf);
  set(nameplate + Nameplate.MaxDisChaRte, Math.round(options.maxDischargeW / 10 ** wSf));
  setI16(nameplate + Nameplate.MaxDisChaRte_SF, wSf);
  set(nameplate + Nameplate.Pad, 0x8000);

  // model 103 inverter: all not implemented, then the points we simulate
  for (let o = 2; o < 2 + Inverter.LENGTH; o++) set(inverter + o, NotImplemented.UINT16);
  set(inverter + Inverter.WH, 0);
  set(inverter + Inverter.WH + 1, 0);
  setI16(inverter + Inverter.A_SF, SF.AMP);
  setI16(inverter + Inverter.V_SF, SF.VOLT);
  setI16(inverter + Inverter.W_SF, wSf);
  setI16(inverter + Inverter.Hz_SF, SF.HZ);
  setI16(inverter + Inverter.VA_SF, wSf);
  setI16(inverter + Inverter.WH_SF, 0);
  set(inverter + Inverter.Hz, 5000);
  for (const p of [Inverter.PhVphA, Inverter.PhVphB, Inverter.PhVphC]) set(inverter + p, 2300);

  // model 124 storage
  const rawPct = (pct: number, sf: number): number => Math.round(pct / 10 ** sf);
  set(storage + Storage.WChaMax, Math.round(options.maxChargeW / 10 ** wChaMaxSf));
  setI16(storage + Storage.WChaMax_SF, wChaMaxSf);
  const gradientPct = Math.min(655.34, (options.rampWPerS / options.maxChargeW) * 100);
  set(storage + Storage.WChaGra, rawPct(gradientPct, SF.GRADIENT));
  set(storage + Storage.WDisChaGra, rawPct(gradientPct, SF.GRADIENT));
  setI16(storage + Storage.WChaDisChaGra_SF, SF.GRADIENT);
  set(storage + Storage.StorCtl_Mod, StorCtlMode.NONE);
  set(storage + Storage.VAChaMax, NotImplemented.UINT16);
  set(storage + Storage.VAChaMax_SF, NotImplemented.SUNSSF);
  set(storage + Storage.MinRsvPct, rawPct(minReserveInit, SF.SOC));
  setI16(storage + Storage.MinRsvPct_SF, SF.SOC);
  setI16(storage + Storage.ChaState_SF, SF.SOC);
  setI16(storage + Storage.StorAval_SF, SF.AH);
  setI16(storage + Storage.InBatV_SF, SF.VOLT);
  setI16(storage + Storage.OutWRte, 0);
  setI16(storage + Storage.InWRte, 0);
  set(storage + Storage.InOutWRte_WinTms, 0);
  set(storage + Storage.InOutWRte_RvrtTms, 0);
  set(storage + Storage.InOutWRte_RmpTms, 0);
  set(storage + Storage.ChaGriSet, 1); // GRID
  setI16(storage + Storage.InOutWRte_SF, SF.RATE);

  // --- physics --------------------------------------------------------------------------------
  let energyWh = (options.capacityWh * options.socPct) / 100;
  let powerW = 0;
  let targetW = 0;
  let elapsedMs = 0;
  let controlSinceMs = 0;
  let lastClock = clock();
  let fault: BatteryFault = 'none';
  let exportedWh = 0;

  const sfOf = (address: number): number => toInt16(get(address));
  const wChaMaxW = (): number => applyScale(get(storage + Storage.WChaMax), sfOf(storage + Storage.WChaMax_SF));
  const reservePct = (): number => applyScale(get(storage + Storage.MinRsvPct), sfOf(storage + Storage.MinRsvPct_SF));
  const socPct = (): number => (energyWh / options.capacityWh) * 100;
  const ratePct = (offset: number): number => {
    const raw = get(storage + offset);
    if (raw === NotImplemented.INT16) return 0;
    return Math.max(0, applyScale(toInt16(raw), sfOf(storage + Storage.InOutWRte_SF)));
  };

  function controlTarget(): number {
    const mode = get(storage + Storage.StorCtl_Mod);
    if (mode === NotImplemented.BITFIELD16) return 0;
    let t = 0;
    if (mode & StorCtlMode.CHARGE) t += (ratePct(Storage.InWRte) / 100) * wChaMaxW();
    if (mode & StorCtlMode.DISCHARGE) t -= (ratePct(Storage.OutWRte) / 100) * wChaMaxW();
    t = Math.min(options.maxChargeW, Math.max(-options.maxDischargeW, t));
    const soc = socPct();
    if (t > 0 && soc >= 100) t = 0;
    if (t < 0 && soc <= reservePct()) t = 0;
    return t;
  }

  function rampLimit(charging: boolean): number {
    const grad = get(storage + (charging ? Storage.WChaGra : Storage.WDisChaGra));
    if (grad === NotImplemented.UINT16) return options.rampWPerS;
    const byGradient = (applyScale(grad, sfOf(storage + Storage.WChaDisChaGra_SF)) / 100) * wChaMaxW();
    return Math.min(options.rampWPerS, byGradient);
  }

  function substep(dtMs: number): void {
    elapsedMs += dtMs;
    const rvrt = get(storage + Storage.InOutWRte_RvrtTms);
    if (get(storage + Storage.StorCtl_Mod) !== StorCtlMode.NONE && rvrt !== 0 && rvrt !== NotImplemented.UINT16 && elapsedMs - controlSinceMs >= rvrt * 1000) {
      set(storage + Storage.StorCtl_Mod, StorCtlMode.NONE);
    }
    targetW = controlTarget();
    const maxDelta = (rampLimit(targetW > 0 || powerW > 0) * dtMs) / 1000;
    const delta = targetW - powerW;
    powerW = Math.abs(delta) <= maxDelta ? targetW : powerW + Math.sign(delta) * maxDelta;

    const before = energyWh;
    energyWh += (powerW * dtMs) / 3_600_000;
    const floorWh = (options.capacityWh * reservePct()) / 100;
    if (powerW > 0 && energyWh >= options.capacityWh) {
      energyWh = options.capacityWh;
      powerW = 0;
    } else if (powerW < 0 && energyWh <= floorWh) {
      energyWh = Math.min(before, floorWh); // stop at the reserve (or where it already was, if below)
      powerW = 0;
    }
    energyWh = Math.min(options.capacityWh, Math.max(0, energyWh));
    if (powerW < 0) exportedWh += (-powerW * dtMs) / 3_600_000;
  }

  function step(dtMs: number): void {
    if (!Number.isFinite(dtMs) || dtMs < 0) throw new RangeError(`step(dtMs) needs a non-negative number of ms, got ${String(dtMs)}`);
    let left = dtMs;
    while (left > 0) {
      const dt = Math.min(MAX_SUBSTEP_MS, left);
      substep(dt);
      left -= dt;
    }
    refresh();
  }

  function catchUp(): void {
    const now = clock();
    const dt = now - lastClock;
    lastClock = now;
    if (dt > 0) step(dt);
    else refresh();
  }

  function chargeStatus(): number {
    const soc = socPct();
    if (powerW > 0) return ChargeStatus.CHARGING;
    if (powerW < 0) return ChargeStatus.DISCHARGING;
    if (soc >= 100) return ChargeStatus.FULL;
    if (soc <= reservePct()) return ChargeStatus.EMPTY;
    return ChargeStatus.HOLDING;
  }

  /** Writes the measured points from the physics state. */
  function refresh(): void {
    targetW = controlTarget();
    const soc = socPct();
    set(storage + Storage.ChaState, Math.round(soc / 10 ** SF.SOC));
    set(storage + Storage.StorAval, Math.max(0, Math.round((((soc - reservePct()) / 100) * ahRtg) / 10 ** SF.AH)));
    set(storage + Storage.InBatV, Math.round(voltage / 10 ** SF.VOLT));
    set(storage + Storage.ChaSt, chargeStatus());
    const exportW = -powerW;
    setI16(inverter + Inverter.W, Math.max(-0x7fff, Math.min(0x7fff, Math.round(exportW / 10 ** wSf))));
    set(inverter + Inverter.VA, Math.min(0x7fff, Math.round(Math.abs(exportW) / 10 ** wSf)));
    const amps = Math.abs(exportW) / (3 * 230);
    set(inverter + Inverter.A, Math.min(0xfffe, Math.round(amps / 10 ** SF.AMP)));
    for (const p of [Inverter.AphA, Inverter.AphB, Inverter.AphC]) set(inverter + p, Math.min(0xfffe, Math.round(amps / 3 / 10 ** SF.AMP)));
    const wh = Math.floor(exportedWh) >>> 0;
    set(inverter + Inverter.WH, wh >>> 16);
    set(inverter + Inverter.WH + 1, wh & 0xffff);
    set(inverter + Inverter.St, powerW === 0 ? 8 : 4); // 8 STANDBY, 4 MPPT (operating)
  }

  // --- Modbus service ---------------------------------------------------------------------------
  const mapped = (address: number, count: number): boolean => address >= base && address + count <= base + layout.size;

  /** Validates one register write; returns an exception code or undefined when allowed. */
  function checkWrite(address: number, value: number): ExceptionCodeValue | undefined {
    const offset = address - storage;
    const int16 = toInt16(value);
    switch (offset) {
      case Storage.WChaMax:
        return applyScale(value, sfOf(storage + Storage.WChaMax_SF)) <= options.maxChargeW ? undefined : ExceptionCode.ILLEGAL_DATA_VALUE;
      case Storage.WChaGra:
      case Storage.WDisChaGra:
      case Storage.InOutWRte_WinTms:
      case Storage.InOutWRte_RvrtTms:
      case Storage.InOutWRte_RmpTms:
        return undefined;
      case Storage.StorCtl_Mod:
        return value <= (StorCtlMode.CHARGE | StorCtlMode.DISCHARGE) ? undefined : ExceptionCode.ILLEGAL_DATA_VALUE;
      case Storage.MinRsvPct: {
        const pct = applyScale(value, sfOf(storage + Storage.MinRsvPct_SF));
        return pct <= 100 ? undefined : ExceptionCode.ILLEGAL_DATA_VALUE;
      }
      case Storage.OutWRte:
      case Storage.InWRte: {
        const pct = applyScale(int16, sfOf(storage + Storage.InOutWRte_SF));
        return pct >= -100 && pct <= 100 ? undefined : ExceptionCode.ILLEGAL_DATA_VALUE;
      }
      case Storage.ChaGriSet:
        return value <= 1 ? undefined : ExceptionCode.ILLEGAL_DATA_VALUE;
      default:
        return ExceptionCode.ILLEGAL_DATA_ADDRESS; // read-only or outside model 124
    }
  }

  const CONTROL_OFFSETS: ReadonlySet<number> = new Set([Storage.StorCtl_Mod, Storage.InWRte, Storage.OutWRte, Storage.InOutWRte_RvrtTms]);

  function write(address: number, values: readonly number[]): ExceptionCodeValue | undefined {
    if (!mapped(address, values.length)) return ExceptionCode.ILLEGAL_DATA_ADDRESS;
    for (let i = 0; i < values.length; i++) {
      const problem = checkWrite(address + i, values[i] ?? 0);
      if (problem !== undefined) return problem;
    }
    if (fault === 'ignore-writes') return undefined;
    let control = false;
    values.forEach((v, i) => {
      set(address + i, v);
      if (CONTROL_OFFSETS.has(address + i - storage)) control = true;
    });
    if (control) controlSinceMs = elapsedMs;
    refresh();
    return undefined;
  }

  function serve(request: ModbusRequest): ModbusResponse {
    const fc = request.kind === 'read' ? request.fc : request.kind === 'write-single' ? 0x06 : 0x10;
    if (fault === 'server-failure') return { kind: 'exception', fc, exceptionCode: ExceptionCode.SERVER_DEVICE_FAILURE };
    catchUp();
    switch (request.kind) {
      case 'read':
        if (!mapped(request.address, request.quantity)) return { kind: 'exception', fc, exceptionCode: ExceptionCode.ILLEGAL_DATA_ADDRESS };
        return { kind: 'read', fc: request.fc, values: Array.from(image.subarray(idx(request.address), idx(request.address) + request.quantity)) };
      case 'write-single': {
        const problem = write(request.address, [request.value]);
        return problem === undefined ? { kind: 'write-single', address: request.address, value: request.value } : { kind: 'exception', fc, exceptionCode: problem };
      }
      case 'write-multiple': {
        const problem = write(request.address, request.values);
        return problem === undefined ? { kind: 'write-multiple', address: request.address, quantity: request.values.length } : { kind: 'exception', fc, exceptionCode: problem };
      }
    }
  }

  /** One ADU in, the answer out (undefined = no answer). */
  function answer(frame: Uint8Array): Uint8Array | undefined {
    const adu = parseAdu(frame);
    if (fault === 'no-response') return undefined;
    let response: ModbusResponse;
    try {
      response = serve(parseRequest(adu.pdu));
    } catch (err) {
      if (!(err instanceof ModbusFrameError)) throw err;
      response = { kind: 'exception', fc: (adu.pdu[0] ?? 0) & 0x7f || 0x7f, exceptionCode: exceptionFor(err) };
    }
    return encodeAdu({ transactionId: adu.transactionId, unitId: adu.unitId, pdu: encodeResponse(response) });
  }

  const streams = new Set<Duplex>();

  function handle(stream: Duplex): void {
    streams.add(stream);
    let carry: Uint8Array = new Uint8Array(0);
    stream.on('data', (chunk: Buffer) => {
      try {
        const split = splitFrames(chunk, carry);
        carry = split.carry;
        for (const frame of split.frames) {
          const reply = answer(frame);
          if (reply) stream.write(reply);
        }
      } catch (err) {
        // A stream that cannot be re-synchronised (bad protocol id, bad length) is dropped.
        stream.destroy(err instanceof Error ? err : undefined);
      }
    });
    stream.on('error', () => {
      /* peer reset: nothing to do, 'close' follows */
    });
    stream.on('close', () => streams.delete(stream));
  }

  refresh();

  const server = net.createServer((socket) => handle(socket));
  const host = options.host ?? '127.0.0.1';
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const addr = server.address();
  const port = typeof addr === 'object' && addr ? addr.port : 0;

  return {
    host,
    port,
    layout,
    handle,
    state(): BatteryState {
      catchUp();
      return { socPct: socPct(), powerW, targetW, storCtlMod: get(storage + Storage.StorCtl_Mod), chargeStatus: chargeStatus(), elapsedMs };
    },
    step,
    setFault(next: BatteryFault): void {
      fault = next;
    },
    peek(address: number, count: number): number[] {
      if (!mapped(address, count)) throw new RangeError(`registers ${address}..${address + count - 1} are not mapped`);
      catchUp();
      return Array.from(image.subarray(idx(address), idx(address) + count));
    },
    close(): Promise<void> {
      for (const s of streams) s.destroy();
      streams.clear();
      return new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
