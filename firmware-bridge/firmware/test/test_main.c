/* test_main.c - runs the C unit tests: fwtest VECTORS_FILE */
#include <stdio.h>

#include "test.h"

int main(int argc, char **argv)
{
	test_state t = {0, 0};
	if (argc != 2) {
		fprintf(stderr, "usage: fwtest testdata/vectors.txt\n");
		return 2;
	}
	test_codec_golden(&t);
	if (test_codec_vectors(&t, argv[1]) != 0) {
		return 1;
	}
	test_fw(&t);
	if (t.failures > 0) {
		printf("FAIL: %u of %u checks failed\n", t.failures, t.checks);
		return 1;
	}
	printf("PASS: %u checks\n", t.checks);
	return 0;
}
