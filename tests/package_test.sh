#!/usr/bin/env bash
# Installs the build into a scratch prefix and builds an outside project against it
# (CMake's find_package, then pkg-config), then packs the .deb and checks it: its file
# list, its dependencies, and the axon it installs.
# Usage: tests/package_test.sh BUILD_DIR SOURCE_DIR
set -euo pipefail
build=$1
source=$2
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
fail() { echo "FAIL: $*"; exit 1; }

cmake --install "$build" --prefix "$work/prefix" > "$work/install.log"
prefix=$work/prefix
lib=$(dirname "$(find "$prefix" -name libaxon.so -print -quit)")
[ -n "$lib" ] || fail "no libaxon.so installed"
soname=$(objdump -p "$lib/libaxon.so" | awk '/SONAME/ { print $2 }')
[ "$soname" = libaxon.so.0.1 ] || fail "SONAME is '$soname', expected libaxon.so.0.1"
[ -f "$lib/libaxon.a" ] || fail "no libaxon.a installed"
# Public headers stand alone: none pulls in a private dependency.
if grep -rlE '#include <(nlohmann|httplib|boost|grpc)' "$prefix/include/axon"; then fail "a public header includes a private dependency"; fi

# Python: the installed package imports and predicts (when the build made it).
if [ -d "$build/python/axon" ]; then
  module=$(find "$prefix" -name "_axon*.so" -print -quit)
  [ -n "$module" ] || fail "the Python module is not installed"
  PYTHONPATH=$(dirname "$(dirname "$module")") /usr/bin/python3 -c "import axon, numpy
m = axon.Sequential([axon.Input(shape=(3,)), axon.layers.Dense(2)])
assert m.predict(numpy.ones((1, 3))).shape == (1, 2)" || fail "the installed Python package does not work"
  echo "ok: the installed Python package imports and predicts"
fi

# CMake: find_package(axon) from the installed prefix, shared and static.
cmake -S "$source/tests/consumer" -B "$work/consumer" -DCMAKE_PREFIX_PATH="$prefix" -DCMAKE_BUILD_TYPE=Release > "$work/configure.log" \
  || { cat "$work/configure.log"; fail "find_package(axon) did not configure"; }
cmake --build "$work/consumer" -j 2 > "$work/build.log" 2>&1 || { cat "$work/build.log"; fail "the consumer did not build"; }
"$work/consumer/consumer_shared" || fail "the consumer (libaxon.so) did not train"
"$work/consumer/consumer_static" || fail "the consumer (libaxon.a) did not train"
echo "ok: find_package(axon) builds and trains, shared and static"

# pkg-config.
flags=$(PKG_CONFIG_PATH="$lib/pkgconfig" pkg-config --cflags --libs axon) || fail "pkg-config does not find axon"
g++ -O1 "$source/tests/consumer/main.cpp" $flags -o "$work/consumer_pc"
LD_LIBRARY_PATH="$lib" "$work/consumer_pc" || fail "the pkg-config consumer did not train"
echo "ok: pkg-config --cflags --libs axon builds and trains"

# The .deb: its files, its dependencies, and the CLI it installs.
(cd "$build" && cpack -G DEB -B "$work/deb" > "$work/cpack.log" 2>&1) || { cat "$work/cpack.log"; fail "cpack failed"; }
deb=$(ls "$work"/deb/axon_*_amd64.deb)
dpkg-deb -c "$deb" | awk '{ print $6 }' > "$work/files"
for path in ./usr/bin/axon ./usr/lib/libaxon.so.0.1 ./usr/lib/libaxon.a ./usr/include/axon/model.h \
            ./usr/include/axon/version.h ./usr/lib/cmake/axon/axonConfig.cmake ./usr/lib/pkgconfig/axon.pc \
            ./usr/share/man/man1/axon.1 ./usr/lib/systemd/system/axon-serve@.service ./usr/share/doc/axon/CHANGELOG.md; do
  grep -qxF "$path" "$work/files" || fail "$path is not in the .deb"
done
dpkg-deb -f "$deb" Depends | grep -q libopenblas0-pthread || fail "the .deb does not depend on OpenBLAS"
dpkg-deb -x "$deb" "$work/root"
version=$("$work/root/usr/bin/axon" --version | head -1)
[ "$version" = "axon $(sed -n 's/^project(axon VERSION \([0-9.]*\).*/\1/p' "$source/CMakeLists.txt")" ] || fail "installed axon --version says '$version'"
grep -q '^\.TH AXON 1' "$work/root/usr/share/man/man1/axon.1" || fail "the man page has no title"
grep -q 'axon serve' "$work/root/usr/share/man/man1/axon.1" || fail "the man page lacks the serve command"
grep -q '^DynamicUser=yes' "$work/root/usr/lib/systemd/system/axon-serve@.service" || fail "the unit does not run unprivileged"
echo "ok: $(basename "$deb") holds the library, headers, CLI ($version), man page and unit"
