/**
 * A controlling station for tests (the TSO's side), written from IEC 60870-5-104 independently of
 * this part's codec: every frame it sends is built octet by octet here, every frame it receives is
 * read at fixed offsets, so a mistake in `codec/` shows as a disagreement instead of cancelling out.
 * It behaves like the common stations: it acknowledges after w = 8 I-frames or t2 = 10 s after the
 * first unacknowledged one (or when asked), answers TESTFR act, and checks the station's N(S) strictly.
 */
import { connect, type Socket } from 'node:net';

/** A received I-frame, read by offset: common address 2 octets, IOA 3 octets. */
export interface Received {
  readonly sendSeq: number;
  readonly recvSeq: number;
  readonly typeId: number;
  readonly sequence: boolean;
  readonly count: number;
  readonly cause: number;
  readonly negative: boolean;
  readonly commonAddress: number;
  readonly ioa: number;
  /** The first object's float (types 13, 36, 50, 63), else undefined. */
  readonly value: number | undefined;
  /** The first object's QDS or QOS/QOI octet. */
  readonly qualifier: number | undefined;
  /** The ASDU's octets. */
  readonly asdu: Buffer;
  /** When it arrived (performance.now()). */
  readonly at: number;
}

export interface ControllingStation {
  /** Every I-frame received, in order. */
  readonly received: Received[];
  /** Every U and S frame received, hex. */
  readonly control: string[];
  /** What the station did against the standard (a wrong start octet or N(S)); the connection is dropped. */
  readonly violations: string[];
  /** Sends raw octets. */
  write(bytes: Uint8Array): void;
  /** Sends an ASDU (hex or octets) as the next I-frame. */
  sendAsdu(asdu: Buffer | string): void;
  startDt(): Promise<void>;
  stopDt(): Promise<void>;
  /** C_IC_NA_1 act, QOI 20; resolves with its answers up to its act-term (act-con, the values of cause 20, act-term), not the other data that came meanwhile. */
  interrogate(commonAddress?: number): Promise<Received[]>;
  /** C_SE_NC_1 (or C_SE_TC_1 with `timeMs`) act; resolves with the act-con. */
  setpoint(o: { readonly ioa: number; readonly value: number; readonly select?: boolean; readonly timeMs?: number; readonly commonAddress?: number; readonly cause?: number; readonly timeoutMs?: number }): Promise<Received>;
  /** The first frame (already received or to come) matching, after `from` frames. */
  next(match: (r: Received) => boolean, options?: { readonly from?: number; readonly timeoutMs?: number }): Promise<Received>;
  /** Sends an S-frame acknowledging all received. */
  acknowledge(): void;
  /** Resolves when the station closes the connection. */
  readonly closed: Promise<void>;
  close(): void;
}

const hexOctets = (s: string): Buffer => Buffer.from(s.replace(/\s+/g, ''), 'hex');

/** CP56Time2a in UTC, built from the standard's octet layout (§7.2.6.18). */
export function cp56(ms: number): Buffer {
  const d = new Date(ms);
  const millis = d.getUTCSeconds() * 1000 + d.getUTCMilliseconds();
  return Buffer.from([millis & 0xff, millis >> 8, d.getUTCMinutes(), d.getUTCHours(), d.getUTCDate(), d.getUTCMonth() + 1, d.getUTCFullYear() % 100]);
}

function read(frame: Buffer): Received {
  const a = frame.subarray(6);
  const floatTypes = [13, 36, 50, 63];
  const typeId = a[0] as number;
  return {
    sendSeq: frame.readUInt16LE(2) >> 1,
    recvSeq: frame.readUInt16LE(4) >> 1,
    typeId,
    sequence: ((a[1] as number) & 0x80) !== 0,
    count: (a[1] as number) & 0x7f,
    cause: (a[2] as number) & 0x3f,
    negative: ((a[2] as number) & 0x40) !== 0,
    commonAddress: a.readUInt16LE(4),
    ioa: a.length >= 9 ? a.readUIntLE(6, 3) : -1,
    value: floatTypes.includes(typeId) && a.length >= 13 ? a.readFloatLE(9) : undefined,
    qualifier: floatTypes.includes(typeId) && a.length >= 14 ? a[13] : a.length >= 10 ? a[9] : undefined,
    asdu: Buffer.from(a),
    at: performance.now(),
  };
}

export async function connectControllingStation(o: { readonly port: number; readonly host?: string; readonly w?: number; readonly t0Ms?: number; readonly t2Ms?: number }): Promise<ControllingStation> {
  const socket: Socket = await new Promise((resolve, reject) => {
    const s = connect({ port: o.port, host: o.host ?? '127.0.0.1' }, () => resolve(s));
    s.once('error', reject);
    // t0: connection establishment.
    s.setTimeout(o.t0Ms ?? 10_000, () => reject(new Error('t0: the connection was not established')));
  });
  socket.setTimeout(0);
  const w = o.w ?? 8;
  const received: Received[] = [];
  const control: string[] = [];
  const violations: string[] = [];
  const waiters = new Set<() => void>();
  let ns = 0;
  let nr = 0;
  let unacked = 0;
  let buf = Buffer.alloc(0);
  const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
  socket.on('error', () => {});
  const wake = (): void => {
    for (const f of [...waiters]) f();
  };
  let t2: NodeJS.Timeout | undefined;
  const acknowledge = (): void => {
    clearTimeout(t2);
    t2 = undefined;
    if (!socket.destroyed) socket.write(Buffer.from([0x68, 0x04, 0x01, 0x00, (nr << 1) & 0xff, (nr >> 7) & 0xff]));
    unacked = 0;
  };
  socket.once('close', () => clearTimeout(t2));
  socket.on('data', (chunk: Buffer) => {
    buf = Buffer.concat([buf, chunk]);
    while (buf.length >= 2 && buf.length >= 2 + (buf[1] as number)) {
      if (buf[0] !== 0x68) {
        violations.push(`the station sent 0x${(buf[0] as number).toString(16)} where a frame starts`);
        socket.destroy();
        return;
      }
      const frame = buf.subarray(0, 2 + (buf[1] as number));
      buf = buf.subarray(frame.length);
      if (((frame[2] as number) & 0x01) === 0) {
        const r = read(Buffer.from(frame));
        if (r.sendSeq !== nr) {
          violations.push(`the station sent N(S) = ${r.sendSeq}, expected ${nr}`);
          socket.destroy();
          return;
        }
        nr = (nr + 1) % 32_768;
        received.push(r);
        if (++unacked >= w) acknowledge();
        // t2: what was received is acknowledged at the latest t2 after the first unacknowledged frame.
        else if (t2 === undefined) t2 = setTimeout(acknowledge, o.t2Ms ?? 10_000);
      } else {
        const h = frame.toString('hex').replace(/(..)/g, '$1 ').trim();
        control.push(h);
        if (frame[2] === 0x43) socket.write(hexOctets('68 04 83 00 00 00'));
      }
      wake();
    }
  });
  const waitFor = <T>(probe: () => T | undefined, timeoutMs: number, what: string): Promise<T> =>
    new Promise((resolve, reject) => {
      const check = (): void => {
        const v = probe();
        if (v === undefined) return;
        waiters.delete(check);
        clearTimeout(timer);
        resolve(v);
      };
      const timer = setTimeout(() => {
        waiters.delete(check);
        reject(new Error(`controlling station: no ${what} within ${timeoutMs} ms`));
      }, timeoutMs);
      waiters.add(check);
      check();
    });
  const sendAsdu = (asdu: Buffer | string): void => {
    const a = typeof asdu === 'string' ? hexOctets(asdu) : asdu;
    socket.write(Buffer.concat([Buffer.from([0x68, 4 + a.length, (ns << 1) & 0xff, (ns >> 7) & 0xff, (nr << 1) & 0xff, (nr >> 7) & 0xff]), a]));
    ns = (ns + 1) % 32_768;
    unacked = 0;
    clearTimeout(t2);
    t2 = undefined;
  };
  const u = async (act: string, con: string): Promise<void> => {
    const before = control.length;
    socket.write(hexOctets(act));
    await waitFor(() => (control.slice(before).includes(con) ? true : undefined), 20_000, `U-frame ${con}`);
  };
  const next: ControllingStation['next'] = (match, options = {}) =>
    waitFor(() => received.slice(options.from ?? 0).find(match), options.timeoutMs ?? 20_000, 'matching I-frame');
  return {
    received,
    control,
    violations,
    write: (bytes) => void socket.write(bytes),
    sendAsdu,
    startDt: () => u('68 04 07 00 00 00', '68 04 0b 00 00 00'),
    stopDt: () => u('68 04 13 00 00 00', '68 04 23 00 00 00'),
    async interrogate(commonAddress = 1) {
      const from = received.length;
      sendAsdu(Buffer.from([100, 0x01, 6, 0, commonAddress & 0xff, commonAddress >> 8, 0, 0, 0, 20]));
      const term = await next((r) => r.typeId === 100 && r.cause === 10, { from });
      // By content: a periodic or spontaneous measurement may arrive before or among the answers.
      return received.slice(from, received.indexOf(term) + 1).filter((r) => r.typeId === 100 || r.cause === 20);
    },
    async setpoint(s) {
      const from = received.length;
      const value = Buffer.alloc(4);
      value.writeFloatLE(s.value);
      const timed = s.timeMs !== undefined;
      const ca = s.commonAddress ?? 1;
      const asdu = Buffer.concat([
        Buffer.from([timed ? 63 : 50, 0x01, s.cause ?? 6, 0, ca & 0xff, ca >> 8, s.ioa & 0xff, (s.ioa >> 8) & 0xff, s.ioa >> 16]),
        value,
        Buffer.from([s.select === true ? 0x80 : 0x00]),
        timed ? cp56(s.timeMs as number) : Buffer.alloc(0),
      ]);
      sendAsdu(asdu);
      return next((r) => r.typeId === asdu[0] && r.ioa === s.ioa && r.cause !== 10, { from, ...(s.timeoutMs === undefined ? {} : { timeoutMs: s.timeoutMs }) });
    },
    next,
    acknowledge,
    closed,
    close: () => {
      clearTimeout(t2);
      socket.destroy();
    },
  };
}
