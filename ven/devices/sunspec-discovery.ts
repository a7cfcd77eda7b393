/**
 * SunSpec discovery over any register reader: find the `SunS` marker (40000, then 0, then 50000),
 * walk the model chain to the end model, read the common model. Transport-free, so it runs over
 * `modbus-serial` in the driver and over a plain array in a unit test.
 */
import { DeviceError, DeviceErrorCode } from './errors.ts';
import {
  Common,
  CommonStringSize,
  decodeString,
  END_MODEL_ID,
  SUNS_LENGTH,
  SUNS_MARKER,
  SUNSPEC_BASE_ADDRESSES,
  type PlacedModel,
} from './sunspec-map.ts';

/** Reads `count` holding registers at `address`; rejects with DeviceError (MODBUS_EXCEPTION, DEVICE_UNREACHABLE, …). */
export type RegisterReader = (address: number, count: number) => Promise<readonly number[]>;

export interface SunSpecIdentity {
  readonly manufacturer: string;
  readonly model: string;
  readonly options: string;
  readonly version: string;
  readonly serialNumber: string;
  readonly deviceAddress: number;
}

export interface SunSpecDiscovery {
  readonly baseAddress: number;
  /** Every model in chain order (the end model excluded). */
  readonly models: readonly PlacedModel[];
  readonly identity: SunSpecIdentity;
  /** True when the chain closed with the end model; false when it ran into unmapped registers. */
  readonly endModelSeen: boolean;
}

/** A chain longer than this is taken as garbage. */
const MAX_MODELS = 64;

export interface DiscoverOptions {
  readonly baseAddresses?: readonly number[];
  /** Models the caller cannot work without (checked after the walk). */
  readonly required?: readonly { readonly id: number; readonly name: string }[];
  /** For messages: `host:port`. */
  readonly endpoint?: string;
}

export async function discoverSunSpec(read: RegisterReader, options: Readonly<DiscoverOptions> = {}): Promise<SunSpecDiscovery> {
  const bases = options.baseAddresses ?? SUNSPEC_BASE_ADDRESSES;
  const endpoint = options.endpoint;
  let base: number | undefined;
  for (const candidate of bases) {
    try {
      const marker = await read(candidate, SUNS_LENGTH);
      if (marker[0] === SUNS_MARKER[0] && marker[1] === SUNS_MARKER[1]) {
        base = candidate;
        break;
      }
    } catch (err) {
      // an exception (typically 02) means "nothing mapped here": try the next base
      if (!(err instanceof DeviceError && err.code === DeviceErrorCode.MODBUS_EXCEPTION)) throw err;
    }
  }
  if (base === undefined) {
    throw new DeviceError(
      DeviceErrorCode.SUNSPEC_NOT_FOUND,
      `no SunSpec 'SunS' marker at ${bases.join(', ')}${endpoint ? ` on ${endpoint}` : ''}; check the device has SunSpec Modbus enabled and the unit id is right`,
      { endpoint },
    );
  }

  const models: PlacedModel[] = [];
  let address = base + SUNS_LENGTH;
  let endModelSeen = false;
  for (;;) {
    if (models.length > MAX_MODELS) {
      throw new DeviceError(DeviceErrorCode.SUNSPEC_BAD_CHAIN, `SunSpec chain at ${base} has more than ${MAX_MODELS} models without an end model`, { endpoint });
    }
    if (address + 2 > 0x10000) {
      throw new DeviceError(DeviceErrorCode.SUNSPEC_BAD_CHAIN, `SunSpec chain at ${base} runs past register 65535 without an end model`, { endpoint });
    }
    let header: readonly number[];
    try {
      header = await read(address, 2);
    } catch (err) {
      // some devices stop the map right after the last model: take the exception as the end
      if (err instanceof DeviceError && err.code === DeviceErrorCode.MODBUS_EXCEPTION && models.length > 0) break;
      throw err;
    }
    const [id = 0, length = 0] = header;
    if (id === END_MODEL_ID) {
      endModelSeen = true;
      break;
    }
    if (id === 0) {
      throw new DeviceError(DeviceErrorCode.SUNSPEC_BAD_CHAIN, `SunSpec chain at ${base} has model id 0 at register ${address}`, { endpoint });
    }
    models.push({ id, length, address });
    address += 2 + length;
  }

  const missing = (options.required ?? []).filter((r) => !models.some((m) => m.id === r.id));
  if (missing.length > 0) {
    throw new DeviceError(
      DeviceErrorCode.SUNSPEC_MODEL_MISSING,
      `SunSpec device${endpoint ? ` at ${endpoint}` : ''} has models [${models.map((m) => m.id).join(', ')}] but lacks ${missing
        .map((m) => `${m.id} (${m.name})`)
        .join(', ')}; this driver needs them — check the device's SunSpec configuration or use another driver`,
      { endpoint },
    );
  }

  const common = models.find((m) => m.id === Common.ID);
  let identity: SunSpecIdentity = { manufacturer: '', model: '', options: '', version: '', serialNumber: '', deviceAddress: 0 };
  if (common) {
    const regs = await read(common.address, Math.min(2 + common.length, Common.DA + 1));
    const str = (offset: number, size: number): string => decodeString(regs.slice(offset, offset + size));
    identity = {
      manufacturer: str(Common.Mn, CommonStringSize.Mn),
      model: str(Common.Md, CommonStringSize.Md),
      options: str(Common.Opt, CommonStringSize.Opt),
      version: str(Common.Vr, CommonStringSize.Vr),
      serialNumber: str(Common.SN, CommonStringSize.SN),
      deviceAddress: regs[Common.DA] ?? 0,
    };
  }
  return { baseAddress: base, models, identity, endModelSeen };
}
