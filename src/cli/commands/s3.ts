/**
 * `holdfast s3 endpoint create|list|update|delete`: the S3 endpoints datastores can use, shaped
 * like `proxmox-backup-manager s3 endpoint`. It edits the server's config dir (s3.cfg and, for the
 * secret key, s3-secrets.json), so it runs on the server host.
 *
 * The secret key comes from `--secret-key`, else `$HOLDFAST_S3_SECRET_KEY`, else a hidden prompt on
 * a terminal: the option puts it in the process list and the shell history, the others do not.
 * Listings never show it.
 *
 * `holdfast s3 check ID BUCKET` tries the endpoint for real (PBS's `s3 check`): a small object is
 * PUT, read back and deleted; with `--throughput` it also measures the raw 4 MiB PUT and GET rate
 * (the yardstick for S3 datastore benchmarks).
 */
import type { Command } from 'commander';
import { parseBooleanWord } from '../../core/args.ts';
import { fail } from '../../core/errors.ts';
import { clientConfigFor, S3ObjectClient } from '../../chunks/s3-client.ts';
import { probeS3Throughput, type ProbeResult } from '../../chunks/s3-throughput-probe.ts';
import { S3EndpointStore, type S3EndpointPatch } from '../../datastore/s3-endpoint-store.ts';
import { checkBucketName, type S3Endpoint } from '../../format/s3-endpoint-config.ts';
import { NodeFs } from '../../storage/node-fs.ts';
import { resolveConfigDir, type CliContext, type OutputFormat } from '../context.ts';
import { noteMissingLocalConfig } from '../local-config.ts';
import { emit, outputFormatOption, renderTable } from '../render.ts';
import { formatSize } from '../benchmark/units.ts';

export interface S3Deps {
  readonly configDir: string;
  readonly ctx: CliContext;
}

/** The options as commander gives them: text, so that parsing and checks live in one place. */
export interface S3EndpointOptions {
  readonly endpoint?: string;
  readonly accessKey?: string;
  readonly secretKey?: string;
  readonly region?: string;
  readonly pathStyle?: string | boolean;
  readonly fingerprint?: string;
}

const store = (deps: S3Deps): S3EndpointStore => new S3EndpointStore(new NodeFs(), deps.configDir);

function pathStyleOf(v: string | boolean | undefined): boolean | undefined {
  if (v === undefined || typeof v === 'boolean') return v;
  const b = parseBooleanWord(v);
  if (b === undefined) throw fail('INVALID_ARGUMENT', `--path-style '${v}' is not a boolean (true/false)`, { param: 'path-style', value: v });
  return b;
}

async function secretFrom(o: S3EndpointOptions, deps: S3Deps, required: boolean): Promise<string | undefined> {
  if (o.secretKey !== undefined) return o.secretKey;
  const env = deps.ctx.env['HOLDFAST_S3_SECRET_KEY'];
  if (env !== undefined && env !== '') return env;
  if (!required) return undefined;
  if (deps.ctx.isTTY && deps.ctx.readSecret) return deps.ctx.readSecret('S3 secret key: ');
  throw fail('INVALID_ARGUMENT', 'no secret key: give --secret-key or set $HOLDFAST_S3_SECRET_KEY', { param: 'secret-key' });
}

function describe(e: S3Endpoint): Record<string, unknown> {
  return { id: e.id, endpoint: e.endpoint, region: e.region, 'path-style': e.pathStyle, 'access-key': e.accessKey, fingerprint: e.fingerprint };
}

export async function runS3EndpointCreate(id: string, o: S3EndpointOptions, deps: S3Deps): Promise<void> {
  if (o.endpoint === undefined) throw fail('INVALID_ARGUMENT', '--endpoint is required', { param: 'endpoint' });
  if (o.accessKey === undefined) throw fail('INVALID_ARGUMENT', '--access-key is required', { param: 'access-key' });
  const secretKey = (await secretFrom(o, deps, true)) ?? '';
  const pathStyle = pathStyleOf(o.pathStyle);
  const e = await store(deps).create({
    id,
    endpoint: o.endpoint,
    accessKey: o.accessKey,
    secretKey,
    ...(o.region === undefined ? {} : { region: o.region }),
    ...(pathStyle === undefined ? {} : { pathStyle }),
    ...(o.fingerprint === undefined ? {} : { fingerprint: o.fingerprint }),
  });
  deps.ctx.out(`created S3 endpoint '${e.id}' (${e.endpoint}, ${e.pathStyle ? 'path' : 'virtual-host'} style)`);
}

export async function runS3EndpointUpdate(id: string, o: S3EndpointOptions, deps: S3Deps): Promise<void> {
  const secretKey = await secretFrom(o, deps, false);
  const pathStyle = pathStyleOf(o.pathStyle);
  const patch: S3EndpointPatch = {
    ...(o.endpoint === undefined ? {} : { endpoint: o.endpoint }),
    ...(o.accessKey === undefined ? {} : { accessKey: o.accessKey }),
    ...(secretKey === undefined ? {} : { secretKey }),
    ...(o.region === undefined ? {} : { region: o.region }),
    ...(pathStyle === undefined ? {} : { pathStyle }),
    // an empty --fingerprint removes the pin
    ...(o.fingerprint === undefined ? {} : { fingerprint: o.fingerprint === '' ? null : o.fingerprint }),
  };
  if (Object.keys(patch).length === 0) throw fail('INVALID_ARGUMENT', 'nothing to update: give at least one option', { id });
  const e = await store(deps).update(id, patch);
  deps.ctx.out(`updated S3 endpoint '${e.id}'`);
}

export async function runS3EndpointList(o: { readonly outputFormat: OutputFormat }, deps: S3Deps): Promise<void> {
  noteMissingLocalConfig(deps.ctx, deps.configDir, 's3.cfg');
  const rows = (await store(deps).list()).map(describe);
  emit(deps.ctx, o.outputFormat, rows, () => renderTable(rows, ['id', 'endpoint', 'region', 'path-style', 'access-key', 'fingerprint']));
}

export async function runS3EndpointDelete(id: string, deps: S3Deps): Promise<void> {
  await store(deps).remove(id);
  deps.ctx.out(`deleted S3 endpoint '${id}'`);
}

export interface S3CheckOptions {
  readonly throughput?: boolean;
  readonly count?: string;
  readonly concurrency?: string;
  readonly outputFormat: OutputFormat;
}

function positive(name: string, text: string | undefined, fallback: number): number {
  if (text === undefined) return fallback;
  const n = Number(text);
  if (!/^\d+$/.test(text) || !Number.isSafeInteger(n) || n < 1) throw fail('INVALID_ARGUMENT', `--${name} '${text}' is not a positive integer`, { param: name, value: text });
  return n;
}

export async function runS3Check(id: string, bucket: string, o: S3CheckOptions, deps: S3Deps): Promise<void> {
  const count = positive('count', o.count, 16);
  const concurrency = positive('concurrency', o.concurrency, 8);
  const e = await store(deps).getWithSecret(id);
  const client = new S3ObjectClient(clientConfigFor(e, e.secretKey, checkBucketName(bucket)));
  try {
    await probeS3Throughput(client, { objectSize: 4096, count: 1, concurrency: 1, prefix: '.holdfast-check/' });
    const speed: ProbeResult | undefined = o.throughput === true ? await probeS3Throughput(client, { count, concurrency }) : undefined;
    const result = { endpoint: id, bucket, location: client.location, roundTrip: 'ok', ...(speed === undefined ? {} : { throughput: speed }), requests: client.counters() };
    emit(deps.ctx, o.outputFormat, result, () => renderCheck(result.location, speed));
  } finally {
    client.destroy();
  }
}

function renderCheck(location: string, speed: ProbeResult | undefined): string {
  const lines = [`${location}: PUT, GET and DELETE ok`];
  if (speed !== undefined) {
    const rate = (b: number) => `${formatSize(b)}/s`;
    lines.push(`${speed.put.objects} × ${formatSize(speed.objectSize)}, ${speed.concurrency} in flight: PUT ${rate(speed.put.throughput)}, GET ${rate(speed.get.throughput)}`);
  }
  return lines.join('\n');
}

function endpointOptions(cmd: Command, creating: boolean): Command {
  return cmd
    .option('--endpoint <url>', `${creating ? '' : 'new '}endpoint URL: https://host[:port] ({{bucket}} and {{region}} templates allowed), or http:// to a loopback address`)
    .option('--access-key <key>', 'S3 access key id')
    .option('--secret-key <key>', 'S3 secret key (else $HOLDFAST_S3_SECRET_KEY, else a prompt on a terminal)')
    .option('--region <region>', 'region for request signing (default us-east-1)')
    .option('--path-style [bool]', 'path-style addressing (endpoint/bucket/key) instead of virtual-host style', (v: string) => v)
    .option('--fingerprint <sha256>', `pinned SHA-256 fingerprint of a self-signed certificate${creating ? '' : ' (empty to remove)'}`);
}

export function register(program: Command, ctx: CliContext): void {
  const deps = (): S3Deps => ({ configDir: resolveConfigDir(ctx, program.opts<{ configDir?: string }>().configDir), ctx });
  const s3 = program.command('s3').description('manage S3 object-store settings (s3.cfg)');
  const endpoint = s3.command('endpoint').description('manage S3 endpoints (s3.cfg; secret keys in s3-secrets.json, mode 0600)');

  endpointOptions(endpoint.command('create <id>').description('add an S3 endpoint'), true).action(async (id: string, o: S3EndpointOptions) =>
    runS3EndpointCreate(id, o, deps()),
  );
  endpointOptions(endpoint.command('update <id>').description('change an S3 endpoint (only the options given)'), false).action(
    async (id: string, o: S3EndpointOptions) => runS3EndpointUpdate(id, o, deps()),
  );
  endpoint
    .command('list')
    .description('list S3 endpoints (never their secret keys)')
    .addOption(outputFormatOption())
    .action(async (o: { outputFormat: OutputFormat }) => runS3EndpointList(o, deps()));
  endpoint
    .command('delete <id>')
    .description('delete an S3 endpoint and its secret key (refused while a datastore uses it)')
    .action(async (id: string) => runS3EndpointDelete(id, deps()));

  s3.command('check <id> <bucket>')
    .description('try an endpoint and bucket: PUT, GET and DELETE a small object; --throughput also measures raw 4 MiB PUT/GET')
    .option('--throughput', 'also measure the raw PUT and GET throughput of 4 MiB objects')
    .option('--count <n>', 'objects for --throughput (default 16)')
    .option('--concurrency <n>', 'requests in flight for --throughput (default 8)')
    .addOption(outputFormatOption())
    .action(async (id: string, bucket: string, o: S3CheckOptions) => runS3Check(id, bucket, o, deps()));
}
