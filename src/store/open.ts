/** The store a process uses: PostgreSQL when `PASO_DATABASE_URL` is set, else the data directory's files. */
import type { PasoConfig } from '../config.js';
import { fileStore } from './files.js';
import { postgresStore } from './postgres.js';
import type { PasoStore } from './store.js';

export function openStore(
  config: Pick<PasoConfig, 'databaseUrl' | 'dataDir'>,
  log: (line: string) => void = console.error,
): Promise<PasoStore> {
  return config.databaseUrl ? postgresStore(config.databaseUrl, log) : Promise.resolve(fileStore(config.dataDir));
}
