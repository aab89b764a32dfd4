/** What every scenario gets: its sizes (quick or full), how many runs, and where to log progress. */
import { signToken } from '../../server/auth/jwt.ts';
import { BENCH_SECRET } from './servers.ts';

export interface BenchContext {
  quick: boolean;
  runs: number;
  /** Measured seconds per run (after warm-up). */
  durationS: number;
  warmupS: number;
  /** Load-generator threads. */
  threads: number;
  /** Scenario options from the command line (--sockets 64 ...). */
  options: Record<string, string>;
  log(message: string): void;
}

export function opt(ctx: BenchContext, name: string, full: number, quick: number): number {
  const v = ctx.options[name];
  if (v !== undefined) {
    const n = Number(v);
    if (!Number.isFinite(n)) throw new Error(`--${name} must be a number`);
    return n;
  }
  return ctx.quick ? quick : full;
}

export const serverToken = () => signToken({ sub: 'bench', role: 'server' }, BENCH_SECRET);
