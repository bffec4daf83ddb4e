/* gen_sales.c: the engine benchmark's data, the same for every run (a fixed seed).
 *
 *   gen_sales DIR ROWS
 *
 * Writes DIR/sales.csv (ROWS rows: id, customer of 50,000, product of 2,000, region of 5,
 * a date, an amount, a quantity, a channel of 37), and the two dimension tables of the
 * three-table model: DIR/customers.csv (customer, segment, country) and DIR/products.csv
 * (product, category). */
#include "core/core.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

static uint64_t state = 0x9e3779b97f4a7c15ULL;

static uint64_t next(void)
{
	state ^= state << 13;
	state ^= state >> 7;
	state ^= state << 17;
	return state;
}

static const char *const regions[] = {"North", "South", "East", "West", "Central"};

int main(int argc, char **argv)
{
	if (argc != 3) {
		fprintf(stderr, "usage: gen_sales DIR ROWS\n");
		return 2;
	}
	int64_t rows;
	if (str_to_i64(argv[2], 0, INT64_MAX, &rows) != 0) {
		fprintf(stderr, "gen_sales: ROWS must be a whole number, not \"%s\"\n", argv[2]);
		return 2;
	}
	char path[4096];
	snprintf(path, sizeof(path), "%s/sales.csv", argv[1]);
	FILE *f = fopen(path, "w");
	if (!f) {
		perror(path);
		return 1;
	}
	static char buf[1 << 20];
	setvbuf(f, buf, _IOFBF, sizeof(buf));
	fputs("id,customer,product,region,date,amount,quantity,channel\n", f);
	for (int64_t i = 1; i <= rows; i++) {
		uint64_t r = next();
		int cust = (int)(r % 50000) + 1;
		int prod = (int)((r >> 16) % 2000) + 1;
		int chan = (int)((r >> 32) % 37) + 1;
		int day = (int)((r >> 40) % 1096);
		int year = 2022 + day / 365, doy = day % 365;
		int month = doy / 31 + 1, dom = doy % 28 + 1;
		uint64_t r2 = next();
		int cents = (int)(r2 % 100000);
		int qty = (int)((r2 >> 20) % 20) + 1;
		fprintf(f, "%ld,C%05d,P%04d,%s,%04d-%02d-%02d,%d.%02d,%d,Channel %02d\n", i, cust,
			prod, regions[cust % 5], year, month > 12 ? 12 : month, dom, cents / 100,
			cents % 100, qty, chan);
	}
	if (fclose(f) != 0) {
		perror(path);
		return 1;
	}
	snprintf(path, sizeof(path), "%s/customers.csv", argv[1]);
	f = fopen(path, "w");
	if (!f)
		return 1;
	fputs("customer,segment,country\n", f);
	for (int c = 1; c <= 50000; c++)
		fprintf(f, "C%05d,Segment %d,Country %02d\n", c, c % 7, c % 41);
	fclose(f);
	snprintf(path, sizeof(path), "%s/products.csv", argv[1]);
	f = fopen(path, "w");
	if (!f)
		return 1;
	fputs("product,category\n", f);
	for (int p = 1; p <= 2000; p++)
		fprintf(f, "P%04d,Category %02d\n", p, p % 23);
	fclose(f);
	return 0;
}
