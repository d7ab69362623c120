/**
 * One pxar archive of a snapshot as the browser sees it: the events of one subtree (entries, and
 * for files their bytes), whatever the archive's layout.
 *
 * - Unified (`.pxar.didx`): the archive is decoded as a stream from its start; file bytes follow
 *   their entry in the stream.
 * - Split (`.mpxar.didx` + `.ppxar.didx`): only the metadata archive is decoded; a file's bytes are
 *   read from the payload archive at the entry's offset (its PAYLOAD header is checked first), so
 *   a download reads the payload of the files it sends and nothing else.
 *
 * Both stop decoding as soon as the subtree has ended. Memory stays at one chunk plus the open
 * directories, whatever the archive's size (archive-reader.ts, decoder.ts).
 */
import { fail } from '../../core/errors.ts';
import type { SnapshotRef } from '../../core/backup-ref.ts';
import { ArchiveReader } from '../../datastore/archive-reader.ts';
import type { Datastore } from '../../datastore/datastore.ts';
import { decodePxar } from '../../format/pxar/decoder.ts';
import type { PxarEvent, PxarFileEntry } from '../../format/pxar/entry.ts';
import { HEADER_SIZE, PXAR_PAYLOAD } from '../../format/pxar/constants.ts';
import { pathText } from '../../format/pxar/names.ts';
import { isWithin, samePath } from '../../format/pxar/selection.ts';
import { payloadArchiveOf, type ArchiveKind } from './archive-path.ts';

/** The events of `top`'s subtree; returns once it has ended. NOT_FOUND when `top` is not there. */
export async function* subtree(events: AsyncIterable<PxarEvent>, top: Uint8Array): AsyncGenerator<PxarEvent> {
  let found: 'no' | 'file' | 'directory' = 'no';
  for await (const ev of events) {
    if (ev.type === 'prelude') continue;
    if (ev.type === 'data') {
      if (found !== 'no') yield ev;
      continue;
    }
    if (ev.type === 'directory-end') {
      if (found === 'file') return;
      if (found === 'no' || !isWithin(ev.entry.path, top)) continue;
      yield ev;
      if (samePath(ev.entry.path, top)) return;
      continue;
    }
    const inside = isWithin(ev.entry.path, top);
    if (found === 'file' || (found === 'directory' && !inside)) return;
    if (!inside) continue;
    if (found === 'no') found = ev.entry.kind === 'directory' ? 'directory' : 'file';
    yield ev;
  }
  if (found === 'no') throw fail('NOT_FOUND', `'${pathText(top)}' is not in the archive`, { path: pathText(top) });
}

export class PxarView {
  readonly #main: ArchiveReader;
  readonly #payload: ArchiveReader | undefined;

  private constructor(main: ArchiveReader, payload: ArchiveReader | undefined) {
    this.#main = main;
    this.#payload = payload;
  }

  static async open(store: Datastore, ref: SnapshotRef, archive: string, kind: ArchiveKind): Promise<PxarView> {
    const main = await ArchiveReader.open(store, ref, archive);
    const payload = kind === 'split' ? await ArchiveReader.open(store, ref, payloadArchiveOf(archive)) : undefined;
    return new PxarView(main, payload);
  }

  /** The subtree at `top` with file bytes; see the module comment. */
  async *events(top: Uint8Array, withData = true): AsyncGenerator<PxarEvent> {
    const events = subtree(decodePxar(this.#main.stream()), top);
    if (this.#payload === undefined || !withData) {
      for await (const ev of events) if (withData || ev.type !== 'data') yield ev;
      return;
    }
    for await (const ev of events) {
      yield ev;
      if (ev.type === 'entry' && ev.entry.kind === 'file') yield* this.#payloadOf(this.#payload, ev.entry);
    }
  }

  async *#payloadOf(payload: ArchiveReader, e: PxarFileEntry): AsyncGenerator<PxarEvent> {
    if (e.payloadOffset === undefined) throw fail('CORRUPT', `split archive entry '${pathText(e.path)}' has no payload reference`, { path: pathText(e.path) });
    const pieces: Uint8Array[] = [];
    for await (const piece of payload.range(e.payloadOffset, HEADER_SIZE)) pieces.push(piece);
    const head = Buffer.concat(pieces);
    if (head.readBigUInt64LE(0) !== PXAR_PAYLOAD || head.readBigUInt64LE(8) !== BigInt(HEADER_SIZE + e.size)) {
      throw fail('CORRUPT', `no PAYLOAD of ${e.size} bytes at payload offset ${e.payloadOffset} for '${pathText(e.path)}'`, { offset: e.payloadOffset });
    }
    for await (const bytes of payload.range(e.payloadOffset + HEADER_SIZE, e.size)) yield { type: 'data', bytes };
  }
}
