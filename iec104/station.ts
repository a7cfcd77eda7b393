/**
 * The application of the controlled station, one session per connection (IEC 60870-5-101 §7.4 as
 * 104 uses it): station interrogation, clock synchronisation, test command, set-points and single
 * commands with direct execute or select-before-operate. Every confirmation is the received ASDU
 * with another cause (type id, common address, IOA and S/E bit mirrored): act-con, with P/N set
 * when refused, then act-term once done; what the station cannot take is answered with cause 44
 * (type), 45 (cause), 46 (common address) or 47 (IOA), P/N set. The points and the execution are
 * the handler's; the session holds only the selections. No socket, no timer: `now` is given.
 */
import { BROADCAST_CA, COT, QOI_STATION, TYPE, type TypeId } from './codec/constants.ts';
import { encodeAsdu, knownType, MAX_ASDU_SIZE, parseAsdu, parseAsduHeader, withCause, type Asdu, type InformationObject } from './codec/asdu.ts';
import { cp56ToDate, type Cp56Time } from './codec/cp56.ts';

/** A command to a point: a set-point (C_SE_NC_1, C_SE_TC_1) or a single command (C_SC_NA_1). */
export interface Command {
  readonly typeId: TypeId;
  readonly ioa: number;
  readonly value: number | boolean;
  /** The command's time tag (C_SE_TC_1). */
  readonly time?: Cp56Time | undefined;
}

/** The values of a station interrogation, grouped by type; the session splits them into ASDUs. */
export interface PointValues {
  readonly typeId: TypeId;
  readonly objects: readonly InformationObject[];
}

export interface StationHandler {
  /** Whether the IOA is a command point for this type (else cause 47). */
  commandPoint(typeId: TypeId, ioa: number): { readonly selectRequired: boolean } | undefined;
  /** A reason to refuse the command now (act-con with P/N set), or undefined to accept it. */
  check(command: Command): string | undefined;
  /** Carries the command out; act-term when it resolves, act-term with P/N set when it rejects. */
  execute(command: Command): Promise<void>;
  /** The current values for a station interrogation (cause 20). */
  interrogate(): readonly PointValues[];
  /** The controlling station's time (C_CS_NA_1, ms since the epoch). */
  clockSync?(ms: number): void;
  /** A refused or failed command, for the log. */
  refused?(command: Command | undefined, reason: string): void;
}

export interface StationOptions {
  readonly commonAddress: number;
  readonly handler: StationHandler;
  /** Time from select to execute before the selection lapses (default 30 s). */
  readonly selectTimeoutMs?: number;
}

export interface StationSession {
  /** One ASDU received on the link; the answers go out through `send`. */
  receive(asdu: Uint8Array, now: number): void;
}

const COMMAND_TYPES: ReadonlySet<number> = new Set([TYPE.C_SC_NA_1, TYPE.C_SE_NC_1, TYPE.C_SE_TC_1]);
const SYSTEM_TYPES: ReadonlySet<number> = new Set([TYPE.C_IC_NA_1, TYPE.C_CS_NA_1, TYPE.C_TS_TA_1]);

/** Point values as ASDUs of a cause (20 by default: interrogated), as many objects in each as fit in 249 octets. */
export function pointAsdus(values: readonly PointValues[], commonAddress: number, cause: number = COT.INTERROGATED_BY_STATION): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (const group of values) {
    const first = group.objects[0];
    if (first === undefined) continue;
    // The size of one object, from the codec itself: six header octets less.
    const each = encodeAsdu({ typeId: group.typeId, cause, commonAddress, objects: [first] }).length - 6;
    const perAsdu = Math.min(127, Math.floor((MAX_ASDU_SIZE - 6) / each));
    for (let i = 0; i < group.objects.length; i += perAsdu) out.push(encodeAsdu({ typeId: group.typeId, cause, commonAddress, objects: group.objects.slice(i, i + perAsdu) }));
  }
  return out;
}

export function createStationSession(options: Readonly<StationOptions>, send: (asdu: Uint8Array) => void): StationSession {
  const { commonAddress, handler } = options;
  const selectTimeoutMs = options.selectTimeoutMs ?? 30_000;
  const selected = new Map<number, { readonly command: Command; readonly at: number }>();
  /** The received ASDU mirrored with another cause; a broadcast command is answered with our own address. */
  const reply = (raw: Uint8Array, cause: number, negative: boolean): void => {
    const out = withCause(raw, cause, negative);
    if (out.length >= 6 && ((out[4] as number) | ((out[5] as number) << 8)) === BROADCAST_CA) {
      out[4] = commonAddress & 0xff;
      out[5] = commonAddress >> 8;
    }
    send(out);
  };
  const refuse = (raw: Uint8Array, command: Command | undefined, reason: string): void => {
    handler.refused?.(command, reason);
    reply(raw, COT.ACTIVATION_CON, true);
  };

  const onCommand = (raw: Uint8Array, asdu: Asdu, now: number): void => {
    const o = asdu.objects[0] as InformationObject;
    const point = asdu.objects.length === 1 ? handler.commandPoint(asdu.typeId, o.ioa) : undefined;
    if (point === undefined) return reply(raw, COT.UNKNOWN_IOA, true);
    const command: Command = { typeId: asdu.typeId, ioa: o.ioa, value: o.value as number | boolean, ...(o.time === undefined ? {} : { time: o.time }) };
    if (asdu.cause === COT.DEACTIVATION) {
      // Deactivation withdraws a selection (§7.4.8); without one there is nothing to withdraw.
      const had = selected.delete(o.ioa);
      return reply(raw, COT.DEACTIVATION_CON, !had);
    }
    const reason = handler.check(command);
    if (o.select === true) {
      if (reason !== undefined) {
        selected.delete(o.ioa);
        return refuse(raw, command, reason);
      }
      selected.set(o.ioa, { command, at: now });
      return reply(raw, COT.ACTIVATION_CON, false);
    }
    const selection = selected.get(o.ioa);
    selected.delete(o.ioa);
    if (selection !== undefined) {
      if (now - selection.at > selectTimeoutMs) return refuse(raw, command, `the selection of IOA ${o.ioa} lapsed after ${selectTimeoutMs} ms; select again`);
      if (selection.command.typeId !== command.typeId || selection.command.value !== command.value) {
        return refuse(raw, command, `execute of IOA ${o.ioa} differs from its selection (${String(selection.command.value)}); select the value to execute`);
      }
    } else if (point.selectRequired) return refuse(raw, command, `IOA ${o.ioa} takes select-before-operate; select first`);
    if (reason !== undefined) return refuse(raw, command, reason);
    reply(raw, COT.ACTIVATION_CON, false);
    handler.execute(command).then(
      () => reply(raw, COT.ACTIVATION_TERMINATION, false),
      (e: unknown) => {
        handler.refused?.(command, (e as Error).message);
        reply(raw, COT.ACTIVATION_TERMINATION, true);
      },
    );
  };

  const onSystem = (raw: Uint8Array, asdu: Asdu): void => {
    const o = asdu.objects[0] as InformationObject;
    if (asdu.objects.length !== 1 || o.ioa !== 0) return reply(raw, COT.UNKNOWN_IOA, true);
    switch (asdu.typeId) {
      case TYPE.C_IC_NA_1: {
        if (asdu.cause === COT.DEACTIVATION) return reply(raw, COT.DEACTIVATION_CON, false);
        if (asdu.cause !== COT.ACTIVATION) return reply(raw, COT.UNKNOWN_CAUSE, true);
        // Station interrogation only (QOI 20); the groups 21–36 are not configured.
        if (o.qualifier !== QOI_STATION) return refuse(raw, undefined, `interrogation group ${String(o.qualifier)} is not configured; use QOI 20 (station)`);
        reply(raw, COT.ACTIVATION_CON, false);
        for (const a of pointAsdus(handler.interrogate(), commonAddress)) send(a);
        return reply(raw, COT.ACTIVATION_TERMINATION, false);
      }
      case TYPE.C_CS_NA_1: {
        if (asdu.cause !== COT.ACTIVATION) return reply(raw, COT.UNKNOWN_CAUSE, true);
        const ms = cp56ToDate(o.time as Cp56Time);
        if (Number.isNaN(ms) || o.time?.invalid === true) return refuse(raw, undefined, 'the clock synchronisation carries an invalid time');
        handler.clockSync?.(ms);
        return reply(raw, COT.ACTIVATION_CON, false);
      }
      default:
        // C_TS_TA_1: the test command is mirrored.
        if (asdu.cause !== COT.ACTIVATION) return reply(raw, COT.UNKNOWN_CAUSE, true);
        return reply(raw, COT.ACTIVATION_CON, false);
    }
  };

  return {
    receive(raw, now) {
      const header = parseAsduHeader(raw);
      if (!knownType(header.typeId) || !(COMMAND_TYPES.has(header.typeId) || SYSTEM_TYPES.has(header.typeId))) return reply(raw, COT.UNKNOWN_TYPE, true);
      const broadcastable = header.typeId === TYPE.C_IC_NA_1 || header.typeId === TYPE.C_CS_NA_1;
      if (header.commonAddress !== commonAddress && !(broadcastable && header.commonAddress === BROADCAST_CA)) return reply(raw, COT.UNKNOWN_COMMON_ADDRESS, true);
      let asdu: Asdu;
      try {
        asdu = parseAsdu(raw);
      } catch (e) {
        // A known command whose length does not match its VSQ: refused, the connection stays.
        handler.refused?.(undefined, (e as Error).message);
        return reply(raw, COT.ACTIVATION_CON, true);
      }
      if (COMMAND_TYPES.has(asdu.typeId)) {
        if (asdu.cause !== COT.ACTIVATION && asdu.cause !== COT.DEACTIVATION) return reply(raw, COT.UNKNOWN_CAUSE, true);
        return onCommand(raw, asdu, now);
      }
      return onSystem(raw, asdu);
    },
  };
}
