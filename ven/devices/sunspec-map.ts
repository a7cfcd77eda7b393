/**
 * The SunSpec Modbus register map our storage devices speak: the `SunS` marker, then a chain of
 * models (each `ID`, `L` = registers that follow, then `L` registers of points), closed by the end
 * model (ID 0xFFFF, L 0). Offsets below count from the model's `ID` register (ID at 0, L at 1),
 * as in the SunSpec information model (github.com/sunspec/models, json/model_<n>.json).
 *
 * Pure: constants and value conversions, no I/O. Where an offset comes from memory rather than a
 * checked source, docs/devices.md says so.
 */

/** Base addresses a client tries, in order (SunSpec Modbus spec: 40000, then 0, then 50000). */
export const SUNSPEC_BASE_ADDRESSES = [40000, 0, 50000] as const;
/** 'Su' 'nS' — the 32-bit marker 0x53756e53 at the base address. */
export const SUNS_MARKER = [0x5375, 0x6e53] as const;
/** Registers the marker takes. */
export const SUNS_LENGTH = 2;
/** ID of the model that closes the chain (with L = 0). */
export const END_MODEL_ID = 0xffff;

/** "Not implemented" raw values per SunSpec type. */
export const NotImplemented = {
  UINT16: 0xffff,
  INT16: 0x8000,
  SUNSSF: 0x8000,
  ENUM16: 0xffff,
  BITFIELD16: 0xffff,
  ACC32: 0,
} as const;

/** Model 1, common: identification strings; 66 registers (65 points + pad). */
export const Common = {
  ID: 1,
  LENGTH: 66,
  Mn: 2,
  Md: 18,
  Opt: 34,
  Vr: 42,
  SN: 50,
  DA: 66,
  Pad: 67,
} as const;
/** Register sizes of the common model's strings (2 ASCII characters per register). */
export const CommonStringSize = { Mn: 16, Md: 16, Opt: 8, Vr: 8, SN: 16 } as const;

/** Model 103, three-phase inverter (integer + scale factor); 50 registers. W is AC power, + = export. */
export const Inverter = {
  ID: 103,
  LENGTH: 50,
  A: 2,
  AphA: 3,
  AphB: 4,
  AphC: 5,
  A_SF: 6,
  PPVphAB: 7,
  PPVphBC: 8,
  PPVphCA: 9,
  PhVphA: 10,
  PhVphB: 11,
  PhVphC: 12,
  V_SF: 13,
  W: 14,
  W_SF: 15,
  Hz: 16,
  Hz_SF: 17,
  VA: 18,
  VA_SF: 19,
  VAr: 20,
  VAr_SF: 21,
  PF: 22,
  PF_SF: 23,
  WH: 24, // acc32, two registers
  WH_SF: 26,
  DCA: 27,
  DCA_SF: 28,
  DCV: 29,
  DCV_SF: 30,
  DCW: 31,
  DCW_SF: 32,
  TmpCab: 33,
  TmpSnk: 34,
  TmpTrns: 35,
  TmpOt: 36,
  Tmp_SF: 37,
  St: 38,
  StVnd: 39,
  Evt1: 40, // bitfield32
  Evt2: 42,
  EvtVnd1: 44,
  EvtVnd2: 46,
  EvtVnd3: 48,
  EvtVnd4: 50,
} as const;

/** Model 120, nameplate ratings; 26 registers. Optional: gives the rated charge/discharge power. */
export const Nameplate = {
  ID: 120,
  LENGTH: 26,
  DERTyp: 2,
  WRtg: 3,
  WRtg_SF: 4,
  VARtg: 5,
  VARtg_SF: 6,
  VArRtgQ1: 7,
  VArRtgQ2: 8,
  VArRtgQ3: 9,
  VArRtgQ4: 10,
  VArRtg_SF: 11,
  ARtg: 12,
  ARtg_SF: 13,
  PFRtgQ1: 14,
  PFRtgQ2: 15,
  PFRtgQ3: 16,
  PFRtgQ4: 17,
  PFRtg_SF: 18,
  WHRtg: 19,
  WHRtg_SF: 20,
  AhrRtg: 21,
  AhrRtg_SF: 22,
  MaxChaRte: 23,
  MaxChaRte_SF: 24,
  MaxDisChaRte: 25,
  MaxDisChaRte_SF: 26,
  Pad: 27,
} as const;
/** DERTyp values of model 120. */
export const DerType = { PV: 4, PV_STOR: 82 } as const;

/** Model 124, basic storage controls; 24 registers. */
export const Storage = {
  ID: 124,
  LENGTH: 24,
  /** uint16 W (WChaMax_SF), RW: setpoint for maximum charge; the rates below are % of it. */
  WChaMax: 2,
  /** uint16 % WChaMax/s (WChaDisChaGra_SF), RW. */
  WChaGra: 3,
  WDisChaGra: 4,
  /** bitfield16, RW: bit 0 CHARGE, bit 1 DISCHARGE; 0 = normal (no control). */
  StorCtl_Mod: 5,
  VAChaMax: 6,
  /** uint16 % (MinRsvPct_SF), RW: reserve the device will not discharge below. */
  MinRsvPct: 7,
  /** uint16 % of capacity (ChaState_SF), R: state of charge. */
  ChaState: 8,
  /** uint16 Ah (StorAval_SF), R: (ChaState − MinRsvPct) × AhrRtg. */
  StorAval: 9,
  InBatV: 10,
  /** enum16, R: see ChargeStatus. */
  ChaSt: 11,
  /** int16 % (InOutWRte_SF), RW: discharge rate, percent of WChaMax. */
  OutWRte: 12,
  /** int16 % (InOutWRte_SF), RW: charge rate, percent of WChaMax. */
  InWRte: 13,
  InOutWRte_WinTms: 14,
  /** uint16 s, RW: the rates revert (control off) this long after being written; 0 = never. */
  InOutWRte_RvrtTms: 15,
  InOutWRte_RmpTms: 16,
  ChaGriSet: 17,
  WChaMax_SF: 18,
  WChaDisChaGra_SF: 19,
  VAChaMax_SF: 20,
  MinRsvPct_SF: 21,
  ChaState_SF: 22,
  StorAval_SF: 23,
  InBatV_SF: 24,
  InOutWRte_SF: 25,
} as const;

/** StorCtl_Mod bits. Both bits with zero rates holds the battery at 0 W. */
export const StorCtlMode = { NONE: 0, CHARGE: 1 << 0, DISCHARGE: 1 << 1 } as const;
/** ChaSt enumeration of model 124. */
export const ChargeStatus = { OFF: 1, EMPTY: 2, DISCHARGING: 3, CHARGING: 4, FULL: 5, HOLDING: 6, TESTING: 7 } as const;
/** ChaGriSet enumeration of model 124. */
export const ChargeSource = { PV: 0, GRID: 1 } as const;

export interface ModelHeader {
  readonly id: number;
  /** Registers after ID and L. */
  readonly length: number;
}

export interface PlacedModel extends ModelHeader {
  /** Address of the model's ID register. */
  readonly address: number;
}

export interface SunSpecLayout {
  readonly base: number;
  readonly models: readonly PlacedModel[];
  /** Address of the end model's ID register. */
  readonly end: number;
  /** Registers from the marker through the end model's L, inclusive. */
  readonly size: number;
}

/** Places models after the marker at `base`, in order, followed by the end model. */
export function layoutModels(base: number, models: readonly ModelHeader[]): SunSpecLayout {
  let address = base + SUNS_LENGTH;
  const placed: PlacedModel[] = [];
  for (const m of models) {
    placed.push({ id: m.id, length: m.length, address });
    address += 2 + m.length;
  }
  const size = address + 2 - base;
  if (address + 2 > 0x10000) throw new RangeError(`SunSpec map of ${size} registers at ${base} runs past address 65535`);
  return { base, models: placed, end: address, size };
}

// ---------------------------------------------------------------------------------------------
// Values

/** Raw register (0–65535) as a signed 16-bit value. */
export function toInt16(raw: number): number {
  return raw >= 0x8000 ? raw - 0x10000 : raw;
}

/** Signed 16-bit value as a raw register. */
export function fromInt16(value: number): number {
  if (!Number.isInteger(value) || value < -0x8000 || value > 0x7fff) throw new RangeError(`${String(value)} is not an int16`);
  return value < 0 ? value + 0x10000 : value;
}

/** A scale factor register as an exponent, or undefined when not implemented / outside −10..10. */
export function scaleFactor(raw: number): number | undefined {
  if (raw === NotImplemented.SUNSSF) return undefined;
  const sf = toInt16(raw);
  return sf >= -10 && sf <= 10 ? sf : undefined;
}

/** value × 10^sf, computed so that 503 with sf −1 gives exactly 50.3. */
export function applyScale(value: number, sf: number): number {
  return sf < 0 ? value / 10 ** -sf : value * 10 ** sf;
}

/**
 * The register value that represents `value` at scale `sf`, truncated toward zero so that its
 * magnitude never exceeds the requested one (a limit is never rounded up).
 */
export function unscaleTowardZero(value: number, sf: number): number {
  const x = sf < 0 ? value * 10 ** -sf : value / 10 ** sf;
  return Math.trunc(x + Math.sign(x) * 1e-9);
}

/** Nearest register value representing `value` at scale `sf`. */
export function unscaleRound(value: number, sf: number): number {
  return Math.round(sf < 0 ? value * 10 ** -sf : value / 10 ** sf);
}

/** ASCII string into `size` registers, two characters each (high byte first), NUL padded. */
export function encodeString(text: string, size: number): number[] {
  const out = new Array<number>(size).fill(0);
  for (let i = 0; i < Math.min(text.length, size * 2); i++) {
    const c = text.charCodeAt(i) & 0x7f;
    const r = i >> 1;
    out[r] = (out[r] ?? 0) | (i % 2 === 0 ? c << 8 : c);
  }
  return out;
}

/** Registers back to a string, stopping at the first NUL. */
export function decodeString(registers: readonly number[]): string {
  let s = '';
  for (const r of registers) {
    for (const c of [r >> 8, r & 0xff]) {
      if (c === 0) return s;
      s += String.fromCharCode(c);
    }
  }
  return s;
}
