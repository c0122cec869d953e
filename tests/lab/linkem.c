/* gst-hangout — linkem, a user-space link emulator for the network lab.
 *
 * The kernel we test on has no netem, so this program plays the link: it
 * opens two TUN devices (layer 3, no packet information header), which the
 * lab moves into two network namespaces, and forwards every IP packet read
 * from one to the other. Each direction has its own one-way delay, random
 * loss, burst loss (Gilbert–Elliott) and a rate limit with a drop-tail queue.
 *
 * One thread, poll(): packets of a direction leave in the order they came
 * (a fixed delay and one bottleneck keep that order), so each direction is
 * a FIFO and the next wake-up is the earlier of the two heads.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <fcntl.h>
#include <glib.h>
#include <linux/if.h>
#include <linux/if_tun.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

/* Larger than any MTU the lab sets (the TUN default is 1500). */
#define MAX_PACKET 65536

typedef struct {
  /* What the user asked for. */
  gint64 delay_ns;
  gdouble loss;           /* Bernoulli, 0..1, on top of the bursts */
  gdouble burst_enter;    /* Gilbert–Elliott: P(good → bad) per packet */
  gdouble burst_length;   /* mean packets in the bad state (0: no bursts) */
  gdouble burst_loss;     /* loss in the bad state, 0..1 */
  guint64 rate_bps;       /* bits per second, 0: unlimited */
  guint64 queue_bytes;    /* bottleneck queue (drop-tail) */
  guint limit;            /* packets held at once: bounds memory */

  /* State. */
  GRand *rand;
  gboolean bad;
  gint64 link_free_ns;    /* when the bottleneck finishes what it holds */
  GQueue held;            /* Packet *, due times nondecreasing */
  int in_fd, out_fd;
  const gchar *name;

  /* Counters. */
  guint64 in, out, lost_random, lost_burst, dropped_queue, dropped_limit,
      dropped_write;
} Direction;

typedef struct {
  gint64 due_ns;
  gsize len;
  guint8 data[];
} Packet;

static volatile sig_atomic_t quit;

static void
on_signal (int signum)
{
  quit = 1;
}

static gint64
now_ns (void)
{
  struct timespec ts;

  clock_gettime (CLOCK_MONOTONIC, &ts);
  return (gint64) ts.tv_sec * G_GINT64_CONSTANT (1000000000) + ts.tv_nsec;
}

static int
open_tun (const gchar *name, GError **error)
{
  struct ifreq ifr = { 0 };
  int fd = open ("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC);

  if (fd < 0) {
    g_set_error (error, G_FILE_ERROR, g_file_error_from_errno (errno),
        "/dev/net/tun: %s", g_strerror (errno));
    return -1;
  }
  ifr.ifr_flags = IFF_TUN | IFF_NO_PI;
  g_strlcpy (ifr.ifr_name, name, IFNAMSIZ);
  if (ioctl (fd, TUNSETIFF, &ifr) < 0) {
    g_set_error (error, G_FILE_ERROR, g_file_error_from_errno (errno),
        "TUNSETIFF %s: %s", name, g_strerror (errno));
    close (fd);
    return -1;
  }
  return fd;
}

/* A direction's settings: comma-separated KEY=VALUE, e.g.
 * "delay=50,loss=5,rate=8000,queue=64". */
static gboolean
parse_spec (Direction *dir, const gchar *spec, GError **error)
{
  g_auto (GStrv) items = g_strsplit (spec, ",", -1);

  for (gchar **item = items; *item != NULL; item++) {
    g_auto (GStrv) kv = g_strsplit (*item, "=", 2);
    gchar *end = NULL;
    gdouble value;

    if (**item == '\0')
      continue;
    if (kv[1] == NULL) {
      g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
          "'%s': expected KEY=VALUE", *item);
      return FALSE;
    }
    value = g_ascii_strtod (kv[1], &end);
    if (end == kv[1] || *end != '\0' || value < 0) {
      g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
          "'%s': not a number >= 0", *item);
      return FALSE;
    }
    if (g_str_equal (kv[0], "delay"))
      dir->delay_ns = (gint64) (value * 1e6);
    else if (g_str_equal (kv[0], "loss") && value <= 100)
      dir->loss = value / 100;
    else if (g_str_equal (kv[0], "burst-enter") && value <= 100)
      dir->burst_enter = value / 100;
    else if (g_str_equal (kv[0], "burst-length") && (value == 0 || value >= 1))
      dir->burst_length = value;
    else if (g_str_equal (kv[0], "burst-loss") && value <= 100)
      dir->burst_loss = value / 100;
    else if (g_str_equal (kv[0], "rate"))
      dir->rate_bps = (guint64) (value * 1000);
    else if (g_str_equal (kv[0], "queue") && value >= 1)
      dir->queue_bytes = (guint64) (value * 1024);
    else if (g_str_equal (kv[0], "limit") && value >= 1 && value <= 1000000)
      dir->limit = (guint) value;
    else {
      g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
          "'%s': unknown key or value out of range", *item);
      return FALSE;
    }
  }
  return TRUE;
}

/* Gilbert–Elliott: the state changes before each packet, then the packet
 * is lost with the state's probability. A mean burst of L packets means
 * leaving the bad state with probability 1/L. */
static gboolean
burst_drops (Direction *dir)
{
  if (dir->burst_length == 0)
    return FALSE;
  if (dir->bad)
    dir->bad = g_rand_double (dir->rand) >= 1 / dir->burst_length;
  else
    dir->bad = g_rand_double (dir->rand) < dir->burst_enter;
  return dir->bad && g_rand_double (dir->rand) < dir->burst_loss;
}

/* Decides the fate of a packet that just arrived: lost, dropped, or held
 * until it has crossed the bottleneck and the delay. */
static void
admit (Direction *dir, const guint8 *data, gsize len, gint64 now)
{
  gint64 start, due;
  Packet *packet;

  dir->in++;
  /* Both draws always happen, so that a seed gives the same sequence of
   * losses whatever the settings of the other kind. */
  gboolean burst = burst_drops (dir);
  gboolean random = g_rand_double (dir->rand) < dir->loss;

  if (burst) {
    dir->lost_burst++;
    return;
  }
  if (random) {
    dir->lost_random++;
    return;
  }
  start = MAX (now, dir->link_free_ns);
  if (dir->rate_bps > 0) {
    /* What the bottleneck still has to send before this packet. */
    guint64 backlog = (guint64) (start - now) * dir->rate_bps / 8 / 1000000000;

    if (backlog + len > dir->queue_bytes) {
      dir->dropped_queue++;
      return;
    }
    dir->link_free_ns = start + (gint64) (len * 8 * G_GUINT64_CONSTANT (1000000000)
        / dir->rate_bps);
    due = dir->link_free_ns + dir->delay_ns;
  } else {
    due = now + dir->delay_ns;
  }
  if (dir->held.length >= dir->limit) {
    dir->dropped_limit++;
    return;
  }
  packet = g_malloc (sizeof (Packet) + len);
  packet->due_ns = due;
  packet->len = len;
  memcpy (packet->data, data, len);
  g_queue_push_tail (&dir->held, packet);
}

static void
read_all (Direction *dir, guint8 *buffer)
{
  for (;;) {
    ssize_t len = read (dir->in_fd, buffer, MAX_PACKET);

    if (len < 0 && errno == EINTR)
      continue;
    if (len <= 0)
      return;
    admit (dir, buffer, (gsize) len, now_ns ());
  }
}

static void
deliver_due (Direction *dir, gint64 now)
{
  Packet *packet;

  while ((packet = g_queue_peek_head (&dir->held)) != NULL
      && packet->due_ns <= now) {
    g_queue_pop_head (&dir->held);
    /* A TUN write hands the packet to the namespace's stack; it fails only
     * when that stack refuses it, and then the packet is lost, as on a wire. */
    if (write (dir->out_fd, packet->data, packet->len) == (ssize_t) packet->len)
      dir->out++;
    else
      dir->dropped_write++;
    g_free (packet);
  }
}

static int
poll_timeout_ms (Direction dirs[2], gint64 now)
{
  gint64 next = G_MAXINT64;

  for (int i = 0; i < 2; i++) {
    Packet *head = g_queue_peek_head (&dirs[i].held);

    if (head != NULL)
      next = MIN (next, head->due_ns);
  }
  if (next == G_MAXINT64)
    return -1;
  if (next <= now)
    return 0;
  /* Rounded up: waking early would only spin. */
  return (int) MIN ((next - now + 999999) / 1000000, 1000);
}

static void
print_counters (const Direction *dir)
{
  g_print ("%s: in %" G_GUINT64_FORMAT " out %" G_GUINT64_FORMAT
      " dropped %" G_GUINT64_FORMAT " (random %" G_GUINT64_FORMAT
      " burst %" G_GUINT64_FORMAT " queue %" G_GUINT64_FORMAT
      " limit %" G_GUINT64_FORMAT " write %" G_GUINT64_FORMAT
      ") held %u\n", dir->name, dir->in, dir->out,
      dir->lost_random + dir->lost_burst + dir->dropped_queue
      + dir->dropped_limit + dir->dropped_write, dir->lost_random,
      dir->lost_burst, dir->dropped_queue, dir->dropped_limit,
      dir->dropped_write, dir->held.length);
}

int
main (int argc, char **argv)
{
  g_autofree gchar *tun_a = NULL, *tun_b = NULL, *both = NULL, *ab = NULL,
      *ba = NULL;
  gint64 seed = 1;
  GOptionEntry entries[] = {
    { "tun-a", 'a', 0, G_OPTION_ARG_STRING, &tun_a, "First TUN device", "NAME" },
    { "tun-b", 'b', 0, G_OPTION_ARG_STRING, &tun_b, "Second TUN device", "NAME" },
    { "both", 0, 0, G_OPTION_ARG_STRING, &both,
      "Settings of both directions (applied first)", "SPEC" },
    { "ab", 0, 0, G_OPTION_ARG_STRING, &ab, "Settings from a to b", "SPEC" },
    { "ba", 0, 0, G_OPTION_ARG_STRING, &ba, "Settings from b to a", "SPEC" },
    { "seed", 's', 0, G_OPTION_ARG_INT64, &seed,
      "Seed of the losses (direction a→b uses SEED, b→a SEED+1)", "N" },
    G_OPTION_ENTRY_NULL
  };
  g_autoptr (GOptionContext) options =
      g_option_context_new ("- forwards IP packets between two TUN devices");
  g_autoptr (GError) error = NULL;
  Direction dirs[2] = { 0 };
  static guint8 buffer[MAX_PACKET];
  struct sigaction action = { .sa_handler = on_signal };
  sigset_t blocked, unblocked;

  g_option_context_add_main_entries (options, entries, NULL);
  g_option_context_set_description (options,
      "SPEC is a comma-separated list of KEY=VALUE:\n"
      "  delay=MS         one-way delay\n"
      "  loss=PCT         random (Bernoulli) loss\n"
      "  burst-enter=PCT  Gilbert–Elliott: chance per packet of entering the bad state\n"
      "  burst-length=N   mean packets in the bad state (0: no bursts)\n"
      "  burst-loss=PCT   loss in the bad state (default 100)\n"
      "  rate=KBIT        rate limit in kbit/s (0: none)\n"
      "  queue=KIB        bottleneck queue, drop-tail (default 64)\n"
      "  limit=N          packets held at once, beyond which they drop (default 20000)\n"
      "Counters are printed on SIGINT or SIGTERM, then the program exits.\n"
      "It prints \"ready\" once both devices exist.\n");
  if (!g_option_context_parse (options, &argc, &argv, &error)) {
    g_printerr ("linkem: %s\n", error->message);
    return 2;
  }
  if (tun_a == NULL || tun_b == NULL) {
    g_printerr ("linkem: --tun-a and --tun-b are required\n");
    return 2;
  }
  for (int i = 0; i < 2; i++) {
    dirs[i].burst_loss = 1;
    dirs[i].queue_bytes = 64 * 1024;
    dirs[i].limit = 20000;
    g_queue_init (&dirs[i].held);
    dirs[i].rand = g_rand_new_with_seed ((guint32) (seed + i));
    if (both != NULL && !parse_spec (&dirs[i], both, &error)) {
      g_printerr ("linkem: --both: %s\n", error->message);
      return 2;
    }
  }
  if ((ab != NULL && !parse_spec (&dirs[0], ab, &error))
      || (ba != NULL && !parse_spec (&dirs[1], ba, &error))) {
    g_printerr ("linkem: %s\n", error->message);
    return 2;
  }
  dirs[0].name = "a->b";
  dirs[1].name = "b->a";

  /* Signals are blocked except inside ppoll(), so one that arrives between
   * the check of `quit` and the wait still ends the wait. */
  sigemptyset (&blocked);
  sigaddset (&blocked, SIGINT);
  sigaddset (&blocked, SIGTERM);
  sigprocmask (SIG_BLOCK, &blocked, &unblocked);
  sigaction (SIGINT, &action, NULL);
  sigaction (SIGTERM, &action, NULL);

  dirs[0].in_fd = dirs[1].out_fd = open_tun (tun_a, &error);
  if (dirs[0].in_fd < 0) {
    g_printerr ("linkem: %s\n", error->message);
    return 1;
  }
  dirs[1].in_fd = dirs[0].out_fd = open_tun (tun_b, &error);
  if (dirs[1].in_fd < 0) {
    g_printerr ("linkem: %s\n", error->message);
    return 1;
  }
  g_print ("ready\n");
  fflush (stdout);

  while (!quit) {
    struct pollfd fds[2] = {
      { .fd = dirs[0].in_fd, .events = POLLIN },
      { .fd = dirs[1].in_fd, .events = POLLIN },
    };
    int timeout = poll_timeout_ms (dirs, now_ns ());
    struct timespec ts = { timeout / 1000, (timeout % 1000) * 1000000L };

    if (ppoll (fds, 2, timeout < 0 ? NULL : &ts, &unblocked) < 0
        && errno != EINTR) {
      g_printerr ("linkem: poll: %s\n", g_strerror (errno));
      return 1;
    }
    for (int i = 0; i < 2; i++) {
      if (fds[i].revents & POLLIN)
        read_all (&dirs[i], buffer);
    }
    for (int i = 0; i < 2; i++)
      deliver_due (&dirs[i], now_ns ());
  }

  for (int i = 0; i < 2; i++) {
    print_counters (&dirs[i]);
    g_queue_clear_full (&dirs[i].held, g_free);
    g_rand_free (dirs[i].rand);
  }
  close (dirs[0].in_fd);
  close (dirs[1].in_fd);
  return 0;
}
