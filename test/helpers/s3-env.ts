/**
 * The S3 server the tests may use: `S3_ENDPOINT`, `S3_ACCESS_KEY`/`S3_SECRET_KEY` (or the AWS_*
 * names) and `S3_REGION`, as `eval "$(scripts/ceph-rgw-up.sh)"` exports them and .ci/run does.
 * Without them the S3 tests skip with the reason `s3SkipReason` gives.
 */
import { randomBytes } from 'node:crypto';
import { S3ObjectClient, type S3ClientConfig } from '../../src/chunks/s3-client.ts';

const env = process.env;
const endpoint = env['S3_ENDPOINT'];
const accessKey = env['S3_ACCESS_KEY'] ?? env['AWS_ACCESS_KEY_ID'];
const secretKey = env['S3_SECRET_KEY'] ?? env['AWS_SECRET_ACCESS_KEY'];

/** false when an S3 server is configured, else why the S3 tests skip. */
export const s3SkipReason: string | false =
  endpoint === undefined || endpoint === ''
    ? 'no S3 server: S3_ENDPOINT is unset (start one with: eval "$(scripts/ceph-rgw-up.sh)")'
    : accessKey === undefined || secretKey === undefined
      ? 'S3_ENDPOINT is set but S3_ACCESS_KEY / S3_SECRET_KEY are not'
      : false;

export function s3TestConfig(bucket: string, extra: Partial<S3ClientConfig> = {}): S3ClientConfig {
  if (s3SkipReason !== false) throw new Error(s3SkipReason);
  return { endpoint: endpoint!, accessKey: accessKey!, secretKey: secretKey!, region: env['S3_REGION'] ?? 'us-east-1', pathStyle: true, bucket, ...extra };
}

/** A fresh bucket on the test server, emptied and left for the next run to ignore (names are random). */
export async function withTestBucket<T>(fn: (client: S3ObjectClient, bucket: string) => Promise<T>, extra: Partial<S3ClientConfig> = {}): Promise<T> {
  const bucket = `holdfast-test-${randomBytes(6).toString('hex')}`;
  const client = new S3ObjectClient(s3TestConfig(bucket, extra));
  try {
    await client.createBucket();
    return await fn(client, bucket);
  } finally {
    const keys: string[] = [];
    for await (const o of client.list('')) keys.push(o.key);
    await client.deleteMany(keys).catch(() => undefined);
    client.destroy();
  }
}
