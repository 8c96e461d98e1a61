/*
 * controller_reg.c: ControllerRegistration (KIP-919) as a pure decision: the
 * RegisterControllerRecord to write when a controller announces itself.
 */
#include "meta_int.h"

#include <string.h>

/* True when the registered controller has exactly these listeners. */
static bool same_endpoints(const struct meta_controller *c, const struct meta_controller_reg *reg)
{
	if (c->endpoint_count != reg->endpoint_count)
		return false;
	for (size_t i = 0; i < reg->endpoint_count; i++) {
		const struct meta_endpoint *a = &c->endpoints[i];
		const struct meta_endpoint *b = &reg->endpoints[i];
		if (strcmp(a->name, b->name) != 0 || strcmp(a->host, b->host) != 0 ||
		    a->port != b->port || a->security_protocol != b->security_protocol)
			return false;
	}
	return true;
}

void meta_ctl_register_controller(const struct meta_image *view,
                                  const struct meta_controller_reg *reg, struct meta_records *out,
                                  struct meta_ctl_result *res)
{
	memset(res, 0, sizeof(*res));
	const struct meta_controller *cur = meta_image_controller(view, reg->controller_id);
	if (cur != NULL && sl_uuid_eq(&cur->incarnation_id, &reg->incarnation_id) &&
	    same_endpoints(cur, reg))
		return; /* a retry, or nothing changed */
	struct meta_register_controller_record rec;
	meta_register_controller_record_init(&rec);
	rec.controller_id = reg->controller_id;
	rec.incarnation_id = reg->incarnation_id;
	rec.zk_migration_ready = false;
	struct meta_register_controller_record_controller_endpoint
	        eps[META_CONTROLLER_ENDPOINTS_MAX];
	size_t n = SL_MIN(reg->endpoint_count, (size_t)META_CONTROLLER_ENDPOINTS_MAX);
	for (size_t i = 0; i < n; i++) {
		const struct meta_endpoint *e = &reg->endpoints[i];
		eps[i] = (struct meta_register_controller_record_controller_endpoint){
		        .name = wire_str_c(e->name),
		        .host = wire_str_c(e->host),
		        .port = e->port,
		        .security_protocol = e->security_protocol};
	}
	rec.end_points = eps;
	rec.end_points_count = (int32_t)n;
	struct meta_register_controller_record_controller_feature feat = {
	        .name = wire_str_c("metadata.version"),
	        .min_supported_version = META_MV_3_0_IV1,
	        .max_supported_version = META_MV_LATEST};
	rec.features = &feat;
	rec.features_count = 1;
	if (!meta_records_add(out, META_REC_REGISTER_CONTROLLER, 0, &rec)) {
		res->error_code = WIRE_ERR_UNKNOWN_SERVER_ERROR;
		strcpy(res->message, "out of memory for the RegisterControllerRecord");
	}
}
