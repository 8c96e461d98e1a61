/*
 * ctl_register.c: ControllerRegistration (KIP-919) from a controller node to the active
 * controller: this controller's incarnation and listeners, sent until the committed image
 * holds them (a RegisterControllerRecord with this incarnation), one request at a time,
 * retried every CR_RETRY_MS at the controller the channel picks.
 */
#include "brk_int.h"

#include "peer.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CR_RETRY_MS 500
#define CR_LISTENERS_MAX 16

struct brk_ctl_reg {
	struct sl_uuid incarnation;
	bool in_flight;
	bool done; /* the image holds this incarnation */
	int32_t target;
	int64_t next_ms;
	size_t listener_count;
	struct brk_listener_ad listeners[CR_LISTENERS_MAX];
	char names[CR_LISTENERS_MAX][64];
	char hosts[CR_LISTENERS_MAX][256];
};

enum sl_err brk_controller_registration_start(struct brk *b, const struct brk_listener_ad *ls,
                                              size_t n)
{
	SL_ASSERT(b->ctl_reg == NULL);
	struct brk_ctl_reg *cr = calloc(1, sizeof(*cr));
	if (cr == NULL)
		return SL_ENOMEM;
	enum sl_err e = sl_uuid_random(&cr->incarnation);
	if (e != SL_OK) {
		free(cr);
		return e;
	}
	n = SL_MIN(n, (size_t)CR_LISTENERS_MAX);
	for (size_t i = 0; i < n; i++) {
		snprintf(cr->names[i], sizeof(cr->names[i]), "%s", ls[i].name);
		snprintf(cr->hosts[i], sizeof(cr->hosts[i]), "%s", ls[i].host);
		cr->listeners[i] = ls[i];
		cr->listeners[i].name = cr->names[i];
		cr->listeners[i].host = cr->hosts[i];
	}
	cr->listener_count = n;
	b->ctl_reg = cr;
	return SL_OK;
}

void brk_controller_registration_free(struct brk *b)
{
	free(b->ctl_reg);
	b->ctl_reg = NULL;
}

static void cr_answered(void *ctx, enum sl_err err, const void *resp, int16_t version)
{
	(void)version;
	struct brk *b = ctx;
	struct brk_ctl_reg *cr = b->ctl_reg;
	cr->in_flight = false;
	const struct wire_controller_registration_response *r = resp;
	if (err == SL_OK && r->error_code == WIRE_ERR_NONE) {
		SL_INFO("broker", "controller %d registered with controller %d", (int)b->node_id,
		        (int)cr->target);
		return; /* done once the image shows it (brk_controller_registration_tick) */
	}
	if (err == SL_OK && r->error_code == WIRE_ERR_NOT_CONTROLLER)
		brk_channel_failed(b, cr->target);
	else if (err != SL_OK)
		brk_channel_failed(b, cr->target);
	cr->next_ms = sl_mono_ms() + CR_RETRY_MS;
}

void brk_controller_registration_tick(struct brk *b, const struct meta_image *img, int64_t now_ms)
{
	struct brk_ctl_reg *cr = b->ctl_reg;
	if (cr == NULL || cr->done || cr->in_flight)
		return;
	const struct meta_controller *mc =
	        img != NULL ? meta_image_controller(img, b->node_id) : NULL;
	if (mc != NULL && sl_uuid_eq(&mc->incarnation_id, &cr->incarnation)) {
		cr->done = true;
		return;
	}
	if (now_ms < cr->next_ms)
		return;
	cr->next_ms = now_ms + CR_RETRY_MS; /* also the wait for the image after a success */
	struct net_peer *p = brk_channel_target(b, &cr->target);
	if (p == NULL)
		return;
	struct wire_controller_registration_request_listener ls[CR_LISTENERS_MAX];
	for (size_t i = 0; i < cr->listener_count; i++)
		ls[i] = (struct wire_controller_registration_request_listener){
		        .name = wire_str_c(cr->listeners[i].name),
		        .host = wire_str_c(cr->listeners[i].host),
		        .port = cr->listeners[i].port,
		        .security_protocol = cr->listeners[i].security_protocol};
	struct wire_controller_registration_request_feature feat = {
	        .name = wire_str_c("metadata.version"),
	        .min_supported_version = META_MV_3_0_IV1,
	        .max_supported_version = META_MV_LATEST};
	struct wire_controller_registration_request q;
	wire_controller_registration_request_init(&q);
	q.controller_id = b->node_id;
	q.incarnation_id = cr->incarnation;
	q.listeners = ls;
	q.listeners_count = (int32_t)cr->listener_count;
	q.features = &feat;
	q.features_count = 1;
	if (net_peer_send(p, 70, 0, &q, cr_answered, b) == SL_OK)
		cr->in_flight = true;
}
