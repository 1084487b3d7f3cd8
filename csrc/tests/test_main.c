/* Runs every test case and prints "N passed, N failed". */
#include <string.h>

#include "test.h"

int kf_test_failures = 0;

static void run_all(const kf_test_case *cases, int *passed, int *failed, const char *only)
{
    for (; cases->name != NULL; cases++) {
        int before = kf_test_failures;
        if (only != NULL && strcmp(only, cases->name) != 0)
            continue;
        cases->fn();
        if (kf_test_failures == before) {
            (*passed)++;
        } else {
            (*failed)++;
            fprintf(stderr, "FAILED %s\n", cases->name);
        }
    }
}

int main(int argc, char **argv)
{
    int passed = 0, failed = 0;
    const char *only = argc > 1 ? argv[1] : NULL;
    run_all(kf_core_tests, &passed, &failed, only);
    run_all(kf_io_tests, &passed, &failed, only);
    run_all(kf_qnet_tests, &passed, &failed, only);
    run_all(kf_cascade_tests, &passed, &failed, only);
    run_all(kf_kernel_tests, &passed, &failed, only);
    printf("%d passed, %d failed\n", passed, failed);
    return failed == 0 ? 0 : 1;
}
