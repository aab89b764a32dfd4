/**
 * The measurement window shared by the peer's load threads: an absolute clock comparable across
 * worker threads (each has its own `performance.timeOrigin`) and per-second counts.
 */
import { performance } from 'node:perf_hooks';

/** Milliseconds since the Unix epoch, sub-millisecond, the same base in every thread. */
export function nowMs(): number {
  return performance.timeOrigin + performance.now();
}

export function emptyTimeline(durationS: number): number[] {
  return new Array<number>(Math.max(1, Math.ceil(durationS))).fill(0);
}

export function bump(timeline: number[], start: number, t: number): void {
  const i = Math.min(timeline.length - 1, Math.max(0, Math.floor((t - start) / 1000)));
  timeline[i]!++;
}

export function addTimelines(parts: ReadonlyArray<readonly number[]>): number[] {
  const out = new Array<number>(Math.max(0, ...parts.map((p) => p.length))).fill(0);
  for (const p of parts) p.forEach((v, i) => (out[i]! += v));
  return out;
}

export function concatSamples(parts: ReadonlyArray<Float64Array>): Float64Array {
  const out = new Float64Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}
