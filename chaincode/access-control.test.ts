import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import { DrContract } from './dr-contract.ts';
import { contractMetadata } from './metadata.ts';
import {
  addDaysUtc, at, createScenarioIdentities, EVENT_DAY, METER_1, METER_2, profile, RETAILER_ID, setUpScenario,
  type ScenarioIdentities,
} from './testing/reference-scenario.ts';
import { createTestIdentity, createTestLedger, type TestLedger } from './testing/index.ts';

let id: ScenarioIdentities;
let ledger: TestLedger;
const contract = new DrContract();
const day = addDaysUtc(EVENT_DAY, -1);
const now = at(addDaysUtc(EVENT_DAY, -1), '20:00:00');

before(async () => {
  id = await createScenarioIdentities();
  ledger = createTestLedger({ contractMetadata: contractMetadata() });
  await setUpScenario(ledger, contract, id);
});

/** The call is refused with `code` (the message prefix) and the committed state is unchanged. */
async function refused(call: () => Promise<unknown>, code: string): Promise<string> {
  const snapshot = ledger.snapshot();
  let message = '';
  await assert.rejects(call, (err: Error) => {
    message = err.message;
    assert.ok(err.message.startsWith(`${code}: `), `expected ${code}, got: ${err.message}`);
    return true;
  });
  assert.deepEqual(ledger.snapshot(), snapshot, 'a refused call writes nothing');
  return message;
}

describe('access control (spec: actors and identities; thesis listings 5.1–5.2)', () => {
  test('a customer reads its own data', async () => {
    const r = JSON.parse((await ledger.invoke(contract, id.customer1, 'queryEnergyValue', [METER_1, day], now)).result);
    assert.equal(r.found, true);
    assert.deepEqual(r.values, profile(1, 1));
  });

  test("a customer reading another customer's data is refused", async () => {
    await refused(() => ledger.invoke(contract, id.customer1, 'queryEnergyValue', [METER_2, day], now), 'ACCESS_DENIED');
    await refused(() => ledger.invoke(contract, id.customer2, 'queryDailyEnergy', [METER_1, day, day], now), 'ACCESS_DENIED');
    await refused(() => ledger.invoke(contract, id.customer2, 'queryEarnedToken', [METER_1, ''], now), 'ACCESS_DENIED');
  });

  test('the same meter id issued by another retailer (IDprovider) is somebody else', async () => {
    await refused(() => ledger.invoke(contract, id.impostor, 'queryEnergyValue', [METER_1, day], now), 'ACCESS_DENIED');
  });

  test('a retailer recording for a meter of another retailer is refused', async () => {
    await refused(() => ledger.invoke(contract, id.otherRetailer, 'recordEnergy', [METER_1, day, JSON.stringify(profile(1, 9))], now), 'ACCESS_DENIED');
    await refused(() => ledger.invoke(contract, id.otherRetailer, 'queryEnergyValue', [METER_1, day], now), 'ACCESS_DENIED');
  });

  test('a retailer not in the allowed list, or disabled, is refused', async () => {
    const stranger = await createTestIdentity({ mspId: 'Org2MSP', commonName: 'r3', attrs: { ID: 'utility:5555' } });
    await refused(() => ledger.invoke(contract, stranger, 'enrolMeter', ['smartmeter:1'], now), 'ACCESS_DENIED');
    await ledger.invoke(contract, id.operator, 'disableRetailer', ['utility:9999'], now);
    await refused(() => ledger.invoke(contract, id.otherRetailer, 'enrolMeter', ['smartmeter:2'], now), 'ACCESS_DENIED');
    await ledger.invoke(contract, id.operator, 'enableRetailer', ['utility:9999'], now);
  });

  test('recording for an unknown meter is refused with NOT_FOUND', async () => {
    const msg = await refused(() => ledger.invoke(contract, id.retailer, 'recordEnergy', ['smartmeter:404', day, JSON.stringify(profile(1, 1))], now), 'NOT_FOUND');
    assert.match(msg, /smartmeter:404/);
  });

  test('a meter enrolled by one retailer cannot be taken by another while enabled', async () => {
    await refused(() => ledger.invoke(contract, id.otherRetailer, 'enrolMeter', [METER_1], now), 'CONFLICT');
  });

  test('a customer cannot record energy', async () => {
    await refused(() => ledger.invoke(contract, id.customer1, 'recordEnergy', [METER_1, day, JSON.stringify(profile(1, 9))], now), 'ACCESS_DENIED');
  });

  test('only the system operator notifies events, enables retailers and sets parameters', async () => {
    for (const who of [id.retailer, id.customer1, id.otherRetailer]) {
      await refused(() => ledger.invoke(contract, who, 'notifyDRevent', ['ev-x', EVENT_DAY, '07:00-19:00', '300'], now), 'ACCESS_DENIED');
    }
    await refused(() => ledger.invoke(contract, id.retailer, 'enableRetailer', ['utility:7'], now), 'ACCESS_DENIED');
    await refused(() => ledger.invoke(contract, id.retailer, 'setProgramParams', ['{"tokenRateMilli":5}'], now), 'ACCESS_DENIED');
    // An Org2MSP identity claiming an operator ID is not the operator: the MSP decides too.
    const fake = await createTestIdentity({ mspId: 'Org2MSP', commonName: 'fake', attrs: { ID: 'operator:dso' } });
    await refused(() => ledger.invoke(contract, fake, 'notifyDRevent', ['ev-x', EVENT_DAY, '07:00-19:00', '300'], now), 'ACCESS_DENIED');
  });

  test('a retailer cannot settle meters of another retailer', async () => {
    await refused(() => ledger.invoke(contract, id.otherRetailer, 'getDRToken', ['ev-x', JSON.stringify([METER_1])], now), 'ACCESS_DENIED');
  });

  test('the retailer reads its customers; the operator reads everyone', async () => {
    assert.equal(JSON.parse((await ledger.evaluate(contract, id.retailer, 'queryMeter', [METER_2], now)).result).retailerId, RETAILER_ID);
    assert.equal(JSON.parse((await ledger.evaluate(contract, id.operator, 'queryEnergyValue', [METER_2, day], now)).result).found, true);
  });
});
