/**
 * A VTN child process of the crash and cluster tests (vtn/testing/crash-vtn.ts, cluster-vtn.ts):
 * spawned with node, resolved with the URL it prints (`url <URL>`) once listening; `exited`
 * resolves with the signal that ended it, or its exit code.
 */
import { spawn, type ChildProcess } from 'node:child_process';

export interface VtnChild {
  readonly url: string;
  readonly proc: ChildProcess;
  readonly exited: Promise<NodeJS.Signals | number | null>;
}

export async function startVtnChild(script: string, args: readonly string[], env: NodeJS.ProcessEnv = process.env): Promise<VtnChild> {
  const proc = spawn(process.execPath, [script, ...args], { stdio: ['ignore', 'pipe', 'pipe'], env });
  let stderr = '';
  proc.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<NodeJS.Signals | number | null>((resolve) => proc.on('exit', (code, signal) => resolve(signal ?? code)));
  const url = await new Promise<string>((resolve, reject) => {
    let out = '';
    proc.stdout?.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /url (\S+)\n/.exec(out);
      if (m?.[1] !== undefined) resolve(m[1]);
    });
    void exited.then((code) => reject(new Error(`the VTN exited (${String(code)}) before listening: ${stderr}`)));
  });
  return { url, proc, exited };
}
