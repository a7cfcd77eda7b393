/**
 * The layout's rules, checked on the import graph of every TypeScript file (docs/architecture.md):
 * production code never imports a `testing/` folder; a part uses another part only through its
 * `index.ts` (test code may also use the other part's `testing/` helpers); and production code has no
 * import circles.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, posix, relative } from 'node:path';
import { test } from 'node:test';

const ROOT = join(dirname(new URL(import.meta.url).pathname), '..');
const PARTS = ['oadr', 'chaincode', 'ledger-bridge', 'vtn', 'ven', 'certs', 'storage', 'cli', 'conformance', 'iec104', 'web', 'xmpp', 'demo'];
/** Folders whose files may use anything: benchmarks and the cross-part integration tests. */
const FREE = ['bench', 'test'];

function tsFiles(dir: string, out: string[] = []): string[] {
  for (const entry of readdirSync(join(ROOT, dir), { withFileTypes: true })) {
    if (entry.name === 'node_modules' || entry.name.startsWith('.')) continue;
    const path = posix.join(dir, entry.name);
    if (entry.isDirectory()) tsFiles(path, out);
    else if (entry.name.endsWith('.ts')) out.push(path);
  }
  return out;
}

/** Relative specifiers of static and dynamic imports and re-exports. */
export function importsOf(source: string): string[] {
  const specs: string[] = [];
  const pattern = /(?:^|\n)\s*(?:import|export)\b[^'"`;]*?\bfrom\s*['"](\.[^'"]+)['"]|\bimport\s*\(\s*['"](\.[^'"]+)['"]\s*\)|(?:^|\n)\s*import\s*['"](\.[^'"]+)['"]/g;
  for (const m of source.matchAll(pattern)) specs.push((m[1] ?? m[2] ?? m[3]) as string);
  return specs;
}

const isTestCode = (file: string): boolean => file.endsWith('.test.ts') || file.split('/').includes('testing') || FREE.includes(file.split('/')[0] as string);
const partOf = (file: string): string => file.split('/')[0] as string;

const files = [...PARTS, ...FREE].flatMap((dir) => {
  try {
    return tsFiles(dir);
  } catch {
    return [];
  }
});
const graph = new Map<string, string[]>(
  files.map((file) => [file, importsOf(readFileSync(join(ROOT, file), 'utf8')).map((spec) => posix.normalize(posix.join(posix.dirname(file), spec)))]),
);

test('no production file imports from a testing/ folder', () => {
  const offenders = [...graph].flatMap(([file, targets]) => (isTestCode(file) ? [] : targets.filter((t) => t.split('/').includes('testing')).map((t) => `${file} → ${t}`)));
  assert.deepEqual(offenders, []);
});

test("a part uses another part only through its index.ts (test code also through the other part's testing/)", () => {
  const offenders: string[] = [];
  for (const [file, targets] of graph) {
    if (FREE.includes(partOf(file))) continue;
    for (const target of targets) {
      const part = partOf(target);
      if (part === partOf(file) || !PARTS.includes(part)) continue;
      const publicSurface = target === `${part}/index.ts`;
      const testingHelper = isTestCode(file) && target.startsWith(`${part}/testing/`);
      if (!publicSurface && !testingHelper) offenders.push(`${file} → ${target}`);
    }
  }
  assert.deepEqual(offenders, []);
});

/** Parts whose dependencies are narrower than "any part's index": the dashboard reaches the VTN over HTTP only. */
const MAY_DEPEND_ON: Readonly<Record<string, readonly string[]>> = { web: [] };

test('web/ depends on no other part (the dashboard reads the admin API over HTTP; the VTN serves it)', () => {
  const offenders = [...graph].flatMap(([file, targets]) => {
    const allowed = MAY_DEPEND_ON[partOf(file)];
    if (allowed === undefined || isTestCode(file)) return [];
    return targets.filter((t) => PARTS.includes(partOf(t)) && partOf(t) !== partOf(file) && !allowed.includes(partOf(t))).map((t) => `${file} → ${t}`);
  });
  assert.deepEqual(offenders, []);
  assert.ok(graph.has('web/index.ts'), 'the check sees web/');
});

/** The circles of an import graph: its strongly connected components of more than one file (Tarjan). */
function cycles(production: ReadonlyMap<string, readonly string[]>): string[][] {
  const found = new Map<string, string[]>();
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  let counter = 0;
  const visit = (file: string): void => {
    index.set(file, counter);
    low.set(file, counter++);
    stack.push(file);
    onStack.add(file);
    for (const next of production.get(file) ?? []) {
      if (!index.has(next)) {
        visit(next);
        low.set(file, Math.min(low.get(file) as number, low.get(next) as number));
      } else if (onStack.has(next)) low.set(file, Math.min(low.get(file) as number, index.get(next) as number));
    }
    if (low.get(file) === index.get(file)) {
      const component: string[] = [];
      let member: string;
      do {
        member = stack.pop() as string;
        onStack.delete(member);
        component.push(member);
      } while (member !== file);
      if (component.length > 1) found.set(component.sort()[0] as string, component);
    }
  };
  for (const file of production.keys()) if (!index.has(file)) visit(file);
  return [...found.values()];
}

test('production code has no import circles', () => {
  const production = new Map([...graph].filter(([file]) => !isTestCode(file)).map(([file, targets]) => [file, targets.filter((t) => graph.has(t) && !isTestCode(t))]));
  assert.deepEqual(cycles(production), []);
});

test('the checks see what they guard: every kind of import, the whole repository, a planted circle', () => {
  const source = "import { a } from './a.ts';\nexport * from '../b/index.ts';\nconst c = await import('./c.ts');\nimport type { D } from './d.ts';\nimport './e.ts';";
  assert.deepEqual(importsOf(source).sort(), ['../b/index.ts', './a.ts', './c.ts', './d.ts', './e.ts']);
  assert.ok(graph.size > 300, `the graph holds the repository (${graph.size} files)`);
  assert.ok([...graph.values()].some((targets) => targets.includes('oadr/index.ts')), 'imports of oadr/index.ts are seen');
  const planted = new Map([['a.ts', ['b.ts']], ['b.ts', ['c.ts']], ['c.ts', ['a.ts']], ['d.ts', ['a.ts']]]);
  assert.deepEqual(cycles(planted).map((c) => c.sort()), [['a.ts', 'b.ts', 'c.ts']]);
});
