/* inroot ROOT ENVFILE CMD [ARG...]: runs CMD inside ROOT (chroot, cwd /) with
 * exactly the environment in ENVFILE (KEY=VALUE lines; CMD is looked up on its
 * PATH), as `docker exec` would: no shell, no chroot(1). Static, so what it adds
 * to a measurement is the floor, measured the same way with the no-op binary. */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

extern char** environ;

int main(int argc, char** argv) {
  if (argc < 4) {
    fprintf(stderr, "usage: inroot ROOT ENVFILE CMD [ARG...]\n");
    return 2;
  }
  FILE* file = fopen(argv[2], "r");
  if (file == NULL) {
    perror(argv[2]);
    return 2;
  }
  size_t count = 0, capacity = 16;
  char** env = malloc(capacity * sizeof *env);
  char* line = NULL;
  size_t line_size = 0;
  ssize_t length;
  while (env != NULL && (length = getline(&line, &line_size, file)) >= 0) {
    if (length > 0 && line[length - 1] == '\n') line[length - 1] = '\0';
    if (line[0] == '\0' || line[0] == '#' || strchr(line, '=') == NULL) continue;
    if (count + 1 >= capacity) {
      char** grown = realloc(env, (capacity *= 2) * sizeof *env);
      if (grown == NULL) return 2;
      env = grown;
    }
    env[count++] = strdup(line);
  }
  fclose(file);
  if (env == NULL) return 2;
  env[count] = NULL;
  if (chroot(argv[1]) != 0 || chdir("/") != 0) {
    perror(argv[1]);
    return 2;
  }
  environ = env;
  execvp(argv[3], argv + 3);
  perror(argv[3]);
  return 127;
}
