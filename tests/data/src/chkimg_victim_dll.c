/* The DLL of chkimg_victim.c: a page of code to zero, and code with absolute
 * addresses, so that .text holds base relocations that a rebased load patches
 * (IMAGE_REL_BASED_HIGHLOW on x86, IMAGE_REL_BASED_DIR64 on x64). */
#include <windows.h>

volatile int counter;
volatile int table[4] = {1, 2, 3, 4};

/* One full page of code, page aligned, never executed: zeroing it cannot
 * crash the program. 0x90 is NOP. */
__declspec(dllexport) __attribute__((aligned(4096), noinline)) void victim_page(void)
{
    __asm__ volatile(".fill 4096, 1, 0x90");
}

__declspec(dllexport) int uses_absolute_addresses(void)
{
    int sum = 0;
#ifdef _WIN64
    volatile int *p;
    /* movabs embeds the 64-bit address of table in the code. */
    __asm__ volatile("movabs $table, %0" : "=r"(p));
    for (int i = 0; i < 4; i++) sum += p[i];
#else
    for (int i = 0; i < 4; i++) sum += table[i]; /* absolute addresses on x86 */
#endif
    counter += sum;
    return sum;
}

BOOL WINAPI DllMain(HINSTANCE instance, DWORD reason, LPVOID reserved)
{
    (void)instance; (void)reason; (void)reserved;
    return TRUE;
}
