/* archive.c: a backup as one stream, a POSIX tar (pax) archive compressed with zstd, for
 * `fathom backup --to -` (or a PATH ending in .tar.zst) and for verifying and restoring
 * from one.
 *
 * Writing: each file is a ustar header (a pax header before it when its path is longer
 * than 100 bytes or its size does not fit ustar's 8 GiB), its bytes, and zeros to the next
 * 512-byte block; two zero blocks end the archive. The size is declared first, so a file
 * must be as long as the caller said; one that is not is an error, not a short entry.
 *
 * Reading takes regular files only, under relative paths without "..", and makes the
 * folders they need; links, devices and absolute paths are refused before anything is
 * written, and an archive that stops short is an error. */
#include "ops/ops_int.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zstd.h>

#define BLOCK 512

struct ops_archive {
	int fd;
	ZSTD_CCtx *z;
	char *zbuf;
	size_t zcap;
	uint64_t left; /* bytes the current file still owes */
	uint64_t size; /* the current file's declared size */
	char name[256];
};

static int write_all_fd(int fd, const void *p, size_t n, struct err *e)
{
	const char *s = p;
	while (n) {
		ssize_t w = write(fd, s, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return err_set(e, ERR_IO, "cannot write the archive: %s",
				       w < 0 ? strerror(errno) : "nothing written");
		s += w;
		n -= (size_t)w;
	}
	return 0;
}

/* Compresses `n` bytes into the stream (end: and finishes the frame). */
static int put(struct ops_archive *a, const void *p, size_t n, bool end, struct err *e)
{
	ZSTD_inBuffer in = {p, n, 0};
	for (;;) {
		ZSTD_outBuffer out = {a->zbuf, a->zcap, 0};
		size_t left =
		    ZSTD_compressStream2(a->z, &out, &in, end ? ZSTD_e_end : ZSTD_e_continue);
		if (ZSTD_isError(left))
			return err_set(e, ERR_INTERNAL, "zstd: %s", ZSTD_getErrorName(left));
		int rc = out.pos ? write_all_fd(a->fd, a->zbuf, out.pos, e) : 0;
		if (rc)
			return rc;
		if (end ? left == 0 : in.pos == in.size)
			return 0;
	}
}

int ops_archive_open(int fd, struct ops_archive **out, struct err *e)
{
	*out = NULL;
	struct ops_archive *a = calloc(1, sizeof(*a));
	if (!a)
		return err_set(e, ERR_NOMEM, "out of memory");
	a->fd = fd;
	a->z = ZSTD_createCCtx();
	a->zcap = ZSTD_CStreamOutSize();
	a->zbuf = malloc(a->zcap);
	if (!a->z || !a->zbuf) {
		ops_archive_free(a);
		return err_set(e, ERR_NOMEM, "out of memory");
	}
	ZSTD_CCtx_setParameter(a->z, ZSTD_c_compressionLevel, 3);
	ZSTD_CCtx_setParameter(a->z, ZSTD_c_checksumFlag, 1);
	/* a second thread compresses while the first reads, where the library allows it */
	(void)ZSTD_CCtx_setParameter(a->z, ZSTD_c_nbWorkers, 2);
	*out = a;
	return 0;
}

void ops_archive_free(struct ops_archive *a)
{
	if (!a)
		return;
	ZSTD_freeCCtx(a->z);
	free(a->zbuf);
	free(a);
}

/* An octal field of `len` bytes (NUL-terminated). */
static void octal(char *field, size_t len, uint64_t v)
{
	snprintf(field, len, "%0*llo", (int)len - 1, (unsigned long long)v);
}

static void checksum(char *h)
{
	memset(h + 148, ' ', 8);
	unsigned sum = 0;
	for (int i = 0; i < BLOCK; i++)
		sum += (unsigned char)h[i];
	snprintf(h + 148, 8, "%06o", sum);
	h[155] = ' ';
}

/* A header block: `type` '0' (a file) or 'x' (pax records for the next one). */
static void header(char *h, const char *name, uint64_t size, char type)
{
	memset(h, 0, BLOCK);
	snprintf(h, 100, "%s", name);
	octal(h + 100, 8, 0600);
	octal(h + 108, 8, 0);
	octal(h + 116, 8, 0);
	octal(h + 124, 12, size < 077777777777ULL ? size : 0);
	octal(h + 136, 12, 0);
	h[156] = type;
	memcpy(h + 257, "ustar", 6);
	memcpy(h + 263, "00", 2);
	checksum(h);
}

/* One pax record, "LEN key=value\n", LEN counting itself. */
static int pax_record(char *out, size_t n, const char *key, const char *value)
{
	size_t body = strlen(key) + strlen(value) + 3, len = body + 1;
	while (len != body + (size_t)snprintf(NULL, 0, "%zu", len))
		len = body + (size_t)snprintf(NULL, 0, "%zu", len);
	return snprintf(out, n, "%zu %s=%s\n", len, key, value);
}

int ops_archive_file_begin(struct ops_archive *a, const char *rel, uint64_t size, struct err *e)
{
	if (a->left)
		return err_set(e, ERR_INTERNAL, "archive: %s is not finished", a->name);
	char h[BLOCK];
	int rc = 0;
	if (strlen(rel) >= 100 || size >= 077777777777ULL) {
		char recs[1200], num[32];
		int n = 0;
		if (strlen(rel) >= 100)
			n += pax_record(recs + n, sizeof(recs) - (size_t)n, "path", rel);
		if (size >= 077777777777ULL) {
			snprintf(num, sizeof(num), "%llu", (unsigned long long)size);
			n += pax_record(recs + n, sizeof(recs) - (size_t)n, "size", num);
		}
		if (n <= 0 || (size_t)n >= sizeof(recs))
			return err_set(e, ERR_INVALID, "archive: the path %s is too long", rel);
		header(h, "PaxHeader", (uint64_t)n, 'x');
		char pad[BLOCK] = {0};
		if ((rc = put(a, h, BLOCK, false, e)) || (rc = put(a, recs, (size_t)n, false, e)) ||
		    (rc = put(a, pad, (BLOCK - (size_t)n % BLOCK) % BLOCK, false, e)))
			return rc;
	}
	header(h, rel, size, '0');
	str_copy(a->name, rel, sizeof(a->name));
	a->left = a->size = size;
	return put(a, h, BLOCK, false, e);
}

int ops_archive_write(struct ops_archive *a, const void *p, size_t n, struct err *e)
{
	if (n > a->left)
		return err_set(e, ERR_IO, "%s grew while it was backed up: run the backup again",
			       a->name);
	a->left -= n;
	return put(a, p, n, false, e);
}

int ops_archive_file_end(struct ops_archive *a, struct err *e)
{
	if (a->left)
		return err_set(e, ERR_IO, "%s shrank while it was backed up: run the backup again",
			       a->name);
	char pad[BLOCK] = {0};
	return put(a, pad, (BLOCK - a->size % BLOCK) % BLOCK, false, e);
}

int ops_archive_close(struct ops_archive *a, struct err *e)
{
	char zeros[2 * BLOCK] = {0};
	int rc = put(a, zeros, sizeof(zeros), false, e);
	return rc ? rc : put(a, NULL, 0, true, e);
}

/* ---------------------------------------------------------------- reading */

struct reader {
	int fd;
	ZSTD_DCtx *z;
	char *in;
	ZSTD_inBuffer zin;
	size_t incap;
	bool eof;     /* the input ended */
	bool frame;   /* inside a frame (an end there is a short archive) */
	uint64_t got; /* decompressed bytes so far */
};

/* Exactly `n` decompressed bytes into p; ERR_INVALID when the stream ends first. */
static int take(struct reader *r, void *p, size_t n, struct err *e)
{
	ZSTD_outBuffer out = {p, n, 0};
	while (out.pos < out.size) {
		if (r->zin.pos == r->zin.size && !r->eof) {
			ssize_t k;
			do
				k = read(r->fd, r->in, r->incap);
			while (k < 0 && errno == EINTR);
			if (k < 0)
				return err_set(e, ERR_IO, "cannot read the archive: %s",
					       strerror(errno));
			r->eof = k == 0;
			r->zin = (ZSTD_inBuffer){r->in, (size_t)k, 0};
		}
		if (r->zin.pos == r->zin.size && r->eof)
			return err_set(
			    e, ERR_INVALID,
			    "the archive stops short (after %llu bytes): it is not whole",
			    (unsigned long long)r->got);
		size_t before = out.pos, rc = ZSTD_decompressStream(r->z, &out, &r->zin);
		if (ZSTD_isError(rc))
			return err_set(e, ERR_INVALID, "the archive is damaged: zstd: %s",
				       ZSTD_getErrorName(rc));
		r->frame = rc != 0;
		r->got += out.pos - before;
	}
	return 0;
}

static uint64_t read_octal(const char *f, size_t len)
{
	uint64_t v = 0;
	for (size_t i = 0; i < len && f[i] >= '0' && f[i] <= '7'; i++)
		v = v * 8 + (uint64_t)(f[i] - '0');
	return v;
}

/* A relative path without "." or ".." parts, empty parts or control characters. */
static bool safe_path(const char *p)
{
	if (!*p || *p == '/' || str_has_ctl(p, false))
		return false;
	for (const char *s = p; *s;) {
		const char *part = s;
		while (*s && *s != '/')
			s++;
		size_t len = (size_t)(s - part);
		if (len == 0 || (len == 1 && part[0] == '.') ||
		    (len == 2 && part[0] == '.' && part[1] == '.'))
			return false;
		if (*s)
			s++;
	}
	return true;
}

static int make_parents(const char *dir, const char *rel, struct err *e)
{
	char p[PATH_MAX];
	if (snprintf(p, sizeof(p), "%s/%s", dir, rel) >= (int)sizeof(p))
		return err_set(e, ERR_INVALID, "path too long: %s", rel);
	for (char *s = p + strlen(dir) + 1; *s; s++)
		if (*s == '/') {
			*s = '\0';
			if (mkdir(p, 0700) != 0 && errno != EEXIST)
				return err_set(e, ERR_IO, "cannot create %s: %s", p,
					       strerror(errno));
			*s = '/';
		}
	return 0;
}

/* The pax records' path and size, where they are given. */
static void pax_read(const char *recs, size_t n, char *path, size_t pathn, uint64_t *size,
		     bool *has_size)
{
	size_t i = 0;
	while (i < n) {
		const char *end;
		int64_t len;
		if (str_to_i64_prefix(recs + i, &end, 1, (int64_t)(n - i), &len) != 0 ||
		    *end != ' ' || recs[i + (size_t)len - 1] != '\n')
			return;
		const char *kv = end + 1, *stop = recs + i + (size_t)len - 1; /* the '\n' */
		const char *eq = memchr(kv, '=', (size_t)(stop - kv));
		if (eq && (size_t)(eq - kv) == 4 && memcmp(kv, "path", 4) == 0 &&
		    (size_t)(stop - eq - 1) < pathn) {
			memcpy(path, eq + 1, (size_t)(stop - eq - 1));
			path[stop - eq - 1] = '\0';
		} else if (eq && (size_t)(eq - kv) == 4 && memcmp(kv, "size", 4) == 0) {
			char num[24];
			int64_t v;
			size_t k = (size_t)(stop - eq - 1);
			if (k < sizeof(num)) {
				memcpy(num, eq + 1, k);
				num[k] = '\0';
				if (str_to_i64(num, 0, INT64_MAX, &v) == 0) {
					*size = (uint64_t)v;
					*has_size = true;
				}
			}
		}
		i += (size_t)len;
	}
}

int ops_archive_extract(int fd, const char *dir, uint64_t *out_bytes, int *out_files, struct err *e)
{
	struct reader r = {.fd = fd, .z = ZSTD_createDCtx(), .incap = ZSTD_DStreamInSize()};
	r.in = malloc(r.incap);
	char *buf = malloc(1 << 20);
	int rc = r.z && r.in && buf ? 0 : err_set(e, ERR_NOMEM, "out of memory");
	char pax_path[PATH_MAX] = "";
	uint64_t pax_size = 0;
	bool has_pax_size = false;
	*out_bytes = 0;
	*out_files = 0;
	while (rc == 0) {
		char h[BLOCK];
		if ((rc = take(&r, h, BLOCK, e)))
			break;
		bool zero = true;
		for (int i = 0; i < BLOCK && zero; i++)
			zero = h[i] == 0;
		if (zero)
			break; /* the end of the archive */
		if (memcmp(h + 257, "ustar", 5) != 0) {
			rc =
			    err_set(e, ERR_INVALID, "the archive is not a tar archive of a backup");
			break;
		}
		char type = h[156];
		uint64_t size = has_pax_size ? pax_size : read_octal(h + 124, 12);
		char name[PATH_MAX];
		if (pax_path[0])
			str_copy(name, pax_path, sizeof(name));
		else
			snprintf(name, sizeof(name), "%.100s", h);
		pax_path[0] = '\0';
		has_pax_size = false;
		if (type == 'x') {
			if (size > 65536) {
				rc = err_set(e, ERR_INVALID,
					     "the archive has a pax header too large");
				break;
			}
			char *recs = malloc((size_t)size + BLOCK);
			if (!recs) {
				rc = err_set(e, ERR_NOMEM, "out of memory");
				break;
			}
			rc = take(&r, recs, (size_t)((size + BLOCK - 1) / BLOCK * BLOCK), e);
			recs[size] = '\0'; /* the records end here, for the number parsers */
			if (rc == 0)
				pax_read(recs, (size_t)size, pax_path, sizeof(pax_path), &pax_size,
					 &has_pax_size);
			free(recs);
			continue;
		}
		if (type == '5') /* a folder: made when a file needs it */
			continue;
		if ((type != '0' && type != '\0') || !safe_path(name)) {
			rc = err_set(e, ERR_INVALID,
				     "the archive holds \"%s\", which is not a plain file under a "
				     "relative path: it is refused",
				     name);
			break;
		}
		char path[PATH_MAX];
		if (snprintf(path, sizeof(path), "%s/%s", dir, name) >= (int)sizeof(path)) {
			rc = err_set(e, ERR_INVALID, "path too long: %s", name);
			break;
		}
		if ((rc = make_parents(dir, name, e)))
			break;
		int out = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
		if (out < 0) {
			rc = err_set(e, ERR_IO, "cannot create %s: %s", path, strerror(errno));
			break;
		}
		uint64_t left = (size + BLOCK - 1) / BLOCK * BLOCK, data = size;
		while (rc == 0 && left) {
			size_t n = left < (1 << 20) ? (size_t)left : (1 << 20);
			if ((rc = take(&r, buf, n, e)))
				break;
			size_t keep = data < n ? (size_t)data : n;
			rc = write_all_fd(out, buf, keep, e);
			data -= keep;
			left -= n;
		}
		if (close(out) != 0 && rc == 0)
			rc = err_set(e, ERR_IO, "cannot write %s: %s", path, strerror(errno));
		*out_bytes += size;
		++*out_files;
	}
	ZSTD_freeDCtx(r.z);
	free(r.in);
	free(buf);
	return rc;
}
