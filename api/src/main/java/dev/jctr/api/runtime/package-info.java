/** OCI runtimes as jctr drives them. */
package dev.jctr.api.runtime;
