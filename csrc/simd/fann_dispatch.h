/* The dispatch of the vector activation and derivative kernels (kernels.h), written once: an ISA
 * file (fann_avx2.c, fann_avx512.c) defines activate_row(activation, fused, steepness, raw, sum,
 * value, count) and derive_row(activation, steepness, value, sum, err, count), each taking its
 * activation as a constant so that every activation gets its own loop, and KF_ISA(name) for its
 * functions' names; this file defines the two table entries over them. sin and cos, and exp where
 * libm is neither glibc model, go to the scalar reference. */
#ifndef KF_FANN_DISPATCH_H
#define KF_FANN_DISPATCH_H

#define ROW(a, fused) activate_row(a, fused, steepness, raw, sum, value, count)

void KF_ISA(fann_activate)(kf_activation activation, float steepness, kf_exp_kind exp_kind, const float *raw,
                           float *sum, float *value, uint32_t count)
{
    const int fused = exp_kind == KF_EXP_FUSED;
    switch (activation) {
    case KF_LINEAR: ROW(KF_LINEAR, 0); return;
    case KF_THRESHOLD: ROW(KF_THRESHOLD, 0); return;
    case KF_THRESHOLD_SYMMETRIC: ROW(KF_THRESHOLD_SYMMETRIC, 0); return;
    case KF_SIGMOID_STEPWISE: ROW(KF_SIGMOID_STEPWISE, 0); return;
    case KF_SIGMOID_SYMMETRIC_STEPWISE: ROW(KF_SIGMOID_SYMMETRIC_STEPWISE, 0); return;
    case KF_GAUSSIAN_STEPWISE: ROW(KF_GAUSSIAN_STEPWISE, 0); return;
    case KF_ELLIOT: ROW(KF_ELLIOT, 0); return;
    case KF_ELLIOT_SYMMETRIC: ROW(KF_ELLIOT_SYMMETRIC, 0); return;
    case KF_LINEAR_PIECE: ROW(KF_LINEAR_PIECE, 0); return;
    case KF_LINEAR_PIECE_SYMMETRIC: ROW(KF_LINEAR_PIECE_SYMMETRIC, 0); return;
    case KF_RELU: ROW(KF_RELU, 0); return;
    case KF_LEAKY_RELU: ROW(KF_LEAKY_RELU, 0); return;
    case KF_SIGMOID:
    case KF_SIGMOID_SYMMETRIC:
    case KF_GAUSSIAN:
    case KF_GAUSSIAN_SYMMETRIC:
        if (exp_kind == KF_EXP_LIBM)
            break;
        if (activation == KF_SIGMOID)
            fused ? ROW(KF_SIGMOID, 1) : ROW(KF_SIGMOID, 0);
        else if (activation == KF_SIGMOID_SYMMETRIC)
            fused ? ROW(KF_SIGMOID_SYMMETRIC, 1) : ROW(KF_SIGMOID_SYMMETRIC, 0);
        else if (activation == KF_GAUSSIAN)
            fused ? ROW(KF_GAUSSIAN, 1) : ROW(KF_GAUSSIAN, 0);
        else
            fused ? ROW(KF_GAUSSIAN_SYMMETRIC, 1) : ROW(KF_GAUSSIAN_SYMMETRIC, 0);
        return;
    default: break;
    }
    kf_fann_activate_scalar(activation, steepness, exp_kind, raw, sum, value, count);
}

#undef ROW
#define DERIVE(a) derive_row(a, steepness, value, sum, err, count)

void KF_ISA(fann_derive)(kf_activation activation, float steepness, const float *value, const float *sum, float *err,
                         uint32_t count)
{
    switch (activation) { /* the activations that share a derivative formula share a loop */
    case KF_LINEAR:
    case KF_LINEAR_PIECE:
    case KF_LINEAR_PIECE_SYMMETRIC: DERIVE(KF_LINEAR); return;
    case KF_SIGMOID:
    case KF_SIGMOID_STEPWISE: DERIVE(KF_SIGMOID); return;
    case KF_SIGMOID_SYMMETRIC:
    case KF_SIGMOID_SYMMETRIC_STEPWISE: DERIVE(KF_SIGMOID_SYMMETRIC); return;
    case KF_GAUSSIAN: DERIVE(KF_GAUSSIAN); return;
    case KF_GAUSSIAN_SYMMETRIC: DERIVE(KF_GAUSSIAN_SYMMETRIC); return;
    case KF_ELLIOT: DERIVE(KF_ELLIOT); return;
    case KF_ELLIOT_SYMMETRIC: DERIVE(KF_ELLIOT_SYMMETRIC); return;
    case KF_RELU: DERIVE(KF_RELU); return;
    case KF_LEAKY_RELU: DERIVE(KF_LEAKY_RELU); return;
    case KF_THRESHOLD:
    case KF_THRESHOLD_SYMMETRIC:
    case KF_GAUSSIAN_STEPWISE: DERIVE(KF_THRESHOLD); return;
    default: break;
    }
    kf_fann_derive_scalar(activation, steepness, value, sum, err, count);
}

#undef DERIVE

#endif
