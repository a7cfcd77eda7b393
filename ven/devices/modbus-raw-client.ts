/**
 * A minimal Modbus TCP client built on our own codec, one request at a time. For tests and
 * diagnostics: it shows exceptions as values (not errors) and talks to any server, so the
 * simulator can be checked without the `modbus-serial` driver under test.
 */
import net from 'node:net';
import { encodeAdu, encodeRequest, parseAdu, parseResponse, splitFrames, type ModbusRequest, type ModbusResponse } from './modbus-frame.ts';

export interface RawModbusClient {
  request(request: ModbusRequest, unitId?: number): Promise<ModbusResponse>;
  /** Sends arbitrary bytes (for malformed-input tests); resolves with what comes back, if anything, before `waitMs`. */
  sendRaw(bytes: Uint8Array, waitMs: number): Promise<{ readonly data: Uint8Array; readonly closed: boolean }>;
  close(): void;
}

export async function connectRawModbus(options: Readonly<{ host?: string; port: number; timeoutMs?: number }>): Promise<RawModbusClient> {
  const socket = net.connect({ host: options.host ?? '127.0.0.1', port: options.port });
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', resolve);
    socket.once('error', reject);
  });
  socket.on('error', () => {
    /* surfaced through 'close' */
  });
  const timeoutMs = options.timeoutMs ?? 2000;
  let transactionId = 0;
  let carry: Uint8Array = new Uint8Array(0);
  let closed = false;
  socket.on('close', () => {
    closed = true;
  });

  return {
    request(request: ModbusRequest, unitId = 1): Promise<ModbusResponse> {
      transactionId = (transactionId + 1) & 0xffff;
      const tid = transactionId;
      return new Promise<ModbusResponse>((resolve, reject) => {
        const timer = setTimeout(() => finish(new Error(`no answer to transaction ${tid} within ${timeoutMs} ms`)), timeoutMs);
        timer.unref();
        const onData = (chunk: Buffer): void => {
          try {
            const split = splitFrames(chunk, carry);
            carry = split.carry;
            for (const frame of split.frames) {
              const adu = parseAdu(frame);
              if (adu.transactionId === tid) finish(undefined, parseResponse(adu.pdu));
            }
          } catch (err) {
            finish(err instanceof Error ? err : new Error(String(err)));
          }
        };
        const onClose = (): void => finish(new Error('connection closed before the answer'));
        function finish(err?: Error, response?: ModbusResponse): void {
          clearTimeout(timer);
          socket.off('data', onData);
          socket.off('close', onClose);
          if (err) reject(err);
          else if (response) resolve(response);
        }
        socket.on('data', onData);
        socket.on('close', onClose);
        socket.write(encodeAdu({ transactionId: tid, unitId, pdu: encodeRequest(request) }));
      });
    },
    sendRaw(bytes: Uint8Array, waitMs: number) {
      return new Promise((resolve) => {
        const parts: Buffer[] = [];
        const onData = (chunk: Buffer): void => {
          parts.push(chunk);
          try {
            if (splitFrames(Buffer.concat(parts)).frames.length > 0) done();
          } catch {
            /* not Modbus: keep collecting until the timeout */
          }
        };
        function done(): void {
          clearTimeout(timer);
          socket.off('data', onData);
          socket.off('close', done);
          resolve({ data: new Uint8Array(Buffer.concat(parts)), closed });
        }
        const timer = setTimeout(done, waitMs);
        socket.on('data', onData);
        socket.on('close', done);
        socket.write(bytes);
      });
    },
    close(): void {
      socket.destroy();
    },
  };
}
