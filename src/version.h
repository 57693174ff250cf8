/*
 * version.h: the one definition of carrier-lock's version (build.sh passes the real one
 * with -DCARRIER_LOCK_VERSION; this default marks a build that did not).
 */
#ifndef CL_VERSION_H
#define CL_VERSION_H

#ifndef CARRIER_LOCK_VERSION
#define CARRIER_LOCK_VERSION "0.1.0"
#endif

#endif
