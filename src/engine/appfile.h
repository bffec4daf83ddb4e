/* appfile.h: the app file, what an app is on the share: a versioned container of blocks,
 * each compressed with zstd and checksummed, so an app opens without re-running its script
 * and a damaged file is noticed before anything is used.
 *
 *   "FATHOMAPP" NUL, u16 format version, u16 reserved, u32 block count    (16 bytes)
 *   per block: u32 kind, u32 flags (0), u64 raw length, u64 stored length,
 *              u32 header checksum (FNV-1a of the 24 bytes before it)       (28 bytes)
 *              stored bytes: one zstd frame with its content checksum
 *
 * Numbers are little endian. Block kinds: APPFILE_PROPS (the app's properties as JSON:
 * title, variables, objects), APPFILE_SCRIPT (the load script, UTF-8) and APPFILE_TABLE
 * (one table of the data model in QVD layout, engine/qvd.h). Blocks of unknown kind are
 * checked like the others and then passed over, so later versions can add kinds.
 *
 * Threads: plain values; no shared state. */
#ifndef FATHOM_APPFILE_H
#define FATHOM_APPFILE_H

#include "core/core.h"

#define APPFILE_VERSION 1

enum appfile_kind {
	APPFILE_PROPS = 1,
	APPFILE_SCRIPT = 2,
	APPFILE_TABLE = 3,
};

struct appfile_block {
	enum appfile_kind kind;
	char *data; /* raw (decompressed) bytes, NUL-terminated for convenience */
	size_t len;
};

struct appfile {
	int n_blocks;
	struct appfile_block *blocks;
};

/* Builds a file from blocks (their data is read, not kept); `level` is the zstd level
 * (0: the default). The bytes are appended to `out`. */
NODISCARD int appfile_write(const struct appfile_block *blocks, int n, int level, struct buf *out,
			    struct err *e);

/* Reads and checks a whole file: ERR_INVALID naming the problem (not an app file, a newer
 * format version, a damaged block) for anything else. Caller frees with appfile_free. */
NODISCARD int appfile_read(const void *data, size_t len, struct appfile **out, struct err *e);
void appfile_free(struct appfile *a);
/* appfile_read of the file at `path`. */
NODISCARD int appfile_read_file(const char *path, struct appfile **out, struct err *e);

/* The first block of `kind`, or NULL. */
const struct appfile_block *appfile_find(const struct appfile *a, enum appfile_kind kind);

/* Checks a file as it streams by (an upload), without keeping it: every header and
 * every block's zstd frame and content checksum. feed gives ERR_INVALID at the first
 * damage, naming it; end gives ERR_INVALID when the file stopped short. */
struct appfile_check;
struct appfile_check *appfile_check_new(void);
NODISCARD int appfile_check_feed(struct appfile_check *c, const void *data, size_t len,
				 struct err *e);
NODISCARD int appfile_check_end(struct appfile_check *c, struct err *e);
void appfile_check_free(struct appfile_check *c);

/* Checks the first bytes of a file for the app file signature and a version this build
 * reads, without the rest (an upload's first chunk). `len` may be short: true means
 * "so far so good". */
bool appfile_looks_valid(const void *data, size_t len, struct err *e);

#endif
