/** Container records as other bundles read them. */
package dev.jctr.api.containers;
