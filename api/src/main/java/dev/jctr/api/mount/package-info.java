/** Mounts as containerd describes them, and performing them on this host. */
package dev.jctr.api.mount;
