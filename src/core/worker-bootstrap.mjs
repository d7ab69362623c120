// Starts a TypeScript worker module: registers tsx in this thread, imports the module named in
// workerData, and routes each message to its default-exported handler (see worker-pool.ts).
import { parentPort, workerData } from 'node:worker_threads';
import { register } from 'tsx/esm/api';

register();
const mod = await import(workerData.module);
const handle = mod.handle;
parentPort.on('message', async ({ id, msg }) => {
  try {
    const { value, transfer } = await handle(msg);
    parentPort.postMessage({ id, ok: true, value }, transfer ?? []);
  } catch (e) {
    const error = {
      code: typeof e?.code === 'string' ? e.code : 'INTERNAL',
      message: e instanceof Error ? e.message : String(e),
      details: e && typeof e.details === 'object' ? e.details : {},
    };
    parentPort.postMessage({ id, ok: false, error });
  }
});
