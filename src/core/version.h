/* version.h - the version of this program, reported by `qianlima version`,
 * /healthz and /metrics. */
#ifndef QL_CORE_VERSION_H
#define QL_CORE_VERSION_H

#define QL_VERSION "0.1.0"

#endif
