/**
 * The chunk backend types this program offers besides the built-in local one
 * (chunks/chunk-backend-types.ts). Each is a loader: its module (and for S3 the AWS SDK) is
 * imported only when a datastore of that type is created or opened.
 */
import { registerChunkBackendType } from '../chunks/chunk-backend-types.ts';

export function registerBackendTypes(): void {
  registerChunkBackendType('s3', async () => (await import('../chunks/s3-backend-type.ts')).s3BackendType);
}
