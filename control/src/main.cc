// SPDX-License-Identifier: BSD-3-Clause
// Entry point of the ringbridge binary.
#include "ringbridge/ctl/appliance.h"

int main(int argc, char** argv) {
  return ringbridge::ctl::run_appliance(argc, argv);
}
