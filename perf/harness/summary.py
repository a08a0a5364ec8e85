# SPDX-License-Identifier: BSD-3-Clause
"""Summaries across repeats and DUTs: medians, ratios to the kernel bridge, flags."""
import statistics

GENERATOR_BOUND = 0.9   # a DUT figure within 10 % of the generator's ceiling


def median(values):
    values = [v for v in values if v is not None]
    return statistics.median(values) if values else None


def ratio(a, b):
    return a / b if a is not None and b else None


def median_ratio(per_repeat_a, per_repeat_b):
    """Median of the per-repeat ratios A/B: each repeat measured both in the same round,
    so the ratio cancels what the shared, noisy machine did during that round."""
    return median([ratio(a, b) for a, b in zip(per_repeat_a, per_repeat_b)])


def generator_bound(dut_rate, generator_ceiling):
    """True when the DUT's figure is so close to the generator's own ceiling that the
    generator, not the DUT, may be what limits it."""
    if dut_rate is None or not generator_ceiling:
        return False
    return dut_rate >= GENERATOR_BOUND * generator_ceiling


def percentile(sorted_values, q):
    if not sorted_values:
        return None
    i = min(len(sorted_values) - 1, int(q * (len(sorted_values) - 1) + 0.5))
    return sorted_values[i]
