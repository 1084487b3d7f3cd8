/* kfann_error_tests: the refusals of the public interface (test_errors.c), allocation failures
 * (test_nomem.c) and the arena's own checks (test_arena.c). A test name as the argument runs
 * that test alone. */
#include "test.h"

extern const kf_test_case kf_error_tests[];
extern const kf_test_case kf_nomem_tests[];
extern const kf_test_case kf_arena_tests[];

int main(int argc, char **argv)
{
    const kf_test_case *const suites[] = {kf_error_tests, kf_nomem_tests, kf_arena_tests, NULL};
    return kf_test_main(suites, argc, argv);
}
