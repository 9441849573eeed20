/** Images as other bundles read and pull them. */
package dev.jctr.api.images;
