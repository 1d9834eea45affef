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
#endif
