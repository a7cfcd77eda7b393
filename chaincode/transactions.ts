/**
 * The transaction table: name, arguments (all strings, as on a peer), read-only flag, who may call.
 * The contract class has one method per row (checked by a test) and the Fabric contract metadata is
 * generated from this table, so `evaluate`-only functions carry the EVALUATE tag without decorators.
 */
export interface TransactionSpec {
  name: string;
  params: readonly { name: string; description: string }[];
  readOnly: boolean;
  caller: string;
  description: string;
}

const p = (name: string, description: string) => ({ name, description });
const METER = p('meterId', 'smart-meter id (the customer), e.g. smartmeter:20360162');
const DAY = p('day', "calendar day YYYY-MM-DD in the program's time zone");
const EVENT = p('eventId', 'DR event id');
const METERS = p('meterIds', 'JSON array of meter ids (a batch)');
const CLUSTER = p('cluster', "JSON array of the customer ids the event targets, or '' for every customer with a baseline for the day");

export const TRANSACTIONS: readonly TransactionSpec[] = [
  { name: 'setProgramParams', params: [p('params', 'JSON object with the parameters to change')], readOnly: false, caller: 'system operator', description: 'Set program parameters (Y, X weekday/weekend, β, σ, α, ε, token rate, time zone, slots per day, ranges)' },
  { name: 'queryProgramParams', params: [], readOnly: true, caller: 'anyone', description: 'Current program parameters' },
  { name: 'enableRetailer', params: [p('retailerId', 'retailer id (certificate attribute ID)')], readOnly: false, caller: 'system operator', description: 'Add a retailer to the allowed-retailer list' },
  { name: 'disableRetailer', params: [p('retailerId', 'retailer id')], readOnly: false, caller: 'system operator', description: 'Remove a retailer from the allowed-retailer list' },
  { name: 'queryRetailer', params: [p('retailerId', 'retailer id')], readOnly: true, caller: 'system operator, the retailer', description: 'Retailer record' },
  { name: 'enrolMeter', params: [METER], readOnly: false, caller: 'retailer', description: 'Enrol a customer meter under the calling retailer' },
  { name: 'disableMeter', params: [METER], readOnly: false, caller: 'its retailer, system operator', description: 'Disable a meter' },
  { name: 'queryMeter', params: [METER], readOnly: true, caller: 'reader of the meter', description: 'Meter record' },
  { name: 'recordEnergy', params: [METER, DAY, p('values', 'JSON array of S integers W (null = not reported yet)')], readOnly: false, caller: 'retailer of the meter', description: "Record (or correct) one day's load profile" },
  { name: 'queryEnergyValue', params: [METER, DAY], readOnly: true, caller: 'reader of the meter', description: 'Load profile of a meter-day with its history' },
  { name: 'queryDailyEnergy', params: [METER, p('fromDay', 'first day'), p('toDay', 'last day')], readOnly: true, caller: 'reader of the meter', description: 'Daily energy (Wh) per recorded day' },
  { name: 'evaluateBaseline', params: [METER, DAY], readOnly: false, caller: 'system operator, retailer of the meter', description: 'Compute and store the baseline of a customer for a target day' },
  { name: 'queryBaseline', params: [METER, DAY], readOnly: true, caller: 'reader of the meter', description: 'Stored baseline' },
  { name: 'queryMissingBaselines', params: [DAY, METERS], readOnly: true, caller: 'system operator', description: 'Which of the meters have no baseline for the day' },
  { name: 'notifyDRevent', params: [EVENT, DAY, p('window', '"HH:MM-HH:MM" or JSON array of slot indexes'), p('request', 'W: an integer, or a JSON array per window slot'), CLUSTER], readOnly: false, caller: 'system operator', description: 'Create a DR event and allocate the request among the cluster' },
  { name: 'modifyDRevent', params: [EVENT, p('window', 'new window'), p('request', 'new request'), p('cluster', "JSON array of customer ids, or '' for the current version's cluster")], readOnly: false, caller: 'system operator', description: 'New version of an event with new allocations' },
  { name: 'cancelDRevent', params: [EVENT], readOnly: false, caller: 'system operator', description: 'Cancel an event not yet settled' },
  { name: 'queryDRevent', params: [EVENT], readOnly: true, caller: 'anyone', description: 'Event record (totals, status)' },
  { name: 'queryLoadReduction', params: [EVENT, METER], readOnly: true, caller: 'reader of the meter', description: "A customer's OPR per window slot" },
  { name: 'queryLoadReductions', params: [EVENT, METERS], readOnly: true, caller: 'system operator', description: "Each meter's OPR per window slot (queryLoadReduction for a batch), and the meters without one" },
  { name: 'recordOptState', params: [EVENT, METER, p('optType', 'optIn or optOut'), p('version', 'event version answered (OpenADR modificationNumber)'), p('atMs', 'when the customer answered, ms since the epoch')], readOnly: false, caller: 'system operator, retailer of the meter, the customer', description: "Record a customer's opt answer to an event version (oadrCreatedEvent)" },
  { name: 'queryOptState', params: [EVENT, METER], readOnly: true, caller: 'reader of the meter', description: "A customer's recorded opt answer" },
  { name: 'queryEventOpts', params: [EVENT], readOnly: true, caller: 'system operator', description: 'Every recorded opt answer of an event' },
  { name: 'evaluateAvailability', params: [EVENT, METERS], readOnly: false, caller: 'system operator, retailer of the meters', description: 'Update availability after a completed event (idempotent)' },
  { name: 'getDRToken', params: [EVENT, METERS], readOnly: false, caller: 'system operator, retailer of the meters', description: 'Settle a batch of customers: mint tokens once per customer and event' },
  { name: 'queryEarnedToken', params: [METER, p('eventId', "event id, or '' for the balance only")], readOnly: true, caller: 'reader of the meter', description: 'Token balance and per-slot reward of an event' },
  { name: 'redeemTokens', params: [METER, p('amountMilli', 'milli-tokens to redeem')], readOnly: false, caller: 'the customer, its retailer', description: 'Redeem tokens (balance never below zero)' },
  { name: 'queryTokenSupply', params: [], readOnly: true, caller: 'anyone', description: 'Total minted and redeemed milli-tokens' },
  { name: 'submitFlexibility', params: [p('record', 'JRC EnergyFlex record as JSON')], readOnly: false, caller: 'retailer (aggregator)', description: 'Record a flexibility claim (kept as failed with reasons when invalid)' },
  { name: 'validateFlexibility', params: [p('claimId', 'record id')], readOnly: false, caller: 'system operator', description: 'Confirm a recorded flexibility claim' },
  { name: 'queryFlexibility', params: [p('claimId', 'record id')], readOnly: true, caller: 'anyone', description: 'A flexibility record' },
];
