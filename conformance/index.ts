/**
 * The OpenADR 2.0b conformance suite: plays the VENs against any VTN and the VTN against any VEN,
 * over the wire only (HTTP pull and push, TLS with client certificates), case by case with the
 * rule ids of the checklist; and the validation of any message against the official XSD.
 */
export { OADR_20A_XSD, OADR_XSD, validateXsd, validateXsdMany, xmllintAvailable, type XsdResult } from './xsd.ts';
export { exitCodeOf, tally, type CaseResult, type Exchange, type ExchangeCheck, type Family, type Finding, type Outcome, type RunResult, type Side, type Transport } from './case.ts';
export { runCases, defineCase, ruleIdsOf, selected, CaseSkipped, PeerMisbehaved, type CaseControl, type CaseSpec, type ExpectedFail, type RunOptions } from './runner.ts';
export { createRecordingClient, startRecordingServer, createTape, PeerUnreachable, type RecordingClient, type RecordingServer, type Tape, type TapeSlot, type TlsMaterial } from './http-recorder.ts';
export { progressLine, summaryTable } from './summary.ts';
export { runVtnSuite, type VtnSuiteOptions } from './vtn-suite.ts';
export { startVenSuite, type VenSuite, type VenSuiteOptions } from './ven-suite.ts';
export { vtnCases } from './cases/vtn-cases.ts';
export { venCases } from './cases/ven-cases.ts';
export { ADAPTER_ACTIONS, type AdapterAction, type AdapterOrder, type VtnAdapter } from './adapters/adapter.ts';
export { createAdminAdapter, type AdminAdapterOptions } from './adapters/admin.ts';
export { createHookAdapter, hookEnvironment, type HookAdapterOptions } from './adapters/hook.ts';
export { createInteractiveAdapter, instruction, type InteractiveAdapterOptions } from './adapters/interactive.ts';
export { CONFORMANCE_USAGE, runConformanceCommand, type ConformanceIo } from './cli.ts';
