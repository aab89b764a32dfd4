/**
 * A strict JSON reader for token segments. JSON.parse keeps the last of duplicated keys, so
 * `{"role":"player","role":"admin"}` reads as admin while another JWT library may read it as
 * player; a token that two readers can disagree on is refused instead. Strings and numbers are
 * decoded by JSON.parse itself, so `"r\u006fle"` and `"role"` are the same key here too.
 */

export class StrictJsonError extends Error {}

/** Deeper than any claim set needs; keeps a hostile segment off the call stack. */
const MAX_DEPTH = 16;

const WS = new Set([' ', '\t', '\n', '\r']);
const NUMBER = /-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?/y;
const STRING = /"(?:[^"\\\u0000-\u001f]|\\["\\/bfnrt]|\\u[0-9a-fA-F]{4})*"/y;

/** Parses `text` as one JSON value; throws StrictJsonError on bad syntax or a key given twice in one object. */
export function parseStrictJson(text: string): unknown {
  let at = 0;

  const skip = () => {
    while (at < text.length && WS.has(text[at]!)) at++;
  };
  const fail = (what: string): never => {
    throw new StrictJsonError(`${what} at offset ${at}`);
  };
  const match = (re: RegExp): string | undefined => {
    re.lastIndex = at;
    const m = re.exec(text);
    if (!m) return undefined;
    at += m[0].length;
    return m[0];
  };
  const string = (): string => {
    const raw = match(STRING) ?? fail('bad string');
    return JSON.parse(raw) as string;
  };

  /** `depth`: how many arrays and objects enclose this value. */
  const value = (depth: number): unknown => {
    skip();
    const c = text[at];
    if ((c === '{' || c === '[') && depth >= MAX_DEPTH) fail('nested too deep');
    if (c === '{') {
      at++;
      // A null prototype: a `__proto__` key is data here, as it is for JSON.parse.
      const obj = Object.create(null) as Record<string, unknown>;
      const seen = new Set<string>();
      skip();
      if (text[at] === '}') {
        at++;
        return obj;
      }
      for (;;) {
        skip();
        const key = string();
        if (seen.has(key)) fail(`duplicate key ${JSON.stringify(key)}`);
        seen.add(key);
        skip();
        if (text[at++] !== ':') fail('expected ":"');
        obj[key] = value(depth + 1);
        skip();
        const next = text[at++];
        if (next === '}') return obj;
        if (next !== ',') fail('expected "," or "}"');
      }
    }
    if (c === '[') {
      at++;
      const arr: unknown[] = [];
      skip();
      if (text[at] === ']') {
        at++;
        return arr;
      }
      for (;;) {
        arr.push(value(depth + 1));
        skip();
        const next = text[at++];
        if (next === ']') return arr;
        if (next !== ',') fail('expected "," or "]"');
      }
    }
    if (c === '"') return string();
    for (const [word, v] of [['true', true], ['false', false], ['null', null]] as const) {
      if (text.startsWith(word, at)) {
        at += word.length;
        return v;
      }
    }
    const n = match(NUMBER);
    if (n === undefined) fail('unexpected character');
    return Number(n);
  };

  const result = value(0);
  skip();
  if (at !== text.length) fail('trailing characters');
  return result;
}
