/**
 * A `--config` file: YAML for `.yaml` / `.yml` (YAML 1.2, core schema: `yes` is a string, not a
 * boolean; duplicate keys refused), JSON for any other name. The top level is a mapping of settings.
 */
import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';

export function readConfigFile(path: string): Record<string, unknown> {
  const text = readFileSync(path, 'utf8');
  const value: unknown = /\.ya?ml$/i.test(path) ? parseYaml(text, { schema: 'core', uniqueKeys: true, prettyErrors: true }) : JSON.parse(text);
  if (value === null || typeof value !== 'object' || Array.isArray(value)) throw new Error('the top level must be a mapping of settings (an object)');
  return value as Record<string, unknown>;
}
