/**
 * The migrator: applies `sql/NNN_name.sql` files in order, each in its own transaction, and records
 * them in `schema_migrations`. An advisory lock makes instances starting together apply each once.
 * A file may have a step in JavaScript (data SQL cannot compute), run right after it in the same
 * transaction.
 */
import { readdir, readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import type { Sql, Tx } from './db.ts';
import { backfillNameKeys } from './name-keys.ts';

export const SQL_DIR = fileURLToPath(new URL('../../sql/', import.meta.url));
const FILE_PATTERN = /^(\d{3,})_([a-z0-9_]+)\.sql$/;
const LOCK_KEY = 7_340_113; // arbitrary, fixed: the advisory lock id for migrations

/** The JavaScript steps of migration files, by file name. */
const AFTER_FILE: Readonly<Record<string, (tx: Tx) => Promise<void>>> = {
  '006_name_keys.sql': backfillNameKeys, // the key of a name is protocol/names.ts nameKey
};

export interface Migration {
  version: number;
  name: string;
  file: string;
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
    for (const m of migrations) {
      if (done.has(m.version)) continue;
      const text = await readFile(`${dir}/${m.file}`, 'utf8');
      await tx.unsafe(text);
      await AFTER_FILE[m.file]?.(tx);
      await tx`INSERT INTO schema_migrations (version, name) VALUES (${m.version}, ${m.name})`;
      applied.push(m.version);
    }
  });
  return applied;
}
