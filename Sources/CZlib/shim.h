#ifndef FERRY_CZLIB_SHIM_H
#define FERRY_CZLIB_SHIM_H
#include <zlib.h>
// inflateInit2 is a macro over inflateInit2_ (it passes the version and the
// struct size); Swift cannot call macros.
static inline int ferry_inflate_init_gzip(z_stream *s) {
    // 15 window bits + 32: detect zlib or gzip header automatically.
    return inflateInit2(s, 15 + 32);
}
static inline int ferry_deflate_init_gzip(z_stream *s, int level) {
    return deflateInit2(s, level, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY);
}
#endif
