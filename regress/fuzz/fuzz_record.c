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
 * The stored-record decoder on arbitrary bytes (a damaged or hostile
 * data.mdb).  Whatever it accepts must encode again and decode to the
 * same header and object.
 */

#include <stdint.h>
#include <stdlib.h>

#include <jansson.h>

#include "db.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct db_rechdr	 h1, h2;
	json_t			*o1, *o2;
	uint8_t			*buf;
	size_t			 len;

	if (db_record_decode(data, size, &h1, &o1) != DB_OK)
		return (0);
	if (o1 == NULL || h1.rh_type == 0 ||
	    h1.rh_version != DB_RECORD_VERSION)
		abort();
	/* Reals may print longer than they were written: allow DB_EINVAL. */
	if (db_record_encode(h1.rh_type, h1.rh_flags, o1, &buf, &len) !=
	    DB_OK) {
		json_decref(o1);
		return (0);
	}
	if (len > DB_RECORD_MAX)
		abort();
	if (db_record_decode(buf, len, &h2, &o2) != DB_OK)
		abort();
	if (h1.rh_type != h2.rh_type || h1.rh_flags != h2.rh_flags ||
	    !json_equal(o1, o2) ||
	    db_record_exp(o1) != db_record_exp(o2))
		abort();
	free(buf);
	json_decref(o1);
	json_decref(o2);
	return (0);
}
