/*
 * The musl root's transform program (test/launcher/rootfs.sh): the same behaviour as the Debian
 * root's shell script (test/launcher/transform.sh), compiled with musl-gcc and linked dynamically
 * against musl, so it runs where there is no glibc and no shell.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char *env(const char *name) {
  const char *value = getenv(name);
  return value ? value : "";
}

int main(void) {
  FILE *input = fopen(env("MLOPS_INPUT_FILE"), "r");
  if (!input) {
    fprintf(stderr, "cannot open the input %s: %s\n", env("MLOPS_INPUT_FILE"), strerror(errno));
    return 1;
  }
  char first[256] = "";
  fgets(first, sizeof first, input);
  fseek(input, 0, SEEK_END);
  long bytes = ftell(input);
  fclose(input);
  first[strcspn(first, "\n")] = '\0';
  if (strncmp(first, "bad", 3) == 0) {
    fprintf(stderr, "bad input: %s\n", first);
    return 2;
  }
  /* The launcher's directory must be read-only for the program. */
  int probe = open("/mlops/bin/probe", O_WRONLY | O_CREAT, 0644);
  int self = open("/mlops/bin/mlops-launcher", O_WRONLY | O_APPEND);
  const char *launcher_dir = (probe < 0 && self < 0) ? "read-only" : "writable";

  char path[4096];
  snprintf(path, sizeof path, "%s/report.txt", env("MLOPS_OUTPUT_DIR"));
  FILE *report = fopen(path, "w");
  if (!report) {
    fprintf(stderr, "cannot write %s: %s\n", path, strerror(errno));
    return 1;
  }
  fprintf(report, "uid=%d\nrun=%s\ninput=%s\nbytes=%ld\nlauncher-dir=%s\n",
          (int)getuid(), env("MLOPS_RUN_ID"), env("MLOPS_INPUT_FILE"), bytes, launcher_dir);
  fclose(report);
  printf("transformed %s\n", env("MLOPS_RUN_ID"));
  return 0;
}
