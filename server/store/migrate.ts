/**
 * The migrator: applies the `sql/NNN_name.sql` files not yet applied, in order, and records them
 * in `schema_migrations`; then re-applies every `sql/functions/*.sql` (CREATE OR REPLACE), in name
 * order, so a function is edited in place rather than copied into a new migration. All of it in
 * one transaction, under an advisory lock, so instances starting together do it once each and
 * never see half of it.
 */
import { readdir, readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import type { Sql } from './db.ts';

export const SQL_DIR = fileURLToPath(new URL('../../sql/', import.meta.url));
const FILE_PATTERN = /^(\d{3,})_([a-z0-9_]+)\.sql$/;
const LOCK_KEY = 7_340_113; // arbitrary, fixed: the advisory lock id for migrations
/**
 * The migrations written before the baseline (sql/001) folded them: a database that has all of
 * them has the baseline's schema; one that has only some of them is refused (recreate it: nothing
 * built on them was ever released).
 */
const FOLDED = [2, 3, 4, 5, 6, 7];

export interface Migration {
  version: number;
  name: string;
  file: string;
}

/** The function files, in the order they are applied (a later file may call an earlier one's function). */
export async function listFunctions(dir: string = SQL_DIR): Promise<string[]> {
  try {
    return (await readdir(`${dir}/functions`)).filter((f) => f.endsWith('.sql')).sort();
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
}

export async function listMigrations(dir: string = SQL_DIR): Promise<Migration[]> {
  const files = (await readdir(dir)).filter((f) => f.endsWith('.sql')).sort();
  return files.map((file) => {
    const m = FILE_PATTERN.exec(file);
    if (!m) throw new Error(`migration file name must look like 001_name.sql: ${file}`);
    return { version: Number(m[1]), name: m[2]!, file };
  });
}

/** Applies what is missing; returns the versions applied by this call. */
export async function migrate(sql: Sql, dir: string = SQL_DIR): Promise<number[]> {
  const migrations = await listMigrations(dir);
  const applied: number[] = [];
  await sql.begin(async (tx) => {
    await tx`SELECT pg_advisory_xact_lock(${LOCK_KEY})`;
    await tx`CREATE TABLE IF NOT EXISTS schema_migrations (
      version integer PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())`;
    const done = new Set((await tx`SELECT version FROM schema_migrations`).map((r) => r.version as number));
    const folded = FOLDED.filter((v) => done.has(v));
    if (folded.length > 0 && folded.length < FOLDED.length) {
      throw new Error(
        `this database predates the schema baseline and stopped half-way (migrations ${folded.join(', ')} of ${FOLDED.join(', ')}): recreate it`,
      );
    }
    for (const m of migrations) {
      if (done.has(m.version)) continue;
      const text = await readFile(`${dir}/${m.file}`, 'utf8');
      await tx.unsafe(text);
      await tx`INSERT INTO schema_migrations (version, name) VALUES (${m.version}, ${m.name})`;
      applied.push(m.version);
    }
    for (const file of await listFunctions(dir)) await tx.unsafe(await readFile(`${dir}/functions/${file}`, 'utf8'));
  });
  return applied;
}
