/* SPDX-License-Identifier: MIT */
#include <string.h>

#include "protocols/span_identity.h"

void span_identity_begin(struct span_identity *id, struct span *sp, const struct span_sink *sink)
{
	memset(id, 0, sizeof(*id));
	if (!sink->begin)
		return;
	sink->begin(sink->ctx, sp);
	memcpy(id->trace_id, sp->trace_id, sizeof(id->trace_id));
	memcpy(id->span_id, sp->span_id, sizeof(id->span_id));
	memcpy(id->parent_span_id, sp->parent_span_id, sizeof(id->parent_span_id));
	id->link = sp->link;
	id->trace_flags = sp->trace_flags;
	id->flags = sp->flags & SPAN_F_TRACE_FROM_HEADER;
	id->begun = true;
}

void span_identity_apply(struct span *sp, const struct span_identity *id)
{
	if (!id->begun)
		return;
	memcpy(sp->trace_id, id->trace_id, sizeof(sp->trace_id));
	memcpy(sp->span_id, id->span_id, sizeof(sp->span_id));
	memcpy(sp->parent_span_id, id->parent_span_id, sizeof(sp->parent_span_id));
	sp->link = id->link;
	sp->trace_flags = id->trace_flags;
	sp->flags |= id->flags;
}
