/** `npm run gateway`: one HTTP gateway process against `TEMPORAL_ADDRESS` (or the local dev server). */
import { loadConfig } from './config.js';
import { createClient, fail, setUpProcess, startGatewayRole, stopOnSignal } from './roles.js';

try {
  const config = loadConfig();
  setUpProcess(config);
  const client = createClient(config, config.temporalAddress ?? `127.0.0.1:${config.temporalPort}`);
  const gateway = await startGatewayRole(config, client);
  stopOnSignal(async () => {
    await gateway.stop();
    await client.connection.close();
  });
} catch (err) {
  fail(err);
}
