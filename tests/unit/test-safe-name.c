/* gst-hangout — unit tests of examples/safe-name.c: hostile file names a
 * remote member may offer never name anything outside the receiving
 * directory, and never replace a file there.
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#include <gst/check/gstcheck.h>
#include <glib/gstdio.h>
#include <string.h>
#include "safe-name.h"

/* What every safe name must be, whatever it was made from. */
static void
assert_safe (const gchar *safe)
{
  const gchar *p;

  fail_unless (safe != NULL);
  fail_unless (*safe != '\0');
  fail_unless (safe[0] != '.', "'%s' starts with a dot", safe);
  fail_unless (strchr (safe, '/') == NULL, "'%s' has a slash", safe);
  fail_unless (strchr (safe, '\\') == NULL, "'%s' has a backslash", safe);
  fail_unless (strlen (safe) <= HANGOUT_SAFE_NAME_MAX);
  fail_unless (g_utf8_validate (safe, -1, NULL), "'%s' is not UTF-8", safe);
  for (p = safe; *p != '\0'; p = g_utf8_next_char (p))
    fail_if (g_unichar_iscntrl (g_utf8_get_char (p)));
}

static void
check_name (const gchar *name, const gchar *expected)
{
  g_autofree gchar *safe = hangout_safe_name (name, 0);

  assert_safe (safe);
  fail_unless_equals_string (safe, expected);
}

GST_START_TEST (test_traversal)
{
  check_name ("../../etc/passwd", "passwd");
  check_name ("/etc/passwd", "passwd");
  check_name ("a/../../b", "b");
  check_name ("..\\..\\windows\\win.ini", "win.ini");
  check_name ("C:\\evil.exe", "evil.exe");
  check_name ("dir/", "unnamed");
  check_name ("..", "_.");
  check_name (".", "_");
  check_name ("../..", "_.");
  check_name (".bashrc", "_bashrc");
}

GST_END_TEST;

GST_START_TEST (test_empty_and_controls)
{
  check_name ("", "unnamed");
  check_name (NULL, "unnamed");
  check_name ("con\x01trol\n", "con_trol_");
  check_name ("bell\x07\x7f.txt", "bell__.txt");
  /* C1 controls (U+009B is a terminal's CSI). */
  check_name ("a\xc2\x9b" "b", "a_b");
  check_name ("report 2024 — final.pdf", "report 2024 — final.pdf");
  /* Bidirectional controls: U+202E makes "rtl-K088\u202Egnp.exe" show as
   * "rtl-K088exe.png" in a file manager. */
  check_name ("rtl-K088\xe2\x80\xaegnp.exe", "rtl-K088_gnp.exe");
  check_name ("a\xe2\x81\xa6" "b\xe2\x80\x8f.txt", "a_b_.txt");
}

GST_END_TEST;

GST_START_TEST (test_invalid_utf8)
{
  g_autofree gchar *safe = hangout_safe_name ("bad\xff\xfe\xc3.bin", 0);

  assert_safe (safe);
  fail_unless (g_str_has_prefix (safe, "bad"));
  fail_unless (g_str_has_suffix (safe, ".bin"));
}

GST_END_TEST;

GST_START_TEST (test_long)
{
  GString *name = g_string_new (NULL);
  g_autofree gchar *safe = NULL, *second = NULL;
  guint i;

  /* 300 two-byte characters: a cut at byte 255 would split one. */
  for (i = 0; i < 300; i++)
    g_string_append (name, "é");
  g_string_append (name, ".iso");
  safe = hangout_safe_name (name->str, 0);
  assert_safe (safe);
  fail_unless (g_str_has_suffix (safe, ".iso"), "extension lost: %s", safe);
  fail_unless (strlen (safe) >= HANGOUT_SAFE_NAME_MAX - 1);
  /* The numbered alternative fits too, extension and number kept. */
  second = hangout_safe_name (name->str, 12);
  assert_safe (second);
  fail_unless (g_str_has_suffix (second, " (12).iso"), "got %s", second);
  g_string_free (name, TRUE);
}

GST_END_TEST;

GST_START_TEST (test_numbered)
{
  g_autofree gchar *a = hangout_safe_name ("movie.tar.gz", 1);
  g_autofree gchar *b = hangout_safe_name ("README", 2);

  fail_unless_equals_string (a, "movie.tar (1).gz");
  fail_unless_equals_string (b, "README (2)");
}

GST_END_TEST;

static gchar *
write_tmp (const gchar *dir, const gchar *contents)
{
  gchar *path = g_build_filename (dir, ".part-XXXXXX", NULL);
  int fd = g_mkstemp (path);

  fail_unless (fd >= 0);
  fail_unless (write (fd, contents, strlen (contents)) ==
      (ssize_t) strlen (contents));
  close (fd);
  return path;
}

static gchar *
read_file (const gchar *path)
{
  gchar *contents = NULL;

  fail_unless (g_file_get_contents (path, &contents, NULL, NULL), "%s",
      path);
  return contents;
}

GST_START_TEST (test_publish_never_overwrites)
{
  g_autofree gchar *dir = g_dir_make_tmp ("safe-name-XXXXXX", NULL);
  g_autofree gchar *existing = g_build_filename (dir, "passwd", NULL);
  g_autofree gchar *tmp1 = write_tmp (dir, "first");
  g_autofree gchar *tmp2 = write_tmp (dir, "second");
  g_autofree gchar *p1 = NULL, *p2 = NULL;
  g_autofree gchar *c0 = NULL, *c1 = NULL, *c2 = NULL;
  g_autofree gchar *e1 = NULL, *e2 = NULL;
  GError *error = NULL;

  fail_unless (dir != NULL);
  fail_unless (g_file_set_contents (existing, "mine", -1, NULL));
  p1 = hangout_publish_file (dir, tmp1, "../../etc/passwd", &error);
  fail_unless (p1 != NULL);
  p2 = hangout_publish_file (dir, tmp2, "/etc/passwd", &error);
  fail_unless (p2 != NULL);
  e1 = g_build_filename (dir, "passwd (1)", NULL);
  e2 = g_build_filename (dir, "passwd (2)", NULL);
  fail_unless_equals_string (p1, e1);
  fail_unless_equals_string (p2, e2);
  c0 = read_file (existing);
  c1 = read_file (p1);
  c2 = read_file (p2);
  fail_unless_equals_string (c0, "mine");
  fail_unless_equals_string (c1, "first");
  fail_unless_equals_string (c2, "second");
  /* The temporary files are gone. */
  fail_if (g_file_test (tmp1, G_FILE_TEST_EXISTS));
  fail_if (g_file_test (tmp2, G_FILE_TEST_EXISTS));

  g_unlink (existing);
  g_unlink (p1);
  g_unlink (p2);
  fail_unless (g_rmdir (dir) == 0, "something else was left in %s", dir);
}

GST_END_TEST;

static Suite *
safe_name_suite (void)
{
  Suite *s = suite_create ("safe-name");
  TCase *tc = tcase_create ("general");

  suite_add_tcase (s, tc);
  tcase_add_test (tc, test_traversal);
  tcase_add_test (tc, test_empty_and_controls);
  tcase_add_test (tc, test_invalid_utf8);
  tcase_add_test (tc, test_long);
  tcase_add_test (tc, test_numbered);
  tcase_add_test (tc, test_publish_never_overwrites);
  return s;
}

GST_CHECK_MAIN (safe_name);
