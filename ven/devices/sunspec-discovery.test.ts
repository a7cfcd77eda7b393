import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DeviceError, DeviceErrorCode, type DeviceErrorCodeValue } from './errors.ts';
import { discoverSunSpec, type RegisterReader } from './sunspec-discovery.ts';
import { encodeString, SUNS_MARKER } from './sunspec-map.ts';

/** A register space backed by a map; unmapped reads answer exception 02 like a real device. */
function space(regions: Record<number, readonly number[]>): { read: RegisterReader; reads: number[] } {
  const regs = new Map<number, number>();
  for (const [start, values] of Object.entries(regions)) values.forEach((v, i) => regs.set(Number(start) + i, v));
  const reads: number[] = [];
  return {
    reads,
    read: async (address, count) => {
      reads.push(address);
      const out: number[] = [];
      for (let a = address; a < address + count; a++) {
        const v = regs.get(a);
        if (v === undefined) throw new DeviceError(DeviceErrorCode.MODBUS_EXCEPTION, `exception 2 at ${a}`, { modbusCode: 2 });
        out.push(v);
      }
      return out;
    },
  };
}

function common(sn: string): number[] {
  return [1, 66, ...encodeString('Maker', 16), ...encodeString('Model', 16), ...encodeString('', 8), ...encodeString('2.1', 8), ...encodeString(sn, 16), 7, 0x8000];
}

function model(id: number, length: number): number[] {
  return [id, length, ...new Array<number>(length).fill(0)];
}

const rejectsWith = (code: DeviceErrorCodeValue) => (err: unknown) => err instanceof DeviceError && err.code === code;

test('walks the chain at 40000 and reads the identity', async () => {
  const { read } = space({ 40000: [...SUNS_MARKER, ...common('SN1'), ...model(124, 24), 0xffff, 0] });
  const d = await discoverSunSpec(read, { required: [{ id: 124, name: 'storage' }] });
  assert.equal(d.baseAddress, 40000);
  assert.deepEqual(d.models, [
    { id: 1, length: 66, address: 40002 },
    { id: 124, length: 24, address: 40070 },
  ]);
  assert.deepEqual(d.identity, { manufacturer: 'Maker', model: 'Model', options: '', version: '2.1', serialNumber: 'SN1', deviceAddress: 7 });
  assert.equal(d.endModelSeen, true);
});

test('tries 40000, then 0, then 50000', async () => {
  const { read, reads } = space({ 50000: [...SUNS_MARKER, ...common('X'), 0xffff, 0] });
  const d = await discoverSunSpec(read);
  assert.equal(d.baseAddress, 50000);
  assert.deepEqual(reads.slice(0, 3), [40000, 0, 50000]);
});

test('a map that stops without the end model is accepted, the end marked unseen', async () => {
  const { read } = space({ 40000: [...SUNS_MARKER, ...common('X'), ...model(124, 24)] });
  const d = await discoverSunSpec(read);
  assert.equal(d.endModelSeen, false);
  assert.deepEqual(
    d.models.map((m) => m.id),
    [1, 124],
  );
});

test('missing models, no marker, broken chains are typed errors naming what was found', async () => {
  const noStorage = space({ 40000: [...SUNS_MARKER, ...common('X'), ...model(103, 50), 0xffff, 0] });
  await assert.rejects(discoverSunSpec(noStorage.read, { required: [{ id: 124, name: 'storage' }] }), (err: unknown) => {
    assert.ok(rejectsWith(DeviceErrorCode.SUNSPEC_MODEL_MISSING)(err));
    assert.match((err as Error).message, /\[1, 103\].*124 \(storage\)/);
    return true;
  });
  await assert.rejects(discoverSunSpec(space({ 40000: [0x1234, 0x5678] }).read), rejectsWith(DeviceErrorCode.SUNSPEC_NOT_FOUND));
  await assert.rejects(discoverSunSpec(space({ 40000: [...SUNS_MARKER, 0, 5] }).read), rejectsWith(DeviceErrorCode.SUNSPEC_BAD_CHAIN));
  await assert.rejects(discoverSunSpec(space({ 40000: [...SUNS_MARKER, 1, 65000] }).read), rejectsWith(DeviceErrorCode.SUNSPEC_BAD_CHAIN));
  const endless = space({ 40000: [...SUNS_MARKER, ...Array.from({ length: 100 }, () => [64000, 0]).flat()] });
  await assert.rejects(discoverSunSpec(endless.read), rejectsWith(DeviceErrorCode.SUNSPEC_BAD_CHAIN));
});

test('an unreachable device is not mistaken for a missing marker', async () => {
  const read: RegisterReader = async () => {
    throw new DeviceError(DeviceErrorCode.DEVICE_UNREACHABLE, 'down');
  };
  await assert.rejects(discoverSunSpec(read), rejectsWith(DeviceErrorCode.DEVICE_UNREACHABLE));
});
