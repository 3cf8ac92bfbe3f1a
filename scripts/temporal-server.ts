/** `npm run temporal-server`: finds the full Temporal server and its SQL tool, building them the first time. */
import { resolveServerTools } from './cluster/temporal-server.js';

try {
  const tools = await resolveServerTools((line) => console.error(line));
  console.log(`${tools.server}\n${tools.sqlTool}`);
} catch (err) {
  console.error(`paso: ${(err as Error).message}`);
  process.exit(1);
}
