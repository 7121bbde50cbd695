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
 * The LMDB layer shared by the storage process and the signer (each
 * opens its own env).  See DESIGN.md section 5.
 *
 * On disk, per env:
 *	meta	"schema" -> u32 BE; "issuer" -> issuer string
 *	expiry	expires (u64 BE) || kind tag (u8) || primary key -> empty
 *	<kind>	primary key -> record, one named database per kind
 *
 * A record is an 8-byte header { u8 type, u8 version, u16 flags (BE),
 * u32 reserved (0) } followed by a compact JSON object with sorted keys.
 * A record that expires carries its expiry as the JSON member "exp"
 * (u64 seconds since the epoch) and header flag DB_RECF_EXP; db_put()
 * writes both and the matching expiry index entry in the same txn, so
 * an update or delete finds the old index entry from the record alone.
 */

#ifndef DB_H
#define DB_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

/* Environment defaults and limits. */
#define DB_MAPSIZE_DEFAULT	(1024UL * 1024 * 1024)	/* 1 GiB */
#define DB_MAPSIZE_MIN		(32UL * 1024)
#define DB_MAXREADERS_DEFAULT	4
#define DB_MAXREADERS_MAX	126
#define DB_MAXDBS		16	/* meta + expiry + kinds */
#define DB_SCHEMA_VERSION	1
#define DB_ISSUER_MAX		2048	/* bytes of the issuer URL */
#define DB_PATH_MAX		1024

/* Records. */
#define DB_RECORD_VERSION	1
#define DB_RECHDR_LEN		8
#define DB_RECORD_JSON_MAX	(64 * 1024)	/* bytes of JSON */
#define DB_RECORD_MAX		(DB_RECHDR_LEN + DB_RECORD_JSON_MAX)
#define DB_RECF_EXP		0x0001	/* the JSON has an "exp" member */
#define DB_RECF_MASK		0x0001	/* flags a decoder accepts */
#define DB_EXP_MEMBER		"exp"

/* Keys: LMDB's limit is 511 bytes; the expiry key adds 9 to a key. */
#define DB_KEY_MAX		256
#define DB_EXPKEY_LEN(klen)	(9 + (klen))
#define DB_DUPVAL_MAX		256	/* values in MDB_DUPSORT kinds */

/* Garbage collection. */
#define DB_GC_PER_TXN_DEFAULT	1000
#define DB_GC_PER_TXN_MAX	100000

/*
 * Record kinds.  The value is the one-byte tag written into expiry
 * keys, so it is part of the on-disk format: never renumber, only add.
 * Adding a kind is one line here and one line in db_kinds[] in db.c.
 * Tags go from 1 to DB_KIND_MAX; with meta and expiry that keeps the
 * env within DB_MAXDBS named databases.
 */
#define DB_KIND_AUTHREQ		1
#define DB_KIND_CODE		2
#define DB_KIND_REFRESH		3	/* no longer written; GC empties it */
#define DB_KIND_FAMILY		4
#define DB_KIND_SUBJECT		5	/* MDB_DUPSORT: key -> family ids */
#define DB_KIND_KEYS		6	/* the signer's env */
#define DB_KIND_DEVREQ		7	/* user code -> device request */
#define DB_KIND_DEVTOKEN	8	/* SHA-256(device code) -> state */
#define DB_KIND_REVOKED		9	/* revoked access tokens, by jti */
#define DB_KIND_SESSION		10	/* SHA-256(cookie) -> browser session */
#define DB_KIND_MAX		14
#define DB_KINDBIT(k)		(1U << (k))
#define DB_KINDS_STORAGE	(DB_KINDBIT(DB_KIND_AUTHREQ) |		\
	    DB_KINDBIT(DB_KIND_CODE) | DB_KINDBIT(DB_KIND_REFRESH) |	\
	    DB_KINDBIT(DB_KIND_FAMILY) | DB_KINDBIT(DB_KIND_SUBJECT) |	\
	    DB_KINDBIT(DB_KIND_DEVREQ) | DB_KINDBIT(DB_KIND_DEVTOKEN) |	\
	    DB_KINDBIT(DB_KIND_REVOKED) | DB_KINDBIT(DB_KIND_SESSION))
#define DB_KINDS_SIGNER		DB_KINDBIT(DB_KIND_KEYS)

/*
 * Results.  Every function returns DB_OK or one of these.  DB_EFULL
 * (the map or the txn is full) must reach the client as a 503.
 */
#define DB_OK			0
#define DB_ERR			-1	/* I/O or LMDB failure, logged */
#define DB_NOTFOUND		-2
#define DB_EXISTS		-3	/* db_insert() on an existing key */
#define DB_EFULL		-4	/* MDB_MAP_FULL or MDB_TXN_FULL */
#define DB_EBADREC		-5	/* a stored value fails to decode */
#define DB_EINVAL		-6	/* bad argument: kind, length, size */

struct db;
struct db_txn;

struct db_config {
	size_t		 dc_mapsize;	/* 0: DB_MAPSIZE_DEFAULT */
	unsigned int	 dc_maxreaders;	/* 0: DB_MAXREADERS_DEFAULT */
	unsigned int	 dc_kinds;	/* DB_KINDBIT() mask; 0: every kind */
	int		 dc_nosync;	/* MDB_NOSYNC: tests only */
	int		 dc_writemap;	/* MDB_WRITEMAP: no db_txn_child() */
};

struct db_rechdr {
	uint8_t		 rh_type;
	uint8_t		 rh_version;
	uint16_t	 rh_flags;
};

struct db_stat_entry {
	const char	*se_name;
	size_t		 se_entries;
};

struct db_stats {
	struct db_stat_entry st_db[DB_MAXDBS];
	size_t		 st_ndb;
	size_t		 st_mapsize;	/* bytes of address space */
	size_t		 st_used;	/* bytes up to the last used page */
	size_t		 st_psize;
	unsigned int	 st_readers;	/* reader slots in use */
	unsigned int	 st_maxreaders;
	int		 st_full;	/* DB_EFULL since the last commit */
	uint64_t	 st_gc_passes;	/* db_gc() calls */
	uint64_t	 st_gc_txns;	/* write txns of all GC passes */
	uint64_t	 st_gc_deleted;	/* records deleted by GC */
	uint64_t	 st_gc_last_txns;	/* txns of the last pass */
};

/* Environment. */
struct db	*db_open(const char *, const struct db_config *);
void		 db_close(struct db *);
int		 db_set_mapsize(struct db *, size_t);
int		 db_meta_check(struct db *, const char *, char *, size_t);
int		 db_stats(struct db *, struct db_stats *);
const char	*db_strerror(int);
const char	*db_kind_name(int);
int		 db_kind_byname(const char *);

/*
 * Transactions.  A write txn from db_txn_begin() is the group-commit
 * batch: run each request in its own db_txn_child(), commit the child
 * when the request succeeded and abort it when not (that undoes the
 * request's writes and nothing else), then commit the batch once.
 * db_txn_commit() and db_txn_abort() free the txn in every case.
 */
struct db_txn	*db_txn_begin(struct db *, int);
struct db_txn	*db_txn_child(struct db_txn *);
int		 db_txn_commit(struct db_txn *);
void		 db_txn_abort(struct db_txn *);

/* Records in a kind; expires is seconds since the epoch, 0 = never. */
int		 db_put(struct db_txn *, int, const void *, size_t, uint8_t,
		    json_t *, uint64_t);
int		 db_insert(struct db_txn *, int, const void *, size_t,
		    uint8_t, json_t *, uint64_t);
int		 db_get(struct db_txn *, int, const void *, size_t,
		    uint8_t *, json_t **);
int		 db_del(struct db_txn *, int, const void *, size_t);
int		 db_foreach(struct db_txn *, int, const void *, size_t,
		    int (*)(const void *, size_t, const void *, size_t,
		    void *), void *);

/* Raw values in an MDB_DUPSORT kind (subject -> family ids). */
int		 db_dup_add(struct db_txn *, int, const void *, size_t,
		    const void *, size_t);
int		 db_dup_del(struct db_txn *, int, const void *, size_t,
		    const void *, size_t);

/* Expiry index and garbage collection. */
size_t		 db_expkey(uint8_t *, size_t, uint64_t, int, const void *,
		    size_t);
int		 db_expiry_exists(struct db_txn *, uint64_t, int,
		    const void *, size_t);
int		 db_gc_step(struct db *, uint64_t, size_t, size_t *, int *);
int		 db_gc(struct db *, uint64_t, size_t, size_t *);

/* Record encoding (pure functions, no env). */
int		 db_record_encode(uint8_t, uint16_t, json_t *, uint8_t **,
		    size_t *);
int		 db_record_decode(const void *, size_t, struct db_rechdr *,
		    json_t **);
uint64_t	 db_record_exp(const json_t *);

/* Storage type "memory": an env in a private directory. */
int		 db_tmpdir_create(const char *, char *, size_t);
int		 db_tmpdir_remove(const char *);

#endif /* DB_H */
