#!/usr/bin/env bash
# Builds docker.io/library/busybox:latest as an OCI image layout tar from Debian's
# busybox-static, with no network: one gzip layer (busybox, its applet links, a minimal /etc),
# reproducible byte for byte (sorted entries, fixed times and owners).
# With --pause it is a pod sandbox ("pause") image instead: its entrypoint /pause sleeps until
# SIGTERM or SIGINT, then exits 0, and as PID 1 reaps what the pod's processes orphan.
# Usage: scripts/build-busybox-image.sh OUT.tar [NAME] [--pause]
#        (NAME defaults to docker.io/library/busybox:latest, or registry.k8s.io/pause:3.10)
set -euo pipefail
out=${1:?usage: build-busybox-image.sh OUT.tar [NAME] [--pause]}
pause=""
for arg in "$@"; do [ "$arg" = --pause ] && pause=yes; done
name=${2:-}
[ "$name" = --pause ] && name=""
if [ -n "$pause" ]; then
  name=${name:-registry.k8s.io/pause:3.10}
else
  name=${name:-docker.io/library/busybox:latest}
fi
cd "$(dirname "$0")/.."
scripts/install-deps.sh
busybox=/bin/busybox
arch=$(dpkg --print-architecture)
version=$(dpkg-query -W -f='${Version}' busybox-static)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

root=$work/rootfs
mkdir -p "$root"/{bin,etc,dev,proc,sys,root,var,tmp}
chmod 1777 "$root/tmp"
chmod 0700 "$root/root"
cp "$busybox" "$root/bin/busybox"
for applet in $("$busybox" --list); do
  [ "$applet" = busybox ] || ln -s busybox "$root/bin/$applet"
done
printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n' \
  > "$root/etc/passwd"
printf 'root:x:0:\nnobody:x:65534:\n' > "$root/etc/group"

process='"Cmd":["sh"]'
if [ -n "$pause" ]; then
  printf '%s\n' '#!/bin/sh' '# the pod sandbox: wait for the end; the shell reaps orphans as PID 1' \
    'trap "exit 0" TERM INT' 'while :; do sleep 3600 & wait $!; done' > "$root/pause"
  chmod 0755 "$root/pause"
  process='"Entrypoint":["/pause"]'
fi

reproducible=(--sort=name --mtime=@0 --owner=0 --group=0 --numeric-owner --format=gnu)
tar "${reproducible[@]}" -C "$root" -cf "$work/layer.tar" .
diff_id=sha256:$(sha256sum "$work/layer.tar" | cut -d' ' -f1)
gzip -n -6 "$work/layer.tar"
layer=$work/layer.tar.gz
layer_digest=sha256:$(sha256sum "$layer" | cut -d' ' -f1)
layer_size=$(stat -c %s "$layer")

mkdir -p "$work/image/blobs/sha256"
blob() { # stores stdin as a blob; prints "digest size"
  local tmp=$work/blob.tmp digest
  cat > "$tmp"
  digest=$(sha256sum "$tmp" | cut -d' ' -f1)
  mv "$tmp" "$work/image/blobs/sha256/$digest"
  echo "sha256:$digest $(stat -c %s "$work/image/blobs/sha256/$digest")"
}
cp "$layer" "$work/image/blobs/sha256/${layer_digest#sha256:}"
read -r config_digest config_size < <(printf '%s' \
  '{"architecture":"'"$arch"'","os":"linux","config":{"Env":["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"],'"$process"'},"rootfs":{"type":"layers","diff_ids":["'"$diff_id"'"]},"history":[{"created_by":"jctr scripts/build-busybox-image.sh from Debian busybox-static '"$version"'"}]}' \
  | blob)
read -r manifest_digest manifest_size < <(printf '%s' \
  '{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"'"$config_digest"'","size":'"$config_size"'},"layers":[{"mediaType":"application/vnd.oci.image.layer.v1.tar+gzip","digest":"'"$layer_digest"'","size":'"$layer_size"'}]}' \
  | blob)
tag=${name##*:}
printf '%s' '{"imageLayoutVersion":"1.0.0"}' > "$work/image/oci-layout"
printf '%s' '{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"'"$manifest_digest"'","size":'"$manifest_size"',"annotations":{"io.containerd.image.name":"'"$name"'","org.opencontainers.image.ref.name":"'"$tag"'"},"platform":{"architecture":"'"$arch"'","os":"linux"}}]}' \
  > "$work/image/index.json"
mkdir -p "$(dirname "$out")"
tar "${reproducible[@]}" -C "$work/image" -cf "$out.tmp" oci-layout index.json blobs
mv "$out.tmp" "$out"
echo "$name $manifest_digest -> $out"
