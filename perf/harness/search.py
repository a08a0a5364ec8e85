# SPDX-License-Identifier: BSD-3-Clause
"""Throughput search (RFC 2544 §26.1): the highest evenly paced offered rate a DUT passes.

Pure logic: the trial itself is a function passed in, so this is tested without traffic."""
from dataclasses import dataclass, field


@dataclass
class Trial:
    """One paced trial: what was offered, what the generator managed, what arrived."""
    offered_pps: float          # the rate asked of the generator
    sent: int                   # frames the generator sent
    received: int               # frames that arrived at the sink
    seconds: float              # how long the generator took
    cpu_busy_s: float = 0.0     # busy CPU time of all cores during the trial
    extra: dict = field(default_factory=dict)

    @property
    def achieved_pps(self):
        return self.sent / self.seconds if self.seconds > 0 else 0.0

    @property
    def lost(self):
        return max(0, self.sent - self.received)

    @property
    def loss_ratio(self):
        return self.lost / self.sent if self.sent else 0.0

    @property
    def received_pps(self):
        return self.received / self.seconds if self.seconds > 0 else 0.0

    def sustained(self, tolerance=0.02):
        """Did the generator actually offer the rate asked? A DUT that slows the sender
        down (the kernel bridge runs in the sender's context) has not passed that rate."""
        return self.achieved_pps >= (1.0 - tolerance) * self.offered_pps

    def passes(self, max_loss_ratio=0.0):
        return self.sustained() and self.loss_ratio <= max_loss_ratio

    def to_dict(self):
        return {"offered_pps": self.offered_pps, "sent": self.sent, "received": self.received,
                "seconds": round(self.seconds, 4), "achieved_pps": round(self.achieved_pps, 1),
                "lost": self.lost, "loss_ratio": self.loss_ratio,
                "cpu_busy_s": round(self.cpu_busy_s, 4), **self.extra}


NDR_LOSS = 0.0      # no drop rate
PDR_LOSS = 0.005    # partial drop rate: at most 0.5 % lost
STALL_S = 0.010     # what one stall of the forwarding core can cost: 10 ms of frames


def small_loss(t):
    """Loss no larger than what a single ~10 ms stall loses at this rate (or than the PDR
    threshold, if that is larger): the signature of the machine pausing a vCPU, not of a
    rate the DUT cannot carry."""
    return t.sustained() and 0 < t.lost <= max(PDR_LOSS * t.sent, STALL_S * t.offered_pps)


def search(trial_fn, lo, hi, max_loss_ratio=NDR_LOSS, resolution=0.01, max_trials=12,
           granularity=1000, on_trial=None, retry_small_loss=False):
    """Binary search for the highest rate in [lo, hi] that passes.

    Tries HI first (a DUT that passes the generator's ceiling needs no search), then
    halves the interval between the highest pass and the lowest fail until it is narrower
    than RESOLUTION x HI or MAX_TRIALS trials have run. Rates are rounded to GRANULARITY.
    With RETRY_SMALL_LOSS, a trial that held the rate but lost a little (see small_loss())
    is run once more and the rate passes if the rerun does: on a shared machine a vCPU
    stall of a few milliseconds loses a few thousand frames whatever the rate, and would
    otherwise decide the search. Every trial is kept and reported (reruns carry
    extra["retry"] = True; count them with reruns()).
    Returns (rate, best passing Trial or None, all trials in order). Rate 0 means no
    tested rate passed."""
    trials = []

    def run(rate):
        t = trial_fn(rate)
        trials.append(t)
        if on_trial:
            on_trial(t)
        if retry_small_loss and not t.passes(max_loss_ratio) and small_loss(t):
            t = trial_fn(rate)
            t.extra["retry"] = True
            trials.append(t)
            if on_trial:
                on_trial(t)
        return t

    t = run(hi)
    if t.passes(max_loss_ratio):
        return hi, t, trials
    best_rate, best = 0, None
    if lo > 0:
        t = run(lo)
        if not t.passes(max_loss_ratio):
            return 0, None, trials
        best_rate, best = lo, t
    return bisect(run, trials, lo, hi, best_rate, best, max_loss_ratio, resolution, max_trials,
                  granularity)


def bisect(run, trials, lo, hi, best_rate, best, max_loss_ratio, resolution, max_trials,
           granularity):
    """Bisects between LO (passes) and HI (fails or untried) on multiples of GRANULARITY
    until the gap is within RESOLUTION of HI or TRIALS holds MAX_TRIALS. Returns (rate,
    trial, trials) with the best passing rate and its trial."""
    while len(trials) < max_trials and (hi - lo) > max(resolution * hi, granularity):
        mid = max(granularity, round((lo + hi) / 2 / granularity) * granularity)
        if mid <= lo or mid >= hi:
            break
        t = run(mid)
        if t.passes(max_loss_ratio):
            lo, best_rate, best = mid, mid, t
        else:
            hi = mid
    return best_rate, best, trials


def search_above(trial_fn, floor, ceiling, known=(), max_loss_ratio=PDR_LOSS, resolution=0.01,
                 max_trials=6, granularity=1000, on_trial=None):
    """The highest rate in [FLOOR, CEILING] that passes MAX_LOSS_RATIO, when FLOOR is known
    to pass: the PDR search, upward from the NDR (no loss is at most 0.5 % loss, so the NDR
    is a valid lower bound and the PDR is never below it; a noisy trial cannot lower it).

    KNOWN are trials already run (the NDR search's): a rate that passed there raises the
    floor, a rate that failed (and never passed, reruns included) lowers the ceiling, so
    no rate is tried twice. The ceiling itself is tried first unless a known trial already
    decided it. Then bisection, as in search(), with at most MAX_TRIALS new trials.
    Returns (rate, the best passing trial or None when the rate is FLOOR without a trial
    of its own, the new trials)."""
    passed = {t.offered_pps for t in known if t.passes(max_loss_ratio)}
    failed = {t.offered_pps for t in known if not t.passes(max_loss_ratio)} - passed
    best_rate = max([floor, *(r for r in passed if r <= ceiling)])
    best = max((t for t in known if t.passes(max_loss_ratio) and t.offered_pps == best_rate),
               key=lambda t: t.offered_pps, default=None)
    above = [r for r in failed if r > best_rate]
    hi = min(above) if above else ceiling
    trials = []

    def run(rate):
        t = trial_fn(rate)
        trials.append(t)
        if on_trial:
            on_trial(t)
        return t

    if not above and hi > best_rate:  # the ceiling is undecided: try it first
        t = run(hi)
        if t.passes(max_loss_ratio):
            return hi, t, trials
    return bisect(run, trials, best_rate, hi, best_rate, best, max_loss_ratio, resolution,
                  max_trials, granularity)


def reruns(trials):
    """(how many trials were reruns after a stall-sized loss, how many of those passed)."""
    r = [t for t in trials if t.extra.get("retry")]
    return len(r), sum(1 for t in r if t.passes(NDR_LOSS))


def best_from_trials(trials, max_loss_ratio, floor=0):
    """The highest offered rate among TRIALS that passes MAX_LOSS_RATIO (e.g. PDR from
    the NDR search's own trials, in --quick mode), never below FLOOR (the NDR, for a PDR).
    Returns (rate, trial); the trial is None when no trial above FLOOR passed."""
    ok = [t for t in trials if t.passes(max_loss_ratio) and t.offered_pps >= floor]
    if not ok:
        return floor, None
    t = max(ok, key=lambda x: x.offered_pps)
    return t.offered_pps, t
