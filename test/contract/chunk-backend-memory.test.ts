/** Runs the ChunkBackend contract against MemoryChunkBackend, crashes included. */
import { MemoryChunkBackend } from '../../src/chunks/memory-chunk-backend.ts';
import { chunkBackendContract } from './chunk-backend.contract.ts';

chunkBackendContract('MemoryChunkBackend', async () => {
  const backend = new MemoryChunkBackend();
  return { backend, crash: async () => backend.crash(), cleanup: async () => undefined };
});
