/* gst-hangout — unit tests of the timers of a main context
 * (gst/libhangout/timers.c): each fires once per arming, at its time;
 * disarmed or freed it does not; one armed from another thread wakes the
 * context; a timer's function may free itself, another due timer, or the
 * context's last timer.
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#include <gst/check/gstcheck.h>
#include "timers-private.h"

typedef struct {
  guint fired;
  gint64 at;                    /* monotonic µs of the last firing */
  HangoutTimer *to_free;        /* freed by the function, if set */
  HangoutTimer **self;          /* cleared (freed) by the function, if set */
} Count;

static void
on_fire (gpointer data)
{
  Count *count = data;

  count->fired++;
  count->at = g_get_monotonic_time ();
  if (count->to_free != NULL)
    g_clear_pointer (&count->to_free, hangout_timer_free);
  if (count->self != NULL)
    hangout_clear_timer (count->self);
}

/* Iterates @context until @done or 5 s have passed. */
static void
iterate_until (GMainContext *context, const guint *fired, guint done)
{
  gint64 deadline = g_get_monotonic_time () + 5 * G_USEC_PER_SEC;

  while (*fired < done && g_get_monotonic_time () < deadline)
    g_main_context_iteration (context, TRUE);
}

/* Runs whatever is ready now, without waiting. */
static void
drain (GMainContext *context)
{
  while (g_main_context_iteration (context, FALSE));
}

GST_START_TEST (test_fires_once_at_its_time)
{
  GMainContext *context = g_main_context_new ();
  Count count = { 0 };
  HangoutTimer *timer = hangout_timer_new (context, on_fire, &count);
  gint64 armed = g_get_monotonic_time ();

  fail_if (hangout_timer_is_armed (timer));
  hangout_timer_set (timer, armed + 30 * G_TIME_SPAN_MILLISECOND);
  fail_unless (hangout_timer_is_armed (timer));
  iterate_until (context, &count.fired, 1);
  fail_unless_equals_int (count.fired, 1);
  fail_unless (count.at >= armed + 30 * G_TIME_SPAN_MILLISECOND, "fired %"
      G_GINT64_FORMAT " µs early", armed + 30000 - count.at);
  fail_if (hangout_timer_is_armed (timer));
  /* Once per arming: nothing more comes. */
  g_usleep (20 * 1000);
  drain (context);
  fail_unless_equals_int (count.fired, 1);

  hangout_timer_free (timer);
  g_main_context_unref (context);
}
GST_END_TEST;

GST_START_TEST (test_disarmed_and_freed_never_fire)
{
  GMainContext *context = g_main_context_new ();
  Count disarmed = { 0 }, freed = { 0 }, witness = { 0 };
  HangoutTimer *a = hangout_timer_new (context, on_fire, &disarmed);
  HangoutTimer *b = hangout_timer_new (context, on_fire, &freed);
  HangoutTimer *c = hangout_timer_new (context, on_fire, &witness);
  gint64 soon = g_get_monotonic_time () + 10 * G_TIME_SPAN_MILLISECOND;

  hangout_timer_set (a, soon);
  hangout_timer_set (b, soon);
  hangout_timer_set (c, soon + 10 * G_TIME_SPAN_MILLISECOND);
  hangout_timer_set (a, -1);
  hangout_timer_free (b);
  iterate_until (context, &witness.fired, 1);
  fail_unless_equals_int (witness.fired, 1);
  fail_unless_equals_int (disarmed.fired, 0);
  fail_unless_equals_int (freed.fired, 0);

  hangout_timer_free (a);
  hangout_timer_free (c);
  g_main_context_unref (context);
}
GST_END_TEST;

static gpointer
arm_later (gpointer data)
{
  g_usleep (50 * 1000);
  hangout_timer_set (data, 0);
  return NULL;
}

/* The context sleeps with no timer armed; another thread arms one. */
GST_START_TEST (test_armed_from_another_thread_wakes_the_context)
{
  GMainContext *context = g_main_context_new ();
  Count count = { 0 };
  HangoutTimer *timer = hangout_timer_new (context, on_fire, &count);
  GThread *thread;
  gint64 start = g_get_monotonic_time ();

  g_main_context_acquire (context);
  thread = g_thread_new ("arm", arm_later, timer);
  /* Blocks: nothing else could wake it. */
  g_main_context_iteration (context, TRUE);
  fail_unless_equals_int (count.fired, 1);
  fail_unless (g_get_monotonic_time () - start < 2 * G_USEC_PER_SEC);
  g_thread_join (thread);
  g_main_context_release (context);

  hangout_timer_free (timer);
  g_main_context_unref (context);
}
GST_END_TEST;

/* Two timers due in the same dispatch: whichever runs first frees the
 * other, which then does not run. */
GST_START_TEST (test_freed_by_another_timer_in_the_same_dispatch)
{
  GMainContext *context = g_main_context_new ();
  Count one = { 0 }, two = { 0 }, three = { 0 };
  HangoutTimer *a = hangout_timer_new (context, on_fire, &one);
  HangoutTimer *b = hangout_timer_new (context, on_fire, &two);
  HangoutTimer *c = hangout_timer_new (context, on_fire, &three);

  one.to_free = b;
  two.to_free = a;
  hangout_timer_set (a, 0);
  hangout_timer_set (b, 0);
  hangout_timer_set (c, 0);
  drain (context);
  fail_unless_equals_int (one.fired + two.fired, 1);
  fail_unless_equals_int (three.fired, 1);

  hangout_timer_free (one.fired ? a : b);
  hangout_timer_free (c);
  g_main_context_unref (context);
}
GST_END_TEST;

/* The context's only timer frees itself from its function; a new one on
 * the same context works after that. */
GST_START_TEST (test_last_timer_freed_from_its_function)
{
  GMainContext *context = g_main_context_new ();
  Count count = { 0 }, again = { 0 };
  HangoutTimer *timer = hangout_timer_new (context, on_fire, &count);
  HangoutTimer *next;

  count.self = &timer;
  hangout_timer_set (timer, 0);
  drain (context);
  fail_unless_equals_int (count.fired, 1);
  fail_unless (timer == NULL);

  next = hangout_timer_new (context, on_fire, &again);
  hangout_timer_set (next, 0);
  drain (context);
  fail_unless_equals_int (again.fired, 1);
  hangout_timer_free (next);
  g_main_context_unref (context);
}
GST_END_TEST;

/* Two timers due together, the context's only ones: the first to run
 * frees both, and so the set they were in, in the middle of its
 * dispatch. */
GST_START_TEST (test_all_timers_freed_in_a_dispatch)
{
  GMainContext *context = g_main_context_new ();
  Count one = { 0 }, two = { 0 };
  HangoutTimer *a = hangout_timer_new (context, on_fire, &one);
  HangoutTimer *b = hangout_timer_new (context, on_fire, &two);

  one.to_free = b;
  one.self = &a;
  two.to_free = a;
  two.self = &b;
  hangout_timer_set (a, 0);
  hangout_timer_set (b, 0);
  drain (context);
  fail_unless_equals_int (one.fired + two.fired, 1);
  /* The freed one's pointer was cleared by its function. */
  fail_unless (one.fired ? a == NULL : b == NULL);
  g_main_context_unref (context);
}
GST_END_TEST;

static Suite *
timers_suite (void)
{
  Suite *s = suite_create ("timers");
  TCase *tc = tcase_create ("general");

  tcase_set_timeout (tc, 20);
  suite_add_tcase (s, tc);
  tcase_add_test (tc, test_fires_once_at_its_time);
  tcase_add_test (tc, test_disarmed_and_freed_never_fire);
  tcase_add_test (tc, test_armed_from_another_thread_wakes_the_context);
  tcase_add_test (tc, test_freed_by_another_timer_in_the_same_dispatch);
  tcase_add_test (tc, test_last_timer_freed_from_its_function);
  tcase_add_test (tc, test_all_timers_freed_in_a_dispatch);
  return s;
}

GST_CHECK_MAIN (timers);
