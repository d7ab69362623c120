/**
 * createPxarStream: walks a real directory and yields a v1 unified pxar archive (what Holdfast's
 * client uploads as `NAME.pxar.didx`) as a stream of buffers for a content-defined chunker.
 *
 * Byte compatibility with the PBS client: children sorted by raw name bytes, metadata from
 * lstat, xattrs filtered like PBS, hardlinks for the second and later names of a regular file
 * with st_nlink > 1 (keyed by st_dev/st_ino), file size fixed by lstat (zero-filled if the file
 * shrinks while read, cut if it grows), and directories on other filesystems encoded as empty
 * directories unless `crossFilesystems` is set. Names are handled as bytes end to end (Buffer
 * paths), so non-UTF-8 names are archived exactly. File contents are read in `readSize` pieces
 * into fresh buffers that are yielded without copying; memory stays O(depth + readSize).
 * Not done: exclude patterns/.pxarexclude, chattr flags (always 0), quota project ids.
 */
import { constants as fsc, promises as fsp, type BigIntStats } from 'node:fs';
import { resolve } from 'node:path';
import { fail } from '../core/errors.ts';
import { PxarEncoder } from '../format/pxar/encoder.ts';
import { deviceFromDevT } from '../format/pxar/metadata.ts';
import { joinPath, pathText } from '../format/pxar/names.ts';
import { nodeFail } from './pxar-native.ts';
import { readMetadata, type MetadataOptions } from './pxar-read-meta.ts';
import type { PxarWarningCode, WarningSink } from './pxar-warnings.ts';

export interface CreateOptions extends MetadataOptions {
  /** Descend into directories on other filesystems (default false: they become empty). */
  readonly crossFilesystems?: boolean;
  /** Bytes per file read (default 4 MiB). */
  readonly readSize?: number;
  readonly onWarning?: WarningSink;
}

const DEFAULT_READ_SIZE = 4 * 1024 * 1024;
const SLASH = Buffer.from('/');

/** Yields the pxar (v1) archive of the directory `rootDir`. */
export async function* createPxarStream(rootDir: string, opts: CreateOptions = {}): AsyncGenerator<Uint8Array> {
  const root = Buffer.from(await fsp.realpath(resolve(rootDir)));
  const st = await fsp.lstat(root, { bigint: true });
  if (!st.isDirectory()) throw fail('INVALID_ARGUMENT', 'the archive root must be a directory', { rootDir });
  const encoder = new PxarEncoder(readMetadata(root, st, opts));
  const walker = new TreeWalker(encoder, st.dev, opts);
  yield* walker.directory(root, new Uint8Array(0));
  encoder.finish();
  yield* encoder.takeArchive();
}

interface LinkTarget {
  readonly path: Uint8Array;
  readonly offset: number;
}

class TreeWalker {
  readonly #encoder: PxarEncoder;
  readonly #rootDev: bigint;
  readonly #opts: CreateOptions;
  readonly #readSize: number;
  readonly #links = new Map<string, LinkTarget>();

  constructor(encoder: PxarEncoder, rootDev: bigint, opts: CreateOptions) {
    this.#encoder = encoder;
    this.#rootDev = rootDev;
    this.#opts = opts;
    this.#readSize = opts.readSize ?? DEFAULT_READ_SIZE;
  }

  async *directory(abs: Buffer, rel: Uint8Array): AsyncGenerator<Uint8Array> {
    let names: Buffer[];
    try {
      names = await fsp.readdir(abs, { encoding: 'buffer' });
    } catch (e) {
      if (this.#skippable(e, rel, 'readdir')) return;
      throw nodeFail('readdir', abs, e);
    }
    names.sort((a, b) => Buffer.compare(a, b));
    for (const name of names) {
      const childAbs = Buffer.concat([abs, SLASH, name]);
      const childRel = joinPath(rel, name);
      let st: BigIntStats;
      try {
        st = await fsp.lstat(childAbs, { bigint: true });
      } catch (e) {
        if (this.#skippable(e, childRel, 'lstat')) continue;
        throw nodeFail('lstat', childAbs, e);
      }
      yield* this.#child(name, childAbs, childRel, st);
      yield* this.#encoder.takeArchive();
    }
  }

  async *#child(name: Buffer, abs: Buffer, rel: Uint8Array, st: BigIntStats): AsyncGenerator<Uint8Array> {
    const enc = this.#encoder;
    if (st.isFile()) {
      yield* this.#file(name, abs, rel, st);
    } else if (st.isDirectory()) {
      enc.enterDirectory(name, readMetadata(abs, st, this.#opts));
      if (st.dev === this.#rootDev || this.#opts.crossFilesystems === true) yield* this.directory(abs, rel);
      enc.leaveDirectory();
    } else if (st.isSymbolicLink()) {
      let target: Buffer;
      try {
        target = await fsp.readlink(abs, { encoding: 'buffer' });
      } catch (e) {
        if (this.#skippable(e, rel, 'readlink')) return;
        throw nodeFail('readlink', abs, e);
      }
      enc.addSymlink(name, readMetadata(abs, st, this.#opts), target);
    } else if (st.isCharacterDevice() || st.isBlockDevice()) {
      enc.addDevice(name, readMetadata(abs, st, this.#opts), deviceFromDevT(st.rdev));
    } else {
      enc.addSpecial(name, readMetadata(abs, st, this.#opts)); // fifo or socket
    }
  }

  async *#file(name: Buffer, abs: Buffer, rel: Uint8Array, st: BigIntStats): AsyncGenerator<Uint8Array> {
    const key = `${st.dev}:${st.ino}`;
    const earlier = st.nlink > 1n ? this.#links.get(key) : undefined;
    if (earlier !== undefined) {
      this.#encoder.addHardlink(name, earlier.path, earlier.offset);
      return;
    }
    let handle: fsp.FileHandle;
    try {
      handle = await fsp.open(abs, fsc.O_RDONLY | fsc.O_NOFOLLOW);
    } catch (e) {
      if (this.#skippable(e, rel, 'open')) return;
      throw nodeFail('open', abs, e);
    }
    try {
      const size = Number(st.size);
      const offset = this.#encoder.beginFile(name, readMetadata(abs, st, this.#opts), size);
      if (st.nlink > 1n) this.#links.set(key, { path: rel, offset });
      yield* this.#copy(handle, abs, rel, size);
      this.#encoder.endFile();
    } finally {
      await handle.close();
    }
  }

  async *#copy(handle: fsp.FileHandle, abs: Buffer, rel: Uint8Array, size: number): AsyncGenerator<Uint8Array> {
    let left = size;
    while (left > 0) {
      const buf = Buffer.allocUnsafe(Math.min(this.#readSize, left));
      let got: number;
      try {
        ({ bytesRead: got } = await handle.read(buf, 0, buf.length, null));
      } catch (e) {
        throw nodeFail('read', abs, e);
      }
      if (got === 0) {
        this.#warn('file-changed', rel, `file shrank while reading; ${left} bytes zero-filled`);
        for (; left > 0; left -= Math.min(left, this.#readSize)) this.#encoder.writeFileData(new Uint8Array(Math.min(left, this.#readSize)));
        break;
      }
      this.#encoder.writeFileData(buf.subarray(0, got));
      left -= got;
      yield* this.#encoder.takeArchive();
    }
  }

  /** ENOENT (vanished) and EACCES/EPERM become warnings; anything else is fatal. */
  #skippable(e: unknown, rel: Uint8Array, op: string): boolean {
    const code = e instanceof Error ? (e as NodeJS.ErrnoException).code : undefined;
    if (code === 'ENOENT') this.#warn('vanished', rel, `${op}: entry vanished; left out`);
    else if (code === 'EACCES' || code === 'EPERM') this.#warn('permission-denied', rel, `${op}: permission denied; left out`);
    else return false;
    return true;
  }

  #warn(code: PxarWarningCode, rel: Uint8Array, message: string): void {
    this.#opts.onWarning?.({ code, path: pathText(rel), message });
  }
}
