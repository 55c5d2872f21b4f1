/*
 * idmap.h: a fixed-size hash map from a request's number (its id's
 * sequence number, never 0) to a 32-bit value: the load loop's requests
 * in flight (value: the slot) and those given up on (value unused).
 *
 * Open addressing, linear probing, deletion by backward shift (no
 * tombstones, so a long run never degrades). Allocated once; a put into a
 * map at its bound fails instead of growing.
 */
#ifndef PAYSWITCH_PSPSIM_IDMAP_H
#define PAYSWITCH_PSPSIM_IDMAP_H

#include <stdbool.h>
#include <stdint.h>

typedef struct psp_idmap {
	uint64_t *key; /* 0: empty */
	uint32_t *val;
	uint32_t mask;  /* slots - 1 */
	uint32_t count;
	uint32_t max;   /* entries allowed: half the slots */
} psp_idmap_t;

/* Room for at least max entries (1..2^30). PS_ENOMEM. */
int psp_idmap_init(psp_idmap_t *m, uint32_t max);
void psp_idmap_free(psp_idmap_t *m);
/* Adds key (not there yet). PS_ELIMIT when the map holds max entries,
 * PS_EEXIST when key is there. */
int psp_idmap_put(psp_idmap_t *m, uint64_t key, uint32_t val);
/* Is key there? Its value into *val (may be NULL). */
bool psp_idmap_get(const psp_idmap_t *m, uint64_t key, uint32_t *val);
/* Removes key; false when it was not there. */
bool psp_idmap_del(psp_idmap_t *m, uint64_t key);

#endif /* PAYSWITCH_PSPSIM_IDMAP_H */
