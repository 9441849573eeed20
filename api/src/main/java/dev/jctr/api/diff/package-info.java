/** Applying layers: the SPI the Diff service calls to unpack a layer into a snapshot. */
package dev.jctr.api.diff;
