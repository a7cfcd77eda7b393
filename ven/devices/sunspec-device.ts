/**
 * A storage device (battery inverter) controlled over Modbus TCP with SunSpec model 124, through
 * `modbus-serial`. See device.ts for the sign convention and docs/devices.md for the mapping.
 *
 * - connect(): TCP connect, discovery (`SunS`, model chain; models 1 and 124 required, 103 and 120
 *   used when present), limits.
 * - setPowerTarget(W): clamp to limits (WChaMax, model 120 MaxChaRte/MaxDisChaRte, the installer's
 *   options), write OutWRte/InWRte/WinTms/RvrtTms then StorCtl_Mod, read back and compare.
 * - restoreNormal(): StorCtl_Mod = 0, read back.
 * - Every call reconnects (and rediscovers) when the connection was lost, so a device that
 *   restarts is picked up again on the next call; while it is down, calls reject with
 *   DEVICE_UNREACHABLE.
 */
import modbusSerial from 'modbus-serial';
import { clampToLimits, Metering, type Device, type DeviceLimits, type DeviceReading } from './device.ts';
import { DeviceError, DeviceErrorCode } from './errors.ts';
import { discoverSunSpec, type SunSpecDiscovery } from './sunspec-discovery.ts';
import {
  applyScale,
  Common,
  fromInt16,
  Inverter,
  Nameplate,
  NotImplemented,
  scaleFactor,
  Storage,
  StorCtlMode,
  SUNSPEC_BASE_ADDRESSES,
  toInt16,
  unscaleTowardZero,
} from './sunspec-map.ts';

type ModbusClientClass = typeof modbusSerial.default;
type ModbusClient = InstanceType<ModbusClientClass>;
// modbus-serial is CommonJS (`module.exports = ModbusRTU`); its typings describe a default export.
const ModbusRTU = ((modbusSerial as { default?: unknown }).default ?? modbusSerial) as ModbusClientClass;

export const SUNSPEC_DEVICE_KIND = 'sunspec-storage';

export interface SunSpecDeviceOptions {
  readonly host: string;
  readonly port: number;
  /** Modbus unit id (default 1). */
  readonly unitId?: number;
  /** Per request and for the TCP connect, ms (default 1000). */
  readonly timeoutMs?: number;
  /** Installation limits on top of the device's own (e.g. the grid connection), W. */
  readonly maxChargeW?: number;
  readonly maxDischargeW?: number;
  /** Where to look for `SunS` (default 40000, 0, 50000). */
  readonly baseAddresses?: readonly number[];
  /**
   * Written to InOutWRte_RvrtTms with every setpoint: the device falls back to normal operation
   * this many seconds after the last setpoint if the VEN stops refreshing it. 0 (default) = never.
   */
  readonly revertTimeoutS?: number;
}

export interface SunSpecDevice extends Device {
  /** What discovery found (undefined before the first successful connect). */
  discovery(): SunSpecDiscovery | undefined;
}

/** Model 124 registers, decoded. */
interface StorageBlock {
  readonly wChaMaxW: number;
  readonly mode: number;
  readonly outRaw: number;
  readonly inRaw: number;
  readonly rvrtS: number;
  readonly rateSf: number;
  readonly socPct: number | undefined;
  readonly minReservePct: number | undefined;
}

interface Commanded {
  readonly mode: number;
  readonly outRaw: number;
  readonly inRaw: number;
}

const REQUIRED_MODELS = [
  { id: Common.ID, name: 'common' },
  { id: Storage.ID, name: 'basic storage controls' },
] as const;

export function createSunSpecDevice(options: Readonly<SunSpecDeviceOptions>): SunSpecDevice {
  const unitId = options.unitId ?? 1;
  const timeoutMs = options.timeoutMs ?? 1000;
  const revertTimeoutS = options.revertTimeoutS ?? 0;
  const endpoint = `${options.host}:${options.port}`;
  if (!Number.isInteger(revertTimeoutS) || revertTimeoutS < 0 || revertTimeoutS > 0xfffe) {
    throw new DeviceError(DeviceErrorCode.INVALID_ARGUMENT, `revertTimeoutS must be an integer in [0, 65534], got ${String(revertTimeoutS)}`, { endpoint });
  }

  let client: ModbusClient | undefined;
  let found: SunSpecDiscovery | undefined;
  let storageAddress = 0;
  let inverterAddress: number | undefined;
  let nameplate: { maxChargeW?: number; maxDischargeW?: number; capacityWh?: number } = {};
  let currentLimits: DeviceLimits | undefined;
  let commanded: Commanded | undefined;
  let queue: Promise<unknown> = Promise.resolve();

  /** Runs operations one at a time: a setpoint's write and read-back never interleave with another. */
  function exclusive<T>(fn: () => Promise<T>): Promise<T> {
    const run = queue.then(fn, fn);
    queue = run.catch(() => undefined);
    return run;
  }

  function translate(err: unknown, doing: string): DeviceError {
    if (err instanceof DeviceError) return err;
    const e = err as { modbusCode?: unknown; message?: unknown; name?: unknown } | undefined;
    if (typeof e?.modbusCode === 'number') {
      return new DeviceError(
        DeviceErrorCode.MODBUS_EXCEPTION,
        `SunSpec device at ${endpoint} answered Modbus exception ${e.modbusCode} while ${doing}; check the register map and the values written`,
        { endpoint, modbusCode: e.modbusCode },
        { cause: err },
      );
    }
    return new DeviceError(
      DeviceErrorCode.DEVICE_UNREACHABLE,
      `SunSpec device at ${endpoint} is unreachable while ${doing} (${String(e?.message ?? err)}); check that it is powered and on the network — the driver reconnects on the next call`,
      { endpoint },
      { cause: err },
    );
  }

  function drop(): void {
    const c = client;
    client = undefined;
    if (c) c.destroy(() => undefined); // cancels pending transactions; close() would wait for a peer that may be gone
  }

  async function readRegs(address: number, count: number, doing: string): Promise<number[]> {
    const c = client;
    if (!c || !c.isOpen) throw new DeviceError(DeviceErrorCode.DEVICE_UNREACHABLE, `SunSpec device at ${endpoint} is not connected while ${doing}`, { endpoint });
    try {
      const out: number[] = [];
      for (let off = 0; off < count; off += 125) {
        const res = await c.readHoldingRegisters(address + off, Math.min(125, count - off));
        out.push(...res.data);
      }
      return out;
    } catch (err) {
      throw translate(err, doing);
    }
  }

  async function writeRegs(address: number, values: number[], doing: string): Promise<void> {
    const c = client;
    if (!c || !c.isOpen) throw new DeviceError(DeviceErrorCode.DEVICE_UNREACHABLE, `SunSpec device at ${endpoint} is not connected while ${doing}`, { endpoint });
    try {
      await c.writeRegisters(address, values);
    } catch (err) {
      throw translate(err, doing);
    }
  }

  async function open(): Promise<void> {
    drop();
    const c = new ModbusRTU();
    c.on('error', () => {
      /* socket errors surface as failed requests; without a listener they would crash the process */
    });
    c.setID(unitId);
    c.setTimeout(timeoutMs);
    try {
      await c.connectTCP(options.host, { port: options.port, timeout: timeoutMs });
    } catch (err) {
      c.destroy(() => undefined);
      throw translate(err, 'connecting');
    }
    client = c;
    try {
      await discover();
    } catch (err) {
      drop();
      throw err;
    }
  }

  async function discover(): Promise<void> {
    const d = await discoverSunSpec((address, count) => readRegs(address, count, 'discovering the SunSpec map'), {
      baseAddresses: options.baseAddresses ?? SUNSPEC_BASE_ADDRESSES,
      required: REQUIRED_MODELS,
      endpoint,
    });
    const storage = d.models.find((m) => m.id === Storage.ID);
    if (!storage || storage.length < Storage.LENGTH) {
      throw new DeviceError(DeviceErrorCode.SUNSPEC_BAD_CHAIN, `model 124 at ${endpoint} is ${storage?.length ?? 0} registers long, expected ${Storage.LENGTH}`, { endpoint });
    }
    storageAddress = storage.address;
    inverterAddress = d.models.find((m) => m.id === Inverter.ID && m.length >= Inverter.LENGTH)?.address;
    nameplate = {};
    const np = d.models.find((m) => m.id === Nameplate.ID && m.length >= Nameplate.LENGTH);
    if (np) {
      const r = await readRegs(np.address, 2 + Nameplate.LENGTH, 'reading the nameplate (model 120)');
      const rated = (value: number, sfOffset: number): number | undefined => {
        const sf = scaleFactor(r[sfOffset] ?? NotImplemented.SUNSSF);
        return value === NotImplemented.UINT16 || sf === undefined ? undefined : applyScale(value, sf);
      };
      nameplate = {
        maxChargeW: rated(r[Nameplate.MaxChaRte] ?? NotImplemented.UINT16, Nameplate.MaxChaRte_SF),
        maxDischargeW: rated(r[Nameplate.MaxDisChaRte] ?? NotImplemented.UINT16, Nameplate.MaxDisChaRte_SF),
        capacityWh: rated(r[Nameplate.WHRtg] ?? NotImplemented.UINT16, Nameplate.WHRtg_SF),
      };
    }
    const block = await readStorage();
    found = d;
    currentLimits = limitsFrom(block);
  }

  async function readStorage(): Promise<StorageBlock> {
    const r = await readRegs(storageAddress, 2 + Storage.LENGTH, 'reading model 124');
    const at = (offset: number): number => r[offset] ?? NotImplemented.UINT16;
    const wChaMaxSf = scaleFactor(at(Storage.WChaMax_SF));
    const rateSf = scaleFactor(at(Storage.InOutWRte_SF));
    if (at(Storage.WChaMax) === NotImplemented.UINT16 || wChaMaxSf === undefined || rateSf === undefined) {
      throw new DeviceError(
        DeviceErrorCode.POINT_NOT_IMPLEMENTED,
        `model 124 at ${endpoint} does not implement WChaMax, WChaMax_SF or InOutWRte_SF; the driver cannot size setpoints without them`,
        { endpoint },
      );
    }
    const pct = (value: number, sfOffset: number): number | undefined => {
      const sf = scaleFactor(at(sfOffset));
      return value === NotImplemented.UINT16 || sf === undefined ? undefined : applyScale(value, sf);
    };
    const mode = at(Storage.StorCtl_Mod);
    const rvrt = at(Storage.InOutWRte_RvrtTms);
    return {
      wChaMaxW: applyScale(at(Storage.WChaMax), wChaMaxSf),
      mode: mode === NotImplemented.BITFIELD16 ? 0 : mode,
      outRaw: at(Storage.OutWRte) === NotImplemented.INT16 ? 0 : toInt16(at(Storage.OutWRte)),
      inRaw: at(Storage.InWRte) === NotImplemented.INT16 ? 0 : toInt16(at(Storage.InWRte)),
      rvrtS: rvrt === NotImplemented.UINT16 ? 0 : rvrt,
      rateSf,
      socPct: pct(at(Storage.ChaState), Storage.ChaState_SF),
      minReservePct: pct(at(Storage.MinRsvPct), Storage.MinRsvPct_SF),
    };
  }

  function limitsFrom(block: StorageBlock): DeviceLimits {
    const min = (...xs: (number | undefined)[]): number => Math.max(0, Math.min(...xs.filter((x): x is number => x !== undefined && Number.isFinite(x))));
    return {
      // rates are % of WChaMax and at most 100 %, so WChaMax bounds both directions
      maxChargeW: min(block.wChaMaxW, nameplate.maxChargeW, options.maxChargeW),
      maxDischargeW: min(block.wChaMaxW, nameplate.maxDischargeW, options.maxDischargeW),
      capacityWh: nameplate.capacityWh,
      minReservePct: block.minReservePct,
    };
  }

  /** Grid-side target the registers ask for (+ charge, − discharge), undefined in normal operation. */
  function targetOf(block: StorageBlock): number | undefined {
    if (block.mode === StorCtlMode.NONE) return undefined;
    const pctToW = (raw: number): number => (Math.max(0, applyScale(raw, block.rateSf)) / 100) * block.wChaMaxW;
    let t = 0;
    if (block.mode & StorCtlMode.CHARGE) t += pctToW(block.inRaw);
    if (block.mode & StorCtlMode.DISCHARGE) t -= pctToW(block.outRaw);
    return t;
  }

  function overridden(block: StorageBlock): boolean {
    if (!commanded) return false;
    if (block.mode !== commanded.mode) return true;
    if (commanded.mode === StorCtlMode.NONE) return false;
    return block.inRaw !== commanded.inRaw || block.outRaw !== commanded.outRaw;
  }

  async function reading(block: StorageBlock): Promise<DeviceReading> {
    let powerW: number;
    if (inverterAddress !== undefined) {
      const [w = NotImplemented.INT16, wSf = NotImplemented.SUNSSF] = await readRegs(inverterAddress + Inverter.W, 2, 'reading model 103 W');
      const sf = scaleFactor(wSf);
      if (w === NotImplemented.INT16 || sf === undefined) {
        throw new DeviceError(DeviceErrorCode.POINT_NOT_IMPLEMENTED, `model 103 at ${endpoint} does not implement W / W_SF`, { endpoint });
      }
      powerW = -applyScale(toInt16(w), sf); // model 103: + = export; ours: + = consumption
    } else {
      powerW = targetOf(block) ?? 0; // no meter model: the commanded power is the best estimate
    }
    if (Object.is(powerW, -0)) powerW = 0;
    currentLimits = limitsFrom(block);
    return { powerW, socPct: block.socPct, online: true, manualOverride: overridden(block), targetW: targetOf(block) };
  }

  /** Connects when needed; retries once on a lost connection (a device restart between two calls). */
  async function withDevice<T>(doing: string, fn: () => Promise<T>): Promise<T> {
    return exclusive(async () => {
      for (let attempt = 0; ; attempt++) {
        try {
          if (!client || !client.isOpen || !found) await open();
          return await fn();
        } catch (err) {
          const e = translate(err, doing);
          if (e.code !== DeviceErrorCode.DEVICE_UNREACHABLE) throw e;
          drop();
          if (attempt >= 1) throw e;
        }
      }
    });
  }

  async function verify(expected: Commanded, rvrtS: number | undefined, doing: string): Promise<StorageBlock> {
    const back = await readStorage();
    const actual = { StorCtl_Mod: back.mode, OutWRte: back.outRaw, InWRte: back.inRaw, ...(rvrtS === undefined ? {} : { InOutWRte_RvrtTms: back.rvrtS }) };
    const wanted = { StorCtl_Mod: expected.mode, OutWRte: expected.outRaw, InWRte: expected.inRaw, ...(rvrtS === undefined ? {} : { InOutWRte_RvrtTms: rvrtS }) };
    const checkRates = expected.mode !== StorCtlMode.NONE;
    const bad = back.mode !== expected.mode || (checkRates && (back.outRaw !== expected.outRaw || back.inRaw !== expected.inRaw)) || (rvrtS !== undefined && back.rvrtS !== rvrtS);
    if (bad) {
      throw new DeviceError(
        DeviceErrorCode.READBACK_MISMATCH,
        `SunSpec device at ${endpoint} did not keep the values written while ${doing}: wrote ${JSON.stringify(wanted)}, read back ${JSON.stringify(actual)}; the device may be under local control or refuse remote control — check its settings`,
        { endpoint, expected: wanted, actual },
      );
    }
    return back;
  }

  const device: SunSpecDevice = {
    kind: SUNSPEC_DEVICE_KIND,
    // Model 103 W is the inverter's own AC power, not the connection point (no meter model is read).
    metering: Metering.DEVICE,

    connect(): Promise<void> {
      return exclusive(() => open());
    },

    read(): Promise<DeviceReading> {
      return withDevice('reading', async () => reading(await readStorage()));
    },

    setPowerTarget(targetW: number): Promise<DeviceReading> {
      if (!Number.isFinite(targetW)) {
        return Promise.reject(new DeviceError(DeviceErrorCode.INVALID_ARGUMENT, `power target ${String(targetW)} W is not a finite number`, { endpoint }));
      }
      return withDevice('writing a setpoint', async () => {
        const block = await readStorage(); // fresh WChaMax and scale factors
        const limits = limitsFrom(block);
        const clamped = clampToLimits(targetW, limits);
        const maxRaw = unscaleTowardZero(100, block.rateSf);
        const raw = block.wChaMaxW > 0 ? Math.min(maxRaw, unscaleTowardZero((Math.abs(clamped) / block.wChaMaxW) * 100, block.rateSf)) : 0;
        const wanted: Commanded =
          raw === 0
            ? { mode: StorCtlMode.CHARGE | StorCtlMode.DISCHARGE, outRaw: 0, inRaw: 0 } // hold at 0 W
            : clamped > 0
              ? { mode: StorCtlMode.CHARGE, outRaw: 0, inRaw: raw }
              : { mode: StorCtlMode.DISCHARGE, outRaw: raw, inRaw: 0 };
        // rates first, then the mode: the device never runs the new mode with the old rates
        await writeRegs(storageAddress + Storage.OutWRte, [fromInt16(wanted.outRaw), fromInt16(wanted.inRaw), 0, revertTimeoutS], 'writing InWRte/OutWRte');
        await writeRegs(storageAddress + Storage.StorCtl_Mod, [wanted.mode], 'writing StorCtl_Mod');
        commanded = wanted;
        const back = await verify(wanted, revertTimeoutS, 'writing a setpoint');
        return reading(back);
      });
    },

    restoreNormal(): Promise<void> {
      return withDevice('restoring normal operation', async () => {
        const wanted: Commanded = { mode: StorCtlMode.NONE, outRaw: 0, inRaw: 0 };
        await writeRegs(storageAddress + Storage.StorCtl_Mod, [StorCtlMode.NONE], 'writing StorCtl_Mod');
        commanded = wanted;
        await verify(wanted, undefined, 'restoring normal operation');
      });
    },

    limits(): DeviceLimits {
      if (!currentLimits) {
        throw new DeviceError(DeviceErrorCode.NOT_CONNECTED, `limits of the SunSpec device at ${endpoint} are unknown until connect() succeeds`, { endpoint });
      }
      return currentLimits;
    },

    close(): Promise<void> {
      return exclusive(async () => drop());
    },

    discovery(): SunSpecDiscovery | undefined {
      return found;
    },
  };
  return device;
}
