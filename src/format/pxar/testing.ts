/**
 * Test support (not used by production code): in-memory trees, an encoder driver for them that
 * also records the events a decoder must give back, and a canonical text form of events so two
 * event lists compare with deepEqual. Hardlink nodes pick an earlier file of the walk by index.
 */
import { PxarEncoder } from './encoder.ts';
import type { PxarEntry, PxarEvent } from './entry.ts';
import type { PxarDevice, PxarMetadata } from './metadata.ts';
import { joinPath } from './names.ts';

export type MemNode =
  | { readonly kind: 'directory'; readonly meta: PxarMetadata; readonly children: readonly MemChild[] }
  | { readonly kind: 'file'; readonly meta: PxarMetadata; readonly data: Uint8Array }
  | { readonly kind: 'symlink'; readonly meta: PxarMetadata; readonly target: Uint8Array }
  | { readonly kind: 'char-device' | 'block-device'; readonly meta: PxarMetadata; readonly device: PxarDevice }
  | { readonly kind: 'fifo' | 'socket'; readonly meta: PxarMetadata }
  | { readonly kind: 'hardlink'; readonly pick: number };

export interface MemChild {
  readonly name: Uint8Array;
  readonly node: MemNode;
}

export interface EncodedTree {
  readonly archive: Uint8Array;
  readonly payload: Uint8Array;
  /** Canonical descriptions of the events a decoder must yield (data merged per file). */
  readonly expected: string[];
}

/** Encodes `root` (a directory node); file data is pushed in `pieceSize` pieces. */
export function encodeMemTree(root: MemNode & { kind: 'directory' }, opts: { split?: boolean; pieceSize?: number } = {}): EncodedTree {
  const enc = new PxarEncoder(root.meta, { split: opts.split ?? false });
  const expected: string[] = [];
  const files: { path: Uint8Array; offset: number }[] = [];
  const rootEntry: PxarEntry = { kind: 'directory', path: new Uint8Array(0), fileOffset: 0, metadata: root.meta };
  expected.push(describe(rootEntry));
  const walk = (dir: readonly MemChild[], parent: Uint8Array): void => {
    for (const { name, node } of dir) {
      const path = joinPath(parent, name);
      const fileOffset = enc.archivePosition;
      switch (node.kind) {
        case 'directory': {
          enc.enterDirectory(name, node.meta);
          const entry: PxarEntry = { kind: 'directory', path, fileOffset, metadata: node.meta };
          expected.push(describe(entry));
          walk(node.children, path);
          enc.leaveDirectory();
          expected.push(describeEnd(entry));
          break;
        }
        case 'file': {
          const payloadOffset = enc.payloadPosition;
          enc.beginFile(name, node.meta, node.data.length);
          const step = opts.pieceSize ?? 7;
          for (let at = 0; at < node.data.length; at += step) enc.writeFileData(node.data.subarray(at, at + step));
          enc.endFile();
          files.push({ path, offset: fileOffset });
          const entry: PxarEntry = { kind: 'file', path, fileOffset, metadata: node.meta, size: node.data.length, ...(enc.split ? { payloadOffset } : {}) };
          expected.push(describe(entry, node.data));
          break;
        }
        case 'hardlink': {
          const target = files[node.pick % Math.max(files.length, 1)];
          if (target === undefined) break;
          enc.addHardlink(name, target.path, target.offset);
          expected.push(describe({ kind: 'hardlink', path, fileOffset, target: target.path, targetOffset: target.offset }));
          break;
        }
        case 'symlink':
          enc.addSymlink(name, node.meta, node.target);
          expected.push(describe({ kind: 'symlink', path, fileOffset, metadata: node.meta, target: node.target }));
          break;
        case 'char-device':
        case 'block-device':
          enc.addDevice(name, node.meta, node.device);
          expected.push(describe({ kind: node.kind, path, fileOffset, metadata: node.meta, device: node.device }));
          break;
        case 'fifo':
        case 'socket':
          enc.addSpecial(name, node.meta);
          expected.push(describe({ kind: node.kind, path, fileOffset, metadata: node.meta }));
          break;
      }
    }
  };
  walk(root.children, new Uint8Array(0));
  enc.finish();
  expected.push(describeEnd(rootEntry));
  return { archive: concat(enc.takeArchive()), payload: concat(enc.takePayload()), expected };
}

/** bigints and byte arrays as text (before JSON, since Buffer#toJSON would win over a replacer). */
function normalize(value: unknown): unknown {
  if (typeof value === 'bigint') return `${value}n`;
  if (value instanceof Uint8Array) return Buffer.from(value).toString('hex');
  if (Array.isArray(value)) return value.map(normalize);
  if (typeof value === 'object' && value !== null) return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, normalize(v)]));
  return value;
}

/** Canonical text of an entry and (for files) its whole content. */
export function describe(entry: PxarEntry, data?: Uint8Array): string {
  return JSON.stringify(normalize({ ...entry, ...(data === undefined ? {} : { data }) }));
}

function describeEnd(entry: PxarEntry): string {
  return `end ${Buffer.from(entry.path).toString('hex')}`;
}

/** Canonical texts of decoded events; data events are merged into their file entry. */
export async function describeEvents(events: AsyncIterable<PxarEvent>): Promise<string[]> {
  const out: string[] = [];
  let file: { entry: PxarEntry; pieces: Uint8Array[] } | undefined;
  const flush = (): void => {
    if (file !== undefined) out.push(describe(file.entry, concat(file.pieces)));
    file = undefined;
  };
  for await (const ev of events) {
    if (ev.type === 'data') {
      file?.pieces.push(new Uint8Array(ev.bytes));
      continue;
    }
    flush();
    if (ev.type === 'entry' && ev.entry.kind === 'file') file = { entry: ev.entry, pieces: [] };
    else if (ev.type === 'entry') out.push(describe(ev.entry));
    else if (ev.type === 'directory-end') out.push(describeEnd(ev.entry));
  }
  flush();
  return out;
}

export function concat(pieces: readonly Uint8Array[]): Uint8Array {
  return Buffer.concat(pieces);
}

/** An async stream over `bytes` in pieces of `pieceSize` (exercises buffer boundaries). */
export async function* streamOf(bytes: Uint8Array, pieceSize = bytes.length || 1): AsyncGenerator<Uint8Array> {
  for (let at = 0; at < bytes.length; at += pieceSize) yield bytes.subarray(at, at + pieceSize);
}
