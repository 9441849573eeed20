/** Leases as calls carry them. */
package dev.jctr.api.leases;
