/*
 * dlopen_client: a PostgreSQL client whose TLS library is loaded late and
 * under another name, as Python wheels and conda environments bundle one.
 *
 *   dlopen_client LIBSSL CONNINFO READY STATEMENT...
 *
 * It dlopens LIBSSL (a copy of libssl under any name), then libpq, whose
 * libssl.so.3 dependency ld.so resolves to the copy already loaded (by its
 * SONAME). Unless READY is "-", it then writes a line to the file READY
 * and waits for a line on standard input before it connects with CONNINFO
 * and runs each statement, printing its rows' first column.
 */
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>

typedef void PGconn;
typedef void PGresult;

#define LOAD(lib, name)                                                       \
	name = dlsym(lib, #name);                                             \
	if (!name) {                                                          \
		fprintf(stderr, "dlopen_client: no %s: %s\n", #name, dlerror()); \
		return 2;                                                     \
	}

int main(int argc, char **argv)
{
	if (argc < 4) {
		fprintf(stderr, "usage: dlopen_client LIBSSL CONNINFO READY STATEMENT...\n");
		return 2;
	}
	void *ssl = dlopen(argv[1], RTLD_NOW | RTLD_GLOBAL);
	if (!ssl) {
		fprintf(stderr, "dlopen_client: %s\n", dlerror());
		return 2;
	}
	void *pq = dlopen("libpq.so.5", RTLD_NOW);
	if (!pq) {
		fprintf(stderr, "dlopen_client: %s\n", dlerror());
		return 2;
	}
	PGconn *(*PQconnectdb)(const char *);
	int (*PQstatus)(const PGconn *);
	char *(*PQerrorMessage)(const PGconn *);
	PGresult *(*PQexec)(PGconn *, const char *);
	int (*PQresultStatus)(const PGresult *);
	int (*PQntuples)(const PGresult *);
	char *(*PQgetvalue)(const PGresult *, int, int);
	void (*PQclear)(PGresult *);
	void (*PQfinish)(PGconn *);
	void *(*PQgetssl)(PGconn *);
	LOAD(pq, PQconnectdb);
	LOAD(pq, PQstatus);
	LOAD(pq, PQerrorMessage);
	LOAD(pq, PQexec);
	LOAD(pq, PQresultStatus);
	LOAD(pq, PQntuples);
	LOAD(pq, PQgetvalue);
	LOAD(pq, PQclear);
	LOAD(pq, PQfinish);
	LOAD(pq, PQgetssl);

	if (argv[3][0] != '-') {
		FILE *ready = fopen(argv[3], "w");
		if (!ready || fprintf(ready, "loaded\n") < 0 || fclose(ready) != 0) {
			perror("dlopen_client: writing the ready file");
			return 2;
		}
		char line[16];
		if (!fgets(line, sizeof(line), stdin)) {
			fprintf(stderr, "dlopen_client: no go-ahead on standard input\n");
			return 2;
		}
	}

	PGconn *c = PQconnectdb(argv[2]);
	if (PQstatus(c) != 0) {
		fprintf(stderr, "dlopen_client: connecting: %s", PQerrorMessage(c));
		return 1;
	}
	if (!PQgetssl(c)) {
		fprintf(stderr, "dlopen_client: the connection is not TLS\n");
		return 1;
	}
	for (int i = 4; i < argc; i++) {
		PGresult *r = PQexec(c, argv[i]);
		int st = PQresultStatus(r);
		if (st != 1 && st != 2) { /* PGRES_COMMAND_OK, PGRES_TUPLES_OK */
			fprintf(stderr, "dlopen_client: %s: %s", argv[i], PQerrorMessage(c));
			return 1;
		}
		for (int row = 0; st == 2 && row < PQntuples(r); row++)
			printf("%s\n", PQgetvalue(r, row, 0));
		PQclear(r);
	}
	PQfinish(c);
	return 0;
}
