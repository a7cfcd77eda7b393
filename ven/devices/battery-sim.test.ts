import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { duplexPair } from 'node:stream';
import { createBatterySimulator, type BatterySimulator, type BatterySimulatorOptions } from './battery-sim.ts';
import { connectRawModbus, type RawModbusClient } from './modbus-raw-client.ts';
import { encodeAdu, encodeRequest, ExceptionCode, parseAdu, parseResponse, splitFrames } from './modbus-frame.ts';
import { ChargeStatus, Common, decodeString, fromInt16, Inverter, Storage, StorCtlMode, toInt16 } from './sunspec-map.ts';

const BATTERY: BatterySimulatorOptions = {
  capacityWh: 10_000,
  socPct: 50,
  maxChargeW: 5000,
  maxDischargeW: 5000,
  rampWPerS: 1000,
  clock: () => 0, // time only moves with step()
};

async function setup(t: TestContext, overrides: Partial<BatterySimulatorOptions> = {}): Promise<{ sim: BatterySimulator; client: RawModbusClient; storage: number; inverter: number }> {
  const sim = await createBatterySimulator({ ...BATTERY, ...overrides });
  const client = await connectRawModbus({ port: sim.port });
  t.after(async () => {
    client.close();
    await sim.close();
  });
  const storage = sim.layout.models.find((m) => m.id === Storage.ID)?.address ?? -1;
  const inverter = sim.layout.models.find((m) => m.id === Inverter.ID)?.address ?? -1;
  return { sim, client, storage, inverter };
}

/** Writes charge (+) or discharge (−) as a percentage of WChaMax, the way a SunSpec client does. */
async function command(client: RawModbusClient, storage: number, pct: number, rvrtS = 0): Promise<void> {
  const raw = Math.round(Math.abs(pct) * 100); // InOutWRte_SF = −2
  const res1 = await client.request({ kind: 'write-multiple', address: storage + Storage.OutWRte, values: [pct < 0 ? raw : 0, pct > 0 ? raw : 0, 0, rvrtS] });
  assert.equal(res1.kind, 'write-multiple');
  const mode = pct > 0 ? StorCtlMode.CHARGE : pct < 0 ? StorCtlMode.DISCHARGE : StorCtlMode.CHARGE | StorCtlMode.DISCHARGE;
  const res2 = await client.request({ kind: 'write-single', address: storage + Storage.StorCtl_Mod, value: mode });
  assert.equal(res2.kind, 'write-single');
}

test('serves the SunS marker, the model chain and the end model over Modbus TCP', async (t) => {
  const { sim, client } = await setup(t);
  const marker = await client.request({ kind: 'read', fc: 0x03, address: 40000, quantity: 2 });
  assert.deepEqual(marker, { kind: 'read', fc: 0x03, values: [0x5375, 0x6e53] });
  const ids: number[] = [];
  let address = 40002;
  for (;;) {
    const header = await client.request({ kind: 'read', fc: 0x03, address, quantity: 2 });
    assert.equal(header.kind, 'read');
    const [id = -1, length = -1] = header.kind === 'read' ? header.values : [];
    ids.push(id);
    if (id === 0xffff) {
      assert.equal(length, 0);
      break;
    }
    address += 2 + length;
  }
  assert.deepEqual(ids, [1, 120, 103, 124, 0xffff]);
  assert.equal(address, sim.layout.end);
  const sn = await client.request({ kind: 'read', fc: 0x04, address: 40002 + Common.SN, quantity: 16 }); // input registers mirror holding
  assert.equal(sn.kind === 'read' ? decodeString(sn.values) : '', 'SIM-0001');
});

test('answers Modbus exceptions: unmapped address 02, unknown function 01, bad value 03, read-only 02, fault 04', async (t) => {
  const { sim, client, storage } = await setup(t);
  const exception = (code: number, fc = 0x03) => ({ kind: 'exception', fc, exceptionCode: code });
  assert.deepEqual(await client.request({ kind: 'read', fc: 0x03, address: 39998, quantity: 2 }), exception(ExceptionCode.ILLEGAL_DATA_ADDRESS));
  assert.deepEqual(await client.request({ kind: 'read', fc: 0x03, address: sim.layout.end, quantity: 3 }), exception(ExceptionCode.ILLEGAL_DATA_ADDRESS));
  assert.deepEqual(await client.request({ kind: 'read', fc: 0x04, address: 0, quantity: 1 }), exception(ExceptionCode.ILLEGAL_DATA_ADDRESS, 0x04));
  assert.deepEqual(await client.request({ kind: 'write-single', address: storage + Storage.ChaState, value: 1000 }), exception(ExceptionCode.ILLEGAL_DATA_ADDRESS, 0x06));
  assert.deepEqual(await client.request({ kind: 'write-single', address: storage + Storage.StorCtl_Mod, value: 4 }), exception(ExceptionCode.ILLEGAL_DATA_VALUE, 0x06));
  assert.deepEqual(await client.request({ kind: 'write-single', address: storage + Storage.InWRte, value: 10001 }), exception(ExceptionCode.ILLEGAL_DATA_VALUE, 0x06)); // 100.01 %
  assert.deepEqual(await client.request({ kind: 'write-single', address: storage + Storage.WChaMax, value: 5001 }), exception(ExceptionCode.ILLEGAL_DATA_VALUE, 0x06)); // above the hardware limit
  // a rejected write-multiple changes nothing (all or nothing)
  assert.deepEqual(
    await client.request({ kind: 'write-multiple', address: storage + Storage.StorCtl_Mod, values: [1, 0, 0, 0] }), // reaches MinRsvPct (ok), then ChaState (read-only)
    exception(ExceptionCode.ILLEGAL_DATA_ADDRESS, 0x10),
  );
  assert.equal(sim.state().storCtlMod, 0);
  const fc01 = await client.sendRaw(Buffer.from('007700000006010100000001', 'hex'), 500);
  const adu = parseAdu(fc01.data);
  assert.equal(adu.transactionId, 0x77);
  assert.deepEqual(parseResponse(adu.pdu), exception(ExceptionCode.ILLEGAL_FUNCTION, 0x01));
  const zeroQty = await client.sendRaw(Buffer.from('007800000006010340000000', 'hex'), 500);
  assert.deepEqual(parseResponse(parseAdu(zeroQty.data).pdu), exception(ExceptionCode.ILLEGAL_DATA_VALUE, 0x03));
  sim.setFault('server-failure');
  assert.deepEqual(await client.request({ kind: 'read', fc: 0x03, address: 40000, quantity: 2 }), exception(ExceptionCode.SERVER_DEVICE_FAILURE));
});

test('drops a connection whose stream cannot be re-synchronised (protocol id ≠ 0)', async (t) => {
  const { client } = await setup(t);
  const result = await client.sendRaw(Buffer.from('0001 0001 0006 01 03 9c40 0002'.replace(/ /g, ''), 'hex'), 2000);
  assert.equal(result.closed, true);
  assert.equal(result.data.length, 0);
});

test('handle() serves any duplex stream, not only sockets', async (t) => {
  const sim = await createBatterySimulator(BATTERY);
  t.after(() => sim.close());
  const [ours, theirs] = duplexPair();
  sim.handle(theirs);
  const answer = new Promise<Uint8Array>((resolve) => {
    let carry: Uint8Array = new Uint8Array(0);
    ours.on('data', (chunk: Buffer) => {
      const split = splitFrames(chunk, carry);
      carry = split.carry;
      if (split.frames[0]) resolve(split.frames[0]);
    });
  });
  // the request arrives in two pieces
  const req = encodeAdu({ transactionId: 9, unitId: 1, pdu: encodeRequest({ kind: 'read', fc: 0x03, address: 40000, quantity: 2 }) });
  ours.write(req.subarray(0, 5));
  ours.write(req.subarray(5));
  const adu = parseAdu(await answer);
  assert.equal(adu.transactionId, 9);
  assert.deepEqual(parseResponse(adu.pdu), { kind: 'read', fc: 0x03, values: [0x5375, 0x6e53] });
  ours.destroy();
});

test('ramp physics: a charge setpoint ramps at rampWPerS and reaches the target within the ramp time', async (t) => {
  const { sim, client, storage } = await setup(t);
  await command(client, storage, 60); // 60 % of WChaMax 5000 W = 3000 W charge
  assert.equal(sim.state().targetW, 3000);
  assert.equal(sim.state().powerW, 0); // no time has passed
  sim.step(1500);
  assert.equal(sim.state().powerW, 1500);
  sim.step(1500);
  assert.equal(sim.state().powerW, 3000); // 3000 W / 1000 W/s = 3 s
  sim.step(3_600_000); // then one hour at 3000 W
  // 5000 Wh + ramp (0.5 × 3000 W × 3 s = 1.25 Wh, 1.29 Wh in 100 ms steps) + 3000 Wh
  const storedWh = (sim.state().socPct / 100) * 10_000;
  assert.ok(Math.abs(storedWh - 8001.25) < 0.1, `stored ${storedWh} Wh`);
  const w = sim.peek(storage + Storage.ChaSt, 1)[0];
  assert.equal(w, ChargeStatus.CHARGING);
});

test('discharge shows as positive W (export) in model 103 and negative grid-side power', async (t) => {
  const { sim, client, storage, inverter } = await setup(t);
  await command(client, storage, -40); // 2000 W discharge
  sim.step(5000);
  assert.equal(sim.state().powerW, -2000);
  const [w = 0, sf = 0] = sim.peek(inverter + Inverter.W, 2);
  assert.equal(toInt16(w) * 10 ** toInt16(sf), 2000);
  const res = await client.request({ kind: 'read', fc: 0x03, address: storage + Storage.ChaSt, quantity: 1 });
  assert.deepEqual(res, { kind: 'read', fc: 0x03, values: [ChargeStatus.DISCHARGING] });
});

test('SoC limits: discharge stops at MinRsvPct, charge stops at 100 %', async (t) => {
  const { sim, client, storage } = await setup(t, { socPct: 10.5, minReservePct: 10 });
  await command(client, storage, -100); // 5000 W discharge; 0.5 % of 10 kWh = 50 Wh ≈ 41 s
  sim.step(120_000);
  const s = sim.state();
  assert.equal(s.powerW, 0);
  assert.ok(Math.abs(s.socPct - 10) < 1e-9, `soc ${s.socPct}`);
  assert.equal(s.chargeStatus, ChargeStatus.EMPTY);
  assert.equal(sim.peek(storage + Storage.ChaState, 1)[0], 100); // 10.0 % at ChaState_SF −1

  const full = await setup(t, { socPct: 99.9 });
  await command(full.client, full.storage, 100);
  full.sim.step(120_000);
  assert.equal(full.sim.state().powerW, 0);
  assert.equal(full.sim.state().socPct, 100);
  assert.equal(full.sim.state().chargeStatus, ChargeStatus.FULL);
});

test('the control reverts to normal InOutWRte_RvrtTms seconds after the last control write', async (t) => {
  const { sim, client, storage } = await setup(t);
  await command(client, storage, 20, 5); // 1000 W, revert after 5 s
  sim.step(4900);
  assert.equal(sim.state().storCtlMod, StorCtlMode.CHARGE);
  assert.equal(sim.state().powerW, 1000);
  sim.step(200);
  assert.equal(sim.state().storCtlMod, StorCtlMode.NONE);
  sim.step(2000);
  assert.equal(sim.state().powerW, 0);
});

test('physics follows the injected clock between requests', async (t) => {
  let now = 1_000_000;
  const { sim, client, storage } = await setup(t, { clock: () => now });
  await command(client, storage, 100);
  now += 2000;
  assert.equal(sim.state().powerW, 2000);
  now += 10_000;
  const res = await client.request({ kind: 'read', fc: 0x03, address: storage + Storage.InWRte, quantity: 1 });
  assert.deepEqual(res, { kind: 'read', fc: 0x03, values: [fromInt16(10000)] });
  assert.equal(sim.state().powerW, 5000);
  assert.equal(sim.state().elapsedMs, 12_000);
});

test('an ignore-writes fault acknowledges a write but keeps the old value', async (t) => {
  const { sim, client, storage } = await setup(t);
  sim.setFault('ignore-writes');
  const res = await client.request({ kind: 'write-single', address: storage + Storage.StorCtl_Mod, value: 1 });
  assert.deepEqual(res, { kind: 'write-single', address: storage + Storage.StorCtl_Mod, value: 1 });
  assert.equal(sim.state().storCtlMod, 0);
});
