/** `npm run temporal-cli`: finds the Temporal CLI, building it the first time; prints its path. */
import { resolveTemporalCli } from '../src/temporal/cli.js';

try {
  console.log(await resolveTemporalCli());
} catch (err) {
  console.error(`paso: ${(err as Error).message}`);
  process.exit(1);
}
