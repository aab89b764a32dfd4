/**
 * Runs an external benchmark tool as a child process, bounded in time: past the deadline the child
 * (and its process group) is sent SIGTERM, then SIGKILL, by its own pid.
 */
import { spawn } from 'node:child_process';

export interface ToolOutput {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  timedOut: boolean;
}

export function runTool(cmd: string, args: readonly string[], opts: { timeoutMs: number; env?: NodeJS.ProcessEnv }): Promise<ToolOutput> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'], env: opts.env ?? process.env, detached: true });
    let stdout = '';
    let stderr = '';
    let timedOut = false;
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const signalGroup = (sig: NodeJS.Signals) => {
      if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return;
      try {
        process.kill(-child.pid, sig);
      } catch {
        child.kill(sig); // no group (already gone): fall back to the child itself
      }
    };
    let killTimer: NodeJS.Timeout | undefined;
    const timer = setTimeout(() => {
      timedOut = true;
      signalGroup('SIGTERM');
      killTimer = setTimeout(() => signalGroup('SIGKILL'), 3000);
    }, opts.timeoutMs);
    child.on('error', (err) => {
      clearTimeout(timer);
      clearTimeout(killTimer);
      reject(new Error(`${cmd}: ${err.message}`));
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      clearTimeout(killTimer);
      resolve({ code, signal, stdout, stderr, timedOut });
    });
  });
}

/** The last lines of a tool's output, for error messages. */
export function tail(text: string, lines = 8): string {
  return text.trim().split(/\r?\n/).slice(-lines).join('\n');
}
