/*
 * net.c: the network layer as a whole: its start, reload and stop
 * (net.h). listener.c has the inbound side, link.c the outbound one,
 * wbuf.c the buffers both write from.
 */
#include "net.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "net_int.h"

/* ---- the layer ---------------------------------------------------------------- */

int sw_net_init(sw_net_t *net, sw_ctx_t *ctx, const sw_net_handlers_t *h,
		uint32_t messages, uint32_t answers)
{
	memset(net, 0, sizeof(*net));
	net->ctx = ctx;
	net->handlers = *h;
	if (ps_pool_init(&net->wbufs, sizeof(sw_wbuf_t), messages) != 0 ||
	    ps_pool_init(&net->answers, sizeof(sw_wbuf_t), answers) != 0 ||
	    /* at most one batch per message or answer in flight */
	    ps_pool_init(&net->wbatches, sizeof(sw_wbatch_t), messages + answers) != 0)
		return PS_ENOMEM;
	return 0;
}

int sw_net_start(sw_net_t *net, char *err, size_t err_cap)
{
	const sw_config_t *cfg = net->ctx->cfg;
	for (uint32_t i = 0; i < cfg->endpoint_count; i++) {
		sw_endpoint_t *ep;
		if (sw_endpoint_start(net, &cfg->endpoint[i], &ep) != 0) {
			snprintf(err, err_cap, "endpoints[%u]: out of memory", i);
			return PS_ENOMEM;
		}
		net->endpoint[net->endpoint_count++] = ep;
	}
	for (uint32_t i = 0; i < cfg->listener_count; i++) {
		sw_listener_t *l;
		int rc = sw_listener_start(net, &cfg->listener[i], &l, err,
					   err_cap);
		/* One that could not listen is returned closing: it is freed
		 * with the others (sw_net_free), after its close completes. */
		if (l != NULL)
			net->listener[net->listener_count++] = l;
		if (rc != 0)
			return rc;
	}
	return 0;
}

int sw_net_check_reload(const sw_net_t *net, const sw_config_t *next,
			char *err, size_t err_cap)
{
	if (net->listener_count + next->listener_count > PS_ARRAY_LEN(net->listener) ||
	    net->endpoint_count + next->endpoint_count > PS_ARRAY_LEN(net->endpoint)) {
		snprintf(err, err_cap, "too many listeners or endpoints, live and "
			 "removed: a removed listener is freed once its "
			 "connections close, a removed endpoint at the next "
			 "restart");
		return PS_ELIMIT;
	}
	return 0;
}

static bool same_shape(const sw_listener_cfg_t *a, const sw_listener_cfg_t *b)
{
	return strcmp(a->host, b->host) == 0 && a->port == b->port &&
	       a->connections_max == b->connections_max &&
	       a->queued_answers_max == b->queued_answers_max &&
	       chan_cfg_same(&a->channel.chan, &b->channel.chan);
}

static sw_listener_t *live_listener(sw_net_t *net, const char *name)
{
	for (uint32_t i = 0; i < net->listener_count; i++)
		if (!net->listener[i]->retired &&
		    strcmp(net->listener[i]->cfg.name, name) == 0)
			return net->listener[i];
	return NULL;
}

static int reload_listeners(sw_net_t *net, const sw_config_t *next,
			    char *err, size_t err_cap)
{
	for (uint32_t i = 0; i < net->listener_count; i++) {
		sw_listener_t *l = net->listener[i];
		bool kept = false;
		for (uint32_t j = 0; j < next->listener_count; j++)
			if (strcmp(l->cfg.name, next->listener[j].name) == 0 &&
			    same_shape(&l->cfg, &next->listener[j]))
				kept = true;
		if (!l->retired && !kept)
			sw_listener_retire(l);
	}
	for (uint32_t j = 0; j < next->listener_count; j++) {
		const sw_listener_cfg_t *c = &next->listener[j];
		sw_listener_t *l = live_listener(net, c->name);
		if (l != NULL) {
			/* Same shape: what needs no memory change. */
			sw_channel_cfg_t channel = l->cfg.channel;
			l->cfg = *c;
			l->cfg.channel = channel; /* the listener's own copy */
			continue;
		}
		int rc = sw_listener_start(net, c, &l, err, err_cap);
		if (l != NULL)
			net->listener[net->listener_count++] = l;
		if (rc != 0)
			return rc;
	}
	return 0;
}

static void reload_endpoints(sw_net_t *net, const sw_config_t *next)
{
	for (uint32_t i = 0; i < net->endpoint_count; i++) {
		sw_endpoint_t *ep = net->endpoint[i];
		bool kept = false;
		for (uint32_t j = 0; j < next->endpoint_count; j++)
			if (strcmp(ep->cfg.name, next->endpoint[j].name) == 0)
				kept = true;
		if (!kept)
			sw_endpoint_retire(ep);
	}
	for (uint32_t j = 0; j < next->endpoint_count; j++) {
		sw_endpoint_t *ep = sw_net_endpoint(net, next->endpoint[j].name);
		if (ep != NULL)
			sw_endpoint_update(ep, &next->endpoint[j]);
		else if (sw_endpoint_start(net, &next->endpoint[j], &ep) == 0)
			net->endpoint[net->endpoint_count++] = ep;
	}
}

int sw_net_reload(sw_net_t *net, const sw_config_t *next, char *err,
		  size_t err_cap)
{
	int rc = reload_listeners(net, next, err, err_cap);
	if (rc != 0)
		return rc;
	reload_endpoints(net, next);
	return 0;
}

void sw_net_stop_accepting(sw_net_t *net)
{
	for (uint32_t i = 0; i < net->listener_count; i++)
		sw_listener_retire(net->listener[i]);
}

void sw_net_free(sw_net_t *net)
{
	for (uint32_t i = 0; i < net->listener_count; i++)
		sw_listener_free(net->listener[i]);
	net->listener_count = 0;
	for (uint32_t i = 0; i < net->endpoint_count; i++)
		sw_endpoint_free(net->endpoint[i]);
	net->endpoint_count = 0;
	ps_pool_free(&net->wbufs);
	ps_pool_free(&net->answers);
	ps_pool_free(&net->wbatches);
}
