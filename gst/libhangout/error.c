/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <hangout/error.h>

G_DEFINE_QUARK (hangout-error-quark, hangout_error)
