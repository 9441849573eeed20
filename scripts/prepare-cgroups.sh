#!/usr/bin/env bash
# Makes a hybrid cgroup host (v1 hierarchies under /sys/fs/cgroup/*, cgroup2 at
# /sys/fs/cgroup/unified, systemd's legacy layout) one that crun accepts: crun refuses a hybrid
# host whose cgroup2 holds any controller ("cgroups in hybrid mode not supported, drop all
# controllers from cgroupv2"). A controller that no v1 hierarchy claims lands in cgroup2, so each
# one listed in /sys/fs/cgroup/unified/cgroup.controllers is mounted as its own v1 hierarchy at
# /sys/fs/cgroup/<name>; runc and containerd work either way. Idempotent; does nothing on a pure
# cgroup v2 or pure v1 host, or when cgroup2 holds no controller. Needs root only to mount.
set -euo pipefail

cgroups=/sys/fs/cgroup
unified=$cgroups/unified
if [ "$(stat -fc %T "$cgroups" 2>/dev/null)" = cgroup2fs ]; then
  exit 0 # pure v2: crun's own mode
fi
if [ "$(stat -fc %T "$unified" 2>/dev/null)" != cgroup2fs ]; then
  exit 0 # pure v1 (or no cgroups at all)
fi
read -r -a controllers <"$unified/cgroup.controllers" || true
[ ${#controllers[@]} -eq 0 ] && exit 0

if [ "$(id -u)" -ne 0 ]; then
  echo "prepare-cgroups: cgroup2 at $unified holds ${controllers[*]}, which crun refuses;" \
    "run scripts/prepare-cgroups.sh as root to mount them as v1 hierarchies" >&2
  exit 1
fi

# systemd mounts the tmpfs at /sys/fs/cgroup read-only: opened for the new mount points only
sealed=""
if [ ! -w "$cgroups" ]; then
  mount -o remount,rw "$cgroups"
  sealed=yes
fi
status=0
for controller in "${controllers[@]}"; do
  name=$controller
  [ "$name" = io ] && name=blkio # cgroup2's io is v1's blkio
  dir=$cgroups/$name
  mkdir -p "$dir"
  if mount -t cgroup -o "$name" cgroup "$dir"; then
    echo "prepare-cgroups: mounted the $name controller as a v1 hierarchy at $dir" >&2
  else
    echo "prepare-cgroups: cannot move $name out of cgroup2 (is it enabled in a" \
      "cgroup.subtree_control under $unified?); crun will refuse this host" >&2
    status=1
  fi
done
if [ -n "$sealed" ]; then
  mount -o remount,ro "$cgroups"
fi
exit $status
