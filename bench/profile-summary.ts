/**
 * `node --import tsx bench/profile-summary.ts <file.cpuprofile> [N]`: the N functions with the most
 * self time in a V8 CPU profile (as written by BENCH_CPU_PROF), and the share of time in each area
 * of the code (our modules by folder, node_modules by package, Node internals, GC, idle).
 */
import { readFileSync } from 'node:fs';

interface Node {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
}
interface Profile {
  nodes: Node[];
  samples: number[];
  timeDeltas: number[];
}

const [file, n = '25'] = process.argv.slice(2);
if (!file) throw new Error('usage: profile-summary <file.cpuprofile> [N]');
const profile = JSON.parse(readFileSync(file, 'utf8')) as Profile;
const byId = new Map(profile.nodes.map((node) => [node.id, node]));
const self = new Map<number, number>();
profile.samples.forEach((id, i) => self.set(id, (self.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0)));
const total = [...self.values()].reduce((a, b) => a + b, 0);

function area(url: string, name: string): string {
  if (name === '(idle)' || name === '(program)' || name === '(garbage collector)') return name;
  const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (pkg) return `package ${pkg[1]}`;
  const ours = /\/(server|protocol)\/([^/]+\/)?/.exec(url);
  if (ours) return `${ours[1]}/${ours[2] ?? ''}`;
  return url.startsWith('node:') || url === '' ? 'node internals' : url;
}

const functions = new Map<string, number>();
const areas = new Map<string, number>();
for (const [id, us] of self) {
  const f = byId.get(id)!.callFrame;
  const key = `${f.functionName || '(anonymous)'} ${f.url.replace(/^.*\/(node_modules|server|protocol)\//, '$1/')}:${f.lineNumber + 1}`;
  functions.set(key, (functions.get(key) ?? 0) + us);
  const a = area(f.url, f.functionName);
  areas.set(a, (areas.get(a) ?? 0) + us);
}
const pct = (us: number) => `${((100 * us) / total).toFixed(1).padStart(5)}%`;
console.log(`${(total / 1e6).toFixed(1)} s sampled\n\nby area:`);
for (const [a, us] of [...areas].sort((x, y) => y[1] - x[1]).slice(0, 15)) console.log(`  ${pct(us)}  ${a}`);
console.log(`\ntop ${n} functions by self time:`);
for (const [f, us] of [...functions].sort((x, y) => y[1] - x[1]).slice(0, Number(n))) console.log(`  ${pct(us)}  ${f}`);
