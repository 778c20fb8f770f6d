/* Reads a query's rows through a server-side cursor (COM_STMT_FETCH), as an
   application using libmariadb's prepared statements with a cursor does. */
#include <mysql.h>
#include <stdio.h>
#include <stdlib.h>

int main(int argc, char **argv) {
	if (argc != 7) {
		fprintf(stderr, "usage: %s host port user password database query\n", argv[0]);
		return 2;
	}
	MYSQL *db = mysql_init(NULL);
	if (!mysql_real_connect(db, argv[1], argv[3], argv[4], argv[5], atoi(argv[2]), NULL, 0)) {
		fprintf(stderr, "connect: %s\n", mysql_error(db));
		return 1;
	}
	MYSQL_STMT *st = mysql_stmt_init(db);
	unsigned long cursor = CURSOR_TYPE_READ_ONLY, prefetch = 100;
	if (mysql_stmt_prepare(st, argv[6], (unsigned long)-1) ||
	    mysql_stmt_attr_set(st, STMT_ATTR_CURSOR_TYPE, &cursor) ||
	    mysql_stmt_attr_set(st, STMT_ATTR_PREFETCH_ROWS, &prefetch) || mysql_stmt_execute(st)) {
		fprintf(stderr, "statement: %s\n", mysql_stmt_error(st));
		return 1;
	}
	long rows = 0;
	int rc;
	while ((rc = mysql_stmt_fetch(st)) == 0 || rc == MYSQL_DATA_TRUNCATED)
		rows++;
	if (rc != MYSQL_NO_DATA) {
		fprintf(stderr, "fetch: %s\n", mysql_stmt_error(st));
		return 1;
	}
	printf("%ld rows\n", rows);
	mysql_stmt_close(st);
	mysql_close(db);
	return 0;
}
