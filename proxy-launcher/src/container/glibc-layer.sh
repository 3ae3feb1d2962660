#!/bin/sh
# The container image's C library: the files of the build machine's glibc (Debian 12: libc6 2.36) that the Java
# runtime links against, copied into ROOTFS with the dynamic loader and libc6's copyright file. The image is built
# FROM scratch (no registry can be reached to pull a base image); with one, gcr.io/distroless/base-debian12 holds the
# same files.
# usage: glibc-layer.sh RUNTIME_DIR ROOTFS
set -eu
runtime=$1
rootfs=$2
mkdir -p "$rootfs/lib/x86_64-linux-gnu" "$rootfs/lib64" "$rootfs/usr/share/doc/libc6"
libs=$(find "$runtime" -type f \( -name '*.so' -o -path '*/bin/*' -o -name jspawnhelper \) -exec ldd {} + 2>/dev/null \
  | awk '$2 == "=>" && $3 ~ /^\// {print $3}' | grep -v "^$runtime" | sort -u)
for lib in $libs; do
  cp -L "$lib" "$rootfs/lib/x86_64-linux-gnu/"
done
# glibc loads libgcc_s at run time to unwind a cancelled or exiting thread.
cp -L /lib/x86_64-linux-gnu/libgcc_s.so.1 "$rootfs/lib/x86_64-linux-gnu/"
cp -L /lib64/ld-linux-x86-64.so.2 "$rootfs/lib64/"
cp /usr/share/doc/libc6/copyright "$rootfs/usr/share/doc/libc6/"
printf 'root:x:0:0:root:/root:/usr/sbin/nologin\nnonroot:x:65532:65532:nonroot:/nonexistent:/usr/sbin/nologin\n' \
  > "$rootfs/etc/passwd"
printf 'root:x:0:\nnonroot:x:65532:\n' > "$rootfs/etc/group"
echo "glibc-layer: $(echo $libs | wc -w) libraries from $(dpkg-query -W -f='libc6 ${Version}' libc6 2>/dev/null || echo 'the build machine')"
