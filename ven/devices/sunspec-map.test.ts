import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  applyScale,
  Common,
  CommonStringSize,
  decodeString,
  encodeString,
  fromInt16,
  Inverter,
  layoutModels,
  Nameplate,
  scaleFactor,
  Storage,
  SUNS_MARKER,
  toInt16,
  unscaleRound,
  unscaleTowardZero,
} from './sunspec-map.ts';

test('the SunS marker spells "SunS" in two big-endian registers', () => {
  assert.equal(decodeString([...SUNS_MARKER]), 'SunS');
});

test('model 124 points fill exactly its 24 registers, scale factors last', () => {
  const offsets = Object.entries(Storage).filter(([k]) => k !== 'ID' && k !== 'LENGTH').map(([, v]) => v);
  assert.deepEqual([...offsets].sort((a, b) => a - b), Array.from({ length: Storage.LENGTH }, (_, i) => i + 2));
  assert.equal(Storage.WChaMax, 2);
  assert.equal(Storage.StorCtl_Mod, 5);
  assert.equal(Storage.ChaState, 8);
  assert.equal(Storage.OutWRte, 12);
  assert.equal(Storage.InWRte, 13);
  assert.equal(Storage.InOutWRte_RvrtTms, 15);
  assert.equal(Storage.InOutWRte_SF, 25);
});

test('model 1, 103 and 120 lengths match their last point', () => {
  assert.equal(Common.Pad, Common.LENGTH + 1);
  assert.equal(Common.SN + CommonStringSize.SN, Common.DA);
  assert.equal(Inverter.EvtVnd4 + 1, Inverter.LENGTH + 1); // bitfield32 EvtVnd4 takes the last two registers
  assert.equal(Inverter.W, 14);
  assert.equal(Inverter.W_SF, 15);
  assert.equal(Nameplate.Pad, Nameplate.LENGTH + 1);
});

test('layoutModels places models back to back after the marker, then the end model', () => {
  const layout = layoutModels(40000, [
    { id: 1, length: 66 },
    { id: 124, length: 24 },
  ]);
  assert.deepEqual(
    layout.models.map((m) => [m.id, m.address]),
    [
      [1, 40002],
      [124, 40070],
    ],
  );
  assert.equal(layout.end, 40096);
  assert.equal(layout.size, 98);
  assert.throws(() => layoutModels(65500, [{ id: 1, length: 66 }]), RangeError);
});

test('int16 and scale factors', () => {
  assert.equal(toInt16(0xffff), -1);
  assert.equal(toInt16(0x8000), -32768);
  assert.equal(fromInt16(-2), 0xfffe);
  assert.throws(() => fromInt16(40000), RangeError);
  assert.equal(scaleFactor(0xfffe), -2);
  assert.equal(scaleFactor(0x8000), undefined); // not implemented
  assert.equal(scaleFactor(11), undefined); // outside −10..10
  assert.equal(applyScale(503, -1), 50.3);
  assert.equal(applyScale(25, 2), 2500);
});

test('unscaleTowardZero never rounds a magnitude up; unscaleRound rounds', () => {
  assert.equal(unscaleTowardZero(59.999, -2), 5999);
  assert.equal(unscaleTowardZero(-59.999, -2), -5999);
  assert.equal(unscaleTowardZero(0.29, -2), 29); // 0.29 × 100 = 28.999999999999996 in floating point
  assert.equal(unscaleTowardZero(4999, 1), 499);
  assert.equal(unscaleRound(59.999, -2), 6000);
});

test('strings: two ASCII characters per register, NUL padded, round trip', () => {
  const regs = encodeString('oadr', 4);
  assert.deepEqual(regs, [0x6f61, 0x6472, 0, 0]);
  assert.equal(decodeString(regs), 'oadr');
  assert.equal(decodeString(encodeString('abc', 2)), 'abc');
  assert.equal(decodeString(encodeString('truncated-here', 2)), 'trun');
});
