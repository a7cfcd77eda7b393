import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { createBatterySimulator, type BatterySimulator, type BatterySimulatorOptions } from './battery-sim.ts';
import { createSunSpecDevice, SUNSPEC_DEVICE_KIND, type SunSpecDevice, type SunSpecDeviceOptions } from './sunspec-device.ts';
import { DeviceError, DeviceErrorCode, type DeviceErrorCodeValue } from './errors.ts';
import { connectRawModbus } from './modbus-raw-client.ts';
import { Storage, StorCtlMode, toInt16 } from './sunspec-map.ts';

const BATTERY: BatterySimulatorOptions = {
  capacityWh: 10_000,
  socPct: 50,
  maxChargeW: 5000,
  maxDischargeW: 4000,
  rampWPerS: 1000,
  clock: () => 0, // time moves only with sim.step()
};

async function setup(
  t: TestContext,
  sim: Partial<BatterySimulatorOptions> = {},
  dev: Partial<SunSpecDeviceOptions> = {},
): Promise<{ sim: BatterySimulator; device: SunSpecDevice; storage: number }> {
  const s = await createBatterySimulator({ ...BATTERY, ...sim });
  const device = createSunSpecDevice({ host: '127.0.0.1', port: s.port, unitId: 1, timeoutMs: 1000, ...dev });
  t.after(async () => {
    await device.close();
    await s.close();
  });
  const storage = s.layout.models.find((m) => m.id === Storage.ID)?.address ?? -1;
  return { sim: s, device, storage };
}

function deviceError(code: DeviceErrorCodeValue): (err: unknown) => boolean {
  return (err: unknown) => {
    assert.ok(err instanceof DeviceError, `expected a DeviceError, got ${String(err)}`);
    assert.equal(err.code, code, err.message);
    return true;
  };
}

test('discovery finds SunS at 40000, walks the chain, reads the common model and the limits', async (t) => {
  const { device } = await setup(t, { serialNumber: 'BAT-42' });
  assert.equal(device.kind, SUNSPEC_DEVICE_KIND);
  await device.connect();
  const d = device.discovery();
  assert.ok(d);
  assert.equal(d.baseAddress, 40000);
  assert.deepEqual(
    d.models.map((m) => [m.id, m.address, m.length]),
    [
      [1, 40002, 66],
      [120, 40070, 26],
      [103, 40098, 50],
      [124, 40150, 24],
    ],
  );
  assert.equal(d.endModelSeen, true);
  assert.equal(d.identity.manufacturer, 'oadr-ledger');
  assert.equal(d.identity.serialNumber, 'BAT-42');
  // WChaMax 5000 bounds both directions; the nameplate's MaxDisChaRte 4000 bounds discharge
  assert.deepEqual(device.limits(), { maxChargeW: 5000, maxDischargeW: 4000, capacityWh: 10_000, minReservePct: 0 });
});

test('discovery falls back to base 0 and 50000, and says so when SunS is nowhere', async (t) => {
  for (const base of [0, 50000]) {
    const { device } = await setup(t, { baseAddress: base });
    await device.connect();
    assert.equal(device.discovery()?.baseAddress, base);
  }
  const { device } = await setup(t, { baseAddress: 50000 }, { baseAddresses: [40000, 0] });
  await assert.rejects(device.connect(), deviceError(DeviceErrorCode.SUNSPEC_NOT_FOUND));
  assert.throws(() => device.limits(), deviceError(DeviceErrorCode.NOT_CONNECTED));
});

test('setpoints are clamped to WChaMax, the nameplate and the installation limits — never exceeded', async (t) => {
  const { sim, device, storage } = await setup(t, {}, { maxDischargeW: 3000 });
  await device.connect();
  assert.equal(device.limits().maxDischargeW, 3000);

  const charge = await device.setPowerTarget(99_999);
  assert.equal(charge.targetW, 5000);
  assert.equal(sim.state().targetW, 5000);
  assert.equal(toInt16(sim.peek(storage + Storage.InWRte, 1)[0] ?? 0), 10000); // 100.00 %

  const discharge = await device.setPowerTarget(-10_000);
  assert.equal(discharge.targetW, -3000);
  assert.equal(sim.state().targetW, -3000);

  // rounding to the register's 0.01 % steps never goes above the request
  const odd = await device.setPowerTarget(1234.8); // 24.696 %: rounding would give 24.70 % = 1235 W
  assert.ok(odd.targetW !== undefined && odd.targetW <= 1234.8 && odd.targetW > 1234, `targetW ${String(odd.targetW)}`);

  await assert.rejects(device.setPowerTarget(Number.NaN), deviceError(DeviceErrorCode.INVALID_ARGUMENT));
});

test('a charge and a discharge setpoint reach the target power within the ramp time', async (t) => {
  const { sim, device } = await setup(t);
  await device.connect();
  const first = await device.setPowerTarget(-3000); // discharge 3 kW: injection, negative
  assert.equal(first.powerW, 0);
  assert.equal(first.manualOverride, false);
  sim.step(1500);
  assert.equal((await device.read()).powerW, -1500);
  sim.step(1500); // 3000 W at 1000 W/s: 3 s
  assert.equal((await device.read()).powerW, -3000);

  await device.setPowerTarget(2000); // now charge 2 kW: from −3000 to +2000 is 5 s
  sim.step(5000);
  const r = await device.read();
  assert.equal(r.powerW, 2000);
  assert.equal(r.targetW, 2000);
});

test('a setpoint of 0 W holds the battery; restoreNormal ends control and is verified', async (t) => {
  const { sim, device } = await setup(t);
  await device.connect();
  const hold = await device.setPowerTarget(0);
  assert.equal(hold.targetW, 0);
  assert.equal(sim.state().storCtlMod, StorCtlMode.CHARGE | StorCtlMode.DISCHARGE);
  await device.setPowerTarget(1000);
  sim.step(2000);
  await device.restoreNormal();
  assert.equal(sim.state().storCtlMod, StorCtlMode.NONE);
  sim.step(2000);
  const r = await device.read();
  assert.equal(r.powerW, 0);
  assert.equal(r.targetW, undefined);
  assert.equal(r.manualOverride, false);
});

test('read-back verification: a device that ignores writes gives READBACK_MISMATCH with both values', async (t) => {
  const { sim, device } = await setup(t);
  await device.connect();
  sim.setFault('ignore-writes');
  await assert.rejects(device.setPowerTarget(1000), (err: unknown) => {
    deviceError(DeviceErrorCode.READBACK_MISMATCH)(err);
    assert.ok(err instanceof DeviceError);
    assert.deepEqual(err.expected, { StorCtl_Mod: StorCtlMode.CHARGE, OutWRte: 0, InWRte: 2000, InOutWRte_RvrtTms: 0 });
    assert.deepEqual(err.actual, { StorCtl_Mod: StorCtlMode.NONE, OutWRte: 0, InWRte: 0, InOutWRte_RvrtTms: 0 });
    return true;
  });
});

test('manual override: a local change of StorCtl_Mod, or the device revert timer, shows in the reading', async (t) => {
  const { sim, device, storage } = await setup(t, {}, { revertTimeoutS: 5 });
  await device.connect();
  await device.setPowerTarget(-1000);
  assert.equal(sim.peek(storage + Storage.InOutWRte_RvrtTms, 1)[0], 5);
  assert.equal((await device.read()).manualOverride, false);
  sim.step(5100); // the device's own revert ends the control
  assert.equal((await device.read()).manualOverride, true);

  await device.setPowerTarget(-1000);
  const local = await connectRawModbus({ port: sim.port });
  t.after(() => local.close());
  await local.request({ kind: 'write-single', address: storage + Storage.StorCtl_Mod, value: StorCtlMode.NONE });
  assert.equal((await device.read()).manualOverride, true);
});

test('SoC limits stop the discharge at the reserve', async (t) => {
  const { sim, device } = await setup(t, { socPct: 10.2, minReservePct: 10 });
  await device.connect();
  assert.equal(device.limits().minReservePct, 10);
  await device.setPowerTarget(-4000);
  sim.step(60_000); // 0.2 % of 10 kWh = 20 Wh: gone in well under a minute
  const r = await device.read();
  assert.equal(r.powerW, 0);
  assert.equal(r.socPct, 10);
});

test('device down: a clear DEVICE_UNREACHABLE error; back up: the driver reconnects and rediscovers', async (t) => {
  const first = await createBatterySimulator(BATTERY);
  const port = first.port;
  const device = createSunSpecDevice({ host: '127.0.0.1', port, timeoutMs: 500 });
  t.after(() => device.close());
  await device.connect();
  assert.equal((await device.read()).online, true);

  await first.close();
  await assert.rejects(device.read(), (err: unknown) => {
    deviceError(DeviceErrorCode.DEVICE_UNREACHABLE)(err);
    assert.ok(err instanceof DeviceError);
    assert.equal(err.endpoint, `127.0.0.1:${port}`);
    assert.match(err.message, /unreachable/);
    return true;
  });
  await assert.rejects(device.setPowerTarget(1000), deviceError(DeviceErrorCode.DEVICE_UNREACHABLE));

  const second = await createBatterySimulator({ ...BATTERY, port, socPct: 77 });
  t.after(() => second.close());
  const r = await device.read();
  assert.equal(r.socPct, 77);
  const set = await device.setPowerTarget(1500);
  assert.equal(set.targetW, 1500);
  assert.equal(second.state().targetW, 1500);
});

test('Modbus exceptions and silence from the device become typed errors', async (t) => {
  const { sim, device } = await setup(t, {}, { timeoutMs: 200 });
  await device.connect();
  sim.setFault('server-failure');
  await assert.rejects(device.read(), (err: unknown) => {
    deviceError(DeviceErrorCode.MODBUS_EXCEPTION)(err);
    assert.ok(err instanceof DeviceError);
    assert.equal(err.modbusCode, 4);
    return true;
  });
  sim.setFault('no-response');
  await assert.rejects(device.read(), deviceError(DeviceErrorCode.DEVICE_UNREACHABLE));
  sim.setFault('none');
  assert.equal((await device.read()).online, true);
});
