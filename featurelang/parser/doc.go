// Package parser turns feature SQL, OpenMLDB's dialect, into the syntax tree
// of package ast. It is a hand-written lexer and recursive-descent parser;
// it checks syntax only (names and types are the checker's business).
//
// A feature file, or an OpenMLDB script, is a list of statements separated
// by ';' (the last may lack one; empty statements are skipped):
//
//	CREATE TABLE [IF NOT EXISTS] t (col type [NOT NULL] [DEFAULT e], ...,
//	    INDEX [name](KEY=c | KEY=(c1, c2), TS=c, TTL=10d | TTL=(10d, 100),
//	    TTL_TYPE=absolute|latest|absorlat|absandlat)) [OPTIONS(k = v, ...)];
//	DEPLOY name [OPTIONS(k = v, ...)] SELECT ...;
//	SELECT ... [INTO OUTFILE 'path' [OPTIONS(k = v, ...)]];
//	CREATE DATABASE [IF NOT EXISTS] db;
//	USE db;
//	SET @@[session.|global.]name = value;   -- or SET [SESSION|GLOBAL] name = value
//	LOAD DATA INFILE 'path' INTO TABLE t [OPTIONS(k = v, ...)];
//	SHOW DATABASES | TABLES | DEPLOYMENTS | DEPLOYMENT d | CREATE TABLE t;
//	DESC t;   -- or DESCRIBE t
//	DROP DEPLOYMENT | TABLE | DATABASE [IF EXISTS] name;
//	INSERT INTO t [(c, ...)] VALUES (e, ...), ...;
//	EXPLAIN SELECT ...;
//
// A SET value is a string, a number, TRUE or FALSE. INTO OUTFILE ends only
// the outermost SELECT of a statement (not a subquery, DEPLOY or EXPLAIN).
// Any other statement (CREATE INDEX, CREATE FUNCTION, DELETE, SHOW JOBS,
// STOP JOB, ...) is reported once, as "unsupported statement: CREATE INDEX
// (fenestra runs ...)" at its first token, and skipped up to the next ';'.
//
// A query is
//
//	SELECT [DISTINCT] items [FROM t [AS a] [LAST JOIN u [ORDER BY u.c] ON e]...]
//	    [WHERE e] [GROUP BY e, ...] [HAVING e]
//	    [WINDOW w AS ([UNION t1, (SELECT ...) AS x] PARTITION BY e, ...
//	        ORDER BY e [ASC|DESC], ... ROWS|ROWS_RANGE BETWEEN b AND b
//	        [EXCLUDE CURRENT_ROW] [EXCLUDE CURRENT_TIME] [MAXSIZE n]
//	        [INSTANCE_NOT_IN_WINDOW]), ...]
//	    [ORDER BY e [ASC|DESC], ...] [LIMIT e]
//
// Operator precedence follows OpenMLDB's ZetaSQL grammar, loosest first:
// OR (||); AND (&&); XOR; NOT (!); the non-associative comparisons and
// predicates (= == != <> < <= > >=, IS [NOT] NULL, [NOT] LIKE|ILIKE|RLIKE
// [ESCAPE e], [NOT] IN (...), [NOT] BETWEEN a AND b); |; ^; &; + -;
// * / % DIV MOD; unary - + ~; subscript x[i].
//
// Lexical notes: keywords are case-insensitive; comments are --, # (to the
// end of the line) and /* */; identifiers are ASCII words or backquoted; @@
// prefixes a system variable; a number glued to s, m, h or d is a time
// interval (frames and TTL only), to L a BIGINT, and a decimal glued to f a
// FLOAT. In strings the escapes \\ \' \" \n \t \r \0 \b \Z are decoded and
// any other escaped character keeps its backslash, as MySQL does, so LIKE
// patterns such as '\%' work.
//
// Function names, option keys, TTL_TYPE values and SET variable names and
// scopes are lower-cased; names of columns, tables, databases, deployments,
// windows and aliases keep their case. Frame offsets with a unit are stored
// in milliseconds.
//
// Errors are *diag.List values of positioned errors; see Parse.
package parser
