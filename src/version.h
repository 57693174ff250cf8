/*
 * version.h: what carrier-lock --version reports. build.sh passes the real values with
 * -D (the version from git describe, the commit, the Debian versions of BearSSL and jsmn
 * it pinned); these defaults mark a build that did not.
 */
#ifndef CL_VERSION_H
#define CL_VERSION_H

#ifndef CARRIER_LOCK_VERSION
#define CARRIER_LOCK_VERSION	"unknown"
#endif
#ifndef CARRIER_LOCK_COMMIT
#define CARRIER_LOCK_COMMIT	"unknown"
#endif
#ifndef CARRIER_LOCK_BEARSSL
#define CARRIER_LOCK_BEARSSL	"unknown"
#endif
#ifndef CARRIER_LOCK_JSMN
#define CARRIER_LOCK_JSMN	"unknown"
#endif

#if defined(__x86_64__)
#define CARRIER_LOCK_ARCH	"amd64"
#elif defined(__aarch64__)
#define CARRIER_LOCK_ARCH	"arm64"
#else
#define CARRIER_LOCK_ARCH	"unknown"
#endif

#endif
