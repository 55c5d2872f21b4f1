/*
 * fate.c: the usual fate of an answer: faults by rate and a latency, all
 * drawn from the request's own stream so that a seed replays a run.
 */
#include <stdio.h>

#include "core.h"
#include "server.h"

const char *sim_fault_name(int fault)
{
	switch (fault) {
	case SIM_FAULT_NONE:
		return "none";
	case SIM_FAULT_DROP:
		return "drop";
	case SIM_FAULT_DELAY:
		return "delay";
	case SIM_FAULT_CLOSE:
		return "close";
	}
	return "?";
}

void sim_fate_draw(const sim_faults_t *f, const txn_t *t, int pinned,
		   sim_fate_t *out)
{
	/* This answer's draws: its own stream, from the seed and the
	 * request's MTI and keys, so they never depend on what else ran. */
	char id[32 + sizeof(t->request_id)];
	snprintf(id, sizeof(id), "%s/%s",
		 t->wire.mti[0] ? t->wire.mti : txn_kind_name(t->kind),
		 t->request_id);
	sim_rng_t rng;
	sim_rng_seed_text(&rng, f->seed, "answer", id);
	int fault = SIM_FAULT_NONE;
	if (t->kind != TXN_KIND_NETWORK) {
		if (pinned != SIM_FAULT_NONE)
			fault = pinned;
		else if (sim_rng_chance(&rng, f->drop_rate))
			fault = SIM_FAULT_DROP;
		else if (sim_rng_chance(&rng, f->close_rate))
			fault = SIM_FAULT_CLOSE;
		else if (sim_rng_chance(&rng, f->delay_rate))
			fault = SIM_FAULT_DELAY;
	}
	uint32_t delay = 0;
	if (fault == SIM_FAULT_NONE || fault == SIM_FAULT_DELAY)
		delay = sim_latency_sample(&f->latency, &rng);
	if (fault == SIM_FAULT_DELAY)
		delay += PS_MIN(f->delay_ms, SIM_LATENCY_MS_MAX);
	out->fault = (uint8_t)fault;
	out->delay_ms = delay;
}
