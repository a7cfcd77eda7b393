// Mutation testing (docs/testing.md): `npm run mutate`, or `npm run mutate -- --mutate <glob>` for
// one module. Not part of `npm test` nor CI: it runs the covering test files once per mutant.
import fs from 'node:fs';
import path from 'node:path';

/**
 * The modules where a silent bug costs money or trust, each with the test files that cover it.
 * The one list to edit when files move. Test files run as `node <file>` (TAP on stdout); with
 * per-test coverage Stryker runs, for each mutant, only the listed files that reach it.
 */
export const MODULES = [
  { name: 'chaincode/math', mutate: ['chaincode/math/!(*.test|index).ts'], tests: ['chaincode/math/*.test.ts'] },
  { name: 'chaincode/tx-settlement', mutate: ['chaincode/tx-settlement.ts'], tests: ['chaincode/dr-contract.test.ts', 'chaincode/lifecycle.test.ts', 'chaincode/settlement-shards.test.ts'] },
  { name: 'chaincode/access', mutate: ['chaincode/access.ts'], tests: ['chaincode/access-control.test.ts', 'chaincode/dr-contract.test.ts'] },
  { name: 'ledger policy', mutate: ['ledger-bridge/embedded/policy.ts'], tests: ['ledger-bridge/embedded/policy.test.ts'] },
  { name: 'ledger committer', mutate: ['ledger-bridge/embedded/committer.ts'], tests: ['ledger-bridge/embedded/committer.test.ts', 'ledger-bridge/embedded/embedded-ledger.test.ts', 'ledger-bridge/embedded/verify.test.ts', 'ledger-bridge/embedded/signature-memo.test.ts', 'ledger-bridge/embedded/peer/world-state.test.ts', 'ledger-bridge/embedded/crash.test.ts'] },
  { name: 'ledger verify', mutate: ['ledger-bridge/embedded/verify.ts'], tests: ['ledger-bridge/embedded/verify.test.ts'] },
  { name: 'oadr decoder', mutate: ['oadr/compiled-decoder.ts', 'oadr/codec.ts'], tests: ['oadr/codec.test.ts'] },
  { name: 'oadr XML reader', mutate: ['oadr/xml.ts'], tests: ['oadr/xml.test.ts', 'oadr/xml-limits.test.ts', 'oadr/codec.test.ts'] },
  { name: 'VEN outbox', mutate: ['ven/outbox.ts'], tests: ['ven/outbox.test.ts', 'ven/ven.test.ts'] },
  { name: 'VTN duplicate check', mutate: ['vtn/services/report-service.ts'], tests: ['vtn/services/report-service.test.ts'] },
  { name: 'VTN certificate binding', mutate: ['vtn/tls/binding.ts'], tests: ['vtn/tls/binding.test.ts', 'test/security-tls.test.ts', 'test/security-bad-input.test.ts'] },
];

const unique = (lists) => [...new Set(lists.flat())];

/** The files of a module (its `mutate` globs, `!` excludes applied). */
function filesOf(module) {
  const include = module.mutate.filter((g) => !g.startsWith('!'));
  const exclude = module.mutate.filter((g) => g.startsWith('!')).map((g) => g.slice(1));
  return fs.globSync(include).filter((f) => !exclude.some((g) => path.matchesGlob(f, g)));
}

/** `--mutate <glob>` (or `-m`) on the command line: only the modules with a file it names. */
function selectedModules(argv) {
  const at = argv.findIndex((a) => a === '--mutate' || a === '-m');
  if (at < 0 || argv[at + 1] === undefined) return MODULES;
  const globs = argv[at + 1].split(',').map((g) => g.replace(/:\d+(:\d+)?-\d+(:\d+)?$/, ''));
  const chosen = MODULES.filter((m) => filesOf(m).some((f) => globs.some((g) => path.matchesGlob(f, g))));
  if (chosen.length === 0) throw new Error(`--mutate ${argv[at + 1]} names no file of the modules in stryker.config.mjs; pick one of ${MODULES.map((m) => m.mutate[0]).join(', ')}`);
  return chosen;
}

const modules = selectedModules(process.argv);
/** Reports of a partial run are kept apart, so that it neither overwrites nor shrinks the full run's. */
const reportName = modules === MODULES ? 'all' : modules.map((m) => m.name.replace(/[^a-z0-9]+/gi, '-')).join('+');

/** @type {import('@stryker-mutator/api/core').PartialStrykerOptions} */
export default {
  mutate: unique(modules.map((m) => m.mutate)),
  testRunner: 'tap',
  tap: {
    testFiles: unique(modules.map((m) => m.tests)),
    nodeArgs: ['--test-reporter=tap'],
    // A test file is stopped at its first failing test: the mutant is killed, the rest only costs time.
    forceBail: true,
  },
  coverageAnalysis: 'perTest',
  // Error messages are for people; programs act on the stable codes, which the tests check
  // (STYLE.md: never match free text). A changed message text is not a bug the score should count.
  mutator: { excludedMutations: ['StringLiteral'] },
  checkers: ['typescript'],
  tsconfigFile: 'tsconfig.json',
  typescriptChecker: { prioritizePerformanceOverAccuracy: true },
  checkerNodeArgs: ['--import', path.join(import.meta.dirname, 'test/mutation/typescript-5.mjs')],
  concurrency: 2,
  timeoutMS: 15_000,
  timeoutFactor: 2,
  incremental: true,
  incrementalFile: `reports/${reportName}/stryker-incremental.json`,
  reporters: ['clear-text', 'progress-append-only', 'html', 'json'],
  htmlReporter: { fileName: `reports/${reportName}/mutation.html` },
  jsonReporter: { fileName: `reports/${reportName}/mutation.json` },
  ignorePatterns: ['/data', '/.data', '/reports', '/tmp'],
  tempDirName: '.stryker-tmp',
  cleanTempDir: 'always',
};
