import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import { DrContract } from './dr-contract.ts';
import { contractMetadata } from './metadata.ts';
import {
  addDaysUtc, at, createScenarioIdentities, EVENT_DAY, METER_1, METER_2, profile, RETAILER_ID, setUpScenario,
  type ScenarioIdentities,
} from './testing/reference-scenario.ts';
import { createTestIdentity, createTestLedger, type TestLedger } from './testing/index.ts';
import { decodePolicy, formatPolicy } from '../ledger-bridge/index.ts';

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
    await refused(() => ledger.invoke(contract, id.otherRetailer, 'enrolMeter', [METER_1], now), 'METER_HELD');
  });

  test('a customer cannot record energy', async () => {
    await refused(() => ledger.invoke(contract, id.customer1, 'recordEnergy', [METER_1, day, JSON.stringify(profile(1, 9))], now), 'ACCESS_DENIED');
  });

  test('only the system operator notifies events, enables retailers and sets parameters', async () => {
    for (const who of [id.retailer, id.customer1, id.otherRetailer]) {
      await refused(() => ledger.invoke(contract, who, 'notifyDRevent', ['ev-x', EVENT_DAY, '07:00-19:00', '300', ''], now), 'ACCESS_DENIED');
    }
    await refused(() => ledger.invoke(contract, id.retailer, 'enableRetailer', ['utility:7'], now), 'ACCESS_DENIED');
    await refused(() => ledger.invoke(contract, id.retailer, 'setProgramParams', ['{"tokenRateMilli":5}'], now), 'ACCESS_DENIED');
    // An Org2MSP identity claiming an operator ID is not the operator: the MSP decides too.
    const fake = await createTestIdentity({ mspId: 'Org2MSP', commonName: 'fake', attrs: { ID: 'operator:dso' } });
    await refused(() => ledger.invoke(contract, fake, 'notifyDRevent', ['ev-x', EVENT_DAY, '07:00-19:00', '300', ''], now), 'ACCESS_DENIED');
  });

  test('a retailer cannot settle meters of another retailer', async () => {
    await refused(() => ledger.invoke(contract, id.otherRetailer, 'getDRToken', ['ev-x', JSON.stringify([METER_1])], now), 'ACCESS_DENIED');
  });

  test('the retailer reads its customers; the operator reads everyone', async () => {
    assert.equal(JSON.parse((await ledger.evaluate(contract, id.retailer, 'queryMeter', [METER_2], now)).result).retailerId, RETAILER_ID);
    assert.equal(JSON.parse((await ledger.evaluate(contract, id.operator, 'queryEnergyValue', [METER_2, day], now)).result).found, true);
  });
});

describe('security: one retailer against another on the ledger (the ledger is the authority)', () => {
  // Retailer A = id.otherRetailer (utility:9999); retailer B = id.retailer, whose customers METER_1 and METER_2 are.
  test("security: retailer A writing recordEnergy for B's meter is refused and B's values stay", async () => {
    const before = JSON.parse((await ledger.evaluate(contract, id.retailer, 'queryEnergyValue', [METER_1, day], now)).result);
    await refused(() => ledger.invoke(contract, id.otherRetailer, 'recordEnergy', [METER_1, day, JSON.stringify(profile(2, 3))], now), 'ACCESS_DENIED');
    const after = JSON.parse((await ledger.evaluate(contract, id.retailer, 'queryEnergyValue', [METER_1, day], now)).result);
    assert.deepEqual(after.values, before.values);
    assert.equal(after.records, before.records);
  });

  test("security: retailer A reading B's energy, baseline, balance, opt answers or meter is refused", async () => {
    const reads: [string, string[]][] = [
      ['queryEnergyValue', [METER_1, day]],
      ['queryDailyEnergy', [METER_1, day, day]],
      ['queryBaseline', [METER_1, EVENT_DAY]],
      ['queryEarnedToken', [METER_1, '']],
      ['queryOptState', ['ev-x', METER_1]],
      ['queryLoadReduction', ['ev-x', METER_1]],
      ['queryMeter', [METER_1]],
    ];
    for (const [fn, args] of reads) await refused(() => ledger.evaluate(contract, id.otherRetailer, fn, args, now), 'ACCESS_DENIED');
  });

  test("security: retailer A's other meter-scoped writes on B's meter are refused (baseline, opt answer, redeem, settlement, disable)", async () => {
    const writes: [string, string[]][] = [
      ['evaluateBaseline', [METER_1, EVENT_DAY]],
      ['recordOptState', ['ev-x', METER_1, 'optIn', '0', '0']],
      ['redeemTokens', [METER_1, '1']],
      ['evaluateAvailability', ['ev-x', JSON.stringify([METER_1])]],
      ['getDRToken', ['ev-x', JSON.stringify([METER_2, METER_1])]],
      ['disableMeter', [METER_1]],
    ];
    for (const [fn, args] of writes) await refused(() => ledger.invoke(contract, id.otherRetailer, fn, args, now), 'ACCESS_DENIED');
  });

  test("security: retailer A enrolling B's enabled meter is refused with METER_HELD, and B keeps it", async () => {
    const msg = await refused(() => ledger.invoke(contract, id.otherRetailer, 'enrolMeter', [METER_2], now), 'METER_HELD');
    assert.match(msg, new RegExp(METER_2));
    assert.equal(JSON.parse((await ledger.evaluate(contract, id.retailer, 'queryMeter', [METER_2], now)).result).retailerId, RETAILER_ID);
  });
});

describe('security: governance — the operator cannot lock itself out', () => {
  test('security: operatorMspIds ["Org2MSP"] from the Org1MSP operator is refused with OPERATOR_LOCKOUT; it stays the operator', async () => {
    const msg = await refused(() => ledger.invoke(contract, id.operator, 'setProgramParams', ['{"operatorMspIds":["Org2MSP"]}'], now), 'OPERATOR_LOCKOUT');
    assert.match(msg, /Org1MSP/);
    await refused(() => ledger.invoke(contract, id.operator, 'setProgramParams', ['{"operatorIdPrefix":"dso:"}'], now), 'OPERATOR_LOCKOUT');
    await refused(() => ledger.invoke(contract, id.operator, 'setProgramParams', ['{"operatorMspIds":[]}'], now), 'INVALID_ARGUMENT');
    assert.deepEqual(JSON.parse((await ledger.evaluate(contract, id.operator, 'queryProgramParams', [], now)).result).operatorMspIds, ['Org1MSP']);
  });

  test('security: the operator role is handed over by adding the new MSP first; the caller keeps its own', async () => {
    const both = JSON.parse((await ledger.invoke(contract, id.operator, 'setProgramParams', ['{"operatorMspIds":["Org1MSP","Org2MSP"]}'], now)).result);
    assert.deepEqual(both.operatorMspIds, ['Org1MSP', 'Org2MSP']);
    await ledger.invoke(contract, id.operator, 'setProgramParams', ['{"operatorMspIds":["Org1MSP"]}'], now);
  });

  test('security: every change of the parameters writes the governance policy as the program key\'s VALIDATION_PARAMETER', async () => {
    const policyOfProgram = () => {
      const entry = ledger.worldState.get('\u0000program\u0000');
      const bytes = entry?.metadata.get('VALIDATION_PARAMETER');
      assert.ok(bytes, 'the program key carries a key-level endorsement policy');
      return formatPolicy(decodePolicy(bytes));
    };
    await ledger.invoke(contract, id.operator, 'setProgramParams', ['{"tokenRateMilli":1000}'], now);
    assert.equal(policyOfProgram(), "AND('Org1MSP.peer','Org2MSP.peer')", 'default: both orgs');
    const three = JSON.parse((await ledger.invoke(contract, id.operator, 'setProgramParams', ['{"governanceMspIds":["Org3MSP","Org1MSP","Org2MSP"],"governanceQuorum":2}'], now)).result);
    assert.deepEqual([three.governanceMspIds, three.governanceQuorum], [['Org1MSP', 'Org2MSP', 'Org3MSP'], 2]);
    assert.equal(policyOfProgram(), "OutOf(2,'Org1MSP.peer','Org2MSP.peer','Org3MSP.peer')");
    await ledger.invoke(contract, id.operator, 'setProgramParams', ['{"governanceMspIds":["Org1MSP","Org2MSP"],"governanceQuorum":2}'], now);
    assert.equal(policyOfProgram(), "AND('Org1MSP.peer','Org2MSP.peer')");
  });

  test('security: governance by one org is refused: governanceMspIds of one org, an org twice, a quorum of 1 or above the orgs → INVALID_ARGUMENT', async () => {
    for (const change of [
      { governanceMspIds: ['Org1MSP'] },
      { governanceMspIds: ['Org1MSP', 'Org1MSP'] },
      { governanceQuorum: 1 },
      { governanceQuorum: 3 },
      { governanceMspIds: ['Org1MSP', 'Org2MSP', 'Org3MSP'], governanceQuorum: 1 },
    ]) {
      await refused(() => ledger.invoke(contract, id.operator, 'setProgramParams', [JSON.stringify(change)], now), 'INVALID_ARGUMENT');
    }
  });
});

describe('security: absurd energy values', () => {
  const values = (slot: number, w: number | string): string => {
    const p = profile(1, 5).map(String);
    p[slot] = String(w);
    return `[${p.join(',')}]`;
  };
  const past = addDaysUtc(EVENT_DAY, -40);

  test('security: 1e39 W, above 1 GW, negative or fractional slot values are refused naming each slot; nothing is written', async () => {
    const msg = await refused(() => ledger.invoke(contract, id.retailer, 'recordEnergy', [METER_1, past, values(13, '1e39')], now), 'INVALID_ARGUMENT');
    assert.match(msg, /values\[13\] \(slot 13\) 1e\+39 W is above 1000000000 W/);
    await refused(() => ledger.invoke(contract, id.retailer, 'recordEnergy', [METER_1, past, values(20, 1_000_000_001)], now), 'INVALID_ARGUMENT');
    const two = values(3, -5).replace(/^\[/, '[').split(',');
    two[90] = '2.5';
    const both = await refused(() => ledger.invoke(contract, id.retailer, 'recordEnergy', [METER_1, past, `${two.join(',')}`], now), 'INVALID_ARGUMENT');
    assert.match(both, /2 of 96 slot values refused.*values\[3\] \(slot 3\) must not be negative.*values\[90\] \(slot 90\) must be an integer/);
  });

  test('security: a refused batch does not poison later writes: the same day without the bad slot is recorded', async () => {
    await refused(() => ledger.invoke(contract, id.retailer, 'recordEnergy', [METER_1, past, values(13, '1e39')], now), 'INVALID_ARGUMENT');
    const ok = JSON.parse((await ledger.invoke(contract, id.retailer, 'recordEnergy', [METER_1, past, values(13, 'null')], now)).result);
    assert.equal(ok.complete, false);
    const stored = JSON.parse((await ledger.evaluate(contract, id.retailer, 'queryEnergyValue', [METER_1, past], now)).result);
    assert.equal(stored.values[13], null);
    assert.equal(stored.values[14], profile(1, 5)[14]);
  });
});

describe('access control: disabled meters and what a refusal says', () => {
  test('a disabled meter takes no energy data from its retailer until the retailer enrols it again', async () => {
    const meter = 'smartmeter:7001';
    await ledger.invoke(contract, id.retailer, 'enrolMeter', [meter], now);
    await ledger.invoke(contract, id.retailer, 'disableMeter', [meter], now);
    const msg = await refused(() => ledger.invoke(contract, id.retailer, 'recordEnergy', [meter, day, JSON.stringify(profile(1, 1))], now), 'ACCESS_DENIED');
    assert.match(msg, /smartmeter:7001 is disabled/);
    await ledger.invoke(contract, id.retailer, 'enrolMeter', [meter], now);
    await ledger.invoke(contract, id.retailer, 'recordEnergy', [meter, day, JSON.stringify(profile(1, 1))], now);
  });

  test('a refusal names the caller by MSP and ID, "(none)" without an ID attribute', async () => {
    const stranger = await createTestIdentity({ mspId: 'Org2MSP', commonName: 'r4', attrs: { ID: 'utility:4444' } });
    assert.match(await refused(() => ledger.invoke(contract, stranger, 'enrolMeter', ['smartmeter:1'], now), 'ACCESS_DENIED'), /caller Org2MSP ID=utility:4444 is not/);
    const anonymous = await createTestIdentity({ mspId: 'Org2MSP', commonName: 'r5', attrs: {} });
    assert.match(await refused(() => ledger.invoke(contract, anonymous, 'enrolMeter', ['smartmeter:1'], now), 'ACCESS_DENIED'), /caller Org2MSP ID=\(none\) is not/);
  });
});
