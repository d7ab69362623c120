/**
 * Reading part of a split archive's payload stream (`.ppxar`): only the chunks that hold the data
 * of the files being restored are fetched, so restoring one file of a large snapshot reads that
 * file's chunks and not the rest.
 *
 * - `payloadRanges` lists, from the selected events of the metadata archive (selection.ts), the
 *   byte ranges of the payload stream their files need: each PAYLOAD header and its data.
 * - `RangedPayloadReader` is a PayloadSource over pieces that carry their own offsets (the chunks
 *   holding those ranges, in order, with gaps between them).
 *
 * Invariants: a file's bytes come only from pieces that hold them; a byte that no piece holds is
 * an error (INTERNAL: the ranges were computed from the same metadata), never zeros. Offsets must
 * increase from file to file (CORRUPT otherwise, as upstream's decoder and PayloadReader refuse);
 * each PAYLOAD header is checked against the reference before its data is handed out.
 */
import { fail } from '../../core/errors.ts';
import { HEADER_SIZE, PXAR_PAYLOAD } from './constants.ts';
import type { PxarEvent } from './entry.ts';
import type { PayloadSource } from './payload-reader.ts';

/** Bytes [start, end) of a stream. */
export interface ByteRange {
  readonly start: number;
  readonly end: number;
}

/** A piece of the payload stream and where it starts in it. */
export interface PositionedPiece {
  readonly offset: number;
  readonly bytes: Uint8Array;
}

/**
 * The payload ranges the files among `events` need, in stream order, touching ranges merged (the
 * files of one directory usually lie back to back, so a large selection stays a short list).
 */
export async function payloadRanges(events: AsyncIterable<PxarEvent>): Promise<ByteRange[]> {
  const out: { start: number; end: number }[] = [];
  for await (const ev of events) {
    if (ev.type !== 'entry' || ev.entry.kind !== 'file') continue;
    const e = ev.entry;
    if (e.payloadOffset === undefined) throw fail('CORRUPT', 'a file of a split archive has no payload reference');
    const start = e.payloadOffset;
    const end = start + HEADER_SIZE + e.size;
    const last = out[out.length - 1];
    if (last !== undefined && start < last.end) throw fail('CORRUPT', 'payload reference points backwards in the payload stream', { offset: start, position: last.end });
    if (last !== undefined && start === last.end) last.end = end;
    else out.push({ start, end });
  }
  return out;
}

export class RangedPayloadReader implements PayloadSource {
  readonly #pieces: AsyncIterator<PositionedPiece>;
  #piece: PositionedPiece | undefined;
  /** The first offset not yet handed out: a later read may not start before it. */
  #position = 0;

  constructor(pieces: AsyncIterable<PositionedPiece>) {
    this.#pieces = pieces[Symbol.asyncIterator]();
  }

  async *read(offset: number, size: number): AsyncGenerator<Uint8Array> {
    if (offset < this.#position) throw fail('CORRUPT', 'payload reference points backwards in the payload stream', { offset, position: this.#position });
    const head = new Uint8Array(HEADER_SIZE);
    let filled = 0;
    for await (const v of this.#views(offset, HEADER_SIZE)) {
      head.set(v, filled);
      filled += v.length;
    }
    const view = new DataView(head.buffer);
    const contentSize = view.getBigUint64(8, true) - BigInt(HEADER_SIZE);
    if (view.getBigUint64(0, true) !== PXAR_PAYLOAD || contentSize !== BigInt(size)) {
      throw fail('CORRUPT', 'payload reference does not point at a PAYLOAD of its size', { offset, size, contentSize: String(contentSize) });
    }
    yield* this.#views(offset + HEADER_SIZE, size);
  }

  /** Views of bytes [at, at + n), from the pieces that hold them. */
  async *#views(at: number, n: number): AsyncGenerator<Uint8Array> {
    let left = n;
    while (left > 0) {
      const piece = await this.#pieceAt(at);
      const from = at - piece.offset;
      const view = piece.bytes.subarray(from, Math.min(piece.bytes.length, from + left));
      at += view.length;
      left -= view.length;
      this.#position = at;
      yield view;
    }
  }

  /** The piece holding offset `at`; pieces wholly before it are passed over. */
  async #pieceAt(at: number): Promise<PositionedPiece> {
    while (this.#piece === undefined || this.#piece.offset + this.#piece.bytes.length <= at) {
      const next = await this.#pieces.next();
      if (next.done === true) throw fail('TRUNCATED', 'the payload stream ends before a file it holds', { offset: at });
      this.#piece = next.value;
    }
    if (this.#piece.offset > at) throw fail('INTERNAL', 'payload bytes were not fetched', { offset: at, next: this.#piece.offset });
    return this.#piece;
  }
}
