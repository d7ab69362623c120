# node-gyp build of the native buzhash loop (buzhash.c); scripts/build-native.mjs runs it with the
# local Node headers, so no download happens. The output is native/build/Release/holdfast_buzhash.node.
{
  "targets": [
    {
      "target_name": "holdfast_buzhash",
      "sources": ["buzhash.c"],
      "cflags": ["-O3"],
      "defines": ["NAPI_VERSION=8"]
    }
  ]
}
