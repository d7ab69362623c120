/**
 * HPACK (RFC 7541), the header compression of HTTP/2, as the lean reader client needs it: a full
 * decoder for the server's header blocks and a deliberately dumb encoder for our requests.
 *
 * Why the asymmetry: a server may use every HPACK feature (Huffman, its own dynamic table, size
 * updates, never-indexed literals), so the decoder must understand all of them; but what we send
 * is up to us, and literals without indexing keep the peer's decoder table untouched, so the
 * encoder carries no state that could fall out of step with the peer (and a request can be
 * encoded on any stream, in any order, or dropped, without corrupting later ones).
 *
 * Invariants of the decoder, whose input is hostile:
 *  - every read is bounds-checked against the block, so a truncated integer or string is a
 *    PROTOCOL_ERROR, never a read past the end or a wait for more bytes;
 *  - integers are below 2^31 and at most 6 bytes long, so no arithmetic is inexact and no run of
 *    0x80 continuation bytes is walked for ever;
 *  - memory is bounded by the block (a Huffman string decodes to at most 8/5 of its length) and by
 *    `maxListSize`, which also stops one tiny indexed reference to a large table entry from
 *    being repeated into an enormous header list;
 *  - the dynamic table never holds more than `maxTableSize` (what we advertised) by RFC 7541's
 *    entry size, so at most maxTableSize/32 entries;
 *  - any error leaves the table out of step with the server's encoder (the rest of the block was
 *    not applied), and HPACK has no way to resynchronise: RFC 9113 §4.3 makes it a connection
 *    error. So after a throw the decoder refuses every further block, and the session must tear
 *    the connection down.
 *
 * Names and values are byte strings on the wire; they are mapped to JS strings as latin1, one
 * char per byte, so any byte sequence survives and the sizes RFC 7541 counts in bytes are string
 * lengths. Validating them as HTTP field names/values is the session's job, not the codec's.
 */
import { fail } from '../core/errors.ts';
import { HUFFMAN_CODE_LENGTHS, HUFFMAN_CODES } from './hpack-huffman.ts';

export interface HeaderField {
  readonly name: string;
  readonly value: string;
}

/** SETTINGS_HEADER_TABLE_SIZE's initial value (RFC 9113 §6.5.2), also the table's size until the server signals otherwise. */
export const DEFAULT_HEADER_TABLE_SIZE = 4096;
/** Our bound on a decoded header list, by the RFC 9113 §6.5.2 measure. */
export const DEFAULT_MAX_HEADER_LIST_SIZE = 65_536;
/** RFC 7541 §4.1: the per-entry overhead counted in a table's (and a header list's) size. */
const ENTRY_OVERHEAD = 32;
/** Integers must stay below this: a 32-bit peer cannot mean more, and the arithmetic stays exact. */
const INTEGER_LIMIT = 2 ** 31;
/** Continuation bytes after a full prefix: 5 x 7 bits cover 2^31, so a sixth is only padding. */
const MAX_INTEGER_CONTINUATIONS = 5;

// RFC 7541 Appendix A; index 1 is the first entry.
const STATIC_TABLE: readonly HeaderField[] = (
  [
    [':authority', ''], [':method', 'GET'], [':method', 'POST'], [':path', '/'], [':path', '/index.html'],
    [':scheme', 'http'], [':scheme', 'https'], [':status', '200'], [':status', '204'], [':status', '206'],
    [':status', '304'], [':status', '400'], [':status', '404'], [':status', '500'], ['accept-charset', ''],
    ['accept-encoding', 'gzip, deflate'], ['accept-language', ''], ['accept-ranges', ''], ['accept', ''],
    ['access-control-allow-origin', ''], ['age', ''], ['allow', ''], ['authorization', ''],
    ['cache-control', ''], ['content-disposition', ''], ['content-encoding', ''], ['content-language', ''],
    ['content-length', ''], ['content-location', ''], ['content-range', ''], ['content-type', ''],
    ['cookie', ''], ['date', ''], ['etag', ''], ['expect', ''], ['expires', ''], ['from', ''], ['host', ''],
    ['if-match', ''], ['if-modified-since', ''], ['if-none-match', ''], ['if-range', ''],
    ['if-unmodified-since', ''], ['last-modified', ''], ['link', ''], ['location', ''], ['max-forwards', ''],
    ['proxy-authenticate', ''], ['proxy-authorization', ''], ['range', ''], ['referer', ''], ['refresh', ''],
    ['retry-after', ''], ['server', ''], ['set-cookie', ''], ['strict-transport-security', ''],
    ['transfer-encoding', ''], ['user-agent', ''], ['vary', ''], ['via', ''], ['www-authenticate', ''],
  ] as const
).map(([name, value]) => Object.freeze({ name, value }));

/** The first static index of each name, for the encoder's indexed names. */
const STATIC_NAME_INDEX: ReadonlyMap<string, number> = new Map(
  STATIC_TABLE.map((f, i) => [f.name, i + 1] as const).reverse(),
);

// ---------------------------------------------------------------------------------------------
// Huffman decoding (RFC 7541 §5.2, Appendix B)
//
// A finite-state machine that eats 4 bits at a time, built once from the code table: its states
// are the 256 inner nodes of the code's binary trie (the code is complete: 257 leaves), and each
// (state, nibble) entry says where the walk ends, which symbol it completed on the way (codes are
// at least 5 bits long, so a nibble completes at most one) and whether it ran into EOS, which may
// never appear in a string. The walk is valid at the end of a string only in a state reached by
// at most 7 one-bits from the root: that is the padding rule, with the root itself for no padding.

const HUFFMAN_EOS = 256;
const HUFFMAN_STATES = 256;
const H_STATE = 0xff;
const H_EMIT = 0x100;
const H_FAIL = 0x200;
const H_SYMBOL_SHIFT = 16;

const { transitions: HUFFMAN_TRANSITIONS, accepting: HUFFMAN_ACCEPTING } = buildHuffmanMachine();

function buildHuffmanMachine(): { transitions: Uint32Array; accepting: Uint8Array } {
  if (HUFFMAN_CODES.length !== HUFFMAN_EOS + 1 || HUFFMAN_CODE_LENGTHS.length !== HUFFMAN_EOS + 1) {
    throw fail('INTERNAL', 'HPACK Huffman table does not have 257 entries');
  }
  // kids[2 * node + bit]: > 0 an inner node, < 0 the leaf ~symbol, 0 not yet set (the root, node
  // 0, is nobody's child). Checking the code is prefix-free and complete here means a corrupted
  // generated table fails at load, not as a rare wrong header.
  const kids = new Int32Array(2 * HUFFMAN_STATES);
  const accepting = new Uint8Array(HUFFMAN_STATES);
  accepting[0] = 1;
  let nodes = 1;
  for (let symbol = 0; symbol <= HUFFMAN_EOS; symbol++) {
    const code = HUFFMAN_CODES[symbol] ?? 0;
    const length = HUFFMAN_CODE_LENGTHS[symbol] ?? 0;
    if (length < 5 || length > 30 || code >= 2 ** length) throw fail('INTERNAL', 'bad HPACK Huffman code', { symbol });
    let node = 0;
    for (let i = length - 1; i >= 0; i--) {
      const slot = 2 * node + ((code >>> i) & 1);
      const kid = kids[slot] ?? 0;
      if (i === 0) {
        if (kid !== 0) throw fail('INTERNAL', 'HPACK Huffman code is not prefix-free', { symbol });
        kids[slot] = ~symbol;
      } else if (kid > 0) {
        node = kid;
      } else {
        if (kid < 0 || nodes === HUFFMAN_STATES) throw fail('INTERNAL', 'HPACK Huffman code is not prefix-free', { symbol });
        const depth = length - i;
        accepting[nodes] = depth <= 7 && (code >>> i) === 2 ** depth - 1 ? 1 : 0;
        kids[slot] = node = nodes++;
      }
    }
  }
  if (nodes !== HUFFMAN_STATES || kids.includes(0)) throw fail('INTERNAL', 'HPACK Huffman code is not complete');

  const transitions = new Uint32Array(HUFFMAN_STATES * 16);
  for (let state = 0; state < HUFFMAN_STATES; state++) {
    for (let nibble = 0; nibble < 16; nibble++) {
      let node = state;
      let entry = 0;
      for (let i = 3; i >= 0; i--) {
        const kid = kids[2 * node + ((nibble >>> i) & 1)] ?? 0;
        if (kid > 0) {
          node = kid;
        } else if (~kid === HUFFMAN_EOS) {
          entry = H_FAIL;
          node = 0;
          break;
        } else {
          if ((entry & H_EMIT) !== 0) throw fail('INTERNAL', 'HPACK Huffman code shorter than 5 bits');
          entry = H_EMIT | (~kid << H_SYMBOL_SHIFT);
          node = 0;
        }
      }
      transitions[state * 16 + nibble] = entry | node;
    }
  }
  return { transitions, accepting };
}

function huffmanDecode(bytes: Uint8Array, start: number, end: number): string {
  // Every symbol takes at least 5 bits, so this bounds the output without a second pass.
  const out = Buffer.allocUnsafe(Math.floor(((end - start) * 8) / 5));
  let n = 0;
  let state = 0;
  for (let i = start; i < end; i++) {
    const byte = bytes[i] ?? 0;
    const high = HUFFMAN_TRANSITIONS[(state << 4) | (byte >>> 4)] ?? H_FAIL;
    if ((high & H_EMIT) !== 0) out[n++] = high >>> H_SYMBOL_SHIFT;
    const low = HUFFMAN_TRANSITIONS[((high & H_STATE) << 4) | (byte & 0xf)] ?? H_FAIL;
    if (((high | low) & H_FAIL) !== 0) throw fail('PROTOCOL_ERROR', 'HPACK Huffman string contains EOS');
    if ((low & H_EMIT) !== 0) out[n++] = low >>> H_SYMBOL_SHIFT;
    state = low & H_STATE;
  }
  if (HUFFMAN_ACCEPTING[state] !== 1) {
    throw fail('PROTOCOL_ERROR', 'HPACK Huffman string has bad padding (more than 7 bits, or not a prefix of EOS)');
  }
  return out.toString('latin1', 0, n);
}

// ---------------------------------------------------------------------------------------------
// Decoder

/** A cursor over one header block; every read checks the block's end. */
class BlockReader {
  pos = 0;
  readonly #bytes: Uint8Array;
  readonly #latin1: Buffer;

  constructor(bytes: Uint8Array) {
    this.#bytes = bytes;
    this.#latin1 = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  get done(): boolean {
    return this.pos >= this.#bytes.length;
  }

  /** The byte at the cursor, not consumed; only called when not `done`. */
  peek(): number {
    return this.#bytes[this.pos] ?? 0;
  }

  /** RFC 7541 §5.1: the low `prefixBits` of the current byte, then 7-bit groups, least significant first. */
  integer(prefixBits: number): number {
    const bytes = this.#bytes;
    if (this.pos >= bytes.length) throw fail('PROTOCOL_ERROR', 'HPACK integer runs past the end of the header block');
    const max = (1 << prefixBits) - 1;
    let value = (bytes[this.pos++] ?? 0) & max;
    if (value < max) return value;
    for (let k = 0; k < MAX_INTEGER_CONTINUATIONS; k++) {
      if (this.pos >= bytes.length) throw fail('PROTOCOL_ERROR', 'HPACK integer runs past the end of the header block');
      const b = bytes[this.pos++] ?? 0;
      value += (b & 0x7f) * 2 ** (7 * k);
      if (value >= INTEGER_LIMIT) throw fail('PROTOCOL_ERROR', 'HPACK integer is 2^31 or more');
      if ((b & 0x80) === 0) return value;
    }
    throw fail('PROTOCOL_ERROR', 'HPACK integer encoding is too long');
  }

  /** RFC 7541 §5.2: a Huffman flag and a 7-bit-prefix length, then that many bytes. */
  string(): string {
    if (this.pos >= this.#bytes.length) throw fail('PROTOCOL_ERROR', 'HPACK string runs past the end of the header block');
    const huffman = (this.peek() & 0x80) !== 0;
    const length = this.integer(7);
    const start = this.pos;
    if (length > this.#bytes.length - start) {
      throw fail('PROTOCOL_ERROR', 'HPACK string runs past the end of the header block', { length, left: this.#bytes.length - start });
    }
    this.pos = start + length;
    return huffman ? huffmanDecode(this.#bytes, start, this.pos) : this.#latin1.toString('latin1', start, this.pos);
  }
}

function checkedSize(value: number | undefined, fallback: number, what: string): number {
  const v = value ?? fallback;
  if (!Number.isSafeInteger(v) || v < 0 || v >= INTEGER_LIMIT) throw new RangeError(`${what} must be an integer in [0, 2^31): ${v}`);
  return v;
}

/**
 * The decoding context of one connection's server-to-client direction. Blocks must be passed in
 * the order the server sent them (HPACK state is shared by all streams), and each whole: HEADERS
 * (or PUSH_PROMISE) plus its CONTINUATIONs, joined.
 *
 * After `decode` throws, the decoder is unusable: every later call throws PROTOCOL_ERROR too,
 * because its table no longer matches the server's and HPACK cannot resynchronise.
 */
export class HpackDecoder {
  readonly #maxTableSize: number;
  readonly #maxListSize: number;
  /**
   * The table's current maximum, as the server last signalled it. It starts at the protocol's
   * 4096 capped by what we advertised: a server bound by a lower setting must signal it at the start
   * of its next block (RFC 7541 §4.2), as nghttp2 does (see the tests); one that does not can only
   * hit a missing entry (an index error), never a wrong one, because the newest entries keep their
   * indices whatever older ones we dropped.
   */
  #capacity: number;
  /** The RFC 7541 §4.1 size of the live entries. */
  #size = 0;
  /** Live entries are #entries[#head..], oldest first; the dropped prefix is trimmed in bulk. */
  #entries: HeaderField[] = [];
  #head = 0;
  #broken = false;

  constructor(o: { maxTableSize?: number; maxListSize?: number } = {}) {
    this.#maxTableSize = checkedSize(o.maxTableSize, DEFAULT_HEADER_TABLE_SIZE, 'maxTableSize');
    this.#maxListSize = checkedSize(o.maxListSize, DEFAULT_MAX_HEADER_LIST_SIZE, 'maxListSize');
    this.#capacity = Math.min(DEFAULT_HEADER_TABLE_SIZE, this.#maxTableSize);
  }

  /** Decodes one complete header block; throws PROTOCOL_ERROR on anything malformed (see the class comment). */
  decode(block: Uint8Array): HeaderField[] {
    if (this.#broken) throw fail('PROTOCOL_ERROR', 'HPACK decoder is unusable after an earlier error');
    // Set until the block decodes whole: a throw anywhere below leaves the table half-updated.
    this.#broken = true;
    const fields = this.#decodeBlock(block);
    this.#broken = false;
    return fields;
  }

  #decodeBlock(block: Uint8Array): HeaderField[] {
    const r = new BlockReader(block);
    const fields: HeaderField[] = [];
    let listSize = 0;
    while (!r.done) {
      const first = r.peek();
      let field: HeaderField;
      if ((first & 0x80) !== 0) {
        // 1xxxxxxx: indexed field (§6.1).
        field = this.#lookup(r.integer(7));
      } else if ((first & 0x40) !== 0) {
        // 01xxxxxx: literal with incremental indexing (§6.2.1).
        field = this.#literal(r, 6);
        this.#insert(field);
      } else if ((first & 0x20) !== 0) {
        // 001xxxxx: dynamic table size update (§6.3), only before the block's first field (§4.2).
        if (fields.length > 0) throw fail('PROTOCOL_ERROR', 'HPACK dynamic table size update after a header field');
        const size = r.integer(5);
        if (size > this.#maxTableSize) {
          throw fail('PROTOCOL_ERROR', 'HPACK dynamic table size update above our SETTINGS_HEADER_TABLE_SIZE', { size, max: this.#maxTableSize });
        }
        this.#capacity = size;
        this.#evictTo(size);
        continue;
      } else {
        // 0000xxxx without indexing / 0001xxxx never indexed (§6.2.2, §6.2.3): the same to an
        // endpoint that does not forward headers.
        field = this.#literal(r, 4);
      }
      listSize += field.name.length + field.value.length + ENTRY_OVERHEAD;
      if (listSize > this.#maxListSize) {
        throw fail('PROTOCOL_ERROR', 'HTTP/2 header list exceeds our limit', { max: this.#maxListSize });
      }
      fields.push(field);
    }
    return fields;
  }

  #literal(r: BlockReader, prefixBits: number): HeaderField {
    const index = r.integer(prefixBits);
    // The name is read before the value and before any insertion, so an entry evicted by this
    // field's own insertion (§4.4) has already given its name.
    const name = index === 0 ? r.string() : this.#lookup(index).name;
    return { name, value: r.string() };
  }

  #lookup(index: number): HeaderField {
    if (index === 0) throw fail('PROTOCOL_ERROR', 'HPACK index 0');
    const fixed = STATIC_TABLE[index - 1];
    if (fixed !== undefined) return fixed;
    // Dynamic indices count from the newest entry, which is the last one.
    const back = index - STATIC_TABLE.length;
    const live = this.#entries.length - this.#head;
    const entry = back <= live ? this.#entries[this.#entries.length - back] : undefined;
    if (entry === undefined) throw fail('PROTOCOL_ERROR', 'HPACK index beyond the tables', { index, dynamicEntries: live });
    return entry;
  }

  #insert(field: HeaderField): void {
    const size = field.name.length + field.value.length + ENTRY_OVERHEAD;
    if (size > this.#capacity) {
      // §4.4: not an error; the table ends up empty and the field is only emitted.
      this.#evictTo(0);
      return;
    }
    this.#evictTo(this.#capacity - size);
    this.#entries.push(field);
    this.#size += size;
  }

  #evictTo(limit: number): void {
    while (this.#size > limit) {
      const oldest = this.#entries[this.#head++];
      if (oldest === undefined) throw fail('INTERNAL', 'HPACK table size out of step with its entries');
      this.#size -= oldest.name.length + oldest.value.length + ENTRY_OVERHEAD;
    }
    if (this.#head === this.#entries.length) {
      this.#entries = [];
      this.#head = 0;
    } else if (this.#head >= 64 && this.#head * 2 >= this.#entries.length) {
      // Trimmed in bulk so that eviction stays amortised O(1) and the array at most twice the live table.
      this.#entries = this.#entries.slice(this.#head);
      this.#head = 0;
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Encoder

const NOT_LATIN1 = /[\u0100-\uffff]/;

function integerLength(value: number, prefixBits: number): number {
  const max = (1 << prefixBits) - 1;
  if (value < max) return 1;
  let n = 2;
  for (let rest = value - max; rest >= 0x80; rest = Math.floor(rest / 0x80)) n++;
  return n;
}

function writeInteger(out: Uint8Array, pos: number, value: number, prefixBits: number, pattern: number): number {
  const max = (1 << prefixBits) - 1;
  if (value < max) {
    out[pos++] = pattern | value;
    return pos;
  }
  out[pos++] = pattern | max;
  let rest = value - max;
  for (; rest >= 0x80; rest = Math.floor(rest / 0x80)) out[pos++] = 0x80 | (rest % 0x80);
  out[pos++] = rest;
  return pos;
}

/**
 * Encodes request headers as one header block of literals without indexing (0000xxxx): an
 * indexed name where the static table has it (the pseudo-headers and common request headers),
 * else a literal name; no Huffman, which only saves bytes we do not miss. Nothing enters the
 * server's dynamic table, so blocks are independent of each other.
 *
 * Names are sent as given (HTTP/2 wants them lower-case; that is the caller's). A name or value
 * with a character above U+00FF has no latin1 byte and is refused with INVALID_ARGUMENT rather
 * than silently mangled.
 */
export function encodeHeaders(fields: readonly HeaderField[]): Uint8Array {
  let total = 0;
  for (const { name, value } of fields) {
    if (NOT_LATIN1.test(name) || NOT_LATIN1.test(value)) {
      throw fail('INVALID_ARGUMENT', 'HTTP/2 header field has a character outside latin1', { name: name.slice(0, 80) });
    }
    const index = STATIC_NAME_INDEX.get(name) ?? 0;
    total += integerLength(index, 4) + (index === 0 ? integerLength(name.length, 7) + name.length : 0);
    total += integerLength(value.length, 7) + value.length;
  }
  const out = new Uint8Array(total);
  const text = Buffer.from(out.buffer, out.byteOffset, out.byteLength);
  let pos = 0;
  for (const { name, value } of fields) {
    const index = STATIC_NAME_INDEX.get(name) ?? 0;
    pos = writeInteger(out, pos, index, 4, 0x00);
    if (index === 0) {
      pos = writeInteger(out, pos, name.length, 7, 0x00);
      pos += text.write(name, pos, name.length, 'latin1');
    }
    pos = writeInteger(out, pos, value.length, 7, 0x00);
    pos += text.write(value, pos, value.length, 'latin1');
  }
  if (pos !== total) throw fail('INTERNAL', 'HPACK encoder size mismatch', { pos, total });
  return out;
}
