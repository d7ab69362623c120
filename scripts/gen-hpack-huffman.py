#!/usr/bin/python3
"""Writes src/format/hpack-huffman.ts: the HPACK Huffman code (RFC 7541 Appendix B).

The code is taken from python3-hpack (Debian package), whose table is itself transcribed from the
RFC, rather than retyped by hand: 257 entries are easy to mistype and a wrong one is silent.

    /usr/bin/python3 scripts/gen-hpack-huffman.py > src/format/hpack-huffman.ts

With --vectors it prints instead the test vectors embedded in src/format/hpack.test.ts: the
RFC 7541 Appendix C blocks, checked against python3-hpack's encoder and decoder, and a run of
blocks from one python3-hpack encoder (Huffman, dynamic table, evictions, size updates), so the
TypeScript decoder is tested against an independent implementation without the tests calling
Python.

    /usr/bin/python3 scripts/gen-hpack-huffman.py --vectors
"""
import json
import random
import sys

import hpack
import hpack.huffman_constants as h

codes = h.REQUEST_CODES
lengths = h.REQUEST_CODES_LENGTH
assert len(codes) == 257 and len(lengths) == 257
assert all(5 <= n <= 30 and c < (1 << n) for c, n in zip(codes, lengths))
# Sanity against the RFC's first, last and EOS entries.
assert (codes[0], lengths[0]) == (0x1ff8, 13)
assert (codes[255], lengths[255]) == (0x3ffffee, 26)
assert (codes[256], lengths[256]) == (0x3fffffff, 30)


def rows(values, fmt, per_line):
    out = []
    for i in range(0, len(values), per_line):
        out.append('  ' + ' '.join(fmt(v) + ',' for v in values[i:i + per_line]))
    return '\n'.join(out)


def ts_fields(fields):
    def lit(b):
        return json.dumps(b.decode('latin1'))  # ASCII-only output, \\u00XX for the rest
    return '[' + ', '.join('[%s, %s]' % (lit(n), lit(v)) for n, v in fields) + ']'


def as_bytes(fields):
    return [(n.encode('latin1'), v.encode('latin1')) for n, v, *_ in fields]


# RFC 7541 Appendix C: (section, hex as printed in the RFC, header list). C.5/C.6 use a 256-byte
# table, which the RFC sets out of band: python3-hpack's encoder signals it (3fe101) in front of
# the first block, which the check strips.
C3 = [
    [(':method', 'GET'), (':scheme', 'http'), (':path', '/'), (':authority', 'www.example.com')],
    [(':method', 'GET'), (':scheme', 'http'), (':path', '/'), (':authority', 'www.example.com'), ('cache-control', 'no-cache')],
    [(':method', 'GET'), (':scheme', 'https'), (':path', '/index.html'), (':authority', 'www.example.com'), ('custom-key', 'custom-value')],
]
C5 = [
    [(':status', '302'), ('cache-control', 'private'), ('date', 'Mon, 21 Oct 2013 20:13:21 GMT'), ('location', 'https://www.example.com')],
    [(':status', '307'), ('cache-control', 'private'), ('date', 'Mon, 21 Oct 2013 20:13:21 GMT'), ('location', 'https://www.example.com')],
    [(':status', '200'), ('cache-control', 'private'), ('date', 'Mon, 21 Oct 2013 20:13:22 GMT'), ('location', 'https://www.example.com'),
     ('content-encoding', 'gzip'), ('set-cookie', 'foo=ASDJKHQKBZXOQWEOPIUAXQWEOIU; max-age=3600; version=1')],
]
RFC = {
    'C.2.1': ['400a637573746f6d2d6b65790d637573746f6d2d686561646572'],
    'C.2.2': ['040c2f73616d706c652f70617468'],
    'C.2.3': ['100870617373776f726406736563726574'],
    'C.2.4': ['82'],
    'C.3': ['828684410f7777772e6578616d706c652e636f6d', '828684be58086e6f2d6361636865',
            '828785bf400a637573746f6d2d6b65790c637573746f6d2d76616c7565'],
    'C.4': ['828684418cf1e3c2e5f23a6ba0ab90f4ff', '828684be5886a8eb10649cbf',
            '828785bf408825a849e95ba97d7f8925a849e95bb8e8b4bf'],
    'C.5': ['4803333032580770726976617465611d4d6f6e2c203231204f637420323031332032303a31333a323120474d54'
            '6e1768747470733a2f2f7777772e6578616d706c652e636f6d',
            '4803333037c1c0bf',
            '88c1611d4d6f6e2c203231204f637420323031332032303a31333a323220474d54c05a04677a6970773866'
            '6f6f3d4153444a4b48514b425a584f5157454f50495541585157454f49553b206d61782d6167653d33363030'
            '3b2076657273696f6e3d31'],
    'C.6': ['488264025885aec3771a4b6196d07abe941054d444a8200595040b8166e082a62d1bff6e919d29ad171863c7'
            '8f0b97c8e9ae82ae43d3',
            '4883640effc1c0bf',
            '88c16196d07abe941054d444a8200595040b8166e084a62d1bffc05a839bd9ab77ad94e7821dd7f2e6c7b335'
            'dfdfcd5b3960d5af27087f3672c1ab270fb5291f9587316065c003ed4ee5b1063d5007'],
}
RFC_FIELDS = {
    'C.2.1': [[('custom-key', 'custom-header')]],
    'C.2.2': [[(':path', '/sample/path')]],
    'C.2.3': [[('password', 'secret')]],
    'C.2.4': [[(':method', 'GET')]],
    'C.3': C3, 'C.4': C3, 'C.5': C5, 'C.6': C5,
}


def check_rfc():
    """Each RFC block decodes (python3-hpack) to its list; each python3-hpack encodes, it matches."""
    for section, blocks in RFC.items():
        dec = hpack.Decoder()
        if section in ('C.5', 'C.6'):
            dec.header_table_size = 256
        for hexed, fields in zip(blocks, RFC_FIELDS[section]):
            assert dec.decode(bytes.fromhex(hexed), raw=True) == as_bytes(fields), section
    enc = hpack.Encoder()
    assert enc.encode([('custom-key', 'custom-header')], huffman=False).hex() == RFC['C.2.1'][0]
    enc = hpack.Encoder()
    assert enc.encode([('password', 'secret', True)], huffman=False).hex() == RFC['C.2.3'][0]
    # C.2.2 is a literal without indexing, which python3-hpack never emits: checked by decoding only.
    for section, huffman, size in (('C.3', False, None), ('C.4', True, None), ('C.5', False, 256), ('C.6', True, 256)):
        enc = hpack.Encoder()
        prefix = ''
        if size is not None:
            enc.header_table_size = size
            prefix = '3fe101'
        for i, (hexed, fields) in enumerate(zip(RFC[section], RFC_FIELDS[section])):
            assert enc.encode(fields, huffman=huffman).hex() == (prefix if i == 0 else '') + hexed, section


def random_blocks():
    """Blocks from one encoder, as a server's would come: repeats hit the dynamic table, long
    values evict it or do not fit at all, some fields are never-indexed, and the table is resized
    (shrunk to 0, to 256, grown back, twice in one block) along the way."""
    rnd = random.Random(7541)
    token = 'abcdefghijklmnopqrstuvwxyz0123456789-_'

    def word(lo, hi):
        return ''.join(rnd.choice(token) for _ in range(rnd.randint(lo, hi)))

    def value():
        kind = rnd.random()
        if kind < 0.15:  # long: length integers past the 7-bit prefix, entries that evict a lot
            return ''.join(rnd.choice(token + ' /.:=;') for _ in range(rnd.randint(128, 400)))
        if kind < 0.3:  # any byte, for the Huffman codes nobody sends in text
            return bytes(rnd.randrange(256) for _ in range(rnd.randint(0, 24))).decode('latin1')
        return word(0, 30)

    common = [('content-type', 'application/octet-stream'), ('server', 'holdfast-test'),
              ('x-request-id', word(16, 16)), ('cache-control', 'no-store'), ('vary', 'accept-encoding')]
    names = [word(3, 12) for _ in range(10)]
    static_names = [':status', 'content-length', 'date', 'etag', 'set-cookie', 'location', 'content-range']
    resizes = {8: [0], 9: [4096], 15: [256], 16: [1024, 4096], 24: [2048]}
    enc = hpack.Encoder()
    dec = hpack.Decoder()
    out = []
    for i in range(30):
        for size in resizes.get(i, []):
            enc.header_table_size = size
        fields = []
        for _ in range(rnd.randint(2, 12)):
            kind = rnd.random()
            if kind < 0.35:
                fields.append(rnd.choice(common))
            elif kind < 0.6:
                fields.append((rnd.choice(static_names), value()))
            elif kind < 0.9:
                fields.append((rnd.choice(names), value()))
            else:
                fields.append((word(1, 20), value(), True))
        block = enc.encode([(n.encode('latin1'), v.encode('latin1'), *rest) for n, v, *rest in fields], huffman=True)
        assert dec.decode(block, raw=True) == as_bytes(fields)
        out.append((block.hex(), [(n, v) for n, v, *_ in fields]))
    return out


def print_vectors():
    check_rfc()
    print('// Generated by `/usr/bin/python3 scripts/gen-hpack-huffman.py --vectors` (python3-hpack %s).' % hpack.__version__)
    print('const RFC_VECTORS: Readonly<Record<string, readonly { readonly hex: string; readonly fields: readonly (readonly [string, string])[] }[]>> = {')
    for section, blocks in RFC.items():
        print('  %s: [' % json.dumps(section))
        for hexed, fields in zip(blocks, RFC_FIELDS[section]):
            print('    { hex: %s, fields: %s },' % (json.dumps(hexed), ts_fields(as_bytes(fields))))
        print('  ],')
    print('};')
    print('const PYTHON_BLOCKS: readonly { readonly hex: string; readonly fields: readonly (readonly [string, string])[] }[] = [')
    for hexed, fields in random_blocks():
        print('  { hex: %s, fields: %s },' % (json.dumps(hexed), ts_fields(as_bytes(fields))))
    print('];')


if len(sys.argv) > 1:
    if sys.argv[1:] != ['--vectors']:
        sys.exit('usage: gen-hpack-huffman.py [--vectors]')
    print_vectors()
    sys.exit(0)

print('''/**
 * The HPACK Huffman code of RFC 7541 Appendix B: for each symbol 0..255 and EOS (256), its code
 * (right-aligned in the number) and its length in bits. Generated, do not edit: the values come
 * from python3-hpack's `hpack.huffman_constants` (a transcription of the RFC), regenerate with
 *
 *   /usr/bin/python3 scripts/gen-hpack-huffman.py > src/format/hpack-huffman.ts
 *
 * The decoder in hpack.ts builds its lookup tables from these once at module load.
 */

/** Code of each symbol, right-aligned; index 256 is EOS. */
export const HUFFMAN_CODES: readonly number[] = [''')
print(rows(codes, lambda v: '0x%x' % v, 8))
print('''];

/** Length in bits of each symbol's code (5..30); index 256 is EOS. */
export const HUFFMAN_CODE_LENGTHS: readonly number[] = [''')
print(rows(lengths, str, 16))
print('];')
