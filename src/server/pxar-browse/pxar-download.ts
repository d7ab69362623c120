/**
 * What pxar-file-download sends: a file's bytes as they are, or a folder (or a whole archive) as a
 * zip (default, as PBS) or, with `tar`, a zstd-compressed tar (`.tar.zst`, as PBS).
 *
 * The first member is read before any header goes out, so a path that is missing or not a file
 * or folder is still a typed JSON error; once the body streams, a failure (a missing or damaged
 * chunk) cuts the connection, and the client sees a short download, never a complete-looking one.
 * `release` (the snapshot lock) runs when the body has ended, however it ended.
 */
import { pipeline, Readable } from 'node:stream';
import { CompressStream } from 'zstd-napi';
import { fail } from '../../core/errors.ts';
import { checkedData, type ArchiveMember } from '../../format/archive-member.ts';
import { pathText } from '../../format/pxar/names.ts';
import { tarStream } from '../../format/tar-writer.ts';
import { zipStream } from '../../format/zip-writer.ts';
import { RawResponse } from '../router.ts';
import { archiveBaseName, type ArchivePath } from './archive-path.ts';
import { pxarMembers } from './pxar-members.ts';
import type { PxarView } from './pxar-view.ts';

async function* zstd(src: AsyncIterable<Uint8Array>): AsyncGenerator<Uint8Array> {
  const out = pipeline(Readable.from(src), new CompressStream(), () => undefined);
  for await (const piece of out) yield piece as Uint8Array;
}

async function* prepend(first: ArchiveMember, rest: AsyncIterator<ArchiveMember>): AsyncGenerator<ArchiveMember> {
  yield first;
  for (let r = await rest.next(); r.done !== true; r = await rest.next()) yield r.value;
}

function disposition(name: string): string {
  const ascii = name.replace(/[^\x20-\x7e]|["\\]/g, '_');
  return `attachment; filename="${ascii}"; filename*=UTF-8''${encodeURIComponent(name)}`;
}

async function* guarded(body: AsyncIterable<Uint8Array>, release: () => Promise<void>): AsyncGenerator<Uint8Array> {
  try {
    yield* body;
  } finally {
    await release();
  }
}

export async function pxarDownload(view: PxarView, p: ArchivePath & { archive: string }, tar: boolean, release: () => Promise<void>): Promise<RawResponse> {
  const topName = p.inner.length === 0 ? Buffer.from(archiveBaseName(p.archive)) : p.inner.subarray(p.inner.lastIndexOf(0x2f) + 1);
  const members = pxarMembers(view.events(p.inner), p.inner, topName);
  const head = await members.next();
  const first = head.done === true ? undefined : head.value;
  if (first === undefined) throw fail('NOT_FOUND', `'${pathText(p.inner)}' is not in the archive`, { path: pathText(p.inner) });
  const name = pathText(topName);
  if (first.kind === 'file') {
    const data = checkedData(first);
    const body = (async function* () {
      try {
        yield* data;
      } finally {
        await members.return(undefined);
      }
    })();
    return new RawResponse(guarded(body, release), { 'content-type': 'application/octet-stream', 'content-length': String(first.size ?? 0), 'content-disposition': disposition(name) });
  }
  if (first.kind !== 'directory') {
    await members.return(undefined);
    throw fail('INVALID_ARGUMENT', `'${pathText(p.inner)}' is a ${first.kind}, not a file or directory`, { path: pathText(p.inner), kind: first.kind });
  }
  const all = prepend(first, members);
  const body = tar ? zstd(tarStream(all)) : zipStream(all);
  const type = tar ? 'application/zstd' : 'application/zip';
  return new RawResponse(guarded(body, release), { 'content-type': type, 'content-disposition': disposition(`${name}${tar ? '.tar.zst' : '.zip'}`) });
}
