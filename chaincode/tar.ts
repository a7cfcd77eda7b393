/**
 * A minimal POSIX ustar writer and reader, enough for Fabric chaincode packages: regular files only,
 * names up to 100 bytes, deterministic bytes (mtime 0, uid/gid 0, mode 0644), gzip via node:zlib.
 */
import { gunzipSync, gzipSync } from 'node:zlib';

export interface TarEntry {
  name: string;
  content: Uint8Array;
}

const BLOCK = 512;

function writeString(h: Buffer, offset: number, length: number, value: string): void {
  const bytes = Buffer.from(value, 'utf8');
  if (bytes.length > length) throw new RangeError(`tar: field too long: ${value}`);
  bytes.copy(h, offset);
}

function writeOctal(h: Buffer, offset: number, length: number, value: number): void {
  writeString(h, offset, length, value.toString(8).padStart(length - 1, '0') + '\0');
}

function header(name: string, size: number): Buffer {
  const h = Buffer.alloc(BLOCK);
  writeString(h, 0, 100, name);
  writeOctal(h, 100, 8, 0o644);
  writeOctal(h, 108, 8, 0);
  writeOctal(h, 116, 8, 0);
  writeOctal(h, 124, 12, size);
  writeOctal(h, 136, 12, 0);
  h.fill(0x20, 148, 156); // checksum computed with its own field as spaces
  writeString(h, 156, 1, '0');
  writeString(h, 257, 6, 'ustar\0');
  writeString(h, 263, 2, '00');
  let sum = 0;
  for (const b of h) sum += b;
  writeString(h, 148, 8, sum.toString(8).padStart(6, '0') + '\0 ');
  return h;
}

export function createTar(entries: readonly TarEntry[]): Buffer {
  const parts: Buffer[] = [];
  for (const e of entries) {
    parts.push(header(e.name, e.content.length), Buffer.from(e.content));
    const pad = (BLOCK - (e.content.length % BLOCK)) % BLOCK;
    if (pad) parts.push(Buffer.alloc(pad));
  }
  parts.push(Buffer.alloc(BLOCK * 2));
  return Buffer.concat(parts);
}

export function createTarGz(entries: readonly TarEntry[]): Buffer {
  return gzipSync(createTar(entries), { level: 9 });
}

/** Reads the regular files of a tar (checking each header checksum). */
export function readTar(tar: Uint8Array): TarEntry[] {
  const buf = Buffer.from(tar.buffer, tar.byteOffset, tar.byteLength);
  const out: TarEntry[] = [];
  let off = 0;
  while (off + BLOCK <= buf.length) {
    const h = buf.subarray(off, off + BLOCK);
    if (h.every((b) => b === 0)) break;
    const field = (o: number, l: number) => h.subarray(o, o + l).toString('utf8').replace(/\0.*$/s, '').trim();
    let sum = 0;
    for (let i = 0; i < BLOCK; i++) sum += i >= 148 && i < 156 ? 0x20 : (h[i] ?? 0);
    if (parseInt(field(148, 8), 8) !== sum) throw new Error(`tar: bad header checksum at offset ${off}`);
    const size = parseInt(field(124, 12), 8);
    const prefix = field(345, 155);
    const name = (prefix ? prefix + '/' : '') + field(0, 100);
    const type = field(156, 1);
    off += BLOCK;
    if (type === '0' || type === '') out.push({ name, content: Buffer.from(buf.subarray(off, off + size)) });
    off += Math.ceil(size / BLOCK) * BLOCK;
  }
  return out;
}

export function readTarGz(tgz: Uint8Array): TarEntry[] {
  return readTar(gunzipSync(tgz));
}
