/* A Linux test program for `flakehunt chkimg` (compiled by the tests).
 *
 * Usage: chkimg_linux_victim MODE FILTER
 *   MODE   zero: zero the page of victim_page() (mprotect + memset), then abort
 *          clean: abort without touching the code
 *          wait: print, then wait for stdin to close (a live process to read)
 *   FILTER written to /proc/self/coredump_filter, e.g. 0x37 (with the 0x
 *          prefix: the kernel parses the value as decimal without it) or 0x33
 *
 * Prints "page=0x..." (the runtime address of the page) before acting.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <unistd.h>

/* One full page of code, page aligned, never executed. 0x90 is NOP. */
__attribute__((aligned(4096), noinline, used)) void victim_page(void)
{
    __asm__ volatile(".fill 4096, 1, 0x90");
}

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: %s zero|clean|wait FILTER\n", argv[0]);
        return 2;
    }
    FILE *f = fopen("/proc/self/coredump_filter", "w");
    if (f == NULL || fputs(argv[2], f) < 0 || fclose(f) != 0) {
        perror("coredump_filter");
        return 3;
    }
    struct rlimit rl;
    getrlimit(RLIMIT_CORE, &rl);
    rl.rlim_cur = rl.rlim_max;
    setrlimit(RLIMIT_CORE, &rl);
    unsigned char *page = (unsigned char *)(uintptr_t)victim_page;
    printf("page=%p\n", (void *)page);
    fflush(stdout);
    if (strcmp(argv[1], "wait") == 0) {
        char buf[16];
        while (read(0, buf, sizeof buf) > 0) {
        }
        return 0;
    }
    if (strcmp(argv[1], "zero") == 0) {
        if (mprotect(page, 4096, PROT_READ | PROT_WRITE | PROT_EXEC) != 0) return 4;
        memset(page, 0, 4096);
        if (mprotect(page, 4096, PROT_READ | PROT_EXEC) != 0) return 4;
    }
    abort();
}
