/** Applies pending migrations to DATABASE_URL (or the embedded database) and exits. */
import { loadConfig } from '../src/config/config.js';
import { openDatabase } from '../src/orm.js';

const config = loadConfig();
const db = await openDatabase(config, (msg) => process.stdout.write(`${msg}\n`));
const executed = await db.orm.getMigrator().getExecutedMigrations();
process.stdout.write(`migrations applied: ${executed.map((m) => m.name).join(', ')}\n`);
await db.close();
