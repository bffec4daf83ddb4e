/* appfile.c: the app file container (see appfile.h for the layout). */
#include "data/data.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>
#include <xxhash.h>
#include <zstd.h>
#include <zstd_errors.h>

#define MAGIC	     "FATHOMAPP"
#define FILE_HEADER  16
#define BLOCK_HEADER 28
#define MAX_BLOCKS   65536
#define MAX_RAW	     (16ULL << 30)  /* one block's decompressed size */
#define MAX_TEXT     (256ULL << 20) /* the properties' JSON, the load script */
#define FLAG_PARTS   1u		    /* a block of several zstd frames (format version 3) */
#define FLAG_RAW     2u		    /* a block stored as it is (format version 4) */
#define RAW_ALIGN    64		    /* a raw block's bytes start at a multiple of this */
#define PART_RAW     (4u << 20)	    /* a split block's raw bytes per frame */
#define THREADS	     2		    /* frames (de)compressed at once */

/* The most a block of `kind` may hold once decompressed: what a reader allocates for it is
 * checked against this before anything is allocated. Tables hold data and may be large;
 * properties and scripts are text a person or the engine wrote. */
static uint64_t kind_max(uint32_t kind)
{
	return kind == APPFILE_PROPS || kind == APPFILE_SCRIPT ? MAX_TEXT : MAX_RAW;
}

static const char *kind_name(uint32_t kind)
{
	switch (kind) {
	case APPFILE_PROPS: return "properties";
	case APPFILE_SCRIPT: return "load script";
	case APPFILE_TABLE: return "table";
	case APPFILE_ACCESS: return "section access table";
	default: return "unknown";
	}
}

/* The error of a block declaring more than its kind may hold. */
static int too_big(uint32_t block, uint32_t kind, uint64_t raw, struct err *e)
{
	err_set(e, ERR_INVALID, "block %u of the app file (%s) claims %llu bytes; it may hold %llu",
		block, kind_name(kind), (unsigned long long)raw,
		(unsigned long long)kind_max(kind));
	return ERR_INVALID;
}

static void put_u16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
}

static void put_u32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static void put_u64(uint8_t *p, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static uint16_t get_u16(const uint8_t *p)
{
	return (uint16_t)(p[0] | p[1] << 8);
}

static uint32_t get_u32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint64_t get_u64(const uint8_t *p)
{
	uint64_t v = 0;
	for (int i = 7; i >= 0; i--)
		v = v << 8 | p[i];
	return v;
}

static uint32_t fnv1a(const uint8_t *p, size_t n)
{
	uint32_t h = 2166136261u;
	for (size_t i = 0; i < n; i++)
		h = (h ^ p[i]) * 16777619u;
	return h;
}

/* The bytes of a file (data.h). */
struct data_map {
	uint8_t *p;
	size_t len;
	bool mapped; /* else read into memory */
	atomic_int refs;
};

/* ---------------------------------------------------------------- frames on threads */

/* One frame of a split block: its source (raw bytes to compress, or the stored frame) and,
 * decompressing, where its contents go. */
struct part {
	const uint8_t *src;
	uint8_t *dst;
	size_t n_src, cap; /* in: the source's size and the destination's room */
	size_t out;	   /* out: bytes written, or a zstd error code */
};

/* The frames of one block, taken in order by THREADS threads. Compressed frames are
 * appended to `to` in order, each by the thread that made it once the one before is in
 * (so no byte of the output is written twice). */
struct parts {
	struct part *p;
	size_t n;
	atomic_size_t next;
	bool compress;
	int level;
	uint8_t *to;
	size_t at, placed; /* compressing: bytes appended to `to`, frames appended */
	pthread_mutex_t mu;
	pthread_cond_t cv;
};

/* Frame i, compressed into `scratch` (r: its size or an error), appended in its turn. */
static void place(struct parts *ps, size_t i, const uint8_t *scratch, size_t r)
{
	pthread_mutex_lock(&ps->mu);
	while (ps->placed != i)
		pthread_cond_wait(&ps->cv, &ps->mu);
	if (!ZSTD_isError(r)) {
		memcpy(ps->to + ps->at, scratch, r);
		ps->at += r;
	}
	ps->p[i].out = r;
	ps->placed++;
	pthread_cond_broadcast(&ps->cv);
	pthread_mutex_unlock(&ps->mu);
}

/* Takes frames until none is left, each thread with its own context and room (without
 * them, the frame's result is an error, as if it had failed). */
static void parts_work(struct parts *ps)
{
	const size_t nomem = (size_t)-ZSTD_error_memory_allocation;
	ZSTD_CCtx *cc = NULL;
	ZSTD_DCtx *dc = NULL;
	uint8_t *scratch = NULL;
	size_t room = ZSTD_compressBound(PART_RAW);
	if (ps->compress && (cc = ZSTD_createCCtx()) != NULL) {
		ZSTD_CCtx_setParameter(cc, ZSTD_c_compressionLevel, ps->level);
		ZSTD_CCtx_setParameter(cc, ZSTD_c_checksumFlag, 1);
		scratch = malloc(room);
	} else if (!ps->compress)
		dc = ZSTD_createDCtx();
	for (size_t i; (i = atomic_fetch_add(&ps->next, 1)) < ps->n;) {
		struct part *p = &ps->p[i];
		if (ps->compress)
			place(ps, i, scratch,
			      cc && scratch ? ZSTD_compress2(cc, scratch, room, p->src, p->n_src)
					    : nomem);
		else
			p->out =
			    dc ? ZSTD_decompressDCtx(dc, p->dst, p->cap, p->src, p->n_src) : nomem;
	}
	free(scratch);
	ZSTD_freeCCtx(cc);
	ZSTD_freeDCtx(dc);
}

static void *parts_thread(void *arg)
{
	parts_work(arg);
	return NULL;
}

/* Every frame of `ps`, on THREADS threads (fewer where none can be started). */
static void parts_run(struct parts *ps)
{
	pthread_t th[THREADS - 1];
	bool started[THREADS - 1] = {false};
	for (int k = 0; k < THREADS - 1 && (size_t)k + 1 < ps->n; k++)
		started[k] = pthread_create(&th[k], NULL, parts_thread, ps) == 0;
	parts_work(ps);
	for (int k = 0; k < THREADS - 1; k++)
		if (started[k])
			pthread_join(th[k], NULL);
}

/* ---------------------------------------------------------------- writing */

/* Whether a block is stored as several frames: tables large enough to be worth
 * decompressing on more than one thread when the app opens. */
static bool split(uint32_t kind, size_t len)
{
	return (kind == APPFILE_TABLE || kind == APPFILE_ACCESS) && len >= 2 * (size_t)PART_RAW;
}

/* Block `b` compressed as frames of PART_RAW raw bytes on THREADS threads, into `at`
 * (room for the sum of their bounds); *z the stored size. */
static int write_parts(const struct appfile_block *b, int level, uint8_t *at, size_t *z,
		       struct err *e)
{
	struct parts ps = {
	    .n = (b->len + PART_RAW - 1) / PART_RAW, .compress = true, .level = level, .to = at};
	ps.p = calloc(ps.n, sizeof(*ps.p));
	if (!ps.p)
		return err_set(e, ERR_NOMEM, "out of memory");
	atomic_init(&ps.next, 0);
	pthread_mutex_init(&ps.mu, NULL);
	pthread_cond_init(&ps.cv, NULL);
	for (size_t i = 0; i < ps.n; i++) {
		size_t from = i * (size_t)PART_RAW;
		ps.p[i] =
		    (struct part){.src = (const uint8_t *)b->data + from,
				  .n_src = b->len - from < PART_RAW ? b->len - from : PART_RAW};
	}
	parts_run(&ps);
	int rc = 0;
	for (size_t i = 0; i < ps.n && rc == 0; i++)
		if (ZSTD_isError(ps.p[i].out))
			rc = ps.p[i].out == (size_t)-ZSTD_error_memory_allocation
				 ? err_set(e, ERR_NOMEM, "out of memory")
				 : err_set(e, ERR_INTERNAL, "zstd: %s",
					   ZSTD_getErrorName(ps.p[i].out));
	*z = ps.at;
	pthread_cond_destroy(&ps.cv);
	pthread_mutex_destroy(&ps.mu);
	free(ps.p);
	return rc;
}

/* The room a block's stored bytes may take. */
static size_t stored_bound(uint32_t kind, size_t len)
{
	if (!split(kind, len))
		return ZSTD_compressBound(len);
	size_t whole = len / PART_RAW, rest = len % PART_RAW;
	return whole * ZSTD_compressBound(PART_RAW) + (rest ? ZSTD_compressBound(rest) : 0);
}

/* The zero bytes after a raw block's checksum, whose stored bytes start at file offset
 * `at`: its raw bytes then start at a multiple of RAW_ALIGN. */
static size_t raw_pad(uint64_t at)
{
	return (size_t)((RAW_ALIGN - (at + 8) % RAW_ALIGN) % RAW_ALIGN);
}

/* A raw block's stored bytes at `to`: its checksum, `pad` zero bytes, its bytes. */
static size_t put_raw(const struct appfile_block *b, size_t pad, uint8_t *to)
{
	put_u64(to, XXH3_64bits(b->data, b->len));
	memset(to + 8, 0, pad);
	memcpy(to + 8 + pad, b->data, b->len);
	return 8 + pad + b->len;
}

void data_out_init(struct data_out *o, int fd)
{
	memset(o, 0, sizeof(*o));
	buf_init(&o->b, 1ULL << 40);
	o->fd = fd;
}

/* The bytes of b from the raw block's start on into its hash. */
static void out_hash(struct data_out *o)
{
	if (!o->hash)
		return;
	uint64_t from = o->hash_from > o->at ? o->hash_from : o->at;
	if (from < o->at + o->b.len)
		XXH3_64bits_update(o->hash, o->b.data + (from - o->at),
				   (size_t)(o->at + o->b.len - from));
}

int data_out_drain(struct data_out *o, struct err *e)
{
	/* (elsewhere than at a multiple of 64 the bytes stay: what follows keeps its
	 * alignment) */
	if (o->fd < 0 || o->b.len == 0 || (o->at + o->b.len) % 64)
		return 0;
	out_hash(o);
	if (file_write_all(o->fd, o->b.data, o->b.len) != 0)
		return err_set(e, ERR_IO, "cannot write the app file: %s", strerror(errno));
	o->at += o->b.len;
	o->b.len = 0;
	return 0;
}

int data_out_finish(struct data_out *o, struct err *e)
{
	if (o->fd < 0 || o->b.len == 0)
		return 0;
	out_hash(o);
	int rc = file_write_all(o->fd, o->b.data, o->b.len) == 0
		     ? 0
		     : err_set(e, ERR_IO, "cannot write the app file: %s", strerror(errno));
	o->at += o->b.len;
	buf_release(&o->b);
	return rc;
}

void data_out_release(struct data_out *o)
{
	buf_release(&o->b);
}

/* A raw block made by its fill (block number `block`), appended to out after its header,
 * checksum and padding, which are written once its bytes are there (into the file, when
 * they were handed on). */
static int put_filled(const struct appfile_block *b, uint32_t block, struct data_out *o,
		      uint64_t file_at, struct err *e)
{
	static const char zeros[BLOCK_HEADER + 8 + RAW_ALIGN];
	uint64_t head = o->at + o->b.len;
	size_t pad = raw_pad(head - file_at + BLOCK_HEADER);
	if (buf_append(&o->b, zeros, BLOCK_HEADER + 8 + pad))
		return err_set(e, ERR_TOO_LARGE, "the app file is too large");
	uint64_t start = o->at + o->b.len;
	XXH3_state_t *xs = XXH3_createState();
	if (!xs || XXH3_64bits_reset(xs) != XXH_OK) {
		XXH3_freeState(xs);
		return err_set(e, ERR_NOMEM, "out of memory");
	}
	o->hash = xs;
	o->hash_from = start;
	int rc = b->fill(b->ctx, o, e);
	uint64_t raw = o->at + o->b.len - start;
	if (rc == 0 && raw > kind_max((uint32_t)b->kind))
		rc = too_big(block, (uint32_t)b->kind, raw, e);
	out_hash(o);
	o->hash = NULL;
	uint64_t sum = XXH3_64bits_digest(xs);
	XXH3_freeState(xs);
	if (rc) {
		if (head >= o->at) /* (written out already: the file is given up) */
			o->b.len = (size_t)(head - o->at);
		return rc;
	}
	uint8_t h[BLOCK_HEADER + 8];
	put_u32(h, (uint32_t)b->kind);
	put_u32(h + 4, FLAG_RAW);
	put_u64(h + 8, raw);
	put_u64(h + 16, 8 + pad + raw);
	put_u32(h + 24, fnv1a(h, 24));
	put_u64(h + BLOCK_HEADER, sum);
	if (head >= o->at)
		memcpy(o->b.data + (head - o->at), h, sizeof(h));
	else if (file_pwrite_all(o->fd, h, sizeof(h), head) != 0)
		return err_set(e, ERR_IO, "cannot write the app file: %s", strerror(errno));
	return 0;
}

int data_appfile_write(const struct appfile_block *blocks, int n, int level, struct buf *out,
		       struct err *e)
{
	struct data_out o = {.b = *out, .fd = -1};
	int rc = data_appfile_write_out(blocks, n, level, &o, e);
	*out = o.b;
	return rc;
}

int data_appfile_write_out(const struct appfile_block *blocks, int n, int level, struct data_out *o,
			   struct err *e)
{
	struct buf *out = &o->b;
	if (n < 0 || n > MAX_BLOCKS)
		return err_set(e, ERR_INVALID, "an app file holds at most %d blocks", MAX_BLOCKS);
	uint8_t fh[FILE_HEADER] = {0};
	memcpy(fh, MAGIC, sizeof(MAGIC)); /* with its NUL: 10 bytes */
	uint16_t version = 1;
	for (int i = 0; i < n; i++) {
		if (blocks[i].kind == APPFILE_ACCESS && version < 2)
			version = 2;
		if (!blocks[i].raw && split((uint32_t)blocks[i].kind, blocks[i].len) && version < 3)
			version = 3;
	}
	for (int i = 0; i < n; i++)
		if (blocks[i].raw || blocks[i].fill)
			version = 4;
	uint64_t file_at = o->at + out->len; /* where the file starts */
	put_u16(fh + 10, version);
	put_u32(fh + 12, (uint32_t)n);
	if (buf_append(out, fh, sizeof(fh)))
		return err_set(e, ERR_TOO_LARGE, "the app file is too large");
	ZSTD_CCtx *cc = ZSTD_createCCtx();
	if (!cc)
		return err_set(e, ERR_NOMEM, "out of memory");
	ZSTD_CCtx_setParameter(cc, ZSTD_c_compressionLevel, level ? level : 3);
	ZSTD_CCtx_setParameter(cc, ZSTD_c_checksumFlag, 1);
	/* a large block of one frame (a script, properties) compresses on two threads where
	 * libzstd has them (ignored elsewhere) */
	ZSTD_CCtx_setParameter(cc, ZSTD_c_nbWorkers, THREADS);
	int rc = 0;
	for (int i = 0; i < n && rc == 0; i++) {
		uint32_t kind = (uint32_t)blocks[i].kind;
		if (blocks[i].fill) {
			rc = put_filled(&blocks[i], (uint32_t)i + 1, o, file_at, e);
			continue;
		}
		if (blocks[i].len > kind_max(kind)) {
			rc = too_big((uint32_t)i + 1, kind, blocks[i].len, e);
			break;
		}
		/* compressed straight into the file's buffer, after room for the header */
		size_t pad = raw_pad(o->at + out->len - file_at + BLOCK_HEADER);
		if (buf_reserve(out, BLOCK_HEADER + (blocks[i].raw
							 ? 8 + pad + blocks[i].len
							 : stored_bound(kind, blocks[i].len)))) {
			rc = err_set(e, ERR_TOO_LARGE, "the app file is too large");
			break;
		}
		uint8_t *at = (uint8_t *)out->data + out->len;
		bool parts = !blocks[i].raw && split(kind, blocks[i].len);
		size_t z = 0;
		if (blocks[i].raw)
			z = put_raw(&blocks[i], pad, at + BLOCK_HEADER);
		else if (parts)
			rc = write_parts(&blocks[i], level ? level : 3, at + BLOCK_HEADER, &z, e);
		else if (ZSTD_isError(z = ZSTD_compress2(cc, at + BLOCK_HEADER,
							 ZSTD_compressBound(blocks[i].len),
							 blocks[i].data, blocks[i].len)))
			rc = err_set(e, ERR_INTERNAL, "zstd: %s", ZSTD_getErrorName(z));
		if (rc)
			break;
		put_u32(at, kind);
		put_u32(at + 4, blocks[i].raw ? FLAG_RAW : parts ? FLAG_PARTS : 0);
		put_u64(at + 8, blocks[i].len);
		put_u64(at + 16, z);
		put_u32(at + 24, fnv1a(at, 24));
		out->len += BLOCK_HEADER + z;
	}
	ZSTD_freeCCtx(cc);
	return rc;
}

bool data_appfile_looks_valid(const void *data, size_t len, struct err *e)
{
	const uint8_t *p = data;
	size_t n = len < sizeof(MAGIC) ? len : sizeof(MAGIC);
	if (memcmp(p, MAGIC, n) != 0) {
		err_set(e, ERR_INVALID, "not a Fathom app file (it does not start with \"%s\")",
			MAGIC);
		return false;
	}
	if (len >= 12 && get_u16(p + 10) > APPFILE_VERSION) {
		err_set(e, ERR_INVALID,
			"the app file has format version %u; this fathom reads up to version %d",
			get_u16(p + 10), APPFILE_VERSION);
		return false;
	}
	if (len >= 12 && get_u16(p + 10) == 0) {
		err_set(e, ERR_INVALID, "the app file has format version 0, which does not exist");
		return false;
	}
	return true;
}

/* Decompresses a frame 64 KiB at a time without keeping it: whether it is whole, matches
 * its checksum and holds exactly `raw` bytes. */
static int check_frame(ZSTD_DCtx *dc, const uint8_t *p, size_t n, uint64_t raw, uint32_t block,
		       struct err *e)
{
	static _Thread_local uint8_t scratch[1 << 16];
	ZSTD_DCtx_reset(dc, ZSTD_reset_session_only);
	ZSTD_inBuffer in = {p, n, 0};
	uint64_t produced = 0;
	size_t r = 1;
	while (r != 0) {
		ZSTD_outBuffer out = {scratch, sizeof(scratch), 0};
		r = ZSTD_decompressStream(dc, &out, &in);
		if (ZSTD_isError(r))
			return err_set(e, ERR_INVALID, "block %u of the app file is damaged (%s)",
				       block, ZSTD_getErrorName(r));
		produced += out.pos;
		if (produced > raw || (r != 0 && in.pos == in.size && out.pos < out.size))
			return err_set(
			    e, ERR_INVALID,
			    "block %u of the app file is damaged (its size does not match)", block);
	}
	return produced == raw && in.pos == in.size
		   ? 0
		   : err_set(e, ERR_INVALID,
			     "block %u of the app file is damaged (its size does not match)",
			     block);
}

/* The frames of a split block (stored bytes `p`, n of them, `raw` once decompressed):
 * each must be whole and say its size, and their sizes add up to raw. With `buf` (room for
 * raw bytes) they are decompressed into it on THREADS threads; without, each is checked
 * 64 KiB at a time with `dc` (a kind this build does not know). */
static int read_parts(ZSTD_DCtx *dc, const uint8_t *p, size_t n, uint64_t raw, char *buf,
		      uint32_t block, struct err *e)
{
	struct parts ps = {0};
	atomic_init(&ps.next, 0);
	size_t cap = 0;
	uint64_t have = 0;
	int rc = 0;
	for (size_t at = 0; at < n && rc == 0;) {
		size_t fs = ZSTD_findFrameCompressedSize(p + at, n - at);
		unsigned long long cs = ZSTD_isError(fs) ? ZSTD_CONTENTSIZE_ERROR
							 : ZSTD_getFrameContentSize(p + at, fs);
		if (cs == ZSTD_CONTENTSIZE_ERROR || cs == ZSTD_CONTENTSIZE_UNKNOWN ||
		    cs > raw - have) {
			rc = err_set(
			    e, ERR_INVALID, "block %u of the app file is damaged (frame %zu: %s)",
			    block, ps.n + 1,
			    ZSTD_isError(fs) ? ZSTD_getErrorName(fs) : "its size does not match");
			break;
		}
		if (ps.n == cap) {
			cap = cap ? cap * 2 : 64;
			struct part *np = realloc(ps.p, cap * sizeof(*np));
			if (!np) {
				rc = err_set(e, ERR_NOMEM, "out of memory");
				break;
			}
			ps.p = np;
		}
		ps.p[ps.n++] = (struct part){.src = p + at,
					     .n_src = fs,
					     .dst = buf ? (uint8_t *)buf + have : NULL,
					     .cap = (size_t)cs};
		at += fs;
		have += cs;
	}
	if (rc == 0 && (ps.n == 0 || have != raw))
		rc =
		    err_set(e, ERR_INVALID,
			    "block %u of the app file is damaged (its size does not match)", block);
	if (rc == 0 && !buf)
		for (size_t i = 0; i < ps.n && rc == 0; i++)
			rc = check_frame(dc, ps.p[i].src, ps.p[i].n_src, ps.p[i].cap, block, e);
	if (rc == 0 && buf) {
		parts_run(&ps);
		for (size_t i = 0; i < ps.n && rc == 0; i++)
			if (ZSTD_isError(ps.p[i].out) || ps.p[i].out != ps.p[i].cap)
				rc = err_set(e, ERR_INVALID,
					     "block %u of the app file is damaged (frame %zu: %s)",
					     block, i + 1,
					     ZSTD_isError(ps.p[i].out)
						 ? ZSTD_getErrorName(ps.p[i].out)
						 : "short");
	}
	free(ps.p);
	return rc;
}

/* A raw block's stored bytes (p, n of them, at file offset `at`): whether they are its
 * checksum, zero bytes up to a multiple of RAW_ALIGN and `raw` bytes that match it. *data
 * gets where those bytes are. */
static int check_raw(const uint8_t *p, size_t n, uint64_t at, uint64_t raw, uint32_t block,
		     const uint8_t **data, struct err *e)
{
	size_t pad = raw_pad(at);
	if (n < 8 + pad || n - 8 - pad != raw)
		return err_set(e, ERR_INVALID,
			       "block %u of the app file is damaged (its size does not match)",
			       block);
	for (size_t i = 0; i < pad; i++)
		if (p[8 + i])
			return err_set(e, ERR_INVALID,
				       "block %u of the app file is damaged (its padding)", block);
	*data = p + 8 + pad;
	if (XXH3_64bits(*data, raw) != get_u64(p))
		return err_set(e, ERR_INVALID,
			       "block %u of the app file is damaged (its checksum does not match)",
			       block);
	return 0;
}

/* A raw block of `a` at data, used where it lies (in a->map: a file with raw blocks is
 * always read from one). */
static void take_raw(struct appfile *a, uint32_t kind, const uint8_t *data, uint64_t raw)
{
	a->blocks[a->n_blocks++] = (struct appfile_block){
	    .kind = (enum appfile_kind)kind, .data = (char *)data, .len = raw, .raw = true};
}

static bool known_kind(uint32_t kind)
{
	return kind == APPFILE_PROPS || kind == APPFILE_SCRIPT || kind == APPFILE_TABLE ||
	       kind == APPFILE_ACCESS;
}

/* Block number `block`'s stored bytes (p at file offset `at`, its header's kind, flags and
 * sizes checked): decompressed (or, raw, taken) into a new block of `a`, or checked and
 * passed over (a kind this build does not know). */
static int read_block(ZSTD_DCtx *dc, const uint8_t *p, uint64_t at, uint32_t kind, uint32_t flags,
		      uint64_t raw, uint64_t stored, uint32_t block, struct appfile *a,
		      struct err *e)
{
	bool known = known_kind(kind);
	bool parts = flags & FLAG_PARTS;
	if (flags & FLAG_RAW) {
		const uint8_t *data = NULL;
		int rc = check_raw(p, stored, at, raw, block, &data, e);
		if (rc == 0 && known)
			take_raw(a, kind, data, raw);
		return rc;
	}
	if (!parts && (ZSTD_getFrameContentSize(p, stored) != raw ||
		       ZSTD_findFrameCompressedSize(p, stored) != stored))
		return err_set(e, ERR_INVALID,
			       "block %u of the app file is damaged (its size does not match)",
			       block);
	if (!known) /* a later version's kind: checked in steps, then passed over */
		return parts ? read_parts(dc, p, stored, raw, NULL, block, e)
			     : check_frame(dc, p, stored, raw, block, e);
	char *buf = malloc(raw + 1);
	if (!buf)
		return err_set(e, ERR_NOMEM, "out of memory for a %llu-byte block",
			       (unsigned long long)raw);
	int rc = 0;
	size_t got = parts ? 0 : ZSTD_decompressDCtx(dc, buf, raw, p, stored);
	if (parts)
		rc = read_parts(dc, p, stored, raw, buf, block, e);
	else if (ZSTD_isError(got) || got != raw)
		rc = err_set(e, ERR_INVALID, "block %u of the app file is damaged (%s)", block,
			     ZSTD_isError(got) ? ZSTD_getErrorName(got) : "short");
	if (rc) {
		free(buf);
		return rc;
	}
	buf[raw] = '\0';
	struct appfile_block *b = &a->blocks[a->n_blocks++];
	b->kind = (enum appfile_kind)kind;
	b->data = buf;
	b->len = raw;
	return 0;
}

/* The blocks after the file header, into a. */
static int read_blocks(ZSTD_DCtx *dc, const uint8_t *p, size_t len, uint32_t n, struct appfile *a,
		       struct err *e)
{
	uint32_t known_flags = FLAG_PARTS | (get_u16(p + 10) >= 4 ? FLAG_RAW : 0);
	int rc = 0;
	size_t at = FILE_HEADER;
	for (uint32_t i = 0; i < n && rc == 0; i++) {
		if (len - at < BLOCK_HEADER)
			return err_set(e, ERR_INVALID, "the app file is cut off in block %u of %u",
				       i + 1, n);
		const uint8_t *bh = p + at;
		if (fnv1a(bh, 24) != get_u32(bh + 24))
			return err_set(e, ERR_INVALID,
				       "block %u of the app file has a damaged header", i + 1);
		uint32_t kind = get_u32(bh), flags = get_u32(bh + 4);
		uint64_t raw = get_u64(bh + 8), stored = get_u64(bh + 16);
		at += BLOCK_HEADER;
		if ((flags & ~known_flags) || flags == (FLAG_PARTS | FLAG_RAW))
			rc =
			    err_set(e, ERR_INVALID,
				    "block %u of the app file has unknown flags %#x", i + 1, flags);
		else if (stored > len - at)
			rc = err_set(
			    e, ERR_INVALID,
			    "the app file is cut off: block %u needs %llu bytes, %zu remain", i + 1,
			    (unsigned long long)stored, len - at);
		else if (raw > kind_max(kind))
			rc = too_big(i + 1, kind, raw, e);
		else
			rc = read_block(dc, p + at, at, kind, flags, raw, stored, i + 1, a, e);
		at += stored;
	}
	if (rc == 0 && at != len)
		rc = err_set(e, ERR_INVALID, "the app file has %zu bytes after its last block",
			     len - at);
	return rc;
}

/* data_appfile_read; with `map` (holding data), raw blocks are used where they lie. */
static int read_file_bytes(const void *data, size_t len, struct data_map *map, struct appfile **out,
			   struct err *e)
{
	*out = NULL;
	const uint8_t *p = data;
	if (len < FILE_HEADER) {
		if (!data_appfile_looks_valid(data, len, e))
			return ERR_INVALID;
		return err_set(e, ERR_INVALID, "the app file is cut off (%zu bytes)", len);
	}
	if (!data_appfile_looks_valid(data, len, e))
		return ERR_INVALID;
	uint32_t n = get_u32(p + 12);
	if (n > MAX_BLOCKS)
		return err_set(e, ERR_INVALID, "the app file claims %u blocks", n);
	struct appfile *a = calloc(1, sizeof(*a));
	if (a)
		a->blocks = calloc(n ? n : 1, sizeof(*a->blocks));
	if (!a || !a->blocks) {
		free(a);
		return err_set(e, ERR_NOMEM, "out of memory");
	}
	a->map = data_map_ref(map);
	ZSTD_DCtx *dc = ZSTD_createDCtx();
	int rc = dc ? read_blocks(dc, p, len, n, a, e) : err_set(e, ERR_NOMEM, "out of memory");
	ZSTD_freeDCtx(dc);
	if (rc) {
		data_appfile_free(a);
		return rc;
	}
	*out = a;
	return 0;
}

static struct data_map *map_copy(const void *data, size_t len);

int data_appfile_read(const void *data, size_t len, struct appfile **out, struct err *e)
{
	/* a file that may hold raw blocks: read from a copy that the blocks (and what is read
	 * from them: a model's columns) keep, since `data` is the caller's */
	if (len < FILE_HEADER || get_u16((const uint8_t *)data + 10) < 4)
		return read_file_bytes(data, len, NULL, out, e);
	*out = NULL;
	struct data_map *m = map_copy(data, len);
	if (!m)
		return err_set(e, ERR_NOMEM, "out of memory for a %zu-byte app file", len);
	int rc = read_file_bytes(m->p, m->len, m, out, e);
	data_map_unref(m);
	return rc;
}

void data_appfile_free(struct appfile *a)
{
	if (!a)
		return;
	for (int i = 0; i < a->n_blocks; i++)
		if (!(a->blocks[i].raw && a->map))
			free(a->blocks[i].data);
	free(a->blocks);
	data_map_unref(a->map);
	free(a);
}

const struct appfile_block *data_appfile_find(const struct appfile *a, enum appfile_kind kind)
{
	for (int i = 0; i < a->n_blocks; i++)
		if (a->blocks[i].kind == kind)
			return &a->blocks[i];
	return NULL;
}

/* ---------------------------------------------------------------- streaming check */

enum check_stage { CK_FILE_HEADER, CK_BLOCK_HEADER, CK_PAYLOAD, CK_END };

struct appfile_check {
	enum check_stage stage;
	uint8_t hdr[BLOCK_HEADER];
	size_t have; /* bytes of hdr gathered */
	uint32_t blocks, block;
	uint64_t raw, left, produced;
	uint32_t flags;
	bool frame_done;
	uint8_t fh[18]; /* the current frame's first bytes (zstd's largest header) */
	size_t fh_have;
	ZSTD_DCtx *dc;
	uint64_t pos; /* the file offset of the next byte fed */
	uint16_t version;
	uint64_t skip;	  /* a raw block: its padding bytes still to come */
	XXH3_state_t *xs; /* a raw block: the checksum of its bytes so far */
	uint8_t out[1 << 16];
};

struct appfile_check *data_appfile_check_new(void)
{
	struct appfile_check *c = calloc(1, sizeof(*c));
	if (c && (!(c->dc = ZSTD_createDCtx()) || !(c->xs = XXH3_createState()))) {
		ZSTD_freeDCtx(c->dc);
		free(c);
		return NULL;
	}
	return c;
}

void data_appfile_check_free(struct appfile_check *c)
{
	if (!c)
		return;
	ZSTD_freeDCtx(c->dc);
	XXH3_freeState(c->xs);
	free(c);
}

static int check_file_header(struct appfile_check *c, struct err *e)
{
	if (!data_appfile_looks_valid(c->hdr, FILE_HEADER, e))
		return ERR_INVALID;
	c->blocks = get_u32(c->hdr + 12);
	c->version = get_u16(c->hdr + 10);
	if (c->blocks > MAX_BLOCKS)
		return err_set(e, ERR_INVALID, "the app file claims %u blocks", c->blocks);
	c->stage = c->blocks ? CK_BLOCK_HEADER : CK_END;
	return 0;
}

static int check_block_header(struct appfile_check *c, struct err *e)
{
	const uint8_t *bh = c->hdr;
	if (fnv1a(bh, 24) != get_u32(bh + 24))
		return err_set(e, ERR_INVALID, "block %u of the app file has a damaged header",
			       c->block + 1);
	uint32_t kind = get_u32(bh);
	c->flags = get_u32(bh + 4);
	c->raw = get_u64(bh + 8);
	c->left = get_u64(bh + 16);
	if (c->raw > kind_max(kind))
		return too_big(c->block + 1, kind, c->raw, e);
	uint32_t known_flags = FLAG_PARTS | (c->version >= 4 ? FLAG_RAW : 0);
	if ((c->flags & ~known_flags) || c->flags == (FLAG_PARTS | FLAG_RAW))
		return err_set(e, ERR_INVALID, "block %u of the app file has unknown flags %#x",
			       c->block + 1, c->flags);
	if (c->flags & FLAG_RAW) { /* its checksum, padding and bytes, as the reader asks */
		c->produced = 0;
		c->have = 0;
		c->skip = raw_pad(c->pos);
		XXH3_64bits_reset(c->xs);
		c->stage = CK_PAYLOAD;
		return c->left < 8 + c->skip || c->left - 8 - c->skip != c->raw
			   ? err_set(
				 e, ERR_INVALID,
				 "block %u of the app file is damaged (its size does not match)",
				 c->block + 1)
			   : 0;
	}
	/* every other block is a checksummed zstd frame (or several), known or not */
	c->produced = 0;
	c->frame_done = false;
	c->fh_have = 0;
	ZSTD_DCtx_reset(c->dc, ZSTD_reset_session_only);
	c->stage = CK_PAYLOAD;
	return c->left == 0
		   ? err_set(e, ERR_INVALID, "block %u of the app file is empty", c->block + 1)
		   : 0;
}

/* n bytes of a raw block: its checksum into hdr, its padding (zero), then its bytes. */
static int check_raw_payload(struct appfile_check *c, const uint8_t *p, size_t n, struct err *e)
{
	while (n && c->have < 8) {
		c->hdr[c->have++] = *p++;
		n--;
	}
	for (; n && c->skip; c->skip--, n--)
		if (*p++)
			return err_set(e, ERR_INVALID,
				       "block %u of the app file is damaged (its padding)",
				       c->block + 1);
	XXH3_64bits_update(c->xs, p, n);
	c->produced += n;
	if (c->produced == c->raw && c->have == 8 && c->skip == 0) {
		if (XXH3_64bits_digest(c->xs) != get_u64(c->hdr))
			return err_set(
			    e, ERR_INVALID,
			    "block %u of the app file is damaged (its checksum does not match)",
			    c->block + 1);
		c->frame_done = true;
	}
	return 0;
}

static int check_payload(struct appfile_check *c, const uint8_t *p, size_t n, struct err *e)
{
	if (c->flags & FLAG_RAW)
		return check_raw_payload(c, p, n, e);
	ZSTD_inBuffer in = {p, n, 0};
	while (in.pos < in.size) {
		if (c->frame_done && (c->flags & FLAG_PARTS)) { /* the next frame */
			ZSTD_DCtx_reset(c->dc, ZSTD_reset_session_only);
			c->frame_done = false;
			c->fh_have = 0;
		}
		if (c->frame_done)
			return err_set(e, ERR_INVALID,
				       "block %u of the app file has bytes after its data",
				       c->block + 1);
		ZSTD_outBuffer out = {c->out, sizeof(c->out), 0};
		size_t from = in.pos;
		size_t r = ZSTD_decompressStream(c->dc, &out, &in);
		if (ZSTD_isError(r))
			return err_set(e, ERR_INVALID, "block %u of the app file is damaged (%s)",
				       c->block + 1, ZSTD_getErrorName(r));
		size_t keep = in.pos - from < sizeof(c->fh) - c->fh_have
				  ? in.pos - from
				  : sizeof(c->fh) - c->fh_have;
		memcpy(c->fh + c->fh_have, p + from, keep);
		c->fh_have += keep;
		c->produced += out.pos;
		if (c->produced > c->raw)
			return err_set(e, ERR_INVALID,
				       "block %u of the app file holds more than it says",
				       c->block + 1);
		if (r == 0) {
			c->frame_done = true;
			/* as the reader asks: the frame says its size (the block's, when it is
			 * the block's only frame) */
			unsigned long long cs = ZSTD_getFrameContentSize(c->fh, c->fh_have);
			if ((c->flags & FLAG_PARTS)
				? cs == ZSTD_CONTENTSIZE_ERROR || cs == ZSTD_CONTENTSIZE_UNKNOWN
				: cs != c->raw)
				return err_set(
				    e, ERR_INVALID,
				    "block %u of the app file is damaged (its size does not match)",
				    c->block + 1);
		}
	}
	return 0;
}

int data_appfile_check_feed(struct appfile_check *c, const void *data, size_t len, struct err *e)
{
	const uint8_t *p = data;
	while (len) {
		size_t take;
		int rc = 0;
		switch (c->stage) {
		case CK_FILE_HEADER:
		case CK_BLOCK_HEADER: {
			size_t need =
			    (c->stage == CK_FILE_HEADER ? FILE_HEADER : BLOCK_HEADER) - c->have;
			take = len < need ? len : need;
			memcpy(c->hdr + c->have, p, take);
			c->have += take;
			if (c->stage == CK_FILE_HEADER && c->have >= sizeof(MAGIC) - 1 &&
			    !data_appfile_looks_valid(c->hdr, c->have, e))
				return ERR_INVALID;
			c->pos += take;
			if (take == need) {
				c->have = 0;
				rc = c->stage == CK_FILE_HEADER ? check_file_header(c, e)
								: check_block_header(c, e);
			}
			break;
		}
		case CK_PAYLOAD:
			take = len < c->left ? len : (size_t)c->left;
			rc = check_payload(c, p, take, e);
			c->left -= take;
			c->pos += take;
			if (rc == 0 && c->left == 0) {
				if (!c->frame_done || c->produced != c->raw)
					rc = err_set(
					    e, ERR_INVALID,
					    "block %u of the app file is damaged (it ends early)",
					    c->block + 1);
				c->block++;
				c->have = 0;
				c->stage = c->block == c->blocks ? CK_END : CK_BLOCK_HEADER;
			}
			break;
		case CK_END:
		default:
			return err_set(e, ERR_INVALID,
				       "the app file has bytes after its last block");
		}
		if (rc)
			return rc;
		p += take;
		len -= take;
	}
	return 0;
}

int data_appfile_check_end(struct appfile_check *c, struct err *e)
{
	if (c->stage == CK_END)
		return 0;
	if (c->stage == CK_FILE_HEADER)
		return err_set(e, ERR_INVALID, "%s",
			       c->have == 0 ? "the request body is empty: send the app file"
					    : "the app file is cut off in its header");
	return err_set(e, ERR_INVALID, "the app file is cut off in block %u of %u", c->block + 1,
		       c->blocks);
}

int data_appfile_read_props(const char *path, char **out, size_t *out_len, struct err *e)
{
	*out = NULL;
	*out_len = 0;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return err_set(e, errno == ENOENT ? ERR_NOT_FOUND : ERR_IO, "cannot read %s: %s",
			       path, strerror(errno));
	uint8_t head[FILE_HEADER], bh[BLOCK_HEADER];
	int rc = 0;
	if (pread(fd, head, sizeof(head), 0) != (ssize_t)sizeof(head) ||
	    !data_appfile_looks_valid(head, sizeof(head), e))
		rc = e->code ? e->code : err_set(e, ERR_INVALID, "%s is not an app file", path);
	uint32_t n = rc ? 0 : get_u32(head + 12);
	off_t at = FILE_HEADER;
	for (uint32_t i = 0; rc == 0 && i < n && i < MAX_BLOCKS; i++) {
		if (pread(fd, bh, sizeof(bh), at) != (ssize_t)sizeof(bh) ||
		    fnv1a(bh, 24) != get_u32(bh + 24)) {
			rc = err_set(e, ERR_INVALID, "block %u of %s has a damaged header", i + 1,
				     path);
			break;
		}
		uint64_t raw = get_u64(bh + 8), stored = get_u64(bh + 16);
		at += BLOCK_HEADER;
		if (get_u32(bh) != APPFILE_PROPS) {
			at += (off_t)stored;
			continue;
		}
		if (raw > kind_max(APPFILE_PROPS) || stored > kind_max(APPFILE_PROPS) * 2) {
			rc = too_big(i + 1, APPFILE_PROPS, raw, e);
			break;
		}
		char *z = malloc(stored ? stored : 1), *buf = malloc(raw + 1);
		size_t got = 0;
		if (!z || !buf)
			rc = err_set(e, ERR_NOMEM, "out of memory");
		else if (pread(fd, z, stored, at) != (ssize_t)stored)
			rc = err_set(e, ERR_INVALID, "%s is cut off in its properties", path);
		else if (ZSTD_isError(got = ZSTD_decompress(buf, raw, z, stored)) || got != raw)
			rc = err_set(e, ERR_INVALID, "the properties of %s are damaged", path);
		free(z);
		if (rc) {
			free(buf);
			break;
		}
		buf[raw] = '\0';
		*out = buf;
		*out_len = raw;
		break;
	}
	close(fd);
	return rc;
}

/* ---------------------------------------------------------------- the bytes of a file */

struct data_map *data_map_ref(struct data_map *m)
{
	if (m)
		atomic_fetch_add(&m->refs, 1);
	return m;
}

void data_map_unref(struct data_map *m)
{
	if (!m || atomic_fetch_sub(&m->refs, 1) != 1)
		return;
	if (m->mapped)
		munmap(m->p, m->len);
	else
		free(m->p);
	free(m);
}

static struct data_map *map_copy(const void *data, size_t len)
{
	struct data_map *m = calloc(1, sizeof(*m));
	if (m && !(m->p = malloc(len ? len : 1))) {
		free(m);
		return NULL;
	}
	if (m) {
		memcpy(m->p, data, len);
		m->len = len;
		atomic_init(&m->refs, 1);
	}
	return m;
}

/* Whether a file system may lose a mapped file's pages under the reader: a network share
 * or FUSE (a page read after the share is gone would fault). */
static bool remote_fs(long type)
{
	static const long remote[] = {
	    0x65735546, /* FUSE */
	    0x6969,	/* NFS */
	    0xFF534D42, /* CIFS */
	    0xFE534D42, /* SMB2 */
	    0x517B,	/* SMB */
	    0x01021997, /* 9P */
	    0x00C36400, /* Ceph */
	};
	for (size_t i = 0; i < sizeof(remote) / sizeof(remote[0]); i++)
		if (type == remote[i])
			return true;
	return false;
}

/* The bytes of the file at `path`: mapped when the file is local, every page read in at
 * once (opening an app checks them all); else read. */
static int map_file(const char *path, struct data_map **out, struct err *e)
{
	*out = NULL;
	struct data_map *m = calloc(1, sizeof(*m));
	if (!m)
		return err_set(e, ERR_NOMEM, "out of memory");
	atomic_init(&m->refs, 1);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	struct stat st;
	struct statfs fs;
	if (fd >= 0 && fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_size > 0 &&
	    fstatfs(fd, &fs) == 0 && !remote_fs((long)fs.f_type)) {
		void *p =
		    mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE | MAP_POPULATE, fd, 0);
		if (p != MAP_FAILED) {
			m->p = p;
			m->len = (size_t)st.st_size;
			m->mapped = true;
		}
	}
	if (fd >= 0)
		close(fd);
	int rc = 0;
	if (!m->mapped)
		rc = file_read_all(path, 1ULL << 40, (char **)&m->p, &m->len, e);
	if (rc) {
		free(m);
		return rc;
	}
	*out = m;
	return 0;
}

int data_appfile_read_file(const char *path, struct appfile **out, struct err *e)
{
	*out = NULL;
	struct data_map *m = NULL;
	int rc = map_file(path, &m, e);
	if (rc == 0)
		rc = read_file_bytes(m->p, m->len, m, out, e);
	data_map_unref(m);
	return rc;
}
