/**
 * The hook adapter: runs the operator's command for each action, `--hook 'cmd {action} {venId}'`,
 * for a VTN or a VEN under test. `{action}`, `{venId}`, `{eventId}` and `{optId}` in the template
 * are replaced (shell-quoted); the whole order is also given as JSON on stdin and as environment
 * variables OADR_ACTION, OADR_VEN_ID, OADR_EVENT_ID, OADR_START (ISO 8601),
 * OADR_DURATION_MINUTES, OADR_VALUES (comma-separated), OADR_PRIORITY, OADR_RESPONSE_REQUIRED,
 * OADR_START_AFTER_MS, OADR_OPT_TYPE, OADR_OPT_ID, OADR_RESOURCE_ID. Exit code 0: done; anything
 * else: the action failed, with the command's stderr.
 */
import { spawn } from 'node:child_process';
import type { Adapter, AdapterOrder } from './adapter.ts';

export interface HookAdapterOptions {
  readonly template: string;
  /** Default 30 s. */
  readonly timeoutMs?: number;
  /** The environment the command runs in (the CLI passes its own). */
  readonly env?: Readonly<Record<string, string | undefined>>;
}

const quote = (s: string): string => `'${s.replace(/'/g, `'\\''`)}'`;

/** The order as the hook's environment variables. */
export function hookEnvironment(action: string, o: AdapterOrder): Record<string, string> {
  const env: Record<string, string> = { OADR_ACTION: action, OADR_VEN_ID: o.venId };
  if (o.eventId !== undefined) env.OADR_EVENT_ID = o.eventId;
  if (o.startMs !== undefined) env.OADR_START = new Date(o.startMs).toISOString();
  if (o.durationMinutes !== undefined) env.OADR_DURATION_MINUTES = String(o.durationMinutes);
  if (o.values !== undefined) env.OADR_VALUES = o.values.join(',');
  if (o.priority !== undefined) env.OADR_PRIORITY = String(o.priority);
  if (o.responseRequired !== undefined) env.OADR_RESPONSE_REQUIRED = o.responseRequired;
  if (o.startAfterMs !== undefined) env.OADR_START_AFTER_MS = String(o.startAfterMs);
  if (o.optType !== undefined) env.OADR_OPT_TYPE = o.optType;
  if (o.optId !== undefined) env.OADR_OPT_ID = o.optId;
  if (o.resourceId !== undefined) env.OADR_RESOURCE_ID = o.resourceId;
  return env;
}

export function createHookAdapter<A extends string>(options: Readonly<HookAdapterOptions>): Adapter<A> {
  return {
    name: 'hook',
    perform(action, o) {
      const command = options.template
        .replaceAll('{action}', quote(action))
        .replaceAll('{venId}', quote(o.venId))
        .replaceAll('{eventId}', quote(o.eventId ?? ''))
        .replaceAll('{optId}', quote(o.optId ?? ''));
      return new Promise((resolve, reject) => {
        const child = spawn('/bin/sh', ['-c', command], { env: { ...options.env, ...hookEnvironment(action, o) }, stdio: ['pipe', 'ignore', 'pipe'] });
        let stderr = '';
        child.stderr.on('data', (c: Buffer) => void (stderr += c.toString('utf8')));
        const timeoutMs = options.timeoutMs ?? 30_000;
        const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
        child.on('error', (err) => {
          clearTimeout(timer);
          reject(new Error(`the hook '${command}' could not start: ${err.message}`));
        });
        child.on('close', (code, signal) => {
          clearTimeout(timer);
          if (code === 0) resolve();
          else reject(new Error(`the hook '${command}' ${signal === null ? `exited with ${code}` : `was stopped (${signal}; time-out ${timeoutMs} ms)`}: ${stderr.trim().slice(0, 300)}`));
        });
        child.stdin.on('error', () => undefined);
        child.stdin.end(JSON.stringify({ action, ...o, ...(o.startMs === undefined ? {} : { start: new Date(o.startMs).toISOString() }) }));
      });
    },
  };
}
