/* Fails 1 run in 4 with a checksum error (exit 1) and 1 in 4 with SIGSEGV; every
   message carries values that change from run to run. Used by tests/integration. */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

int main(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    srand((unsigned)(ts.tv_nsec ^ (getpid() << 16)));
    int r = rand() % 4;
    int pid = (int)getpid();
    printf("flaky: starting run in /tmp/flaky-%d-%x\n", pid, rand());
    fflush(stdout);
    if (r == 2) {
        fprintf(stderr, "error: checksum mismatch in /tmp/flaky-%d/out.o: expected 0x%08x "
                        "got 0x%08x after %d ms (pid %d)\n", rand() % 1000, rand(), rand(),
                        rand() % 500, pid);
        return 1;
    }
    if (r == 3) {
        int *volatile p = NULL;
        fprintf(stderr, "worker %d: reading block %d at %p\n", pid, rand() % 64, (void *)&r);
        fflush(stderr);
        *p = 42;
    }
    return 0;
}
