/* kfann_tests: the core's behaviour (test_core.c, test_io.c, test_qnet.c, test_cascade.c,
 * test_router.c) and its kernels on every path (test_kernels.c). A test name as the argument runs that test alone. */
#include "test.h"

int main(int argc, char **argv)
{
    const kf_test_case *const suites[] = {kf_core_tests,    kf_io_tests,     kf_qnet_tests,  kf_cascade_tests,
                                          kf_router_tests, kf_kernel_tests, NULL};
    return kf_test_main(suites, argc, argv);
}
