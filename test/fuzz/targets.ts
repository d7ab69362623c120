/**
 * Fuzz targets: every decoder of hostile bytes (blob, fixed and dynamic index, manifest blob and
 * JSON, key file, pxar, catalog) and the backup protocol's request handling. Each target feeds
 * one input to the same entry point production code uses and lets coded errors through; anything
 * else it throws is a crash (fuzzer.ts).
 */
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { sha256, toHex } from '../../src/core/digest.ts';
import { fail, isHoldfastError, type HoldfastError } from '../../src/core/errors.ts';
import { silentLogger } from '../../src/core/log.ts';
import { decodeBlob, encodeBlob, peekPlainBlob, verifyBlobCrc } from '../../src/format/blob.ts';
import { CryptConfig } from '../../src/format/crypt-config.ts';
import { dynamicIndexCsum, encodeDynamicIndex, parseDynamicIndex } from '../../src/format/dynamic-index.ts';
import { encodeFixedIndex, parseFixedIndex } from '../../src/format/fixed-index.ts';
import { createKeyFile, openKeyFile } from '../../src/format/key-file.ts';
import { decodeManifestBlob, encodeManifestBlob, manifestToJson, parseManifestJson, type Manifest } from '../../src/format/manifest.ts';
import { CatalogWriter, listCatalog } from '../../src/format/pxar/catalog.ts';
import { listPxar } from '../../src/format/pxar/decoder.ts';
import { plainMetadata } from '../../src/format/pxar/metadata.ts';
import { encodeMemTree, streamOf } from '../../src/format/pxar/testing.ts';
import { inlineChunkChecker } from '../../src/chunks/chunk-check.ts';
import { BackupSession } from '../../src/datastore/backup-session.ts';
import { createDatastoreTree } from '../../src/datastore/create-datastore.ts';
import { Datastore } from '../../src/datastore/datastore.ts';
import { BackupProtocol } from '../../src/server/protocol/backup-protocol.ts';
import { bufferBody } from '../../src/server/protocol/request-body.ts';
import { FlockLocker } from '../../src/storage/locker.ts';
import { NodeFs } from '../../src/storage/node-fs.ts';
import { makeTempDir } from '../helpers/tmp.ts';
import type { FuzzTarget } from './fuzzer.ts';

const KEY = new Uint8Array(32).fill(7);
const crypt = new CryptConfig(KEY);
const text = (s: string): Uint8Array => Buffer.from(s, 'utf8');
const uuid = new Uint8Array(16).fill(3);
const digestOf = (i: number): Uint8Array => sha256(Uint8Array.of(i));

const blob: FuzzTarget = {
  name: 'blob',
  seeds: () => {
    const data = text('hello holdfast '.repeat(40));
    return [encodeBlob(data, { compress: false }), encodeBlob(data, { compress: true }), encodeBlob(data, { compress: false, crypt }), encodeBlob(data, { compress: true, crypt })];
  },
  run: (input) => {
    decodeBlob(input, crypt);
    verifyBlobCrc(input);
    peekPlainBlob(input);
  },
};

const fixedIndex: FuzzTarget = {
  name: 'fixed-index',
  seeds: () => [encodeFixedIndex({ uuid, ctime: 1_700_000_000, size: 3 * 4096 + 5, chunkSize: 4096, digests: [0, 1, 2, 3].map(digestOf) })],
  run: (input) => parseFixedIndex(input),
};

const dynamicIndex: FuzzTarget = {
  name: 'dynamic-index',
  seeds: () => {
    const entries = [100, 4000, 4001, 90_000].map((end, i) => ({ end, digest: digestOf(i) }));
    return [encodeDynamicIndex({ uuid, ctime: 1_700_000_000, entries })];
  },
  run: (input) => parseDynamicIndex(input),
};

const MANIFEST: Manifest = {
  backupType: 'host',
  backupId: 'fuzz',
  backupTime: 1_700_000_000,
  files: [
    { filename: 'root.pxar.didx', cryptMode: 'none', size: 1234, csum: 'a'.repeat(64) },
    { filename: 'app.conf.blob', cryptMode: 'encrypt', size: 99, csum: 'b'.repeat(64) },
  ],
  unprotected: { notes: 'n', 'key-fingerprint': 'aa:bb', verify_state: { state: 'ok', upid: 'UPID:x' } },
  signature: null,
};

const manifestBlob: FuzzTarget = {
  name: 'manifest-blob',
  seeds: () => [encodeManifestBlob(MANIFEST), encodeBlob(text(manifestToJson(MANIFEST)), { compress: false })],
  run: (input) => decodeManifestBlob(input),
};

const manifestJson: FuzzTarget = {
  name: 'manifest-json',
  seeds: () => [text(manifestToJson(MANIFEST)), text(manifestToJson({ ...MANIFEST, files: [], unprotected: {} }))],
  run: (input) => parseManifestJson(Buffer.from(input).toString('utf8')),
};

/** As `loadCrypt` does: JSON errors become INVALID_ARGUMENT, the rest is openKeyFile's. */
const keyFile: FuzzTarget = {
  name: 'key-file',
  seeds: () => [
    text(JSON.stringify(createKeyFile(KEY, { kdf: 'none', now: 1_700_000_000 }))),
    text(JSON.stringify(createKeyFile(KEY, { kdf: 'scrypt', passphrase: 'secret', now: 1_700_000_000, scrypt: { n: 16, r: 1, p: 1 } }))),
  ],
  run: (input) => {
    let json: unknown;
    try {
      json = JSON.parse(Buffer.from(input).toString('utf8'));
    } catch (e) {
      throw fail('INVALID_ARGUMENT', 'key file is not JSON', {}, e); // as loadCrypt answers
    }
    return openKeyFile(json, 'secret');
  },
};

const pxar: FuzzTarget = {
  name: 'pxar',
  seeds: () => {
    const meta = (mode: number) => plainMetadata({ mode, flags: 0n, uid: 1000, gid: 1000, mtime: { secs: 1_700_000_000n, nanos: 5 } });
    const tree = encodeMemTree({
      kind: 'directory',
      meta: meta(0o40755),
      children: [
        { name: text('a.txt'), node: { kind: 'file', meta: meta(0o100644), data: text('some file data') } },
        { name: text('dir'), node: { kind: 'directory', meta: meta(0o40700), children: [{ name: text('link'), node: { kind: 'symlink', meta: meta(0o120777), target: text('../a.txt') } }] } },
        { name: text('hl'), node: { kind: 'hardlink', pick: 0 } },
      ],
    });
    return [tree.archive];
  },
  run: async (input) => listPxar(streamOf(input, 64)),
};

const catalog: FuzzTarget = {
  name: 'catalog',
  seeds: () => {
    const w = new CatalogWriter();
    w.startDirectory(text('etc'));
    w.addFile(text('hosts'), 120, 1_700_000_000);
    w.addOther('symlink', text('localtime'));
    w.endDirectory();
    w.addFile(text('README'), 5, 1_600_000_000);
    return [Buffer.concat(w.finish())];
  },
  run: (input) => listCatalog(input),
};

/**
 * The backup protocol on a real datastore (sync level none), one fresh session per input. The
 * input is a script of requests, one per line: `METHOD PATH[?QUERY][ BODY-BASE64]`.
 */
export function backupProtocolTarget(): FuzzTarget {
  const dir = makeTempDir('holdfast-fuzz-');
  const base = join(dir, 'store');
  let store: Datastore | undefined;
  let time = 1_700_000_000;
  const open = async (): Promise<Datastore> => {
    if (store) return store;
    const fs = new NodeFs();
    await createDatastoreTree(fs, base);
    store = new Datastore({ name: 'fuzz', base, fs, locker: new FlockLocker(), log: silentLogger, syncLevel: 'none' });
    return store;
  };
  return {
    name: 'backup-protocol',
    prepare: async () => void (await open()),
    seeds: () => [text(protocolScript())],
    run: async (input) => {
      const s = await open();
      const session = await BackupSession.begin(s, { ns: '', type: 'host', id: 'fuzz', time: time++ }, { owner: 'fuzz@pbs' });
      const proto = new BackupProtocol(session, inlineChunkChecker);
      let refused: HoldfastError | undefined;
      try {
        for (const line of Buffer.from(input).toString('utf8').split('\n').slice(0, 64)) refused ??= await runLine(proto, line);
        if (refused !== undefined) throw refused; // the first coded answer: the input counts as rejected
      } finally {
        proto.close();
        await session.abort();
        if (session.state === 'finished') await s.deleteSnapshot(session.ref, { force: true });
      }
    },
    close: async () => rmSync(dir, { recursive: true, force: true }),
  };
}

/** Runs one request line; resolves with its coded error (a 4xx/5xx answer: the session goes on). */
async function runLine(proto: BackupProtocol, line: string): Promise<HoldfastError | undefined> {
  const [method = '', target = '', body = ''] = line.split(' ');
  if (!URL.canParse(target, 'http://fuzz/')) return undefined; // h2 would not deliver such a :path
  const url = new URL(target, 'http://fuzz/');
  try {
    await proto.dispatch(method, url.pathname, url.searchParams, bufferBody(Buffer.from(body, 'base64')));
    return undefined;
  } catch (e) {
    if (isHoldfastError(e)) return e;
    throw e;
  }
}

/** A complete valid session: one dynamic archive of two chunks, a blob, the manifest, finish. */
function protocolScript(): string {
  const chunks = [text('first chunk '.repeat(30)), text('second chunk '.repeat(20))];
  const blobs = chunks.map((c) => encodeBlob(c, { compress: true }));
  const digests = chunks.map((c) => toHex(sha256(c)));
  let end = 0;
  const entries = chunks.map((c, i) => ({ end: (end += c.length), digest: sha256(chunks[i]!) }));
  const csum = toHex(dynamicIndexCsum(entries).csum);
  const conf = encodeBlob(text('a: b\n'), { compress: false });
  const manifest = encodeManifestBlob({
    backupType: 'host',
    backupId: 'fuzz',
    backupTime: 0, // the session's time differs: finish answers MANIFEST_MISMATCH, which is fine
    files: [{ filename: 'data.didx', cryptMode: 'none', size: end, csum }],
    unprotected: {},
    signature: null,
  });
  const b64 = (b: Uint8Array): string => Buffer.from(b).toString('base64');
  const lines = [
    'GET previous_backup_time',
    'POST dynamic_index?archive-name=data.didx',
    ...chunks.map((c, i) => `POST dynamic_chunk?wid=1&digest=${digests[i]}&size=${c.length}&encoded-size=${blobs[i]!.length} ${b64(blobs[i]!)}`),
    `PUT dynamic_index ${b64(text(JSON.stringify({ wid: 1, 'digest-list': digests, 'offset-list': [0, chunks[0]!.length] })))}`,
    `POST dynamic_close?wid=1&chunk-count=2&size=${end}&csum=${csum}`,
    'POST fixed_index?archive-name=disk.fidx&size=100',
    `POST blob?file-name=app.conf.blob&encoded-size=${conf.length} ${b64(conf)}`,
    `POST blob?file-name=index.json.blob&encoded-size=${manifest.length} ${b64(manifest)}`,
    'POST finish',
  ];
  return lines.join('\n');
}

/** The decoder targets (pure, fast). */
export const DECODER_TARGETS: readonly FuzzTarget[] = [blob, fixedIndex, dynamicIndex, manifestBlob, manifestJson, keyFile, pxar, catalog];
