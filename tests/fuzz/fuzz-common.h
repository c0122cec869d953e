/* gst-hangout — the libFuzzer entry points every target defines or shares.
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <glib.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

int LLVMFuzzerInitialize (int *argc, char ***argv);
int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

/* Aborts (a crash the fuzzer reports) when @cond does not hold: the
 * targets' invariants hold in every build, unlike g_assert's. */
#define FUZZ_CHECK(cond) \
  do { if (!(cond)) { g_printerr ("%s:%d: invariant failed: %s\n", \
      __FILE__, __LINE__, #cond); abort (); } } while (0)
