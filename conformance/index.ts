/**
 * The OpenADR 2.0b conformance suite: plays the VENs against any VTN and the VTN against any VEN,
 * over the wire only (HTTP pull and push, TLS with client certificates, XMPP), case by case with the
 * rule ids of the checklist; the payload checker (the rules every message must keep, one check per
 * family in checks/); the rule one-liners; the reports of a run (terminal summary, JUnit XML, HTML,
 * JSON); validation of any message against the official 2.0b and 2.0a XSDs with xmllint.
 */
export { OADR_20A_XSD, OADR_XSD, validateXsd, validateXsdMany, validateXsdManySync, xmllintAvailable, type XsdResult } from './xsd.ts';
export { allMessageChecks, checkExchanges, payloadChecks, prevalidateXsd } from './checker.ts';
export { RULES, ruleText } from './rules.ts';
export { findingText, prettyXml, renderHtml, renderJunit, renderSummary, writeReports, writeSummary, type ReportPaths, type SummaryOptions } from './report/index.ts';
export { exitCodeOf, tally, type CaseResult, type Exchange, type ExchangeCheck, type Family, type Finding, type Outcome, type RunResult, type Side, type Transport } from './case.ts';
export { runCases, defineCase, ruleIdsOf, selected, CaseSkipped, PeerMisbehaved, type CaseControl, type CaseSpec, type ExpectedFail, type RunOptions } from './runner.ts';
export { createRecordingClient, startRecordingServer, createTape, PeerUnreachable, type RecordingClient, type RecordingServer, type Tape, type TapeSlot, type TlsMaterial } from './http-recorder.ts';
export { progressLine } from './progress.ts';
export { runVtnSuite, type VtnSuiteOptions, type VtnXmppOptions } from './vtn-suite.ts';
export { createXmppRecorder, type IqAnswer, type XmppRecorder, type XmppRecorderOptions } from './xmpp-recorder.ts';
export { startVenSuite, type VenSuite, type VenSuiteOptions } from './ven-suite.ts';
export { vtnCases } from './cases/vtn-cases.ts';
export { venCases } from './cases/ven-cases.ts';
export { ADAPTER_ACTIONS, VEN_ADAPTER_ACTIONS, type Adapter, type AdapterAction, type AdapterOrder, type VenAdapter, type VenAdapterAction, type VtnAdapter } from './adapters/adapter.ts';
export { createSigner, signatureCheck, type Signer } from './signature.ts';
export { createAdminAdapter, type AdminAdapterOptions } from './adapters/admin.ts';
export { createHookAdapter, hookEnvironment, type HookAdapterOptions } from './adapters/hook.ts';
export { createInteractiveAdapter, instruction, type InteractiveAdapterOptions } from './adapters/interactive.ts';
export { CONFORMANCE_USAGE, runConformanceCommand, type ConformanceIo } from './cli.ts';
