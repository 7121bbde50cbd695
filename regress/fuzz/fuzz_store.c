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
 * The storage request validator and dispatcher on arbitrary input: the
 * first byte picks the request type, the rest is its JSON.  Whatever
 * the validator accepts runs against a real env (no sync), as the
 * storage process would run it; it must answer one reply object, never
 * crash, never leak.
 */

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>

#include <jansson.h>

#include "oidcd.h"
#include "db.h"
#include "passwd.h"
#include "store.h"

#define T0	1700000000ULL

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

/* The first byte picks one; IMSG_STORE_RESULT is no request. */
static const int	 types[] = {
	IMSG_STORE_AUTHREQ_PUT, IMSG_STORE_AUTHREQ_GET,
	IMSG_STORE_AUTHREQ_LOGIN, IMSG_STORE_CODE_ISSUE,
	IMSG_STORE_CODE_REDEEM, IMSG_STORE_REFRESH_ISSUE,
	IMSG_STORE_REFRESH_ROTATE, IMSG_STORE_INTROSPECT, IMSG_STORE_RESULT,
	IMSG_STORE_DEVICE_CREATE, IMSG_STORE_DEVICE_GET,
	IMSG_STORE_DEVICE_COMPLETE, IMSG_STORE_DEVICE_DENY,
	IMSG_STORE_DEVICE_POLL, IMSG_STORE_ACCESS_REVOKE,
	IMSG_STORE_ACCESS_CHECK, IMSG_STORE_REFRESH_REVOKE,
	IMSG_STORE_SESSION_CREATE, IMSG_STORE_SESSION_LOGIN,
	IMSG_STORE_SESSION_GET, IMSG_STORE_SESSION_END
};

static struct db		*db;
static struct store_policy	 pol;
static char			 dir[64];

static void
cleanup(void)
{
	char	 path[128];

	db_close(db);
	snprintf(path, sizeof(path), "%s/data.mdb", dir);
	unlink(path);
	snprintf(path, sizeof(path), "%s/lock.mdb", dir);
	unlink(path);
	rmdir(dir);
}

static void
setup(void)
{
	struct db_config	 dc;
	json_t			*users;

	log_init(1, LOG_DAEMON);
	log_setquiet(1);
	snprintf(dir, sizeof(dir), "/tmp/fuzz_store.XXXXXX");
	if (mkdtemp(dir) == NULL)
		abort();
	memset(&dc, 0, sizeof(dc));
	dc.dc_kinds = DB_KINDS_STORAGE;
	dc.dc_nosync = 1;
	if ((db = db_open(dir, &dc)) == NULL)
		abort();
	pol.sp_authreq_lifetime = 3600;
	pol.sp_reuse_interval = 5;
	pol.sp_valid_if_not_used_for = 100;
	pol.sp_refreshers[0] = strdup("local");
	pol.sp_nrefreshers = 1;
	/* A local user, so that rotations of "local" grants look it up. */
	users = json_loads("[{\"email\":\"a@x\",\"userId\":\"a\","
	    "\"username\":\"a\",\"groups\":[\"g\"]}]", 0, NULL);
	if (users == NULL || (pol.sp_local = passwd_dir_load(users)) == NULL)
		abort();
	json_decref(users);
	atexit(cleanup);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct store_op	 op;
	json_error_t	 jerr;
	json_t		*req;
	int		 type;

	if (db == NULL)
		setup();
	if (size < 1 || size - 1 > STORE_JSON_MAX)
		return (0);
	type = types[data[0] % (sizeof(types) / sizeof(types[0]))];
	/* As storage.c reads a request. */
	req = json_loadb((const char *)data + 1, size - 1,
	    JSON_REJECT_DUPLICATES, &jerr);
	if (req == NULL)
		return (0);
	if (store_request_check(type, req) == -1) {
		json_decref(req);
		return (0);
	}
	if (type == IMSG_STORE_RESULT)
		abort();	/* not a request */
	op.so_type = type;
	op.so_req = req;
	/* The clock moves with the input, so expiry paths are reached. */
	store_batch(db, &pol, T0 + data[0], &op, 1);
	if (!json_is_object(op.so_reply) ||
	    !json_is_boolean(json_object_get(op.so_reply, "ok")))
		abort();
	json_decref(op.so_reply);
	json_decref(req);
	return (0);
}
