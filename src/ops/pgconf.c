/* pgconf.c: `fathom pg-config`: the postgresql.conf and pg_hba.conf lines a site needs on
 * its PostgreSQL server, sized from the nodes' real connection use. */
#include "ops/ops.h"

#include <arpa/inet.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>

static const char usage[] =
    "usage: fathom pg-config --nodes N --subnet CIDR [--ssl] [--pool-size P]\n"
    "                        [--database NAME] [--user ROLE]\n"
    "\n"
    "Prints the postgresql.conf and pg_hba.conf lines for a site of N nodes whose addresses\n"
    "are in CIDR (for example 10.0.0.0/24 or fd00::/64).\n"
    "\n"
    "  --nodes N        nodes in the site (1-1000)\n"
    "  --subnet CIDR    where the nodes connect from\n"
    "  --ssl            require TLS (hostssl lines and ssl = on)\n"
    "  --pool-size P    connections in each node's pool, node.conf [database] pool_size\n"
    "                   (default 8)\n"
    "  --database NAME  the site's database (default fathom)\n"
    "  --user ROLE      the site's role (default fathom)\n";

/* Connections one node opens beyond its pool: the change-feed listener, the central
 * role's lease (its own connection) and one for commands run beside it (migrations,
 * fathom CLI calls). */
#define PER_NODE_EXTRA 3
/* Kept free for administrators and maintenance (superuser_reserved_connections is 3). */
#define HEADROOM 10

static bool valid_cidr(const char *s)
{
	char addr[64];
	const char *slash = strchr(s, '/');
	if (!slash || (size_t)(slash - s) >= sizeof(addr))
		return false;
	memcpy(addr, s, (size_t)(slash - s));
	addr[slash - s] = '\0';
	unsigned char buf[16];
	int64_t bits;
	bool v6 = strchr(addr, ':') != NULL;
	if (inet_pton(v6 ? AF_INET6 : AF_INET, addr, buf) != 1)
		return false;
	return str_to_i64(slash + 1, 0, v6 ? 128 : 32, &bits) == 0;
}

static bool valid_name(const char *s)
{
	if (!*s || strlen(s) > 63)
		return false;
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') || *s == '_'))
			return false;
	return true;
}

int ops_pg_config(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"nodes", required_argument, NULL, 'n'},
	    {"subnet", required_argument, NULL, 's'},
	    {"ssl", no_argument, NULL, 'S'},
	    {"pool-size", required_argument, NULL, 'p'},
	    {"database", required_argument, NULL, 'd'},
	    {"user", required_argument, NULL, 'u'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	const char *nodes_s = NULL, *subnet = NULL, *pool_s = "8", *db = "fathom", *user = "fathom";
	bool ssl = false;
	int c;
	optind = 1;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'n': nodes_s = optarg; break;
		case 's': subnet = optarg; break;
		case 'S': ssl = true; break;
		case 'p': pool_s = optarg; break;
		case 'd': db = optarg; break;
		case 'u': user = optarg; break;
		case 'h': fputs(usage, stdout); return 0;
		default: fputs(usage, stderr); return 2;
		}
	}
	int64_t nodes, pool;
	if (!nodes_s || !subnet || optind < argc) {
		fputs(usage, stderr);
		return 2;
	}
	if (str_to_i64(nodes_s, 1, 1000, &nodes) != 0) {
		fprintf(stderr, "fathom: --nodes must be a number from 1 to 1000, not \"%s\"\n",
			nodes_s);
		return 2;
	}
	if (str_to_i64(pool_s, 1, 256, &pool) != 0) {
		fprintf(stderr, "fathom: --pool-size must be a number from 1 to 256, not \"%s\"\n",
			pool_s);
		return 2;
	}
	if (!valid_cidr(subnet)) {
		fprintf(stderr,
			"fathom: --subnet must be an address range like 10.0.0.0/24, not \"%s\"\n",
			subnet);
		return 2;
	}
	if (!valid_name(db) || !valid_name(user)) {
		fprintf(stderr, "fathom: --database and --user take lowercase PostgreSQL names\n");
		return 2;
	}
	int64_t per_node = pool + PER_NODE_EXTRA;
	printf("# postgresql.conf: %lld nodes x (pool %lld + %d) + %d headroom\n", (long long)nodes,
	       (long long)pool, PER_NODE_EXTRA, HEADROOM);
	printf("listen_addresses = '*'\n");
	printf("max_connections = %lld\n", (long long)(nodes * per_node + HEADROOM));
	printf("password_encryption = scram-sha-256\n");
	if (ssl) {
		printf("ssl = on\n");
		printf("ssl_cert_file = 'server.crt'    # the server's certificate and key, in the "
		       "data folder\n");
		printf("ssl_key_file = 'server.key'\n");
		printf("ssl_min_protocol_version = 'TLSv1.2'\n");
	}
	printf("\n# pg_hba.conf: the site's role, from the nodes' subnet only\n");
	printf("%-8s %-15s %-15s %-24s scram-sha-256\n", ssl ? "hostssl" : "host", db, user,
	       subnet);
	if (ssl)
		printf("hostnossl %-12s %-15s %-24s reject\n", db, user, subnet);
	return 0;
}
