/* fuzz_archive.c: backup archives as `restore` and `backup verify` unpack them. The input
 * is a tar archive, compressed here with zstd (the first byte odd: the input is the
 * compressed stream itself, to reach the zstd framing). Unpacking must succeed or refuse
 * with a reason, and whatever it wrote stays inside its folder and adds up to what it says. */
#include "ops/ops_int.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zstd.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Bytes of regular files under `path`, removing them as it goes; -1 for anything else. */
static int64_t drain(const char *path)
{
	DIR *d = opendir(path);
	if (!d)
		return -1;
	int64_t total = 0;
	struct dirent *de;
	while ((de = readdir(d))) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		char sub[4096];
		snprintf(sub, sizeof(sub), "%s/%s", path, de->d_name);
		struct stat st;
		if (lstat(sub, &st) != 0)
			abort();
		if (S_ISDIR(st.st_mode)) {
			int64_t n = drain(sub);
			if (n < 0 || rmdir(sub) != 0)
				abort();
			total += n;
		} else if (S_ISREG(st.st_mode)) {
			total += st.st_size;
			unlink(sub);
		} else {
			abort(); /* only plain files and folders are ever made */
		}
	}
	closedir(d);
	return total;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char dir[64];
	if (!dir[0]) {
		snprintf(dir, sizeof(dir), "/tmp/fuzz-archive-XXXXXX");
		if (!mkdtemp(dir))
			abort();
	}
	if (size < 1)
		return 0;
	int fd = memfd_create("archive", 0);
	if (fd < 0)
		abort();
	if (data[0] & 1) {
		if (write(fd, data + 1, size - 1) != (ssize_t)(size - 1))
			abort();
	} else {
		size_t cap = ZSTD_compressBound(size - 1);
		char *z = malloc(cap);
		size_t n = ZSTD_compress(z, cap, data + 1, size - 1, 1);
		if (ZSTD_isError(n) || write(fd, z, n) != (ssize_t)n)
			abort();
		free(z);
	}
	lseek(fd, 0, SEEK_SET);
	struct err e;
	err_init(&e);
	uint64_t bytes = 0;
	int files = 0;
	int rc = ops_archive_extract(fd, dir, &bytes, &files, &e);
	close(fd);
	if (rc != 0 && !e.message[0])
		abort();
	int64_t found = drain(dir);
	if (found < 0 || (rc == 0 && (uint64_t)found != bytes))
		abort();
	return 0;
}
