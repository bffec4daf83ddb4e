/* media.c: the meta tags of media files, for the script's Attribute(file, name): MP3
 * (ID3v1 and ID3v2.3/2.4 frames), PNG (tEXt and uncompressed iTXt chunks), JPEG (EXIF:
 * the image, Exif and GPS directories) and Windows Media (ASF content descriptions). The
 * kind is told by the file's first bytes, not by its name.
 *
 * Every length and offset comes from the file and is checked against the buffer before
 * it is used; a text is at most MAX_TEXT bytes. */
#include "data/data.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define MAX_TEXT (64u << 10)

/* ---------------------------------------------------------------- texts */

struct out {
	char *s;
	size_t n, cap;
	bool nomem;
};

static void put(struct out *o, const char *p, size_t n)
{
	if (o->nomem || o->n + n + 1 > MAX_TEXT)
		return;
	if (o->n + n + 1 > o->cap) {
		size_t cap = o->cap ? o->cap * 2 : 64;
		while (cap < o->n + n + 1)
			cap *= 2;
		char *g = realloc(o->s, cap);
		if (!g) {
			o->nomem = true;
			return;
		}
		o->s = g;
		o->cap = cap;
	}
	memcpy(o->s + o->n, p, n);
	o->n += n;
	o->s[o->n] = '\0';
}

static void put_cp(struct out *o, uint32_t c)
{
	char b[4];
	size_t n;
	if (c == 0)
		return;
	if (c >= 0xD800 && c < 0xE000)
		c = 0xFFFD;
	if (c < 0x80) {
		b[0] = (char)c;
		n = 1;
	} else if (c < 0x800) {
		b[0] = (char)(0xC0 | c >> 6);
		b[1] = (char)(0x80 | (c & 0x3F));
		n = 2;
	} else if (c < 0x10000) {
		b[0] = (char)(0xE0 | c >> 12);
		b[1] = (char)(0x80 | ((c >> 6) & 0x3F));
		b[2] = (char)(0x80 | (c & 0x3F));
		n = 3;
	} else {
		b[0] = (char)(0xF0 | c >> 18);
		b[1] = (char)(0x80 | ((c >> 12) & 0x3F));
		b[2] = (char)(0x80 | ((c >> 6) & 0x3F));
		b[3] = (char)(0x80 | (c & 0x3F));
		n = 4;
	}
	put(o, b, n);
}

/* ISO 8859-1 text, up to its first NUL. */
static void put_latin1(struct out *o, const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n && p[i]; i++)
		put_cp(o, p[i]);
}

/* UTF-16 text (big-endian when be), up to its first NUL. */
static void put_utf16(struct out *o, const uint8_t *p, size_t n, bool be)
{
	for (size_t i = 0; i + 1 < n; i += 2) {
		uint32_t c =
		    be ? (uint32_t)(p[i] << 8 | p[i + 1]) : (uint32_t)(p[i + 1] << 8 | p[i]);
		if (c == 0)
			return;
		if (c >= 0xD800 && c < 0xDC00 && i + 3 < n) {
			uint32_t d = be ? (uint32_t)(p[i + 2] << 8 | p[i + 3])
					: (uint32_t)(p[i + 3] << 8 | p[i + 2]);
			if (d >= 0xDC00 && d < 0xE000) {
				c = 0x10000 + ((c - 0xD800) << 10) + (d - 0xDC00);
				i += 2;
			}
		}
		put_cp(o, c);
	}
}

/* UTF-8 text, up to its first NUL; invalid bytes read as ISO 8859-1. */
static void put_utf8(struct out *o, const uint8_t *p, size_t n)
{
	size_t len = strnlen((const char *)p, n);
	if (utf8_valid((const char *)p, len))
		put(o, (const char *)p, len);
	else
		put_latin1(o, p, len);
}

/* Trailing blanks off (ID3v1 pads with them). */
static void trim(struct out *o)
{
	while (o->n && (o->s[o->n - 1] == ' ' || o->s[o->n - 1] == '\0'))
		o->s[--o->n] = '\0';
}

static uint32_t be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static uint32_t le32(const uint8_t *p)
{
	return (uint32_t)p[3] << 24 | (uint32_t)p[2] << 16 | (uint32_t)p[1] << 8 | p[0];
}

static uint16_t le16(const uint8_t *p)
{
	return (uint16_t)(p[1] << 8 | p[0]);
}

static uint64_t le64(const uint8_t *p)
{
	return (uint64_t)le32(p + 4) << 32 | le32(p);
}

/* ---------------------------------------------------------------- MP3: ID3 */

/* An ID3v2 text: its encoding byte, then the text. */
static void id3_text(struct out *o, const uint8_t *p, size_t n)
{
	if (n < 1)
		return;
	const uint8_t *t = p + 1;
	size_t tn = n - 1;
	switch (p[0]) {
	case 0: put_latin1(o, t, tn); break;
	case 1: /* UTF-16 with a byte order mark */
		if (tn >= 2 && t[0] == 0xFE && t[1] == 0xFF)
			put_utf16(o, t + 2, tn - 2, true);
		else if (tn >= 2 && t[0] == 0xFF && t[1] == 0xFE)
			put_utf16(o, t + 2, tn - 2, false);
		else
			put_utf16(o, t, tn, false);
		break;
	case 2: put_utf16(o, t, tn, true); break;
	default: put_utf8(o, t, tn);
	}
}

/* COMM and USLT: encoding, language (3), a description ended by NUL, then the text. */
static void id3_comment(struct out *o, const uint8_t *p, size_t n)
{
	if (n < 4)
		return;
	bool wide = p[0] == 1 || p[0] == 2;
	size_t i = 4;
	if (wide) {
		while (i + 1 < n && (p[i] || p[i + 1]))
			i += 2;
		i += 2;
	} else {
		while (i < n && p[i])
			i++;
		i++;
	}
	if (i > n)
		return;
	uint8_t *t = malloc(n - i + 1);
	if (!t) {
		o->nomem = true;
		return;
	}
	t[0] = p[0];
	memcpy(t + 1, p + i, n - i);
	id3_text(o, t, n - i + 1);
	free(t);
}

static uint32_t syncsafe(const uint8_t *p)
{
	return (uint32_t)(p[0] & 0x7F) << 21 | (uint32_t)(p[1] & 0x7F) << 14 |
	       (uint32_t)(p[2] & 0x7F) << 7 | (p[3] & 0x7F);
}

/* The ID3v2 frame `id` (four characters): its text, when it is a text frame (T..., W...,
 * COMM, USLT). */
static bool id3v2(struct out *o, const uint8_t *p, size_t n, const char *id)
{
	if (n < 10 || memcmp(p, "ID3", 3) != 0 || strlen(id) != 4)
		return false;
	int version = p[3];
	if (version != 3 && version != 4)
		return false;
	size_t end = 10 + (size_t)syncsafe(p + 6);
	if (end > n)
		end = n;
	size_t at = 10;
	if (p[5] & 0x40) { /* an extended header */
		if (at + 4 > end)
			return false;
		uint32_t ext = version == 4 ? syncsafe(p + at) : be32(p + at) + 4;
		if (ext > end - at)
			return false;
		at += ext;
	}
	while (at + 10 <= end && p[at] != 0) {
		uint32_t size = version == 4 ? syncsafe(p + at + 4) : be32(p + at + 4);
		const uint8_t *body = p + at + 10;
		if (size > end - at - 10)
			return false;
		if (memcmp(p + at, id, 4) == 0) {
			if (id[0] == 'T' && strcmp(id, "TXXX") != 0)
				id3_text(o, body, size);
			else if (strcmp(id, "COMM") == 0 || strcmp(id, "USLT") == 0)
				id3_comment(o, body, size);
			else if (id[0] == 'W' && strcmp(id, "WXXX") != 0)
				put_latin1(o, body, size);
			else
				return false; /* a binary frame (APIC, ...): nothing to show as text
					       */
			return true;
		}
		at += 10 + size;
	}
	return false;
}

/* ID3v1 (the last 128 bytes: "TAG", then fixed fields) by Qlik's names. */
static bool id3v1(struct out *o, const uint8_t *p, size_t n, const char *name)
{
	if (n < 128 || memcmp(p + n - 128, "TAG", 3) != 0)
		return false;
	const uint8_t *t = p + n - 128;
	static const struct {
		const char *name;
		int at, len;
	} fields[] = {{"Title", 3, 30},	   {"Artist", 33, 30}, {"Album", 63, 30}, {"Year", 93, 4},
		      {"Comment", 97, 30}, {"Track", 126, 1},  {"Genre", 127, 1}};
	for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++) {
		if (strcasecmp(name, fields[i].name) != 0)
			continue;
		char num[8];
		if (fields[i].len == 1) {
			/* a track number only in ID3v1.1 (a zero byte before it) */
			if (i == 5 && (t[125] != 0 || t[126] == 0))
				return false;
			snprintf(num, sizeof(num), "%u", t[fields[i].at]);
			put(o, num, strlen(num));
			return true;
		}
		put_latin1(o, t + fields[i].at, (size_t)fields[i].len);
		trim(o);
		return o->n > 0;
	}
	return false;
}

/* ---------------------------------------------------------------- PNG */

static bool png(struct out *o, const uint8_t *p, size_t n, const char *name)
{
	static const uint8_t sig[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1A, '\n'};
	if (n < 8 || memcmp(p, sig, 8) != 0)
		return false;
	for (size_t at = 8; at + 12 <= n;) {
		uint32_t len = be32(p + at);
		if (len > n - at - 12)
			return false;
		const uint8_t *type = p + at + 4, *d = p + at + 8;
		size_t key = strnlen((const char *)d, len);
		bool text = memcmp(type, "tEXt", 4) == 0, itxt = memcmp(type, "iTXt", 4) == 0;
		if ((text || itxt) && key < len && key == strlen(name) &&
		    strncasecmp((const char *)d, name, key) == 0) {
			if (text) {
				put_latin1(o, d + key + 1, len - key - 1);
				return true;
			}
			/* iTXt: compressed flag, method, language\0, translated keyword\0, text */
			size_t i = key + 3;
			if (i > len || d[key + 1] != 0)
				return false; /* compressed: not read */
			for (int z = 0; z < 2; z++) {
				while (i < len && d[i])
					i++;
				i++;
			}
			if (i > len)
				return false;
			put_utf8(o, d + i, len - i);
			return true;
		}
		if (memcmp(type, "IEND", 4) == 0)
			break;
		at += 12 + len;
	}
	return false;
}

/* ---------------------------------------------------------------- JPEG: EXIF */

static const struct exif_tag {
	uint16_t id;
	const char *name;
} exif_tags[] = {
    /* the image (IFD0) */
    {0x0100, "ImageWidth"},
    {0x0101, "ImageLength"},
    {0x0102, "BitsPerSample"},
    {0x0103, "Compression"},
    {0x0106, "PhotometricInterpretation"},
    {0x010E, "ImageDescription"},
    {0x010F, "Make"},
    {0x0110, "Model"},
    {0x0112, "Orientation"},
    {0x0115, "SamplesPerPixel"},
    {0x011A, "XResolution"},
    {0x011B, "YResolution"},
    {0x011C, "PlanarConfiguration"},
    {0x0128, "ResolutionUnit"},
    {0x0131, "Software"},
    {0x0132, "DateTime"},
    {0x013B, "Artist"},
    {0x013E, "WhitePoint"},
    {0x013F, "PrimaryChromaticities"},
    {0x0211, "YCbCrCoefficients"},
    {0x0213, "YCbCrPositioning"},
    {0x0214, "ReferenceBlackWhite"},
    {0x8298, "Copyright"},
    /* Exif */
    {0x829A, "ExposureTime"},
    {0x829D, "FNumber"},
    {0x8822, "ExposureProgram"},
    {0x8824, "SpectralSensitivity"},
    {0x8827, "ISOSpeedRatings"},
    {0x9000, "ExifVersion"},
    {0x9003, "DateTimeOriginal"},
    {0x9004, "DateTimeDigitized"},
    {0x9101, "ComponentsConfiguration"},
    {0x9102, "CompressedBitsPerPixel"},
    {0x9201, "ShutterSpeedValue"},
    {0x9202, "ApertureValue"},
    {0x9203, "BrightnessValue"},
    {0x9204, "ExposureBiasValue"},
    {0x9205, "MaxApertureValue"},
    {0x9206, "SubjectDistance"},
    {0x9207, "MeteringMode"},
    {0x9208, "LightSource"},
    {0x9209, "Flash"},
    {0x920A, "FocalLength"},
    {0x9286, "UserComment"},
    {0x9290, "SubsecTime"},
    {0x9291, "SubsecTimeOriginal"},
    {0x9292, "SubsecTimeDigitized"},
    {0xA000, "FlashpixVersion"},
    {0xA001, "ColorSpace"},
    {0xA002, "PixelXDimension"},
    {0xA003, "PixelYDimension"},
    {0xA004, "RelatedSoundFile"},
    {0xA20E, "FocalPlaneXResolution"},
    {0xA20F, "FocalPlaneYResolution"},
    {0xA210, "FocalPlaneResolutionUnit"},
    {0xA215, "ExposureIndex"},
    {0xA217, "SensingMethod"},
    {0xA401, "CustomRendered"},
    {0xA402, "ExposureMode"},
    {0xA403, "WhiteBalance"},
    {0xA404, "DigitalZoomRatio"},
    {0xA405, "FocalLengthIn35mmFilm"},
    {0xA406, "SceneCaptureType"},
    {0xA407, "GainControl"},
    {0xA408, "Contrast"},
    {0xA409, "Saturation"},
    {0xA40A, "Sharpness"},
    {0xA40C, "SubjectDistanceRange"},
    {0xA420, "ImageUniqueID"},
    /* GPS (their ids overlap the others': looked up in the GPS directory only) */
    {0x0000, "GPSVersionID"},
    {0x0001, "GPSLatitudeRef"},
    {0x0002, "GPSLatitude"},
    {0x0003, "GPSLongitudeRef"},
    {0x0004, "GPSLongitude"},
    {0x0005, "GPSAltitudeRef"},
    {0x0006, "GPSAltitude"},
    {0x0007, "GPSTimeStamp"},
    {0x0008, "GPSSatellites"},
    {0x0009, "GPSStatus"},
    {0x000A, "GPSMeasureMode"},
    {0x000B, "GPSDOP"},
    {0x000C, "GPSSpeedRef"},
    {0x000D, "GPSSpeed"},
    {0x0012, "GPSMapDatum"},
    {0x001D, "GPSDateStamp"},
};

struct tiff {
	const uint8_t *p;
	size_t n;
	bool be;
};

static uint16_t t16(const struct tiff *t, size_t at)
{
	return t->be ? (uint16_t)(t->p[at] << 8 | t->p[at + 1]) : le16(t->p + at);
}

static uint32_t t32(const struct tiff *t, size_t at)
{
	return t->be ? be32(t->p + at) : le32(t->p + at);
}

/* One EXIF value as text: ASCII as it is, numbers (every one of a list, blank-separated),
 * rationals as decimals, UNDEFINED bytes when they are printable. */
static void exif_value(struct out *o, const struct tiff *t, size_t entry)
{
	static const uint8_t unit[13] = {0, 1, 1, 2, 4, 8, 1, 1, 2, 4, 8, 4, 8};
	uint16_t type = t16(t, entry + 2);
	uint32_t count = t32(t, entry + 4);
	if (type == 0 || type > 12 || count == 0 || count > MAX_TEXT)
		return;
	size_t size = (size_t)unit[type] * count, at = entry + 8;
	if (size > 4) {
		at = t32(t, entry + 8);
		if (at > t->n || size > t->n - at)
			return;
	}
	const uint8_t *v = t->p + at;
	if (type == 2) { /* ASCII */
		put_utf8(o, v, size);
		trim(o);
		return;
	}
	if (type == 7) { /* UNDEFINED: text when printable (ExifVersion "0230") */
		size_t from = 0;
		if (size >= 8 && memcmp(v, "ASCII\0\0\0", 8) == 0) /* UserComment */
			from = 8;
		for (size_t i = from; i < size; i++)
			if (v[i] && (v[i] < 0x20 || v[i] > 0x7E))
				return;
		put_latin1(o, v + from, size - from);
		trim(o);
		return;
	}
	for (uint32_t i = 0; i < count && i < 64; i++) {
		char num[48];
		double d = 0;
		size_t k = (size_t)unit[type] * i;
		switch (type) {
		case 1: d = v[k]; break;
		case 6: d = (int8_t)v[k]; break;
		case 3: d = t16(t, at + k); break;
		case 8: d = (int16_t)t16(t, at + k); break;
		case 4: d = t32(t, at + k); break;
		case 9: d = (int32_t)t32(t, at + k); break;
		case 5:
		case 10: {
			double num_ = type == 5 ? (double)t32(t, at + k) : (int32_t)t32(t, at + k);
			double den =
			    type == 5 ? (double)t32(t, at + k + 4) : (int32_t)t32(t, at + k + 4);
			if (den == 0)
				return;
			d = num_ / den;
			break;
		}
		default: return; /* floats: rare; not read */
		}
		snprintf(num, sizeof(num), "%s%.10g", i ? " " : "", d);
		put(o, num, strlen(num));
	}
}

/* Looks for tag `id` in the directory at `ifd` (in_gps: the GPS directory) and, from the
 * first directory, in the Exif (0x8769) or GPS (0x8825) directory it points to; gps: `id`
 * is a GPS tag (their ids overlap the others'). */
static bool exif_find(struct out *o, const struct tiff *t, size_t ifd, uint16_t id, bool gps,
		      bool in_gps, int depth)
{
	if (ifd + 2 > t->n)
		return false;
	uint16_t n = t16(t, ifd);
	if ((size_t)n * 12 > t->n - ifd - 2)
		return false;
	for (uint16_t i = 0; i < n; i++) {
		size_t e = ifd + 2 + (size_t)i * 12;
		uint16_t tag = t16(t, e);
		if (depth == 0 && (tag == 0x8769 || tag == 0x8825)) {
			bool to_gps = tag == 0x8825;
			if (to_gps == gps && exif_find(o, t, t32(t, e + 8), id, gps, to_gps, 1))
				return true;
		} else if (tag == id && in_gps == gps) {
			exif_value(o, t, e);
			return o->n > 0;
		}
	}
	return false;
}

static bool jpeg(struct out *o, const uint8_t *p, size_t n, const char *name)
{
	if (n < 4 || p[0] != 0xFF || p[1] != 0xD8)
		return false;
	const struct exif_tag *tag = NULL;
	for (size_t i = 0; i < sizeof(exif_tags) / sizeof(exif_tags[0]) && !tag; i++)
		if (strcasecmp(exif_tags[i].name, name) == 0)
			tag = &exif_tags[i];
	if (!tag)
		return false;
	bool gps = strncasecmp(name, "GPS", 3) == 0;
	for (size_t at = 2; at + 4 <= n && p[at] == 0xFF;) {
		uint8_t marker = p[at + 1];
		if (marker == 0xD9 || marker == 0xDA) /* end, or the image data */
			break;
		size_t len = (size_t)(p[at + 2] << 8 | p[at + 3]);
		if (len < 2 || len > n - at - 2)
			break;
		const uint8_t *seg = p + at + 4;
		size_t sn = len - 2;
		if (marker == 0xE1 && sn >= 14 && memcmp(seg, "Exif\0\0", 6) == 0) {
			struct tiff t = {seg + 6, sn - 6, seg[6] == 'M'};
			if ((seg[6] == 'I' || seg[6] == 'M') && seg[6] == seg[7] &&
			    t16(&t, 2) == 42)
				return exif_find(o, &t, t32(&t, 4), tag->id, gps, false, 0);
		}
		at += 2 + len;
	}
	return false;
}

/* ---------------------------------------------------------------- Windows Media: ASF */

static const uint8_t asf_header[16] = {0x30, 0x26, 0xB2, 0x75, 0x8E, 0x66, 0xCF, 0x11,
				       0xA6, 0xD9, 0x00, 0xAA, 0x00, 0x62, 0xCE, 0x6C};
static const uint8_t asf_content[16] = {0x33, 0x26, 0xB2, 0x75, 0x8E, 0x66, 0xCF, 0x11,
					0xA6, 0xD9, 0x00, 0xAA, 0x00, 0x62, 0xCE, 0x6C};
static const uint8_t asf_extended[16] = {0x40, 0xA4, 0xD0, 0xD2, 0x07, 0xE3, 0xD2, 0x11,
					 0x97, 0xF0, 0x00, 0xA0, 0xC9, 0x5E, 0xA8, 0x50};

/* The content description's five texts: Title, Author, Copyright, Description, Rating. */
static bool asf_description(struct out *o, const uint8_t *d, size_t n, const char *name)
{
	static const char *const names[5] = {"Title", "Author", "Copyright", "Description",
					     "Rating"};
	if (n < 10)
		return false;
	size_t at = 10;
	for (int i = 0; i < 5; i++) {
		size_t len = le16(d + 2 * i);
		if (len > n - at)
			return false;
		if (strcasecmp(name, names[i]) == 0) {
			put_utf16(o, d + at, len, false);
			return o->n > 0;
		}
		at += len;
	}
	return false;
}

/* The extended content description's named values (WM/AlbumTitle, WM/Year, ...). */
static bool asf_extended_description(struct out *o, const uint8_t *d, size_t n, const char *name)
{
	if (n < 2)
		return false;
	uint16_t count = le16(d);
	size_t at = 2;
	for (uint16_t i = 0; i < count; i++) {
		if (at + 2 > n)
			return false;
		size_t nl = le16(d + at);
		if (nl > n - at - 2 || n - at - 2 - nl < 4)
			return false;
		const uint8_t *nm = d + at + 2;
		uint16_t type = le16(nm + nl);
		size_t vl = le16(nm + nl + 2);
		const uint8_t *v = nm + nl + 4;
		if (vl > n - (size_t)(v - d))
			return false;
		struct out key = {0};
		put_utf16(&key, nm, nl, false);
		bool match = key.s && strcasecmp(key.s, name) == 0;
		bool nomem = key.nomem;
		free(key.s);
		if (nomem) {
			o->nomem = true;
			return false;
		}
		if (match) {
			char num[32] = "";
			if (type == 0)
				put_utf16(o, v, vl, false);
			else if ((type == 2 || type == 3) && vl >= 4)
				snprintf(num, sizeof(num), "%u", le32(v));
			else if (type == 4 && vl >= 8)
				snprintf(num, sizeof(num), "%llu", (unsigned long long)le64(v));
			else if (type == 5 && vl >= 2)
				snprintf(num, sizeof(num), "%u", le16(v));
			put(o, num, strlen(num));
			return o->n > 0;
		}
		at = (size_t)(v - d) + vl;
	}
	return false;
}

static bool asf(struct out *o, const uint8_t *p, size_t n, const char *name)
{
	if (n < 30 || memcmp(p, asf_header, 16) != 0)
		return false;
	uint64_t hsize = le64(p + 16);
	size_t end = hsize < n ? (size_t)hsize : n;
	for (size_t at = 30; at + 24 <= end;) {
		uint64_t size = le64(p + at + 16);
		if (size < 24 || size > end - at)
			return false;
		const uint8_t *d = p + at + 24;
		size_t dn = (size_t)size - 24;
		if (memcmp(p + at, asf_content, 16) == 0 && asf_description(o, d, dn, name))
			return true;
		if (memcmp(p + at, asf_extended, 16) == 0 &&
		    asf_extended_description(o, d, dn, name))
			return true;
		if (o->nomem)
			return false;
		at += (size_t)size;
	}
	return false;
}

/* ---------------------------------------------------------------- the way in */

int data_media_attribute(const void *data, size_t len, const char *name, char **out)
{
	const uint8_t *p = data;
	struct out o = {0};
	bool found = false;
	*out = NULL;
	if (!name || !*name)
		return 0;
	if (len >= 3 && memcmp(p, "ID3", 3) == 0)
		found = id3v2(&o, p, len, name);
	if (!found && !o.nomem && len >= 128 && memcmp(p + len - 128, "TAG", 3) == 0)
		found = id3v1(&o, p, len, name);
	if (!found && !o.nomem && len >= 3 && memcmp(p, "ID3", 3) == 0) {
		/* ID3v1's names on a file with ID3v2 frames only: the frames that hold the same */
		static const char *const v1[][2] = {
		    {"Title", "TIT2"}, {"Artist", "TPE1"},  {"Album", "TALB"}, {"Year", "TYER"},
		    {"Year", "TDRC"},  {"Comment", "COMM"}, {"Track", "TRCK"}, {"Genre", "TCON"}};
		for (size_t i = 0; i < sizeof(v1) / sizeof(v1[0]) && !found && !o.nomem; i++)
			if (strcasecmp(name, v1[i][0]) == 0)
				found = id3v2(&o, p, len, v1[i][1]);
	}
	if (!found && !o.nomem)
		found = png(&o, p, len, name) || jpeg(&o, p, len, name) || asf(&o, p, len, name);
	if (o.nomem) {
		free(o.s);
		return ERR_NOMEM;
	}
	if (!found || !o.s) {
		free(o.s);
		return 0;
	}
	*out = o.s;
	return 1;
}
