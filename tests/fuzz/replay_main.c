/*
 * replay_main.c: a main() for fuzz drivers in builds without libFuzzer.
 *
 * It runs the driver over every file of the corpus directories given, then
 * over a bounded number of seeded mutations of them (byte flips, cuts,
 * splices), so the sanitized test build exercises each parser's corpus on
 * every `make test`. The real campaign is `make fuzz` with clang.
 *
 * Usage: <driver>-replay DIR|FILE... [--mutations N] [--seed S]
 */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "core.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CORPUS_MAX 4096
#define INPUT_BYTES_MAX (64 * 1024)

static uint8_t *corpus[CORPUS_MAX];
static size_t corpus_size[CORPUS_MAX];
static size_t corpus_count;

static void load_file(const char *path)
{
	if (corpus_count == CORPUS_MAX)
		return;
	FILE *f = fopen(path, "rb");
	if (f == NULL) {
		perror(path);
		exit(2);
	}
	uint8_t *buf = malloc(INPUT_BYTES_MAX);
	size_t n = fread(buf, 1, INPUT_BYTES_MAX, f);
	fclose(f);
	corpus[corpus_count] = buf;
	corpus_size[corpus_count] = n;
	corpus_count++;
}

static void load(const char *path)
{
	struct stat st;
	if (stat(path, &st) != 0) {
		perror(path);
		exit(2);
	}
	if (!S_ISDIR(st.st_mode)) {
		load_file(path);
		return;
	}
	DIR *d = opendir(path);
	struct dirent *e;
	while (d != NULL && (e = readdir(d)) != NULL) {
		if (e->d_name[0] == '.')
			continue;
		char full[4096];
		snprintf(full, sizeof(full), "%s/%s", path, e->d_name);
		load(full);
	}
	if (d != NULL)
		closedir(d);
}

/* Deterministic, so a failure replays from its seed. */
static uint64_t rng_state;
static uint64_t rng(void)
{
	return ps_xorshift64s(&rng_state);
}

static size_t mutate(uint8_t *buf, size_t size, size_t cap)
{
	size_t edits = 1 + rng() % 4;
	for (size_t e = 0; e < edits; e++) {
		switch (rng() % 5) {
		case 0: /* flip a byte */
			if (size > 0)
				buf[rng() % size] ^= (uint8_t)(1u << (rng() % 8));
			break;
		case 1: /* random byte */
			if (size > 0)
				buf[rng() % size] = (uint8_t)rng();
			break;
		case 2: /* cut the tail */
			if (size > 0)
				size = rng() % size;
			break;
		case 3: { /* splice another corpus entry in */
			size_t other = rng() % corpus_count;
			size_t at = size ? rng() % size : 0;
			size_t n = corpus_size[other];
			if (at + n > cap)
				n = cap - at;
			memcpy(buf + at, corpus[other], n);
			if (at + n > size)
				size = at + n;
			break;
		}
		default: /* ASCII digit, the most common byte in these formats */
			if (size > 0)
				buf[rng() % size] = (uint8_t)('0' + rng() % 10);
			break;
		}
	}
	return size;
}

int main(int argc, char **argv)
{
	long mutations = 20000;
	uint64_t seed = 0x5eed;
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--mutations") == 0 && i + 1 < argc)
			mutations = atol(argv[++i]);
		else if (strcmp(argv[i], "--seed") == 0 && i + 1 < argc)
			seed = strtoull(argv[++i], NULL, 0);
		else
			load(argv[i]);
	}
	if (corpus_count == 0) {
		fprintf(stderr, "no corpus files\n");
		return 2;
	}
	for (size_t i = 0; i < corpus_count; i++)
		LLVMFuzzerTestOneInput(corpus[i], corpus_size[i]);
	rng_state = seed | 1;
	uint8_t *buf = malloc(INPUT_BYTES_MAX);
	for (long m = 0; m < mutations; m++) {
		size_t pick = rng() % corpus_count;
		size_t size = corpus_size[pick];
		memcpy(buf, corpus[pick], size);
		size = mutate(buf, size, INPUT_BYTES_MAX);
		/* An exact-size copy so ASan sees any read past the end. */
		uint8_t *input = malloc(size ? size : 1);
		memcpy(input, buf, size);
		LLVMFuzzerTestOneInput(input, size);
		free(input);
	}
	printf("replayed %zu corpus files and %ld mutations (seed 0x%llx)\n",
	       corpus_count, mutations, (unsigned long long)seed);
	free(buf);
	for (size_t i = 0; i < corpus_count; i++)
		free(corpus[i]);
	return 0;
}
