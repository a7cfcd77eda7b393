/**
 * The OpenADR 2.0b conformance suite (planned: plays VEN against any VTN URL and VTN against any
 * VEN). Today: validation of any message against the official 2.0b XSD with xmllint.
 */
export { OADR_20A_XSD, OADR_XSD, validateXsd, validateXsdMany, validateXsdManySync, xmllintAvailable, type XsdResult } from './xsd.ts';
export { allMessageChecks, checkExchanges, payloadChecks, prevalidateXsd } from './checker.ts';
export { RULES, ruleText } from './rules.ts';
export { findingText, prettyXml, renderHtml, renderJunit, renderSummary, writeReports, writeSummary, type ReportPaths, type SummaryOptions } from './report/index.ts';
export { exitCodeOf, tally, type CaseResult, type Exchange, type ExchangeCheck, type Family, type Finding, type Outcome, type RunResult, type Side, type Transport } from './case.ts';
