# SPDX-License-Identifier: BSD-3-Clause
"""Progress of a run: one line per trial (DUT, frame size, shape, rate, result) with an
estimate of when the whole run ends.

The estimate: searches ("units": one DUT, one frame size, one shape) still to run × the
mean wall time of the units done so far (trials, settling and DUT start/stop included;
a first guess from the trial length before any is done), plus the later phases (latency,
SIP, callgrind) at their planned length. Good to a few minutes, which is what a run of an
hour needs."""
import datetime
import time

from .search import NDR_LOSS, PDR_LOSS


class Progress:
    def __init__(self, log, units, guess_unit_s, later_s=None, clock=time.time):
        """LOG(msg) prints a line. UNITS searches are planned, each guessed to take
        GUESS_UNIT_S until one has run; LATER_S maps later phases to their seconds."""
        self.log, self.clock = log, clock
        self.units_total, self.units_done = units, 0
        self.guess_unit_s = guess_unit_s
        self.unit_s = []
        self.later_s = dict(later_s or {})
        self.unit_t0 = None
        self.label = ""
        self.trials = 0

    # -- searches -------------------------------------------------------------------------
    def start_unit(self, dut, size, shape):
        self.unit_t0 = self.clock()
        self.label = f"{dut} {size} {shape}"
        self.cur = (dut, size, shape)

    def end_unit(self):
        if self.unit_t0 is not None:
            self.unit_s.append(self.clock() - self.unit_t0)
        self.unit_t0 = None
        self.units_done += 1

    def add_units(self, n):
        """More searches than planned (or fewer, with N < 0)."""
        self.units_total += n

    def trial(self, phase, t):
        """One line for trial T (a search.Trial) of PHASE (max, ndr, pdr) of the current unit."""
        self.trials += 1
        dut, size, shape = self.cur
        if t.extra.get("retry"):
            phase += " re-run"
        if phase == "max":  # as fast as the sender can: no verdict, the receive rate
            rate, verdict = "top speed", f"received {t.received_pps / 1000:.0f} kpps"
        else:
            rate = f"{t.offered_pps / 1000:.0f} kpps"
            ok = t.passes(PDR_LOSS if phase.startswith("pdr") else NDR_LOSS)
            verdict = "pass" if ok else ("FAIL" if t.sustained() else "FAIL (rate not held)")
        self.log(f"{self.units_done + 1}/{self.units_total} {dut} {size} {shape} {phase} "
                 f"{rate}: sent {t.achieved_pps / 1000:.0f} kpps, lost {t.lost} "
                 f"({100 * t.loss_ratio:.3f} %) {verdict} | {self.eta_text()}")

    # -- later phases ---------------------------------------------------------------------
    def spend(self, name, seconds):
        """SECONDS of later phase NAME's plan are done."""
        if name in self.later_s:
            self.later_s[name] = max(0.0, self.later_s[name] - seconds)

    def phase_done(self, name):
        self.later_s.pop(name, None)

    def note(self, msg):
        self.log(f"{msg} | {self.eta_text()}")

    # -- the estimate ---------------------------------------------------------------------
    def per_unit_s(self):
        return sum(self.unit_s) / len(self.unit_s) if self.unit_s else self.guess_unit_s

    def eta_s(self):
        per = self.per_unit_s()
        left = max(0, self.units_total - self.units_done)
        s = left * per
        if self.unit_t0 is not None and left:  # the current unit is partly done
            s -= min(per, self.clock() - self.unit_t0)
        return max(0.0, s) + sum(self.later_s.values())

    def eta_text(self):
        s = self.eta_s()
        end = datetime.datetime.fromtimestamp(self.clock() + s).strftime("%H:%M")
        return f"ETA {end} ({fmt_duration(s)} left)"


def fmt_duration(s):
    s = int(round(s))
    if s < 60:
        return f"{s} s"
    if s < 3600:
        return f"{s // 60} min {s % 60:02d} s"
    return f"{s // 3600} h {s % 3600 // 60:02d} min"
