/*
 * Copyright (c) 2026 The oidcd authors
 *
 * Permission to use, copy, modify, and distribute this software for any
 * purpose with or without fee is hereby granted, provided that the above
 * copyright notice and this permission notice appear in all copies.
 *
 * THE SOFTWARE IS PROVIDED "AS IS" AND THE AUTHOR DISCLAIMS ALL WARRANTIES
 * WITH REGARD TO THIS SOFTWARE INCLUDING ALL IMPLIED WARRANTIES OF
 * MERCHANTABILITY AND FITNESS. IN NO EVENT SHALL THE AUTHOR BE LIABLE FOR
 * ANY SPECIAL, DIRECT, INDIRECT, OR CONSEQUENTIAL DAMAGES OR ANY DAMAGES
 * WHATSOEVER RESULTING FROM LOSS OF USE, DATA OR PROFITS, WHETHER IN AN
 * ACTION OF CONTRACT, NEGLIGENCE OR OTHER TORTIOUS ACTION, ARISING OUT OF
 * OR IN CONNECTION WITH THE USE OR PERFORMANCE OF THIS SOFTWARE.
 */

/*
 * Unit tests for db.c on a real LMDB env in a mkdtemp directory under
 * /var/tmp (a disk, not tmpfs).  The on-disk format is checked by
 * opening the closed env with plain LMDB calls.
 *
 * T_DB_BENCH=1 adds a small benchmark of synced commits: one txn per
 * put against batches of 32 puts, each in its own nested txn.
 */

#include <sys/types.h>
#include <sys/stat.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>
#include <lmdb.h>

#include "db.h"
#include "log.h"
#include "tap.h"

#define ISSUER		"https://id.example.com/dex"
#define OTHER_ISSUER	"https://other.example.com"

static char		 topdir[64];

static struct db *
open_db(const char *dir, size_t mapsize, unsigned int kinds)
{
	struct db_config	 conf;

	memset(&conf, 0, sizeof(conf));
	conf.dc_mapsize = mapsize;
	conf.dc_kinds = kinds;
	conf.dc_nosync = 1;
	return (db_open(dir, &conf));
}

static void
subdir(char *buf, size_t len, const char *name)
{
	snprintf(buf, len, "%s/%s", topdir, name);
	if (mkdir(buf, 0700) == -1) {
		perror(buf);
		exit(1);
	}
}

/* Open a closed env with plain LMDB, to look at the bytes on disk. */
static MDB_env *
raw_open(const char *dir)
{
	MDB_env	*env;

	if (mdb_env_create(&env) != 0 || mdb_env_set_maxdbs(env, 16) != 0 ||
	    mdb_env_open(env, dir, 0, 0600) != 0) {
		fprintf(stderr, "raw_open %s failed\n", dir);
		exit(1);
	}
	return (env);
}

static int
raw_get(MDB_env *env, const char *dbname, const void *key, size_t klen,
    void *out, size_t *outlen)
{
	MDB_txn	*txn;
	MDB_dbi	 dbi;
	MDB_val	 k, v;
	int	 rc;

	if (mdb_txn_begin(env, NULL, MDB_RDONLY, &txn) != 0)
		return (-1);
	if ((rc = mdb_dbi_open(txn, dbname, 0, &dbi)) == 0) {
		k.mv_data = (void *)key;
		k.mv_size = klen;
		if ((rc = mdb_get(txn, dbi, &k, &v)) == 0) {
			if (v.mv_size > *outlen)
				rc = -1;
			else {
				memcpy(out, v.mv_data, v.mv_size);
				*outlen = v.mv_size;
			}
		}
	}
	mdb_txn_abort(txn);
	return (rc);
}

static int
raw_put(MDB_env *env, const char *dbname, const void *key, size_t klen,
    const void *val, size_t vlen)
{
	MDB_txn	*txn;
	MDB_dbi	 dbi;
	MDB_val	 k, v;
	int	 rc;

	if (mdb_txn_begin(env, NULL, 0, &txn) != 0)
		return (-1);
	if ((rc = mdb_dbi_open(txn, dbname, 0, &dbi)) == 0) {
		k.mv_data = (void *)key;
		k.mv_size = klen;
		v.mv_data = (void *)val;
		v.mv_size = vlen;
		rc = mdb_put(txn, dbi, &k, &v, 0);
	}
	if (rc == 0)
		return (mdb_txn_commit(txn));
	mdb_txn_abort(txn);
	return (rc);
}

static size_t
entries(struct db *db, const char *name)
{
	struct db_stats	 st;
	size_t		 i;

	if (db_stats(db, &st) != DB_OK)
		return ((size_t)-1);
	for (i = 0; i < st.st_ndb; i++)
		if (strcmp(st.st_db[i].se_name, name) == 0)
			return (st.st_db[i].se_entries);
	return ((size_t)-1);
}

static int
filemode(const char *dir, const char *file)
{
	char		 path[256];
	struct stat	 sb;

	snprintf(path, sizeof(path), "%s/%s", dir, file);
	if (stat(path, &sb) == -1)
		return (-1);
	return (sb.st_mode & 07777);
}

static void
test_open_meta(void)
{
	struct db	*db;
	MDB_env		*env;
	char		 dir[128], err[1024], buf[256];
	size_t		 len;
	uint8_t		 two[4] = { 0, 0, 0, 2 }, one[4] = { 0, 0, 0, 1 };

	subdir(dir, sizeof(dir), "meta");
	db = open_db(dir, 0, 0);
	ok(db != NULL, "open creates an env");
	if (db == NULL)
		return;
	is_int(filemode(dir, "data.mdb"), 0600, "data.mdb is mode 0600");
	is_int(filemode(dir, "lock.mdb"), 0600, "lock.mdb is mode 0600");
	is_int(db_meta_check(db, ISSUER, err, sizeof(err)), DB_OK,
	    "first meta check stamps the env");
	is_int(entries(db, "meta"), 2, "meta holds schema and issuer");
	is_int(db_meta_check(db, ISSUER, err, sizeof(err)), DB_OK,
	    "same issuer accepted again");
	db_close(db);

	env = raw_open(dir);
	len = sizeof(buf);
	ok(raw_get(env, "meta", "schema", 6, buf, &len) == 0 && len == 4 &&
	    memcmp(buf, one, 4) == 0, "schema stored as u32 BE 1");
	len = sizeof(buf);
	ok(raw_get(env, "meta", "issuer", 6, buf, &len) == 0 &&
	    len == strlen(ISSUER) && memcmp(buf, ISSUER, len) == 0,
	    "issuer stored as its bytes");
	mdb_env_close(env);

	db = open_db(dir, 0, 0);
	ok(db != NULL, "reopen");
	if (db == NULL)
		return;
	is_int(db_meta_check(db, OTHER_ISSUER, err, sizeof(err)), DB_ERR,
	    "other issuer refused");
	ok(strstr(err, ISSUER) != NULL && strstr(err, OTHER_ISSUER) != NULL,
	    "message names both issuers: %s", err);
	is_int(db_meta_check(db, "", err, sizeof(err)), DB_EINVAL,
	    "empty issuer refused");
	db_close(db);

	env = raw_open(dir);
	ok(raw_put(env, "meta", "schema", 6, two, 4) == 0, "raw: schema 2");
	mdb_env_close(env);
	db = open_db(dir, 0, 0);
	is_int(db_meta_check(db, ISSUER, err, sizeof(err)), DB_ERR,
	    "newer schema refused");
	ok(strstr(err, "newer") != NULL && strstr(err, "2") != NULL,
	    "message names the newer version: %s", err);
	db_close(db);

	env = raw_open(dir);
	ok(raw_put(env, "meta", "schema", 6, one, 3) == 0,
	    "raw: 3-byte schema");
	mdb_env_close(env);
	db = open_db(dir, 0, 0);
	is_int(db_meta_check(db, ISSUER, err, sizeof(err)), DB_ERR,
	    "malformed schema refused");
	db_close(db);
}

struct rawval {
	uint8_t		 buf[512];
	size_t		 len;
};

static int
copy_raw(const void *k, size_t klen, const void *v, size_t vlen, void *arg)
{
	struct rawval	*rv = arg;

	(void)k;
	(void)klen;
	if (vlen > sizeof(rv->buf))
		return (-1);
	memcpy(rv->buf, v, vlen);
	rv->len = vlen;
	return (1);
}

static void
test_records(struct db *db)
{
	struct db_txn	*t;
	struct rawval	 rv;
	json_t		*obj, *got;
	uint8_t		 type;
	const char	*want0 = "{\"a\":\"b\",\"n\":1}";
	const char	*want1 = "{\"a\":\"b\",\"exp\":1000,\"n\":1}";

	obj = json_pack("{s:i,s:s}", "n", 1, "a", "b");
	t = db_txn_begin(db, 1);
	ok(t != NULL, "write txn");
	is_int(db_put(t, DB_KIND_AUTHREQ, "k1", 2, 7, obj, 0), DB_OK,
	    "put without expiry");
	is_int(db_put(t, DB_KIND_AUTHREQ, "k2", 2, 8, obj, 1000), DB_OK,
	    "put with expiry");
	ok(json_object_get(obj, "exp") == NULL, "caller's object unchanged");
	is_int(db_txn_commit(t), DB_OK, "commit");

	t = db_txn_begin(db, 0);
	ok(t != NULL, "read txn");
	is_int(db_get(t, DB_KIND_AUTHREQ, "k1", 2, &type, &got), DB_OK,
	    "get k1");
	is_int(type, 7, "record type round trip");
	ok(got != NULL && json_equal(got, obj), "object round trip");
	json_decref(got);
	is_int(db_get(t, DB_KIND_AUTHREQ, "k2", 2, &type, &got), DB_OK,
	    "get k2");
	is_int(type, 8, "record type 8");
	ok(got != NULL && db_record_exp(got) == 1000, "exp member is 1000");
	json_decref(got);
	is_int(db_get(t, DB_KIND_AUTHREQ, "k3", 2, &type, &got), DB_NOTFOUND,
	    "missing key: DB_NOTFOUND");
	ok(got == NULL, "no object for a missing key");
	is_int(db_get(t, DB_KIND_CODE, "k1", 2, NULL, NULL), DB_NOTFOUND,
	    "kinds are separate databases");

	/* The bytes as stored: header, then compact sorted JSON. */
	memset(&rv, 0, sizeof(rv));
	is_int(db_foreach(t, DB_KIND_AUTHREQ, "k1", 2, copy_raw, &rv), 1,
	    "foreach finds k1");
	ok(rv.len == 8 + strlen(want0) && rv.buf[0] == 7 && rv.buf[1] == 1 &&
	    rv.buf[2] == 0 && rv.buf[3] == 0 && rv.buf[4] == 0 &&
	    rv.buf[5] == 0 && rv.buf[6] == 0 && rv.buf[7] == 0 &&
	    memcmp(rv.buf + 8, want0, strlen(want0)) == 0,
	    "k1 value: header 07 01 0000 00000000 + compact sorted JSON");
	memset(&rv, 0, sizeof(rv));
	db_foreach(t, DB_KIND_AUTHREQ, "k2", 2, copy_raw, &rv);
	ok(rv.len == 8 + strlen(want1) && rv.buf[0] == 8 && rv.buf[2] == 0 &&
	    rv.buf[3] == DB_RECF_EXP &&
	    memcmp(rv.buf + 8, want1, strlen(want1)) == 0,
	    "k2 value: flag DB_RECF_EXP and \"exp\" member");
	is_int(db_put(t, DB_KIND_AUTHREQ, "k9", 2, 7, obj, 0), DB_EINVAL,
	    "put in a read txn refused");
	db_txn_abort(t);

	t = db_txn_begin(db, 1);
	is_int(db_insert(t, DB_KIND_AUTHREQ, "k1", 2, 9, obj, 0), DB_EXISTS,
	    "insert on an existing key: DB_EXISTS");
	is_int(db_get(t, DB_KIND_AUTHREQ, "k1", 2, &type, NULL), DB_OK,
	    "k1 still readable");
	is_int(type, 7, "insert did not overwrite");
	is_int(db_put(t, DB_KIND_AUTHREQ, "", 0, 7, obj, 0), DB_EINVAL,
	    "empty key refused");
	{
		char	 big[DB_KEY_MAX + 1];

		memset(big, 'x', sizeof(big));
		is_int(db_put(t, DB_KIND_AUTHREQ, big, sizeof(big), 7, obj,
		    0), DB_EINVAL, "key over DB_KEY_MAX refused");
		is_int(db_put(t, DB_KIND_AUTHREQ, big, DB_KEY_MAX, 7, obj,
		    5), DB_OK, "key of DB_KEY_MAX accepted with expiry");
		is_int(db_del(t, DB_KIND_AUTHREQ, big, DB_KEY_MAX), DB_OK,
		    "and deleted");
	}
	is_int(db_put(t, DB_KIND_AUTHREQ, "k4", 2, 0, obj, 0), DB_EINVAL,
	    "record type 0 refused");
	is_int(db_put(t, DB_KIND_SUBJECT, "k4", 2, 7, obj, 0), DB_EINVAL,
	    "record put into a dupsort kind refused");
	is_int(db_put(t, 0, "k4", 2, 7, obj, 0), DB_EINVAL, "kind 0 refused");
	is_int(db_put(t, DB_KIND_MAX + 1, "k4", 2, 7, obj, 0), DB_EINVAL,
	    "kind over DB_KIND_MAX refused");
	is_int(db_del(t, DB_KIND_AUTHREQ, "k1", 2), DB_OK, "del k1");
	is_int(db_get(t, DB_KIND_AUTHREQ, "k1", 2, NULL, NULL), DB_NOTFOUND,
	    "k1 gone");
	is_int(db_del(t, DB_KIND_AUTHREQ, "k1", 2), DB_NOTFOUND,
	    "del of a missing key: DB_NOTFOUND");
	is_int(db_del(t, DB_KIND_AUTHREQ, "k2", 2), DB_OK, "del k2");
	is_int(db_expiry_exists(t, 1000, DB_KIND_AUTHREQ, "k2", 2),
	    DB_NOTFOUND, "del removed the expiry entry");
	is_int(db_txn_commit(t), DB_OK, "commit");
	is_int(entries(db, "authreq"), 0, "authreq empty");
	is_int(entries(db, "expiry"), 0, "expiry empty");
	json_decref(obj);
}

static void
test_decode(void)
{
	uint8_t			*buf, b[128];
	size_t			 len;
	json_t			*obj, *got;
	struct db_rechdr	 hdr;
	char			*big;

	obj = json_pack("{s:s}", "x", "y");
	is_int(db_record_encode(5, 0, obj, &buf, &len), DB_OK, "encode");
	is_int(db_record_decode(buf, len, &hdr, &got), DB_OK, "decode");
	ok(hdr.rh_type == 5 && hdr.rh_version == DB_RECORD_VERSION &&
	    hdr.rh_flags == 0, "header fields");
	ok(got != NULL && json_equal(got, obj), "object");
	json_decref(got);
	is_int(db_record_decode(buf, 7, NULL, NULL), DB_EBADREC,
	    "7 bytes (short header) rejected");
	is_int(db_record_decode(buf, 8, NULL, NULL), DB_EBADREC,
	    "header alone rejected");
	is_int(db_record_decode(buf, len - 1, NULL, &got), DB_EBADREC,
	    "truncated JSON rejected");
	ok(got == NULL, "no object on failure");
	is_int(db_record_decode(NULL, 0, NULL, NULL), DB_EBADREC,
	    "NULL rejected");

	memcpy(b, buf, len);
	b[1] = DB_RECORD_VERSION + 1;
	is_int(db_record_decode(b, len, NULL, NULL), DB_EBADREC,
	    "wrong version rejected");
	b[1] = 0;
	is_int(db_record_decode(b, len, NULL, NULL), DB_EBADREC,
	    "version 0 rejected");
	memcpy(b, buf, len);
	b[0] = 0;
	is_int(db_record_decode(b, len, NULL, NULL), DB_EBADREC,
	    "type 0 rejected");
	memcpy(b, buf, len);
	b[2] = 0x80;
	is_int(db_record_decode(b, len, NULL, NULL), DB_EBADREC,
	    "unknown flag rejected");
	memcpy(b, buf, len);
	b[7] = 1;
	is_int(db_record_decode(b, len, NULL, NULL), DB_EBADREC,
	    "nonzero reserved word rejected");
	memcpy(b, buf, len);
	b[3] = DB_RECF_EXP;
	is_int(db_record_decode(b, len, NULL, NULL), DB_EBADREC,
	    "exp flag without exp member rejected");
	free(buf);

#define RAW(s)	do {							\
	memset(b, 0, 8); b[0] = 1; b[1] = DB_RECORD_VERSION;		\
	len = strlen(s); memcpy(b + 8, s, len); len += 8;		\
} while (0)
	RAW("{\"a\":1,\"a\":2}");
	is_int(db_record_decode(b, len, NULL, NULL), DB_EBADREC,
	    "duplicate member rejected");
	RAW("[1,2]");
	is_int(db_record_decode(b, len, NULL, NULL), DB_EBADREC,
	    "JSON array rejected");
	RAW("{\"a\":1} x");
	is_int(db_record_decode(b, len, NULL, NULL), DB_EBADREC,
	    "trailing bytes rejected");
	RAW("{\"a\":1}");
	is_int(db_record_decode(b, len, NULL, NULL), DB_OK,
	    "plain object accepted");
	RAW("{\"exp\":5}");
	is_int(db_record_decode(b, len, NULL, NULL), DB_EBADREC,
	    "exp member without the flag rejected");
	b[3] = DB_RECF_EXP;
	is_int(db_record_decode(b, len, NULL, NULL), DB_OK,
	    "exp member with the flag accepted");
	RAW("{\"exp\":-5}");
	b[3] = DB_RECF_EXP;
	is_int(db_record_decode(b, len, NULL, NULL), DB_EBADREC,
	    "negative exp rejected");
	RAW("{\"exp\":\"5\"}");
	b[3] = DB_RECF_EXP;
	is_int(db_record_decode(b, len, NULL, NULL), DB_EBADREC,
	    "string exp rejected");
	RAW("{\"a\":\"\\u0000\"}");
	is_int(db_record_decode(b, len, NULL, NULL), DB_EBADREC,
	    "NUL in a string rejected");
#undef RAW

	/* The size limit, both ways. */
	big = malloc(DB_RECORD_JSON_MAX + 1);
	memset(big, 'a', DB_RECORD_JSON_MAX);
	big[DB_RECORD_JSON_MAX - 8] = '\0';	/* {"x":"..."} is 8 more */
	json_object_set_new(obj, "x", json_string(big));
	is_int(db_record_encode(5, 0, obj, &buf, &len), DB_OK,
	    "JSON of exactly DB_RECORD_JSON_MAX bytes encodes");
	is_int(len, DB_RECORD_MAX, "to DB_RECORD_MAX bytes");
	is_int(db_record_decode(buf, len, NULL, NULL), DB_OK, "and decodes");
	free(buf);
	big[DB_RECORD_JSON_MAX - 8] = 'a';
	big[DB_RECORD_JSON_MAX - 7] = '\0';
	json_object_set_new(obj, "x", json_string(big));
	is_int(db_record_encode(5, 0, obj, &buf, &len), DB_EINVAL,
	    "one byte more is refused");
	buf = malloc(DB_RECORD_MAX + 1);
	memset(buf, ' ', DB_RECORD_MAX + 1);
	memset(buf, 0, 8);
	buf[0] = 1;
	buf[1] = DB_RECORD_VERSION;
	buf[8] = '{';
	buf[DB_RECORD_MAX] = '}';
	is_int(db_record_decode(buf, DB_RECORD_MAX + 1, NULL, NULL),
	    DB_EBADREC, "value over DB_RECORD_MAX rejected");
	free(buf);
	free(big);

	json_object_set_new(obj, "exp", json_string("soon"));
	is_int(db_record_encode(5, 0, obj, &buf, &len), DB_EINVAL,
	    "encode refuses a bad exp member");
	is_int(db_record_encode(0, 0, obj, &buf, &len), DB_EINVAL,
	    "encode refuses type 0");
	json_decref(obj);
	obj = json_array();
	is_int(db_record_encode(5, 0, obj, &buf, &len), DB_EINVAL,
	    "encode refuses an array");
	json_decref(obj);
}

static void
test_expiry(struct db *db)
{
	struct db_txn	*t;
	json_t		*obj;

	obj = json_object();
	t = db_txn_begin(db, 1);
	is_int(db_put(t, DB_KIND_CODE, "c1", 2, 1, obj, 1000), DB_OK,
	    "put c1 expiring at 1000");
	is_int(db_expiry_exists(t, 1000, DB_KIND_CODE, "c1", 2), DB_OK,
	    "expiry entry at 1000");
	is_int(db_expiry_exists(t, 1000, DB_KIND_AUTHREQ, "c1", 2),
	    DB_NOTFOUND, "entry carries the kind tag");
	is_int(db_put(t, DB_KIND_CODE, "c1", 2, 1, obj, 2000), DB_OK,
	    "update c1 to 2000");
	is_int(db_expiry_exists(t, 1000, DB_KIND_CODE, "c1", 2), DB_NOTFOUND,
	    "old entry gone");
	is_int(db_expiry_exists(t, 2000, DB_KIND_CODE, "c1", 2), DB_OK,
	    "new entry at 2000");
	is_int(db_put(t, DB_KIND_CODE, "c1", 2, 1, obj, 2000), DB_OK,
	    "rewrite with the same expiry");
	is_int(db_put(t, DB_KIND_CODE, "c1", 2, 1, obj, 0), DB_OK,
	    "update c1 to never");
	is_int(db_expiry_exists(t, 2000, DB_KIND_CODE, "c1", 2), DB_NOTFOUND,
	    "entry removed");
	is_int(db_put(t, DB_KIND_CODE, "c1", 2, 1, obj, 3000), DB_OK,
	    "update c1 to 3000");
	is_int(db_txn_commit(t), DB_OK, "commit");
	is_int(entries(db, "expiry"), 1, "exactly one expiry entry");
	t = db_txn_begin(db, 1);
	is_int(db_del(t, DB_KIND_CODE, "c1", 2), DB_OK, "del c1");
	is_int(db_txn_commit(t), DB_OK, "commit");
	is_int(entries(db, "expiry"), 0, "no expiry entry left");
	is_int(entries(db, "code"), 0, "no code left");
	json_decref(obj);
}

static int
put_n(struct db *db, int kind, const char *prefix, int n, uint64_t exp)
{
	struct db_txn	*t;
	json_t		*obj;
	char		 key[64];
	int		 i, ret = DB_OK;

	obj = json_pack("{s:s}", "client_id", "example-app");
	if ((t = db_txn_begin(db, 1)) == NULL)
		return (DB_ERR);
	for (i = 0; i < n && ret == DB_OK; i++) {
		snprintf(key, sizeof(key), "%s%06d", prefix, i);
		ret = db_put(t, kind, key, strlen(key), 1, obj, exp);
	}
	if (ret == DB_OK)
		ret = db_txn_commit(t);
	else
		db_txn_abort(t);
	json_decref(obj);
	return (ret);
}

static void
test_gc(struct db *db)
{
	struct db_txn	*t;
	struct db_stats	 st;
	size_t		 deleted = 99;
	json_t		*obj;

	obj = json_object();
	t = db_txn_begin(db, 1);
	db_put(t, DB_KIND_CODE, "e100", 4, 1, obj, 100);
	db_put(t, DB_KIND_REFRESH, "e200", 4, 1, obj, 200);
	db_put(t, DB_KIND_CODE, "never", 5, 1, obj, 0);
	is_int(db_txn_commit(t), DB_OK, "three records");

	is_int(db_gc(db, 99, 0, &deleted), DB_OK, "gc at 99");
	is_int(deleted, 0, "nothing expired at 99");
	is_int(db_gc(db, 100, 0, &deleted), DB_OK, "gc at 100");
	is_int(deleted, 1, "expires == now is expired");
	t = db_txn_begin(db, 0);
	is_int(db_get(t, DB_KIND_CODE, "e100", 4, NULL, NULL), DB_NOTFOUND,
	    "e100 gone");
	is_int(db_get(t, DB_KIND_REFRESH, "e200", 4, NULL, NULL), DB_OK,
	    "e200 still there");
	db_txn_abort(t);
	is_int(db_gc(db, 100000, 0, &deleted), DB_OK, "gc far ahead");
	is_int(deleted, 1, "e200 deleted");
	t = db_txn_begin(db, 0);
	is_int(db_get(t, DB_KIND_CODE, "never", 5, NULL, NULL), DB_OK,
	    "a record without expiry is never collected");
	db_txn_abort(t);
	is_int(entries(db, "expiry"), 0, "index empty");

	/* A backlog: 2500 expired, 10 not, 1000 per txn. */
	is_int(put_n(db, DB_KIND_AUTHREQ, "old", 2500, 500), DB_OK,
	    "2500 records expiring at 500");
	is_int(put_n(db, DB_KIND_AUTHREQ, "new", 10, 700), DB_OK,
	    "10 records expiring at 700");
	is_int(db_gc(db, 600, 1000, &deleted), DB_OK, "gc at 600");
	is_int(deleted, 2500, "2500 deleted");
	db_stats(db, &st);
	is_int(st.st_gc_last_txns, 3, "in 3 txns of at most 1000");
	is_int(entries(db, "authreq"), 10, "the 10 unexpired remain");
	is_int(entries(db, "expiry"), 10, "with their 10 index entries");

	/* Exactly max_per_txn expired: one txn, no empty second one. */
	is_int(put_n(db, DB_KIND_FAMILY, "f", 5, 650), DB_OK, "5 more");
	is_int(db_gc(db, 650, 5, &deleted), DB_OK, "gc with max 5");
	is_int(deleted, 5, "5 deleted");
	db_stats(db, &st);
	is_int(st.st_gc_last_txns, 1, "in one txn");
	is_int(db_gc(db, 700, 3, &deleted), DB_OK, "gc the rest, max 3");
	is_int(deleted, 10, "10 deleted");
	db_stats(db, &st);
	is_int(st.st_gc_last_txns, 4, "in 4 txns");
	is_int(entries(db, "authreq"), 0, "authreq empty");
	t = db_txn_begin(db, 1);
	db_del(t, DB_KIND_CODE, "never", 5);
	db_txn_commit(t);
	json_decref(obj);
}

/*
 * An index entry left behind that points at a live record with another
 * expiry (as after a damaged value) must not make GC delete it.
 */
static void
test_gc_stale(const char *dir)
{
	struct db	*db;
	struct db_txn	*t;
	MDB_env		*env;
	json_t		*obj;
	uint8_t		 ek[64];
	size_t		 eklen, deleted;

	db = open_db(dir, 0, 0);
	obj = json_object();
	t = db_txn_begin(db, 1);
	is_int(db_put(t, DB_KIND_CODE, "live", 4, 1, obj, 5000), DB_OK,
	    "record expiring at 5000");
	db_txn_commit(t);
	db_close(db);
	env = raw_open(dir);
	eklen = db_expkey(ek, sizeof(ek), 50, DB_KIND_CODE, "live", 4);
	is_int(eklen, 13, "expiry key is 8 + 1 + 4 bytes");
	is_int(raw_put(env, "expiry", ek, eklen, "", 0), 0,
	    "raw: stale entry at 50");
	ek[8] = 13;	/* a tag not opened in this env */
	is_int(raw_put(env, "expiry", ek, eklen, "", 0), 0,
	    "raw: entry with an unknown tag");
	mdb_env_close(env);

	db = open_db(dir, 0, 0);
	is_int(entries(db, "expiry"), 3, "three index entries");
	is_int(db_gc(db, 100, 0, &deleted), DB_OK, "gc at 100");
	is_int(deleted, 0, "nothing deleted");
	t = db_txn_begin(db, 0);
	is_int(db_get(t, DB_KIND_CODE, "live", 4, NULL, NULL), DB_OK,
	    "the live record survives a stale index entry");
	is_int(db_expiry_exists(t, 5000, DB_KIND_CODE, "live", 4), DB_OK,
	    "its own entry is kept");
	db_txn_abort(t);
	is_int(entries(db, "expiry"), 1, "stale entries removed");
	is_int(db_gc(db, 5000, 0, &deleted), DB_OK, "gc at 5000");
	is_int(deleted, 1, "now it goes");
	db_close(db);
	json_decref(obj);
}

static void
test_batch(struct db *db)
{
	struct db_txn	*b, *c;
	json_t		*obj;

	obj = json_pack("{s:s}", "v", "1");
	b = db_txn_begin(db, 1);
	ok(b != NULL, "batch txn");
	ok(db_txn_begin(db, 1) == NULL, "a second write txn is refused");

	c = db_txn_child(b);
	ok(c != NULL, "child 1");
	ok(db_txn_child(b) == NULL, "a second open child is refused");
	is_int(db_put(b, DB_KIND_REFRESH, "x", 1, 1, obj, 0), DB_EINVAL,
	    "the parent is not usable while a child is open");
	is_int(db_insert(c, DB_KIND_REFRESH, "A", 1, 1, obj, 900), DB_OK,
	    "child 1 inserts A");
	is_int(db_txn_commit(c), DB_OK, "child 1 commits");

	c = db_txn_child(b);
	is_int(db_insert(c, DB_KIND_REFRESH, "A", 1, 2, obj, 0), DB_EXISTS,
	    "child 2: duplicate insert fails");
	db_txn_abort(c);

	c = db_txn_child(b);
	is_int(db_put(c, DB_KIND_REFRESH, "B", 1, 1, obj, 950), DB_OK,
	    "child 3 puts B");
	is_int(db_del(c, DB_KIND_REFRESH, "A", 1), DB_OK,
	    "child 3 deletes A");
	/* The request fails later (say, a reuse check): undo it all. */
	db_txn_abort(c);

	c = db_txn_child(b);
	is_int(db_put(c, DB_KIND_REFRESH, "C", 1, 1, obj, 0), DB_OK,
	    "child 4 puts C");
	is_int(db_txn_commit(c), DB_OK, "child 4 commits");

	c = db_txn_child(b);
	db_put(c, DB_KIND_REFRESH, "D", 1, 1, obj, 0);
	is_int(db_txn_commit(b), DB_ERR,
	    "committing with an open child is refused");
	/* b and c are gone now; nothing of the batch is stored. */
	b = db_txn_begin(db, 0);
	is_int(db_get(b, DB_KIND_REFRESH, "A", 1, NULL, NULL), DB_NOTFOUND,
	    "refused batch left nothing");
	db_txn_abort(b);

	/* Run the same batch properly. */
	b = db_txn_begin(db, 1);
	c = db_txn_child(b);
	db_insert(c, DB_KIND_REFRESH, "A", 1, 1, obj, 900);
	db_txn_commit(c);
	c = db_txn_child(b);
	is_int(db_insert(c, DB_KIND_REFRESH, "A", 1, 2, obj, 0), DB_EXISTS,
	    "duplicate insert fails again");
	db_txn_abort(c);
	c = db_txn_child(b);
	db_put(c, DB_KIND_REFRESH, "B", 1, 1, obj, 950);
	db_del(c, DB_KIND_REFRESH, "A", 1);
	db_txn_abort(c);
	c = db_txn_child(b);
	db_put(c, DB_KIND_REFRESH, "C", 1, 1, obj, 0);
	db_txn_commit(c);
	is_int(db_txn_commit(b), DB_OK, "batch commits once");

	b = db_txn_begin(db, 0);
	is_int(db_get(b, DB_KIND_REFRESH, "A", 1, NULL, NULL), DB_OK,
	    "A committed (and not deleted by the aborted child)");
	is_int(db_expiry_exists(b, 900, DB_KIND_REFRESH, "A", 1), DB_OK,
	    "A's expiry entry committed");
	is_int(db_get(b, DB_KIND_REFRESH, "B", 1, NULL, NULL), DB_NOTFOUND,
	    "B of the aborted child absent");
	is_int(db_expiry_exists(b, 950, DB_KIND_REFRESH, "B", 1),
	    DB_NOTFOUND, "B's expiry entry absent");
	is_int(db_get(b, DB_KIND_REFRESH, "C", 1, NULL, NULL), DB_OK,
	    "C committed");
	db_txn_abort(b);
	is_int(entries(db, "refresh"), 2, "two refresh records");
	json_decref(obj);
}

static int
count_cb(const void *k, size_t klen, const void *v, size_t vlen, void *arg)
{
	int	*n = arg;

	(void)k;
	(void)klen;
	(void)v;
	(void)vlen;
	(*n)++;
	return (0);
}

static void
test_dup(struct db *db)
{
	struct db_txn	*t;
	const char	 skey[] = "conn\0sub\0client";
	int		 n;

	t = db_txn_begin(db, 1);
	is_int(db_dup_add(t, DB_KIND_SUBJECT, skey, sizeof(skey),
	    "family-0000001", 14), DB_OK, "dup add 1");
	is_int(db_dup_add(t, DB_KIND_SUBJECT, skey, sizeof(skey),
	    "family-0000002", 14), DB_OK, "dup add 2");
	is_int(db_dup_add(t, DB_KIND_SUBJECT, skey, sizeof(skey),
	    "family-0000001", 14), DB_EXISTS, "same pair: DB_EXISTS");
	is_int(db_dup_add(t, DB_KIND_SUBJECT, "conn\0zzz", 9,
	    "family-0000003", 14), DB_OK, "another subject");
	is_int(db_dup_add(t, DB_KIND_CODE, skey, sizeof(skey), "x", 1),
	    DB_EINVAL, "dup add on a record kind refused");
	n = 0;
	is_int(db_foreach(t, DB_KIND_SUBJECT, skey, sizeof(skey), count_cb,
	    &n), DB_OK, "foreach over one key");
	is_int(n, 2, "two family ids");
	n = 0;
	db_foreach(t, DB_KIND_SUBJECT, "conn", 5, count_cb, &n);
	is_int(n, 3, "prefix \"conn\\0\" matches three");
	n = 0;
	db_foreach(t, DB_KIND_SUBJECT, NULL, 0, count_cb, &n);
	is_int(n, 3, "whole kind has three");
	n = 0;
	db_foreach(t, DB_KIND_SUBJECT, "nope", 4, count_cb, &n);
	is_int(n, 0, "no match for another prefix");
	is_int(db_dup_del(t, DB_KIND_SUBJECT, skey, sizeof(skey),
	    "family-0000001", 14), DB_OK, "dup del one value");
	n = 0;
	db_foreach(t, DB_KIND_SUBJECT, skey, sizeof(skey), count_cb, &n);
	is_int(n, 1, "one left");
	is_int(db_dup_del(t, DB_KIND_SUBJECT, "conn\0zzz", 9, NULL, 0),
	    DB_OK, "dup del whole key");
	is_int(db_dup_del(t, DB_KIND_SUBJECT, "conn\0zzz", 9, NULL, 0),
	    DB_NOTFOUND, "again: DB_NOTFOUND");
	is_int(db_txn_commit(t), DB_OK, "commit");
	is_int(entries(db, "subject"), 1, "one subject entry");
}

static void
test_reopen(const char *dir)
{
	struct db	*db;
	struct db_txn	*t;
	json_t		*obj, *got = NULL;
	char		 err[512];

	db = open_db(dir, 0, 0);
	ok(db != NULL, "reopen after close");
	if (db == NULL)
		return;
	is_int(db_meta_check(db, ISSUER, err, sizeof(err)), DB_OK,
	    "issuer still matches");
	obj = json_pack("{s:s}", "v", "1");
	t = db_txn_begin(db, 0);
	is_int(db_get(t, DB_KIND_REFRESH, "C", 1, NULL, &got), DB_OK,
	    "C survived close and reopen");
	ok(got != NULL && json_equal(got, obj), "with its content");
	is_int(db_expiry_exists(t, 900, DB_KIND_REFRESH, "A", 1), DB_OK,
	    "and the index");
	db_txn_abort(t);
	is_int(entries(db, "subject"), 1, "subject survived");
	json_decref(got);
	json_decref(obj);
	db_close(db);
}

static void
test_kinds(const char *dir)
{
	struct db	*db;
	struct db_txn	*t;
	struct db_stats	 st;
	json_t		*obj;

	is_str(db_kind_name(DB_KIND_KEYS), "keys", "kind name");
	is_int(db_kind_byname("refresh"), DB_KIND_REFRESH, "kind by name");
	is_int(db_kind_byname("nope"), -1, "unknown name");
	ok(db_kind_name(DB_KIND_MAX) == NULL, "unused tag has no name");

	db = open_db(dir, 0, DB_KINDS_SIGNER);
	ok(db != NULL, "signer env: keys only");
	if (db == NULL)
		return;
	obj = json_object();
	t = db_txn_begin(db, 1);
	is_int(db_put(t, DB_KIND_KEYS, "kid1", 4, 1, obj, 0), DB_OK,
	    "put a key");
	is_int(db_put(t, DB_KIND_CODE, "c", 1, 1, obj, 0), DB_EINVAL,
	    "code is not open in the signer env");
	db_txn_commit(t);
	db_stats(db, &st);
	is_int(st.st_ndb, 3, "stats list meta, expiry and keys");
	ok(st.st_ndb == 3 && strcmp(st.st_db[2].se_name, "keys") == 0 &&
	    st.st_db[2].se_entries == 1, "keys has one entry");
	ok(st.st_mapsize == DB_MAPSIZE_DEFAULT && st.st_used > 0 &&
	    st.st_used < st.st_mapsize && st.st_maxreaders >= 4,
	    "map size %zu, used %zu, readers %u/%u", st.st_mapsize,
	    st.st_used, st.st_readers, st.st_maxreaders);
	t = db_txn_begin(db, 0);
	is_int(db_set_mapsize(db, 8 * 1024 * 1024), DB_EINVAL,
	    "mapsize cannot change while a txn is open");
	db_txn_abort(t);
	is_int(db_set_mapsize(db, 1024), DB_EINVAL,
	    "mapsize under the minimum refused");
	is_int(db_set_mapsize(db, 8 * 1024 * 1024), DB_OK, "set mapsize");
	db_stats(db, &st);
	is_int(st.st_mapsize, 8 * 1024 * 1024, "stats show the new size");
	t = db_txn_begin(db, 0);
	is_int(db_get(t, DB_KIND_KEYS, "kid1", 4, NULL, NULL), DB_OK,
	    "data readable after the change");
	db_txn_abort(t);
	db_close(db);
	json_decref(obj);
	ok(open_db(dir, 0, DB_KINDBIT(DB_KIND_MAX)) == NULL,
	    "opening an unregistered kind fails");
	ok(open_db(dir, 1024, 0) == NULL, "mapsize under the minimum fails");
}

static void
test_full(const char *dir)
{
	struct db	*db;
	struct db_txn	*t, *b, *c;
	struct db_stats	 st;
	json_t		*obj;
	char		*fill, key[32];
	int		 i, ret = DB_OK, good = 0;

	db = open_db(dir, 256 * 1024, 0);
	ok(db != NULL, "tiny env of %lu bytes", DB_MAPSIZE_MIN);
	if (db == NULL)
		return;
	fill = malloc(1500);
	memset(fill, 'f', 1499);
	fill[1499] = '\0';
	obj = json_pack("{s:s}", "fill", fill);

	/* One txn: a put fails, and then so does the commit. */
	t = db_txn_begin(db, 1);
	for (i = 0; i < 1000; i++) {
		snprintf(key, sizeof(key), "k%04d", i);
		if ((ret = db_put(t, DB_KIND_AUTHREQ, key, strlen(key), 1,
		    obj, 0)) != DB_OK)
			break;
	}
	is_int(ret, DB_EFULL, "a put in a full map: DB_EFULL after %d", i);
	is_int(db_put(t, DB_KIND_AUTHREQ, "zz", 2, 1, obj, 0), DB_EFULL,
	    "the txn refuses further puts");
	is_int(db_txn_commit(t), DB_EFULL, "and its commit");
	is_int(entries(db, "authreq"), 0, "nothing of it stored");

	for (i = 0; i < 1000; i++) {
		t = db_txn_begin(db, 1);
		snprintf(key, sizeof(key), "k%04d", i);
		ret = db_put(t, DB_KIND_AUTHREQ, key, strlen(key), 1, obj,
		    1000 + i);
		if (ret != DB_OK) {
			db_txn_abort(t);
			break;
		}
		if ((ret = db_txn_commit(t)) != DB_OK)
			break;
		good++;
	}
	is_int(ret, DB_EFULL, "MDB_MAP_FULL gives DB_EFULL after %d puts",
	    good);
	db_stats(db, &st);
	ok(st.st_full == 1, "stats report the env full");

	/* In a batch, the full child is dropped and the parent lives. */
	is_int(db_gc(db, 1000 + good / 2, 0, NULL), DB_OK,
	    "gc in a full map frees half of it");
	db_stats(db, &st);
	is_int(entries(db, "authreq"), good - good / 2 - 1,
	    "%d records left", good - good / 2 - 1);
	b = db_txn_begin(db, 1);
	for (i = 0, ret = DB_OK; i < 1000 && ret == DB_OK; i++) {
		c = db_txn_child(b);
		snprintf(key, sizeof(key), "b%04d", i);
		ret = db_put(c, DB_KIND_AUTHREQ, key, strlen(key), 1, obj, 0);
		if (ret == DB_OK)
			ret = db_txn_commit(c);
		else
			db_txn_abort(c);
	}
	is_int(ret, DB_EFULL, "a child hits DB_EFULL after %d puts", i - 1);
	/*
	 * The batch commit itself needs pages (the free list), so it may
	 * be full as well; either way it is all or nothing.
	 */
	ret = db_txn_commit(b);
	ok(ret == DB_OK || ret == DB_EFULL,
	    "batch commit after a full child: %s", db_strerror(ret));
	t = db_txn_begin(db, 0);
	is_int(db_get(t, DB_KIND_AUTHREQ, "b0000", 5, NULL, NULL),
	    ret == DB_OK ? DB_OK : DB_NOTFOUND,
	    "the children before it are stored iff the batch committed");
	db_txn_abort(t);
	db_stats(db, &st);
	is_int(st.st_full, ret == DB_OK ? 0 : 1,
	    "the full flag follows the last commit");
	json_decref(obj);
	free(fill);
	db_close(db);
}

/*
 * The case group commit must survive: in a nearly full map one request
 * of a batch does not fit, the next small one does, and the batch
 * commits with the small one.
 */
static void
test_full_batch(const char *dir)
{
	struct db	*db;
	struct db_txn	*t, *b, *c;
	struct db_stats	 st;
	json_t		*med, *big, *tiny;
	char		*fill, key[32];
	int		 i, ret;

	db = open_db(dir, 256 * 1024, 0);
	ok(db != NULL, "256 KiB env");
	if (db == NULL)
		return;
	fill = malloc(40001);
	memset(fill, 'm', 40000);
	fill[40000] = '\0';
	big = json_pack("{s:s}", "f", fill);
	fill[12000] = '\0';
	med = json_pack("{s:s}", "f", fill);
	tiny = json_pack("{s:i}", "n", 1);
	for (i = 0; i < 100; i++) {
		t = db_txn_begin(db, 1);
		snprintf(key, sizeof(key), "m%03d", i);
		if ((ret = db_put(t, DB_KIND_CODE, key, strlen(key), 1, med,
		    0)) != DB_OK) {
			db_txn_abort(t);
			break;
		}
		if ((ret = db_txn_commit(t)) != DB_OK)
			break;
	}
	is_int(ret, DB_EFULL, "filled with %d records of 12 KB", i);

	b = db_txn_begin(db, 1);
	c = db_txn_child(b);
	is_int(db_put(c, DB_KIND_CODE, "big", 3, 1, big, 0), DB_EFULL,
	    "a 40 KB record does not fit");
	db_txn_abort(c);
	c = db_txn_child(b);
	ok(c != NULL, "the batch takes another request");
	is_int(db_put(c, DB_KIND_CODE, "tiny", 4, 1, tiny, 9), DB_OK,
	    "a tiny record fits");
	is_int(db_txn_commit(c), DB_OK, "its child commits");
	is_int(db_txn_commit(b), DB_OK, "the batch commits");
	t = db_txn_begin(db, 0);
	is_int(db_get(t, DB_KIND_CODE, "tiny", 4, NULL, NULL), DB_OK,
	    "tiny stored");
	is_int(db_expiry_exists(t, 9, DB_KIND_CODE, "tiny", 4), DB_OK,
	    "with its index entry");
	is_int(db_get(t, DB_KIND_CODE, "big", 3, NULL, NULL), DB_NOTFOUND,
	    "big not stored");
	db_txn_abort(t);
	db_stats(db, &st);
	is_int(st.st_full, 0, "a good commit clears the full flag");
	json_decref(big);
	json_decref(med);
	json_decref(tiny);
	free(fill);
	db_close(db);
}

/* As in the chroot: the env is "." of the current directory. */
static void
test_dot(const char *dir)
{
	struct db	*db;
	char		 cwd[256], err[256];

	if (getcwd(cwd, sizeof(cwd)) == NULL || chdir(dir) == -1) {
		ok(0, "chdir %s", dir);
		return;
	}
	db = open_db(".", 0, 0);
	ok(db != NULL, "env opened as \".\"");
	if (db != NULL) {
		is_int(db_meta_check(db, ISSUER, err, sizeof(err)), DB_OK,
		    "and stamped");
		db_close(db);
	}
	ok(chdir(cwd) == 0, "back to %s", cwd);
	is_int(filemode(dir, "data.mdb"), 0600, "data.mdb in that dir");
}

static void
test_writemap(const char *dir)
{
	struct db_config conf;
	struct db	*db;
	struct db_txn	*t;
	json_t		*obj;

	memset(&conf, 0, sizeof(conf));
	conf.dc_nosync = 1;
	conf.dc_writemap = 1;
	conf.dc_kinds = DB_KINDS_SIGNER;
	db = db_open(dir, &conf);
	ok(db != NULL, "MDB_WRITEMAP env");
	if (db == NULL)
		return;
	obj = json_object();
	t = db_txn_begin(db, 1);
	ok(db_txn_child(t) == NULL, "no nested txn with MDB_WRITEMAP");
	is_int(db_put(t, DB_KIND_KEYS, "k", 1, 1, obj, 77), DB_OK,
	    "the parent is still usable");
	is_int(db_txn_commit(t), DB_OK, "commit");
	t = db_txn_begin(db, 0);
	is_int(db_expiry_exists(t, 77, DB_KIND_KEYS, "k", 1), DB_OK,
	    "record and index stored");
	db_txn_abort(t);
	json_decref(obj);
	db_close(db);
}

static void
test_tmpdir(void)
{
	struct db	*db;
	char		 dir[256];
	struct stat	 sb;

	is_int(db_tmpdir_create(topdir, dir, sizeof(dir)), 0, "tmpdir");
	ok(stat(dir, &sb) == 0 && S_ISDIR(sb.st_mode) &&
	    (sb.st_mode & 0777) == 0700, "private directory %s", dir);
	db = open_db(dir, 0, 0);
	ok(db != NULL, "env in it");
	db_close(db);
	is_int(db_tmpdir_remove(dir), 0, "removed");
	ok(stat(dir, &sb) == -1 && errno == ENOENT, "directory gone");
	is_int(db_tmpdir_create(topdir, dir, 10), -1,
	    "too small a buffer fails");
}

static double
now_sec(void)
{
	struct timespec	 ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (ts.tv_sec + ts.tv_nsec / 1e9);
}

/* Synced commits on this disk: one per put, then one per 32 puts. */
static void
bench(void)
{
	struct db_config conf;
	struct db	*db;
	struct db_txn	*b, *c;
	json_t		*obj;
	char		 dir[128], key[32];
	double		 t0, t1;
	int		 i, j, n = 1000;
	uint8_t		 kb[32];

	subdir(dir, sizeof(dir), "bench");
	memset(&conf, 0, sizeof(conf));
	db = db_open(dir, &conf);
	obj = json_pack("{s:s,s:s,s:[s,s],s:i}", "client_id", "example-app",
	    "connector_id", "authentik", "scopes", "openid", "email",
	    "generation", 1);
	memset(kb, 0, sizeof(kb));

	t0 = now_sec();
	for (i = 0; i < n; i++) {
		snprintf(key, sizeof(key), "%08d", i);
		memcpy(kb, key, 8);
		b = db_txn_begin(db, 1);
		db_put(b, DB_KIND_REFRESH, kb, 32, 1, obj, 2000000000);
		db_txn_commit(b);
	}
	t1 = now_sec();
	diag("bench: 1 put per synced txn: %d puts in %.2f s = %.0f puts/s",
	    n, t1 - t0, n / (t1 - t0));

	n = 32 * 200;
	t0 = now_sec();
	for (i = 0; i < n; i += 32) {
		b = db_txn_begin(db, 1);
		for (j = 0; j < 32; j++) {
			snprintf(key, sizeof(key), "b%07d", i + j);
			memcpy(kb, key, 8);
			c = db_txn_child(b);
			db_put(c, DB_KIND_REFRESH, kb, 32, 1, obj, 2000000000);
			db_txn_commit(c);
		}
		db_txn_commit(b);
	}
	t1 = now_sec();
	diag("bench: 32 puts (nested txn each) per synced txn: %d puts in "
	    "%.2f s = %.0f puts/s", n, t1 - t0, n / (t1 - t0));

	t0 = now_sec();
	for (i = 0; i < n; i += 32) {
		b = db_txn_begin(db, 1);
		for (j = 0; j < 32; j++) {
			snprintf(key, sizeof(key), "c%07d", i + j);
			memcpy(kb, key, 8);
			db_put(b, DB_KIND_REFRESH, kb, 32, 1, obj, 2000000000);
		}
		db_txn_commit(b);
	}
	t1 = now_sec();
	diag("bench: 32 puts (no nesting) per synced txn: %d puts in "
	    "%.2f s = %.0f puts/s", n, t1 - t0, n / (t1 - t0));
	json_decref(obj);
	db_close(db);
}

static void
rmtree(void)
{
	char	 cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", topdir);
	if (system(cmd) != 0)
		fprintf(stderr, "could not remove %s\n", topdir);
}

int
main(void)
{
	struct db	*db;
	char		 dir[128], err[512];

	log_init(1, LOG_DAEMON);
	snprintf(topdir, sizeof(topdir), "/var/tmp/t_db.XXXXXX");
	if (mkdtemp(topdir) == NULL) {
		perror("mkdtemp");
		return (1);
	}

	test_open_meta();
	test_decode();

	subdir(dir, sizeof(dir), "main");
	db = open_db(dir, 0, 0);
	ok(db != NULL, "main env");
	if (db == NULL) {
		rmtree();
		return (tap_done());
	}
	is_int(db_meta_check(db, ISSUER, err, sizeof(err)), DB_OK, "stamp");
	{
		struct db_txn	*t = db_txn_begin(db, 1);

		is_int(db_meta_check(db, ISSUER, err, sizeof(err)), DB_EINVAL,
		    "meta check refused while a write txn is open");
		db_txn_abort(t);
	}
	test_records(db);
	test_expiry(db);
	test_gc(db);
	test_batch(db);
	test_dup(db);
	db_close(db);
	test_reopen(dir);

	subdir(dir, sizeof(dir), "stale");
	test_gc_stale(dir);
	subdir(dir, sizeof(dir), "signer");
	test_kinds(dir);
	subdir(dir, sizeof(dir), "full");
	test_full(dir);
	subdir(dir, sizeof(dir), "fullbatch");
	test_full_batch(dir);
	subdir(dir, sizeof(dir), "dot");
	test_dot(dir);
	subdir(dir, sizeof(dir), "writemap");
	test_writemap(dir);
	test_tmpdir();
	if (getenv("T_DB_BENCH") != NULL)
		bench();

	rmtree();
	return (tap_done());
}
