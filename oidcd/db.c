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
 * The LMDB layer: one env per process that owns data (storage, signer),
 * named databases per record kind, an expiry index kept in step with
 * every write, garbage collection over that index, and the transaction
 * calls that the storage process uses for group commit.  The layout is
 * described in db.h.
 *
 * Nothing here logs a key or a value: keys are hashes of bearer secrets
 * and values hold identities.  Messages name the kind and the LMDB error.
 */

#include <sys/types.h>
#include <sys/stat.h>

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>
#include <lmdb.h>

#include "db.h"
#include "log.h"

#define DB_META_SCHEMA	"schema"
#define DB_META_ISSUER	"issuer"
/* First guess at a record's JSON size; grows to the largest seen. */
#define DB_RECORD_HINT	1024

struct db_kindinfo {
	int		 ki_tag;
	const char	*ki_name;
	unsigned int	 ki_flags;	/* extra mdb_dbi_open() flags */
};

/*
 * The registry of record kinds.  The name is the LMDB database name
 * (what mdb_dump -s takes); the tag is in db.h and on disk.
 */
static const struct db_kindinfo db_kinds[] = {
	{ DB_KIND_AUTHREQ,	"authreq",	0 },
	{ DB_KIND_CODE,		"code",		0 },
	{ DB_KIND_REFRESH,	"refresh",	0 },
	{ DB_KIND_FAMILY,	"family",	0 },
	{ DB_KIND_SUBJECT,	"subject",	MDB_DUPSORT },
	{ DB_KIND_KEYS,		"keys",		0 },
	{ DB_KIND_REVOKED,	"revoked",	0 },
	{ DB_KIND_DEVREQ,	"devreq",	0 },
	{ DB_KIND_DEVTOKEN,	"devtoken",	0 },
	{ DB_KIND_SESSION,	"session",	0 },
};

struct db {
	MDB_env		*db_env;
	MDB_dbi		 db_meta;
	MDB_dbi		 db_expiry;
	MDB_dbi		 db_dbi[DB_KIND_MAX + 1];
	/* The kinds open in this env; NULL for the others. */
	const struct db_kindinfo *db_ki[DB_KIND_MAX + 1];
	int		 db_writemap;
	int		 db_full;
	int		 db_wtxn;	/* a write txn is open */
	int		 db_ntxn;	/* top-level txns open */
	uint64_t	 db_gc_passes;
	uint64_t	 db_gc_txns;
	uint64_t	 db_gc_deleted;
	uint64_t	 db_gc_last_txns;
};

struct db_txn {
	struct db	*t_db;
	MDB_txn		*t_txn;
	struct db_txn	*t_parent;
	struct db_txn	*t_child;
	int		 t_write;
	int		 t_error;	/* DB_ code of a failed LMDB op, or 0 */
};

static void
put_be16(uint8_t *p, uint16_t v)
{
	p[0] = v >> 8;
	p[1] = v;
}

static void
put_be32(uint8_t *p, uint32_t v)
{
	p[0] = v >> 24;
	p[1] = v >> 16;
	p[2] = v >> 8;
	p[3] = v;
}

static void
put_be64(uint8_t *p, uint64_t v)
{
	put_be32(p, v >> 32);
	put_be32(p + 4, v);
}

static uint16_t
get_be16(const uint8_t *p)
{
	return ((uint16_t)(p[0] << 8 | p[1]));
}

static uint32_t
get_be32(const uint8_t *p)
{
	return ((uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	    (uint32_t)p[2] << 8 | p[3]);
}

static uint64_t
get_be64(const uint8_t *p)
{
	return ((uint64_t)get_be32(p) << 32 | get_be32(p + 4));
}

const char *
db_strerror(int rc)
{
	switch (rc) {
	case DB_OK:
		return ("success");
	case DB_ERR:
		return ("database error");
	case DB_NOTFOUND:
		return ("not found");
	case DB_EXISTS:
		return ("already exists");
	case DB_EFULL:
		return ("database full");
	case DB_EBADREC:
		return ("malformed record");
	case DB_EINVAL:
		return ("invalid argument");
	}
	return ("unknown database error");
}

const char *
db_kind_name(int kind)
{
	size_t	 i;

	for (i = 0; i < sizeof(db_kinds) / sizeof(db_kinds[0]); i++)
		if (db_kinds[i].ki_tag == kind)
			return (db_kinds[i].ki_name);
	return (NULL);
}

int
db_kind_byname(const char *name)
{
	size_t	 i;

	for (i = 0; i < sizeof(db_kinds) / sizeof(db_kinds[0]); i++)
		if (strcmp(db_kinds[i].ki_name, name) == 0)
			return (db_kinds[i].ki_tag);
	return (-1);
}

/*
 * Turn an LMDB result into a DB_ code.  Anything but "not found" and
 * "exists" leaves an LMDB write txn unusable, so remember it in the txn:
 * its commit is then refused and the caller must abort it.
 */
static int
db_mdberr(struct db_txn *t, int rc, const char *what)
{
	switch (rc) {
	case MDB_SUCCESS:
		return (DB_OK);
	case MDB_NOTFOUND:
		return (DB_NOTFOUND);
	case MDB_KEYEXIST:
		return (DB_EXISTS);
	case MDB_MAP_FULL:
	case MDB_TXN_FULL:
		/* Loud: the operator must raise storage.config mapSize. */
		log_warnx("%s: %s, requests fail until space is freed",
		    what, mdb_strerror(rc));
		if (t != NULL) {
			t->t_db->db_full = 1;
			t->t_error = DB_EFULL;
		}
		return (DB_EFULL);
	default:
		log_warnx("%s: %s", what, mdb_strerror(rc));
		if (t != NULL)
			t->t_error = DB_ERR;
		return (DB_ERR);
	}
}

/*
 * Records.
 */

/*
 * The expiry a record carries: 0 when none.  A valid "exp" is a
 * positive integer; anything else is (uint64_t)-1, never a real time.
 */
uint64_t
db_record_exp(const json_t *obj)
{
	json_t		*v;
	json_int_t	 i;

	if ((v = json_object_get(obj, DB_EXP_MEMBER)) == NULL)
		return (0);
	if (!json_is_integer(v) || (i = json_integer_value(v)) <= 0)
		return (UINT64_MAX);
	return ((uint64_t)i);
}

/*
 * Encode a record.  DB_RECF_EXP is set or cleared here from the
 * object itself, so the flag and the "exp" member always agree.
 */
int
db_record_encode(uint8_t type, uint16_t flags, json_t *obj, uint8_t **bufp,
    size_t *lenp)
{
	uint8_t		*buf;
	size_t		 jlen, n;
	uint64_t	 exp;
	const size_t	 jflags = JSON_COMPACT | JSON_SORT_KEYS;
	static size_t	 hint = DB_RECORD_HINT;

	*bufp = NULL;
	*lenp = 0;
	if (type == 0 || !json_is_object(obj) ||
	    (flags & ~DB_RECF_MASK) != 0)
		return (DB_EINVAL);
	if ((exp = db_record_exp(obj)) == UINT64_MAX)
		return (DB_EINVAL);
	if (exp != 0)
		flags |= DB_RECF_EXP;
	else
		flags &= ~DB_RECF_EXP;

	/*
	 * Dump once into a buffer of the size the last record needed;
	 * only a record larger than that is dumped a second time.  Two
	 * dumps of every record (one to size it) showed in the token
	 * endpoint's profile.
	 */
	if ((buf = malloc(DB_RECHDR_LEN + hint)) == NULL) {
		log_warn("%s: malloc", __func__);
		return (DB_ERR);
	}
	jlen = json_dumpb(obj, (char *)buf + DB_RECHDR_LEN, hint, jflags);
	if (jlen == 0 || jlen > DB_RECORD_JSON_MAX) {
		free(buf);
		return (DB_EINVAL);
	}
	if (jlen > hint) {
		free(buf);
		hint = jlen;
		if ((buf = malloc(DB_RECHDR_LEN + jlen)) == NULL) {
			log_warn("%s: malloc", __func__);
			return (DB_ERR);
		}
		n = json_dumpb(obj, (char *)buf + DB_RECHDR_LEN, jlen,
		    jflags);
		if (n != jlen) {
			free(buf);
			return (DB_EINVAL);
		}
	}
	buf[0] = type;
	buf[1] = DB_RECORD_VERSION;
	put_be16(buf + 2, flags);
	put_be32(buf + 4, 0);
	*bufp = buf;
	*lenp = DB_RECHDR_LEN + jlen;
	return (DB_OK);
}

static int
db_rechdr_decode(const uint8_t *p, size_t len, struct db_rechdr *hdr)
{
	if (len < DB_RECHDR_LEN || len > DB_RECORD_MAX)
		return (DB_EBADREC);
	hdr->rh_type = p[0];
	hdr->rh_version = p[1];
	hdr->rh_flags = get_be16(p + 2);
	if (hdr->rh_type == 0 || hdr->rh_version != DB_RECORD_VERSION ||
	    (hdr->rh_flags & ~DB_RECF_MASK) != 0 || get_be32(p + 4) != 0)
		return (DB_EBADREC);
	return (DB_OK);
}

/*
 * Decode a stored value strictly: the header must be this version with
 * no unknown flag and a zero reserved word, the rest exactly one JSON
 * object without duplicate member names, and "exp" must agree with the
 * header flag.  objp may be NULL to only validate.
 */
int
db_record_decode(const void *buf, size_t len, struct db_rechdr *hdr,
    json_t **objp)
{
	struct db_rechdr hbuf;
	json_t		*obj;
	json_error_t	 jerr;
	uint64_t	 exp;

	if (objp != NULL)
		*objp = NULL;
	if (hdr == NULL)
		hdr = &hbuf;
	if (buf == NULL || db_rechdr_decode(buf, len, hdr) != DB_OK)
		return (DB_EBADREC);
	obj = json_loadb((const char *)buf + DB_RECHDR_LEN,
	    len - DB_RECHDR_LEN, JSON_REJECT_DUPLICATES, &jerr);
	if (obj == NULL)
		return (DB_EBADREC);
	if (!json_is_object(obj))
		goto bad;
	exp = db_record_exp(obj);
	if (exp == UINT64_MAX)
		goto bad;
	if ((exp != 0) != ((hdr->rh_flags & DB_RECF_EXP) != 0))
		goto bad;
	if (objp != NULL)
		*objp = obj;
	else
		json_decref(obj);
	return (DB_OK);
 bad:
	json_decref(obj);
	return (DB_EBADREC);
}

/*
 * The expiry of a stored value, for moving or checking its index entry.
 * Only a value whose header says it expires needs its JSON parsed.
 */
static int
db_value_exp(const MDB_val *v, uint64_t *exp)
{
	struct db_rechdr hdr;
	json_t		*obj;

	*exp = 0;
	if (db_rechdr_decode(v->mv_data, v->mv_size, &hdr) != DB_OK)
		return (DB_EBADREC);
	if ((hdr.rh_flags & DB_RECF_EXP) == 0)
		return (DB_OK);
	if (db_record_decode(v->mv_data, v->mv_size, &hdr, &obj) != DB_OK)
		return (DB_EBADREC);
	*exp = db_record_exp(obj);
	json_decref(obj);
	return (DB_OK);
}

size_t
db_expkey(uint8_t *buf, size_t buflen, uint64_t expires, int kind,
    const void *key, size_t klen)
{
	if (kind < 1 || kind > DB_KIND_MAX || klen > DB_KEY_MAX ||
	    buflen < DB_EXPKEY_LEN(klen))
		return (0);
	put_be64(buf, expires);
	buf[8] = kind;
	memcpy(buf + 9, key, klen);
	return (DB_EXPKEY_LEN(klen));
}

/*
 * Environment.
 */

struct db *
db_open(const char *dir, const struct db_config *conf)
{
	struct db_config	 defconf;
	struct db		*db;
	MDB_txn			*txn = NULL;
	size_t			 i, mapsize;
	unsigned int		 flags, maxreaders, kinds, known = 0;
	int			 rc, dead;

	if (conf == NULL) {
		memset(&defconf, 0, sizeof(defconf));
		conf = &defconf;
	}
	if (dir == NULL || *dir == '\0' || strlen(dir) >= DB_PATH_MAX) {
		log_warnx("%s: bad directory name", __func__);
		return (NULL);
	}
	mapsize = conf->dc_mapsize ? conf->dc_mapsize : DB_MAPSIZE_DEFAULT;
	maxreaders = conf->dc_maxreaders ? conf->dc_maxreaders :
	    DB_MAXREADERS_DEFAULT;
	for (i = 0; i < sizeof(db_kinds) / sizeof(db_kinds[0]); i++)
		known |= DB_KINDBIT(db_kinds[i].ki_tag);
	kinds = conf->dc_kinds ? conf->dc_kinds : known;
	if (mapsize < DB_MAPSIZE_MIN || maxreaders > DB_MAXREADERS_MAX ||
	    (kinds & ~known) != 0) {
		log_warnx("%s: %s: bad configuration", __func__, dir);
		return (NULL);
	}

	if ((db = calloc(1, sizeof(*db))) == NULL) {
		log_warn("%s: calloc", __func__);
		return (NULL);
	}
	db->db_writemap = conf->dc_writemap;
	if ((rc = mdb_env_create(&db->db_env)) != 0) {
		log_warnx("%s: mdb_env_create: %s", __func__,
		    mdb_strerror(rc));
		free(db);
		return (NULL);
	}
	if ((rc = mdb_env_set_mapsize(db->db_env, mapsize)) != 0 ||
	    (rc = mdb_env_set_maxreaders(db->db_env, maxreaders)) != 0 ||
	    (rc = mdb_env_set_maxdbs(db->db_env, DB_MAXDBS)) != 0) {
		log_warnx("%s: %s: %s", __func__, dir, mdb_strerror(rc));
		goto fail;
	}

	/*
	 * Durable by default: every commit is on disk before it returns,
	 * which is what lets storage answer a client only after a sync.
	 * MDB_WRITEMAP would forbid nested txns, so it is only for the
	 * signer, which never batches.
	 */
	flags = 0;
	if (conf->dc_nosync)
		flags |= MDB_NOSYNC;
	if (conf->dc_writemap)
		flags |= MDB_WRITEMAP;
	if ((rc = mdb_env_open(db->db_env, dir, flags, 0600)) != 0) {
		log_warnx("%s: %s: %s", __func__, dir, mdb_strerror(rc));
		goto fail;
	}

	/* A crashed earlier instance may have left reader slots behind. */
	if ((rc = mdb_reader_check(db->db_env, &dead)) != 0)
		log_warnx("%s: mdb_reader_check: %s", __func__,
		    mdb_strerror(rc));
	else if (dead > 0)
		log_info("%s: cleared %d stale reader slots", __func__, dead);

	if ((rc = mdb_txn_begin(db->db_env, NULL, 0, &txn)) != 0) {
		log_warnx("%s: %s: txn: %s", __func__, dir, mdb_strerror(rc));
		goto fail;
	}
	if ((rc = mdb_dbi_open(txn, "meta", MDB_CREATE, &db->db_meta)) != 0 ||
	    (rc = mdb_dbi_open(txn, "expiry", MDB_CREATE,
	    &db->db_expiry)) != 0) {
		log_warnx("%s: %s: open meta/expiry: %s", __func__, dir,
		    mdb_strerror(rc));
		goto fail;
	}
	for (i = 0; i < sizeof(db_kinds) / sizeof(db_kinds[0]); i++) {
		const struct db_kindinfo *ki = &db_kinds[i];

		if ((kinds & DB_KINDBIT(ki->ki_tag)) == 0)
			continue;
		rc = mdb_dbi_open(txn, ki->ki_name, MDB_CREATE | ki->ki_flags,
		    &db->db_dbi[ki->ki_tag]);
		if (rc != 0) {
			log_warnx("%s: %s: open %s: %s", __func__, dir,
			    ki->ki_name, mdb_strerror(rc));
			goto fail;
		}
		db->db_ki[ki->ki_tag] = ki;
	}
	rc = mdb_txn_commit(txn);
	txn = NULL;
	if (rc != 0) {
		log_warnx("%s: %s: commit: %s", __func__, dir,
		    mdb_strerror(rc));
		goto fail;
	}
	return (db);

 fail:
	if (txn != NULL)
		mdb_txn_abort(txn);
	mdb_env_close(db->db_env);
	free(db);
	return (NULL);
}

/*
 * Change the map size of an open env, as when storage.config mapSize
 * arrives after the env was opened with the default.  LMDB allows it
 * only while this process has no txn open.  A size below what is in
 * use is raised to that by LMDB.
 */
int
db_set_mapsize(struct db *db, size_t size)
{
	int	 rc;

	if (size < DB_MAPSIZE_MIN || db->db_ntxn != 0)
		return (DB_EINVAL);
	if ((rc = mdb_env_set_mapsize(db->db_env, size)) != 0)
		return (db_mdberr(NULL, rc, __func__));
	db->db_full = 0;
	return (DB_OK);
}

void
db_close(struct db *db)
{
	if (db == NULL)
		return;
	if (db->db_wtxn)
		log_warnx("%s: closing with a write txn open", __func__);
	mdb_env_close(db->db_env);
	free(db);
}

/*
 * Copy at most outlen - 1 bytes of a stored string for an error message,
 * with anything unprintable (the file may be damaged) shown as '?'.
 */
static void
db_printable(char *out, size_t outlen, const void *p, size_t len)
{
	const unsigned char	*s = p;
	size_t			 i;

	if (outlen == 0)
		return;
	for (i = 0; i < len && i < outlen - 1; i++)
		out[i] = (s[i] >= 0x20 && s[i] < 0x7f) ? s[i] : '?';
	out[i] = '\0';
}

/*
 * Bind the env to one issuer and one schema version.  The first open
 * writes both; a later open with another issuer is refused, because
 * every stored token, code and subject was minted under the old one.
 */
int
db_meta_check(struct db *db, const char *issuer, char *err, size_t errlen)
{
	MDB_txn		*txn;
	MDB_val		 k, v, iv;
	uint8_t		 vbuf[4];
	char		 stored[256];
	uint32_t	 schema;
	size_t		 ilen;
	int		 rc;

	if (errlen > 0)
		err[0] = '\0';
	if (issuer == NULL || (ilen = strlen(issuer)) == 0 ||
	    ilen > DB_ISSUER_MAX) {
		snprintf(err, errlen, "issuer is empty or longer than %d bytes",
		    DB_ISSUER_MAX);
		return (DB_EINVAL);
	}
	if (db->db_wtxn) {
		/* Our own write txn would wait for the one already open. */
		snprintf(err, errlen, "database: a write txn is open");
		return (DB_EINVAL);
	}
	if ((rc = mdb_txn_begin(db->db_env, NULL, 0, &txn)) != 0) {
		snprintf(err, errlen, "database: %s", mdb_strerror(rc));
		return (DB_ERR);
	}

	k.mv_data = DB_META_SCHEMA;
	k.mv_size = strlen(DB_META_SCHEMA);
	rc = mdb_get(txn, db->db_meta, &k, &v);
	if (rc == MDB_NOTFOUND) {
		k.mv_data = DB_META_ISSUER;
		k.mv_size = strlen(DB_META_ISSUER);
		if ((rc = mdb_get(txn, db->db_meta, &k, &iv)) == 0) {
			snprintf(err, errlen, "database has an issuer but no "
			    "schema version");
			goto fail;
		} else if (rc != MDB_NOTFOUND)
			goto lmdbfail;
		/* A new env: stamp it. */
		iv.mv_data = (void *)issuer;
		iv.mv_size = ilen;
		if ((rc = mdb_put(txn, db->db_meta, &k, &iv, 0)) != 0)
			goto lmdbfail;
		put_be32(vbuf, DB_SCHEMA_VERSION);
		k.mv_data = DB_META_SCHEMA;
		k.mv_size = strlen(DB_META_SCHEMA);
		v.mv_data = vbuf;
		v.mv_size = sizeof(vbuf);
		if ((rc = mdb_put(txn, db->db_meta, &k, &v, 0)) != 0)
			goto lmdbfail;
		rc = mdb_txn_commit(txn);
		txn = NULL;
		if (rc != 0)
			goto lmdbfail;
		log_info("database: new, schema version %u", DB_SCHEMA_VERSION);
		return (DB_OK);
	} else if (rc != 0)
		goto lmdbfail;

	if (v.mv_size != sizeof(vbuf)) {
		snprintf(err, errlen, "database schema version is malformed");
		goto fail;
	}
	schema = get_be32(v.mv_data);
	if (schema > DB_SCHEMA_VERSION) {
		snprintf(err, errlen, "database schema version %u is newer "
		    "than the %u this oidcd knows; use a newer oidcd",
		    schema, DB_SCHEMA_VERSION);
		goto fail;
	}
	if (schema == 0) {
		snprintf(err, errlen, "database schema version 0 is invalid");
		goto fail;
	}
	/* Versions older than ours would be migrated here. */

	k.mv_data = DB_META_ISSUER;
	k.mv_size = strlen(DB_META_ISSUER);
	if ((rc = mdb_get(txn, db->db_meta, &k, &iv)) == MDB_NOTFOUND) {
		snprintf(err, errlen, "database has a schema version but no "
		    "issuer");
		goto fail;
	} else if (rc != 0)
		goto lmdbfail;
	if (iv.mv_size != ilen || memcmp(iv.mv_data, issuer, ilen) != 0) {
		db_printable(stored, sizeof(stored), iv.mv_data, iv.mv_size);
		snprintf(err, errlen, "database belongs to issuer \"%s\", "
		    "not the configured issuer \"%s\"; keep the old issuer "
		    "or use a new storage path", stored, issuer);
		goto fail;
	}
	mdb_txn_abort(txn);
	return (DB_OK);

 lmdbfail:
	snprintf(err, errlen, "database: %s", mdb_strerror(rc));
	if (txn != NULL)
		mdb_txn_abort(txn);
	return (rc == MDB_MAP_FULL ? DB_EFULL : DB_ERR);
 fail:
	mdb_txn_abort(txn);
	return (DB_ERR);
}

int
db_stats(struct db *db, struct db_stats *st)
{
	MDB_envinfo	 info;
	MDB_stat	 ms;
	MDB_txn		*txn;
	int		 kind, rc;

	memset(st, 0, sizeof(*st));
	if ((rc = mdb_env_info(db->db_env, &info)) != 0 ||
	    (rc = mdb_env_stat(db->db_env, &ms)) != 0)
		return (db_mdberr(NULL, rc, __func__));
	st->st_psize = ms.ms_psize;
	st->st_mapsize = info.me_mapsize;
	st->st_used = (info.me_last_pgno + 1) * (size_t)ms.ms_psize;
	st->st_readers = info.me_numreaders;
	st->st_maxreaders = info.me_maxreaders;
	st->st_full = db->db_full;
	st->st_gc_passes = db->db_gc_passes;
	st->st_gc_txns = db->db_gc_txns;
	st->st_gc_deleted = db->db_gc_deleted;
	st->st_gc_last_txns = db->db_gc_last_txns;

	if ((rc = mdb_txn_begin(db->db_env, NULL, MDB_RDONLY, &txn)) != 0)
		return (db_mdberr(NULL, rc, __func__));
	if ((rc = mdb_stat(txn, db->db_meta, &ms)) != 0)
		goto fail;
	st->st_db[st->st_ndb].se_name = "meta";
	st->st_db[st->st_ndb++].se_entries = ms.ms_entries;
	if ((rc = mdb_stat(txn, db->db_expiry, &ms)) != 0)
		goto fail;
	st->st_db[st->st_ndb].se_name = "expiry";
	st->st_db[st->st_ndb++].se_entries = ms.ms_entries;
	for (kind = 1; kind <= DB_KIND_MAX && st->st_ndb < DB_MAXDBS;
	    kind++) {
		if (db->db_ki[kind] == NULL)
			continue;
		if ((rc = mdb_stat(txn, db->db_dbi[kind], &ms)) != 0)
			goto fail;
		st->st_db[st->st_ndb].se_name = db->db_ki[kind]->ki_name;
		st->st_db[st->st_ndb++].se_entries = ms.ms_entries;
	}
	mdb_txn_abort(txn);
	return (DB_OK);
 fail:
	mdb_txn_abort(txn);
	return (db_mdberr(NULL, rc, __func__));
}

/*
 * Transactions.
 */

struct db_txn *
db_txn_begin(struct db *db, int write)
{
	struct db_txn	*t;
	int		 rc;

	/*
	 * A second write txn in this thread would wait for the writer
	 * lock it already holds.
	 */
	if (write && db->db_wtxn) {
		log_warnx("%s: a write txn is already open", __func__);
		return (NULL);
	}
	if ((t = calloc(1, sizeof(*t))) == NULL) {
		log_warn("%s: calloc", __func__);
		return (NULL);
	}
	t->t_db = db;
	t->t_write = write ? 1 : 0;
	if ((rc = mdb_txn_begin(db->db_env, NULL, write ? 0 : MDB_RDONLY,
	    &t->t_txn)) != 0) {
		log_warnx("%s: %s", __func__, mdb_strerror(rc));
		free(t);
		return (NULL);
	}
	if (write)
		db->db_wtxn = 1;
	db->db_ntxn++;
	return (t);
}

/*
 * A nested write txn for one request of a batch.  Its writes become
 * part of the parent only when it is committed; aborting it leaves the
 * parent exactly as it was, even after MDB_MAP_FULL inside the child.
 */
struct db_txn *
db_txn_child(struct db_txn *parent)
{
	struct db_txn	*t;
	int		 rc;

	if (!parent->t_write || parent->t_child != NULL ||
	    parent->t_error != 0 || parent->t_db->db_writemap) {
		log_warnx("%s: cannot nest here", __func__);
		return (NULL);
	}
	if ((t = calloc(1, sizeof(*t))) == NULL) {
		log_warn("%s: calloc", __func__);
		return (NULL);
	}
	t->t_db = parent->t_db;
	t->t_write = 1;
	t->t_parent = parent;
	if ((rc = mdb_txn_begin(t->t_db->db_env, parent->t_txn, 0,
	    &t->t_txn)) != 0) {
		(void)db_mdberr(NULL, rc, __func__);
		free(t);
		return (NULL);
	}
	parent->t_child = t;
	return (t);
}

static void
db_txn_free(struct db_txn *t)
{
	if (t->t_parent != NULL)
		t->t_parent->t_child = NULL;
	else {
		if (t->t_write)
			t->t_db->db_wtxn = 0;
		t->t_db->db_ntxn--;
	}
	free(t);
}

void
db_txn_abort(struct db_txn *t)
{
	if (t == NULL)
		return;
	if (t->t_child != NULL)
		db_txn_abort(t->t_child);
	mdb_txn_abort(t->t_txn);
	db_txn_free(t);
}

int
db_txn_commit(struct db_txn *t)
{
	struct db_txn	*parent = t->t_parent;
	int		 rc, ret;

	if (t->t_child != NULL) {
		/* LMDB would commit the child silently; refuse instead. */
		log_warnx("%s: a child txn is still open", __func__);
		db_txn_abort(t);
		return (DB_ERR);
	}
	if (t->t_error != 0) {
		ret = t->t_error;
		db_txn_abort(t);
		return (ret);
	}
	if (!t->t_write) {
		mdb_txn_abort(t->t_txn);
		db_txn_free(t);
		return (DB_OK);
	}
	rc = mdb_txn_commit(t->t_txn);	/* frees the LMDB txn either way */
	ret = db_mdberr(parent, rc, __func__);
	if (ret == DB_EFULL)
		t->t_db->db_full = 1;
	else if (ret == DB_OK && parent == NULL)
		t->t_db->db_full = 0;
	else if (ret != DB_OK && parent != NULL && parent->t_error == 0)
		parent->t_error = ret;	/* a failed merge may be half done */
	db_txn_free(t);
	return (ret);
}

/*
 * Records.
 */

static int
db_kind_check(struct db_txn *t, int kind, size_t klen, int write, int dup)
{
	const struct db_kindinfo *ki;

	if (kind < 1 || kind > DB_KIND_MAX ||
	    (ki = t->t_db->db_ki[kind]) == NULL) {
		log_warnx("db: kind %d is not open in this env", kind);
		return (DB_EINVAL);
	}
	if (((ki->ki_flags & MDB_DUPSORT) != 0) != dup) {
		log_warnx("db: wrong call for kind %s", ki->ki_name);
		return (DB_EINVAL);
	}
	if (klen == 0 || klen > DB_KEY_MAX)
		return (DB_EINVAL);
	if (write && !t->t_write)
		return (DB_EINVAL);
	if (t->t_child != NULL) {
		log_warnx("db: use of a txn that has an open child");
		return (DB_EINVAL);
	}
	if (t->t_error != 0)
		return (t->t_error);
	return (DB_OK);
}

static int
db_expiry_del(struct db_txn *t, uint64_t exp, int kind, const void *key,
    size_t klen)
{
	uint8_t		 buf[DB_EXPKEY_LEN(DB_KEY_MAX)];
	MDB_val		 k;
	int		 rc;

	k.mv_data = buf;
	k.mv_size = db_expkey(buf, sizeof(buf), exp, kind, key, klen);
	rc = mdb_del(t->t_txn, t->t_db->db_expiry, &k, NULL);
	if (rc == MDB_NOTFOUND) {
		log_warnx("db: %s record without its expiry entry",
		    db_kind_name(kind));
		return (DB_OK);
	}
	return (db_mdberr(t, rc, "db: expiry del"));
}

static int
db_store(struct db_txn *t, int kind, const void *key, size_t klen,
    uint8_t type, json_t *obj, uint64_t expires, int insert)
{
	MDB_dbi		 dbi;
	MDB_val		 k, v, ek, ev;
	json_t		*copy = NULL;
	uint8_t		*buf = NULL;
	uint8_t		 ebuf[DB_EXPKEY_LEN(DB_KEY_MAX)];
	uint64_t	 oldexp = 0;
	size_t		 len;
	int		 rc, ret;

	if ((ret = db_kind_check(t, kind, klen, 1, 0)) != DB_OK)
		return (ret);
	if (!json_is_object(obj) || expires > INT64_MAX)
		return (DB_EINVAL);
	dbi = t->t_db->db_dbi[kind];

	/* A shallow copy, so the caller's object is left as it was. */
	if ((copy = json_copy(obj)) == NULL)
		return (DB_ERR);
	if (expires != 0)
		rc = json_object_set_new(copy, DB_EXP_MEMBER,
		    json_integer((json_int_t)expires));
	else {
		/* -1 only means there was no such member. */
		(void)json_object_del(copy, DB_EXP_MEMBER);
		rc = 0;
	}
	if (rc == -1) {
		ret = DB_ERR;
		goto done;
	}
	if ((ret = db_record_encode(type, 0, copy, &buf, &len)) != DB_OK)
		goto done;

	k.mv_data = (void *)key;
	k.mv_size = klen;
	rc = mdb_get(t->t_txn, dbi, &k, &v);
	if (rc == 0) {
		if (insert) {
			ret = DB_EXISTS;
			goto done;
		}
		/*
		 * An old value we cannot read leaves its index entry
		 * behind; GC checks each record's own "exp" before it
		 * deletes, so such an entry never removes this record.
		 */
		if (db_value_exp(&v, &oldexp) != DB_OK)
			log_warnx("db: %s: replacing a malformed record",
			    db_kind_name(kind));
	} else if (rc != MDB_NOTFOUND) {
		ret = db_mdberr(t, rc, "db: get");
		goto done;
	}

	if (oldexp != 0 && oldexp != expires &&
	    (ret = db_expiry_del(t, oldexp, kind, key, klen)) != DB_OK)
		goto done;
	if (expires != 0 && expires != oldexp) {
		ek.mv_data = ebuf;
		ek.mv_size = db_expkey(ebuf, sizeof(ebuf), expires, kind,
		    key, klen);
		ev.mv_data = NULL;
		ev.mv_size = 0;
		rc = mdb_put(t->t_txn, t->t_db->db_expiry, &ek, &ev, 0);
		if ((ret = db_mdberr(t, rc, "db: expiry put")) != DB_OK)
			goto done;
	}
	v.mv_data = buf;
	v.mv_size = len;
	rc = mdb_put(t->t_txn, dbi, &k, &v, 0);
	ret = db_mdberr(t, rc, "db: put");
 done:
	free(buf);
	json_decref(copy);
	return (ret);
}

/*
 * Insert or replace a record.  The value is the record header and obj
 * with "exp" set to expires (removed when expires is 0); obj itself is
 * not changed.  The expiry entry is written, moved or removed to match.
 */
int
db_put(struct db_txn *t, int kind, const void *key, size_t klen,
    uint8_t type, json_t *obj, uint64_t expires)
{
	return (db_store(t, kind, key, klen, type, obj, expires, 0));
}

/* As db_put(), but DB_EXISTS (nothing written) if the key exists. */
int
db_insert(struct db_txn *t, int kind, const void *key, size_t klen,
    uint8_t type, json_t *obj, uint64_t expires)
{
	return (db_store(t, kind, key, klen, type, obj, expires, 1));
}

/*
 * Look a record up.  typep and objp may be NULL.  The object still has
 * its "exp" member: GC runs on a timer, so a caller must compare it
 * with the time itself before trusting the record.
 */
int
db_get(struct db_txn *t, int kind, const void *key, size_t klen,
    uint8_t *typep, json_t **objp)
{
	struct db_rechdr hdr;
	MDB_val		 k, v;
	int		 rc, ret;

	if (objp != NULL)
		*objp = NULL;
	if ((ret = db_kind_check(t, kind, klen, 0, 0)) != DB_OK)
		return (ret);
	k.mv_data = (void *)key;
	k.mv_size = klen;
	rc = mdb_get(t->t_txn, t->t_db->db_dbi[kind], &k, &v);
	if ((ret = db_mdberr(t, rc, "db: get")) != DB_OK)
		return (ret);
	if (db_record_decode(v.mv_data, v.mv_size, &hdr, objp) != DB_OK) {
		log_warnx("db: %s: malformed record", db_kind_name(kind));
		return (DB_EBADREC);
	}
	if (typep != NULL)
		*typep = hdr.rh_type;
	return (DB_OK);
}

int
db_del(struct db_txn *t, int kind, const void *key, size_t klen)
{
	MDB_val		 k, v;
	uint64_t	 exp;
	int		 rc, ret;

	if ((ret = db_kind_check(t, kind, klen, 1, 0)) != DB_OK)
		return (ret);
	k.mv_data = (void *)key;
	k.mv_size = klen;
	rc = mdb_get(t->t_txn, t->t_db->db_dbi[kind], &k, &v);
	if ((ret = db_mdberr(t, rc, "db: get")) != DB_OK)
		return (ret);
	if (db_value_exp(&v, &exp) != DB_OK)
		log_warnx("db: %s: deleting a malformed record",
		    db_kind_name(kind));
	else if (exp != 0 &&
	    (ret = db_expiry_del(t, exp, kind, key, klen)) != DB_OK)
		return (ret);
	rc = mdb_del(t->t_txn, t->t_db->db_dbi[kind], &k, NULL);
	return (db_mdberr(t, rc, "db: del"));
}

/*
 * Call cb for every key starting with prefix (every key when plen is
 * 0), in key order, with the raw value (db_record_decode() it for
 * record kinds; each duplicate for MDB_DUPSORT kinds).  cb returns 0 to
 * go on; any other value stops the walk and is returned.  cb must not
 * write to the kind being walked.
 */
int
db_foreach(struct db_txn *t, int kind, const void *prefix, size_t plen,
    int (*cb)(const void *, size_t, const void *, size_t, void *),
    void *arg)
{
	const struct db_kindinfo *ki;
	MDB_cursor	*c;
	MDB_val		 k, v;
	MDB_cursor_op	 op;
	int		 rc, ret = DB_OK;

	if (kind < 1 || kind > DB_KIND_MAX ||
	    (ki = t->t_db->db_ki[kind]) == NULL || plen > DB_KEY_MAX ||
	    t->t_child != NULL)
		return (DB_EINVAL);
	if (t->t_error != 0)
		return (t->t_error);
	if ((rc = mdb_cursor_open(t->t_txn, t->t_db->db_dbi[kind], &c)) != 0)
		return (db_mdberr(t, rc, "db: cursor"));
	k.mv_data = (void *)prefix;
	k.mv_size = plen;
	op = plen > 0 ? MDB_SET_RANGE : MDB_FIRST;
	for (;;) {
		if ((rc = mdb_cursor_get(c, &k, &v, op)) != 0)
			break;
		op = MDB_NEXT;
		if (plen > 0 && (k.mv_size < plen ||
		    memcmp(k.mv_data, prefix, plen) != 0))
			break;
		if ((ret = cb(k.mv_data, k.mv_size, v.mv_data, v.mv_size,
		    arg)) != 0)
			break;
	}
	mdb_cursor_close(c);
	if (rc != 0 && rc != MDB_NOTFOUND)
		return (db_mdberr(t, rc, "db: cursor get"));
	return (ret);
}

int
db_dup_add(struct db_txn *t, int kind, const void *key, size_t klen,
    const void *val, size_t vlen)
{
	MDB_val		 k, v;
	int		 rc, ret;

	if ((ret = db_kind_check(t, kind, klen, 1, 1)) != DB_OK)
		return (ret);
	if (vlen == 0 || vlen > DB_DUPVAL_MAX)
		return (DB_EINVAL);
	k.mv_data = (void *)key;
	k.mv_size = klen;
	v.mv_data = (void *)val;
	v.mv_size = vlen;
	rc = mdb_put(t->t_txn, t->t_db->db_dbi[kind], &k, &v, MDB_NODUPDATA);
	return (db_mdberr(t, rc, "db: dup put"));
}

int
db_dup_del(struct db_txn *t, int kind, const void *key, size_t klen,
    const void *val, size_t vlen)
{
	MDB_val		 k, v;
	int		 rc, ret;

	if ((ret = db_kind_check(t, kind, klen, 1, 1)) != DB_OK)
		return (ret);
	if (vlen > DB_DUPVAL_MAX)
		return (DB_EINVAL);
	k.mv_data = (void *)key;
	k.mv_size = klen;
	v.mv_data = (void *)val;
	v.mv_size = vlen;
	/* vlen 0: every value under the key. */
	rc = mdb_del(t->t_txn, t->t_db->db_dbi[kind], &k,
	    vlen > 0 ? &v : NULL);
	return (db_mdberr(t, rc, "db: dup del"));
}

/*
 * Expiry index and garbage collection.
 */

/* DB_OK if the index entry exists, DB_NOTFOUND if not: for tests. */
int
db_expiry_exists(struct db_txn *t, uint64_t exp, int kind, const void *key,
    size_t klen)
{
	uint8_t		 buf[DB_EXPKEY_LEN(DB_KEY_MAX)];
	MDB_val		 k, v;

	if (t->t_error != 0)
		return (t->t_error);
	if ((k.mv_size = db_expkey(buf, sizeof(buf), exp, kind, key,
	    klen)) == 0)
		return (DB_EINVAL);
	k.mv_data = buf;
	return (db_mdberr(t, mdb_get(t->t_txn, t->t_db->db_expiry, &k, &v),
	    "db: expiry get"));
}

/*
 * Process one expiry index entry (the cursor's): delete the record it
 * names if that record still carries the same expiry, then the entry.
 * A record whose "exp" moved on (an entry left behind by a damaged old
 * value) or that cannot be read stays: GC never deletes anything that
 * is not provably expired.
 */
static int
db_gc_entry(struct db_txn *t, MDB_cursor *c, const MDB_val *ek,
    uint64_t exp, size_t *deleted)
{
	struct db	*db = t->t_db;
	const uint8_t	*p = ek->mv_data;
	MDB_val		 k, v;
	uint64_t	 recexp;
	int		 kind, rc;

	kind = p[8];
	k.mv_data = (void *)(p + 9);
	k.mv_size = ek->mv_size - 9;
	if (kind < 1 || kind > DB_KIND_MAX || db->db_ki[kind] == NULL ||
	    (db->db_ki[kind]->ki_flags & MDB_DUPSORT) != 0) {
		log_warnx("db: gc: expiry entry for unknown kind %d", kind);
		goto index;
	}
	rc = mdb_get(t->t_txn, db->db_dbi[kind], &k, &v);
	if (rc == MDB_NOTFOUND)
		goto index;
	if (rc != 0)
		return (db_mdberr(t, rc, "db: gc get"));
	if (db_value_exp(&v, &recexp) != DB_OK) {
		log_warnx("db: gc: %s: malformed record kept",
		    db_kind_name(kind));
		goto index;
	}
	if (recexp != exp)
		goto index;
	rc = mdb_del(t->t_txn, db->db_dbi[kind], &k, NULL);
	if (rc != 0)
		return (db_mdberr(t, rc, "db: gc del"));
	(*deleted)++;
 index:
	rc = mdb_cursor_del(c, 0);
	return (db_mdberr(t, rc, "db: gc index del"));
}

/*
 * One GC write txn: process expiry entries with expires <= now, at most
 * max of them.  *more is set when expired entries remain, so that the
 * storage process can yield to its event loop between steps.
 */
int
db_gc_step(struct db *db, uint64_t now, size_t max, size_t *deleted,
    int *more)
{
	struct db_txn	*t;
	MDB_cursor	*c;
	MDB_val		 k, v;
	size_t		 n = 0;
	uint64_t	 exp;
	int		 rc, ret = DB_OK;

	*deleted = 0;
	*more = 0;
	if (max == 0)
		max = DB_GC_PER_TXN_DEFAULT;
	if (max > DB_GC_PER_TXN_MAX)
		max = DB_GC_PER_TXN_MAX;
	if ((t = db_txn_begin(db, 1)) == NULL)
		return (DB_ERR);
	db->db_gc_txns++;
	if ((rc = mdb_cursor_open(t->t_txn, db->db_expiry, &c)) != 0) {
		ret = db_mdberr(t, rc, "db: gc cursor");
		db_txn_abort(t);
		return (ret);
	}
	rc = mdb_cursor_get(c, &k, &v, MDB_FIRST);
	while (rc == 0) {
		if (k.mv_size < DB_EXPKEY_LEN(1)) {
			/* Not ours; drop it, it names nothing. */
			log_warnx("db: gc: short expiry key");
			if ((rc = mdb_cursor_del(c, 0)) != 0)
				break;
			n++;
		} else {
			exp = get_be64(k.mv_data);
			if (exp > now)
				break;
			if (n == max) {
				*more = 1;
				break;
			}
			if ((ret = db_gc_entry(t, c, &k, exp,
			    deleted)) != DB_OK)
				break;
			n++;
		}
		rc = mdb_cursor_get(c, &k, &v, MDB_NEXT);
	}
	mdb_cursor_close(c);
	if (ret == DB_OK && rc != 0 && rc != MDB_NOTFOUND)
		ret = db_mdberr(t, rc, "db: gc cursor get");
	if (ret != DB_OK) {
		db_txn_abort(t);
		*deleted = 0;
		*more = 0;
		return (ret);
	}
	if (n == 0) {
		db_txn_abort(t);	/* nothing written, no sync */
		return (DB_OK);
	}
	if ((ret = db_txn_commit(t)) != DB_OK) {
		*deleted = 0;
		*more = 0;
	}
	return (ret);
}

/*
 * Delete every record expired at now, in write txns of at most
 * max_per_txn index entries (0: DB_GC_PER_TXN_DEFAULT).
 */
int
db_gc(struct db *db, uint64_t now, size_t max_per_txn, size_t *deleted)
{
	size_t		 n, total = 0;
	uint64_t	 txns0 = db->db_gc_txns;
	int		 more, ret;

	db->db_gc_passes++;
	if (max_per_txn == 0)
		max_per_txn = DB_GC_PER_TXN_DEFAULT;
	do {
		ret = db_gc_step(db, now, max_per_txn, &n, &more);
		/*
		 * Deleting needs fresh pages too (copy on write), so in a
		 * full map a big txn can fail where a small one fits; the
		 * space it frees is what lets the next one be bigger.
		 */
		if (ret == DB_EFULL && max_per_txn > 1) {
			max_per_txn /= 2;
			more = 1;
			continue;
		}
		total += n;
	} while (ret == DB_OK && more);
	db->db_gc_deleted += total;
	db->db_gc_last_txns = db->db_gc_txns - txns0;
	if (deleted != NULL)
		*deleted = total;
	return (ret);
}

/*
 * Storage type "memory": the parent makes a private directory for the
 * env before it starts the storage process and removes it at exit.
 */
int
db_tmpdir_create(const char *parent, char *out, size_t outlen)
{
	int	 n;

	n = snprintf(out, outlen, "%s/oidcd-memory.XXXXXXXXXX", parent);
	if (n < 0 || (size_t)n >= outlen) {
		errno = ENAMETOOLONG;
		return (-1);
	}
	if (mkdtemp(out) == NULL)
		return (-1);
	return (0);
}

int
db_tmpdir_remove(const char *dir)
{
	static const char *const files[] = { "data.mdb", "lock.mdb" };
	char		 path[DB_PATH_MAX];
	size_t		 i;
	int		 n, ret = 0;

	for (i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		n = snprintf(path, sizeof(path), "%s/%s", dir, files[i]);
		if (n < 0 || (size_t)n >= sizeof(path)) {
			errno = ENAMETOOLONG;
			return (-1);
		}
		if (unlink(path) == -1 && errno != ENOENT) {
			log_warn("%s: unlink %s", __func__, path);
			ret = -1;
		}
	}
	if (rmdir(dir) == -1) {
		log_warn("%s: rmdir %s", __func__, dir);
		ret = -1;
	}
	return (ret);
}
