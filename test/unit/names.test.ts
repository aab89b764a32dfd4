/**
 * Usernames as identities (protocol/names.ts): the key that makes two names one name, the names
 * that may not be taken, the reserved default names, and the key of names stored before the rules.
 */
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { LOOK_ALIKES } from '../../protocol/confusables.ts';
import { RESERVED_NAME_KEY, encode, fields, mayUseUsername, nameKey, usernameProblem } from '../../protocol/index.ts';
import { parseFrame } from '../../server/frames.ts';
import { storedKeyOf } from '../../server/store/name-keys.ts';

const CYRILLIC_A = '\u0410';

describe('nameKey: one name, however it is written', () => {
  it.each([
    ['alice', 'case'],
    ['ALICE', 'case'],
    [`${CYRILLIC_A}lice`, 'Cyrillic capital A'],
    [`Ali${'\u0441'}e`, 'Cyrillic small es for c'],
    ['AIice', 'capital I for l'],
    ['A1ice', 'digit 1 for l'],
    ['A|ice', 'bar for l'],
    ['\uff21\uff4c\uff49\uff43\uff45', 'fullwidth (NFKC)'],
    ['\u{1d400}\u{1d425}\u{1d422}\u{1d41c}\u{1d41e}', 'mathematical bold (NFKC)'],
    ['\u0391lice', 'Greek capital alpha'],
    ['Al\u0456ce', 'Cyrillic i'],
    ['Alice\u200b', 'a zero-width space, dropped (names stored before the rules)'],
    ['Alice ', 'trailing space, trimmed'],
    ['  Alice', 'leading spaces, trimmed'],
  ])('%j is Alice (%s)', (name) => {
    expect(nameKey(name)).toBe(nameKey('Alice'));
  });

  it('folds other common look-alikes: 0/O/o, Greek and Cyrillic capitals, ß/ss, rn/m, whitespace runs', () => {
    expect(nameKey('B0B')).toBe(nameKey('bob'));
    expect(nameKey('\u0412\u041e\u0412')).toBe(nameKey('BOB')); // Cyrillic ВОВ
    expect(nameKey('\u039d\u039f\u0392\u0391')).toBe(nameKey('NOBA')); // Greek ΝΟΒΑ
    expect(nameKey('stra\u00dfe')).toBe(nameKey('STRASSE'));
    expect(nameKey('rnoon')).toBe(nameKey('moon'));
    expect(nameKey('Ann  Lee')).toBe(nameKey('Ann\u00a0Lee'));
    expect(nameKey('e\u0301')).toBe(nameKey('\u00e9'));
  });

  it('reads the digits of every script by value', () => {
    expect(nameKey('player\u0664\u0661')).toBe(nameKey('player41')); // Arabic-Indic
    expect(nameKey('player\u096a\u0967')).toBe(nameKey('player41')); // Devanagari
    expect(nameKey('x\u09ea')).toBe(nameKey('x4')); // Bengali four looks like 8 but is 4
    expect(nameKey('x\u09ea')).not.toBe(nameKey('x8'));
  });

  it('keeps names apart that do not look alike', () => {
    const names = ['Alice', 'Alicia', 'Bob', 'Bobby', 'Al ice', 'Alicé', 'player4', 'player8', 'player41', 'x-y', 'x_y', '李雷', '😀', '😃'];
    expect(new Set(names.map(nameKey)).size).toBe(names.length);
    // Every decimal digit keeps its own key.
    expect(new Set([...'0123456789'].map(nameKey)).size).toBe(10);
  });

  it('is stable: changing these keys or the table needs a migration that recomputes users.name_key', () => {
    // If this fails, the key function changed: write a migration that recomputes every key
    // (server/store/name-keys.ts backfillNameKeys) before changing these expectations.
    expect(
      Object.fromEntries(['Alice', 'Player41', 'player٤١', 'ВОВ', 'Straße', 'Ann  Lee', 'm0on', '李雷 ☃'].map((n) => [n, nameKey(n)])),
    ).toEqual({
      Alice: 'allce',
      Player41: 'player4l',
      'player٤١': 'player4l',
      ВОВ: 'bob',
      Straße: 'strasse',
      'Ann  Lee': 'ann lee',
      m0on: 'rnoon',
      '李雷 ☃': '李雷 ☃',
    });
    const table = createHash('sha256').update(JSON.stringify(LOOK_ALIKES)).digest('hex');
    expect(table).toBe('af44d2945a15fa14a78f20513800acc1dd11ad69121c76abc505f08c44fa2300');
  });
});

describe('names that may not be taken', () => {
  it.each([
    ['   ', 'must not be blank'],
    ['\u3000', 'must not be blank'],
    ['Alice ', 'must not begin or end with whitespace'],
    [' Alice', 'must not begin or end with whitespace'],
    ['Alice\u00a0', 'must not begin or end with whitespace'],
    ['Alice\u200b', 'U+200B'],
    ['Al\u200cice', 'U+200C'],
    ['Al\u200dice', 'U+200D'],
    ['Alice\u200e', 'U+200E'],
    ['Alice\u200f', 'U+200F'],
    ['\u202eecilA', 'U+202E'],
    ['Alice\u2060', 'U+2060'],
    ['Alice\u2066', 'U+2066'],
    ['\ufeffAlice', 'U+FEFF'],
    ['Alice\u00ad', 'U+00AD'],
    ['Alice\u034f', 'U+034F'],
    ['Alice\ufe0f', 'U+FE0F'],
    ['\u3164', 'U+3164'],
    ['Alice\u2800', 'U+2800'],
    ['a\u2028b', 'U+2028'],
    ['\ue000', 'U+E000'],
    ['\u{10fffd}', 'U+10FFFD'],
    ['\uffff', 'U+FFFF'],
    ['\u{e0041}', 'U+E0041'],
  ])('%j: %s', (name, message) => {
    expect(usernameProblem(name)).toContain(message);
    const parsed = fields.username.safeParse(name);
    expect(parsed.success).toBe(false);
    expect(parsed.error?.issues.map((i) => i.message).join('; ')).toContain(message);
  });

  it.each([
    'Alice',
    'Ann Lee',
    'Ann\u00a0Lee',
    'Zoë',
    'e\u0301',
    '李雷 ☃ 😀',
    '👨\u200d👩\u200d👧\u200d👦',
    '👩🏽\u200d💻',
    '❤\ufe0f',
    '🏳\ufe0f\u200d🌈',
    '1\ufe0f\u20e3',
    'مرحبا',
    '😀'.repeat(32),
  ])('%j may be taken', (name) => {
    expect(usernameProblem(name)).toBeUndefined();
    expect(fields.username.safeParse(name).success).toBe(true);
  });

  it('refuses with the same message over the socket (the shared field schema)', () => {
    const p = parseFrame(encode({ op: 'submit', rid: 3, user_id: 5, score: 1, game_mode: 'm', username: 'Alice\u200b' }), true);
    expect(p).toMatchObject({ ok: false, rid: 3, error: { code: 'bad_request' } });
    expect(!p.ok && p.error.message).toBe(`username: ${usernameProblem('Alice\u200b')}`);
  });

  it('looks up any name that could have been stored, so names taken before the rules stay findable', () => {
    for (const name of ['Alice ', 'Alice\u200b', '\u202eecilA', '   ']) {
      expect(fields.usernameLookup.safeParse(name).success, JSON.stringify(name)).toBe(true);
      expect(parseFrame(encode({ op: 'rank', rid: 1, username: name }), true).ok).toBe(true);
    }
    expect(fields.usernameLookup.safeParse('a\u0007').success).toBe(false);
  });
});

describe('default names are reserved for their own user', () => {
  it.each(['player41', 'Player41', 'PLAYER41', 'pIayer41', 'p1ayer41', 'player\u0664\u0661', 'pl\u0430yer41', 'player4I'])(
    '%j belongs to user 41 only',
    (name) => {
      expect(RESERVED_NAME_KEY.test(nameKey(name))).toBe(true);
      expect(mayUseUsername(41, name)).toBe(true);
      expect(mayUseUsername(4, name)).toBe(false);
      expect(mayUseUsername(42, name)).toBe(false);
    },
  );

  it('reserves every player<digits> key, for nobody when it is no default name', () => {
    expect(mayUseUsername(41, 'player041')).toBe(false); // no user's default name
    expect(mayUseUsername(10, 'playerlo')).toBe(true); // reads as player10
    expect(mayUseUsername(11, 'playerlo')).toBe(false);
    for (const free of ['player', 'player 41', 'player41x', 'xplayer41', 'players41']) expect(mayUseUsername(7, free), free).toBe(true);
  });
});

describe('keys of names stored before the rules (server/store/name-keys.ts)', () => {
  it('is the name key, except a default name of another user and a name with nothing visible', () => {
    expect(storedKeyOf(1, 'Alice\u200b')).toBe(nameKey('Alice'));
    expect(storedKeyOf(41, 'Player41')).toBe(nameKey('player41'));
    expect(storedKeyOf(4, 'Player41')).toBeNull();
    expect(storedKeyOf(4, '\u200b\u200b')).toBeNull();
    expect(storedKeyOf(4, '  ')).toBeNull();
  });
});
