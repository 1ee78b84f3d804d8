/* A Windows test program for `flakehunt chkimg` fixtures.
 *
 * Usage: chkimg_victim OUT.dmp [zero]
 *
 * It loads chkimg_victim_dll.dll, whose preferred ImageBase is the same as
 * this program's, so the loader must relocate the DLL (a rebased load, as
 * /DYNAMICBASE gives on Windows). With "zero", it then overwrites the DLL's
 * page-aligned victim_page() (never called) with zeros, as a loader that ran
 * pages the linker never wrote would have left it. Then it writes a minidump
 * of itself with MiniDumpWriteDump and prints the addresses involved.
 * Built and run by tools/make_pe_fixtures.sh (mingw-w64 + Wine).
 */
#include <windows.h>
#include <dbghelp.h>
#include <stdio.h>
#include <string.h>

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: %s OUT.dmp [zero]\n", argv[0]);
        return 2;
    }
    HMODULE dll = LoadLibraryA("chkimg_victim_dll.dll");
    if (dll == NULL) return 3;
    unsigned char *page = (unsigned char *)(void *)GetProcAddress(dll, "victim_page");
    int (*absolute)(void) = (int (*)(void))(void *)GetProcAddress(dll, "uses_absolute_addresses");
    if (page == NULL || absolute == NULL) return 3;
    absolute();
    if (argc > 2 && strcmp(argv[2], "zero") == 0) {
        DWORD old;
        if (!VirtualProtect(page, 4096, PAGE_EXECUTE_READWRITE, &old)) return 4;
        memset(page, 0, 4096);
        VirtualProtect(page, 4096, old, &old);
    }
    HANDLE file = CreateFileA(argv[1], GENERIC_WRITE, 0, NULL, CREATE_ALWAYS,
                              FILE_ATTRIBUTE_NORMAL, NULL);
    if (file == INVALID_HANDLE_VALUE) return 5;
    /* Wine's dbghelp ignores MiniDumpWithCodeSegs and memory callbacks, so
     * dump everything; the generator trims the dump to these two modules. */
    BOOL ok = MiniDumpWriteDump(GetCurrentProcess(), GetCurrentProcessId(), file,
                                MiniDumpWithFullMemory, NULL, NULL, NULL);
    CloseHandle(file);
    if (!ok) return 6;
    printf("exe=%p dll=%p page=%p\n", (void *)GetModuleHandleA(NULL), (void *)dll, (void *)page);
    return 0;
}
