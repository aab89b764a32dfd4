/** Creates the database if needed and applies pending migrations: `npm run migrate`. */
import { loadConfig } from '../config.ts';
import { connect, ensureDatabase } from '../store/db.ts';
import { migrate } from '../store/migrate.ts';

const config = loadConfig(process.env);
await ensureDatabase(config.databaseUrl, 5);
const sql = connect({ url: config.databaseUrl, poolSize: 1, connectTimeoutS: 5 });
try {
  const applied = await migrate(sql);
  process.stdout.write(applied.length ? `applied ${applied.join(', ')}\n` : 'up to date\n');
} finally {
  await sql.end({ timeout: 5 });
}
