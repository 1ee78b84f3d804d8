#!/bin/bash
# Build the PE + minidump fixtures of `flakehunt chkimg` (tests/data/chkimg/).
#
# Needs mingw-w64 (Debian gcc-mingw-w64-x86-64, gcc-mingw-w64-i686) and Wine
# (Debian wine64). The outputs are committed, so CI needs neither.
#   x64: chkimg_victim.exe + chkimg_victim_dll.dll (both preferred base
#        0x140000000, so the DLL loads rebased), clean.dmp (unmodified) and
#        zero.dmp (the DLL's victim_page zeroed), trimmed to those two modules.
#   x86: the same PE files only: wine64 without wine32 cannot run 32-bit programs.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
src=$here/tests/data/src
out=$here/tests/data/chkimg
work=$(mktemp -d)
trap '/usr/lib/wine/wineserver -k 2>/dev/null; /usr/lib/wine/wineserver -w 2>/dev/null; rm -rf "$work"' EXIT
export WINEDEBUG=-all WINEPREFIX=$work/prefix

for arch in x64 x86; do
    case $arch in
        x64) cc=x86_64-w64-mingw32-gcc; base=0x140000000 ;;
        x86) cc=i686-w64-mingw32-gcc; base=0x400000 ;;
    esac
    d=$out/pe-$arch
    mkdir -p "$d"
    # -s keeps the files small; --dynamicbase keeps .reloc; the DLL shares the
    # exe's preferred base so the loader must relocate it.
    $cc -O1 -s -shared -Wl,--dynamicbase -Wl,--image-base,$base \
        -o "$d/chkimg_victim_dll.dll" "$src/chkimg_victim_dll.c"
    $cc -O1 -s -Wl,--dynamicbase -Wl,--image-base,$base \
        -o "$d/chkimg_victim.exe" "$src/chkimg_victim.c" -ldbghelp
done

d=$out/pe-x64
cp "$d"/chkimg_victim.exe "$d"/chkimg_victim_dll.dll "$work/"
for mode in clean zero; do
    (cd "$work" && /usr/lib/wine/wine64 chkimg_victim.exe "Z:${work//\//\\}\\full-$mode.dmp" \
        $([ $mode = zero ] && echo zero)) | tee "$d/$mode.txt"
    python3 "$here/tools/trim_minidump.py" "$work/full-$mode.dmp" "$d/$mode.dmp" \
        chkimg_victim.exe chkimg_victim_dll.dll
done
