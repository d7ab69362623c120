/*
 * The hot loop of the PBS buzhash chunker (src/client/buzhash-chunker.ts, pbs-format.md §7.2) at
 * native speed. Only the loop over bytes whose leaving byte lies inside the same buffer lives
 * here; window fill, the ring across buffers and the chunk limits stay in TypeScript, so the
 * boundaries are the JS chunker's by construction (a property test compares the two).
 *
 * roll(buf, from, untested, stop, mask, threshold, state) -> number
 *   buf: Uint8Array (may be backed by a SharedArrayBuffer); requires 64 <= from <= untested <= stop
 *        <= buf.length. Bytes [from, untested) are hashed without a break test, bytes
 *        [untested, stop) are hashed and tested with (h & mask) >= threshold. (Untested bytes far
 *        from `untested` are skipped: see the loop.)
 *   state: Int32Array of length >= 1, the rolling hash in and (when no cut) out.
 *   Returns i + 1 for the first tested byte i that breaks, or 0 when none does.
 * Bad arguments throw a TypeError/RangeError; the TypeScript side never passes them.
 *
 * copy(dst, dstOffset, src) -> undefined
 *   memcpy of all of `src` into `dst` at `dstOffset` (Uint8Arrays, either may be backed by a
 *   SharedArrayBuffer; they must not overlap). V8 copies to or from shared memory at an address
 *   that is not 8-byte aligned with a relaxed atomic byte loop, about 3× slower than memmove, and
 *   the client copies every byte it backs up into shared chunk buffers at such offsets
 *   (src/core/byte-copy.ts).
 *
 * execv(path, args) -> number
 *   execv(3): replaces this process (same pid) with `path` run with `args` (strings; args[0] is
 *   the program name), with stdio kept open and blocking. Returns only on failure, with errno.
 *   bin/holdfast.js uses it to restart
 *   `holdfast serve` with a V8 heap flag that Node takes only on its command line.
 *
 * mallopt(param, value) -> number   (glibc only; absent elsewhere)
 *   glibc's mallopt(3), for bin/holdfast.js's malloc settings: this addon loads in well under a
 *   millisecond, where loading koffi to reach libc cost 15–40 ms of every CLI start.
 *
 * willneed(fd, offset, length) -> number
 *   posix_fadvise(fd, offset, length, POSIX_FADV_WILLNEED): the kernel starts reading that range
 *   into the page cache and returns. The pxar walker names the files it will read next, so their
 *   first bytes are on the way from the disk while the current file is chunked (a cold first
 *   backup otherwise waits for the disk at the start of every file; src/client/read-hint.ts).
 *   Returns 0 or the error number; offset and length are byte counts below 2^53.
 *
 * xattr(op, path, name, buf, flags) (op 0: llistxattr(path, buf), 1: lgetxattr(path, name, buf),
 * 2: lsetxattr(path, name, buf, flags)) / mknod(path, mode, dev: bigint) /
 * setmtime(path, secs: bigint, nanos) -> number
 *   The libc calls pxar create and extract need and node:fs lacks (src/client/pxar-native.ts),
 *   none following a final symlink. Paths and names are NUL-terminated Uint8Arrays (byte
 *   strings: non-UTF-8 names pass through); `buf` is a Uint8Array or null (a size query). Each
 *   returns what the call returns (a size, or 0) or -errno. setmtime is utimensat(2) with the
 *   atime left alone (UTIME_OMIT). They were koffi calls; loading koffi cost 15–40 ms of every
 *   backup and restore start.
 *
 * writefile(path, data, uid, gid, mode, secs: bigint, nanos) -> Promise<number>
 *   Restores one small regular file in one thread-pool task (src/client/small-file-writer.ts): creates
 *   `path` (O_CREAT | O_EXCL | O_NOFOLLOW, mode 0600), writes `data` leaving whole zero 4 KiB
 *   blocks as holes (the file's size set with ftruncate when it ends in one), fchown(uid, gid)
 *   unless uid < 0 (EPERM is not a failure: bit 0 of the answer says the owner was not set),
 *   fchmod(mode & 07777), futimens with the atime left alone, close. The five or six round trips
 *   through node's thread pool this replaces cost ~75 µs of main-thread CPU per file. Resolves
 *   0 or 1 on success, else -(step << 16 | errno) with step 1 open, 2 write, 3 chown, 4 chmod,
 *   5 setmtime, 6 close, 7 truncate; after a failure past step 1 the file exists (the caller
 *   removes it). `data` must not change until the promise settles.
 *
 * readfile(path, dest) -> Promise<number>
 *   Reads a small regular file whole in one thread-pool task (src/client/pxar-prefetch.ts):
 *   open (O_RDONLY | O_NOFOLLOW), read into `dest` until it is full or the file ends, close: the
 *   three or more round trips through node's thread pool this replaces set the pace of a backup
 *   of small files. Resolves the number of bytes read, else -(step << 16 | errno) with step
 *   1 open, 2 read, 3 close. `dest` must not be used until the promise settles.
 *
 * readfilenow(path, dest) -> number
 *   The same read done at once on the calling thread, but only from the page cache: open
 *   (O_RDONLY | O_NOFOLLOW | O_NONBLOCK), fstat, preadv2(RWF_NOWAIT) until `dest` is full or the
 *   file ends, close. Answers the number of bytes read, -(step << 16 | errno) as readfile does
 *   (step 1 open, 2 read, 3 close), or NOT_CACHED, -(4 << 16 | EAGAIN), when the read would have
 *   waited for the disk (or the filesystem cannot tell), or the path is no longer a regular file:
 *   the caller then reads through readfile. It never blocks on a device or a FIFO. A cached small
 *   file read this way costs ~4 µs of CPU; through the thread pool, a wake-up, a task and a
 *   promise per file cost ~30 µs on a busy 2-core machine (src/client/pxar-prefetch.ts).
 *
 * misalign(bytes, alignment) -> number
 *   The address of the Uint8Array's first byte modulo `alignment` (a power of two): where an
 *   aligned buffer starts inside a larger ArrayBuffer, for O_DIRECT (src/core/aligned-pool.ts).
 *   V8 never moves an ArrayBuffer's memory, so the answer stays true.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* preadv2, RWF_NOWAIT */
#endif
#include <node_api.h>
#include <stddef.h>
#include <stdint.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <time.h>
#ifdef __GLIBC__
#include <malloc.h>
#endif

#define WINDOW 64

/* casync's buzhash_table, the same 256 values PBS uses. */
static const uint32_t TABLE[256] = {
  0x458be752, 0xc10748cc, 0xfbbcdbb8, 0x6ded5b68, 0xb10a82b5, 0x20d75648, 0xdfc5665f, 0xa8428801,
  0x7ebf5191, 0x841135c7, 0x65cc53b3, 0x280a597c, 0x16f60255, 0xc78cbc3e, 0x294415f5, 0xb938d494,
  0xec85c4e6, 0xb7d33edc, 0xe549b544, 0xfdeda5aa, 0x882bf287, 0x3116737c, 0x05569956, 0xe8cc1f68,
  0x0806ac5e, 0x22a14443, 0x15297e10, 0x50d090e7, 0x4ba60f6f, 0xefd9f1a7, 0x5c5c885c, 0x82482f93,
  0x9bfd7c64, 0x0b3e7276, 0xf2688e77, 0x8fad8abc, 0xb0509568, 0xf1ada29f, 0xa53efdfe, 0xcb2b1d00,
  0xf2a9e986, 0x6463432b, 0x95094051, 0x5a223ad2, 0x9be8401b, 0x61e579cb, 0x1a556a14, 0x5840fdc2,
  0x9261ddf6, 0xcde002bb, 0x52432bb0, 0xbf17373e, 0x7b7c222f, 0x2955ed16, 0x9f10ca59, 0xe840c4c9,
  0xccabd806, 0x14543f34, 0x1462417a, 0x0d4a1f9c, 0x087ed925, 0xd7f8f24c, 0x7338c425, 0xcf86c8f5,
  0xb19165cd, 0x9891c393, 0x325384ac, 0x0308459d, 0x86141d7e, 0xc922116a, 0xe2ffa6b6, 0x53f52aed,
  0x2cd86197, 0xf5b9f498, 0xbf319c8f, 0xe0411fae, 0x977eb18c, 0xd8770976, 0x9833466a, 0xc674df7f,
  0x8c297d45, 0x8ca48d26, 0xc49ed8e2, 0x7344f874, 0x556f79c7, 0x6b25eaed, 0xa03e2b42, 0xf68f66a4,
  0x8e8b09a2, 0xf2e0e62a, 0x0d3a9806, 0x9729e493, 0x8c72b0fc, 0x160b94f6, 0x450e4d3d, 0x7a320e85,
  0xbef8f0e1, 0x21d73653, 0x4e3d977a, 0x1e7b3929, 0x1cc6c719, 0xbe478d53, 0x8d752809, 0xe6d8c2c6,
  0x275f0892, 0xc8acc273, 0x4cc21580, 0xecc4a617, 0xf5f7be70, 0xe795248a, 0x375a2fe9, 0x425570b6,
  0x8898dcf8, 0xdc2d97c4, 0x0106114b, 0x364dc22f, 0x1e0cad1f, 0xbe63803c, 0x5f69fac2, 0x4d5afa6f,
  0x1bc0dfb5, 0xfb273589, 0x0ea47f7b, 0x3c1c2b50, 0x21b2a932, 0x6b1223fd, 0x2fe706a8, 0xf9bd6ce2,
  0xa268e64e, 0xe987f486, 0x3eacf563, 0x1ca2018c, 0x65e18228, 0x2207360a, 0x57cf1715, 0x34c37d2b,
  0x1f8f3cde, 0x93b657cf, 0x31a019fd, 0xe69eb729, 0x8bca7b9b, 0x4c9d5bed, 0x277ebeaf, 0xe0d8f8ae,
  0xd150821c, 0x31381871, 0xafc3f1b0, 0x927db328, 0xe95effac, 0x305a47bd, 0x426ba35b, 0x1233af3f,
  0x686a5b83, 0x50e072e5, 0xd9d3bb2a, 0x8befc475, 0x487f0de6, 0xc88dff89, 0xbd664d5e, 0x971b5d18,
  0x63b14847, 0xd7d3c1ce, 0x7f583cf3, 0x72cbcb09, 0xc0d0a81c, 0x7fa3429b, 0xe9158a1b, 0x225ea19a,
  0xd8ca9ea3, 0xc763b282, 0xbb0c6341, 0x020b8293, 0xd4cd299d, 0x58cfa7f8, 0x91b4ee53, 0x37e4d140,
  0x95ec764c, 0x30f76b06, 0x5ee68d24, 0x679c8661, 0xa41979c2, 0xf2b61284, 0x4fac1475, 0x0adb49f9,
  0x19727a23, 0x15a7e374, 0xc43a18d5, 0x3fb1aa73, 0x342fc615, 0x924c0793, 0xbee2d7f0, 0x8a279de9,
  0x4aa2d70c, 0xe24dd37f, 0xbe862c0b, 0x177c22c2, 0x5388e5ee, 0xcd8a7510, 0xf901b4fd, 0xdbc13dbc,
  0x6c0bae5b, 0x64efe8c7, 0x48b02079, 0x80331a49, 0xca3d8ae6, 0xf3546190, 0xfed7108b, 0xc49b941b,
  0x32baf4a9, 0xeb833a4a, 0x88a3f1a5, 0x3a91ce0a, 0x3cc27da1, 0x7112e684, 0x4a3096b1, 0x3794574c,
  0xa3c8b6f3, 0x1d213941, 0x6e0a2e00, 0x233479f1, 0x0f4cd82f, 0x6093edd2, 0x5d7d209e, 0x464fe319,
  0xd4dcac9e, 0x0db845cb, 0xfb5e4bc3, 0xe0256ce1, 0x09fb4ed1, 0x0914be1e, 0xa5bdb2c3, 0xc6eb57bb,
  0x30320350, 0x3f397e91, 0xa67791bc, 0x86bc0e2c, 0xefa0a7e2, 0xe9ff7543, 0xe733612c, 0xd185897b,
  0x329e5388, 0x91dd236b, 0x2ecb0d93, 0xf4d82a3d, 0x35b5c03f, 0xe4e606f0, 0x05b21843, 0x37b45964,
  0x5eff22f4, 0x6027f4cc, 0x77178b3c, 0xae507131, 0x7bf7cabc, 0xf9c18d66, 0x593ade65, 0xd95ddf11,
};

static inline uint32_t rotl1(uint32_t h) { return (h << 1) | (h >> 31); }

static int get_u32(napi_env env, napi_value v, uint32_t *out) {
  return napi_get_value_uint32(env, v, out) == napi_ok;
}

/* The call's first `want` arguments into argv; false (with a TypeError thrown) when fewer came. */
static int get_args(napi_env env, napi_callback_info info, size_t want, napi_value *argv, const char *message) {
  size_t argc = want;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) == napi_ok && argc >= want) return 1;
  napi_throw_type_error(env, NULL, message);
  return 0;
}

/* A typed array of the `want` type: its element count and data. */
static int get_typed(napi_env env, napi_value v, napi_typedarray_type want, size_t *n, void **data) {
  napi_typedarray_type t;
  return napi_get_typedarray_info(env, v, &t, n, data, NULL, NULL) == napi_ok && t == want;
}

static napi_value roll(napi_env env, napi_callback_info info) {
  napi_value argv[7];
  if (!get_args(env, info, 7, argv, "roll: 7 arguments expected")) return NULL;
  size_t n, sn;
  void *data, *sdata;
  if (!get_typed(env, argv[0], napi_uint8_array, &n, &data) || !get_typed(env, argv[6], napi_int32_array, &sn, &sdata) || sn < 1) {
    napi_throw_type_error(env, NULL, "roll: (Uint8Array, ..., Int32Array) expected");
    return NULL;
  }
  uint32_t from, untested, stop, mask, threshold;
  if (!get_u32(env, argv[1], &from) || !get_u32(env, argv[2], &untested) || !get_u32(env, argv[3], &stop) ||
      !get_u32(env, argv[4], &mask) || !get_u32(env, argv[5], &threshold)) {
    napi_throw_type_error(env, NULL, "roll: numbers expected");
    return NULL;
  }
  if (from < WINDOW || from > untested || untested > stop || stop > n) {
    napi_throw_range_error(env, NULL, "roll: offsets out of range");
    return NULL;
  }
  const uint8_t *buf = (const uint8_t *)data;
  int32_t *state = (int32_t *)sdata;
  uint32_t h = (uint32_t)state[0];
  size_t i = from;
  uint32_t cut = 0;
  if (untested - i > WINDOW) {
    /* The hash is a function of the last 64 bytes alone (a rotation by 64 is the identity on 32
     * bits), so untested bytes need not be rolled: hash the 64 before `untested` afresh. */
    h = 0;
    for (i = untested - WINDOW; i < untested; i++) h = rotl1(h) ^ TABLE[buf[i]];
  }
  for (; i < untested; i++) h = rotl1(h) ^ TABLE[buf[i - WINDOW]] ^ TABLE[buf[i]];
  for (; i < stop; i++) {
    h = rotl1(h) ^ TABLE[buf[i - WINDOW]] ^ TABLE[buf[i]];
    if ((h & mask) >= threshold) {
      cut = (uint32_t)(i + 1);
      break;
    }
  }
  state[0] = (int32_t)h;
  napi_value result;
  napi_create_uint32(env, cut, &result);
  return result;
}

static napi_value copy_bytes(napi_env env, napi_callback_info info) {
  napi_value argv[3];
  if (!get_args(env, info, 3, argv, "copy: 3 arguments expected")) return NULL;
  size_t dn, sn;
  void *dst, *src;
  uint32_t at;
  if (!get_typed(env, argv[0], napi_uint8_array, &dn, &dst) || !get_typed(env, argv[2], napi_uint8_array, &sn, &src) || !get_u32(env, argv[1], &at)) {
    napi_throw_type_error(env, NULL, "copy: (Uint8Array, number, Uint8Array) expected");
    return NULL;
  }
  if (at > dn || sn > dn - at) {
    napi_throw_range_error(env, NULL, "copy: source does not fit");
    return NULL;
  }
  if (sn > 0) memcpy((uint8_t *)dst + at, src, sn);
  return NULL;
}

/* A JS string as a new NUL-terminated C string (NULL on failure). */
static char *c_string(napi_env env, napi_value v) {
  size_t len;
  if (napi_get_value_string_utf8(env, v, NULL, 0, &len) != napi_ok) return NULL;
  char *out = malloc(len + 1);
  if (out == NULL || napi_get_value_string_utf8(env, v, out, len + 1, &len) != napi_ok) {
    free(out);
    return NULL;
  }
  return out;
}

static napi_value exec_v(napi_env env, napi_callback_info info) {
  napi_value argv[2];
  uint32_t n;
  bool is_array;
  if (!get_args(env, info, 2, argv, "execv: (string, string[]) expected")) return NULL;
  if (napi_is_array(env, argv[1], &is_array) != napi_ok || !is_array || napi_get_array_length(env, argv[1], &n) != napi_ok) {
    napi_throw_type_error(env, NULL, "execv: (string, string[]) expected");
    return NULL;
  }
  int err = EINVAL;
  char *path = c_string(env, argv[0]);
  char **args = calloc((size_t)n + 1, sizeof(char *));
  uint32_t made = 0;
  if (path != NULL && args != NULL) {
    for (; made < n; made++) {
      napi_value item;
      if (napi_get_element(env, argv[1], made, &item) != napi_ok || (args[made] = c_string(env, item)) == NULL) break;
    }
    if (made == n) {
      /* Node may have marked stdio close-on-exec (the new Node would then find them closed and
       * put /dev/null in their place) and non-blocking (a flag of the open file, which survives
       * exec): hand them over as a process normally gets them. */
      for (int fd = 0; fd <= 2; fd++) {
        int fdflags = fcntl(fd, F_GETFD);
        if (fdflags != -1 && (fdflags & FD_CLOEXEC)) fcntl(fd, F_SETFD, fdflags & ~FD_CLOEXEC);
        int flags = fcntl(fd, F_GETFL);
        if (flags != -1 && (flags & O_NONBLOCK)) fcntl(fd, F_SETFL, flags & ~O_NONBLOCK);
      }
      execv(path, args);
      err = errno;
    }
  }
  for (uint32_t i = 0; i < made; i++) free(args[i]);
  free(args);
  free(path);
  napi_value result;
  napi_create_int32(env, err, &result);
  return result;
}

static napi_value will_need(napi_env env, napi_callback_info info) {
  napi_value argv[3];
  if (!get_args(env, info, 3, argv, "willneed: (fd, offset, length) expected")) return NULL;
  int32_t fd;
  int64_t offset, length;
  if (napi_get_value_int32(env, argv[0], &fd) != napi_ok || napi_get_value_int64(env, argv[1], &offset) != napi_ok ||
      napi_get_value_int64(env, argv[2], &length) != napi_ok || offset < 0 || length < 0) {
    napi_throw_type_error(env, NULL, "willneed: (fd, offset, length) expected, none negative");
    return NULL;
  }
  /* The kernel reads at most max(read_ahead_kb, max_sectors_kb) per call (force_page_cache_ra):
   * 1.25 MiB on a loop device, 128 KiB on some disks. Steps of 128 KiB get the whole range. */
  const int64_t step = 128 * 1024;
  int rc = 0;
  for (int64_t at = offset; rc == 0 && at < offset + length; at += step) {
    int64_t n = offset + length - at < step ? offset + length - at : step;
    rc = posix_fadvise(fd, (off_t)at, (off_t)n, POSIX_FADV_WILLNEED);
  }
  napi_value result;
  napi_create_int32(env, rc, &result);
  return result;
}


/* A NUL-terminated byte string passed as a Uint8Array (a path or an xattr name). */
static const char *get_cstr(napi_env env, napi_value v) {
  size_t n;
  void *data;
  if (!get_typed(env, v, napi_uint8_array, &n, &data) || n == 0 || ((const char *)data)[n - 1] != 0) return NULL;
  return (const char *)data;
}

/* A Uint8Array, or null/undefined for none (data NULL, size 0). */
static int get_opt_bytes(napi_env env, napi_value v, void **data, size_t *n) {
  napi_valuetype t;
  if (napi_typeof(env, v, &t) != napi_ok) return 0;
  if (t == napi_null || t == napi_undefined) {
    *data = NULL;
    *n = 0;
    return 1;
  }
  return get_typed(env, v, napi_uint8_array, n, data);
}

static napi_value result_of(napi_env env, int64_t rc) {
  napi_value result;
  napi_create_int64(env, rc < 0 ? -(int64_t)errno : rc, &result);
  return result;
}

/* xattr(op, path, name, buf, flags): op 0 llistxattr(path, buf), 1 lgetxattr(path, name, buf),
 * 2 lsetxattr(path, name, buf, flags); name is null for op 0, buf may be null for 0 and 1. */
static napi_value x_attr(napi_env env, napi_callback_info info) {
  napi_value argv[5];
  if (!get_args(env, info, 5, argv, "xattr: (op, path, name, buf, flags) expected")) return NULL;
  uint32_t op;
  int32_t flags;
  void *buf;
  size_t n;
  const char *path = get_cstr(env, argv[1]);
  const char *name = NULL;
  int ok = get_u32(env, argv[0], &op) && op <= 2 && path != NULL && get_opt_bytes(env, argv[3], &buf, &n) && napi_get_value_int32(env, argv[4], &flags) == napi_ok;
  if (ok && op > 0) ok = (name = get_cstr(env, argv[2])) != NULL;
  if (ok && op == 2) ok = get_typed(env, argv[3], napi_uint8_array, &n, &buf); /* a value, maybe empty (data NULL) */
  if (!ok) {
    napi_throw_type_error(env, NULL, "xattr: (0|1|2, NUL-terminated Uint8Array, NUL-terminated Uint8Array | null, Uint8Array | null, number) expected");
    return NULL;
  }
  if (op == 0) return result_of(env, llistxattr(path, buf, n));
  if (op == 1) return result_of(env, lgetxattr(path, name, buf, n));
  return result_of(env, lsetxattr(path, name, buf, n, flags));
}

static napi_value mk_nod(napi_env env, napi_callback_info info) {
  napi_value argv[3];
  if (!get_args(env, info, 3, argv, "mknod: (path, mode, dev) expected")) return NULL;
  const char *path = get_cstr(env, argv[0]);
  uint32_t mode;
  uint64_t dev;
  bool lossless;
  if (path == NULL || !get_u32(env, argv[1], &mode) || napi_get_value_bigint_uint64(env, argv[2], &dev, &lossless) != napi_ok || !lossless) {
    napi_throw_type_error(env, NULL, "mknod: (NUL-terminated Uint8Array, number, bigint) expected");
    return NULL;
  }
  return result_of(env, mknod(path, (mode_t)mode, (dev_t)dev));
}

static napi_value set_mtime(napi_env env, napi_callback_info info) {
  napi_value argv[3];
  if (!get_args(env, info, 3, argv, "setmtime: (path, secs, nanos) expected")) return NULL;
  const char *path = get_cstr(env, argv[0]);
  int64_t secs, nanos;
  bool lossless;
  if (path == NULL || napi_get_value_bigint_int64(env, argv[1], &secs, &lossless) != napi_ok || !lossless || napi_get_value_int64(env, argv[2], &nanos) != napi_ok) {
    napi_throw_type_error(env, NULL, "setmtime: (NUL-terminated Uint8Array, bigint, number) expected");
    return NULL;
  }
  struct timespec times[2] = {{.tv_sec = 0, .tv_nsec = UTIME_OMIT}, {.tv_sec = (time_t)secs, .tv_nsec = (long)nanos}};
  return result_of(env, utimensat(AT_FDCWD, path, times, AT_SYMLINK_NOFOLLOW));
}


static napi_value mis_align(napi_env env, napi_callback_info info) {
  napi_value argv[2];
  if (!get_args(env, info, 2, argv, "misalign: (Uint8Array, alignment) expected")) return NULL;
  size_t n;
  void *data;
  uint32_t alignment;
  if (!get_typed(env, argv[0], napi_uint8_array, &n, &data) || !get_u32(env, argv[1], &alignment) || alignment == 0 || (alignment & (alignment - 1)) != 0) {
    napi_throw_type_error(env, NULL, "misalign: (Uint8Array, power of two) expected");
    return NULL;
  }
  napi_value result;
  napi_create_uint32(env, (uint32_t)((uintptr_t)data & (alignment - 1)), &result);
  return result;
}

#ifdef __GLIBC__
static napi_value set_mallopt(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  int32_t param, value;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < 2 ||
      napi_get_value_int32(env, argv[0], &param) != napi_ok || napi_get_value_int32(env, argv[1], &value) != napi_ok) {
    napi_throw_type_error(env, NULL, "mallopt: (number, number) expected");
    return NULL;
  }
  napi_value result;
  napi_create_int32(env, mallopt(param, value), &result);
  return result;
}
#endif

/*
 * A file call run as one task on node's thread pool, answered through a promise: `execute`
 * fills `result` off the JS thread; the promise resolves with it. Its first two arguments, the
 * path and the buffer the task reads or writes, are referenced until it settles, so they stay
 * alive (V8 never moves an ArrayBuffer's memory).
 */
typedef struct {
  napi_async_work work;
  napi_deferred deferred;
  napi_ref refs[2];
  const char *path;
  uint8_t *bytes;
  size_t len;
  int64_t result;
} async_call_t;

static void async_call_complete(napi_env env, napi_status status, void *arg) {
  async_call_t *c = arg;
  napi_value result;
  napi_create_int64(env, status == napi_ok ? c->result : -((int64_t)1 << 16 | ECANCELED), &result);
  napi_resolve_deferred(env, c->deferred, result);
  napi_delete_reference(env, c->refs[0]);
  napi_delete_reference(env, c->refs[1]);
  napi_delete_async_work(env, c->work);
  free(c);
}

/* Queues `c` (calloc'ed, the async_call_t first in its struct) and returns its promise; NULL after throwing. */
static napi_value async_call_start(napi_env env, async_call_t *c, napi_value a, napi_value b, const char *what, napi_async_execute_callback execute) {
  napi_value promise, name;
  if (napi_create_promise(env, &c->deferred, &promise) != napi_ok
      || napi_create_reference(env, a, 1, &c->refs[0]) != napi_ok
      || napi_create_reference(env, b, 1, &c->refs[1]) != napi_ok
      || napi_create_string_utf8(env, what, NAPI_AUTO_LENGTH, &name) != napi_ok
      || napi_create_async_work(env, NULL, name, execute, async_call_complete, c, &c->work) != napi_ok
      || napi_queue_async_work(env, c->work) != napi_ok) {
    napi_throw_error(env, NULL, "could not start a thread-pool task");
    return NULL; /* c leaks on this path, which only a broken runtime takes */
  }
  return promise;
}

/*
 * Takes `argc` arguments, the first a NUL-terminated path and the second a Uint8Array, into a
 * fresh zeroed struct of `size` bytes that starts with an async_call_t; NULL after throwing
 * `usage`. The caller checks the rest of `argv`, and frees the struct if it refuses them.
 */
static async_call_t *async_call_args(napi_env env, napi_callback_info info, size_t argc, napi_value *argv, size_t size, const char *usage) {
  if (!get_args(env, info, argc, argv, usage)) return NULL;
  async_call_t *c = calloc(1, size);
  if (c == NULL) {
    napi_throw_error(env, NULL, "out of memory");
    return NULL;
  }
  void *bytes;
  c->path = get_cstr(env, argv[0]);
  if (c->path == NULL || !get_typed(env, argv[1], napi_uint8_array, &c->len, &bytes)) {
    free(c);
    napi_throw_type_error(env, NULL, usage);
    return NULL;
  }
  c->bytes = bytes;
  return c;
}

/* writefile: see the header comment. */
typedef struct {
  async_call_t call;
  int64_t uid, gid, secs;
  uint32_t mode, nanos;
} small_file_t;

#define SMALL_FILE_BLOCK 4096

static int block_is_zero(const uint8_t *p, size_t n) {
  for (size_t i = 0; i < n; i++) if (p[i] != 0) return 0;
  return 1;
}

/* pwrite all of [from, to) at its own offset; 0 or an errno. */
static int write_range(int fd, const uint8_t *data, size_t from, size_t to) {
  while (from < to) {
    ssize_t n = pwrite(fd, data + from, to - from, (off_t)from);
    if (n < 0) {
      if (errno == EINTR) continue;
      return errno;
    }
    if (n == 0) return EIO;
    from += (size_t)n;
  }
  return 0;
}

static void small_file_execute(napi_env env, void *arg) {
  (void)env;
  small_file_t *s = arg;
  int fd = open(s->call.path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
  if (fd < 0) {
    s->call.result = -((1 << 16) | errno);
    return;
  }
  int step = 0, err = 0, owner_skipped = 0;
  size_t run = 0, extent = 0; /* start of the pending run of non-zero blocks; end of what was written */
  for (size_t at = 0; at < s->call.len && err == 0; at += SMALL_FILE_BLOCK) {
    size_t end = at + SMALL_FILE_BLOCK < s->call.len ? at + SMALL_FILE_BLOCK : s->call.len;
    if (end - at == SMALL_FILE_BLOCK && block_is_zero(s->call.bytes + at, SMALL_FILE_BLOCK)) {
      if (at > run && (err = write_range(fd, s->call.bytes, run, at)) == 0) extent = at;
      run = end;
    }
  }
  if (err == 0 && s->call.len > run && (err = write_range(fd, s->call.bytes, run, s->call.len)) == 0) extent = s->call.len;
  if (err != 0) step = 2;
  if (step == 0 && extent != s->call.len && ftruncate(fd, (off_t)s->call.len) != 0) step = 7, err = errno;
  if (step == 0 && s->uid >= 0 && fchown(fd, (uid_t)s->uid, (gid_t)s->gid) != 0) {
    if (errno == EPERM) owner_skipped = 1;
    else step = 3, err = errno;
  }
  if (step == 0 && fchmod(fd, (mode_t)(s->mode & 07777)) != 0) step = 4, err = errno;
  if (step == 0) {
    struct timespec times[2] = {{.tv_sec = 0, .tv_nsec = UTIME_OMIT}, {.tv_sec = (time_t)s->secs, .tv_nsec = (long)s->nanos}};
    if (futimens(fd, times) != 0) step = 5, err = errno;
  }
  if (close(fd) != 0 && step == 0) step = 6, err = errno;
  s->call.result = step == 0 ? owner_skipped : -(((int64_t)step << 16) | err);
}

static napi_value write_file(napi_env env, napi_callback_info info) {
  napi_value argv[7];
  const char *usage = "writefile: (NUL-terminated Uint8Array, Uint8Array, number, number, number, bigint, number < 1e9) expected";
  small_file_t *s = (small_file_t *)async_call_args(env, info, 7, argv, sizeof(small_file_t), usage);
  if (s == NULL) return NULL;
  bool lossless;
  int ok = napi_get_value_int64(env, argv[2], &s->uid) == napi_ok && napi_get_value_int64(env, argv[3], &s->gid) == napi_ok
    && get_u32(env, argv[4], &s->mode) && napi_get_value_bigint_int64(env, argv[5], &s->secs, &lossless) == napi_ok && lossless
    && get_u32(env, argv[6], &s->nanos) && s->nanos < 1000000000u;
  if (!ok) {
    free(s);
    napi_throw_type_error(env, NULL, usage);
    return NULL;
  }
  return async_call_start(env, &s->call, argv[0], argv[1], "holdfast:writefile", small_file_execute);
}

/*
 * Reads `fd` from offset 0 into dest[0, len) until it is full or the file ends (`*got` bytes):
 * 0, or the errno of the read that failed. `flags` are preadv2's (RWF_NOWAIT: EAGAIN rather than
 * wait for the disk).
 */
static int read_full(int fd, uint8_t *dest, size_t len, int flags, size_t *got) {
  while (*got < len) {
    struct iovec iov = {dest + *got, len - *got};
    ssize_t n = preadv2(fd, &iov, 1, (off_t)*got, flags);
    if (n < 0) {
      if (errno == EINTR) continue;
      return errno;
    }
    if (n == 0) break;
    *got += (size_t)n;
  }
  return 0;
}

/* readfile: see the header comment. */

static void read_file_execute(napi_env env, void *arg) {
  (void)env;
  async_call_t *r = arg;
  int fd = open(r->path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0) {
    r->result = -((1 << 16) | errno);
    return;
  }
  size_t got = 0;
  int err = read_full(fd, r->bytes, r->len, 0, &got);
  if (close(fd) != 0 && err == 0) {
    r->result = -((3 << 16) | errno);
    return;
  }
  r->result = err != 0 ? -((2 << 16) | err) : (int64_t)got;
}

/* readfilenow: see the header comment. */
#define NOT_CACHED (-((int64_t)4 << 16 | EAGAIN))
static int64_t read_file_now_at(const char *path, uint8_t *dest, size_t len) {
  int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
  if (fd < 0) return -((1 << 16) | errno);
  int64_t result;
  struct stat st;
  if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    result = NOT_CACHED; /* readfile reads it and reports what it finds */
  } else {
    size_t got = 0;
    int err = read_full(fd, dest, len, RWF_NOWAIT, &got);
    /* EAGAIN: a page is not cached; EOPNOTSUPP or ENOSYS: no RWF_NOWAIT here */
    if (err == EAGAIN || err == EOPNOTSUPP || err == ENOSYS) result = NOT_CACHED;
    else result = err != 0 ? -((2 << 16) | err) : (int64_t)got;
  }
  if (close(fd) != 0 && result >= 0) result = -((3 << 16) | errno);
  return result;
}

static napi_value read_file_now(napi_env env, napi_callback_info info) {
  static const char usage[] = "readfilenow: (NUL-terminated Uint8Array, Uint8Array) expected";
  napi_value argv[2], out;
  if (!get_args(env, info, 2, argv, usage)) return NULL;
  size_t pn, n;
  void *p, *dest;
  if (!get_typed(env, argv[0], napi_uint8_array, &pn, &p) || pn == 0 || ((const char *)p)[pn - 1] != 0 || !get_typed(env, argv[1], napi_uint8_array, &n, &dest)) {
    napi_throw_type_error(env, NULL, usage);
    return NULL;
  }
  napi_create_int64(env, read_file_now_at(p, dest, n), &out);
  return out;
}

static napi_value read_file(napi_env env, napi_callback_info info) {
  napi_value argv[2];
  async_call_t *r = async_call_args(env, info, 2, argv, sizeof(async_call_t), "readfile: (NUL-terminated Uint8Array, Uint8Array) expected");
  if (r == NULL) return NULL;
  return async_call_start(env, r, argv[0], argv[1], "holdfast:readfile", read_file_execute);
}

NAPI_MODULE_INIT(/* napi_env env, napi_value exports */) {
  napi_value fn;
  if (napi_create_function(env, "roll", NAPI_AUTO_LENGTH, roll, NULL, &fn) != napi_ok) return NULL;
  if (napi_set_named_property(env, exports, "roll", fn) != napi_ok) return NULL;
  if (napi_create_function(env, "copy", NAPI_AUTO_LENGTH, copy_bytes, NULL, &fn) != napi_ok) return NULL;
  if (napi_set_named_property(env, exports, "copy", fn) != napi_ok) return NULL;
  if (napi_create_function(env, "execv", NAPI_AUTO_LENGTH, exec_v, NULL, &fn) != napi_ok) return NULL;
  if (napi_set_named_property(env, exports, "execv", fn) != napi_ok) return NULL;
  if (napi_create_function(env, "willneed", NAPI_AUTO_LENGTH, will_need, NULL, &fn) != napi_ok) return NULL;
  if (napi_set_named_property(env, exports, "willneed", fn) != napi_ok) return NULL;
  static const struct { const char *name; napi_callback cb; } LIBC[] = {
    {"xattr", x_attr}, {"mknod", mk_nod}, {"setmtime", set_mtime},
    {"misalign", mis_align}, {"writefile", write_file}, {"readfile", read_file}, {"readfilenow", read_file_now},
  };
  for (size_t i = 0; i < sizeof LIBC / sizeof LIBC[0]; i++) {
    if (napi_create_function(env, LIBC[i].name, NAPI_AUTO_LENGTH, LIBC[i].cb, NULL, &fn) != napi_ok) return NULL;
    if (napi_set_named_property(env, exports, LIBC[i].name, fn) != napi_ok) return NULL;
  }
#ifdef __GLIBC__
  if (napi_create_function(env, "mallopt", NAPI_AUTO_LENGTH, set_mallopt, NULL, &fn) != napi_ok) return NULL;
  if (napi_set_named_property(env, exports, "mallopt", fn) != napi_ok) return NULL;
#endif
  return exports;
}
