/* gst-hangout — the little statistics every benchmark reports with.
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#include "stats.h"

#include <stdlib.h>

gint
bench_compare_doubles (gconstpointer a, gconstpointer b)
{
  gdouble x = *(const gdouble *) a, y = *(const gdouble *) b;

  return x < y ? -1 : x > y;
}

gdouble
bench_median (const gdouble *values, guint n)
{
  gdouble *sorted, m;

  if (n == 0)
    return 0;
  sorted = g_memdup2 (values, n * sizeof *values);
  qsort (sorted, n, sizeof *sorted, bench_compare_doubles);
  m = n % 2 ? sorted[n / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2;
  g_free (sorted);
  return m;
}

gdouble
bench_median_array (GArray *values)
{
  return bench_median ((const gdouble *) values->data, values->len);
}
