/**
 * The OpenADR 2.0b conformance suite: the types of cases, exchanges, findings and runs; the payload
 * checker (the rules every message must keep, one check per family in checks/); the rule
 * one-liners; the reports of a run (terminal summary, JUnit XML, HTML, JSON); validation of any
 * message against the official 2.0b and 2.0a XSDs with xmllint.
 */
export { OADR_20A_XSD, OADR_XSD, validateXsd, validateXsdMany, validateXsdManySync, xmllintAvailable, type XsdResult } from './xsd.ts';
export { allMessageChecks, checkExchanges, payloadChecks, prevalidateXsd } from './checker.ts';
export { RULES, ruleText } from './rules.ts';
export { findingText, prettyXml, renderHtml, renderJunit, renderSummary, writeReports, writeSummary, type ReportPaths, type SummaryOptions } from './report/index.ts';
export { exitCodeOf, tally, type CaseResult, type Exchange, type ExchangeCheck, type Family, type Finding, type Outcome, type RunResult, type Side, type Transport } from './case.ts';
