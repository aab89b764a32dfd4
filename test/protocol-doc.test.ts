/**
 * Keeps docs/protocol.md in step with the registries and schemas of protocol/, as fastify's errors
 * test does for its error docs: every op, pushed frame, error code (with its status), close code
 * (with its number), HTTP route and request field is documented, and the page names no op, code or
 * route that does not exist. Pure: reads files and imports protocol/, starts nothing.
 *
 * The conventions it relies on: under "## Operations" one "### `<op>`" heading per op, each section
 * naming its fields in backticks, with a field table (| `field` | type | notes |) and an example
 * (→ {op: "<op>" ... ← {op: "<reply op>"); under "## Pushed frames" one "### `<op>`" per push; a
 * table of "| `<code>` | <status> | <meaning> |" rows under "## Errors", of "| <number> | `<name>` |
 * <when> |" rows under "## Close codes", and of "| `<METHOD> <path>` |" rows under "## HTTP".
 * test/error-registry.test.ts holds the same registries to the README and the OpenAPI document.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import {
  CLOSE_CODES,
  ERROR_CODES,
  HTTP_ROUTES,
  MAX_FRAME_BYTES,
  MAX_HTTP_BODY_BYTES,
  OPS,
  REPLY_SCHEMAS,
  REQUEST_SCHEMAS,
  SERVER_OPS,
  SUBMIT_RANK_COUNT_CAP,
  diffFrame,
  errorFrame,
  httpRequestSchema,
  snapshotFrame,
  type Op,
} from '../protocol/index.ts';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const DOC_PATH = 'docs/protocol.md';
const doc = readFileSync(resolve(ROOT, DOC_PATH), 'utf8');

// ---- reading the page ------------------------------------------------------------------------

interface Section {
  level: number;
  title: string;
  body: string;
}

/** The page cut at every heading; a section's body runs to the next heading of any level. */
function sections(text: string): Section[] {
  const out: Section[] = [];
  let current: Section | undefined;
  let fenced = false;
  for (const line of text.split('\n')) {
    if (line.startsWith('```')) fenced = !fenced;
    const m = fenced ? null : /^(#{1,6}) (.*)$/.exec(line);
    if (m) {
      current = { level: m[1]!.length, title: m[2]!.trim(), body: '' };
      out.push(current);
    } else if (current) {
      current.body += line + '\n';
    }
  }
  return out;
}

const ALL = sections(doc);

/** A level-2 section with its sub-sections, as text. */
function chapter(title: string): { text: string; subs: Section[] } {
  const start = ALL.findIndex((s) => s.level === 2 && s.title === title);
  if (start < 0) throw new Error(`${DOC_PATH} has no "## ${title}" section`);
  let end = ALL.findIndex((s, i) => i > start && s.level <= 2);
  if (end < 0) end = ALL.length;
  const parts = ALL.slice(start, end);
  return { text: parts.map((s) => s.body).join('\n'), subs: parts.slice(1).filter((s) => s.level === 3) };
}

/** "### `submit`" -> "submit"; undefined for a heading of another form. */
const codeHeading = (title: string): string | undefined => /^`([^`]+)`$/.exec(title)?.[1];

function opSections(chapterTitle: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const s of chapter(chapterTitle).subs) {
    const name = codeHeading(s.title);
    if (name === undefined) continue;
    if (out.has(name)) throw new Error(`"### \`${name}\`" appears twice under "## ${chapterTitle}"`);
    out.set(name, s.body);
  }
  return out;
}

/** The rows of the tables in `text` whose first cells match `row`. */
function tableRows(text: string, row: RegExp): RegExpExecArray[] {
  return text
    .split('\n')
    .map((line) => row.exec(line))
    .filter((m): m is RegExpExecArray => m !== null);
}

const mentions = (text: string, name: string) => text.includes(`\`${name}\``);

/** The last cell of a table row: what the row says about its first cells. */
const lastCell = (row: string) => row.replace(/\|\s*$/, '').split('|').at(-1)!.trim();
/** A cell that says something: three words at least, not a blank or a lone status. */
const SAYS_SOMETHING = /\w+\W+\w+\W+\w+/;

// ---- reading the schemas ---------------------------------------------------------------------

/** The parts of a zod 4 definition this test looks at. */
interface Def {
  type: string;
  shape?: Record<string, Schema>;
  in?: Schema;
  innerType?: Schema;
  defaultValue?: unknown;
}
interface Schema {
  _zod: { def: Def };
  minValue?: number | null;
  maxValue?: number | null;
}

const WRAPPERS = new Set(['optional', 'nullable', 'default', 'prefault', 'nonoptional', 'readonly', 'catch']);

/**
 * The object shape a schema validates: through refinements (zod 4 keeps them on the object
 * itself), pipes and transforms (their input side), and optional/default wrappers. Throws rather
 * than return nothing, so a schema this cannot read fails the test instead of passing it.
 */
function objectShape(schema: unknown): Record<string, Schema> {
  let s = schema as Schema;
  for (let depth = 0; depth < 16; depth++) {
    const def = s._zod.def;
    if (def.type === 'object' && def.shape) return def.shape;
    if (def.type === 'pipe' && def.in) s = def.in;
    else if (WRAPPERS.has(def.type) && def.innerType) s = def.innerType;
    else throw new Error(`cannot find the object shape of a zod "${def.type}" schema`);
  }
  throw new Error('schema nested too deeply');
}

/** A field's default and, for an integer, its bounds. */
function fieldFacts(field: Schema): { default?: unknown; min?: number; max?: number } {
  let s = field;
  let dflt: unknown;
  while (WRAPPERS.has(s._zod.def.type) && s._zod.def.innerType) {
    if (s._zod.def.type === 'default') dflt = s._zod.def.defaultValue;
    s = s._zod.def.innerType;
  }
  if (s._zod.def.type !== 'number') return { default: dflt };
  return { default: dflt, min: s.minValue ?? undefined, max: s.maxValue ?? undefined };
}

/** How the page writes a bound: 2^53-1, 1,000,000,000, 100. */
const bound = (n: number) => (n === Number.MAX_SAFE_INTEGER ? '2^53-1' : n.toLocaleString('en-US'));

const REPLY_OP = (op: Op): string => (op === 'ping' ? SERVER_OPS.pong : op);
const routeOf = (op: string) => (HTTP_ROUTES as Record<string, { method: string; path: string }>)[op];

// ---- the checks ------------------------------------------------------------------------------

describe('docs/protocol.md: operations', () => {
  const ops = opSections('Operations');

  it('has one "### `op`" section per op in OPS, and none for an op that does not exist', () => {
    expect([...ops.keys()].sort()).toEqual([...OPS].sort());
  });

  it.each([...OPS])('%s: names every request field of its schema, with its bounds and default', (op) => {
    const text = ops.get(op) ?? '';
    const shape = objectShape(REQUEST_SCHEMAS[op]);
    for (const [name, field] of Object.entries(shape)) {
      expect(mentions(text, name), `field \`${name}\` of ${op}`).toBe(true);
      const facts = fieldFacts(field);
      if (facts.min === undefined && facts.default === undefined) continue;
      // The field's row in the op's table says its range and default.
      const row = text.split('\n').find((l) => l.startsWith(`| \`${name}\` |`));
      expect(row, `a "| \`${name}\` |" row in the table of ${op}`).toBeDefined();
      if (facts.min !== undefined && facts.max !== undefined) {
        expect(row, `range of ${op}.${name}`).toContain(`${bound(facts.min)}..${bound(facts.max)}`);
      }
      if (facts.default !== undefined) {
        const written = typeof facts.default === 'string' ? `\`${JSON.stringify(facts.default)}\`` : String(facts.default);
        expect(row, `default of ${op}.${name}`).toContain(`default ${written}`);
      }
    }
  });

  it.each([...OPS])('%s: names every field of its reply', (op) => {
    const text = ops.get(op) ?? '';
    for (const name of Object.keys(objectShape(REPLY_SCHEMAS[op]))) {
      expect(mentions(text, name), `reply field \`${name}\` of ${op}`).toBe(true);
    }
  });

  it.each([...OPS])('%s: shows an example request and its reply', (op) => {
    const text = ops.get(op) ?? '';
    expect(text).toContain(`→ {op: "${op}"`);
    expect(text).toContain(`← {op: "${REPLY_OP(op)}"`);
  });

  it.each([...OPS].filter((op) => routeOf(op)))('%s: names its HTTP route and the route\'s own parameters', (op) => {
    const text = ops.get(op) ?? '';
    const { method, path } = routeOf(op)!;
    expect(text).toContain(`\`${method} ${path}`);
    // Where the HTTP shape differs from the socket's (page's flat cursor), its fields too.
    for (const name of Object.keys(objectShape(httpRequestSchema(op)))) {
      expect(mentions(text, name), `HTTP field \`${name}\` of ${op}`).toBe(true);
    }
  });
});

describe('docs/protocol.md: pushed frames', () => {
  const pushes = opSections('Pushed frames');
  const PUSHED = { diff: diffFrame, snapshot: snapshotFrame };

  it('has one "### `op`" section per pushed frame, and no other', () => {
    expect([...pushes.keys()].sort()).toEqual(Object.keys(PUSHED).sort());
    expect(Object.keys(PUSHED).every((op) => Object.values(SERVER_OPS).includes(op as never))).toBe(true);
  });

  it.each(Object.entries(PUSHED))('%s: names every field of the frame', (op, schema) => {
    const text = pushes.get(op) ?? '';
    for (const name of Object.keys(objectShape(schema))) {
      if (name !== 'op') expect(mentions(text, name), `field \`${name}\` of ${op}`).toBe(true);
    }
  });

  it('names every op the server sends', () => {
    for (const op of Object.values(SERVER_OPS)) expect(doc, `op "${op}"`).toContain(`op: "${op}"`);
  });

  it('says what a client does on a gap or a new epoch', () => {
    const text = pushes.get('diff') ?? '';
    expect(text).toMatch(/gap/);
    expect(text).toMatch(/`epoch`/);
    expect(text).toMatch(/`subscribe`/);
  });
});

describe('docs/protocol.md: errors', () => {
  const { text } = chapter('Errors');
  const rows = tableRows(text, /^\| `([a-z_]+)` \| (\d{3}) \|/);

  it('documents every error code with its HTTP status, exactly as the registry has them', () => {
    const documented = Object.fromEntries(rows.map((m) => [m[1], Number(m[2])]));
    const registry = Object.fromEntries(Object.entries(ERROR_CODES).map(([code, { status }]) => [code, status]));
    expect(documented).toEqual(registry);
    expect(rows).toHaveLength(Object.keys(ERROR_CODES).length); // no code listed twice
  });

  it('says what every code means', () => {
    for (const m of rows) expect(lastCell(m.input), `the meaning of \`${m[1]}\``).toMatch(SAYS_SOMETHING);
  });

  it('names every field of the error frame', () => {
    for (const name of Object.keys(objectShape(errorFrame))) expect(mentions(text, name), `\`${name}\``).toBe(true);
  });

  it('names no error code outside the registry anywhere on the page', () => {
    // A code-like word in backticks next to "code" in an example: `code: "..."` / "code": "...".
    const used = [...doc.matchAll(/"?code"?: "([a-z_]+)"/g)].map((m) => m[1]!);
    for (const code of used) expect(Object.keys(ERROR_CODES), `error code "${code}"`).toContain(code);
  });
});

describe('docs/protocol.md: close codes', () => {
  const { text } = chapter('Close codes');
  const rows = tableRows(text, /^\| (\d{4}) \| `([a-z_]+)` \|/);

  it('documents every close code with its number, and no other', () => {
    const documented = Object.fromEntries(rows.map((m) => [m[2], Number(m[1])]));
    expect(documented).toEqual({ ...CLOSE_CODES });
    expect(rows).toHaveLength(Object.keys(CLOSE_CODES).length);
  });

  it('says when the server uses each', () => {
    for (const m of rows) expect(lastCell(m.input), `when \`${m[2]}\` is used`).toMatch(SAYS_SOMETHING);
  });

  it('closes sockets, anywhere on the page, only with codes of the registry', () => {
    // "closes the socket with 1009", "is closed with 4008" (a 1006 is what clients report, not a code sent).
    const prose = doc.replace(/\s+/g, ' ');
    const used = [...prose.matchAll(/\bclose[sd]?\b(?: the socket)? with (\d{4})\b/g)].map((m) => Number(m[1]));
    expect(used.length).toBeGreaterThan(0);
    for (const code of used) expect(Object.values(CLOSE_CODES), `close code ${code}`).toContain(code);
  });

  it('gives the frame limit the registry has', () => {
    expect(doc).toContain(`${MAX_FRAME_BYTES} bytes`);
    expect(doc).toContain(`\`MAX_FRAME_BYTES\``);
  });
});

describe('docs/protocol.md: HTTP', () => {
  const { text } = chapter('HTTP');
  const METHOD = 'GET|POST|PUT|PATCH|DELETE|HEAD|OPTIONS';
  const rows = tableRows(text, new RegExp(`^\\| \`(${METHOD}) (/[^\\s\`]*)\` \\|`));

  it('lists every route of HTTP_ROUTES with its method and path, and no other', () => {
    const documented = rows.map((m) => `${m[1]} ${m[2]}`).sort();
    const registry = Object.values(HTTP_ROUTES).map((r) => `${r.method} ${r.path}`).sort();
    expect(documented).toEqual(registry);
  });

  it('gives the body limit the server has', () => {
    expect(text).toContain(`${MAX_HTTP_BODY_BYTES / 1024} KiB`);
  });
});

describe('docs/protocol.md: the rest of the contract', () => {
  it('states the rank cap of submit replies', () => {
    expect(opSections('Operations').get('submit')).toContain(`${SUBMIT_RANK_COUNT_CAP} players`);
  });

  it('links only to files inside the repository, all of which exist', () => {
    expect(doc).not.toMatch(/\.\.\/shared/);
    const links = [...doc.matchAll(/\]\(([^)#]+)(#[^)]*)?\)/g)].map((m) => m[1]!).filter((l) => !/^[a-z]+:/.test(l));
    for (const link of links) expect(existsSync(resolve(ROOT, 'docs', link)), link).toBe(true);
    const paths = [...doc.matchAll(/`((?:protocol|server|client|test|docs)\/[\w./-]+)`/g)].map((m) => m[1]!);
    for (const path of paths) expect(existsSync(resolve(ROOT, path)), path).toBe(true);
  });

  it('links within the page only to headings it has', () => {
    const slug = (title: string) => title.toLowerCase().replace(/[^\p{L}\p{N} _-]/gu, '').replaceAll(' ', '-');
    const anchors = new Set(ALL.map((s) => slug(s.title)));
    for (const m of doc.matchAll(/\]\(#([^)]+)\)/g)) expect(anchors, `#${m[1]}`).toContain(m[1]);
  });

  it('is the reference the README points to', () => {
    const readme = readFileSync(resolve(ROOT, 'README.md'), 'utf8');
    expect(readme.includes(DOC_PATH), `README.md names ${DOC_PATH}`).toBe(true);
  });
});
