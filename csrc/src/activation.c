/* The activation functions and their derivatives, with FANN 2.2's formulas and constants.
 * Values are computed in double where FANN calls exp/sin/cos on a float (C promotes the argument
 * to double), then rounded to float, so that results match libfann's. */
#include "internal.h"

#include "../simd/kernels.h"

#include <string.h>

static const char *const activation_names[KF_ACTIVATION_COUNT_] = {
    "linear", "threshold", "threshold_symmetric", "sigmoid", "sigmoid_stepwise",
    "sigmoid_symmetric", "sigmoid_symmetric_stepwise", "gaussian", "gaussian_symmetric",
    "gaussian_stepwise", "elliot", "elliot_symmetric", "linear_piece", "linear_piece_symmetric",
    "sin_symmetric", "cos_symmetric", "sin", "cos", "relu", "leaky_relu",
};

const char *kf_activation_name(kf_activation a)
{
    if ((unsigned)a >= KF_ACTIVATION_COUNT_)
        return NULL;
    return activation_names[a];
}

kf_status kf_activation_from_name(const char *name, kf_activation *out)
{
    unsigned i;
    if (name == NULL || out == NULL)
        return KF_E_ARG;
    for (i = 0; i < KF_ACTIVATION_COUNT_; i++) {
        if (strcmp(name, activation_names[i]) == 0) {
            *out = (kf_activation)i;
            return KF_OK;
        }
    }
    return KF_E_ARG;
}

int kf_activation_is_symmetric(kf_activation a)
{
    switch (a) {
    case KF_LINEAR_PIECE_SYMMETRIC:
    case KF_THRESHOLD_SYMMETRIC:
    case KF_SIGMOID_SYMMETRIC:
    case KF_SIGMOID_SYMMETRIC_STEPWISE:
    case KF_ELLIOT_SYMMETRIC:
    case KF_GAUSSIAN_SYMMETRIC:
    case KF_SIN_SYMMETRIC:
    case KF_COS_SYMMETRIC:
        return 1;
    default:
        return 0;
    }
}

/* FANN 2.2's float stepwise sigmoids: breakpoints and outputs as it hard-codes them. */
static const kf_stepwise sigmoid_stepwise = {
    {-2.64665246009826660156e+00f, -1.47221946716308593750e+00f, -5.49306154251098632812e-01f,
     5.49306154251098632812e-01f, 1.47221934795379638672e+00f, 2.64665293693542480469e+00f},
    {4.99999988824129104614e-03f, 5.00000007450580596924e-02f, 2.50000000000000000000e-01f,
     7.50000000000000000000e-01f, 9.49999988079071044922e-01f, 9.95000004768371582031e-01f},
    0.0f, 1.0f};
static const kf_stepwise sigmoid_symmetric_stepwise = {
    {-2.64665293693542480469e+00f, -1.47221934795379638672e+00f, -5.49306154251098632812e-01f,
     5.49306154251098632812e-01f, 1.47221934795379638672e+00f, 2.64665293693542480469e+00f},
    {-9.90000009536743164062e-01f, -8.99999976158142089844e-01f, -5.00000000000000000000e-01f,
     5.00000000000000000000e-01f, 8.99999976158142089844e-01f, 9.90000009536743164062e-01f},
    -1.0f, 1.0f};

const kf_stepwise *kf_stepwise_of(kf_activation a)
{
    return a == KF_SIGMOID_STEPWISE ? &sigmoid_stepwise
         : a == KF_SIGMOID_SYMMETRIC_STEPWISE ? &sigmoid_symmetric_stepwise : NULL;
}

/* Piecewise-linear interpolation through the six points, flat outside them. */
static float stepwise(const kf_stepwise *st, float x)
{
    int i;
    if (x < st->v[0])
        return st->lo;
    if (x >= st->v[5])
        return st->hi;
    for (i = 0; i < 4; i++)
        if (x < st->v[i + 1])
            break;
    /* FANN's breakpoints are double literals, so its interpolation runs in double. */
    return (float)((((double)st->r[i + 1] - st->r[i]) * ((double)x - st->v[i])) / ((double)st->v[i + 1] - st->v[i])
                   + st->r[i]);
}

float kf_activation_apply(kf_activation a, float x)
{
    switch (a) {
    case KF_LINEAR: return x;
    case KF_THRESHOLD: return x < 0 ? 0.0f : 1.0f;
    case KF_THRESHOLD_SYMMETRIC: return x < 0 ? -1.0f : 1.0f;
    case KF_SIGMOID: return (float)(1.0f / (1.0f + exp(-2.0f * x)));
    case KF_SIGMOID_STEPWISE: return stepwise(&sigmoid_stepwise, x);
    case KF_SIGMOID_SYMMETRIC: return (float)(2.0f / (1.0f + exp(-2.0f * x)) - 1.0f);
    case KF_SIGMOID_SYMMETRIC_STEPWISE: return stepwise(&sigmoid_symmetric_stepwise, x);
    case KF_GAUSSIAN: return (float)exp(-x * x);
    case KF_GAUSSIAN_SYMMETRIC: return (float)((exp(-x * x) * 2.0f) - 1.0f);
    case KF_GAUSSIAN_STEPWISE: return 0.0f;
    case KF_ELLIOT: return ((x / 2.0f) / (1.0f + fabsf(x))) + 0.5f;
    case KF_ELLIOT_SYMMETRIC: return x / (1.0f + fabsf(x));
    case KF_LINEAR_PIECE: return x < 0 ? 0.0f : (x > 1 ? 1.0f : x);
    case KF_LINEAR_PIECE_SYMMETRIC: return x < -1 ? -1.0f : (x > 1 ? 1.0f : x);
    case KF_SIN_SYMMETRIC: return (float)sin(x);
    case KF_COS_SYMMETRIC: return (float)cos(x);
    case KF_SIN: return (float)(sin(x) / 2.0f + 0.5f);
    case KF_COS: return (float)(cos(x) / 2.0f + 0.5f);
    case KF_RELU: return x > 0 ? x : 0.0f;
    case KF_LEAKY_RELU: return x > 0 ? x : 0.01f * x;
    case KF_ACTIVATION_COUNT_: break;
    }
    return 0.0f;
}

static float clip(float v, float lo, float hi)
{
    return v < lo ? lo : (v > hi ? hi : v);
}

float kf_activation_derived(kf_activation a, float steepness, float value, float sum)
{
    switch (a) {
    case KF_LINEAR:
    case KF_LINEAR_PIECE:
    case KF_LINEAR_PIECE_SYMMETRIC:
        return steepness;
    case KF_SIGMOID:
    case KF_SIGMOID_STEPWISE:
        value = clip(value, 0.01f, 0.99f);
        return 2.0f * steepness * value * (1.0f - value);
    case KF_SIGMOID_SYMMETRIC:
    case KF_SIGMOID_SYMMETRIC_STEPWISE:
        value = clip(value, -0.98f, 0.98f);
        return steepness * (1.0f - (value * value));
    case KF_GAUSSIAN:
        return -2.0f * sum * value * steepness * steepness;
    case KF_GAUSSIAN_SYMMETRIC:
        return -2.0f * sum * (value + 1.0f) * steepness * steepness;
    case KF_ELLIOT:
    case KF_ELLIOT_SYMMETRIC: {
        float d = 1.0f + fabsf(sum);
        return a == KF_ELLIOT ? steepness * 1.0f / (2.0f * d * d) : steepness * 1.0f / (d * d);
    }
    case KF_SIN_SYMMETRIC: return (float)(steepness * cos(steepness * sum));
    case KF_COS_SYMMETRIC: return (float)(steepness * -sin(steepness * sum));
    case KF_SIN: return (float)(steepness * cos(steepness * sum) / 2.0f);
    case KF_COS: return (float)(steepness * -sin(steepness * sum) / 2.0f);
    case KF_RELU: return value > 0 ? steepness : 0.0f;
    case KF_LEAKY_RELU: return value > 0 ? steepness : 0.01f * steepness;
    case KF_THRESHOLD:
    case KF_THRESHOLD_SYMMETRIC:
    case KF_GAUSSIAN_STEPWISE:
    case KF_ACTIVATION_COUNT_:
        break;
    }
    return 0.0f;
}
