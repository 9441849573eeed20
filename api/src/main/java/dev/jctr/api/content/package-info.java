/**
 * The content store SPI: blobs by digest and the ingests that become them. Namespace-free: the
 * metadata layer decides which namespace sees which blob.
 */
package dev.jctr.api.content;
