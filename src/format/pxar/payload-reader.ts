/**
 * Sequential reader of a v2 payload stream (`.ppxar`, pxar-format.md §8.3). The stream opens with
 * a PAYLOAD_START_MARKER; each PAYLOAD_REF names the offset of a PAYLOAD header. Reused chunks
 * may leave unreferenced bytes between payloads, so the reader skips forward to each offset;
 * going backwards is impossible on a stream and is refused, as upstream's decoder does.
 */
import { PXAR_PAYLOAD, PXAR_PAYLOAD_START_MARKER } from './constants.ts';
import { fail } from '../../core/errors.ts';
import { ByteReader } from './byte-reader.ts';
import { readItemHeader } from './item-decode.ts';

/**
 * Where a decoder finds a split archive's file data: the `size` data bytes of the PAYLOAD item at
 * `offset`, as views in order. Offsets are asked for in increasing order (upstream refuses
 * anything else); a view is valid until the next piece is asked for.
 */
export interface PayloadSource {
  read(offset: number, size: number): AsyncGenerator<Uint8Array>;
}

/** Whether a decoder's `payload` option is a ready source rather than the raw stream. */
export const isPayloadSource = (p: AsyncIterable<Uint8Array> | PayloadSource): p is PayloadSource => typeof (p as Partial<PayloadSource>).read === 'function';

export class PayloadReader implements PayloadSource {
  readonly #reader: ByteReader;
  #started = false;

  constructor(source: AsyncIterable<Uint8Array>) {
    this.#reader = new ByteReader(source);
  }

  /** The `size` data bytes of the PAYLOAD item at `offset`, as views in order. */
  async *read(offset: number, size: number): AsyncGenerator<Uint8Array> {
    await this.#start();
    const position = this.#reader.position;
    if (offset < position) throw fail('CORRUPT', 'payload reference points backwards in the payload stream', { offset, position });
    await this.#reader.skip(offset - position, 'payload padding');
    const h = await readItemHeader(this.#reader);
    if (h.htype !== PXAR_PAYLOAD || h.contentSize !== size) {
      throw fail('CORRUPT', 'payload reference does not point at a PAYLOAD of its size', { offset, size, contentSize: h.contentSize });
    }
    yield* this.#reader.pieces(size, 'a payload');
  }

  async #start(): Promise<void> {
    if (this.#started) return;
    this.#started = true;
    const h = await readItemHeader(this.#reader);
    if (h.htype !== PXAR_PAYLOAD_START_MARKER) throw fail('BAD_MAGIC', 'payload stream does not start with PAYLOAD_START_MARKER');
    if (h.contentSize !== 0) throw fail('CORRUPT', 'payload start marker carries content', { contentSize: h.contentSize });
  }
}
