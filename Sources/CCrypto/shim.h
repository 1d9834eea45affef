#ifndef FERRY_CCRYPTO_SHIM_H
#define FERRY_CCRYPTO_SHIM_H
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/sha.h>
#include <openssl/md5.h>
#include <openssl/crypto.h>

// One-shot SHA-256 and HMAC-SHA256 with fixed signatures, so Swift need not
// deal with OpenSSL's macros and the EVP_MD lookup on every call.
static inline void ferry_sha256(const void *data, size_t len, unsigned char out[32]) {
    SHA256((const unsigned char *)data, len, out);
}
static inline void ferry_hmac_sha256(const void *key, size_t keylen, const void *data, size_t len, unsigned char out[32]) {
    unsigned int outlen = 32;
    HMAC(EVP_sha256(), key, (int)keylen, (const unsigned char *)data, len, out, &outlen);
}

// Incremental MD5 for export data files: manifest-files.json carries the
// MD5 of each compressed file, and the file is streamed, never held whole.
// EVP keeps working on OpenSSL 3, where the MD5_* functions are deprecated.
static inline EVP_MD_CTX *ferry_md5_new(void) {
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    if (ctx != NULL && EVP_DigestInit_ex(ctx, EVP_md5(), NULL) != 1) {
        EVP_MD_CTX_free(ctx);
        return NULL;
    }
    return ctx;
}
static inline void ferry_md5_update(EVP_MD_CTX *ctx, const void *data, size_t len) {
    EVP_DigestUpdate(ctx, data, len);
}
static inline void ferry_md5_final(EVP_MD_CTX *ctx, unsigned char out[16]) {
    unsigned int outlen = 16;
    EVP_DigestFinal_ex(ctx, out, &outlen);
}
static inline void ferry_md5_free(EVP_MD_CTX *ctx) {
    EVP_MD_CTX_free(ctx);
}
#endif
