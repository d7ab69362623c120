/**
 * Options shared by the client commands (backup, restore, snapshot, prune): the repository, the
 * pinned fingerprint, the namespace and the encryption key file; and opening the server
 * connection and the key from them.
 */
import { Option, type Command } from 'commander';
import { fail } from '../core/errors.ts';
import { bucketFor, type TokenBucket } from '../core/token-bucket.ts';
import { CryptConfig } from '../format/crypt-config.ts';
import { parseByteRate } from '../format/sync-job-config.ts';
import { PathSelection, type EntrySelection } from '../format/pxar/selection.ts';
import { PatternSelection } from '../client/pattern-selection.ts';
import type { KeyFileJson } from '../format/key-file.ts';
import { connect, repositoryFrom } from '../remote/connect.ts';
import type { HttpClient } from '../remote/http-client.ts';
import type { Repository } from '../remote/repository.ts';
import type { CliContext } from './context.ts';
import { openKeyPath } from './key-access.ts';

export interface ClientFlags {
  readonly repository?: string;
  readonly fingerprint?: string;
  readonly ns?: string;
  readonly keyfile?: string;
}

/**
 * `--path P` or `--pattern GLOB` (each repeatable, not both): what part of a directory archive a
 * restore or a listing takes; undefined for all of it.
 */
export function entrySelection(f: { readonly path?: readonly string[]; readonly pattern?: readonly string[] }): EntrySelection | undefined {
  const paths = f.path ?? [];
  const patterns = f.pattern ?? [];
  if (paths.length > 0 && patterns.length > 0) throw fail('INVALID_ARGUMENT', '--path and --pattern cannot be combined: give several of one of them', { param: 'pattern' });
  if (paths.length > 0) return PathSelection.parse(paths);
  return patterns.length > 0 ? PatternSelection.parse(patterns) : undefined;
}

/** Commander's parser for an option that may be given several times: the values in order. */
export const collect = (value: string, previous: string[] | undefined): string[] => [...(previous ?? []), value];

export function addClientOptions(cmd: Command): Command {
  return cmd
    .addOption(new Option('--repository <repo>', 'repository [[USER@REALM[!TOKEN]]@]HOST[:PORT]:STORE (env HOLDFAST_REPOSITORY)'))
    .addOption(new Option('--fingerprint <fp>', 'pinned server certificate fingerprint (env HOLDFAST_FINGERPRINT)'))
    .addOption(new Option('--ns <namespace>', 'namespace, e.g. a/b (default: the root namespace)'));
}

export interface RateFlags {
  readonly rate?: string;
  readonly burst?: string;
}

/** `--rate` and `--burst`, as PBS's client has them: a cap on the bytes sent and received per second. */
export function addRateOptions(cmd: Command): Command {
  return cmd
    .addOption(new Option('--rate <rate>', 'limit the bytes sent and received per second, e.g. 10MiB (uploads and downloads share it)'))
    .addOption(new Option('--burst <size>', 'with --rate: how many bytes may go at once (default one second of --rate)'));
}

/** The session's token bucket, or none without --rate; a rate or burst that is no byte count fails before connecting. */
export function rateBucket(f: RateFlags): TokenBucket | undefined {
  if (f.rate === undefined) {
    if (f.burst !== undefined) throw fail('INVALID_ARGUMENT', '--burst needs --rate', { param: 'burst' });
    return undefined;
  }
  return bucketFor(parseByteRate('rate', f.rate), f.burst === undefined ? undefined : parseByteRate('burst', f.burst));
}

export function addKeyOption(cmd: Command): Command {
  return cmd.addOption(new Option('--keyfile <file>', 'encryption key file (holdfast key create); passphrase from $HOLDFAST_ENCRYPTION_PASSWORD, else asked on a terminal'));
}

export interface Connected {
  readonly repo: Repository;
  readonly client: HttpClient;
  readonly authId: string;
}

export async function openClient(ctx: CliContext, f: ClientFlags): Promise<Connected> {
  const repo = repositoryFrom(f.repository, ctx.env);
  const { client, authId } = await connect(repo, ctx.env, f.fingerprint);
  return { repo, client, authId };
}

export interface LoadedKey {
  readonly crypt: CryptConfig;
  /** the raw key, for the encoder workers */
  readonly key: Uint8Array;
  /** the key file as read (its `created` goes into the master-key copy) */
  readonly json: KeyFileJson;
}

export async function loadCrypt(ctx: CliContext, keyfile: string | undefined): Promise<LoadedKey | undefined> {
  if (!keyfile) return undefined;
  const { key, json } = await openKeyPath(ctx, keyfile);
  return { crypt: new CryptConfig(key), key, json };
}
