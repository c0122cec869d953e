/* gst-hangout — the little statistics every benchmark reports with.
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <glib.h>

/* For g_array_sort() and qsort() of gdouble. */
gint bench_compare_doubles (gconstpointer a, gconstpointer b);
/* The median of @n values (@values is not reordered); 0 for none. */
gdouble bench_median (const gdouble *values, guint n);
/* The same for an array of gdouble. */
gdouble bench_median_array (GArray *values);
