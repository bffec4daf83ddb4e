/* fuzz_media.c: the media tag reader (Attribute()). The first byte picks the tag asked
 * for; the rest is the file. Any input must give 0, 1 with a text, or ERR_NOMEM, never a
 * crash; a text is valid UTF-8 of at most 64 KiB. */
#include "data/data.h"

#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const names[] = {
	    "Title",	      "Artist",	     "Track",	      "TIT2",	     "COMM",
	    "TPE1",	      "Author",	     "Creation Time", "Make",	     "XResolution",
	    "ExposureTime",   "GPSLatitude", "ExifVersion",   "UserComment", "WM/AlbumTitle",
	    "WM/TrackNumber", "Description", "Rating"};
	if (size < 1)
		return 0;
	const char *name = names[data[0] % (sizeof(names) / sizeof(names[0]))];
	char *text = NULL;
	int rc = data_media_attribute(data + 1, size - 1, name, &text);
	if (rc == 1) {
		if (!text || strlen(text) > (64u << 10) || !utf8_valid(text, strlen(text)))
			abort();
	} else if ((rc != 0 && rc != ERR_NOMEM) || text) {
		abort();
	}
	free(text);
	return 0;
}
