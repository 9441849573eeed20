/** See the types in this package. */
package dev.jctr.api.events;
