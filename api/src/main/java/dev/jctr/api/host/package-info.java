/** Calls into this Linux host that the daemon makes without running a command. */
package dev.jctr.api.host;
