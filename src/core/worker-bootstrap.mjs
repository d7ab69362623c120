// Starts a worker module: registers tsx in this thread when the module is TypeScript (running
// from the sources), imports the module named in workerData, and routes each message to its
// exported handler (see worker-pool.ts). Compiled (.js) modules need no loader: no tsx, ~40 MiB less.
import { parentPort, workerData } from 'node:worker_threads';

if (workerData.module.endsWith('.ts')) {
  const { register } = await import('tsx/esm/api');
  register();
}
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
