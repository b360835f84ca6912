/* measure: run a command N times; print each run's wall time (microseconds) and peak RSS (KiB).
 *
 * Why not Python's own wait4: a child's ru_maxrss includes the memory of the process it was
 * forked from (Linux carries the old mm's high-water mark across exec), so a 15 MB Python parent
 * hides a 1 MB child. This launcher is tiny and static, so the figure is the child's own.
 * Usage: measure N command [args...]   (stdin, stdout, stderr of the child: /dev/null) */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

int main(int argc, char **argv) {
    if (argc < 3) {
        fprintf(stderr, "usage: measure N command [args...]\n");
        return 2;
    }
    int runs = atoi(argv[1]);
    for (int i = 0; i < runs; i++) {
        struct timespec start, end;
        clock_gettime(CLOCK_MONOTONIC, &start);
        pid_t pid = fork();
        if (pid == 0) {
            int null = open("/dev/null", O_RDWR);
            dup2(null, 0);
            dup2(null, 1);
            dup2(null, 2);
            execv(argv[2], argv + 2);
            _exit(127);
        }
        int status;
        struct rusage usage;
        wait4(pid, &status, 0, &usage);
        clock_gettime(CLOCK_MONOTONIC, &end);
        if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
            fprintf(stderr, "measure: %s failed (status %d)\n", argv[2], status);
            return 1;
        }
        long micros = (end.tv_sec - start.tv_sec) * 1000000L + (end.tv_nsec - start.tv_nsec) / 1000;
        printf("%ld %ld\n", micros, usage.ru_maxrss);
    }
    return 0;
}
