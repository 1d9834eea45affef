#ifndef FERRY_CCURL_SHIM_H
#define FERRY_CCURL_SHIM_H
// curl_easy_setopt and curl_easy_getinfo are variadic, which Swift cannot
// call; these typed wrappers give each argument kind its own entry point.
#include <curl/curl.h>

typedef size_t (*ferry_curl_write_cb)(char *ptr, size_t size, size_t nmemb, void *userdata);

static inline CURLcode ferry_curl_setopt_long(CURL *h, CURLoption o, long v) { return curl_easy_setopt(h, o, v); }
static inline CURLcode ferry_curl_setopt_string(CURL *h, CURLoption o, const char *v) { return curl_easy_setopt(h, o, v); }
static inline CURLcode ferry_curl_setopt_pointer(CURL *h, CURLoption o, void *v) { return curl_easy_setopt(h, o, v); }
static inline CURLcode ferry_curl_setopt_slist(CURL *h, CURLoption o, struct curl_slist *v) { return curl_easy_setopt(h, o, v); }
static inline CURLcode ferry_curl_setopt_off(CURL *h, CURLoption o, curl_off_t v) { return curl_easy_setopt(h, o, v); }
static inline CURLcode ferry_curl_setopt_write(CURL *h, CURLoption o, ferry_curl_write_cb v) { return curl_easy_setopt(h, o, v); }
typedef int (*ferry_curl_prereq_cb)(void *clientp, char *primary_ip, char *local_ip, int primary_port, int local_port);
typedef int (*ferry_curl_xferinfo_cb)(void *clientp, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal, curl_off_t ulnow);
static inline CURLcode ferry_curl_setopt_prereq(CURL *h, ferry_curl_prereq_cb v) { return curl_easy_setopt(h, CURLOPT_PREREQFUNCTION, v); }
static inline CURLcode ferry_curl_setopt_prereq_data(CURL *h, void *v) { return curl_easy_setopt(h, CURLOPT_PREREQDATA, v); }
static inline CURLcode ferry_curl_setopt_xferinfo(CURL *h, ferry_curl_xferinfo_cb v) { return curl_easy_setopt(h, CURLOPT_XFERINFOFUNCTION, v); }
static inline CURLcode ferry_curl_setopt_xferinfo_data(CURL *h, void *v) { return curl_easy_setopt(h, CURLOPT_XFERINFODATA, v); }
static inline CURLcode ferry_curl_getinfo_long(CURL *h, CURLINFO i, long *v) { return curl_easy_getinfo(h, i, v); }

// Option values that Swift imports awkwardly (enum members of an anonymous enum).
static const CURLoption FERRY_CURLOPT_URL = CURLOPT_URL;
#endif
