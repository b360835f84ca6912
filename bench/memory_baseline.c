/* memory_baseline: the least a memory-set can do, for `make bench` to compare against: lock a
 * sidecar file, read the JSON file, insert one key textually (no parsing), write a temporary
 * file, fsync it, rename it over the original, fsync the directory.
 * Usage: memory_baseline DIR KEY   (works on DIR/memory.json) */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

int main(int argc, char **argv) {
    if (argc != 3) return 2;
    char path[4096], tmp[4096], lock[4096];
    snprintf(path, sizeof path, "%s/memory.json", argv[1]);
    snprintf(tmp, sizeof tmp, "%s/memory.json.tmp.%d", argv[1], getpid());
    snprintf(lock, sizeof lock, "%s/memory.json.lock", argv[1]);
    int lock_fd = open(lock, O_RDWR | O_CREAT, 0600);
    if (lock_fd < 0 || flock(lock_fd, LOCK_EX) != 0) return 1;
    int fd = open(path, O_RDONLY);
    if (fd < 0) return 1;
    struct stat st;
    fstat(fd, &st);
    char *data = malloc(st.st_size + 256);
    ssize_t got = read(fd, data, st.st_size);
    close(fd);
    if (got != st.st_size) return 1;
    /* Insert `"KEY": 1,` right after the opening brace. */
    int out = open(tmp, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    char entry[512];
    int n = snprintf(entry, sizeof entry, "{\"%s\": 1,", argv[2]);
    if (write(out, entry, n) != n || write(out, data + 1, got - 1) != got - 1) return 1;
    if (fsync(out) != 0 || close(out) != 0 || rename(tmp, path) != 0) return 1;
    int dir = open(argv[1], O_RDONLY);
    if (dir < 0 || fsync(dir) != 0) return 1;
    return 0;
}
