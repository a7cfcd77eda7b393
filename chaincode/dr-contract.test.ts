import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import { DrContract } from './dr-contract.ts';
import { EVENT_DR_EVENT_NOTIFIED } from './events.ts';
import { contractMetadata } from './metadata.ts';
import {
  addDaysUtc, at, createScenarioIdentities, EVENT_DAY, EVENT_ID, METER_1, METER_2, runScenario, setUpScenario,
  type ScenarioIdentities,
} from './reference-scenario.ts';
import { createTestLedger, type TestLedger } from './testing/index.ts';

let id: ScenarioIdentities;
before(async () => { id = await createScenarioIdentities(); });

const newLedger = () => createTestLedger({ contractMetadata: contractMetadata() });

/** Asserts the call is refused with `code` and that the committed state did not change. */
async function refused(ledger: TestLedger, call: () => Promise<unknown>, code: string): Promise<void> {
  const before = ledger.snapshot();
  await assert.rejects(call, (err: Error) => {
    assert.ok(err.message.startsWith(`${code}: `), `expected ${code}, got: ${err.message}`);
    return true;
  });
  assert.deepEqual(ledger.snapshot(), before);
}

describe('reference scenario (thesis chapter 5)', () => {
  test('two households, 300 W 07:00–19:00: proportional allocation, household 1 earns more, settle twice mints nothing', async () => {
    const ledger = newLedger();
    const contract = new DrContract();
    const out = await runScenario(ledger, contract, id);
    const window = Array.from({ length: 48 }, (_, k) => 28 + k); // 07:00–19:00 at 15 min
    assert.equal(out.opr1.length, 48);
    for (let k = 0; k < 48; k++) {
      const h = window[k]!;
      const b1 = out.baseline1[h]!;
      const b2 = out.baseline2[h]!;
      assert.equal(out.opr1[k]! + out.opr2[k]!, 300, `slot ${h}: the whole request is allocated`);
      assert.ok(Math.abs(out.opr1[k]! - (300 * b1) / (b1 + b2)) < 1, `slot ${h}: household 1 share ∝ baseline`);
    }
    assert.ok(out.tokens1 > out.tokens2, `household 1 (${out.tokens1}) earns more than household 2 (${out.tokens2})`);
    assert.ok(out.tokens1 > 0);

    const after = addDaysUtc(EVENT_DAY, 1);
    const event = JSON.parse((await ledger.evaluate(contract, id.operator, 'queryDRevent', [EVENT_ID], at(after, '04:00:00'))).result);
    assert.equal(event.status, 'settled');
    assert.equal(event.mintedMilli, out.tokens1 + out.tokens2);
    const supply = JSON.parse((await ledger.evaluate(contract, id.operator, 'queryTokenSupply', [], at(after, '04:00:00'))).result);
    assert.equal(supply.mintedMilli, out.tokens1 + out.tokens2, 'total supply = sum of mints');

    const snapshot = ledger.snapshot();
    const again = await ledger.invoke(contract, id.retailer, 'getDRToken', [EVENT_ID, JSON.stringify([METER_1, METER_2])], at(after, '05:00:00'));
    assert.equal(JSON.parse(again.result).mintedMilli, 0);
    assert.equal(again.event, undefined);
    assert.deepEqual(ledger.snapshot(), snapshot, 'second settlement writes nothing');
  });

  test('same inputs → byte-identical state on two ledgers', async () => {
    const a = newLedger();
    const b = newLedger();
    await runScenario(a, new DrContract(), id);
    await runScenario(b, new DrContract(), id);
    const sa = a.snapshot();
    const sb = b.snapshot();
    assert.ok(sa.length > 80);
    assert.deepEqual(sa.map((e) => e.key), sb.map((e) => e.key));
    assert.ok(sa.every((e, i) => e.value.equals(sb[i]!.value)));
  });
});
