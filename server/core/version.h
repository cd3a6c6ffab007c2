/* server/core/version.h — the release of this source tree. */
#ifndef PLANTAO_VERSION_H
#define PLANTAO_VERSION_H

#define PLANTAO_VERSION "0.1.0"

#endif
