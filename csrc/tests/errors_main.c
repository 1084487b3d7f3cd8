/* kfann_error_tests: the refusals of the public interface (test_errors.c), allocation failures
 * (test_nomem.c) and the arena's own checks (test_arena.c). Prints "N passed, N failed"; a test
 * name as the argument runs that test alone. */
#include <string.h>

#include "test.h"

int kf_test_failures = 0;

extern const kf_test_case kf_error_tests[];
extern const kf_test_case kf_nomem_tests[];
extern const kf_test_case kf_arena_tests[];

static void run_all(const kf_test_case *cases, int *passed, int *failed, const char *only)
{
    for (; cases->name != NULL; cases++) {
        const int before = kf_test_failures;
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
    run_all(kf_error_tests, &passed, &failed, only);
    run_all(kf_nomem_tests, &passed, &failed, only);
    run_all(kf_arena_tests, &passed, &failed, only);
    printf("%d passed, %d failed\n", passed, failed);
    return failed == 0 ? 0 : 1;
}
