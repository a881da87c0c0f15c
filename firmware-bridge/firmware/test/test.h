/* test.h - a minimal test harness: CHECK records a failure with its place
 * and goes on, so one run reports every broken case. */
#ifndef FW_TEST_H
#define FW_TEST_H

#include <stdio.h>

typedef struct test_state {
	unsigned checks;
	unsigned failures;
} test_state;

#define CHECK(t, cond, ...)                                                                                          \
	do {                                                                                                         \
		(t)->checks++;                                                                                       \
		if (!(cond)) {                                                                                       \
			(t)->failures++;                                                                             \
			fprintf(stderr, "%s:%d: check failed: %s: ", __FILE__, __LINE__, #cond);                     \
			fprintf(stderr, __VA_ARGS__);                                                                \
			fputc('\n', stderr);                                                                         \
		}                                                                                                    \
	} while (0)

/* Suites. */
void test_codec_golden(test_state *t);
int test_codec_vectors(test_state *t, const char *path);
void test_fw(test_state *t);

#endif /* FW_TEST_H */
