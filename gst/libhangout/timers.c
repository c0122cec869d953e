/* gst-hangout — many timers of one main context behind one GSource
 * (timers-private.h).
 *
 * A context's timers are an array scanned in full by prepare, check and
 * dispatch: a member has a few per peer connection, a few hundred at
 * most, and a scan of them costs less than what GLib spends on one
 * source of its own. Timers are reference counted so that a dispatch can
 * run each due one even when another's function frees it meanwhile, and
 * a set lives while it has timers or a dispatch is under way.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#include "timers-private.h"

typedef struct _TimerSet TimerSet;

struct _HangoutTimer {
  gatomicrefcount refs;
  TimerSet *set;
  HangoutTimerFunc func;        /* NULL once freed; under the set's lock */
  gpointer data;
  gint64 ready_time;            /* under the set's lock; -1: disarmed */
};

typedef struct {
  GSource source;
  TimerSet *set;
} TimerSource;

struct _TimerSet {
  guint refs;                   /* under sets_lock: its timers, dispatches */
  GMainContext *context;
  GSource *source;
  GMutex lock;
  GPtrArray *timers;            /* HangoutTimer*, each holding a reference */
};

/* Every context's set, by context; a set lives while it has timers. */
static GMutex sets_lock;
static GHashTable *sets;

static void
timer_unref (HangoutTimer *timer)
{
  if (g_atomic_ref_count_dec (&timer->refs))
    g_free (timer);
}

static void
set_ref (TimerSet *set)
{
  g_mutex_lock (&sets_lock);
  set->refs++;
  g_mutex_unlock (&sets_lock);
}

static void
set_unref (TimerSet *set)
{
  g_mutex_lock (&sets_lock);
  if (--set->refs > 0) {
    g_mutex_unlock (&sets_lock);
    return;
  }
  g_hash_table_remove (sets, set->context);
  g_mutex_unlock (&sets_lock);
  g_source_destroy (set->source);
  g_source_unref (set->source);
  g_ptr_array_unref (set->timers);
  g_mutex_clear (&set->lock);
  g_main_context_unref (set->context);
  g_free (set);
}

/* The earliest ready time of @set, or -1. */
static gint64
earliest (TimerSet *set)
{
  gint64 first = -1;

  g_mutex_lock (&set->lock);
  for (guint i = 0; i < set->timers->len; i++) {
    HangoutTimer *timer = g_ptr_array_index (set->timers, i);

    if (timer->ready_time >= 0 && (first < 0 || timer->ready_time < first))
      first = timer->ready_time;
  }
  g_mutex_unlock (&set->lock);
  return first;
}

static gboolean
timer_source_prepare (GSource *source, gint *timeout)
{
  gint64 first = earliest (((TimerSource *) source)->set), now;

  if (first < 0) {
    *timeout = -1;
    return FALSE;
  }
  now = g_source_get_time (source);
  if (first <= now) {
    *timeout = 0;
    return TRUE;
  }
  /* Rounded up, as GLib does for its own ready times: never early. */
  *timeout = (gint) MIN ((first - now + 999) / 1000, (gint64) G_MAXINT);
  return FALSE;
}

static gboolean
timer_source_check (GSource *source)
{
  gint64 first = earliest (((TimerSource *) source)->set);

  return first >= 0 && first <= g_source_get_time (source);
}

static gboolean
timer_source_dispatch (GSource *source, GSourceFunc callback, gpointer data)
{
  TimerSet *set = ((TimerSource *) source)->set;
  gint64 now = g_source_get_time (source);
  GPtrArray *due = g_ptr_array_new_with_free_func ((GDestroyNotify) timer_unref);

  set_ref (set);
  g_mutex_lock (&set->lock);
  for (guint i = 0; i < set->timers->len; i++) {
    HangoutTimer *timer = g_ptr_array_index (set->timers, i);

    if (timer->ready_time >= 0 && timer->ready_time <= now) {
      timer->ready_time = -1;
      g_atomic_ref_count_inc (&timer->refs);
      g_ptr_array_add (due, timer);
    }
  }
  g_mutex_unlock (&set->lock);

  for (guint i = 0; i < due->len; i++) {
    HangoutTimer *timer = g_ptr_array_index (due, i);
    HangoutTimerFunc func;

    g_mutex_lock (&set->lock);
    func = timer->func;
    g_mutex_unlock (&set->lock);
    if (func != NULL)
      func (timer->data);
  }
  g_ptr_array_unref (due);
  set_unref (set);
  return G_SOURCE_CONTINUE;
}

static GSourceFuncs timer_source_funcs = {
  .prepare = timer_source_prepare,
  .check = timer_source_check,
  .dispatch = timer_source_dispatch,
};

/* Under sets_lock: @context's set, with a reference for the caller. */
static TimerSet *
set_for (GMainContext *context)
{
  TimerSet *set;

  if (sets == NULL)
    sets = g_hash_table_new (NULL, NULL);
  set = g_hash_table_lookup (sets, context);
  if (set != NULL) {
    set->refs++;
    return set;
  }
  set = g_new0 (TimerSet, 1);
  set->refs = 1;
  set->context = g_main_context_ref (context);
  g_mutex_init (&set->lock);
  set->timers = g_ptr_array_new ();
  set->source = g_source_new (&timer_source_funcs, sizeof (TimerSource));
  ((TimerSource *) set->source)->set = set;
  g_source_set_static_name (set->source, "hangout timers");
  g_source_attach (set->source, context);
  g_hash_table_insert (sets, context, set);
  return set;
}

HangoutTimer *
hangout_timer_new (GMainContext *context, HangoutTimerFunc func, gpointer data)
{
  HangoutTimer *timer = g_new0 (HangoutTimer, 1);

  g_atomic_ref_count_init (&timer->refs);
  timer->func = func;
  timer->data = data;
  timer->ready_time = -1;
  g_mutex_lock (&sets_lock);
  timer->set = set_for (context);
  g_mutex_lock (&timer->set->lock);
  g_ptr_array_add (timer->set->timers, timer);
  g_mutex_unlock (&timer->set->lock);
  g_mutex_unlock (&sets_lock);
  return timer;
}

void
hangout_timer_set (HangoutTimer *timer, gint64 ready_time)
{
  TimerSet *set = timer->set;

  g_mutex_lock (&set->lock);
  timer->ready_time = ready_time;
  g_mutex_unlock (&set->lock);
  /* The context's own thread prepares the set again before it polls. */
  if (ready_time >= 0 && !g_main_context_is_owner (set->context))
    g_main_context_wakeup (set->context);
}

gboolean
hangout_timer_is_armed (HangoutTimer *timer)
{
  gboolean armed;

  g_mutex_lock (&timer->set->lock);
  armed = timer->ready_time >= 0;
  g_mutex_unlock (&timer->set->lock);
  return armed;
}

void
hangout_timer_free (HangoutTimer *timer)
{
  TimerSet *set;

  if (timer == NULL)
    return;
  set = timer->set;
  g_mutex_lock (&set->lock);
  timer->func = NULL;
  g_ptr_array_remove_fast (set->timers, timer);
  g_mutex_unlock (&set->lock);
  timer_unref (timer);
  set_unref (set);
}
