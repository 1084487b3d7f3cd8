/* The one main loop of the C test binaries: every case of every suite (or the one named on the
 * command line), "FAILED name" for each that fails, then "N passed, N failed". */
#include <string.h>

#include "test.h"

int kf_test_failures = 0;

int kf_test_main(const kf_test_case *const *suites, int argc, char **argv)
{
    int passed = 0, failed = 0;
    const char *only = argc > 1 ? argv[1] : NULL;
    for (; *suites != NULL; suites++)
        for (const kf_test_case *c = *suites; c->name != NULL; c++) {
            const int before = kf_test_failures;
            if (only != NULL && strcmp(only, c->name) != 0)
                continue;
            c->fn();
            if (kf_test_failures == before) {
                passed++;
            } else {
                failed++;
                fprintf(stderr, "FAILED %s\n", c->name);
            }
        }
    printf("%d passed, %d failed\n", passed, failed);
    return failed == 0 ? 0 : 1;
}
