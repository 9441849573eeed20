package dev.jctr.cri.spec;

import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import java.util.List;

/**
 * The {@code runtime/default} seccomp profile: every system call allowed except the ones
 * Docker's and containerd's default profiles keep from containers (kernel modules, kexec,
 * reboot, clock and swap control, mount and namespace calls, keyrings, tracing of other
 * processes, BPF, perf), which fail with EPERM. A container that gets CAP_SYS_ADMIN or runs
 * privileged is not confined by it: the kubelet's privileged pods run unconfined.
 */
final class Seccomp {

  static final List<String> BLOCKED = List.of("acct", "add_key", "bpf", "clock_adjtime",
      "clock_settime", "create_module", "delete_module", "finit_module", "get_kernel_syms",
      "get_mempolicy", "init_module", "ioperm", "iopl", "kcmp", "kexec_file_load", "kexec_load",
      "keyctl", "lookup_dcookie", "mbind", "mount", "move_pages", "name_to_handle_at",
      "nfsservctl", "open_by_handle_at", "perf_event_open", "pivot_root", "process_vm_readv",
      "process_vm_writev", "ptrace", "query_module", "quotactl", "reboot", "request_key",
      "set_mempolicy", "setns", "settimeofday", "stime", "swapoff", "swapon", "sysfs",
      "_sysctl", "umount", "umount2", "unshare", "uselib", "userfaultfd", "ustat", "vm86",
      "vm86old");

  private Seccomp() {}

  static JsonObject runtimeDefault() {
    JsonObject profile = new JsonObject();
    profile.addProperty("defaultAction", "SCMP_ACT_ALLOW");
    JsonArray architectures = new JsonArray();
    for (String arch : List.of("SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32")) {
      architectures.add(arch);
    }
    profile.add("architectures", architectures);
    JsonObject rule = new JsonObject();
    JsonArray names = new JsonArray();
    BLOCKED.forEach(names::add);
    rule.add("names", names);
    rule.addProperty("action", "SCMP_ACT_ERRNO");
    rule.addProperty("errnoRet", 1);
    JsonArray syscalls = new JsonArray();
    syscalls.add(rule);
    profile.add("syscalls", syscalls);
    return profile;
  }
}
